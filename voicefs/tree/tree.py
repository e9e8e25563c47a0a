"""The tree over one account: listings through the cache, directory contents, resolution.

Listing costs (requests are the scarce resource): the project list is one paged request; a
project's folders one; a folder's recordings one paged `GET /api/recordings?folder_id=…` with
originals and conversions together; a whole project's recordings (for find/walk/du) one paged
`GET /api/recordings?project_id=…`, which fills every folder of the project at once.

What the filesystem itself creates, renames or deletes is written into the cached listings
from the service's answer (the `remember_*` and `drop_*` methods), never re-listed.
"""

from __future__ import annotations

import contextlib
import errno
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cachetools import LRUCache

from voicefs.api import VoiceClient
from voicefs.api.errors import ServiceError
from voicefs.api.records import Calibration, Credits, Folder, Project, Recording, Voice
from voicefs.tree import names
from voicefs.tree.account_tree import account_children
from voicefs.tree.cache import ListingCache, weight
from voicefs.tree.catalogue import sample_by_first_name
from voicefs.tree.errors import ErrorLog, path_error
from voicefs.tree.index import DirectoryIndex, RecordingsIndex
from voicefs.tree.layout import (
    ACCOUNT_DIRECTORY,
    FOLDER_RESERVED,
    FOLDERS_TABLE,
    MANIFEST,
    ORDER,
    PROJECT_RESERVED,
    PROJECTS_TABLE,
    ROOT_RESERVED,
    SIDECAR_RESERVED,
)
from voicefs.tree.nodes import Node, NodeKind, Role, Sample, SampleKind

ROOT_NODE = Node(path="", kind=NodeKind.ROOT, is_directory=True)
VOICES_TTL = 600.0  # the voice catalogue changes rarely; order.txt templates list it
SAMPLE_TTL = 86400.0  # where a sample's audio is, and the audio itself, do not change
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class CacheSpace:
    """Room for audio in the mount's cache directory, as status.json shows it: `full` when
    what is read there cannot be kept (then it is read from the service instead)."""

    directory: str
    free_bytes: int
    full: bool


class WalkDetector:
    """Tells a walk of the tree (find, ls -R, du, a sync tool) from a look at one folder.

    Opening one folder of a fresh drive should cost that folder's pages and no more; a walk
    should cost what fsspec's walk costs, each project's recordings in one paged listing.
    The rule: two folders listed from the service within `window` seconds make a walk,
    which goes on while folders or projects keep being listed, each within `linger` seconds
    of the one before; during it, a folder not known yet is listed with its whole project.
    So only the walk's first folder is listed alone."""

    def __init__(
        self,
        window: float = 5.0,
        linger: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.linger = linger
        self._clock = clock
        self._last: float | None = None
        self._walking_until = 0.0
        self._lock = threading.Lock()

    def listed(self) -> None:
        """A folder's recordings are about to be listed from the service."""
        now = self._clock()
        with self._lock:
            walking = now < self._walking_until
            if walking or (self._last is not None and now - self._last <= self.window):
                self._walking_until = now + self.linger
            self._last = now

    def walking(self) -> bool:
        with self._lock:
            return self._clock() < self._walking_until


def _unsettled(recordings: Sequence[Recording]) -> bool:
    return any(r.is_processing for r in recordings)


class Tree:
    def __init__(self, client: VoiceClient, cache: ListingCache) -> None:
        self.client = client
        self.cache = cache
        self.errors = ErrorLog()
        self.errors_at = self.errors.errors_at  # the client's errors, with the path, logged
        client.health.add_listener(self.errors.health_changed)
        # Paths written but not yet confirmed by the service (the mount's journal sets it).
        self.pending_uploads: Callable[[], list[str]] = list
        # Room in the mount's audio cache, measured when asked (the mount sets it).
        self.cache_space: Callable[[], CacheSpace | None] = lambda: None
        # Set once a recordings listing shows a conversion: then the service lists
        # conversions with originals, and an original without any in its folder has none.
        self.listings_show_conversions = False
        self.walks = WalkDetector()
        # How many entries indexes were made of: a lookup or an opendir of a directory
        # already indexed adds none, whatever its size (tests and benchmarks count it).
        self.entries_indexed = 0
        # listing key -> (the listing, its index), weighed as the cache weighs listings: the
        # indexes of what is in use stay in memory, and those of the rest go with its listings
        self._index_lock = threading.Lock()
        self._indexes: LRUCache[Hashable, tuple[object, RecordingsIndex | DirectoryIndex]] = (
            LRUCache(
                maxsize=cache.max_entries,
                getsizeof=lambda kept: weight(kept[0], cache.max_entries),
            )
        )
        cache.same_as_before = self._as_before

    # ------------------------------------------------------------------ listings

    def projects(self) -> list[Project]:
        return self.cache.get(("projects",), lambda: list(self.client.list_projects()))

    def folders(self, project: Project) -> list[Folder]:
        return self.cache.get(
            ("folders", project.id), lambda: list(self.client.list_folders(project.id))
        )

    def recordings(self, folder: Folder) -> list[Recording]:
        """Originals and conversions of a folder, oldest first. During a walk (see
        `WalkDetector`) a folder not listed yet comes with its whole project, in
        ceil(n/200) requests instead of one listing per folder."""
        key = ("recordings", folder.id)
        if not self.cache.contains(key):
            self.walks.listed()  # about to be: the second within the window makes a walk
            if self.walks.walking() and self.client.health.state.usable:  # else: the last known
                self._list_project_of(folder)
        listing: list[Recording] = self.cache.get(
            key,
            lambda: list(self.client.list_recordings(folder_id=folder.id)),
            unsettled=_unsettled,
        )
        return listing

    def originals(self, folder: Folder) -> list[Recording]:
        return self._recordings_index(folder).originals

    def _recordings_index(self, folder: Folder) -> RecordingsIndex:
        """The folder's listing split once (see `RecordingsIndex`)."""
        listing = self.recordings(folder)
        key = ("recordings", folder.id)
        with self._index_lock:
            kept = self._indexes.get(key)
        if kept is not None and kept[0] is listing and isinstance(kept[1], RecordingsIndex):
            return kept[1]
        index = RecordingsIndex(listing)
        if index.conversions_by_original:  # once per listing, not on every lookup
            self.listings_show_conversions = True
        with self._index_lock:
            self._indexes[key] = (listing, index)
            self.entries_indexed += len(listing)
        return index

    def _as_before(self, key: Hashable, listing: Any) -> Any:
        """A listing fetched again (or read back from the store) that says what the indexed
        one said is the indexed one: its index and the values worked out from it stay good.
        A walk longer than the TTL lists again folders that mostly have not changed."""
        with self._index_lock:
            kept = self._indexes.get(key)
        if kept is not None and kept[0] is not listing and kept[0] == listing:
            return kept[0]
        return listing

    def _seen(self, recordings: list[Recording]) -> list[Recording]:
        if any(not r.is_original for r in recordings):
            self.listings_show_conversions = True
        return recordings

    def _list_project_of(self, folder: Folder) -> None:
        """During a walk: the folder's whole project in one paged listing, through the cache
        (so within its bounded wait); if that fails or is slow, the folder's own listing (or
        the last known one) answers instead, and the project's comes in when it can."""
        project = next((p for p in self.projects() if p.id == folder.project_id), None)
        if project is None:
            return

        def walked() -> bool:
            self.prefetch_project(project)
            return True

        with contextlib.suppress(ServiceError):
            self.cache.get(("walked", project.id), walked)

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

    def refresh_unsettled(self) -> int:
        """Lists again every cached folder that shows something still processing, so that
        what finished shows without anyone asking; returns how many were refreshed."""
        refreshed = 0
        for key in self.cache.cached_keys():
            listing = self.cache.peek(key)
            if not (isinstance(key, tuple) and key[0] == "recordings" and listing):
                continue
            if not _unsettled(listing):
                continue
            fresh = self._seen(list(self.client.list_recordings(folder_id=key[1])))
            self.cache.put(key, fresh, self.cache.processing_ttl if _unsettled(fresh) else None)
            refreshed += 1
        return refreshed

    def conversions(self, folder: Folder, original: Recording) -> list[Recording]:
        """An original's conversions, from its folder's listing; from the conversions
        endpoint only when no listing has shown a conversion yet although the account has
        some (a service that lists originals alone)."""
        listed = self._recordings_index(folder).conversions_of(original.id)
        if listed or self.listings_show_conversions or not self._account_has_conversions():
            return listed
        return self.cache.get(
            ("conversions", original.id),
            lambda: list(self.client.list_conversions(original.id)),
            unsettled=_unsettled,
        )

    def _account_has_conversions(self) -> bool:
        stats = self.stats()
        total = stats.get("conversions", {}).get("total") if isinstance(stats, dict) else None
        return not isinstance(total, int) or total > 0

    def stats(self, *, fresh: bool = False) -> dict[str, Any]:
        """The account's statistics; `fresh` asks the service (the last known ones answer
        when it does not)."""
        if fresh:
            self.cache.invalidate(("stats",))
        return self.cache.get(("stats",), self.client.stats)

    def credits(self, *, fresh: bool = False) -> Credits:
        if fresh:
            self.cache.invalidate(("credits",))
        return self.cache.get(("credits",), self.client.credits)

    def voices(self) -> list[Voice]:
        return self.cache.get(
            ("voices",), lambda: list(self.client.list_voices()), lifetime=VOICES_TTL
        )

    def sample_url(self, sample: Sample) -> str:
        """Where a sample's audio is (asked once, then kept: samples do not change)."""

        def ask() -> str:
            if sample.kind == SampleKind.ACCENT:
                found = self.client.accent_samples(sample.id)
            else:
                found = self.client.narration_style_samples(sample.id)
            if not found:
                raise path_error(errno.ENOENT, "the service has no sample of it", sample.name)
            return next(iter(found.values()))

        return self.cache.get(self._sample_key(sample), ask, lifetime=SAMPLE_TTL)

    def known_sample_url(self, sample: Sample) -> str | None:
        """From memory only: every lookup in a voice's directory names its samples, and a
        store read per sample there would be I/O on the hottest path for nothing."""
        found: str | None = self.cache.peek(self._sample_key(sample))
        return found

    @staticmethod
    def _sample_key(sample: Sample) -> Hashable:
        return ("sample-url", sample.kind.value, sample.id)

    def calibrations(self) -> list[Calibration]:
        return self.cache.get(("calibrations",), lambda: list(self.client.list_calibrations()))

    def account_time(self) -> datetime:
        """The time of the account's newest project activity, for files generated from the
        account as a whole (the epoch for an empty account): the service's, never now."""
        times = [p.last_recording_at or p.created_at for p in self.projects()]
        return max((t for t in times if t is not None), default=EPOCH)

    # ----------------------------------------------------------------- contents

    def children(self, node: Node) -> Sequence[Node]:
        """The entries of a directory node, in a stable order."""
        return self.index_of(node).entries

    def index_of(self, node: Node) -> DirectoryIndex:
        """A directory's index, made once per listing of it (`voicefs.tree.index`): a walk
        and every lookup on the way ask for the same directories again and again."""
        if node.kind == NodeKind.ACCOUNT:
            return self._counted(DirectoryIndex(node, account_children(self, node)))  # small
        if node.kind in (NodeKind.FOLDER, NodeKind.SIDECAR):
            recordings = self._recordings_index(node.folder_of())
            if node.kind == NodeKind.FOLDER:
                return recordings.directory(
                    node, lambda: self._counted(self._folder_index(node, recordings))
                )
            node.original_of()
            if not self.listings_show_conversions and self._account_has_conversions():
                return self._counted(self._sidecar_index(node))  # conversions asked: not kept
            return recordings.directory(node, lambda: self._counted(self._sidecar_index(node)))
        source = self._source_listing(node)
        key = self.listing_key(node)
        with self._index_lock:
            kept = self._indexes.get(key)
        if kept is not None and kept[0] is source and isinstance(kept[1], DirectoryIndex):
            index = kept[1]
            if index.directory is node or index.directory == node:
                return index
        made = self._root_children() if node.kind == NodeKind.ROOT else self._project_children(node)
        index = self._counted(DirectoryIndex(node, made))
        with self._index_lock:
            self._indexes[key] = (source, index)
        return index

    def _counted(self, index: DirectoryIndex) -> DirectoryIndex:
        with self._index_lock:
            self.entries_indexed += len(index.entries)
        return index

    def child_named(self, directory: Node, name: str) -> Node | None:
        """The entry of a directory with this exact name, from the cached listing (or a
        voice's sample by the `.wav` name it had before its real extension was known)."""
        index = self.index_of(directory)
        found = index.by_name.get(name)
        if found is None and directory.role == Role.VOICE:
            found = sample_by_first_name(index.entries, name)
        return found

    def directory_recordings(self, directory: Node) -> list[Recording]:
        """The recordings a folder (its originals) or a sidecar (its conversions) shows."""
        if directory.kind == NodeKind.FOLDER:
            return self.originals(directory.folder_of())
        if directory.kind == NodeKind.SIDECAR:
            return self.conversions(directory.folder_of(), directory.original_of())
        return []

    def recording_named(self, directory: Node, audio_name: str) -> Recording | None:
        """The recording of a folder or sidecar whose audio name (the name it has when done,
        which its companions keep) is `audio_name`."""
        return self.index_of(directory).recordings_by_audio_name.get(audio_name)

    def _source_listing(self, node: Node) -> list[Any]:
        """The cached listing the top's or a project's entries are made from (loaded if need
        be); folders and sidecars come from their folder's `RecordingsIndex`."""
        if node.kind == NodeKind.ROOT:
            return self.projects()
        if node.kind == NodeKind.PROJECT:
            return self.folders(node.project_of())
        raise path_error(errno.ENOTDIR, "Not a directory", node.path)

    def _root_children(self) -> list[Node]:
        projects = self.projects()
        assigned = self.directory_names(projects, ROOT_RESERVED)
        nodes = [ROOT_NODE.child(assigned[p.id], NodeKind.PROJECT, project=p) for p in projects]
        table = ROOT_NODE.child(PROJECTS_TABLE, NodeKind.CONTROL, role=Role.PROJECTS_TABLE)
        account = ROOT_NODE.child(
            ACCOUNT_DIRECTORY, NodeKind.ACCOUNT, role=Role.ACCOUNT, is_directory=True
        )
        return [*nodes, table, account]

    def _project_children(self, node: Node) -> list[Node]:
        folders = self.folders(node.project_of())
        assigned = self.directory_names(folders, PROJECT_RESERVED)
        nodes = [node.child(assigned[f.id], NodeKind.FOLDER, folder=f) for f in folders]
        return [*nodes, node.child(FOLDERS_TABLE, NodeKind.CONTROL, role=Role.FOLDERS_TABLE)]

    def _folder_index(self, node: Node, recordings: RecordingsIndex) -> DirectoryIndex:
        entries, by_audio_name = self._recording_nodes(
            node, recordings.originals, NodeKind.ORIGINAL, FOLDER_RESERVED
        )
        entries.append(node.child(MANIFEST, NodeKind.CONTROL, role=Role.MANIFEST))
        return DirectoryIndex(node, entries, by_audio_name)

    def _sidecar_index(self, node: Node) -> DirectoryIndex:
        original = node.original_of()
        conversions = self.conversions(node.folder_of(), original)
        entries, by_audio_name = self._recording_nodes(
            node, conversions, NodeKind.CONVERSION, SIDECAR_RESERVED
        )
        entries.append(node.child(ORDER, NodeKind.CONTROL, role=Role.ORDER, recording=original))
        entries.append(node.child(MANIFEST, NodeKind.CONTROL, role=Role.MANIFEST))
        return DirectoryIndex(node, entries, by_audio_name)

    def _recording_nodes(
        self, parent: Node, recordings: list[Recording], kind: NodeKind, reserved: Sequence[str]
    ) -> tuple[list[Node], dict[str, Recording]]:
        """The entries a folder or sidecar shows for its recordings, and the recordings by
        their audio names."""
        assigned = self.audio_names(recordings, reserved)
        nodes: list[Node] = []
        for recording in recordings:
            audio = assigned[recording.id]
            nodes.append(
                parent.child(names.state_name(audio, recording.state), kind, recording=recording)
            )
            if kind == NodeKind.ORIGINAL:
                nodes.append(
                    parent.child(
                        audio + names.SIDECAR_SUFFIX,
                        NodeKind.SIDECAR,
                        recording=recording,
                        original=recording,
                    )
                )
            companions = (
                (recording.starred, names.STAR_SUFFIX, Role.STAR),
                (recording.note is not None, names.NOTE_SUFFIX, Role.NOTE),
            )
            for present, suffix, role in companions:
                if present:
                    nodes.append(
                        parent.child(
                            audio + suffix, NodeKind.COMPANION, recording=recording, role=role
                        )
                    )
        return nodes, {assigned[r.id]: r for r in recordings}

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

    def resolve(self, path: str, *, reread_missing: bool = True) -> Node:
        """The node at path (components separated by "/", no protocol); FileNotFoundError
        when there is none. With `reread_missing`, a name missing from a listing older than
        the cache's `missing_ttl` re-reads it once (something created elsewhere)."""
        node = ROOT_NODE
        for part in [p for p in path.split("/") if p]:
            node = self._child_named(node, part, path, reread_missing)
        return node

    def _child_named(self, node: Node, name: str, path: str, reread_missing: bool) -> Node:
        if not node.is_directory:
            raise path_error(errno.ENOENT, "No such file or directory", path)
        child = self.child_named(node, name)
        if child is None and reread_missing and self._reread_after_miss(node):
            child = self.child_named(node, name)
        if child is None:
            raise path_error(errno.ENOENT, "No such file or directory", path)
        return child

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
        reserved = {
            NodeKind.FOLDER: FOLDER_RESERVED,
            NodeKind.SIDECAR: SIDECAR_RESERVED,
            NodeKind.ROOT: ROOT_RESERVED,
            NodeKind.PROJECT: PROJECT_RESERVED,
        }
        return reserved.get(directory.kind, ())

    @staticmethod
    def listing_key(node: Node) -> Hashable | None:
        """The cache key of the listing a directory node's entries come from."""
        if node.kind == NodeKind.ROOT:
            return ("projects",)
        if node.kind == NodeKind.PROJECT and node.project is not None:
            return ("folders", node.project.id)
        if node.kind in (NodeKind.FOLDER, NodeKind.SIDECAR) and node.folder is not None:
            return ("recordings", node.folder.id)
        if node.kind == NodeKind.ACCOUNT and node.role == Role.CALIBRATIONS:
            return ("calibrations",)
        if node.kind == NodeKind.ACCOUNT and node.role in (Role.VOICE_CATALOGUE, Role.VOICE):
            return ("voices",)
        return None

    # ------------------------------------------- the filesystem's own changes

    def remember_project(self, project: Project) -> None:
        self._upsert(("projects",), project)

    def drop_project(self, project_id: str) -> None:
        self._remove(("projects",), {project_id})
        self.cache.invalidate(("folders", project_id))

    def remember_voice(self, voice: Voice) -> None:
        """A voice as the service answered a change of its favorite or settings."""
        self._upsert(("voices",), voice)

    def remember_folder(self, folder: Folder) -> None:
        self._upsert(("folders", folder.project_id), folder)

    def drop_folder(self, project_id: str, folder_id: str) -> None:
        self._remove(("folders", project_id), {folder_id})
        self.cache.invalidate(("recordings", folder_id))

    def remember_recording(self, folder_id: str, recording: Recording) -> None:
        """A recording the service just returned (created or changed) into its folder's
        cached listing; a new original with no conversions yet needs no other request."""
        if not recording.is_original:
            self.listings_show_conversions = True
        if not self._upsert(("recordings", folder_id), recording, unsettled=_unsettled):
            return
        if recording.original_id:
            self.cache.update(
                ("conversions", recording.original_id),
                lambda listing: _upserted(listing, recording),
                unsettled=_unsettled,
            )

    def drop_recording(self, folder_id: str, recording: Recording) -> None:
        """A deleted recording out of its folder's listing, with its conversions."""
        gone = {recording.id}
        self.cache.update(
            ("recordings", folder_id),
            lambda listing: [r for r in listing if r.id not in gone and r.original_id not in gone],
        )
        self.cache.invalidate(("conversions", recording.id))
        if recording.original_id:
            self._remove(("conversions", recording.original_id), gone)

    def forget_recordings(self, folder_id: str, original_id: str | None = None) -> None:
        """Drops a folder's listing: for changes whose result the service does not return
        (orders, notes), the next read lists it again."""
        self.cache.invalidate(("recordings", folder_id))
        if original_id:
            self.cache.invalidate(("conversions", original_id))

    def _upsert(
        self,
        key: Hashable,
        entry: Project | Folder | Recording | Voice,
        unsettled: Callable[[Any], bool] | None = None,
    ) -> bool:
        return self.cache.update(
            key, lambda listing: _upserted(listing, entry), unsettled=unsettled
        )

    def _remove(self, key: Hashable, ids: set[str]) -> None:
        self.cache.update(key, lambda listing: [e for e in listing if e.id not in ids])

    def cached_keys_along(self, path: str) -> list[Hashable]:
        """The cache keys of the listings on the way to path, as far as they are known (in
        memory or in the store): what a change at path may have made stale. Sends no
        request."""
        keys: list[Hashable] = [("projects",)]
        projects = self.cache.peek_known(("projects",))
        parts = [p for p in path.split("/") if p]
        if not parts or projects is None:
            return keys
        project_names = self.directory_names(projects, ROOT_RESERVED)
        project = next((p for p in projects if project_names[p.id] == parts[0]), None)
        if project is None:
            return keys
        keys.append(("folders", project.id))
        folders = self.cache.peek_known(("folders", project.id))
        if len(parts) > 1 and folders is not None:
            folder_names = self.directory_names(folders)
            keys += [("recordings", f.id) for f in folders if folder_names[f.id] == parts[1]]
        return keys


def _upserted(listing: list[Any], entry: Any) -> list[Any]:
    """A new listing with entry replacing the one of its id, or added at the end (listings
    are oldest first, and what was just created is the newest)."""
    if any(e.id == entry.id for e in listing):
        return [entry if e.id == entry.id else e for e in listing]
    return [*listing, entry]
