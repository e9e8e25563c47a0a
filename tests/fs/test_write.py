"""Writing through fsspec (CONTRACT §3): uploads, directories, deletes and renames, checked
on the service through its HTTP API."""

from __future__ import annotations

import errno
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.fs.helpers import (
    AUDIO,
    FOLDER,
    PROJECT,
    UPLOAD,
    WRITERS,
    Writer,
    carries_detail,
    convert,
    counted,
    folder_id,
    is_gone,
    note,
    raises_errno,
    recording,
    star,
)
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"
TOO_LONG = "x" * 41  # the service allows 40 characters for names and labels


def originals(api: Api, fs: VoiceFileSystem, folder: str = FOLDER) -> dict[str, dict[str, Any]]:
    """The service's originals of a folder by file name."""
    return {
        r["file_name"]: r for r in api.recordings(folder_id(fs, folder)) if r["type"] == "original"
    }


def listed(fs: VoiceFileSystem, path: str) -> set[str]:
    return {posixpath.basename(name) for name in fs.ls(path, detail=False)}


def project_names(api: Api) -> set[str]:
    return {p["name"] for p in api.ok("GET", "/api/projects")["list"]}


def folder_names(api: Api, fs: VoiceFileSystem, project: str = PROJECT) -> set[str]:
    found = api.ok("GET", "/api/folders", params={"project_id": fs.info(project)["id"]})["list"]
    return {f["name"] for f in found}


@pytest.fixture
def take(fs: VoiceFileSystem, folder: str) -> str:
    """The id of `Project/Takes/take.wav`, written through the filesystem."""
    fs.pipe(TAKE, tone("wav"))
    found: str = fs.info(TAKE)["id"]
    return found


# ------------------------------------------------------------------------- uploads


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("ext", AUDIO)
def test_writing_audio_uploads_an_original_under_the_written_name(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path, write: Writer, ext: str
) -> None:
    name = f"Take 1 (final), v2.{ext}"
    data = tone(ext)
    assert listed(fs, FOLDER) == {"recordings.csv"}  # the listing is cached now
    write(fs, f"{FOLDER}/{name}", data, tmp_path)
    assert {name, f"{name}.conversions"} <= listed(fs, FOLDER)  # no waiting for the cache
    stored = originals(api, fs)[name]
    assert stored.get("label") is None and stored["size"] == len(data)
    assert fs.cat(f"{FOLDER}/{name}") == data


NOT_AUDIO_OF_ITS_EXTENSION = {
    "notes.wav": b"These are my notes, not audio.\n" * 40,
    "flac inside.wav": tone("flac"),
    "wav inside.mp3": tone("wav"),
    "ogg inside.flac": tone("ogg"),
    "empty.ogg": b"",
}


@pytest.mark.parametrize("write", WRITERS)
def test_content_that_is_not_audio_of_its_extension_is_refused_before_sending(
    fs: VoiceFileSystem, emulator: EmulatorProcess, folder: str, tmp_path: Path, write: Writer
) -> None:
    with counted(emulator) as requests:
        for name, content in NOT_AUDIO_OF_ITS_EXTENSION.items():
            path = f"{FOLDER}/{name}"
            with raises_errno(ValueError, errno.EINVAL, path):
                write(fs, path, content, tmp_path)
    assert requests[UPLOAD] == 0, requests
    assert listed(fs, FOLDER) == {"recordings.csv"}


def test_the_service_refusing_the_audio_is_reported_the_same_way(
    fs: VoiceFileSystem, emulator: EmulatorProcess, folder: str
) -> None:
    path = f"{FOLDER}/broken.wav"
    looks_like_wav = b"RIFF\x24\x00\x00\x00WAVE" + b"but nothing after that" * 10
    with counted(emulator) as requests, raises_errno(ValueError, errno.EINVAL, path) as caught:
        fs.pipe(path, looks_like_wav)
    carries_detail(caught.value)
    assert requests[UPLOAD] == 1, requests  # this time only the service could tell
    assert listed(fs, FOLDER) == {"recordings.csv"}


@pytest.mark.parametrize("write", WRITERS)
def test_an_existing_recording_is_never_overwritten(
    fs: VoiceFileSystem, api: Api, take: str, tmp_path: Path, write: Writer
) -> None:
    with raises_errno(PermissionError, errno.EPERM, TAKE):
        write(fs, TAKE, tone("wav", seconds=0.5), tmp_path)
    assert list(originals(api, fs)) == ["take.wav"]
    assert fs.cat(TAKE) == tone("wav")


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        (f"{FOLDER}/notes.txt", ".wav"),
        (f"{FOLDER}/take", ".wav"),
        ("loose.wav", "project"),
        (f"{PROJECT}/loose.wav", "folder"),
        (f"{FOLDER}/take.wav.conversions/Bob.wav", "order.txt"),
        (f"{FOLDER}/take.wav.conversions/notes.txt", "order.txt"),
        (f"{FOLDER}/recordings.csv", "read-only"),
    ],
)
def test_a_name_that_means_nothing_here_is_refused(
    fs: VoiceFileSystem, emulator: EmulatorProcess, take: str, path: str, hint: str
) -> None:
    """Refused at open, before anything is sent, saying what can be written there."""
    with counted(emulator) as requests:
        with raises_errno(PermissionError, errno.EPERM, path) as error:
            fs.open(path, "wb")
        assert hint in str(error.value)
        with raises_errno(PermissionError, errno.EPERM, path):
            fs.pipe(path, tone("wav"))
    assert requests[UPLOAD] == 0, requests
    assert listed(fs, FOLDER) == {"take.wav", "take.wav.conversions", "recordings.csv"}


# --------------------------------------------------------------------- directories


def test_mkdir_makes_projects_at_the_root_and_folders_in_projects(
    fs: VoiceFileSystem, api: Api
) -> None:
    fs.mkdir("Audiobook")
    fs.mkdir("Audiobook/Chapter 1")
    assert "Audiobook" in project_names(api)
    assert folder_names(api, fs, "Audiobook") == {"Chapter 1"}
    assert fs.isdir("Audiobook/Chapter 1")
    fs.mkdir("AC／DC")  # shown "/" is written back
    assert "AC/DC" in project_names(api)
    assert fs.isdir("AC／DC")


@pytest.mark.parametrize(
    "path",
    [
        f"{FOLDER}/Sub",
        f"{FOLDER}/take.wav.conversions/Sub",
        ".voicefs/Sub",
        "New project/New folder/Sub",  # its parents are not made either
    ],
)
def test_mkdir_anywhere_else_is_refused(
    fs: VoiceFileSystem, api: Api, take: str, path: str
) -> None:
    with raises_errno(PermissionError, errno.EPERM, path):
        fs.mkdir(path)
    assert not fs.exists(path)
    assert project_names(api) == {PROJECT}
    assert folder_names(api, fs) == {"Takes"}


def test_makedirs_makes_a_project_and_its_folder(fs: VoiceFileSystem, api: Api) -> None:
    fs.makedirs("Podcast/Episode 1", exist_ok=True)
    fs.makedirs("Podcast/Episode 1", exist_ok=True)
    assert "Podcast" in project_names(api)
    assert folder_names(api, fs, "Podcast") == {"Episode 1"}
    with raises_errno(FileExistsError, errno.EEXIST, "Podcast/Episode 1"):
        fs.makedirs("Podcast/Episode 1")


@pytest.mark.parametrize("path", [PROJECT, FOLDER])
def test_mkdir_of_an_existing_name_fails(fs: VoiceFileSystem, folder: str, path: str) -> None:
    with raises_errno(FileExistsError, errno.EEXIST, path):
        fs.mkdir(path)


def test_rmdir_removes_empty_folders_and_projects(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    project_id = fs.info(PROJECT)["id"]
    takes = folder_id(fs)
    fs.rmdir(FOLDER)
    assert is_gone(api, f"/api/folders/{takes}")
    assert listed(fs, PROJECT) == {"folders.csv"}
    fs.rmdir(PROJECT)
    assert project_id not in {p["id"] for p in api.ok("GET", "/api/projects")["list"]}
    assert not fs.exists(PROJECT)


@pytest.mark.parametrize("path", [PROJECT, FOLDER])
def test_rmdir_of_a_directory_with_content_fails(
    fs: VoiceFileSystem, api: Api, take: str, path: str
) -> None:
    with raises_errno(OSError, errno.ENOTEMPTY, path):
        fs.rmdir(path)
    assert recording(api, take)["state"] == "done"


# ------------------------------------------------------------------------- deletes


def test_rm_of_an_original_deletes_it_with_its_conversions(
    fs: VoiceFileSystem, api: Api, take: str
) -> None:
    conversions = convert(api, take, "Alice", "Bob")
    fs.invalidate_cache()
    assert fs.exists(f"{TAKE}.conversions/Alice.wav")
    fs.rm(TAKE)
    assert all(is_gone(api, f"/api/recordings/{r}") for r in [take, *conversions])
    assert listed(fs, FOLDER) == {"recordings.csv"}


def test_rm_of_a_conversion_keeps_the_original(fs: VoiceFileSystem, api: Api, take: str) -> None:
    alice, bob = convert(api, take, "Alice", "Bob")
    fs.invalidate_cache()
    fs.rm(f"{TAKE}.conversions/Bob.wav")
    assert is_gone(api, f"/api/recordings/{bob}")
    assert recording(api, alice)["state"] == recording(api, take)["state"] == "done"
    assert listed(fs, f"{TAKE}.conversions") == {"Alice.wav", "order.txt", "recordings.csv"}


def test_rm_recursive_removes_a_folder_with_its_recordings(
    fs: VoiceFileSystem, api: Api, take: str
) -> None:
    takes = folder_id(fs)
    fs.rm(FOLDER, recursive=True)
    assert is_gone(api, f"/api/folders/{takes}")
    assert is_gone(api, f"/api/recordings/{take}")
    assert not fs.exists(FOLDER)
    assert listed(fs, PROJECT) == {"folders.csv"}


# ------------------------------------------------------------------------- renames


def test_mv_renames_projects_and_folders(fs: VoiceFileSystem, api: Api, take: str) -> None:
    fs.mv(FOLDER, f"{PROJECT}/Keepers")
    assert folder_names(api, fs) == {"Keepers"}
    fs.mv(PROJECT, "Album")
    assert project_names(api) == {"Album"}
    assert fs.cat("Album/Keepers/take.wav") == tone("wav")
    assert not fs.exists(PROJECT)


def test_mv_relabels_a_recording(fs: VoiceFileSystem, api: Api, take: str) -> None:
    fs.mv(TAKE, f"{FOLDER}/New take.wav")
    assert recording(api, take)["label"] == "New take"
    assert listed(fs, FOLDER) == {"New take.wav", "New take.wav.conversions", "recordings.csv"}
    assert fs.cat(f"{FOLDER}/New take.wav") == tone("wav")
    fs.mv(f"{FOLDER}/New take.wav", f"{FOLDER}/Left／right.wav")  # shown "/" is written back
    assert recording(api, take)["label"] == "Left/right"
    assert fs.exists(f"{FOLDER}/Left／right.wav")


def test_mv_cannot_change_the_extension(fs: VoiceFileSystem, api: Api, take: str) -> None:
    with raises_errno(PermissionError, errno.EPERM, f"{FOLDER}/take.flac"):
        fs.mv(TAKE, f"{FOLDER}/take.flac")
    assert recording(api, take).get("label") is None
    assert fs.exists(TAKE)


@pytest.fixture
def other_folder(fs: VoiceFileSystem, folder: str) -> str:
    fs.mkdir(f"{PROJECT}/Other")
    return f"{PROJECT}/Other"


def test_moving_a_plain_recording_to_another_folder_is_a_cross_device_move(
    fs: VoiceFileSystem, api: Api, take: str, other_folder: str
) -> None:
    with raises_errno(OSError, errno.EXDEV, TAKE):
        fs.mv(TAKE, f"{other_folder}/take.wav")
    assert recording(api, take)["parent_folder_id"] == folder_id(fs)


@pytest.mark.parametrize(
    "attach",
    [
        lambda api, take: convert(api, take, "Alice"),
        lambda api, take: note(api, take, "keep"),
        lambda api, take: star(api, take),
    ],
    ids=["conversions", "note", "star"],
)
def test_a_recording_with_conversions_note_or_star_cannot_leave_its_folder(
    fs: VoiceFileSystem,
    api: Api,
    take: str,
    other_folder: str,
    attach: Callable[[Api, str], Any],
) -> None:
    attach(api, take)
    fs.invalidate_cache()
    with raises_errno(PermissionError, errno.EPERM, TAKE):
        fs.mv(TAKE, f"{other_folder}/take.wav")
    assert recording(api, take)["parent_folder_id"] == folder_id(fs)


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        (lambda fs: fs.mkdir(TOO_LONG), TOO_LONG),
        (lambda fs: fs.mkdir(f"{PROJECT}/{TOO_LONG}"), f"{PROJECT}/{TOO_LONG}"),
        (lambda fs: fs.mv(PROJECT, TOO_LONG), PROJECT),
        (lambda fs: fs.mv(FOLDER, f"{PROJECT}/{TOO_LONG}"), FOLDER),
        (lambda fs: fs.mv(TAKE, f"{FOLDER}/{TOO_LONG}.wav"), TAKE),
    ],
    ids=["project", "folder", "rename project", "rename folder", "label"],
)
def test_names_longer_than_the_service_allows_are_refused(
    fs: VoiceFileSystem,
    api: Api,
    take: str,
    operation: Callable[[VoiceFileSystem], None],
    path: str,
) -> None:
    with raises_errno(OSError, errno.ENAMETOOLONG, path):
        operation(fs)
    assert project_names(api) == {PROJECT}
    assert folder_names(api, fs) == {"Takes"}
    assert recording(api, take).get("label") is None
