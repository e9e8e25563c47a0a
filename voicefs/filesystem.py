"""`VoiceFileSystem`: an account of the Voice Marketplace API as an fsspec filesystem.

It translates fsspec calls into the tree (paths -> nodes, names, cached listings) and the
client (requests). Paths are `voicefs://<project>/<folder>/<recording>`; CONTRACT §2–§5 say
what each path means and what writing to it does.
"""

from __future__ import annotations

import errno
import hashlib
import posixpath
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fsspec.spec import AbstractFileSystem
from fsspec.utils import stringify_path

from voicefs.api import VoiceClient
from voicefs.api.records import Recording
from voicefs.files import DEFAULT_BLOCK_SIZE, AudioFile, StagedWrite, VirtualFile
from voicefs.scripting import ScriptMethods
from voicefs.tree import names
from voicefs.tree.audio_header import HEADER_BYTES, check_audio
from voicefs.tree.cache import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MISSING_TTL,
    DEFAULT_PROCESSING_TTL,
    DEFAULT_TTL,
    ListingCache,
)
from voicefs.tree.controls import VirtualFiles
from voicefs.tree.errors import errors_at, path_error
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
from voicefs.tree.tree import ACCOUNT_DIRECTORY, Tree

_CLIENT_OPTIONS = (
    "rate_limit",
    "budgets",
    "timeout",
    "slow_timeout",
    "max_retries",
    "backoff",
    "rate_limit_patience",
    "pool_size",
    "session_duration",
)


_WRITABLE = {
    ROOT: "at the top, make a directory to create a project",
    PROJECT: "in a project, make a directory to create a folder",
    FOLDER: "in a folder, write audio (.wav, .ogg, .mp3, .flac) to upload an original, "
    "<name>.tts.txt for text-to-speech, or X.star / X.note.txt for a recording X",
    SIDECAR: "in a conversions directory, write order.txt to order conversions, or "
    "X.star / X.note.txt for a conversion X",
    ACCOUNT: "in /.voicefs, write calibration.txt, or audio in calibrations/ to create a "
    "calibration",
}
_WRITABLE.update(dict.fromkeys((ORIGINAL, CONVERSION, CONTROL, COMPANION), "not a directory"))


class VoiceFileSystem(ScriptMethods, AbstractFileSystem):
    """The account as a filesystem: projects, folders, recordings and their conversions.

    Credentials and URL as CONTRACT §1 says (`api_key`, `email`/`password`, `profile`,
    `url`, or the VOICEFS_* environment). Listings are cached `listings_expiry_time` seconds
    (default 30: at the service's 500 requests per 300 s, a busy browser stays within budget
    while changes made elsewhere appear within half a minute); listings with items still
    processing `processing_expiry_time` seconds; a name not found re-reads a listing older
    than `missing_expiry_time` seconds.
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
        max_listings: int = DEFAULT_MAX_ENTRIES,
        block_size: int = DEFAULT_BLOCK_SIZE,
        **options: Any,
    ) -> None:
        client_options = {k: options.pop(k) for k in _CLIENT_OPTIONS if k in options}
        super().__init__(**options)
        self.client = VoiceClient(
            url=url,
            api_key=api_key,
            email=email,
            password=password,
            profile=profile,
            **client_options,
        )
        self.tree = Tree(
            self.client,
            ListingCache(
                listings_expiry_time, processing_expiry_time, missing_expiry_time, max_listings
            ),
        )
        self.virtual = VirtualFiles(self.tree)
        self.blocksize = block_size

    def __repr__(self) -> str:
        return f"VoiceFileSystem(url={self.client.url!r})"

    # ---------------------------------------------------------------- plumbing

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        text = stringify_path(path)
        for protocol in cls.protocol:
            if text.startswith(f"{protocol}://"):
                text = text[len(protocol) + 3 :]
            elif text.startswith(f"{protocol}:"):
                text = text[len(protocol) + 1 :]
        return posixpath.normpath("/" + text).strip("/") if text.strip("/") else ""

    @staticmethod
    def _get_kwargs_from_urls(path: str) -> dict[str, Any]:
        return {}

    def errors_at(self, path: str) -> Any:
        """Re-raises the client's errors with the path in front of the service's reason."""
        return errors_at(path)

    def _node(self, path: str) -> Node:
        path = self._strip_protocol(path)
        with self.errors_at(path):
            return self.tree.resolve(path)

    # ----------------------------------------------------------------- reading

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._describe(self._node(path))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        node = self._node(path)
        if kwargs.get("refresh"):
            self.invalidate_cache(path)
            node = self._node(path)
        if not node.is_directory:
            entries = [self._describe(node)]
        else:
            with self.errors_at(node.path):
                entries = [self._describe(child) for child in self.tree.children(node)]
        return entries if detail else [entry["name"] for entry in entries]

    def walk(
        self, path: str, maxdepth: int | None = None, topdown: bool = True, **kwargs: Any
    ) -> Any:
        """Warms the cache for the projects under path first: one paged listing per project
        instead of one per folder. A walk from the root lists `/.voicefs` but does not enter
        it: find and du measure recordings, not the account's generated files."""
        node = self._node(path)
        with self.errors_at(node.path):
            if node.kind == ROOT and maxdepth != 1:
                for child in self.tree.children(node):
                    if child.kind == PROJECT and child.project is not None:
                        self.tree.prefetch_project(child.project)
            elif node.kind == PROJECT and node.project is not None and maxdepth != 1:
                self.tree.prefetch_project(node.project)
        walker = super().walk(path, maxdepth=maxdepth, topdown=topdown, **kwargs)
        for top, dirs, files in walker:
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

    def _describe(self, node: Node) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": node.path,
            "size": 0 if node.is_directory else self._size(node),
            "type": "directory" if node.is_directory else "file",
            "kind": node.kind,
        }
        if node.kind in (PROJECT, FOLDER) or node.is_audio:
            info["id"] = node.service_id
        recording = node.recording if node.is_audio else None
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

    def _size(self, node: Node) -> int | None:
        if node.is_settled_audio:
            return self._audio_size(node)
        if node.is_audio:
            return len(self._content(node))
        with self.errors_at(node.path):
            return self.virtual.size(node)

    def _audio_size(self, node: Node) -> int:
        """A finished recording's size: the service's `size`, else its download's length."""
        assert node.recording is not None and node.recording.url is not None
        if node.recording.size is not None:
            return node.recording.size
        with self.errors_at(node.path), self.client.open_url(node.recording.url) as streamed:
            if streamed.size is None:
                return len(streamed.read())
            return streamed.size

    def _content(self, node: Node) -> bytes:
        """The bytes of a generated file: a status line for a recording that is not done,
        else what its virtual file role shows."""
        recording = node.recording
        if node.is_audio and recording is not None:
            if recording.state == "error":
                return f"error: {recording.error or 'the service gave no reason'}\n".encode()
            return f"processing: {recording.process_stage or 'processing'}\n".encode()
        with self.errors_at(node.path):
            return self.virtual.content(node)

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
            url = self._audio_url(node)
            if url is not None:
                return AudioFile(
                    self,
                    path,
                    url,
                    self._audio_size(node),
                    block_size=block_size or self.blocksize,
                    cache_options=cache_options,
                    **kwargs,
                )
            local = self.virtual.local_file(node)
            if local is not None:  # an export: a real file, so zip readers can seek
                return local.open("rb")
            return VirtualFile(path, self._content(node))
        if "a" in mode or "+" in mode:
            raise path_error(errno.EPERM, "Files here can only be read or written whole", path)
        return StagedWrite(self, path, self._write_action(path), block_size=block_size)

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        """One streaming GET for a whole file, one Range request for a part of it."""
        node = self._node(path)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        url = self._audio_url(node)
        if url is None:
            return self._content(node)[start:end]
        if (start or 0) < 0 or (end or 0) < 0:
            size = self._audio_size(node)
            start = max(size + start, 0) if start is not None and start < 0 else start
            end = max(size + end, 0) if end is not None and end < 0 else end
        with self.errors_at(node.path):
            return self.client.download(url, start or 0, end)

    def get_file(
        self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None, **kwargs: Any
    ) -> None:
        """Streams a recording to a local file in one GET."""
        node = self._node(rpath)
        if node.is_directory:
            Path(lpath).mkdir(parents=True, exist_ok=True)
            return
        if outfile is not None:
            self._stream(node, outfile, callback)
            return
        with open(lpath, "wb") as handle:
            self._stream(node, handle, callback)

    def _stream(self, node: Node, handle: Any, callback: Any) -> None:
        url = self._audio_url(node)
        if url is None:
            handle.write(self._content(node))
            return
        with self.errors_at(node.path):
            for chunk in self.client.iter_download(url):
                handle.write(chunk)
                if callback is not None:
                    callback.relative_update(len(chunk))

    def _audio_url(self, node: Node) -> str | None:
        """The download URL of a finished recording; None for generated content."""
        if node.is_settled_audio and node.recording is not None:
            return node.recording.url
        return None

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copies a file into a place where writing it means something (e.g. another folder)."""
        node = self._node(path1)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        action = self._write_action(self._strip_protocol(path2))
        with tempfile.TemporaryDirectory(prefix="voicefs-copy-") as tmp:
            staged = Path(tmp) / "copy"
            with staged.open("wb") as handle:
                self._stream(node, handle, None)
            action(staged)

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
        created = self._node(path).created
        if created is None:
            raise path_error(errno.ENOENT, "No creation time", path)
        return created

    def modified(self, path: str) -> datetime:
        modified = self._node(path).modified
        if modified is None:
            raise path_error(errno.ENOENT, "No modification time", path)
        return modified

    # ----------------------------------------------------------------- writing

    def _write_action(self, path: str) -> Any:
        """What closing a file written at path does; refuses at once what cannot be written."""
        parent = self._node(posixpath.dirname(path))
        name = posixpath.basename(path)
        try:
            existing: Node | None = self.tree.resolve(path)
        except FileNotFoundError:
            existing = None
        if existing is not None and existing.is_audio:
            raise path_error(
                errno.EPERM,
                "A recording's audio cannot be replaced (the service keeps it as uploaded); "
                "delete it first",
                path,
            )
        extension = posixpath.splitext(name)[1].lower()
        if parent.kind == FOLDER and existing is None and extension in names.AUDIO_EXTENSIONS:
            return lambda staged: self._upload(parent, path, name, staged)
        with self.errors_at(path):
            action = self.virtual.writer(parent, name)
        if action is None:
            raise path_error(
                errno.EPERM, f"Nothing can be written here: {_WRITABLE[parent.kind]}", path
            )
        return action

    def _upload(self, folder_node: Node, path: str, name: str, source: Path) -> Recording:
        assert folder_node.folder is not None
        with source.open("rb") as handle:
            check_audio(path, posixpath.splitext(name)[1], handle.read(HEADER_BYTES))
        with self.errors_at(path):
            recording = self.client.upload_recording(folder_node.folder.id, source, file_name=name)
        self.tree.forget_recordings(folder_node.folder.id)
        return recording

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        """Uploads straight from the local file (streamed, never copied first)."""
        rpath = self._strip_protocol(rpath)
        if Path(lpath).is_dir():
            self.makedirs(rpath, exist_ok=True)
            return
        action = self._write_action(rpath)
        action(Path(lpath))

    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        with self.open(path, "wb") as handle:
            handle.write(value)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        if self.exists(path):
            raise path_error(errno.EEXIST, "File exists", path)
        parent_path, name = posixpath.dirname(path), posixpath.basename(path)
        refused = path_error(
            errno.EPERM,
            "Directories can only be made at the top (a project) or in a project (a folder)",
            path,
        )
        if path.count("/") > 1 or parent_path == ACCOUNT_DIRECTORY:
            raise refused  # before making any parent: a refused mkdir changes nothing
        if create_parents and parent_path and not self.exists(parent_path):
            self.mkdir(parent_path, create_parents=True)
        parent = self._node(parent_path)
        with self.errors_at(path):
            if parent.kind == ROOT:
                self.client.create_project(names.unescape(name))
                self.tree.forget_projects()
                return
            if parent.kind == PROJECT and parent.project is not None:
                self.client.create_folder(parent.project.id, names.unescape(name))
                self.tree.forget_folders(parent.project.id)
                return
        raise refused

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        path = self._strip_protocol(path)
        if self.exists(path):
            if not exist_ok or not self._node(path).is_directory:
                raise path_error(errno.EEXIST, "File exists", path)
            return
        self.mkdir(path, create_parents=True)

    def rmdir(self, path: str) -> None:
        node = self._node(path)
        self._remove_directory(node, recursive=False)

    def _remove_directory(self, node: Node, recursive: bool) -> None:
        if node.kind not in (PROJECT, FOLDER):
            raise path_error(
                errno.EPERM,
                "Only projects and folders can be removed; a sidecar goes with its original",
                node.path,
            )
        with self.errors_at(node.path):
            if not recursive and self._has_content(node):
                raise path_error(errno.ENOTEMPTY, "Directory not empty", node.path)
            if node.kind == PROJECT and node.project is not None:
                self.client.delete_project(node.project.id)
                self.tree.forget_projects()
            elif node.folder is not None and node.project is not None:
                self.client.delete_folder(node.folder.id)
                self.tree.forget_folders(node.project.id)
                self.tree.forget_recordings(node.folder.id)

    def _has_content(self, node: Node) -> bool:
        if node.kind == PROJECT and node.project is not None:
            return bool(self.tree.folders(node.project))
        return node.folder is not None and bool(self.tree.recordings(node.folder))

    def rm_file(self, path: str) -> None:
        node = self._node(path)
        if node.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", node.path)
        if not node.is_audio or node.recording is None:
            with self.errors_at(node.path):
                self.virtual.delete(node)
            return
        with self.errors_at(node.path):
            self.client.delete_recording(node.recording.id)
        assert node.folder is not None
        self.tree.forget_recordings(node.folder.id, node.original.id if node.original else None)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        """Removes recordings; with recursive=True also folders and projects, each in one
        request (the service deletes what they contain)."""
        paths = path if isinstance(path, list) else [path]
        for one in paths:
            node = self._node(one)
            if node.kind in (PROJECT, FOLDER):
                if not recursive:
                    raise path_error(errno.EISDIR, "Is a directory (use recursive=True)", node.path)
                self._remove_directory(node, recursive=True)
            elif node.kind in (ROOT, SIDECAR):
                raise path_error(errno.EPERM, "This directory cannot be removed", node.path)
            else:
                self.rm_file(node.path)

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def mv(
        self,
        path1: str,
        path2: str,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Renames within a directory (project, folder, label); see CONTRACT §3 for moves."""
        source = self._node(path1)
        target = self._strip_protocol(path2)
        if self.exists(target):
            raise path_error(errno.EEXIST, "File exists", target)
        same_directory = posixpath.dirname(target) == source.parent_path
        new_name = names.unescape(posixpath.basename(target))
        with self.errors_at(source.path):
            if same_directory and source.kind == PROJECT and source.project is not None:
                self.client.rename_project(source.project.id, new_name)
                self.tree.forget_projects()
                return
            if same_directory and source.kind == FOLDER and source.folder is not None:
                self.client.rename_folder(source.folder.id, new_name)
                assert source.project is not None
                self.tree.forget_folders(source.project.id)
                return
            if source.is_audio and source.recording is not None:
                self._move_recording(source, source.recording, target, same_directory)
                return
        raise path_error(errno.EPERM, "This cannot be renamed or moved", source.path)

    def _move_recording(self, source: Node, recording: Recording, target: str, same: bool) -> None:
        if not same:
            keeps_companions = recording.starred or recording.note is not None
            has_conversions = bool(
                source.kind == ORIGINAL
                and source.folder is not None
                and self.tree.conversions(source.folder, recording)
            )
            if keeps_companions or has_conversions or source.kind == CONVERSION:
                raise path_error(
                    errno.EPERM,
                    "A recording with conversions, a note or a star cannot leave its folder",
                    source.path,
                )
            raise path_error(
                errno.EXDEV,
                "Recordings cannot move between folders: copy it, then delete the original",
                source.path,
            )
        stem, extension = posixpath.splitext(posixpath.basename(target))
        audio_extension = names.extension_of(recording.file_name, recording.url)
        if extension.lower() != audio_extension or not stem:
            raise path_error(
                errno.EPERM,
                f"A recording keeps its extension: rename it to <label>{audio_extension}",
                target,
            )
        self.client.update_recording(recording.id, label=names.unescape(stem))
        assert source.folder is not None
        self.tree.forget_recordings(
            source.folder.id, source.original.id if source.original else None
        )

    rename = mv

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
