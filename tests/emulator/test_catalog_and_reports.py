"""The voices catalogue with the user's settings, exports as zip files, and statistics."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.emulator.helpers import Api, assert_detail, assert_validation_error
from tests.emulator.test_conversions import order, voice, wait_state
from tests.emulator_process import Account, running_emulator


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


def test_voices_page_filter_and_sort(api: Api) -> None:
    first = api.ok("GET", "/api/v2/voices")
    assert first["pagination"]["limit"] == 25
    everything = api.ok("GET", "/api/v2/voices", params={"limit": 100})
    count = everything["pagination"]["count"]
    assert count == len(everything["list"]) >= 10
    second = api.ok("GET", "/api/v2/voices", params={"limit": 4, "offset": 4})["list"]
    assert [v["id"] for v in second] == [v["id"] for v in everything["list"][4:8]]
    assert_validation_error(api.get("/api/v2/voices", params={"limit": 101}), "limit")

    female = api.ok("GET", "/api/v2/voices", params={"gender": "female", "limit": 100})["list"]
    assert female and all(v["gender"] == "female" for v in female)
    both = api.ok(
        "GET",
        "/api/v2/voices",
        params=[("species", "animal"), ("species", "human"), ("limit", 100)],
    )
    assert both["pagination"]["count"] == count - sum(
        1 for v in everything["list"] if v["species"] not in ("animal", "human")
    )
    names = [
        v["name"]
        for v in api.ok(
            "GET", "/api/v2/voices", params={"sort": "name", "direction": "asc", "limit": 100}
        )["list"]
    ]
    assert names == sorted(names)
    alice = voice(api, "Alice")
    assert {a["info"]["name"] for a in alice["accents"]} == {"American", "British"}
    assert alice["narration_styles"][0]["is_default"] is True


def test_voice_search(api: Api) -> None:
    found = api.ok("GET", "/api/v2/voices/search", params={"name": "ALI"})
    assert [v["name"] for v in found] == ["Alice"]
    assert_validation_error(api.get("/api/v2/voices/search", params={"name": "a"}), "name")
    assert_validation_error(
        api.get("/api/v2/voices/search", params={"name": "al", "limit": 11}), "limit"
    )


def test_favorites_and_settings_are_per_user(api: Api, account: Account, emulator: Any) -> None:
    alice = voice(api, "Alice")
    marked = api.ok("POST", f"/api/v2/voices/favorite/{alice['id']}", json={"favorite": True})
    assert marked["favorite"] is True
    assert voice(api, "Alice")["favorite"] is True
    accent, style = alice["accents"][0], alice["narration_styles"][1]
    updated = api.ok(
        "POST",
        "/api/v2/voices/settings",
        json={
            "voice_id": alice["id"],
            "accent_id": accent["id"],
            "semitones_correction": 2.5,
            "narration_style_id": style["id"],
        },
    )
    assert updated["accents"][0]["settings"] == {"favorite": True, "semitones_correction": 2.5}
    assert updated["narration_styles"][1]["settings"] == {"favorite": True}

    stranger = Api.of(emulator.new_account())
    assert voice(stranger, "Alice")["favorite"] is False
    assert voice(stranger, "Alice")["accents"][0]["settings"]["semitones_correction"] == 0

    assert_detail(api.post(f"/api/v2/voices/favorite/{accent['id']}", json={"favorite": True}), 404)
    bob = voice(api, "Bob")
    foreign = {"voice_id": alice["id"], "accent_id": bob["accents"][0]["id"]}
    assert_detail(api.post("/api/v2/voices/settings", json=foreign), 404)


def test_samples_are_playable_audio(api: Api) -> None:
    alice = voice(api, "Alice")
    samples = api.ok(
        "GET", "/api/v2/accents/samples", params={"accent_id": alice["accents"][0]["id"]}
    )
    (url,) = samples["samples"].values()
    response = api.get(url)
    assert response.status_code == 200
    assert response.content[:4] == b"RIFF"
    styles = api.ok(
        "GET",
        "/api/v2/narration-styles/samples",
        params={"narration_style_id": alice["narration_styles"][0]["id"]},
    )
    assert styles["samples"]
    assert_detail(api.get("/api/v2/accents/samples", params={"accent_id": alice["id"]}), 404)


def test_tts_voices_and_models(api: Api) -> None:
    tts = api.ok("GET", "/api/tts-voices")
    assert sum(1 for v in tts if v["is_default"]) == 1
    models = api.ok("GET", "/api/models", params={"search": "bo"})
    assert [m["name"] for m in models["list"]] == ["Bob"]


def _build_library(api: Api) -> dict[str, Any]:
    project = api.project("Export me")
    one, two = api.folder(project["id"], "One"), api.folder(project["id"], "Two")
    first = api.original(one["id"], label="First")
    second = api.original(two["id"], "flac")
    alice, bob = voice(api, "Alice"), voice(api, "Bob")
    entries = order(api, first["id"], {"voice_id": alice["id"]}, {"voice_id": bob["id"]}).json()
    conversions = [wait_state(api, e["conversion_id"], "done") for e in entries]
    api.ok("PATCH", f"/api/recordings/{conversions[1]['id']}", json={"starred": True})
    api.ok("PATCH", f"/api/recordings/{second['id']}", json={"starred": True})
    return {"project": project, "first": first, "second": second, "conversions": conversions}


def _zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return sorted(archive.namelist())


def test_exports_are_real_zip_files(api: Api) -> None:
    library = _build_library(api)
    project_id = library["project"]["id"]

    response = api.get(f"/api/projects/{project_id}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    assert ".zip" in response.headers["content-disposition"]
    assert _zip_names(response.content) == [
        "One/First.wav",
        "One/First/Alice.wav",
        "One/First/Bob.wav",
        "Two/tone.flac",
    ]
    starred = api.get(f"/api/projects/{project_id}/export", params={"starred_only": "true"})
    assert _zip_names(starred.content) == ["One/First/Bob.wav", "Two/tone.flac"]

    takes = api.get("/api/recordings/export", params={"original_id": library["first"]["id"]})
    assert _zip_names(takes.content) == ["Alice.wav", "Bob.wav"]
    with zipfile.ZipFile(io.BytesIO(takes.content)) as archive:
        assert archive.read("Alice.wav") == api.download(library["conversions"][0]).content
    only = api.get(
        "/api/recordings/export",
        params={"original_id": library["first"]["id"], "starred_only": "true"},
    )
    assert _zip_names(only.content) == ["Bob.wav"]
    assert_detail(api.get("/api/recordings/export", params={"original_id": project_id}), 404)


def test_stats_count_the_stored_conversions(api: Api) -> None:
    library = _build_library(api)
    project_id = library["project"]["id"]
    flaky = order(api, library["second"]["id"], {"voice_id": voice(api, "Flaky")["id"]}).json()
    wait_state(api, flaky[0]["conversion_id"], "error")

    stats = api.ok("GET", "/api/stats")
    assert stats["conversions"] == {"total": 3, "completed": 2, "in_progress": 0, "failed": 1}
    duration = sum(c["duration"] for c in library["conversions"])
    assert stats["time_converted"]["total"] == round(duration)
    assert stats["time_converted"]["current_month"] == round(duration)
    assert {m["name"]: m["conversions_count"] for m in stats["models"]} == {
        "Alice": 1,
        "Bob": 1,
        "Flaky": 1,
    }
    (project_stats,) = api.ok("POST", "/api/stats/projects", json={"project_ids": [project_id]})
    assert project_stats["conversions"]["total"] == 3
    folder_id = library["second"]["parent_folder_id"]
    (folder_stats,) = api.ok("GET", "/api/stats/folders", json={"folder_ids": [folder_id]})
    assert folder_stats["stats"] == {"total": 1, "completed": 0, "in_progress": 0, "failed": 1}
    assert_detail(api.post("/api/stats/projects", json={"project_ids": [folder_id]}), 404)


def test_pagination_of_a_large_catalogue() -> None:
    for emulator in running_emulator("--extra-voices", "150"):
        api = Api.of(emulator.new_account())
        seen: list[str] = []
        offset = 0
        while True:
            page = api.ok("GET", "/api/v2/voices", params={"limit": 100, "offset": offset})
            seen += [v["id"] for v in page["list"]]
            offset += 100
            if offset >= page["pagination"]["count"]:
                break
        assert len(seen) == len(set(seen)) == 160
