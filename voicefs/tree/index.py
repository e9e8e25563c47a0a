"""Directories indexed once per listing: what a lookup, a `stat` or an `opendir` reads.

A studio's folder holds a thousand takes; every call through the mount resolves a path, and
a walk lists every directory. So a directory's entries are made once per listing of the
service and kept with it: names to entries in a dict, an original's conversions by its id,
and the values worked out from them (a manifest's size, a front-end's attributes) beside
them. A lookup is then one dict lookup per path component, whatever the size of the folder.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from voicefs.api.records import Recording
from voicefs.tree.nodes import Node

T = TypeVar("T")


class DirectoryIndex:
    """A directory's entries in their order, by name, and what is worked out from them.

    `recordings_by_audio_name` maps the audio name of each recording the directory shows
    (the name it has when done, which its companions keep) to the recording."""

    __slots__ = ("_derived", "by_name", "directory", "entries", "recordings_by_audio_name")

    # One lock for all: a studio's account has a hundred thousand sidecar directories, and
    # what it guards (a dict's get and set) is over at once.
    _lock = threading.Lock()

    def __init__(
        self,
        directory: Node,
        entries: Sequence[Node],
        recordings_by_audio_name: dict[str, Recording] | None = None,
    ) -> None:
        self.directory = directory
        self.entries = tuple(entries)
        # in the order of `entries`: a front-end lists these names rather than make its own
        self.by_name = {entry.name: entry for entry in self.entries}
        self.recordings_by_audio_name = recordings_by_audio_name or {}
        self._derived: dict[Hashable, tuple[object, Any]] = {}

    def derived(self, key: Hashable, compute: Callable[[], T], source: object = None) -> T:
        """A value worked out from this directory (and from `source`, when it depends on
        something else too, such as the voices a template lists), kept while both are."""
        with self._lock:
            kept = self._derived.get(key)
        if kept is not None and kept[0] is source:
            value: T = kept[1]
            return value
        value = compute()
        with self._lock:
            self._derived[key] = (source, value)
        return value


class RecordingsIndex:
    """One folder's listing (originals and conversions together) split once: the originals
    in order, each original's conversions by its id, and the indexes of the folder and of
    its sidecars, made when first asked."""

    __slots__ = ("_directories", "_lock", "conversions_by_original", "originals")

    def __init__(self, listing: Sequence[Recording]) -> None:
        self.originals: list[Recording] = []
        by_original: defaultdict[str, list[Recording]] = defaultdict(list)
        for recording in listing:
            if recording.is_original:
                self.originals.append(recording)
            elif recording.original_id:
                by_original[recording.original_id].append(recording)
        self.conversions_by_original: dict[str, list[Recording]] = dict(by_original)
        self._directories: dict[str, DirectoryIndex] = {}
        self._lock = threading.Lock()

    def conversions_of(self, original_id: str) -> list[Recording]:
        return self.conversions_by_original.get(original_id, [])

    def directory(self, node: Node, make: Callable[[], DirectoryIndex]) -> DirectoryIndex:
        """The index of the folder or of one of its sidecars, made once (again if the
        directory's node changed: a parent renamed)."""
        with self._lock:
            index = self._directories.get(node.path)
        if index is not None and (index.directory is node or index.directory == node):
            return index
        index = make()
        with self._lock:
            self._directories[node.path] = index
        return index
