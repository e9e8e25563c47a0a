"""Open files of the mount, one object per file handle.

- `AudioHandle` reads finished audio through the on-disk audio cache.
- `ContentHandle` serves a snapshot of generated content (taken at open: a file never
  changes under a reader).
- `LocalHandle` is a local file: a scratch file, or a write being staged (`StagedWrite`),
  whose action runs on the first flush after writing, so `close()` returns its error; empty
  and repeated flushes do nothing.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

from voicefs.mount.audio_cache import CachedAudio


class Handle:
    """What every handle answers; reads and writes it does not support fail with EBADF."""

    path: str

    def read(self, size: int, offset: int) -> bytes:
        raise OSError(errno.EBADF, "not open for reading", self.path)

    def write(self, data: bytes, offset: int) -> int:
        raise OSError(errno.EBADF, "not open for writing", self.path)

    def truncate(self, length: int) -> None:
        raise OSError(errno.EBADF, "not open for writing", self.path)

    def flush(self) -> None:
        """Called on every close() of a descriptor of this handle."""

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

    def __init__(self, path: str, local: Path, *, truncate: bool) -> None:
        self.path = path
        self.local = local
        self._lock = threading.Lock()
        self._descriptor = os.open(local, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0))

    def read(self, size: int, offset: int) -> bytes:
        return os.pread(self._descriptor, size, offset)

    def write(self, data: bytes, offset: int) -> int:
        with self._lock:
            return os.pwrite(self._descriptor, data, offset)

    def truncate(self, length: int) -> None:
        with self._lock:
            os.ftruncate(self._descriptor, length)

    def release(self) -> None:
        os.close(self._descriptor)


class StagedWrite(LocalHandle):
    """A write of a meaningful name: staged locally, sent by `commit(local_path)` on the first
    flush after it changed (a new or truncated file counts as changed: `touch X.star`)."""

    def __init__(
        self,
        path: str,
        local: Path,
        commit: Callable[[Path], object],
        *,
        truncate: bool,
        changed: bool,
        on_release: Callable[[StagedWrite], None],
    ) -> None:
        super().__init__(path, local, truncate=truncate)
        self._commit = commit
        self._changed = changed
        self._on_release = on_release
        self.error: OSError | None = None
        self.sent = False  # the service took what was written

    def write(self, data: bytes, offset: int) -> int:
        self._changed = True
        return super().write(data, offset)

    def truncate(self, length: int) -> None:
        self._changed = True
        super().truncate(length)

    def flush(self) -> None:
        with self._lock:
            if not self._changed:
                return
            self._changed = False
            os.fsync(self._descriptor)
            self._commit(self.local)
            self.sent = True

    def release(self) -> None:
        try:
            if self._changed:  # never flushed (the kernel always flushes; a safety net)
                self.flush()
        finally:
            super().release()
            self._on_release(self)
