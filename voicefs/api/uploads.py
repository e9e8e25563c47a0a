"""Streaming multipart uploads: the body is read from disk as it is sent, never held whole.

requests-toolbelt's MultipartEncoder produces the multipart framing lazily from file objects.
We hand it to requests as an iterable *with a length*, so requests sends a Content-Length
(some gateways refuse chunked uploads) and urllib3 writes our 1 MiB chunks straight to the
socket instead of reading the encoder 16 KiB at a time.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from requests_toolbelt import MultipartEncoder

from voicefs.api.errors import InvalidRequestError

CHUNK_SIZE = 1 << 20
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
}

UploadInput = str | os.PathLike[str] | IO[bytes]
Progress = Callable[[int], object]
"""Told how many bytes of the file were sent so far (a retry starts again from 0)."""

# What the multipart encoder or the service's form parser would change in a file name:
# the encoder percent-encodes '"', CR and LF; parsers drop everything up to a backslash
# when the name looks like a Windows path; other control characters do not survive a
# header on every gateway.
_UNSENDABLE = {'"': "a double quote", "\\": "a backslash"}


def unsendable_reason(file_name: str) -> str | None:
    """Why a file name would not reach the service exactly as written, or None."""
    for character in file_name:
        if character in _UNSENDABLE:
            return f"it contains {_UNSENDABLE[character]}"
        if ord(character) < 0x20 or ord(character) == 0x7F:
            return f"it contains the control character {character!r}"
    try:
        file_name.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid UTF-8"
    return None


def check_file_name(file_name: str) -> None:
    """Refuses (EINVAL, a ValueError) a name the upload would change, before any request:
    a name that round-trips is what makes an upload findable, so sent at most once."""
    reason = unsendable_reason(file_name)
    if reason is not None:
        operation = f"upload {file_name!r}"
        raise InvalidRequestError(
            errno.EINVAL,
            f"{operation}: the name cannot be sent to the service exactly as written "
            f"({reason}); rename it",
            detail=reason,
            operation=operation,
        )


def content_type_for(file_name: str) -> str:
    return AUDIO_TYPES.get(Path(file_name).suffix.lower(), "application/octet-stream")


class _Window:
    """`size` bytes of a file from `start`: what MultipartEncoder reads (`read` and `len`)."""

    def __init__(
        self, handle: IO[bytes], start: int, size: int, progress: Progress | None = None
    ) -> None:
        self._handle = handle
        self._remaining = size
        self._sent = 0
        self._progress = progress
        handle.seek(start)

    @property
    def len(self) -> int:
        return self._remaining

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._handle.read(wanted)
        self._remaining -= len(data)
        self._sent += len(data)
        if self._progress is not None and data:
            self._progress(self._sent)
        if not data:
            self._remaining = 0  # the file shrank under us; the length check will fail loudly
        return data


class StreamingBody:
    """An iterable request body with a known length, read from the encoder in big chunks."""

    def __init__(self, encoder: MultipartEncoder, chunk_size: int = CHUNK_SIZE) -> None:
        self._encoder = encoder
        self._chunk_size = chunk_size

    def __len__(self) -> int:
        return int(self._encoder.len)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self._encoder.read(self._chunk_size)
            if not chunk:
                return
            yield chunk


class UploadSource:
    """The bytes of one upload, readable again from the start for every attempt.

    A path is opened once; a seekable file object is read from its current position; anything
    else (a pipe, a socket) is first spooled to a temporary file on disk, never into memory.
    """

    def __init__(
        self, source: UploadInput, file_name: str | None = None, progress: Progress | None = None
    ) -> None:
        self._source = source
        self._progress = progress
        if isinstance(source, str | os.PathLike):
            self.file_name = file_name or Path(os.fspath(source)).name
        else:
            name = getattr(source, "name", None)
            default = Path(name).name if isinstance(name, str) else "upload"
            self.file_name = file_name or default
        check_file_name(self.file_name)
        self.content_type = content_type_for(self.file_name)
        self.size = 0
        self._handle: IO[bytes] | None = None
        self._start = 0

    @contextmanager
    def opened(self) -> Iterator[UploadSource]:
        """Opens the source for the duration of the upload (with its retries)."""
        if isinstance(self._source, str | os.PathLike):
            with open(self._source, "rb") as opened:
                self._use(opened, 0)
                yield self
            return
        handle: IO[bytes] = self._source
        if _seekable(handle):
            self._use(handle, handle.tell())
            yield self
            return
        with tempfile.TemporaryFile(prefix="voicefs-upload-") as spool:
            shutil.copyfileobj(handle, spool, CHUNK_SIZE)
            self._use(spool, 0)
            yield self

    def _use(self, handle: IO[bytes], start: int) -> None:
        self._handle = handle
        self._start = start
        handle.seek(0, io.SEEK_END)
        self.size = handle.tell() - start
        handle.seek(start)

    def window(self) -> _Window:
        """A fresh reader over the whole upload (a retry starts from the beginning)."""
        if self._handle is None:
            raise RuntimeError("UploadSource.window() outside opened()")
        return _Window(self._handle, self._start, self.size, self._progress)


def _seekable(handle: IO[bytes]) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def multipart_body(
    fields: Mapping[str, str | None], file_field: str, source: UploadSource
) -> tuple[Any, dict[str, str]]:
    """(body, headers) of a multipart form with text `fields` and the file as `file_field`."""
    parts: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    parts[file_field] = (source.file_name, source.window(), source.content_type)
    encoder = MultipartEncoder(fields=parts)
    return StreamingBody(encoder), {"Content-Type": encoder.content_type}
