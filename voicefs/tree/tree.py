"""The tree over one account: listings through the cache, directory contents, resolution.

Listing costs (requests are the scarce resource): the project list is one paged request; a
project's folders one; a folder's recordings one paged `GET /api/recordings?folder_id=…` with
originals and conversions together; a whole project's recordings (for find/walk/du) one paged
`GET /api/recordings?project_id=…`, which fills every folder of the project at once.
"""

from __future__ import annotations

import errno
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from cachetools import LRUCache

from voicefs.api import VoiceClient
from voicefs.api.records import Folder, Project, Recording
from voicefs.tree import names
from voicefs.tree.cache import ListingCache
from voicefs.tree.errors import path_error
from voicefs.tree.nodes import (
    ACCOUNT,
    COMPANION,
    CONTROL,
    CONVERSION,
    FOLDER,
    ORIGINAL,
    PROJECT,
    ROOT,
    SIDECAR,
    Node,
)

ACCOUNT_DIRECTORY = ".voicefs"
MANIFEST = "recordings.csv"
ORDER = "order.txt"
ROOT_RESERVED = (ACCOUNT_DIRECTORY,)
FOLDER_RESERVED = (MANIFEST,)
SIDECAR_RESERVED = (ORDER, MANIFEST)

ROOT_NODE = Node(path="", kind=ROOT, is_directory=True)


def _unsettled(recordings: Sequence[Recording]) -> bool:
    return any(r.state == "processing" for r in recordings)


class Tree:
    def __init__(self, client: VoiceClient, cache: ListingCache) -> None:
        self.client = client
        self.cache = cache
        # Set once a recordings listing shows a conversion: then the service lists
        # conversions with originals, and an original without any in its folder has none.
        self.listings_show_conversions = False
        # (kind, path) -> (the listing they came from, the directory node, its entries)
        self._memo_lock = threading.Lock()
        self._children_memo: LRUCache[tuple[str, str], tuple[Any, Node, list[Node]]] = LRUCache(
            maxsize=4096
        )
        # The account directory's entries come from voicefs.tree.account, which sets this.
        self.account_children: Callable[[Node], list[Node]] = lambda node: []

    # ------------------------------------------------------------------ listings

    def projects(self) -> list[Project]:
        return self.cache.get(("projects",), lambda: list(self.client.list_projects()))

    def folders(self, project: Project) -> list[Folder]:
        return self.cache.get(
            ("folders", project.id), lambda: list(self.client.list_folders(project.id))
        )

    def recordings(self, folder: Folder) -> list[Recording]:
        """Originals and conversions of a folder, oldest first."""
        return self.cache.get(
            ("recordings", folder.id),
            lambda: self._seen(list(self.client.list_recordings(folder_id=folder.id))),
            unsettled=_unsettled,
        )

    def _seen(self, recordings: list[Recording]) -> list[Recording]:
        if any(r.type != "original" for r in recordings):
            self.listings_show_conversions = True
        return recordings

    def prefetch_project(self, project: Project) -> None:
        """Lists a whole project's recordings in ceil(n/200) requests and files them under
        their folders, so a walk of the project needs no request per folder."""
        folders = self.folders(project)
        if all(self.cache.contains(("recordings", f.id)) for f in folders):
            return
        by_folder: dict[str, list[Recording]] = defaultdict(list)
        for recording in self._seen(list(self.client.list_recordings(project_id=project.id))):
            by_folder[recording.parent_folder_id or ""].append(recording)
        for folder in folders:
            listing = by_folder.get(folder.id, [])
            lifetime = self.cache.processing_ttl if _unsettled(listing) else None
            self.cache.put(("recordings", folder.id), listing, lifetime)

    def conversions(self, folder: Folder, original: Recording) -> list[Recording]:
        """An original's conversions, from its folder's listing; from the conversions
        endpoint only when no listing has shown a conversion yet although the account has
        some (a service that lists originals alone)."""
        listed = [r for r in self.recordings(folder) if r.original_id == original.id]
        if listed or self.listings_show_conversions or not self._account_has_conversions():
            return listed
        return self.cache.get(
            ("conversions", original.id),
            lambda: list(self.client.list_conversions(original.id)),
            unsettled=_unsettled,
        )

    def _account_has_conversions(self) -> bool:
        stats = self.cache.get(("stats",), self.client.stats)
        total = stats.get("conversions", {}).get("total") if isinstance(stats, dict) else None
        return not isinstance(total, int) or total > 0

    # ----------------------------------------------------------------- contents

    def children(self, node: Node) -> list[Node]:
        """The entries of a directory node, in a stable order. Worked out once per listing
        and directory: a walk asks for the same directories again and again."""
        if node.kind == ACCOUNT and node.is_directory:
            return self.account_children(node)
        source = self._source_listing(node)
        with self._memo_lock:
            memo = self._children_memo.get((node.kind, node.path))
        if memo is not None and memo[0] is source and memo[1] == node:
            return memo[2]
        if node.kind == ROOT:
            result = self._root_children()
        elif node.kind == PROJECT:
            result = self._project_children(node)
        elif node.kind == FOLDER:
            result = self._folder_children(node)
        else:
            result = self._sidecar_children(node)
        if node.kind != SIDECAR or self.listings_show_conversions:
            with self._memo_lock:
                self._children_memo[(node.kind, node.path)] = (source, node, result)
        return result

    def _source_listing(self, node: Node) -> list[Any]:
        """The cached listing a directory's entries are made from (loaded if need be)."""
        if node.kind == ROOT:
            return self.projects()
        if node.kind == PROJECT and node.project is not None:
            return self.folders(node.project)
        if node.kind in (FOLDER, SIDECAR) and node.folder is not None:
            if node.kind == SIDECAR and node.original is None:
                raise path_error(errno.ENOENT, "No such file or directory", node.path)
            return self.recordings(node.folder)
        raise path_error(errno.ENOTDIR, "Not a directory", node.path)

    def _root_children(self) -> list[Node]:
        projects = self.projects()
        assigned = self.directory_names(projects, ROOT_RESERVED)
        nodes = [ROOT_NODE.child(assigned[p.id], PROJECT, project=p) for p in projects]
        account = ROOT_NODE.child(ACCOUNT_DIRECTORY, ACCOUNT, role="account", is_directory=True)
        return [*nodes, account]

    def _project_children(self, node: Node) -> list[Node]:
        assert node.project is not None
        folders = self.folders(node.project)
        assigned = self.directory_names(folders)
        return [node.child(assigned[f.id], FOLDER, folder=f) for f in folders]

    def _folder_children(self, node: Node) -> list[Node]:
        assert node.folder is not None
        originals = [r for r in self.recordings(node.folder) if r.type == "original"]
        return [
            *self._recording_nodes(node, originals, ORIGINAL, FOLDER_RESERVED),
            node.child(MANIFEST, CONTROL, role="manifest"),
        ]

    def _sidecar_children(self, node: Node) -> list[Node]:
        assert node.folder is not None and node.original is not None
        conversions = self.conversions(node.folder, node.original)
        return [
            *self._recording_nodes(node, conversions, CONVERSION, SIDECAR_RESERVED),
            node.child(ORDER, CONTROL, role="order", recording=node.original),
            node.child(MANIFEST, CONTROL, role="manifest"),
        ]

    def _recording_nodes(
        self, parent: Node, recordings: list[Recording], kind: str, reserved: Sequence[str]
    ) -> list[Node]:
        assigned = self.audio_names(recordings, reserved)
        nodes: list[Node] = []
        for recording in recordings:
            audio = assigned[recording.id]
            nodes.append(
                parent.child(names.state_name(audio, recording.state), kind, recording=recording)
            )
            if kind == ORIGINAL:
                nodes.append(
                    parent.child(
                        audio + names.SIDECAR_SUFFIX,
                        SIDECAR,
                        recording=recording,
                        original=recording,
                    )
                )
            if recording.starred:
                nodes.append(
                    parent.child(
                        audio + names.STAR_SUFFIX, COMPANION, recording=recording, role="star"
                    )
                )
            if recording.note is not None:
                nodes.append(
                    parent.child(
                        audio + names.NOTE_SUFFIX, COMPANION, recording=recording, role="note"
                    )
                )
        return nodes

    @staticmethod
    def directory_names(
        entries: Sequence[Project] | Sequence[Folder], reserved: Sequence[str] = ()
    ) -> dict[str, str]:
        """{id: directory name} for the projects of the root or the folders of a project."""
        return names.assign_names(
            [names.Named(names.directory_name(e.name, e.id), e.id, e.created_at) for e in entries],
            reserved,
            keep_extension=False,
        )

    @staticmethod
    def audio_names(recordings: Sequence[Recording], reserved: Sequence[str]) -> dict[str, str]:
        """{recording id: audio name} for the recordings of one directory."""
        return names.assign_names(
            [names.Named(names.base_name(r), r.id, r.created_at) for r in recordings], reserved
        )

    # --------------------------------------------------------------- resolution

    def resolve(self, path: str) -> Node:
        """The node at path (components separated by "/", no protocol); FileNotFoundError
        when there is none."""
        node = ROOT_NODE
        for part in [p for p in path.split("/") if p]:
            node = self._child_named(node, part, path)
        return node

    def _child_named(self, node: Node, name: str, path: str) -> Node:
        if not node.is_directory:
            raise path_error(errno.ENOENT, "No such file or directory", path)
        for attempt in range(2):
            for child in self.children(node):
                if child.name == name:
                    return child
            if attempt == 0 and not self._reread_after_miss(node):
                break
        raise path_error(errno.ENOENT, "No such file or directory", path)

    def _reread_after_miss(self, node: Node) -> bool:
        """Drops the listing behind node when it is old enough that a miss may be news."""
        key = self.listing_key(node)
        if key is None or not self.cache.stale_for_missing(key):
            return False
        self.cache.invalidate(key)
        return True

    @staticmethod
    def reserved_names(directory: Node) -> Sequence[str]:
        """Names a directory's virtual files take before any recording."""
        return {FOLDER: FOLDER_RESERVED, SIDECAR: SIDECAR_RESERVED, ROOT: ROOT_RESERVED}.get(
            directory.kind, ()
        )

    @staticmethod
    def listing_key(node: Node) -> Hashable | None:
        """The cache key of the listing a directory node's entries come from."""
        if node.kind == ROOT:
            return ("projects",)
        if node.kind == PROJECT and node.project is not None:
            return ("folders", node.project.id)
        if node.kind in (FOLDER, SIDECAR) and node.folder is not None:
            return ("recordings", node.folder.id)
        return None

    # ------------------------------------------------------------- invalidation

    def forget_projects(self) -> None:
        self.cache.invalidate(("projects",))

    def forget_folders(self, project_id: str) -> None:
        self.cache.invalidate(("folders", project_id))

    def forget_recordings(self, folder_id: str, original_id: str | None = None) -> None:
        self.cache.invalidate(("recordings", folder_id))
        if original_id:
            self.cache.invalidate(("conversions", original_id))

    def cached_keys_along(self, path: str) -> list[Hashable]:
        """The cache keys of the listings on the way to path, as far as they are cached:
        what a change at path may have made stale. Sends no request."""
        keys: list[Hashable] = [("projects",)]
        projects = self.cache.peek(("projects",))
        parts = [p for p in path.split("/") if p]
        if not parts or projects is None:
            return keys
        project_names = self.directory_names(projects, ROOT_RESERVED)
        project = next((p for p in projects if project_names[p.id] == parts[0]), None)
        if project is None:
            return keys
        keys.append(("folders", project.id))
        folders = self.cache.peek(("folders", project.id))
        if len(parts) > 1 and folders is not None:
            folder_names = self.directory_names(folders)
            keys += [("recordings", f.id) for f in folders if folder_names[f.id] == parts[1]]
        return keys
