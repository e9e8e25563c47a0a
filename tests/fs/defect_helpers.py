"""Helpers for the tests of the filesystem's defects: what a folder holds (on the service, and
through a fresh filesystem with its own cache), which requests changed something, real WAV
bytes and their decoding, and a progress callback that records what it was told."""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np
import soundfile as sf
from fsspec.callbacks import Callback

from tests.emulator.helpers import Api
from tests.emulator_process import Account
from tests.fs.helpers import FOLDER, make_fs
from voicefs.filesystem import VoiceFileSystem

ORDER_ROUTE = "POST /api/v2/orders"
DELETE_ROUTE = "DELETE /api/recordings/{recording_id}"
EXPORT_ROUTE = "GET /api/projects/{project_id}/export"
LISTING_ROUTES = (
    "GET /api/projects",
    "GET /api/folders",
    "GET /api/recordings",
    "GET /api/recordings/conversions",
)
# an id of the service (folder, project, recording): internal, never what a user typed
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def names_in(fs: VoiceFileSystem, path: str = FOLDER) -> list[str]:
    """The entry names of a directory, as `ls` shows them (a list: duplicates would show)."""
    return [posixpath.basename(name) for name in fs.ls(path, detail=False)]


def fresh_names(account: Account, path: str = FOLDER) -> list[str]:
    """The entry names of a directory seen by a new filesystem: nothing cached, no stale view."""
    return names_in(make_fs(account), path)


def fresh_cat(account: Account, path: str) -> bytes:
    """A file's content read by a new filesystem (nothing cached)."""
    content: bytes = make_fs(account).cat_file(path)
    return content


def file_names(api: Api, folder_id: str) -> list[str]:
    """The `file_name`s of a folder's originals on the service, sorted (repeats kept)."""
    return sorted(r["file_name"] for r in api.recordings(folder_id) if r["type"] == "original")


def conversions(api: Api, folder_id: str) -> list[dict[str, Any]]:
    return [r for r in api.recordings(folder_id) if r["type"] != "original"]


def writes(counts: Mapping[str, int]) -> dict[str, int]:
    """The requests that can change something on the service (all but GETs)."""
    return {route: n for route, n in counts.items() if not route.startswith("GET ") and n}


def listings(counts: Mapping[str, int]) -> dict[str, int]:
    return {route: counts[route] for route in LISTING_ROUTES if counts.get(route)}


@contextmanager
def closed_on_failure(handle: Any) -> Iterator[Any]:
    """If the block fails, throws the file away at once (discard, then close, their errors
    suppressed) rather than leaving it to the garbage collector: an unclosed write file sends
    its content from `__del__` at any later moment, on CPython 3.11 even in the middle of
    pytest's own source parsing, which then fails ("AST constructor recursion depth
    mismatch") and ends the whole run."""
    try:
        yield handle
    except BaseException:
        with suppress(Exception):
            handle.discard()
        with suppress(Exception):
            handle.close()
        raise


# ------------------------------------------------------------------------------ audio

RATE = 16_000
SIGNAL = (0.4 * np.sin(2 * np.pi * 330.0 * np.arange(RATE // 2) / RATE)).astype(np.float64)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    """What soundfile writes for the samples into a seekable local buffer (16-bit WAV)."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def decoded(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of audio bytes, decoded by libsndfile."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float64")
    return samples, int(rate)


# --------------------------------------------------------------------------- progress


class Progress(Callback):
    """An fsspec callback that keeps every `set_size` and `relative_update` it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int | None] = []
        self.steps: list[int] = []

    def set_size(self, size: int | None) -> None:
        self.sizes.append(size)
        super().set_size(size)

    def relative_update(self, inc: int = 1) -> None:
        self.steps.append(inc)
        super().relative_update(inc)
