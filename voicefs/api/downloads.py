"""Streaming downloads with HTTP ranges, resumed where they broke off.

A range is asked with `Range: bytes=a-b`; a server that ignores it and answers 200 gets the
prefix skipped and the tail cut, so callers always receive exactly [start, end). A connection
dropped mid-body resumes from the last byte received, a bounded number of times.
"""

from __future__ import annotations

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
    operation = operation or f"download {url}"
    position = start
    resumes = 0
    while end is None or position < end:
        headers = {"Accept-Encoding": "identity"}
        if position > 0 or end is not None:
            headers["Range"] = range_header(position, end)
        try:
            response = transport.request(
                "GET", url, operation=operation, headers=headers, stream=True, kind=kind
            )
        except InvalidRequestError as exc:
            if exc.status == 416:  # the range starts at or past the end of the file
                return
            raise
        try:
            skip = _bytes_to_skip(response, position)
            for chunk in response.iter_content(chunk_size):
                if skip:
                    if len(chunk) <= skip:
                        skip -= len(chunk)
                        continue
                    chunk = chunk[skip:]
                    skip = 0
                if end is not None and position + len(chunk) >= end:
                    yield chunk[: end - position]
                    return
                position += len(chunk)
                yield chunk
            return
        except _BODY_ERRORS as exc:
            resumes += 1
            if resumes > transport.max_retries:
                raise unreachable(operation, exc) from exc
            transport.sleep_backoff(resumes)
        finally:
            response.close()


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
