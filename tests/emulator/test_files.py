"""Audio downloads from a recording's `url` (ranges, HEAD, access) and persistence on disk."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator.helpers import TIMEOUT, Api, assert_detail, tone
from tests.emulator_process import Account, EmulatorProcess, running_emulator

CONTENT_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "mp3": "audio/mpeg"}


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


@pytest.fixture
def uploaded(api: Api) -> tuple[dict[str, Any], bytes]:
    """A wav recording and the exact bytes that were uploaded."""
    data = tone("wav")
    response = api.upload(api.new_folder()["id"], data, "tone.wav")
    assert response.status_code == 200, response.text
    return response.json(), data


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_download_returns_the_uploaded_bytes(api: Api, ext: str) -> None:
    recording = api.original(api.new_folder()["id"], ext)
    response = api.download(recording)
    assert response.status_code == 200
    assert response.content == tone(ext)
    assert response.headers["Content-Length"] == str(recording["size"])
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == CONTENT_TYPES[ext]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=10-99", 10, 99), ("bytes=100-", 100, None), ("bytes=-50", -50, None)],
    ids=["closed", "open-ended", "suffix"],
)
def test_range_request_returns_exactly_those_bytes(
    api: Api, uploaded: tuple[dict[str, Any], bytes], header: str, first: int, last: int | None
) -> None:
    recording, data = uploaded
    size = len(data)
    start = first % size
    end = size - 1 if last is None else last
    response = api.download(recording, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.content == data[start : end + 1]


def test_range_beyond_the_end_is_416(api: Api, uploaded: tuple[dict[str, Any], bytes]) -> None:
    recording, data = uploaded
    for header in [f"bytes={len(data)}-", f"bytes={len(data) + 10}-{len(data) + 20}"]:
        response = api.download(recording, headers={"Range": header})
        assert response.status_code == 416
        assert response.headers["Content-Range"] == f"bytes */{len(data)}"


def test_head_describes_the_file_without_a_body(
    api: Api, uploaded: tuple[dict[str, Any], bytes]
) -> None:
    recording, data = uploaded
    response = api.request("HEAD", recording["url"])
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Type"] == "audio/wav"
    assert response.content == b""


def test_download_needs_the_owners_credentials(
    emulator: EmulatorProcess, api: Api, uploaded: tuple[dict[str, Any], bytes]
) -> None:
    recording, _ = uploaded
    anonymous = requests.get(emulator.url + recording["url"], timeout=TIMEOUT)
    assert assert_detail(anonymous, 401)
    stranger = Api.of(emulator.new_account())
    assert assert_detail(stranger.download(recording), 404)
    assert assert_detail(stranger.download(recording, headers={"Range": "bytes=0-9"}), 404)


def test_unknown_file_is_404(api: Api, uploaded: tuple[dict[str, Any], bytes]) -> None:
    recording, _ = uploaded
    for url in [
        recording["url"].replace(".wav", ".mp3"),
        f"/api/files/{api.user_id}/../{api.user_id}/missing.wav",
        "/api/no-such-endpoint",
    ]:
        assert_detail(api.get(url), 404)


def test_library_and_audio_survive_a_restart(tmp_path: Path) -> None:
    start = contextlib.contextmanager(running_emulator)
    with start(data_dir=tmp_path) as first:
        account = first.new_account()
        api = Api.of(account)
        project = api.project("Persistent")
        folder = api.folder(project["id"], "Kept")
        recording = api.original(folder["id"], "flac", label="Saved take")
        api.ok("POST", "/api/notes", json={"recording_id": recording["id"], "text": "remember"})
        api.ok("PATCH", f"/api/recordings/{recording['id']}", json={"starred": True})

    with start(data_dir=tmp_path) as second:
        api = Api.of(account)
        api.url = second.url
        (kept_project,) = api.ok("GET", "/api/projects")["list"]
        assert (kept_project["id"], kept_project["name"]) == (project["id"], "Persistent")
        assert api.ok("GET", f"/api/folders/{folder['id']}") == folder
        (kept,) = api.recordings(folder["id"])
        assert kept["label"] == "Saved take"
        assert kept["starred"] is True
        assert kept["note"]["text"] == "remember"
        assert api.download(kept).content == tone("flac")
        assert api.ok("POST", "/api/auth")["email"] == account.email
