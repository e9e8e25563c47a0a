"""Open files of the mount, one object per file handle.

- `AudioHandle` reads finished audio through the on-disk audio cache.
- `ContentHandle` serves a snapshot of generated content (taken at open: a file never
  changes under a reader).
- `LocalHandle` is a local file: a scratch file, or a write being staged (`StagedWrite`),
  whose action runs when its writer is done with it (its class says when), so that the
  writer's `close()` returns its error.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from voicefs.drive.audio_cache import CachedAudio
from voicefs.files import staging_errors


class Handle:
    """What every handle answers; reads and writes it does not support fail with EBADF."""

    path: str

    def read(self, size: int, offset: int) -> bytes:
        raise OSError(errno.EBADF, "not open for reading", self.path)

    def write(self, data: bytes, offset: int) -> int:
        raise OSError(errno.EBADF, "not open for writing", self.path)

    def truncate(self, length: int) -> None:
        raise OSError(errno.EBADF, "not open for writing", self.path)

    def flush(self, caller: int) -> None:
        """Called on every close() of a descriptor of this handle, by process `caller`."""

    def sync(self) -> None:
        """fsync(2) of this handle."""

    def release(self) -> None:
        """Called once, after the last close()."""


class AudioHandle(Handle):
    def __init__(self, path: str, audio: CachedAudio) -> None:
        self.path = path
        self.audio = audio

    def read(self, size: int, offset: int) -> bytes:
        return self.audio.read(offset, size)

    def release(self) -> None:
        self.audio.close()


class ContentHandle(Handle):
    def __init__(self, path: str, content: bytes) -> None:
        self.path = path
        self.content = content

    def read(self, size: int, offset: int) -> bytes:
        return self.content[offset : offset + size]


class LocalHandle(Handle):
    """A local file opened for reading and writing."""

    def __init__(self, path: str, local: Path, *, truncate: bool, mode: int = 0o644) -> None:
        self.path = path
        self.local = local
        self._lock = threading.Lock()
        flags = os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0)
        self._descriptor = os.open(local, flags, mode)

    def read(self, size: int, offset: int) -> bytes:
        return os.pread(self._descriptor, size, offset)

    def write(self, data: bytes, offset: int) -> int:
        with self._lock:
            return os.pwrite(self._descriptor, data, offset)

    def truncate(self, length: int) -> None:
        with self._lock:
            os.ftruncate(self._descriptor, length)

    def sync(self) -> None:
        os.fsync(self._descriptor)

    def release(self) -> None:
        os.close(self._descriptor)


class StagedWrite(LocalHandle):
    """A write of a meaningful name, staged locally and sent once its writer is done with it.

    The writer is done at a close by the process that opened the file, after it wrote
    (`cp`, an editor, ffmpeg: its `close()` returns the service's answer), or else at the
    release of the last descriptor (a shell's redirection closed in the shell or in a child,
    a descriptor a child inherited). A close by another process, and a close with nothing
    written, are not the end of the file. A file whose creation is the whole act (`X.star`)
    is sent at its first close. A write that failed locally (a full disk) is never sent."""

    def __init__(
        self,
        path: str,
        local: Path,
        commit: Callable[[Path], object],
        *,
        truncate: bool,
        mode: int,
        created: bool,
        opener: int,
        content_matters: bool,
        sends_once: bool,
        on_release: Callable[[StagedWrite], None],
    ) -> None:
        super().__init__(path, local, truncate=truncate, mode=mode)
        self._commit = commit
        self._opener = opener
        self._content_matters = content_matters
        self._sends_once = sends_once
        self._on_release = on_release
        self._written = False  # bytes written or truncated since the last send
        self._unsent_creation = created  # created or emptied at open, and not sent since
        self.failure: OSError | None = None  # a local write failed: nothing is sent
        self.unseen_error: OSError | None = None  # the error of a send at release
        self.sent = False  # the service took what was written

    @property
    def content_matters(self) -> bool:
        """Whether only content makes the write mean something (a take, a note), or its
        creation alone does (`X.star`)."""
        return self._content_matters

    def discard(self) -> None:
        """Nothing of what was written is sent, not even at the release: an interrupted
        upload, or a name announced before its content (a WebDAV client's empty PUT)."""
        with self._lock:
            self._written = self._unsent_creation = False

    def write(self, data: bytes, offset: int) -> int:
        self._check_writable()
        with self._staging():
            written = super().write(data, offset)
        self._written = True
        return written

    def truncate(self, length: int) -> None:
        self._check_writable()
        with self._staging():
            super().truncate(length)
        self._written = True

    def _check_writable(self) -> None:
        if self.sent and self._sends_once:
            raise PermissionError(
                errno.EPERM,
                f"{self.path}: already uploaded when its writer closed it; a recording's audio "
                "cannot be changed",
            )

    @contextmanager
    def _staging(self) -> Iterator[None]:
        """A failed local write (a full disk) names the path and ends the file: nothing will
        be sent, and what it staged is freed at once."""
        try:
            with staging_errors(self.path, self.local.parent):
                yield
        except OSError as exc:
            with self._lock:
                if self.failure is None:
                    self.failure = exc
                os.ftruncate(self._descriptor, 0)
            raise

    def flush(self, caller: int) -> None:
        """A close() of a descriptor of this file by process `caller`."""
        with self._lock:
            if self.failure is not None:
                raise self.failure
            if caller != self._opener or not self._due(final=False):
                return
            self._send()

    def finish(self) -> None:
        """Sends what the release of the last descriptor would, raising its error."""
        with self._lock:
            if self.failure is not None:
                raise self.failure
            if self._due(final=True):
                self._send()

    def sync(self) -> None:
        """fsync(2): the staged bytes reach the local disk; sending waits for the close."""
        os.fsync(self._descriptor)

    def _due(self, *, final: bool) -> bool:
        if self._written:
            return True
        return self._unsent_creation and (final or not self._content_matters)

    def _send(self) -> None:
        self._written = self._unsent_creation = False
        os.fsync(self._descriptor)
        self._commit(self.local)
        self.sent = True

    def release(self) -> None:
        try:
            self.finish()
        except OSError as exc:  # no close() left to return it: errors.log says it
            self.unseen_error = exc
        finally:
            super().release()
            self._on_release(self)
