"""Names the drive creates (CONTRACT §3): at most 255 bytes (ENAMETOOLONG), no control
characters (EINVAL), each refused before anything is sent, for uploads, directories, renames
and text-to-speech; and a name such as `..wav` is audio like any name ending in `.wav`."""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import fresh_cat, fresh_names
from tests.fs.helpers import (
    FOLDER,
    PROJECT,
    WRITERS,
    Writer,
    by_put,
    counted,
    folder_id,
    raises_errno,
    upload,
)
from voicefs.filesystem import VoiceFileSystem
from voicefs.tree.errors import printable

LONGEST = "x" * 251 + ".wav"  # 255 bytes
TOO_LONG = "x" * 252 + ".wav"  # 256 bytes
TOO_LONG_UTF8 = "é" * 127 + ".wav"  # 131 characters, 258 bytes
CONTROLS = ["tab\there", "new\nline", "esc\x1b[31mred", "nul\x00", "del\x7f", "csi\x9b31m"]


def assert_nothing_sent(requests: Counter[str], write: Writer) -> None:
    """No request at all; for `put`, only the reads fsspec's `put` makes itself (is the
    target a directory?) before it calls `put_file`."""
    sent = [r for r in requests if write is not by_put or not r.startswith("GET ")]
    assert sent == [], requests


def originals(api: Api, fs: VoiceFileSystem) -> list[str]:
    return sorted(r["file_name"] for r in api.recordings(folder_id(fs)) if r["type"] == "original")


def projects(api: Api) -> list[str]:
    return sorted(p["name"] for p in api.ok("GET", "/api/projects", params={"limit": 100})["list"])


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("name", ["..wav", "...wav", "..flac"])
def test_a_name_of_dots_and_an_audio_extension_uploads(
    fs: VoiceFileSystem,
    api: Api,
    account: Account,
    folder: str,
    tmp_path: Path,
    write: Writer,
    name: str,
) -> None:
    data = tone(name.rsplit(".", 1)[1], seconds=0.3)
    write(fs, f"{FOLDER}/{name}", data, tmp_path)
    assert originals(api, fs) == [name]
    assert name in fresh_names(account)
    assert fresh_cat(account, f"{FOLDER}/{name}") == data


def test_a_recording_relabelled_to_dots_keeps_its_extension(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    take = upload(api, folder_id(fs), "take.wav")
    fs.mv(f"{FOLDER}/take.wav", f"{FOLDER}/..wav")
    assert api.ok("GET", f"/api/recordings/{take['id']}")["label"] == "."
    assert "..wav" in fresh_names(account)


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("name", [TOO_LONG, TOO_LONG_UTF8])
def test_a_name_over_255_bytes_is_refused_before_anything_is_written(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    folder: str,
    tmp_path: Path,
    write: Writer,
    name: str,
) -> None:
    path = f"{FOLDER}/{name}"
    with counted(emulator) as requests, raises_errno(OSError, errno.ENAMETOOLONG, path):
        write(fs, path, tone("wav", seconds=0.3), tmp_path)
    assert_nothing_sent(requests, write)
    assert originals(api, fs) == []


def test_a_name_of_255_bytes_uploads(fs: VoiceFileSystem, api: Api, folder: str) -> None:
    fs.pipe(f"{FOLDER}/{LONGEST}", tone("wav", seconds=0.3))
    assert originals(api, fs) == [LONGEST]


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("stem", CONTROLS)
def test_an_upload_named_with_a_control_character_is_refused_before_anything_is_written(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    folder: str,
    tmp_path: Path,
    write: Writer,
    stem: str,
) -> None:
    path = f"{FOLDER}/{stem}.wav"
    with counted(emulator) as requests, raises_errno(ValueError, errno.EINVAL, printable(path)):
        write(fs, path, tone("wav", seconds=0.3), tmp_path)
    assert_nothing_sent(requests, write)
    assert originals(api, fs) == []


@pytest.mark.parametrize("stem", CONTROLS)
def test_a_project_or_folder_named_with_a_control_character_is_refused(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, stem: str
) -> None:
    """Neither the directory nor, for a nested path, its parent is made."""
    cases: list[tuple[str, Callable[[], Any]]] = [
        (stem, lambda: fs.mkdir(stem)),
        (f"New/{stem}", lambda: fs.makedirs(f"New/{stem}")),
        (stem, lambda: fs.makedirs(f"{stem}/Takes")),  # the parent it would make is named
    ]
    for shown, make in cases:
        with (
            counted(emulator) as requests,
            raises_errno(ValueError, errno.EINVAL, printable(shown)),
        ):
            make()
        assert not any(route.startswith("POST") for route in requests), requests
    assert projects(api) == []


def test_an_existing_projects_folder_named_with_a_control_character_is_refused(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess
) -> None:
    fs.mkdir(PROJECT)
    with counted(emulator) as requests, raises_errno(ValueError, errno.EINVAL, PROJECT):
        fs.mkdir(f"{PROJECT}/a\x1b[2Jb")
    assert sum(requests.values()) == 0, requests
    project = fs.info(PROJECT)["id"]
    assert api.ok("GET", "/api/folders", params={"project_id": project})["list"] == []


@pytest.mark.parametrize(
    ("new_name", "code"),
    [
        ("esc\x1b[31m.wav", errno.EINVAL),
        ("tab\t.wav", errno.EINVAL),
        (TOO_LONG, errno.ENAMETOOLONG),
    ],
)
def test_a_rename_to_a_bad_name_is_refused_before_anything_is_sent(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    folder: str,
    new_name: str,
    code: int,
) -> None:
    take = upload(api, folder_id(fs), "take.wav")
    for source, target in [
        (f"{FOLDER}/take.wav", f"{FOLDER}/{new_name}"),
        (FOLDER, f"{PROJECT}/{new_name}"),
        (PROJECT, new_name),
    ]:
        with counted(emulator) as requests, raises_errno(OSError, code, printable(target)):
            fs.mv(source, target)
        assert sum(requests.values()) == 0, requests
    assert not api.ok("GET", f"/api/recordings/{take['id']}").get("label")
    assert projects(api) == [PROJECT]


def test_text_to_speech_named_with_a_control_character_is_refused(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, folder: str
) -> None:
    with counted(emulator) as requests, pytest.raises(ValueError) as caught:
        fs.tts(FOLDER, "hello\x1b[5m", "Hello there")
    assert caught.value.errno == errno.EINVAL  # type: ignore[attr-defined]
    assert "hello\\x1b[5m" in str(caught.value)
    assert sum(requests.values()) == 0, requests
    assert originals(api, fs) == []


def test_a_refused_name_is_logged_escaped(fs: VoiceFileSystem, folder: str) -> None:
    """errors.log names the path with its control characters escaped: reading the log
    cannot colour or clear a terminal."""
    with pytest.raises(ValueError):
        fs.pipe(f"{FOLDER}/red\x1b[31m.wav", tone("wav", seconds=0.3))
    log = fs.cat_file(".voicefs/errors.log").decode()
    assert "\x1b" not in log
    assert f"EINVAL {FOLDER}/red\\x1b[31m.wav: " in log, log
