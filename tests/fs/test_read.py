"""Reading the tree through fsspec (CONTRACT §2, §5): what `ls`, `info` and `find` show, how
things are named, and what reads cost (the emulator counts the requests it serves)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fsspec.spec import AbstractBufferedFile

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import (
    DOWNLOAD,
    FOLDER,
    PROJECT,
    convert,
    counted,
    folder_id,
    make_fs,
    note,
    order,
    recording,
    relabel,
    star,
    time_of,
    upload,
)
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"
SIDECAR = f"{TAKE}.conversions"


def names(fs: VoiceFileSystem, path: str) -> set[str]:
    """The entry names of a directory, without the directory's path."""
    return {posixpath.basename(name) for name in fs.ls(path, detail=False)}


def entries(fs: VoiceFileSystem, path: str) -> dict[str, dict[str, Any]]:
    """A directory's `ls(detail=True)` entries by name."""
    return {posixpath.basename(e["name"]): e for e in fs.ls(path, detail=True)}


def id8(recording_id: str) -> str:
    return recording_id.replace("-", "")[:8]


@contextmanager
def audio_responses(fs: VoiceFileSystem) -> Iterator[list[tuple[str | None, int, int]]]:
    """(Range asked, status, Content-Length) of each audio response the filesystem receives:
    what crossed the wire, observed on the real HTTP session."""
    seen: list[tuple[str | None, int, int]] = []

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        if "/api/files/" in response.url:
            length = int(response.headers.get("Content-Length", -1))
            seen.append((response.request.headers.get("Range"), response.status_code, length))

    hooks = fs.client._transport.session.hooks["response"]
    hooks.append(record)
    try:
        yield seen
    finally:
        hooks.remove(record)


@pytest.fixture
def take(fs: VoiceFileSystem, folder: str) -> bytes:
    """`Project/Takes/take.wav`, written through the filesystem; returns its bytes."""
    data = tone("wav", seconds=2.0)
    fs.pipe(TAKE, data)
    return data


@pytest.fixture
def converted(fs: VoiceFileSystem, api: Api, take: bytes) -> dict[str, Any]:
    """take.wav with a finished Alice conversion and a failed Flaky one; the original is
    starred and has a note. Returns the service's records."""
    original = fs.info(TAKE)["id"]
    alice, flaky = convert(api, original, "Alice", "Flaky")
    star(api, original)
    note(api, original, "needs a retake")
    fs.invalidate_cache()
    return {
        "original": recording(api, original),
        "alice": recording(api, alice),
        "flaky": recording(api, flaky),
    }


# ------------------------------------------------------------------------ the tree


def test_root_lists_projects_and_the_account_directory(fs: VoiceFileSystem, api: Api) -> None:
    fs.mkdir("Audiobook")
    fs.mkdir("Podcast")
    listed = entries(fs, "")
    assert set(listed) == {"Audiobook", "Podcast", "projects.csv", ".voicefs"}
    projects = {p["name"]: p["id"] for p in api.ok("GET", "/api/projects")["list"]}
    for name in ("Audiobook", "Podcast"):
        assert listed[name]["type"] == "directory" and listed[name]["kind"] == "project"
        assert listed[name]["id"] == projects[name]
    assert listed[".voicefs"]["type"] == "directory"
    assert listed[".voicefs"]["kind"] == "account"


def test_projects_list_their_folders(fs: VoiceFileSystem, api: Api) -> None:
    fs.makedirs(f"{PROJECT}/Chapter 1")
    fs.mkdir(f"{PROJECT}/Chapter 2")
    listed = entries(fs, PROJECT)
    assert set(listed) == {"Chapter 1", "Chapter 2", "folders.csv"}
    project_id = fs.info(PROJECT)["id"]
    folders = api.ok("GET", "/api/folders", params={"project_id": project_id})["list"]
    assert {f["name"]: f["id"] for f in folders} == {
        n: e["id"] for n, e in listed.items() if "id" in e
    }
    folders_listed = [e for n, e in listed.items() if n != "folders.csv"]
    assert all(e["kind"] == "folder" and e["type"] == "directory" for e in folders_listed)


def test_a_folder_shows_originals_with_sidecars_and_its_manifest(
    fs: VoiceFileSystem, take: bytes
) -> None:
    listed = entries(fs, FOLDER)
    assert set(listed) == {"take.wav", "take.wav.conversions", "recordings.csv"}
    assert listed["take.wav"]["kind"] == "original" and listed["take.wav"]["type"] == "file"
    assert listed["take.wav.conversions"]["kind"] == "sidecar"
    assert listed["take.wav.conversions"]["type"] == "directory"
    assert names(fs, SIDECAR) == {"order.txt", "recordings.csv"}


def test_originals_are_named_by_label_else_file_name(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    takes = folder_id(fs)
    upload(api, takes, "raw take.flac", "flac", label="Chapter 1")
    upload(api, takes, "session 3/raw/plain.ogg", "ogg")  # the file name's basename
    intro = upload(api, takes, "intro.wav")
    relabel(api, intro["id"], "Intro.wav")  # already ends in the extension: not doubled
    shown = ["Chapter 1.flac", "plain.ogg", "Intro.wav"]
    sidecars = [f"{name}.conversions" for name in shown]
    assert names(fs, FOLDER) == {*shown, *sidecars, "recordings.csv"}


def test_conversions_are_named_after_their_voice_or_label(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    original = upload(api, folder_id(fs), "song.ogg", "ogg")
    convert(api, original["id"], "Alice")
    convert(api, original["id"], "Bob", label="Calm take")
    listed = entries(fs, f"{FOLDER}/song.ogg.conversions")
    assert set(listed) == {"Alice.ogg", "Calm take.ogg", "order.txt", "recordings.csv"}
    assert listed["Alice.ogg"]["kind"] == "conversion"
    assert listed["Alice.ogg"]["voice"] == "Alice"
    assert listed["Calm take.ogg"]["voice"] == "Bob"


def test_later_entries_with_the_same_name_get_their_id(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    takes = folder_id(fs)
    first = upload(api, takes, "take.wav")
    second = upload(api, takes, "take.wav")
    reserved = upload(api, takes, "recordings.csv")  # the manifest's name is taken first
    assert time_of(first, "created_at") < time_of(second, "created_at")
    later = f"take ~{id8(second['id'])}.wav"
    manifest_like = f"recordings ~{id8(reserved['id'])}.csv"
    assert names(fs, FOLDER) == {
        "take.wav",
        "take.wav.conversions",
        later,
        f"{later}.conversions",
        manifest_like,
        f"{manifest_like}.conversions",
        "recordings.csv",
    }
    assert fs.info(f"{FOLDER}/{later}")["id"] == second["id"]
    assert fs.info(f"{FOLDER}/take.wav")["id"] == first["id"]

    alice_1, alice_2 = convert(api, first["id"], "Alice", "Alice")
    assert names(fs, SIDECAR) == {
        "Alice.wav",
        f"Alice ~{id8(alice_2)}.wav",
        "order.txt",
        "recordings.csv",
    }
    assert fs.info(f"{SIDECAR}/Alice.wav")["id"] == alice_1


def test_projects_with_a_taken_name_get_their_id(fs: VoiceFileSystem, api: Api) -> None:
    api.project("Demo")
    second = api.project("Demo")
    hidden = api.project(".voicefs")  # the account directory's name is taken first
    assert names(fs, "") == {
        "Demo",
        f"Demo ~{id8(second['id'])}",
        f".voicefs ~{id8(hidden['id'])}",
        ".voicefs",
        "projects.csv",
    }
    assert fs.info(f"Demo ~{id8(second['id'])}")["id"] == second["id"]


def test_slashes_and_dot_names_are_shown_with_fullwidth_characters(
    fs: VoiceFileSystem, api: Api
) -> None:
    project = api.project("Rock/Pop")
    folder = api.folder(project["id"], "A/B sides")
    take = upload(api, folder["id"], "take.wav")
    relabel(api, take["id"], "left/right")
    dots = api.project(".")
    api.folder(dots["id"], "..")
    assert names(fs, "") == {"Rock／Pop", "．", "projects.csv", ".voicefs"}
    assert names(fs, "Rock／Pop") == {"A／B sides", "folders.csv"}
    assert "left／right.wav" in names(fs, "Rock／Pop/A／B sides")
    assert fs.info("Rock／Pop/A／B sides/left／right.wav")["id"] == take["id"]
    assert names(fs, "．") == {"．．", "folders.csv"}


def test_star_and_note_companions_exist_exactly_when_set(
    fs: VoiceFileSystem, api: Api, take: bytes
) -> None:
    original = fs.info(TAKE)["id"]
    assert names(fs, FOLDER) == {"take.wav", "take.wav.conversions", "recordings.csv"}
    star(api, original)
    note(api, original, "Breath at 0:02.\nKeep the second half.")
    fs.invalidate_cache()
    listed = entries(fs, FOLDER)
    assert {"take.wav.star", "take.wav.note.txt"} <= set(listed)
    assert listed["take.wav.star"]["kind"] == "companion"
    assert fs.cat(f"{TAKE}.note.txt") == b"Breath at 0:02.\nKeep the second half."

    star(api, original, starred=False)
    api.ok("DELETE", "/api/notes", json={"recording_id": original})
    fs.invalidate_cache()
    assert names(fs, FOLDER) == {"take.wav", "take.wav.conversions", "recordings.csv"}


def test_a_failed_conversion_shows_the_service_error(
    fs: VoiceFileSystem, api: Api, converted: dict[str, Any]
) -> None:
    flaky = converted["flaky"]
    assert flaky["state"] == "error" and flaky["error"]
    star(api, flaky["id"])
    fs.invalidate_cache()
    listed = entries(fs, SIDECAR)
    assert {"Alice.wav", "Flaky.wav.error", "Flaky.wav.star"} <= set(listed)
    assert "Flaky.wav" not in listed
    assert listed["Flaky.wav.error"]["state"] == "error"
    assert flaky["error"] in fs.cat(f"{SIDECAR}/Flaky.wav.error").decode()


def test_processing_items_show_one_status_line(slow_emulator: EmulatorProcess) -> None:
    account = slow_emulator.new_account()
    fs, api = make_fs(account), Api.of(account)
    fs.makedirs(FOLDER)
    original = upload(api, folder_id(fs), "take.wav")
    (conversion_id,) = order(api, original["id"], "Alice")
    tts = api.ok(
        "POST",
        "/api/v2/recordings/tts",
        json={"parent_folder_id": original["parent_folder_id"], "text": "Hello there."},
    )
    assert tts["state"] == "processing" and not tts.get("file_name") and not tts.get("label")

    # a recording with neither label nor file name is named by its id
    assert names(fs, FOLDER) >= {f"{tts['id']}.wav.processing", f"{tts['id']}.wav.conversions"}
    assert "Alice.wav.processing" in names(fs, SIDECAR)
    for path, recording_id in (
        (f"{SIDECAR}/Alice.wav.processing", conversion_id),
        (f"{FOLDER}/{tts['id']}.wav.processing", tts["id"]),
    ):
        stage = recording(api, recording_id)["process_stage"]
        lines = fs.cat(path).decode().splitlines()
        assert len(lines) == 1 and stage in lines[0], lines
        assert fs.info(path)["state"] == "processing"


# ---------------------------------------------------------------- ls, info and find


def test_ls_and_info_agree_on_every_entry(fs: VoiceFileSystem, converted: dict[str, Any]) -> None:
    found = fs.find("", withdirs=True, detail=True)
    assert {TAKE, SIDECAR, f"{SIDECAR}/Alice.wav", f"{SIDECAR}/Flaky.wav.error"} <= set(found)
    assert {f"{TAKE}.star", f"{TAKE}.note.txt", f"{SIDECAR}/order.txt"} <= set(found)
    for directory in (PROJECT, FOLDER, SIDECAR):
        for entry in fs.ls(directory, detail=True):
            assert found[entry["name"]] == entry
            described = fs.info(entry["name"])
            for key in ("name", "size", "type", "kind", "id"):
                assert described.get(key) == entry.get(key), (entry, described)


def test_find_lists_every_file_under_a_path(fs: VoiceFileSystem, converted: dict[str, Any]) -> None:
    assert set(fs.find(FOLDER)) == {
        TAKE,
        f"{TAKE}.star",
        f"{TAKE}.note.txt",
        f"{FOLDER}/recordings.csv",
        f"{SIDECAR}/Alice.wav",
        f"{SIDECAR}/Flaky.wav.error",
        f"{SIDECAR}/order.txt",
        f"{SIDECAR}/recordings.csv",
    }


def test_detailed_entries_and_times_are_the_services(
    fs: VoiceFileSystem, converted: dict[str, Any]
) -> None:
    original, alice = converted["original"], converted["alice"]
    take = entries(fs, FOLDER)["take.wav"]
    assert take["kind"] == "original" and take["id"] == original["id"]
    assert take["state"] == "done" and take["duration"] == original["duration"]
    assert take["starred"] is True and take["note"] == "needs a retake"
    assert take["voice"] is None
    assert take["created"] == time_of(original, "created_at")

    conversion = entries(fs, SIDECAR)["Alice.wav"]
    assert conversion["kind"] == "conversion" and conversion["id"] == alice["id"]
    assert conversion["voice"] == "Alice" and conversion["state"] == "done"
    assert conversion["starred"] is False and conversion["note"] is None
    assert conversion["duration"] == alice["duration"]
    assert conversion["created"] == time_of(alice, "created_at")

    assert fs.created(TAKE) == fs.modified(TAKE) == time_of(original, "created_at")
    assert fs.created(f"{SIDECAR}/Alice.wav") == time_of(alice, "created_at")
    assert fs.modified(f"{SIDECAR}/Alice.wav") == time_of(alice, "converted_at")


def test_sizes_are_the_service_sizes_without_a_download(
    account: Account, emulator: EmulatorProcess, converted: dict[str, Any]
) -> None:
    fresh = make_fs(account)
    with counted(emulator) as requests:
        listed = {**entries(fresh, FOLDER), **entries(fresh, SIDECAR)}
        size_of_take = fresh.size(TAKE)
        info_of_alice = fresh.info(f"{SIDECAR}/Alice.wav")
    assert listed["take.wav"]["size"] == size_of_take == converted["original"]["size"]
    assert listed["Alice.wav"]["size"] == info_of_alice["size"] == converted["alice"]["size"]
    assert requests[DOWNLOAD] == 0, requests


def test_generated_files_sizes_follow_their_listing(
    fs: VoiceFileSystem, converted: dict[str, Any]
) -> None:
    """The sizes of `recordings.csv` and `order.txt` are kept while their listing is; a write
    that changes the listing changes them, and they always equal what reading gives."""
    manifest, template = f"{FOLDER}/recordings.csv", f"{SIDECAR}/order.txt"
    before = fs.size(manifest)
    assert before == len(fs.cat_file(manifest)) == fs.size(manifest)
    assert fs.size(template) == len(fs.cat_file(template))
    fs.pipe_file(f"{FOLDER}/another take.wav", tone("wav"))
    after = fs.size(manifest)
    assert after > before and after == len(fs.cat_file(manifest))
    assert b"another take.wav" in fs.cat_file(manifest)


# ------------------------------------------------------------------------- reading


def test_cat_of_a_whole_file_is_one_request(
    fs: VoiceFileSystem, emulator: EmulatorProcess, take: bytes
) -> None:
    fs.ls(FOLDER)
    with counted(emulator) as requests:
        assert fs.cat(TAKE) == take
    assert requests[DOWNLOAD] == 1, requests


@pytest.mark.parametrize(("start", "end"), [(0, 44), (1000, 1100), (-100, None), (5000, -10)])
def test_cat_file_fetches_only_the_range(
    fs: VoiceFileSystem, emulator: EmulatorProcess, take: bytes, start: int, end: int | None
) -> None:
    fs.ls(FOLDER)
    with counted(emulator) as requests, audio_responses(fs) as wire:
        assert fs.cat_file(TAKE, start, end) == take[start:end]
    assert requests[DOWNLOAD] == 1, requests
    ((asked, status, length),) = wire
    assert asked is not None and status == 206
    assert length == len(take[start:end])


def test_open_seek_and_read_fetch_ranges(fs: VoiceFileSystem, take: bytes) -> None:
    with audio_responses(fs) as wire, fs.open(TAKE, "rb", block_size=4096) as handle:
        assert isinstance(handle, AbstractBufferedFile)
        assert handle.read(12) == take[:12]
        handle.seek(50_000)
        assert handle.read(100) == take[50_000:50_100]
        assert handle.tell() == 50_100
        handle.seek(-8, 2)
        assert handle.read() == take[-8:]
    assert all(status == 206 and asked for asked, status, _ in wire), wire
    assert sum(length for *_, length in wire) < len(take) / 4


def test_cat_ranges(fs: VoiceFileSystem, take: bytes) -> None:
    starts, ends = [0, 100, 40_000], [10, 300, 40_001]
    assert fs.cat_ranges([TAKE] * 3, starts, ends) == [
        take[s:e] for s, e in zip(starts, ends, strict=True)
    ]


def test_get_writes_the_recording_to_a_local_file(
    fs: VoiceFileSystem, emulator: EmulatorProcess, take: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "copy.wav"
    fs.ls(FOLDER)
    with counted(emulator) as requests:
        fs.get(TAKE, str(target))
    assert target.read_bytes() == take
    assert requests[DOWNLOAD] == 1, requests


def test_ukey_is_stable_and_differs_between_recordings(
    fs: VoiceFileSystem, account: Account, take: bytes
) -> None:
    fs.pipe(f"{FOLDER}/same bytes.wav", take)
    key = fs.ukey(TAKE)
    assert key == fs.ukey(TAKE) == make_fs(account).ukey(TAKE)
    assert key != fs.ukey(f"{FOLDER}/same bytes.wav")


@pytest.mark.parametrize(
    "path",
    [
        "Nope",
        f"{PROJECT}/Nope",
        f"{FOLDER}/nope.wav",
        f"{FOLDER}/nope.wav.conversions",
        f"{FOLDER}/take.wav.star",  # not starred
        f"{SIDECAR}/Bob.wav",
        f"{TAKE}/inside",
    ],
)
def test_exists_is_false_for_missing_paths(fs: VoiceFileSystem, take: bytes, path: str) -> None:
    assert fs.exists(TAKE)
    assert not fs.exists(path)
    assert not fs.exists(f"voicefs://{path}")
