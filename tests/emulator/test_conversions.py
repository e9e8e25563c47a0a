"""Orders, retries, TTS and calibrations: work the emulator does in the background."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.emulator.helpers import Api, assert_detail, assert_validation_error, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until


def dominant_hz(data: bytes) -> float:
    """The strongest frequency of decoded audio: an independent check of pitch shifts."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1 / rate)[int(np.argmax(spectrum))])


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


def voice(api: Api, name: str) -> dict[str, Any]:
    voices = api.ok("GET", "/api/v2/voices", params={"limit": 100})["list"]
    found: dict[str, Any] = next(v for v in voices if v["name"] == name)
    return found


def order(api: Api, original_id: str, *conversions: dict[str, Any], **extra: Any) -> Any:
    return api.post(
        "/api/v2/orders",
        json={"original_id": original_id, "conversions": list(conversions), **extra},
    )


def wait_state(api: Api, recording_id: str, *states: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        recording: dict[str, Any] = api.ok("GET", f"/api/recordings/{recording_id}")
        return recording if recording["state"] in states else None

    result: dict[str, Any] = wait_until(reached, timeout=30)
    return result


def credits(api: Api) -> float:
    return float(api.ok("GET", "/api/credits")["credits"])


def test_order_creates_processing_conversions_that_finish_with_shifted_audio(api: Api) -> None:
    folder = api.new_folder()
    original = api.original(folder["id"])
    alice, bob = voice(api, "Alice"), voice(api, "Bob")
    before = credits(api)

    response = order(
        api,
        original["id"],
        {"voice_id": alice["id"]},
        {"voice_id": bob["id"], "semitones_correction": 4, "label": "Bob up"},
    )
    assert response.status_code == 200, response.text
    orders = response.json()
    assert [o["state"] for o in orders] == ["new", "new"]
    assert all(o["original_id"] == original["id"] for o in orders)

    listed = {r["id"]: r for r in api.recordings(folder["id"])}
    for entry in orders:
        conversion = listed[entry["conversion_id"]]
        assert conversion["type"] == "converted"
        assert conversion["state"] == "processing"
        assert conversion["original_id"] == original["id"]
        assert "url" not in conversion
    assert credits(api) == pytest.approx(before - 2 * original["duration"], abs=0.01)

    done = [wait_state(api, o["conversion_id"], "done") for o in orders]
    assert [d["model_name"] for d in done] == ["Alice", "Bob"]
    assert done[1]["label"] == "Bob up"
    assert all(d["duration"] == pytest.approx(original["duration"], abs=0.01) for d in done)
    assert all(d["converted_at"] >= d["created_at"] for d in done)
    # Alice shifts by +3 semitones; Bob by -4, corrected by +4.
    alice_hz = dominant_hz(api.download(done[0]).content)
    bob_hz = dominant_hz(api.download(done[1]).content)
    assert alice_hz == pytest.approx(220 * 2 ** (3 / 12), rel=0.04)
    assert bob_hz == pytest.approx(220, rel=0.04)


@pytest.mark.parametrize("ext", ["flac", "ogg", "mp3"])
def test_conversion_keeps_the_original_format(api: Api, ext: str) -> None:
    original = api.original(api.new_folder()["id"], ext)
    conversion = api.convert(original["id"])
    assert conversion["file_name"].endswith(f".{ext}")
    info = sf.info(io.BytesIO(api.download(conversion).content))
    assert info.format == {"flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}[ext]


def test_saved_accent_semitones_apply_to_orders(api: Api) -> None:
    alice = voice(api, "Alice")
    accent = alice["accents"][1]
    api.ok(
        "POST",
        "/api/v2/voices/settings",
        json={"voice_id": alice["id"], "accent_id": accent["id"], "semitones_correction": -3},
    )
    original = api.original(api.new_folder()["id"])
    (entry,) = order(
        api, original["id"], {"voice_id": alice["id"], "accent_id": accent["id"]}
    ).json()
    conversion = wait_state(api, entry["conversion_id"], "done")
    assert dominant_hz(api.download(conversion).content) == pytest.approx(220, rel=0.04)


def test_refused_orders_change_nothing(api: Api, emulator: EmulatorProcess) -> None:
    folder = api.new_folder()
    original = api.original(folder["id"])
    alice, bob, vault = voice(api, "Alice"), voice(api, "Bob"), voice(api, "Vault")
    before = credits(api)
    unknown = original["id"]  # a uuid that is no voice

    assert "Voice" in assert_detail(order(api, original["id"], {"voice_id": unknown}), 404)
    # one bad conversion refuses the whole order
    mixed = order(api, original["id"], {"voice_id": alice["id"]}, {"voice_id": unknown})
    assert_detail(mixed, 404)
    wrong_accent = {"voice_id": alice["id"], "accent_id": bob["accents"][0]["id"]}
    assert "Accent" in assert_detail(order(api, original["id"], wrong_accent), 400)
    assert "plan" in assert_detail(order(api, original["id"], {"voice_id": vault["id"]}), 403)
    assert_detail(order(api, original["id"]), 400)
    assert_validation_error(order(api, original["id"], {"voice_id": "not-a-uuid"}), "voice_id")
    assert_detail(order(api, folder["id"], {"voice_id": alice["id"]}), 404)

    assert [r["id"] for r in api.recordings(folder["id"])] == [original["id"]]
    assert credits(api) == before


def test_order_beyond_the_credits_is_refused(emulator: EmulatorProcess) -> None:
    poor = Api.of(emulator.new_account(credits=1.5))
    folder = poor.new_folder()
    original = poor.original(folder["id"])  # 1 s
    alice = voice(poor, "Alice")

    detail = assert_detail(
        order(poor, original["id"], {"voice_id": alice["id"]}, {"voice_id": alice["id"]}), 402
    )
    assert "credits" in detail
    assert len(poor.recordings(folder["id"])) == 1
    assert credits(poor) == 1.5
    assert order(poor, original["id"], {"voice_id": alice["id"]}).status_code == 200


def test_failed_conversion_is_refunded_and_can_be_retried(api: Api) -> None:
    original = api.original(api.new_folder()["id"])
    before = credits(api)
    (entry,) = order(api, original["id"], {"voice_id": voice(api, "Flaky")["id"]}).json()

    failed = wait_state(api, entry["conversion_id"], "error", "done")
    assert failed["state"] == "error"
    assert "Flaky" in failed["error"]
    assert credits(api) == pytest.approx(before)

    assert_detail(api.post(f"/api/v2/orders/retry/{original['id']}"), 400)
    retried = api.ok("POST", f"/api/v2/orders/retry/{failed['id']}")
    assert retried["conversion_id"] == failed["id"]
    assert api.ok("GET", f"/api/recordings/{failed['id']}")["state"] == "processing"
    done = wait_state(api, failed["id"], "done", "error")
    assert done["state"] == "done"
    assert "error" not in done
    assert_detail(api.post(f"/api/v2/orders/retry/{failed['id']}"), 400)


def test_legacy_conversion_order_and_redo(api: Api) -> None:
    original = api.original(api.new_folder()["id"])
    flaky = voice(api, "Flaky")
    models = [{"id": flaky["id"], "name": flaky["name"], "params": []}]
    (conversion,) = api.ok(
        "POST",
        "/api/recordings/conversion-order",
        json={"original_id": original["id"], "models": models},
    )
    assert conversion["state"] == "processing"
    wait_state(api, conversion["id"], "error")
    redone = api.ok("POST", f"/api/recordings/conversion-redo/{conversion['id']}")
    assert redone["state"] == "processing"
    assert wait_state(api, conversion["id"], "done")["model_name"] == "Flaky"


def test_tts_v2_speaks_text_into_a_new_original(api: Api) -> None:
    folder = api.new_folder()
    created = api.ok(
        "POST",
        "/api/v2/recordings/tts",
        json={
            "parent_folder_id": folder["id"],
            "text": "Good morning, this is a test.",
            "text_language": "en",
            "label": "Morning",
        },
    )
    assert created["state"] == "processing"
    assert created["tts"] is True
    assert created["type"] == "original"
    done = wait_state(api, created["id"], "done")
    assert done["label"] == "Morning"
    samples, rate = sf.read(io.BytesIO(api.download(done).content))
    assert len(samples) / rate == pytest.approx(done["duration"], abs=0.05)
    assert done["duration"] > 0.5
    assert np.abs(samples).max() > 0.05

    # A TTS original converts with a narration style, and only with one.
    alice = voice(api, "Alice")
    assert_detail(order(api, done["id"], {"voice_id": alice["id"]}), 400)
    style = alice["narration_styles"][0]["id"]
    styled = order(api, done["id"], {"voice_id": alice["id"], "narration_style_id": style})
    assert styled.status_code == 200


def test_tts_v1_with_a_tts_voice(api: Api) -> None:
    folder = api.new_folder()
    tts_voice = api.ok("GET", "/api/tts-voices")[1]
    body = {"parent_folder_id": folder["id"], "text": "Hello.", "voice_id": tts_voice["id"]}
    created = api.ok("POST", "/api/recordings/tts", json=body)
    assert created["tts_voice"] == tts_voice["name"]
    assert wait_state(api, created["id"], "done")["size"] > 0
    unknown = {**body, "voice_id": folder["id"]}
    assert_detail(api.post("/api/recordings/tts", json=unknown), 404)


@pytest.mark.parametrize("text", ["", "x" * 1001])
def test_tts_text_limits(api: Api, text: str) -> None:
    folder = api.new_folder()
    response = api.post(
        "/api/v2/recordings/tts", json={"parent_folder_id": folder["id"], "text": text}
    )
    assert_validation_error(response, "text")
    assert api.recordings(folder["id"]) == []


def test_calibration_lifecycle(api: Api) -> None:
    def create(name: str, data: bytes) -> Any:
        return api.post("/api/calibration", data={"name": name}, files={"data": ("me.wav", data)})

    created = create("My voice", tone("wav", seconds=2.0, hz=180.0))
    assert created.status_code == 200, created.text
    calibration = created.json()
    assert calibration["state"] == "processing"
    assert calibration["enabled"] is False
    cid = calibration["id"]
    assert_detail(api.request("PUT", f"/api/calibration/{cid}/enable"), 400)  # not ready yet

    def calibrated() -> dict[str, Any] | None:
        body: dict[str, Any] = api.ok("GET", f"/api/calibration/{cid}")
        return body if body["state"] == "calibrated" else None

    ready = wait_until(calibrated, timeout=30)
    assert ready["f0"] == pytest.approx(180, rel=0.05)
    assert api.get(f"/api/{ready['key']}").content == tone("wav", seconds=2.0, hz=180.0)

    assert_detail(create("My voice", tone("wav")), 400)  # names are unique
    assert_detail(create("Other", b"not audio at all"), 400)
    assert_validation_error(create("bad/name", tone("wav")), "name")
    assert api.ok("GET", "/api/calibration")["pagination"]["count"] == 1

    assert api.ok("PUT", f"/api/calibration/{cid}/enable")["enabled"] is True
    user = api.ok("POST", "/api/auth")
    assert user["data"]["calibration"]["calibration_id"] == cid

    original = api.original(api.new_folder()["id"])
    (entry,) = order(api, original["id"], {"voice_id": voice(api, "Alice")["id"]}).json()
    assert entry["calibration_id"] == cid
    assert api.ok("GET", f"/api/recordings/{entry['conversion_id']}")["calibration_name"] == (
        "My voice"
    )

    assert api.ok("PATCH", f"/api/calibration/{cid}", json={"name": "Mine"})["name"] == "Mine"
    profile = api.ok("POST", "/api/calibration/auto")
    assert "calibration" not in profile["data"]
    assert api.ok("GET", f"/api/calibration/{cid}")["enabled"] is False
    assert api.ok("DELETE", f"/api/calibration/{cid}")["id"] == cid
    assert_detail(api.get(f"/api/calibration/{cid}"), 404)
