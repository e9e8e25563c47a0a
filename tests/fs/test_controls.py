"""Control and companion files (CONTRACT §3, §4) and the account directory (§2), through
fsspec, with the service's state checked over its own API afterwards."""

from __future__ import annotations

import errno
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from tests.fs.helpers import FOLDER, counted, raises_errno
from voicefs.filesystem import VoiceFileSystem

ORDERS = "POST /api/v2/orders"
TAKE = f"{FOLDER}/take.wav"
SIDECAR = f"{TAKE}.conversions"
ORDER = f"{SIDECAR}/order.txt"


@pytest.fixture
def take(fs: VoiceFileSystem, folder: str) -> str:
    fs.pipe(TAKE, tone("wav"))
    return TAKE


def recording(api: Api, fs: VoiceFileSystem, path: str) -> dict[str, Any]:
    """The service's own record of the recording at path."""
    found: dict[str, Any] = api.ok("GET", f"/api/recordings/{fs.info(path)['id']}")
    return found


def conversions(api: Api, fs: VoiceFileSystem, original: str) -> list[dict[str, Any]]:
    original_id = fs.info(original)["id"]
    page = api.ok("GET", "/api/recordings/conversions", params={"original_id": original_id})
    items: list[dict[str, Any]] = page["list"]
    return items


# ----------------------------------------------------------------------------- order.txt


def test_order_template_lists_the_voices_and_orders_nothing_when_written_back(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, take: str
) -> None:
    template = fs.cat(ORDER).decode()
    voices = api.ok("GET", "/api/v2/voices", params={"limit": 100})["list"]
    for voice in voices:
        assert (voice["name"] in template) == voice["available"]
    assert fs.info(ORDER)["size"] == len(template.encode())
    with counted(emulator) as requests:
        fs.pipe(ORDER, template.encode())
    assert requests[ORDERS] == 0
    assert conversions(api, fs, take) == []


def test_one_write_is_one_order_and_shows_processing_entries_at_once(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, take: str
) -> None:
    text = 'Alice accent=british\nbob semitones=+2 label="Bob up"  # a comment\n'
    with counted(emulator) as requests, fs.open(ORDER, "w") as handle:
        handle.write(text)
    assert requests[ORDERS] == 1
    listed = fs.ls(SIDECAR, detail=False)
    assert f"{SIDECAR}/Alice.wav.processing" in listed
    assert f"{SIDECAR}/Bob up.wav.processing" in listed

    service = {c["model_name"]: c for c in conversions(api, fs, take)}
    assert set(service) == {"Alice", "Bob"}
    assert service["Bob"]["label"] == "Bob up"
    assert service["Bob"]["params"]["semitones_correction"] == 2
    alice = next(v for v in api.ok("GET", "/api/v2/voices")["list"] if v["name"] == "Alice")
    british = next(a for a in alice["accents"] if a["info"]["name"] == "British")
    assert service["Alice"]["params"]["accent_id"] == british["id"]

    assert fs.wait(f"{SIDECAR}/Alice.wav", timeout=30, interval=0.2) == f"{SIDECAR}/Alice.wav"
    assert fs.wait(f"{SIDECAR}/Bob up.wav.processing", timeout=30, interval=0.2).endswith(
        "Bob up.wav"
    )
    assert fs.cat(f"{SIDECAR}/Alice.wav")[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("text", "line", "token"),
    [
        ("Alice\nAlise\n", 2, "Alise"),
        ("Alice accent=French\n", 1, "French"),
        ("Bob semitones=high\n", 1, "high"),
        ("# fine\nBob pitch=3\n", 2, "pitch=3"),
        ('"Alice\n', 1, None),
        ("Vault\n", 1, "Vault"),
    ],
)
def test_a_bad_line_refuses_the_whole_order(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    take: str,
    text: str,
    line: int,
    token: str | None,
) -> None:
    credits_before = api.ok("GET", "/api/credits")["credits"]
    with counted(emulator) as requests, raises_errno(ValueError, errno.EINVAL, ORDER) as error:
        fs.pipe(ORDER, text.encode())
    assert f"line {line}" in str(error.value)
    if token:
        assert token in str(error.value)
    assert requests[ORDERS] == 0
    assert conversions(api, fs, take) == []
    assert api.ok("GET", "/api/credits")["credits"] == credits_before


def test_retry_a_failed_conversion(fs: VoiceFileSystem, api: Api, take: str) -> None:
    (failed,) = fs.order(take, "Flaky")
    assert failed == f"{SIDECAR}/Flaky.wav.processing"
    with pytest.raises(OSError, match="conversion failed") as error:
        fs.wait(failed, timeout=30, interval=0.2)
    assert error.value.errno == errno.EIO
    assert fs.exists(f"{SIDECAR}/Flaky.wav.error")
    assert b"Flaky" in fs.cat(f"{SIDECAR}/Flaky.wav.error")

    fs.pipe(ORDER, b"retry Flaky.wav\n")
    assert fs.exists(f"{SIDECAR}/Flaky.wav.processing")
    assert fs.wait(f"{SIDECAR}/Flaky.wav", timeout=30, interval=0.2) == f"{SIDECAR}/Flaky.wav"
    assert [c["state"] for c in conversions(api, fs, take)] == ["done"]


def test_not_enough_credits(emulator: EmulatorProcess) -> None:
    poor = emulator.new_account(credits=0.5)
    fs = VoiceFileSystem(
        url=poor.url, api_key=poor.api_key, rate_limit=False, skip_instance_cache=True
    )
    fs.makedirs(FOLDER)
    fs.pipe(TAKE, tone("wav"))
    with raises_errno(OSError, errno.EDQUOT, SIDECAR) as error:
        fs.order(TAKE, "Alice")
    assert "credits" in str(error.value)


# ------------------------------------------------------------------ star and note


def test_star_companion(fs: VoiceFileSystem, api: Api, take: str) -> None:
    star = f"{TAKE}.star"
    assert not fs.exists(star)
    fs.touch(star)
    assert recording(api, fs, take)["starred"] is True
    assert fs.exists(star)
    assert fs.info(star)["size"] == 0
    fs.rm(star)
    assert recording(api, fs, take)["starred"] is False
    assert not fs.exists(star)

    fs.star(take)
    assert fs.exists(star)
    fs.star(take, starred=False)
    assert not fs.exists(star)


def test_star_of_a_missing_recording_is_refused(fs: VoiceFileSystem, take: str) -> None:
    with raises_errno(PermissionError, errno.EPERM, f"{FOLDER}/nope.wav.star"):
        fs.touch(f"{FOLDER}/nope.wav.star")
    with pytest.raises(FileNotFoundError):
        fs.star(f"{FOLDER}/nope.wav")


def test_note_companion(fs: VoiceFileSystem, api: Api, take: str) -> None:
    note = f"{TAKE}.note.txt"
    fs.pipe(note, "Keep the pause — it works.\n".encode())
    assert recording(api, fs, take)["note"]["text"] == "Keep the pause — it works.\n"
    assert fs.cat(note).decode() == "Keep the pause — it works.\n"  # as written
    assert fs.info(note)["size"] == len(fs.cat(note))
    assert fs.info(take)["note"] == "Keep the pause — it works.\n"

    fs.pipe(note, b"Second thoughts")
    assert recording(api, fs, take)["note"]["text"] == "Second thoughts"

    with raises_errno(ValueError, errno.EINVAL, note) as error:
        fs.pipe(note, b"x" * 2001)
    assert "2000" in str(error.value)
    assert recording(api, fs, take)["note"]["text"] == "Second thoughts"

    fs.rm(note)
    assert "note" not in recording(api, fs, take)
    assert not fs.exists(note)

    fs.set_note(take, "from a script")
    assert fs.cat(note) == b"from a script"
    fs.pipe(note, b"")  # an emptied note is a deleted note
    assert "note" not in recording(api, fs, take)


# ------------------------------------------------------------------------- .tts.txt


def test_tts_source_creates_a_spoken_original(fs: VoiceFileSystem, api: Api, folder: str) -> None:
    fs.pipe(f"{folder}/Greeting.tts.txt", b"lang: en\nGood morning, and welcome.\n")
    assert fs.exists(f"{folder}/Greeting.wav.processing")
    assert not fs.exists(f"{folder}/Greeting.tts.txt")
    done = fs.wait(f"{folder}/Greeting.wav", timeout=30, interval=0.2)
    assert done == f"{folder}/Greeting.wav"
    service = recording(api, fs, done)
    assert (service["tts"], service["label"], service["text"]) == (
        True,
        "Greeting",
        "Good morning, and welcome.",
    )
    # a text-to-speech original converts with its voice's default narration style
    (ordered,) = fs.order(done, "Alice")
    assert fs.wait(ordered, timeout=30, interval=0.2).endswith("Alice.wav")

    path = fs.tts(folder, "Bye", "See you.")
    assert path == f"{folder}/Bye.wav.processing"


@pytest.mark.parametrize("text", [b"", b"lang: en\n   \n", b"x" * 1001])
def test_tts_text_limits(fs: VoiceFileSystem, api: Api, folder: str, text: bytes) -> None:
    with raises_errno(ValueError, errno.EINVAL, f"{folder}/Bad.tts.txt") as error:
        fs.pipe(f"{folder}/Bad.tts.txt", text)
    assert "1000" in str(error.value)
    assert fs.ls(folder, detail=False) == [f"{folder}/recordings.csv"]


# ----------------------------------------------------------------- recordings.csv


def test_manifests_read_with_pandas(fs: VoiceFileSystem, account: Account, take: str) -> None:
    (alice,) = fs.order(take, "Alice", label="Soft")
    fs.wait(alice, timeout=30, interval=0.2)
    fs.star(take)
    storage = {"url": account.url, "api_key": account.api_key, "rate_limit": False}

    folder_table = pd.read_csv(f"voicefs://{FOLDER}/recordings.csv", storage_options=storage)
    assert list(folder_table["name"]) == ["take.wav"]
    row = folder_table.iloc[0]
    assert (row["type"], row["state"], bool(row["starred"])) == ("original", "done", True)
    assert row["id"] == fs.info(take)["id"]
    assert row["size"] == len(tone("wav"))

    sidecar_table = pd.read_csv(f"voicefs://{SIDECAR}/recordings.csv", storage_options=storage)
    assert list(sidecar_table["name"]) == ["Soft.wav"]
    assert sidecar_table.iloc[0]["voice"] == "Alice"
    assert sidecar_table.iloc[0]["original"] == "take.wav"
    for manifest in (f"{FOLDER}/recordings.csv", f"{SIDECAR}/recordings.csv"):
        assert fs.info(manifest)["size"] == len(fs.cat(manifest)) > 0
        with raises_errno(PermissionError, errno.EPERM, manifest):
            fs.pipe(manifest, b"name\n")


# ----------------------------------------------------------------------- /.voicefs


def test_account_files(fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess) -> None:
    listed = {e["name"]: e for e in fs.ls(".voicefs")}
    for name in ("voices.csv", "credits.json", "stats.json", "calibration.txt", "errors.log"):
        entry = listed[f".voicefs/{name}"]
        assert entry["size"] == len(fs.cat(entry["name"])), name
    voices = pd.read_csv(io.BytesIO(fs.cat(".voicefs/voices.csv")))
    assert len(voices) == api.ok("GET", "/api/v2/voices")["pagination"]["count"]
    assert json.loads(fs.cat(".voicefs/credits.json")) == api.ok("GET", "/api/credits")
    assert json.loads(fs.cat(".voicefs/stats.json"))["conversions"]["total"] == 0
    assert fs.cat(".voicefs/calibration.txt") == b"auto\n"

    with (
        counted(emulator) as requests,
        raises_errno(PermissionError, errno.EPERM, ".voicefs/credits.json"),
    ):
        fs.pipe(".voicefs/credits.json", b"{}")
    assert sum(requests[k] for k in requests if not k.startswith("GET")) == 0


def test_calibrations(fs: VoiceFileSystem, api: Api) -> None:
    voice = tone("flac", seconds=2.0, hz=180.0)
    fs.pipe(".voicefs/calibrations/My voice.flac", voice)
    (calibration,) = api.ok("GET", "/api/calibration")["list"]
    assert calibration["name"] == "My voice"
    assert fs.cat(".voicefs/calibrations/My voice.flac") == voice
    assert fs.info(".voicefs/calibrations/My voice.flac")["size"] == len(voice)

    with raises_errno(ValueError, errno.EINVAL, ".voicefs/calibrations/Noise.wav"):
        fs.pipe(".voicefs/calibrations/Noise.wav", b"not audio")

    def calibrated() -> bool:
        return api.ok("GET", f"/api/calibration/{calibration['id']}")["state"] == "calibrated"

    wait_until(calibrated)
    fs.makedirs(FOLDER, exist_ok=True)
    fs.pipe(TAKE, tone("wav"))
    fs.pipe(ORDER, b'Alice\ncalibration="My voice"\n')
    (ordered,) = conversions(api, fs, TAKE)
    assert ordered["calibration_id"] == calibration["id"]

    fs.pipe(".voicefs/calibration.txt", b"My voice\n")
    assert api.ok("GET", f"/api/calibration/{calibration['id']}")["enabled"] is True
    assert fs.cat(".voicefs/calibration.txt") == b"My voice\n"
    with raises_errno(ValueError, errno.EINVAL, ".voicefs/calibration.txt") as error:
        fs.pipe(".voicefs/calibration.txt", b"Nobody")
    assert "My voice" in str(error.value)
    fs.pipe(".voicefs/calibration.txt", b"auto")
    assert api.ok("GET", f"/api/calibration/{calibration['id']}")["enabled"] is False

    fs.rm(".voicefs/calibrations/My voice.flac")
    assert api.ok("GET", "/api/calibration")["list"] == []


# --------------------------------------------------------------------- end to end


def test_upload_order_wait_star_note_manifest_and_export(
    fs: VoiceFileSystem, account: Account, folder: str, tmp_path: Path
) -> None:
    fs.put_file(_local_take(tmp_path), f"{folder}/Scene 1.flac")
    fs.pipe(f"{folder}/Scene 1.flac.conversions/order.txt", b"Alice\nBob label=Deep\n")
    alice = fs.wait(f"{folder}/Scene 1.flac.conversions/Alice.flac", timeout=30, interval=0.2)
    deep = fs.wait(f"{folder}/Scene 1.flac.conversions/Deep.flac", timeout=30, interval=0.2)
    fs.touch(alice + ".star")
    fs.pipe(deep + ".note.txt", b"too low")

    storage = {"url": account.url, "api_key": account.api_key, "rate_limit": False}
    table = pd.read_csv(
        f"voicefs://{folder}/Scene 1.flac.conversions/recordings.csv", storage_options=storage
    ).set_index("name")
    assert table.loc["Alice.flac", "starred"] == True  # noqa: E712 - numpy bool
    assert table.loc["Deep.flac", "note"] == "too low"
    assert table.loc["Deep.flac", "voice"] == "Bob"
    assert set(table["state"]) == {"done"}

    with fs.open(".voicefs/exports/Project.starred.zip", "rb") as handle:
        names = zipfile.ZipFile(handle).namelist()
    assert names == ["Takes/Scene 1/Alice.flac"]
    with fs.open(".voicefs/exports/Project.zip", "rb") as handle:
        assert len(zipfile.ZipFile(handle).namelist()) == 3


def _local_take(directory: Path) -> str:
    path = directory / "take.flac"
    path.write_bytes(tone("flac"))
    return str(path)
