"""`voicefs order`, `wait`, `star`, `unstar` and `note` as real processes: what the service
holds afterwards, and a failing case each that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import FOLDER, TAKE, Run, done, refused, run_voicefs
from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess, running_emulator
from tests.fs.helpers import order, recording

SIDECAR = f"{FOLDER}/take.wav.conversions"


def conversions_of(api: Api, take: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in api.recordings(take["folder_id"]) if r.get("original_id") == take["id"]]


def test_order_with_wait_prints_each_finished_conversion(
    voicefs: Run, api: Api, take: dict[str, Any]
) -> None:
    printed = done(voicefs("order", TAKE, "Alice", "Bob", "--semitones", "2", "--wait"))
    assert printed == [f"{SIDECAR}/Alice.wav", f"{SIDECAR}/Bob.wav"]
    placed = conversions_of(api, take)
    assert sorted(r["model_name"] for r in placed) == ["Alice", "Bob"]
    assert {r["state"] for r in placed} == {"done"}


@pytest.fixture
def slow_conversions(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """An emulator of the test's own whose conversions take 2 s, as the service's short ones."""
    yield from running_emulator("--conversion-seconds", "2", data_dir=tmp_path / "service")


def test_order_with_wait_looks_soon_after_the_order(
    slow_conversions: EmulatorProcess, tmp_path: Path
) -> None:
    """A 2 s conversion is seen done at the third look, 2.4 s after the order (looks at 0.5,
    1.25 and 2.4 s), where a look every 2 s saw it at the second, at 4 s: the looks are
    counted here, the time is reported by benchmarks, never asserted."""
    account = slow_conversions.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    env = {"VOICEFS_URL": account.url, "VOICEFS_API_KEY": account.api_key}
    slow_conversions.reset_request_counts()
    printed = done(run_voicefs("order", TAKE, "Alice", "--wait", env=env, cwd=tmp_path))
    assert printed == [f"{SIDECAR}/Alice.wav"]
    looks = slow_conversions.request_counts().get("GET /api/recordings/{recording_id}", 0)
    assert looks >= 3, slow_conversions.request_counts()


def test_order_with_wait_prints_what_finished_before_the_failure(
    voicefs: Run, take: dict[str, Any]
) -> None:
    result = voicefs("order", TAKE, "Flaky", "Alice", "--wait")
    assert result.stdout.splitlines() == [f"{SIDECAR}/Alice.wav"]
    refused(result, "Flaky", "conversion failed")


def test_order_without_wait_prints_the_processing_names(voicefs: Run, take: dict[str, Any]) -> None:
    assert done(voicefs("order", f"voicefs://{TAKE}", "Alice")) == [
        f"{SIDECAR}/Alice.wav.processing"
    ]


def test_an_unknown_voice_refuses_the_whole_order(
    voicefs: Run, api: Api, take: dict[str, Any]
) -> None:
    line = refused(voicefs("order", TAKE, "Alice", "Nobody"), TAKE, "unknown voice 'Nobody'")
    assert "order.txt" not in line  # no order.txt was written: the arguments were wrong
    assert conversions_of(api, take) == []


def test_a_bad_option_is_told_as_the_options_not_as_order_txt(
    voicefs: Run, api: Api, take: dict[str, Any]
) -> None:
    line = refused(voicefs("order", TAKE, "Alice", "--accent", "Martian"), TAKE, "'Martian'")
    assert "order.txt" not in line and "line 1" not in line
    assert conversions_of(api, take) == []


def test_order_without_a_voice_is_a_usage_error(voicefs: Run, take: dict[str, Any]) -> None:
    result = voicefs("order", TAKE)
    assert result.returncode == 2
    assert "VOICES" in result.stderr


def test_wait_prints_the_final_path_once_done(voicefs: Run, api: Api, take: dict[str, Any]) -> None:
    order(api, take["id"], "Bob")
    assert done(voicefs("wait", f"{SIDECAR}/Bob.wav.processing")) == [f"{SIDECAR}/Bob.wav"]


def test_wait_for_a_failed_conversion_exits_1_with_the_service_reason(
    voicefs: Run, api: Api, take: dict[str, Any]
) -> None:
    [flaky] = order(api, take["id"], "Flaky")
    line = refused(voicefs("wait", f"{SIDECAR}/Flaky.wav.processing"), "conversion failed")
    assert recording(api, flaky)["state"] == "error"
    assert str(recording(api, flaky)["error"]) in line


def test_star_and_unstar_change_the_service(voicefs: Run, api: Api, take: dict[str, Any]) -> None:
    done(voicefs("star", TAKE))
    assert recording(api, take["id"])["starred"] is True
    done(voicefs("unstar", TAKE))
    assert recording(api, take["id"])["starred"] is False


def test_star_of_a_missing_recording_fails(voicefs: Run, take: dict[str, Any]) -> None:
    refused(voicefs("star", f"{FOLDER}/nope.wav"), f"{FOLDER}/nope.wav")
    refused(voicefs("unstar", FOLDER), FOLDER)


def test_note_writes_prints_and_deletes(voicefs: Run, api: Api, take: dict[str, Any]) -> None:
    done(voicefs("note", TAKE, "Keep the pause after 'April'."))
    assert done(voicefs("note", TAKE)) == ["Keep the pause after 'April'."]
    notes = api.ok("GET", "/api/notes", params={"folder_id": take["folder_id"]})
    assert "Keep the pause after 'April'." in str(notes)
    done(voicefs("note", "--delete", TAKE))
    assert done(voicefs("note", TAKE)) == []


def test_a_note_too_long_is_refused_and_the_old_one_stays(
    voicefs: Run, take: dict[str, Any]
) -> None:
    done(voicefs("note", TAKE, "short"))
    refused(voicefs("note", TAKE, "x" * 2001), TAKE, "2000")
    assert done(voicefs("note", TAKE)) == ["short"]
    refused(voicefs("note", FOLDER), FOLDER, "not a recording")
