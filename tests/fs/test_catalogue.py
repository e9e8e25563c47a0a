"""The rest of the reference through fsspec: the voice catalogue (`/.voicefs/voices/<voice>/`:
about.json, samples, favorite, settings.txt), projects.csv and folders.csv, and
`fs.project_path(url)`; each checked against what the service's HTTP API says."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import soundfile as sf

from tests.emulator.helpers import Api
from tests.emulator_process import EmulatorProcess, running_emulator
from tests.fs.helpers import FOLDER, PROJECT, convert, counted, folder_id, make_fs, upload
from voicefs.filesystem import VoiceFileSystem

VOICES = ".voicefs/voices"
ALICE = f"{VOICES}/Alice"


def voice_json(api: Api, name: str) -> dict[str, Any]:
    catalogue = api.ok("GET", "/api/v2/voices", params={"limit": 100})["list"]
    found: dict[str, Any] = next(v for v in catalogue if v["name"] == name)
    return found


def accent(voice: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in voice["accents"] if a["info"]["name"] == name)
    return found


@pytest.fixture(scope="module")
def many_voices() -> Iterator[EmulatorProcess]:
    """An emulator whose catalogue is 150 voices more than the usual: two pages of 100."""
    yield from running_emulator("--extra-voices", "150")


def test_the_catalogue_costs_one_request_per_100_voices_and_a_voice_none_more(
    many_voices: EmulatorProcess,
) -> None:
    fs = make_fs(many_voices.new_account())
    fs.ls("")  # the top, listed once for every path, is not the catalogue's cost
    with counted(many_voices) as requests:
        voices = fs.ls(VOICES, detail=False)
    assert requests == {"GET /api/v2/voices": math.ceil(len(voices) / 100)}
    assert len(voices) > 150
    with counted(many_voices) as more:
        listed = fs.ls(ALICE, detail=True)
        fs.ls(voices[-1], detail=True)
    assert sum(more.values()) == 0
    assert [e["name"].rsplit("/", 1)[1] for e in listed] == [
        "about.json",
        "American.wav",
        "British.wav",
        "Neutral.wav",
        "Warm.wav",
        "settings.txt",
    ]
    assert [e["size"] for e in listed if e["name"].endswith(".wav")] == [None] * 4


def test_about_json_is_the_voice_as_the_service_gives_it(fs: VoiceFileSystem, api: Api) -> None:
    about = json.loads(fs.cat(f"{ALICE}/about.json"))
    assert about == voice_json(api, "Alice")
    for key in ("gender", "age_group", "pitch", "nationality", "description", "accents"):
        assert key in about


def test_a_sample_is_the_service_sample_fetched_when_read(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess
) -> None:
    british = accent(voice_json(api, "Alice"), "British")
    samples = api.ok("GET", "/api/v2/accents/samples", params={"accent_id": british["id"]})
    [url] = samples["samples"].values()
    expected = api.get(url).content
    with counted(emulator) as listing:
        fs.ls(ALICE)
    assert "GET /api/v2/accents/samples" not in listing
    data = fs.cat(f"{ALICE}/British.wav")
    assert data == expected
    assert sf.info(io.BytesIO(data)).duration > 0
    assert fs.info(f"{ALICE}/British.wav")["size"] == len(expected)
    with counted(emulator) as again:
        assert fs.cat(f"{ALICE}/British.wav") == expected
    assert sum(again.values()) == 0  # kept: samples do not change


def test_favorite_is_there_exactly_when_the_voice_is_one(fs: VoiceFileSystem, api: Api) -> None:
    assert not fs.exists(f"{ALICE}/favorite")
    fs.touch(f"{ALICE}/favorite")
    assert voice_json(api, "Alice")["favorite"] is True
    assert fs.exists(f"{ALICE}/favorite")
    fs.rm(f"{ALICE}/favorite")
    assert voice_json(api, "Alice")["favorite"] is False
    assert not fs.exists(f"{ALICE}/favorite")


def test_favorites_lead_order_txt_and_show_in_voices_csv(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    upload(api, folder_id(fs), "take.wav")
    fs.touch(f"{VOICES}/Rex/favorite")
    template = fs.cat(f"{FOLDER}/take.wav.conversions/order.txt").decode()
    listed = [line.split()[1] for line in template.splitlines() if "accents:" in line]
    assert listed[0] == "Rex"
    voices = pd.read_csv(fs.open(".voicefs/voices.csv"))
    rex = voices[voices["name"] == "Rex"].iloc[0]
    assert bool(rex["favorite"]) is True


def test_settings_txt_sends_exactly_what_is_written(fs: VoiceFileSystem, api: Api) -> None:
    fs.pipe(f"{ALICE}/settings.txt", b"accent=British semitones=-2 style=Warm\n")
    alice = voice_json(api, "Alice")
    assert accent(alice, "British")["settings"] == {"favorite": True, "semitones_correction": -2}
    warm = next(s for s in alice["narration_styles"] if s["info"]["name"] == "Warm")
    assert warm["settings"]["favorite"] is True
    shown = fs.cat(f"{ALICE}/settings.txt").decode()
    assert "accent=British semitones=-2\nstyle=Warm\n" in shown
    fs.pipe(f"{ALICE}/settings.txt", shown.encode())  # written back: the same settings
    assert voice_json(api, "Alice") == alice
    voices = pd.read_csv(fs.open(".voicefs/voices.csv"))
    row = voices[voices["name"] == "Alice"].iloc[0]
    assert (row["favorite_accent"], row["favorite_style"]) == ("British", "Warm")
    assert row["semitones"] == "British:-2"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("accent=British\nbogus=1\n", "line 2"),
        ("accent=Klingon\n", "not an accent of Alice"),
        ("semitones=3\n", "write accent= on its line"),
        ("accent=British semitones=lots\n", "must be a number"),
    ],
)
def test_a_bad_settings_line_refuses_the_whole_write(
    fs: VoiceFileSystem, api: Api, written: str, reason: str
) -> None:
    before = voice_json(api, "Alice")
    with pytest.raises(ValueError) as refused:
        fs.pipe(f"{ALICE}/settings.txt", written.encode())
    assert f"{ALICE}/settings.txt" in str(refused.value)
    assert reason in str(refused.value)
    assert voice_json(api, "Alice") == before


def test_projects_csv_and_folders_csv_are_the_service_statistics(
    fs: VoiceFileSystem, api: Api, folder: str, emulator: EmulatorProcess
) -> None:
    take = upload(api, folder_id(fs), "take.wav")
    convert(api, take["id"], "Alice", "Bob")
    project_id = fs.info(PROJECT)["id"]
    with counted(emulator) as listing:
        assert "projects.csv" in fs.ls("", detail=False)
        assert f"{PROJECT}/folders.csv" in fs.ls(PROJECT, detail=False)
    assert not any("stats" in route for route in listing)
    with counted(emulator) as reading:
        projects = pd.read_csv(fs.open("projects.csv"))
    assert reading == {"POST /api/stats/projects": 1}
    [stats] = api.ok("POST", "/api/stats/projects", json={"project_ids": [project_id]})
    row = projects[projects["id"] == project_id].iloc[0]
    assert row["name"] == PROJECT
    assert row["conversions"] == stats["conversions"]["total"] == 2
    assert row["completed"] == stats["conversions"]["completed"]
    assert row["time_converted"] == stats["time_converted"]["total"]
    folders = pd.read_csv(fs.open(f"{PROJECT}/folders.csv"))
    [folder_stats] = api.ok("POST", "/api/stats/folders", json={"folder_ids": [folder_id(fs)]})
    assert folders.to_dict("records") == [
        {
            "name": "Takes",
            "id": folder_id(fs),
            "conversions": folder_stats["stats"]["total"],
            "completed": folder_stats["stats"]["completed"],
            "in_progress": folder_stats["stats"]["in_progress"],
            "failed": folder_stats["stats"]["failed"],
        }
    ]


def test_project_path_finds_a_project_by_its_web_url(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    [project] = api.ok("GET", "/api/projects")["list"]
    assert fs.project_path(project["url"]) == PROJECT
    with pytest.raises(FileNotFoundError) as missing:
        fs.project_path("https://example.com/projects/nothing-here")
    assert "https://example.com/projects/nothing-here" in str(missing.value)
