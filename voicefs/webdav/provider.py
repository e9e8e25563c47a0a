"""`DriveProvider`: the drive as WsgiDAV resources, standing on the same door and machinery as
the FUSE mount (`voicefs.drive`), so a listing, a read, an upload, an order, a star, a note, a
rename and a delete behave as they do there.

What differs is how clients write. A PUT carries a whole file: it is staged (journaled, for an
upload) and sent once its body has come, exactly once. A client that announces a new name
before its content — macOS Finder's LOCK and empty PUT, then the PUT with the bytes — gets a
placeholder: an empty file that shows in listings and is never sent, until the content comes.
Scratch names (`._name`, `.DS_Store`, `desktop.ini`, `Thumbs.db`, `~$name`, editors' and
downloaders' temporaries) stay local, as through the mount.
"""

from __future__ import annotations

import errno
import io
import posixpath
import shutil
import threading
from collections.abc import Iterable
from contextlib import closing
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_PRECONDITION_FAILED,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider, _DAVResource
from wsgidav.util import guess_mime_type

from voicefs.api.health import HealthState
from voicefs.drive import ALWAYS_THERE
from voicefs.drive.audio_cache import CachedAudio
from voicefs.drive.handles import StagedWrite
from voicefs.drive.session import DriveSession
from voicefs.tree import names
from voicefs.tree.local_names import is_trash_name
from voicefs.tree.nodes import Node, NodeKind
from voicefs.webdav.middleware import ENCODED_SEPARATORS
from voicefs.webdav.statuses import answered

COPY_CHUNK = 1 << 20
READING = frozenset({"GET", "HEAD"})
Content = IO[bytes] | io.RawIOBase  # what a GET reads from


def tree_path(path: str) -> str:
    """The drive's path of a request's (decoded) path. Nothing may leave the tree or name a
    place two ways: `.` and `..` components, empty ones and encoded separators are refused
    (also before WsgiDAV, by `middleware.TreePaths`, as the client sent them)."""
    inner = path.strip("/")
    if not inner:
        return ""
    for part in inner.split("/"):
        if (
            part in ("", ".", "..")
            or "\0" in part
            or any(separator in part.lower() for separator in ENCODED_SEPARATORS)
        ):
            raise DAVError(HTTP_BAD_REQUEST, f"{path}: not a path of the drive")
    return inner


def conditional(environ: dict[str, Any]) -> bool:
    """Whether a request is made on a condition about what is at its path."""
    return "HTTP_IF" in environ or "HTTP_IF_MATCH" in environ


class Placeholders:
    """New names announced before their content (a LOCK of a new name, an empty PUT): shown
    as empty files for the server's life, never sent; the PUT with content replaces one."""

    def __init__(self) -> None:
        self._paths: set[str] = set()
        self._lock = threading.Lock()

    def add(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)

    def discard(self, path: str) -> bool:
        with self._lock:
            if path not in self._paths:
                return False
            self._paths.remove(path)
            return True

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._paths

    def names_in(self, directory: str) -> list[str]:
        prefix = f"{directory}/" if directory else ""
        with self._lock:
            return [
                p[len(prefix) :]
                for p in self._paths
                if p.startswith(prefix) and "/" not in p[len(prefix) :]
            ]


class AudioStream(io.RawIOBase):
    """A recording's audio as the file object WsgiDAV reads a GET from (seeking for ranges),
    through the audio cache on disk, as the mount's reads go."""

    def __init__(self, audio: CachedAudio) -> None:
        self._audio = audio
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks")
        self._position = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        data = self._audio.read(self._position, size if size >= 0 else 1 << 30)
        self._position += len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            self._audio.close()
        super().close()


class Upload:
    """The file object a PUT's body is written to: the staged write, at growing offsets."""

    def __init__(self, staged: StagedWrite, expected: int | None) -> None:
        self.staged = staged
        self.expected = expected  # the Content-Length, when the body came with one
        self.written = 0

    def write(self, data: bytes) -> int:
        count = self.staged.write(data, self.written)
        self.written += count
        return count

    def close(self) -> None:
        """The body has come; `end_write` decides what is sent."""

    @property
    def complete(self) -> bool:
        """Whether the whole body came: a client that went away leaves it short."""
        return self.expected is None or self.written == self.expected


def declared_length(environ: dict[str, Any]) -> int | None:
    """A PUT's Content-Length (None for a chunked body, whose end the server checks, and for
    a COPY, whose body is the source's)."""
    if environ.get("REQUEST_METHOD") != "PUT":
        return None
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    value = environ.get("CONTENT_LENGTH")
    return int(value) if value and value.isdigit() else None


class DriveProvider(DAVProvider):
    def __init__(self, session: DriveSession, *, read_only: bool = False) -> None:
        super().__init__()
        self.session = session
        self.read_only = read_only
        self.placeholders = Placeholders()

    def is_readonly(self) -> bool:
        return self.read_only

    # What `answered` asks of the objects whose methods it wraps.
    def _health(self) -> HealthState:
        return self.session.drive.health.state

    def _record(self, error: OSError) -> None:
        self.session.drive.errors.record(error)

    @answered
    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> _DAVResource | None:
        return self.resource_at(tree_path(path), environ)

    def resource_at(self, target: str, environ: dict[str, Any]) -> _DAVResource | None:
        """The resource at a tree path: a local file, a placeholder, or the drive's node."""
        href = "/" + target
        local = self.session.scratch.get(target)
        if local is not None:
            return LocalFile(href, environ, self, local)
        if target in self.placeholders or self.session.writes.pending(target) is not None:
            return Placeholder(href, environ, self)
        try:
            node = self.session.drive.lookup(target)
        except FileNotFoundError:
            return None
        if node.is_directory:
            return Folder(href, environ, self, node)
        return ServiceFile(href, environ, self, node)

    # ------------------------------------------------------------------ changes

    def create_empty(self, target: str, environ: dict[str, Any]) -> _DAVResource:
        """A new name: a scratch file for a scratch name; else, once the drive said the name
        can be written here, a placeholder until its content comes."""
        if self.session.is_scratch_name(target):
            return LocalFile("/" + target, environ, self, self.session.create_scratch(target))
        names.check_new_name(target, posixpath.basename(target))
        self.session.drive.writer(target)  # refuses at once what cannot be written here
        if environ.get("REQUEST_METHOD") == "PUT" and conditional(environ):
            # WsgiDAV judges If and If-Match only of what exists: nothing here can match them
            raise DAVError(HTTP_PRECONDITION_FAILED, f"{target}: nothing there to match If")
        if environ.get("REQUEST_METHOD") != "PUT":  # a PUT's own stands only if it succeeds
            self.placeholders.add(target)
        return Placeholder("/" + target, environ, self)

    def begin_write(self, target: str, environ: dict[str, Any], *, new: bool) -> Upload:
        self.session.refuse_while_away(target)
        staged = self.session.writes.staged(target, truncate=True, new=new, opener=0)
        return Upload(staged, declared_length(environ))

    def end_write(self, target: str, upload: Upload, *, with_errors: bool, new: bool) -> None:
        """Sends what a complete PUT wrote, exactly once. An interrupted one sends nothing;
        an empty PUT of a new name whose content matters (a take, a note) only announces it."""
        staged = upload.staged
        short = not upload.complete
        try:
            if with_errors or short:
                staged.discard()
            elif new and upload.written == 0 and staged.content_matters:
                staged.discard()
                self.placeholders.add(target)
            else:
                staged.finish()
                self.placeholders.discard(target)
        finally:
            staged.release()
        if staged.unseen_error is not None:
            raise staged.unseen_error
        if short and not with_errors:
            raise ConnectionAbortedError(
                errno.ECONNABORTED,
                f"{target}: not written: the client sent {upload.written} of the "
                f"{upload.expected} bytes it announced, and nothing was sent",
            )

    def make_directory(self, target: str) -> None:
        if is_trash_name(posixpath.basename(target)):
            raise PermissionError(errno.EPERM, f"{target}: no trash on this drive: delete for good")
        self.session.refuse_while_away(target)
        self.session.drive.make_directory(target)

    def remove(self, target: str, node: Node | None) -> None:
        """DELETE of one resource (WsgiDAV removes a collection's members first)."""
        session = self.session
        if session.scratch.remove(target) or self.placeholders.discard(target):
            session.settings.forget(target)
            return
        if node is None:
            return
        if node.kind == NodeKind.SIDECAR:
            # it comes and goes with its original: empty of conversions, it is already gone
            if any(child.is_audio for child in session.drive.directory(node).entries):
                raise OSError(errno.ENOTEMPTY, f"{target}: conversions are left in it")
            return
        if node.role in ALWAYS_THERE:
            return  # made on read in every directory: a recursive delete passes them
        session.refuse_while_away(target)
        if node.is_directory:
            session.drive.remove_directory(target)
        else:
            session.drive.remove_file(target)
        session.settings.forget(target)

    def remove_tree(self, target: str, node: Node) -> None:
        """DELETE of a collection, as `rm -r` through the mount: what is inside first (a
        sidecar's conversions, a folder's originals), generated files passed, then itself."""
        for child in list(self.session.drive.directory(node).entries):
            if child.is_directory:
                self.remove_tree(child.path, child)
            else:
                self.remove(child.path, child)
        for name in self.session.scratch.names_in(target):
            self.session.scratch.remove(posixpath.join(target, name))
        for name in self.placeholders.names_in(target):
            self.placeholders.discard(posixpath.join(target, name))
        self.remove(target, node)

    def move(self, source: str, target: str) -> None:
        """MOVE, as a rename through the mount: a scratch file moved onto a meaningful name
        is that write; what is on the service is renamed there; a placeholder moves along."""
        session = self.session
        local = session.scratch.get(source)
        if source in self.placeholders:
            self.create_empty(target, {})
            self.placeholders.discard(source)
            session.settings.move(source, target)
            return
        if local is not None and session.is_scratch_name(target):
            names.check_new_name(target, posixpath.basename(target))
            session.scratch.move(source, target)
        elif local is not None:
            session.refuse_while_away(target)
            session.writes.send(target, local)
            session.scratch.remove(source)
        elif session.is_scratch_name(target):
            raise PermissionError(
                errno.EPERM,
                f"{target}: a scratch name stays local; what is on the service stays there",
            )
        else:
            session.refuse_while_away(source)
            session.drive.rename(source, target)
        self.placeholders.discard(target)  # a name announced, then written by this move
        session.settings.move(source, target)

    def copy(self, source: _DAVResource, target: str, environ: dict[str, Any]) -> None:
        """COPY of a file: its bytes written at target as a PUT would write them."""
        if source.is_collection:
            raise DAVError(
                HTTP_FORBIDDEN, f"{target}: a folder is copied by copying its recordings"
            )
        existing = self.resource_at(target, environ)
        destination = existing or self.create_empty(target, environ)
        try:
            with closing(source.get_content()) as content:
                output = destination.begin_write()
                try:
                    shutil.copyfileobj(content, output, COPY_CHUNK)
                    output.close()
                except BaseException:
                    destination.end_write(with_errors=True)
                    raise
            destination.end_write(with_errors=False)
        except BaseException:
            if existing is None:  # nothing new stands at target after a failed copy
                self.placeholders.discard(target)
                self.session.scratch.remove(target)
            raise

    def set_time(self, target: str, when: str) -> bool:
        """A client's modification time (PROPPATCH of `Win32LastModifiedTime` or
        `getlastmodified`): kept as through the mount's `utimens`, sent nowhere."""
        try:
            stamp = int(parsedate_to_datetime(when).timestamp() * 1_000_000_000)
        except (TypeError, ValueError) as exc:
            raise OSError(errno.EINVAL, f"{target}: not a time: {when!r}") from exc
        self.session.settings.set(target, mtime=stamp)
        return True


class _DriveResource(_DAVResource):
    """What every resource of the drive does alike: it answers errors as `answered` says (with
    the provider's health and error log), and deletes, moves, copies and takes a client's time
    through the provider, by its tree path."""

    drive_provider: DriveProvider
    target: str

    def _health(self) -> HealthState:
        return self.drive_provider._health()

    def _record(self, error: OSError) -> None:
        self.drive_provider._record(error)

    def get_display_name(self) -> str:
        return posixpath.basename(self.target)

    def _remove(self) -> None:
        raise NotImplementedError

    @answered
    def handle_delete(self) -> bool:
        self._check_unlocked()
        self._remove()
        self.remove_all_properties(recursive=True)
        self.remove_all_locks(recursive=True)
        return True

    @answered
    def delete(self) -> None:
        self.handle_delete()

    def _check_unlocked(self) -> None:
        """423 when this resource, or anything under it, is locked by a lock the request
        does not hold: WsgiDAV checks only the parent before handing a DELETE over."""
        locks = self.provider.lock_manager
        if locks is not None:
            locks.check_write_permission(
                url=self.get_ref_url(),
                depth="infinity",
                token_list=self.environ.get("wsgidav.ifLockTokenList", []),
                principal=self.environ.get("wsgidav.user_name"),
            )

    @answered
    def handle_move(self, dest_path: str) -> bool:
        self.drive_provider.move(self.target, tree_path(dest_path))
        return True

    @answered
    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        self.drive_provider.copy(self, tree_path(dest_path), self.environ)
        return True

    @answered
    def set_last_modified(self, dest_path: str, time_stamp: str, *, dry_run: bool) -> bool:
        return dry_run or self.drive_provider.set_time(self.target, time_stamp)


def _seconds(nanoseconds: int) -> float:
    return nanoseconds / 1_000_000_000


class Folder(_DriveResource, DAVCollection):
    def __init__(
        self, path: str, environ: dict[str, Any], provider: DriveProvider, node: Node
    ) -> None:
        super().__init__(path, environ)
        self.drive_provider = provider
        self.node = node
        self.target = node.path

    def get_creation_date(self) -> float | None:
        return None if self.node.created is None else self.node.created.timestamp()

    def get_last_modified(self) -> float:
        return _last_modified(self.drive_provider, self.node)

    @answered
    def get_member_names(self) -> list[str]:
        session = self.drive_provider.session
        listed: Iterable[str] = session.drive.directory(self.node).by_name
        local = session.scratch.names_in(self.target)
        announced = self.drive_provider.placeholders.names_in(self.target)
        return list(dict.fromkeys([*listed, *local, *announced]))

    @answered
    def get_member(self, name: str) -> _DAVResource | None:
        return self.drive_provider.resource_at(posixpath.join(self.target, name), self.environ)

    @answered
    def create_empty_resource(self, name: str) -> _DAVResource:
        return self.drive_provider.create_empty(posixpath.join(self.target, name), self.environ)

    @answered
    def create_collection(self, name: str) -> None:
        self.drive_provider.make_directory(posixpath.join(self.target, name))

    def _remove(self) -> None:
        """As `rm -r` through the mount: what is inside first, then the folder."""
        self.drive_provider.remove_tree(self.target, self.node)

    def support_recursive_move(self, dest_path: str) -> bool:
        return True

    def move_recursive(self, dest_path: str) -> list[Any]:
        self.handle_move(dest_path)
        return []


class _File(_DriveResource, DAVNonCollection):
    creates = False  # whether a PUT here makes something new on the service
    _upload: Upload | None = None

    @answered
    def begin_write(self, *, content_type: str | None = None) -> IO[bytes] | Upload:
        self._upload = self.drive_provider.begin_write(self.target, self.environ, new=self.creates)
        return self._upload

    @answered
    def end_write(self, *, with_errors: bool) -> None:
        if self._upload is not None:
            upload, self._upload = self._upload, None
            self.drive_provider.end_write(
                self.target, upload, with_errors=with_errors, new=self.creates
            )

    def get_content_type(self) -> str:
        return guess_mime_type(self.target)

    def support_ranges(self) -> bool:
        return True

    def get_etag(self) -> str | None:
        return None

    def support_etag(self) -> bool:
        return False

    def _remove(self) -> None:
        """A file made on read in every directory (`recordings.csv`) stays: its DELETE does
        nothing, and says so with success, as `rm` through the mount does."""
        self.drive_provider.remove(self.target, self._node())

    def _node(self) -> Node | None:
        return None


class ServiceFile(_File):
    """A file of the service's tree: audio, or a generated or control file."""

    def __init__(
        self, path: str, environ: dict[str, Any], provider: DriveProvider, node: Node
    ) -> None:
        super().__init__(path, environ)
        self.drive_provider = provider
        self.node = node
        self.target = node.path
        self._content: bytes | None = None

    def _node(self) -> Node:
        return self.node

    @answered
    def get_content_length(self) -> int | None:
        """The size; for a file only a download sizes (an export, a table), none in a
        listing and the real one for a GET, which fetches it."""
        size = self.drive_provider.session.drive.size_of(self.node)
        if size is None and self.environ.get("REQUEST_METHOD") in READING:
            return len(self._generated())
        return size

    def get_creation_date(self) -> float | None:
        return None if self.node.created is None else self.node.created.timestamp()

    def get_last_modified(self) -> float:
        return _last_modified(self.drive_provider, self.node)

    def get_etag(self) -> str | None:
        """Finished audio never changes: its id and size name its bytes. Generated files
        have none (their bytes are known only by making them)."""
        if not self.node.is_settled_audio:
            return None
        size = self.drive_provider.session.drive.size_of(self.node)
        return f"{self.node.service_id}-{size}"

    def support_etag(self) -> bool:
        return self.node.is_settled_audio

    @answered
    def get_content(self) -> Content:
        drive = self.drive_provider.session.drive
        if self.node.is_settled_audio:
            url, size = drive.audio_url(self.node), drive.size_of(self.node) or 0
            audio = self.drive_provider.session.audio.reader(self.node.recording_of().id, url, size)
            return AudioStream(audio)
        return io.BytesIO(self._generated())

    def _generated(self) -> bytes:
        if self._content is None:
            self._content = self.drive_provider.session.drive.content_of(self.node)
        return self._content


class Placeholder(_File):
    """A new name whose content has not come yet: empty, local, never sent as it is."""

    creates = True

    def __init__(self, path: str, environ: dict[str, Any], provider: DriveProvider) -> None:
        super().__init__(path, environ)
        self.drive_provider = provider
        self.target = tree_path(path)

    def get_content_length(self) -> int:
        return 0

    def get_content(self) -> IO[bytes]:
        return io.BytesIO(b"")

    def get_last_modified(self) -> float | None:
        mtime = self.drive_provider.session.settings.get(self.target).get("mtime")
        return None if mtime is None else _seconds(mtime)


class LocalFile(_File):
    """A scratch file: on local disk for the server's life, never sent."""

    def __init__(
        self, path: str, environ: dict[str, Any], provider: DriveProvider, local: Path
    ) -> None:
        super().__init__(path, environ)
        self.drive_provider = provider
        self.target = tree_path(path)
        self.local = local

    def get_content_length(self) -> int:
        return self.local.stat().st_size

    def get_last_modified(self) -> float:
        mtime = self.drive_provider.session.settings.get(self.target).get("mtime")
        return self.local.stat().st_mtime if mtime is None else _seconds(mtime)

    def get_etag(self) -> str:
        status = self.local.stat()
        return f"{status.st_ino:x}-{status.st_mtime_ns:x}-{status.st_size:x}"

    def support_etag(self) -> bool:
        return True

    def get_content(self) -> IO[bytes]:
        return self.local.open("rb")

    @answered
    def begin_write(self, *, content_type: str | None = None) -> IO[bytes]:
        return self.local.open("wb")

    def end_write(self, *, with_errors: bool) -> None:
        """Nothing to send: a scratch file stays here."""


def _last_modified(provider: DriveProvider, node: Node) -> float:
    """What the service says, or what a client set (kept locally, as through the mount)."""
    mtime = provider.session.settings.get(node.path).get("mtime")
    if mtime is not None:
        return _seconds(mtime)
    when = node.modified or node.created or provider.session.drive.account_time()
    return when.timestamp()
