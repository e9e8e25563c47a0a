"""The file objects `VoiceFileSystem.open` returns.

- `AudioFile` reads a finished recording through fsspec's block caches; every block it
  fetches is one HTTP Range request (`_fetch_range`), so partial reads cost what they read.
- `StagedWrite` stages what is written in a temporary file on disk (never whole in memory) and
  hands it to an action when the file is closed; `close()` raises what the action raised. It
  seeks and overwrites within what was written, as libsndfile does to fix a WAV header. An
  exception inside `with` (or `discard()`) throws the staged bytes away: nothing is sent. A
  file that is dropped unclosed is closed, and so sent, by the garbage collector, as Python's
  own files are: `soundfile.write(fs.open(p, "wb"), data, rate)` uploads a complete WAV.
- `GeneratedContent` is the content of a generated file (status lines, manifests, templates).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from fsspec.spec import AbstractBufferedFile

from voicefs.api.errors import ServiceError
from voicefs.tree.errors import path_error

if TYPE_CHECKING:
    from voicefs.filesystem import VoiceFileSystem

# Sequential audio reads: big enough that a player or decoder costs few requests, small
# enough that a seek near the start does not fetch the whole file (benchmarks/bench_fs.py).
DEFAULT_BLOCK_SIZE = 4 << 20


class AudioFile(AbstractBufferedFile):
    def __init__(self, fs: VoiceFileSystem, path: str, url: str, size: int, **kwargs: Any) -> None:
        self.url = url
        kwargs.setdefault("cache_type", "readahead")
        super().__init__(fs, path, mode="rb", size=size, **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        fs: VoiceFileSystem = self.fs
        with fs.tree.errors_at(self.path):
            return fs.client.download(self.url, start, end)


class StagedWrite(io.RawIOBase):
    """A file being written: bytes go to a temporary file; `close()` runs `commit(path)`.

    `autocommit=False` (fsspec transactions) defers the commit to `commit()`. The file can be
    read back and seeked within while open, so writers that patch a header at the end work.
    """

    def __init__(
        self, path: str, commit: Callable[[Path], object], *, autocommit: bool = True
    ) -> None:
        super().__init__()
        self.path = path
        self.name = path
        self.mode = "wb"
        self.autocommit = autocommit
        self._commit = commit
        with staging_errors(path, Path(tempfile.gettempdir())):
            descriptor, staged = tempfile.mkstemp(prefix="voicefs-write-")
        self._staged = Path(staged)
        self._file = os.fdopen(descriptor, "w+b")
        self._outcome: str | None = None  # "committed" or "discarded"
        self._failure: OSError | None = None  # the local disk's error, which ends the file

    # -- io.RawIOBase -------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._check_open()
        with self._local_errors():
            return self._file.write(data)

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        return self._file.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        self._check_open()
        return self._file.tell()

    def truncate(self, size: int | None = None) -> int:
        self._check_open()
        with self._local_errors():
            return self._file.truncate(size)

    def flush(self) -> None:
        if not self._file.closed:
            with self._local_errors():
                self._file.flush()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"{self.path}: I/O operation on a closed file")

    @contextmanager
    def _local_errors(self) -> Iterator[None]:
        """A failure of the staged file (a full disk) names the path, and ends the file: what
        was staged is incomplete, so closing it sends nothing and raises the failure again."""
        try:
            with staging_errors(self.path, self._staged.parent):
                yield
        except OSError as exc:
            self._failure = exc
            raise

    # -- the outcome --------------------------------------------------------------------------

    def close(self) -> None:
        """Sends what was written (unless discarded or in a transaction); raises its error."""
        if self.closed:
            return
        try:
            with self._local_errors():
                self._file.close()
            if self._failure is not None:
                self._outcome = "discarded"
                raise self._failure
            if self._outcome is None and self.autocommit:
                self._outcome = "committed"
                self._commit(self._staged)
        finally:
            if self.autocommit or self._outcome is not None:
                self._staged.unlink(missing_ok=True)
            super().close()

    def commit(self) -> None:
        """Sends a file written inside a transaction (`autocommit=False`), once."""
        if self._failure is not None:
            self.discard()
            raise self._failure
        if self._outcome is None:
            self._outcome = "committed"
            try:
                self._commit(self._staged)
            finally:
                self._staged.unlink(missing_ok=True)

    def discard(self) -> None:
        """Throws away what was written: closing afterwards sends nothing."""
        if self._outcome is None:
            self._outcome = "discarded"
        if not self.closed:
            with suppress(OSError):  # what could not be flushed is thrown away anyway
                self._file.close()
            super().close()
        self._staged.unlink(missing_ok=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            self.discard()  # an interrupted write sends nothing (CONTRACT §3)
        else:
            self.close()


@contextmanager
def staging_errors(path: str, directory: Path) -> Iterator[None]:
    """The local disk's errors while staging a write (a full disk: ENOSPC) as OSErrors that
    name the path being written and where it was staged; nothing has been sent then."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None or isinstance(exc, ServiceError):  # the service's, not the disk's
            raise
        reason = exc.strerror or str(exc)
        raise path_error(
            exc.errno, f"{reason} (staging it in {directory}); nothing was sent", path
        ) from exc


class StagedTextWrite(io.TextIOWrapper):
    """Text written to a `StagedWrite` (`open(p, "w")`): an exception inside `with` discards
    it too."""

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None and isinstance(self.buffer, StagedWrite):
            self.buffer.discard()
        super().__exit__(kind, error, traceback)


class GeneratedContent(io.BytesIO):
    """Generated content, read-only; `name` is its path, as fsspec files have."""

    def __init__(self, path: str, content: bytes) -> None:
        super().__init__(content)
        self.name = path
        self.path = path
        self.size = len(content)

    def writable(self) -> bool:
        return False
