"""Streaming downloads with HTTP ranges, resumed where they broke off.

A range is asked with `Range: bytes=a-b`; a server that ignores it and answers 200 gets the
prefix skipped and the tail cut, so callers always receive exactly [start, end). A connection
dropped mid-body resumes from the last byte received, a bounded number of times.

`read_range` gives the bytes as one object. When the response gives its length (and no content
encoding), the socket writes straight into a buffer of the final size, which then becomes the
result. Chunks joined into one object cost a second copy after the last byte arrived and a
second set of fresh pages; urllib3's own `readinto` copies from a temporary between reads and
holds the socket up while it touches the destination's fresh pages. Read straight, a whole-file
read costs what a bare streamed GET costs plus the kernel's first touch of the result's pages.
"""

from __future__ import annotations

import http.client
import io
import re
from collections.abc import Iterator
from email.message import Message
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions

from voicefs.api.errors import InvalidRequestError, unreachable
from voicefs.api.limiter import FAST

if TYPE_CHECKING:
    from voicefs.api.transport import Transport

CHUNK_SIZE = 1 << 20
_PIECE = 1 << 16  # urllib3's `readinto` reads a temporary this large, which stays in cache
_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    urllib3.exceptions.HTTPError,
)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def range_header(start: int, end: int | None) -> str:
    """`bytes=start-(end-1)`: `end` is exclusive like Python slices."""
    return f"bytes={start}-{'' if end is None else end - 1}"


class StreamedFile:
    """An open response body: its size and file name, and its bytes as chunks."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        length = response.headers.get("Content-Length")
        self.size: int | None = int(length) if length and length.isdigit() else None
        self.content_type = response.headers.get("Content-Type")
        self.filename = filename_from_disposition(response.headers.get("Content-Disposition"))

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        try:
            yield from self.response.iter_content(chunk_size)
        finally:
            self.response.close()

    def read(self) -> bytes:
        return b"".join(self.iter_chunks())

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> StreamedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def filename_from_disposition(value: str | None) -> str | None:
    """The filename of a Content-Disposition header (RFC 6266, `filename*` preferred)."""
    if not value:
        return None
    message = Message()
    message["Content-Disposition"] = value
    name = message.get_filename()
    return str(name) if name else None


def body_length(response: requests.Response) -> int | None:
    """The body's length in bytes as sent; None when unknown or content-encoded (then only
    `iter_content` gives the decoded bytes)."""
    length = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if not length.isdigit() or encoding not in ("", "identity"):
        return None
    return int(length)


def iter_range(
    transport: Transport,
    url: str,
    start: int = 0,
    end: int | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    operation: str | None = None,
    kind: str = FAST,
) -> Iterator[bytes]:
    """The bytes [start, end) of `url` as chunks; resumes after a dropped connection."""
    download = _Download(transport, url, start, end, operation, kind)
    while (opened := download.open()) is not None:
        response, skip = opened
        try:
            for chunk in _cut(response.iter_content(chunk_size), skip, download.left()):
                download.position += len(chunk)
                yield chunk
            return
        except _BODY_ERRORS as exc:
            download.dropped(exc)
        finally:
            response.close()


def read_range(
    transport: Transport,
    url: str,
    start: int = 0,
    end: int | None = None,
    *,
    operation: str | None = None,
    kind: str = FAST,
) -> bytes:
    """The bytes [start, end) of `url` in one object; resumes after a dropped connection."""
    download = _Download(transport, url, start, end, operation, kind)
    parts: list[bytes] = []  # one per response: more than one only after a drop
    while (opened := download.open()) is not None:
        response, skip = opened
        buffer: _Buffer | None = None
        try:
            length = body_length(response)
            if length is None:  # nothing to size a buffer with: chunks, joined at the end
                for chunk in _cut(response.iter_content(CHUNK_SIZE), skip, download.left()):
                    download.position += len(chunk)
                    parts.append(chunk)
            else:
                body = _Body(response, length)
                body.discard(skip)
                left = download.left()
                size = max(0, length - skip)
                buffer = _Buffer(size if left is None else min(size, left))
                buffer.receive(body)
                body.done()
            break
        except _BODY_ERRORS as exc:
            download.dropped(exc)
        finally:
            response.close()
            if buffer is not None:
                download.position += buffer.filled
                parts.append(buffer.value())
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _Download:
    """One download of [start, end): where it is, its next request, and its resumes."""

    def __init__(
        self,
        transport: Transport,
        url: str,
        start: int,
        end: int | None,
        operation: str | None,
        kind: str,
    ) -> None:
        self.transport = transport
        self.url = url
        self.position = start
        self.end = end
        self.operation = operation or f"download {url}"
        self.kind = kind
        self.resumes = 0

    def left(self) -> int | None:
        """Bytes still wanted; None up to the end of the file."""
        return None if self.end is None else self.end - self.position

    def open(self) -> tuple[requests.Response, int] | None:
        """A streamed GET from `position` and how many of its bytes precede `position`; None
        when nothing is left. A whole file is asked without Range."""
        if self.end is not None and self.position >= self.end:
            return None
        headers = {"Accept-Encoding": "identity"}
        if self.position > 0 or self.end is not None:
            headers["Range"] = range_header(self.position, self.end)
        try:
            response = self.transport.request(
                "GET",
                self.url,
                operation=self.operation,
                headers=headers,
                stream=True,
                kind=self.kind,
            )
        except InvalidRequestError as exc:
            if exc.status == 416:  # the range starts at or past the end of the file
                return None
            raise
        try:
            return response, _bytes_to_skip(response, self.position)
        except BaseException:
            response.close()
            raise

    def dropped(self, exc: BaseException) -> None:
        """The body broke off: waits before the next attempt, or gives up with EIO."""
        self.resumes += 1
        if self.resumes > self.transport.max_retries:
            raise unreachable(self.operation, exc) from exc
        self.transport.sleep_backoff(self.resumes)


class _Body:
    """A response body of known length and no content encoding, received into memory the
    caller owns: straight from the http.client response under urllib3's when there is one
    (the socket then writes into that memory), else through urllib3's `readinto`. A body
    that ends before its length raises, as urllib3 does, so the download resumes."""

    def __init__(self, response: requests.Response, length: int) -> None:
        self._raw = response.raw
        self._left = length
        under = getattr(response.raw, "_fp", None)
        plain = isinstance(under, http.client.HTTPResponse) and not under.chunked
        self._direct = under if plain else None

    def readinto(self, view: memoryview) -> int:
        """Up to CHUNK_SIZE bytes of the body into `view`; 0 at its end."""
        if not view or not self._left:
            return 0
        with view[: min(CHUNK_SIZE, self._left)] as piece:
            if self._direct is None:
                with piece[:_PIECE] as small:
                    received = int(self._raw.readinto(small))
            else:
                try:
                    received = self._direct.readinto(piece)
                except (OSError, http.client.HTTPException) as exc:
                    raise urllib3.exceptions.ProtocolError(
                        f"connection broken: {exc!r}", exc
                    ) from exc
        if not received:
            raise urllib3.exceptions.ProtocolError(
                f"connection broken: the body ended {self._left} bytes early"
            )
        self._left -= received
        return received

    def discard(self, count: int) -> None:
        """Reads and drops the first `count` bytes (a 200 to a Range request)."""
        scratch = memoryview(bytearray(min(count, CHUNK_SIZE)))
        while count > 0 and self._left:
            count -= self.readinto(scratch[:count])

    def done(self) -> None:
        """Gives a fully read connection back to the pool, as urllib3 does after its reads;
        one that still has body in it is closed with the response."""
        if self._direct is not None and self._direct.isclosed():
            self._raw.release_conn()


class _Buffer:
    """A bytes object of a known size, received into in place: a BytesIO made from a fresh
    zeroed bytes owns it alone, lends it out writable and hands the same object back
    (CPython; elsewhere, or while a view of it lingers, `getvalue` copies)."""

    def __init__(self, size: int) -> None:
        self._file = io.BytesIO(bytes(size))  # calloc: only the receive touches the pages
        self._view = self._file.getbuffer()
        self.size = size
        self.filled = 0

    def receive(self, body: _Body) -> None:
        """Fills the rest of the buffer from `body`."""
        while self.filled < self.size:
            with self._view[self.filled :] as rest:
                received = body.readinto(rest)
            if not received:
                return
            self.filled += received

    def value(self) -> bytes:
        """The bytes filled so far; the buffer is done with afterwards."""
        self._view.release()
        value = self._file.getvalue()
        return value if self.filled == self.size else value[: self.filled]


def _cut(chunks: Iterator[bytes], skip: int, limit: int | None) -> Iterator[bytes]:
    """`chunks` without their first `skip` bytes and past `limit` bytes."""
    for chunk in chunks:
        if skip:
            if len(chunk) <= skip:
                skip -= len(chunk)
                continue
            chunk = chunk[skip:]
            skip = 0
        if limit is not None and len(chunk) >= limit:
            yield chunk[:limit]
            return
        if limit is not None:
            limit -= len(chunk)
        yield chunk


def _bytes_to_skip(response: requests.Response, position: int) -> int:
    """How much of the body precedes `position`: 0 for a matching 206, all of it for a 200."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        first = int(match.group(1)) if match else position
        if first > position:
            raise unreachable(
                f"GET {response.url}",
                ValueError(f"server sent bytes from {first}, asked from {position}"),
            )
        return position - first
    return position
