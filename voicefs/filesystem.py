"""`VoiceFileSystem`: an account of the Voice Marketplace API as an fsspec filesystem.

It translates fsspec calls into the tree (paths -> nodes, names, cached listings), its
generated files (`voicefs.tree.virtual`) and the client (requests). Paths are
`voicefs://<project>/<folder>/<recording>`; CONTRACT §2–§5 say what each path means and
what writing to it does.
"""

from __future__ import annotations

import errno
import hashlib
import inspect
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fsspec.spec import AbstractFileSystem, make_instance
from fsspec.utils import isfilelike, stringify_path

from voicefs.api import ClientOptions, VoiceClient
from voicefs.api.auth import Credentials
from voicefs.changes import Changes
from voicefs.files import (
    DEFAULT_BLOCK_SIZE,
    AudioFile,
    GeneratedContent,
    StagedTextWrite,
    StagedWrite,
    staging_errors,
)
from voicefs.scripting import ScriptMethods
from voicefs.tree import names
from voicefs.tree.cache import (
    DEFAULT_MISSING_TTL,
    DEFAULT_PROCESSING_TTL,
    DEFAULT_TTL,
    ListingCache,
)
from voicefs.tree.errors import path_error
from voicefs.tree.layout import ACCOUNT_DIRECTORY
from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.store import Store
from voicefs.tree.tree import Tree
from voicefs.tree.virtual import Progress, VirtualFiles, Writer


class VoiceFileSystem(ScriptMethods, Changes, AbstractFileSystem):
    """The account as a filesystem: projects, folders, recordings and their conversions.

    Credentials and URL as CONTRACT §1 says (`api_key`, `email`/`password`, `profile`,
    `url`, or the VOICEFS_* environment). Listings are cached `listings_expiry_time` seconds
    (default 30: at the service's 500 requests per 300 s, a busy browser stays within budget
    while changes made elsewhere appear within half a minute), or not at all with
    `use_listings_cache=False`; listings with items still processing
    `processing_expiry_time` seconds; a name not found re-reads a listing older than
    `missing_expiry_time` seconds. How the client treats the service (rate limit, retries,
    timeouts, pool) is a `voicefs.api.ClientOptions`, given whole as `options=` or field by
    field (`rate_limit=False`, `max_retries=2`, …).

    `cache_storage=DIR` keeps the listings on disk too (one SQLite file per account in DIR):
    a filesystem made again within the expiry time (a restarted notebook) lists nothing
    again, and while the service is unreachable the last known listings still answer.
    `listings_wait` bounds, in seconds, how long any call waits for a listing (the mount's
    `--timeout`); by default calls wait for the service.
    """

    protocol = ("voicefs",)
    root_marker = ""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        email: str | None = None,
        password: str | None = None,
        profile: str | None = None,
        listings_expiry_time: float = DEFAULT_TTL,
        processing_expiry_time: float = DEFAULT_PROCESSING_TTL,
        missing_expiry_time: float = DEFAULT_MISSING_TTL,
        max_listed_entries: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        use_listings_cache: bool = True,
        cache_storage: str | os.PathLike[str] | None = None,
        listings_wait: float | None = None,
        credentials: Credentials | None = None,
        account: str | None = None,
        **options: Any,
    ) -> None:
        del account  # carried by pickles for fsspec's instance cache only (see __reduce__)
        client_options = ClientOptions.take(options, base=options.pop("options", None))
        super().__init__(use_listings_cache=use_listings_cache, **options)
        self.client = VoiceClient(
            url=url,
            api_key=api_key,
            email=email,
            password=password,
            profile=profile,
            credentials=credentials,
            options=client_options,
        )
        ttl = listings_expiry_time if use_listings_cache else 0.0
        store = None
        if cache_storage is not None and ttl > 0:
            directory = Path(cache_storage).expanduser()
            store = Store(directory / f"{self.client.account_digest()}.sqlite")
        cache = ListingCache(
            ttl,
            processing_expiry_time,
            missing_expiry_time,
            max_listed_entries,
            store=store,
            wait=listings_wait,
            health=self.client.health,
        )
        self.tree = Tree(self.client, cache)
        self.virtual = VirtualFiles(self.tree)
        self.blocksize = block_size

    def __repr__(self) -> str:
        return f"VoiceFileSystem(url={self.client.url!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        """A pickle carries the service's URL and the credentials as resolved here (the key
        masked, as `Secret` pickles it), not the environment or profile they came from: a
        worker that has neither works the same (CONTRACT §5). It also carries `account`, the
        account's digest (as names its store), only so that fsspec's instance cache, which
        keys instances by the repr of their arguments, tells two keys apart: unpickling the
        same filesystem again in a worker gives back the instance made the first time."""
        bound = inspect.signature(type(self).__init__).bind(
            self, *self.storage_args, **self.storage_options
        )
        arguments = dict(bound.arguments)
        arguments.pop("self")
        options = {**arguments.pop("options", {}), **arguments}
        for source in ("api_key", "email", "password", "profile"):
            options.pop(source, None)
        options.update(
            url=self.client.url,
            credentials=self.client.credentials,
            account=self.client.account_digest(),
        )
        return make_instance, (type(self), (), options)

    # ---------------------------------------------------------------- plumbing

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        text = cls._without_protocol(path)
        return posixpath.normpath("/" + text).strip("/") if text.strip("/") else ""

    @classmethod
    def _without_protocol(cls, path: Any) -> str:
        """The path as the caller wrote it, less the protocol: what error messages show."""
        text = stringify_path(path)
        for protocol in cls.protocol:
            if text.startswith(f"{protocol}://"):
                return text[len(protocol) + 3 :]
            if text.startswith(f"{protocol}:"):
                return text[len(protocol) + 1 :]
        return text

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        return {}

    def _node(self, path: str) -> Node:
        path = self._strip_protocol(path)
        with self.tree.errors_at(path):
            return self.tree.resolve(path)

    resolve = _node  # what the mount and scripts start from: a path as a typed `Node`

    # ----------------------------------------------------------------- reading

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._describe(self._node(path))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        if kwargs.get("refresh"):
            self.invalidate_cache(path)
        node = self._node(path)
        if not node.is_directory:
            entries = [self._describe(node)]
        else:
            with self.tree.errors_at(node.path):
                entries = [self._describe(child) for child in self.tree.children(node)]
        return entries if detail else [entry["name"] for entry in entries]

    def walk(
        self, path: str, maxdepth: int | None = None, topdown: bool = True, **kwargs: Any
    ) -> Any:
        """Lists each project's recordings in one paged listing as the walk enters it (fsspec's
        walk enters each directory through this method), instead of one listing per folder;
        entering it, not all at the start, or a long walk would find the last projects'
        listings expired. A walk from the root lists `/.voicefs` but does not enter it: find
        and du measure recordings, not the account's generated files."""
        node = self._node(path)
        if maxdepth != 1 and node.kind == NodeKind.PROJECT:
            with self.tree.errors_at(node.path):
                self.tree.prefetch_project(node.project_of())
        for top, dirs, files in super().walk(path, maxdepth=maxdepth, topdown=topdown, **kwargs):
            if top == "" and topdown and ACCOUNT_DIRECTORY in dirs:
                if isinstance(dirs, dict):
                    del dirs[ACCOUNT_DIRECTORY]
                else:
                    dirs.remove(ACCOUNT_DIRECTORY)
            yield top, dirs, files

    def exists(self, path: str, **kwargs: Any) -> bool:
        """False only for "not found": authentication and connection errors raise."""
        try:
            self._node(path)
        except FileNotFoundError:
            return False
        return True

    def du(
        self,
        path: str,
        total: bool = True,
        maxdepth: int | None = None,
        withdirs: bool = False,
        **kwargs: Any,
    ) -> Any:
        """As fsspec's, from the sizes one `find` lists (fsspec's asks `info` of every file,
        which would fetch samples and statistics); a file whose size only a request would
        tell (an export, a sample, a table not read yet) counts as 0."""
        found = self.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=True, **kwargs)
        sizes = {name: entry.get("size") or 0 for name, entry in found.items()}
        return sum(sizes.values()) if total else sizes

    def _describe(self, node: Node) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": node.path,
            "size": 0 if node.is_directory else self.size_of(node),
            "type": "directory" if node.is_directory else "file",
            "kind": node.kind.value,
        }
        if node.kind in (NodeKind.PROJECT, NodeKind.FOLDER) or node.is_audio:
            info["id"] = node.service_id
        recording = node.audio
        if recording is not None:
            info.update(
                state=recording.state,
                duration=recording.duration,
                starred=recording.starred,
                note=recording.note.text if recording.note else None,
                voice=recording.model_name,
            )
        created, modified = node.created, node.modified
        if created is not None:
            info["created"] = created
        if modified is not None:
            info["mtime"] = modified.timestamp()
        return info

    def size_of(self, node: Node) -> int | None:
        """A node's size in bytes; None where only a download would tell (an export, a
        sample or a statistics table not read yet)."""
        if node.is_settled_audio:
            return self._audio_size(node)
        if node.is_audio:
            return len(self.content_of(node))
        return self.virtual.size(node)

    def _audio_size(self, node: Node) -> int:
        """A finished recording's size: the service's `size`, else its download's length."""
        recording = node.recording_of()
        if recording.size is not None:
            return recording.size
        with self.tree.errors_at(node.path), self.client.open_url(self.audio_url(node)) as f:
            return f.size if f.size is not None else len(f.read())

    def content_of(self, node: Node) -> bytes:
        """The bytes of a generated file: a status line for a recording that is not done,
        else what its generated file shows."""
        recording = node.audio
        if recording is None:
            return self.virtual.content(node)
        if recording.is_failed:
            return f"error: {recording.error or 'the service gave no reason'}\n".encode()
        return f"processing: {recording.process_stage or 'processing'}\n".encode()

    def audio_url(self, node: Node) -> str:
        """The download URL of a finished recording."""
        url = node.recording_of().url
        if url is None:
            raise path_error(errno.EIO, "the service gave no audio URL", node.path)
        return url

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        """As fsspec's; a file written in text mode is discarded, like a binary one, when an
        exception leaves its `with` block."""
        if "b" in mode or "r" in mode:
            return super().open(path, mode, **kwargs)
        text = {k: kwargs.pop(k) for k in ("encoding", "errors", "newline") if k in kwargs}
        return StagedTextWrite(super().open(path, mode + "b", **kwargs), **text)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        path = self._strip_protocol(path)
        if "r" in mode:
            node = self._node(path)
            if node.is_directory:
                raise path_error(errno.EISDIR, "Is a directory", path)
            if node.is_settled_audio:
                return AudioFile(
                    self,
                    path,
                    self.audio_url(node),
                    self._audio_size(node),
                    block_size=block_size or self.blocksize,
                    cache_options=cache_options,
                    **kwargs,
                )
            local = None if node.is_audio else self.virtual.local_file(node)
            if local is not None:  # an export: a real file, so zip readers can seek
                return local.open("rb")
            return GeneratedContent(path, self.content_of(node))
        if "a" in mode or "+" in mode:
            raise path_error(errno.EPERM, "Files here can only be read or written whole", path)
        return StagedWrite(path, self.writer(path), autocommit=autocommit)

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        """One streaming GET for a whole file, one Range request for a part of it."""
        node = self._node(path)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        if not node.is_settled_audio:
            return self.content_of(node)[start:end]
        if (start or 0) < 0 or (end or 0) < 0:
            size = self._audio_size(node)
            start = max(size + start, 0) if start is not None and start < 0 else start
            end = max(size + end, 0) if end is not None and end < 0 else end
        with self.tree.errors_at(node.path):
            return self.client.download(self.audio_url(node), start or 0, end)

    def get_file(
        self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None, **kwargs: Any
    ) -> None:
        """Streams a recording to a local file (or an open binary file) in one GET, making
        the file's directory as fsspec does; `callback` gets the size and the progress
        (fsspec's callback protocol)."""
        node = self._node(rpath)
        if isfilelike(lpath):
            outfile = lpath
        elif node.is_directory:
            Path(lpath).mkdir(parents=True, exist_ok=True)
            return
        if outfile is not None:
            self._stream(node, outfile, callback)
            return
        target = Path(lpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        # into a file beside it, renamed when complete: an interrupted copy leaves nothing
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with open(partial, "xb") as handle:
                self._stream(node, handle, callback)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def _stream(self, node: Node, handle: Any, callback: Any) -> None:
        chunks = self._chunks(node)
        if callback is not None:
            callback.set_size(self.size_of(node))
        for chunk in chunks:
            handle.write(chunk)
            if callback is not None:
                callback.relative_update(len(chunk))

    def _chunks(self, node: Node) -> Iterator[bytes]:
        if not node.is_settled_audio:
            yield self.content_of(node)
            return
        with self.tree.errors_at(node.path):
            yield from self.client.iter_download(self.audio_url(node))

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copies a file into a place where writing it means something (e.g. another folder)."""
        node = self._node(path1)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        target = self._strip_protocol(path2)
        writer = self.writer(target)
        with tempfile.TemporaryDirectory(prefix="voicefs-copy-") as tmp:
            staged = Path(tmp) / "copy"
            with staging_errors(target, Path(tmp)), staged.open("wb") as handle:
                self._stream(node, handle, None)
            writer(staged)

    def ukey(self, path: str) -> str:
        """Finished audio never changes: its recording id identifies its content."""
        node = self._node(path)
        if node.is_settled_audio and node.service_id:
            return node.service_id
        return hashlib.sha256(
            repr(sorted(self._describe(node).items(), key=str)).encode()
        ).hexdigest()

    def checksum(self, path: str) -> int:
        return int(hashlib.sha256(self.ukey(path).encode()).hexdigest()[:16], 16)

    def created(self, path: str) -> datetime:
        node = self._node(path)
        return node.created or self.modified(node.path)

    def modified(self, path: str) -> datetime:
        """The service's time for what the path shows; for files generated from the whole
        account, the time of its newest project activity."""
        node = self._node(path)
        if node.modified is not None:
            return node.modified
        with self.tree.errors_at(node.path):
            return self.tree.account_time()

    # ----------------------------------------------------------------- writing

    def writer(self, path: str, progress: Progress | None = None) -> Writer:
        """What closing a file written at path does; refuses at once what cannot be written.
        A name already listed in the cache is taken as existing: writes trust the listing,
        so N uploads into a listed folder cost N requests. A name too long or with control
        characters is refused before anything is sent (`names.check_new_name`)."""
        with self.tree.errors_at(path):
            names.check_new_name(path, posixpath.basename(path))
            parent = self.tree.resolve(posixpath.dirname(path))
            try:
                existing: Node | None = self.tree.resolve(path, reread_missing=False)
            except FileNotFoundError:
                existing = None
            return self.virtual.writer(parent, posixpath.basename(path), existing, progress)

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        """Uploads straight from the local file (streamed, never copied first); `callback`
        gets the size and the progress (fsspec's callback protocol)."""
        rpath = self._strip_protocol(rpath)
        if Path(lpath).is_dir():
            self.makedirs(rpath, exist_ok=True)
            return
        progress = _SentBytes(callback, os.path.getsize(lpath)) if callback is not None else None
        self.writer(rpath, progress)(Path(lpath))
        if progress is not None:
            progress(progress.size)

    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        with self.open(path, "wb") as handle:
            handle.write(value)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forgets the listings of path and of its parent (everything for None or the root),
        so the next call sees changes made elsewhere; sends no request to find them."""
        path = None if path is None else self._strip_protocol(path)
        if not path:
            self.tree.cache.clear()
            return
        depth = len(path.split("/"))
        for key in self.tree.cached_keys_along(path)[depth - 1 :]:
            self.tree.cache.invalidate(key)


class _SentBytes:
    """Turns "bytes of the file sent so far" into an fsspec callback's size and increments;
    a retry that sends the file again does not count it twice."""

    def __init__(self, callback: Any, size: int) -> None:
        self.callback = callback
        self.size = size
        self.reported = 0
        callback.set_size(size)

    def __call__(self, sent: int) -> None:
        if sent > self.reported:
            self.callback.relative_update(sent - self.reported)
            self.reported = sent
