"""Helpers for the filesystem's tests: request counting, error checks, and setting up
originals and conversions through the service's HTTP API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from voicefs.api.records import parse_time
from voicefs.filesystem import VoiceFileSystem

PROJECT = "Project"
FOLDER = "Project/Takes"
DOWNLOAD = "GET /api/{file_url:path}"  # the route of recordings' audio
UPLOAD = "POST /api/recordings"
AUDIO = ("wav", "ogg", "mp3", "flac")


Writer = Callable[[VoiceFileSystem, str, bytes, Path], None]
"""One of the ways a script writes a file through fsspec: (fs, path, bytes, a scratch dir)."""


def by_pipe(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    fs.pipe(path, data)


def by_put(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    local = tmp / "local-copy"
    local.write_bytes(data)
    fs.put(str(local), path)


def by_open(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    with fs.open(path, "wb") as handle:
        for start in range(0, len(data), 4096):  # in pieces, as a writer's buffer sends it
            handle.write(data[start : start + 4096])


WRITERS = [by_pipe, by_put, by_open]


def make_fs(account: Account, **options: Any) -> VoiceFileSystem:
    """A filesystem of the account, never shared with another test (no instance cache);
    `options` add to or replace the defaults (e.g. `api_key`, `max_retries`)."""
    defaults = {"url": account.url, "api_key": account.api_key, "rate_limit": False}
    return VoiceFileSystem(**{**defaults, **options}, skip_instance_cache=True)


@contextmanager
def counted(emulator: EmulatorProcess) -> Iterator[Counter[str]]:
    """The requests the service received during the block, by route template."""
    counts: Counter[str] = Counter()
    emulator.reset_request_counts()
    yield counts
    counts.update(emulator.request_counts())


@contextmanager
def raises_errno(
    kind: type[BaseException], code: int, path: str
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expects `kind` with errno `code` whose message names `path`."""
    with pytest.raises(kind) as caught:
        yield caught
    error = caught.value
    assert isinstance(error, OSError), repr(error)
    assert error.errno == code, repr(error)
    assert path in str(error), repr(error)


def carries_detail(error: BaseException) -> None:
    """The service's own reason (`detail`) is part of the message."""
    detail = getattr(error, "detail", None)
    assert detail and detail in str(error), repr(error)


# ------------------------------------------------------------------ the service's side


def time_of(record: dict[str, Any], field: str) -> datetime:
    parsed = parse_time(record[field])
    assert parsed is not None, record
    return parsed


def folder_id(fs: VoiceFileSystem, path: str = FOLDER) -> str:
    found: str = fs.info(path)["id"]
    return found


def upload(api: Api, folder: str, file_name: str, ext: str = "wav", **form: str) -> dict[str, Any]:
    """An original uploaded through the HTTP API under `file_name` (1 s of tone)."""
    response = api.upload(folder, tone(ext), file_name, **form)
    assert response.status_code == 200, response.text
    recording: dict[str, Any] = response.json()
    return recording


def recording(api: Api, recording_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.ok("GET", f"/api/recordings/{recording_id}")
    return found


def is_gone(api: Api, path: str) -> bool:
    return api.get(path).status_code == 404


def order(api: Api, original_id: str, *voices: str, label: str | None = None) -> list[str]:
    """Orders one conversion per voice (POST /api/v2/orders); returns the conversions' ids."""
    catalogue = api.ok("GET", "/api/v2/voices", params={"limit": 100})["list"]
    ids = {voice["name"]: voice["id"] for voice in catalogue}
    conversions: list[dict[str, Any]] = [{"voice_id": ids[name]} for name in voices]
    if label is not None:
        for conversion in conversions:
            conversion["label"] = label
    body = {"original_id": original_id, "conversions": conversions}
    return [placed["conversion_id"] for placed in api.ok("POST", "/api/v2/orders", json=body)]


def settled(api: Api, recording_id: str) -> dict[str, Any]:
    """The recording once it is no longer processing (conversions take 0.3 s)."""

    def finished() -> dict[str, Any] | None:
        found = recording(api, recording_id)
        return None if found["state"] == "processing" else found

    result: dict[str, Any] = wait_until(finished, timeout=30)
    return result


def convert(api: Api, original_id: str, *voices: str, label: str | None = None) -> list[str]:
    """Orders conversions and waits until each one is done or failed."""
    ids = order(api, original_id, *voices, label=label)
    for conversion_id in ids:
        settled(api, conversion_id)
    return ids


def star(api: Api, recording_id: str, starred: bool = True) -> None:
    api.ok("PATCH", f"/api/recordings/{recording_id}", json={"starred": starred})


def note(api: Api, recording_id: str, text: str) -> None:
    api.ok("POST", "/api/notes", json={"recording_id": recording_id, "text": text})


def relabel(api: Api, recording_id: str, label: str) -> None:
    api.ok("PATCH", f"/api/recordings/{recording_id}", json={"label": label})
