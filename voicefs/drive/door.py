"""`Drive`: the one narrow door a front-end of the tree stands on.

The FUSE mount and the WebDAV server need few things of the filesystem layer:
look a path up, a directory's entries (indexed once per listing, so nothing it asks grows with
the folder), the sizes and contents of generated files, a writer for a path, the changes a
file manager makes (mkdir, rmdir, rm, rename), and the service's health. They ask them here,
never of `fs.tree`, `fs.client`, `fs.virtual` or the store directly, so that what the tree
keeps and how it lists can change behind the door without a front-end noticing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from voicefs.api.health import ServiceHealth
from voicefs.filesystem import VoiceFileSystem
from voicefs.tree.errors import ErrorLog
from voicefs.tree.index import DirectoryIndex
from voicefs.tree.nodes import Node, Role
from voicefs.tree.store import Store
from voicefs.tree.tree import CacheSpace
from voicefs.tree.virtual import Writer

__all__ = ["ALWAYS_THERE", "CacheSpace", "Downloader", "Drive", "Writer"]  # for front-ends too

ALWAYS_THERE = frozenset({Role.MANIFEST, Role.ORDER, Role.FOLDERS_TABLE})
"""Files made on read in every directory: removing one does nothing, so `rm -r` passes them."""

Downloader = Callable[..., Iterator[bytes]]
"""Streams a recording's audio: `(url, start=0, …)` as `VoiceClient.iter_download`."""


class Drive:
    """The tree of one account as a front-end sees it; paths have no protocol and no
    leading "/" (`project/folder/name`)."""

    def __init__(self, fs: VoiceFileSystem) -> None:
        self._fs = fs
        self._tree = fs.tree

    # ------------------------------------------------------------ lookups and listings

    def lookup(self, path: str) -> Node:
        """The node at path; FileNotFoundError (naming the path) when there is none."""
        return self._fs.resolve(path)

    def directory(self, node: Node) -> DirectoryIndex:
        """A directory's entries by name and in order, with what a front-end works out from
        them kept beside (`DirectoryIndex.derived`): made once per listing of it."""
        with self._tree.errors_at(node.path):
            return self._tree.index_of(node)

    def size_of(self, node: Node) -> int | None:
        """A file's size; None where only reading it would tell (an export, a sample)."""
        return self._fs.size_of(node)

    def content_of(self, node: Node) -> bytes:
        """A generated file's bytes (or a recording's status line while it is not done)."""
        return self._fs.content_of(node)

    def writable(self, node: Node) -> bool:
        """Whether writing (or, for audio, deleting) the node means something."""
        return node.is_audio or self._fs.virtual.writable(node)

    def account_time(self) -> datetime:
        """The time shown by what has no time of its own: the account's latest activity."""
        return self._tree.account_time()

    def audio_url(self, node: Node) -> str:
        return self._fs.audio_url(node)

    @property
    def downloader(self) -> Downloader:
        return self._fs.client.iter_download

    # --------------------------------------------------------------- writes and changes

    def writer(self, path: str) -> Writer:
        """What closing a file written at path does; refuses at once what cannot be written."""
        return self._fs.writer(path)

    def forget_listings(self, path: str) -> None:
        """The listings of path and its parent are asked again at their next use."""
        self._fs.invalidate_cache(path)

    def fresh_only(self) -> AbstractContextManager[None]:
        """In this thread, for the block: only what the service answers now (never a listing
        from the past), for decisions that must not be wrong."""
        return self._tree.cache.fresh_only()

    def make_directory(self, path: str) -> None:
        self._fs.mkdir(path, create_parents=False)

    def remove_directory(self, path: str) -> None:
        self._fs.rmdir(path)

    def remove_file(self, path: str) -> None:
        self._fs.rm_file(path)

    def rename(self, source: str, target: str) -> None:
        self._fs.mv(source, target)

    # ------------------------------------------------------------- the service and state

    @property
    def health(self) -> ServiceHealth:
        return self._fs.client.health

    @property
    def errors(self) -> ErrorLog:
        """`/.voicefs/errors.log`: where failures nobody waited for are told."""
        return self._tree.errors

    @property
    def store(self) -> Store | None:
        """The SQLite store of what the drive knows (None when nothing is remembered)."""
        return self._tree.cache.store

    def account_digest(self) -> str:
        """Names this account's state on disk (never the key itself)."""
        return self._fs.client.account_digest()

    def refresh_processing(self) -> int:
        """Lists again the folders that show something processing; returns how many."""
        return self._tree.refresh_unsettled()

    def budget_used(self) -> float:
        """The share of the request budget in use now (0 to 1): what background looks spare."""
        return self._fs.client.limiter.used()

    def look_for_service(self) -> Any:
        """One small request, to learn whether an absent service is back."""
        return self._fs.client.credits()

    def show_pending_uploads(self, paths: Callable[[], list[str]]) -> None:
        """`status.json` lists these paths as written and not yet confirmed."""
        self._tree.pending_uploads = paths

    def show_cache_space(self, space: Callable[[], CacheSpace | None]) -> None:
        """`status.json` shows this room in the front-end's audio cache."""
        self._tree.cache_space = space

    def close(self) -> None:
        """Closes the store (loads still running finish in memory)."""
        self._tree.cache.close()
