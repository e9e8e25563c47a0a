"""Temporary names and atomic replace (CONTRACT §3): `sed -i`, `perl -pi`, Python's mkstemp +
os.replace, a download saved as `.part` then renamed, a LibreOffice lock file. The temporary
file stays local; the rename performs the write exactly once; every effect is checked through
the service's API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess, wait_until
from tests.mount.mounting import run

UPLOAD = "POST /api/recordings"
ORDER = "POST /api/v2/orders"


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with take.wav, whose note says "Best take so far"."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    api.ok("POST", "/api/notes", json={"recording_id": take["id"], "text": "Best take so far"})
    return {"folder": folder, "take": take}


def note_of(api: Api, recording: dict[str, Any]) -> str:
    return str(api.ok("GET", f"/api/recordings/{recording['id']}")["note"]["text"])


def conversions(api: Api, folder: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in api.recordings(folder["id"]) if r["type"] != "original"]


def test_sed_and_perl_edit_a_note_in_place(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess
) -> None:
    note = mount / "Project/Takes/take.wav.note.txt"
    run("sed", "-i", "s/Best/Great/", str(note))
    assert note_of(api, takes["take"]) == "Great take so far"
    run("perl", "-pi", "-e", "s/Great/Fine/", str(note))
    assert note_of(api, takes["take"]) == "Fine take so far"
    assert note.read_text() == "Fine take so far"
    assert sorted(os.listdir(note.parent)) == [
        "recordings.csv",
        "take.wav",
        "take.wav.conversions",
        "take.wav.note.txt",
    ]


@pytest.mark.parametrize(
    "editor", [["sed", "-i", "$ a Alice"], ["perl", "-pi", "-e", '$_ .= "Alice\\n" if eof']]
)
def test_an_in_place_edit_of_order_txt_places_one_order(
    editor: list[str], takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess
) -> None:
    order = mount / "Project/Takes/take.wav.conversions/order.txt"
    emulator.reset_request_counts()
    run(*editor, str(order))
    assert emulator.request_counts().get(ORDER) == 1
    (conversion,) = wait_until(lambda: conversions(api, takes["folder"]) or None, timeout=20)
    assert conversion["model_name"] == "Alice"


def test_python_atomic_writes_of_a_note_and_a_new_take(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    source = tmp_path / "new.wav"
    source.write_bytes(tone("wav", seconds=1.5, hz=330))
    script = (
        "import os, sys, tempfile\n"
        "folder, source = sys.argv[1], sys.argv[2]\n"
        "fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')\n"
        "os.write(fd, b'Atomic note')\n"
        "os.close(fd)\n"
        "os.replace(tmp, os.path.join(folder, 'take.wav.note.txt'))\n"
        "fd, tmp = tempfile.mkstemp(dir=folder)\n"
        "os.write(fd, open(source, 'rb').read())\n"
        "os.close(fd)\n"
        "os.replace(tmp, os.path.join(folder, 'new.wav'))\n"
    )
    emulator.reset_request_counts()
    run(sys.executable, "-c", script, str(mount / "Project/Takes"), str(source))
    assert note_of(api, takes["take"]) == "Atomic note"
    assert emulator.request_counts().get(UPLOAD) == 1
    uploaded = {r["file_name"]: r for r in api.recordings(takes["folder"]["id"])}
    assert api.download(uploaded["new.wav"]).content == source.read_bytes()


def test_a_failed_replace_leaves_the_old_note(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess
) -> None:
    """A note over the service's 2,000 characters: the rename fails, the note stays."""
    folder = mount / "Project/Takes"
    script = (
        "import os, sys, tempfile\n"
        "fd, tmp = tempfile.mkstemp(dir=sys.argv[1])\n"
        "os.write(fd, b'x' * 2001)\n"
        "os.close(fd)\n"
        "try:\n"
        "    os.replace(tmp, os.path.join(sys.argv[1], 'take.wav.note.txt'))\n"
        "except OSError as exc:\n"
        "    os.unlink(tmp)\n"
        "    sys.exit(exc.errno)\n"
    )
    result = run(sys.executable, "-c", script, str(folder), check=False)
    assert result.returncode == 22, result.stderr
    assert note_of(api, takes["take"]) == "Best take so far"


def test_a_download_saved_as_part_uploads_when_renamed(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    source = tmp_path / "download.wav"
    source.write_bytes(tone("wav", hz=440))
    part = mount / "Project/Takes/download.wav.part"
    emulator.reset_request_counts()
    run("curl", "-sS", "-o", str(part), source.as_uri())
    assert emulator.request_counts().get(UPLOAD, 0) == 0  # still local
    run("mv", str(part), str(mount / "Project/Takes/download.wav"))
    assert emulator.request_counts().get(UPLOAD) == 1
    uploaded = {r["file_name"]: r for r in api.recordings(takes["folder"]["id"])}
    assert api.download(uploaded["download.wav"]).content == source.read_bytes()


@pytest.mark.parametrize(
    "name", [".~lock.take.wav#", "~$ke.wav", "draft.wav.crdownload", "tmpabcdefgh"]
)
def test_temporary_files_deleted_without_a_rename_send_nothing(
    name: str, takes: dict[str, Any], mount: Path, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    temporary = mount / "Project/Takes" / name
    emulator.reset_request_counts()
    temporary.write_bytes(tone("wav"))
    assert temporary.read_bytes() == tone("wav")
    temporary.unlink()
    assert not temporary.exists()
    sent = {k: v for k, v in emulator.request_counts().items() if not k.startswith("GET")}
    assert sent == {}


def test_a_name_that_is_no_temporary_name_is_still_refused(
    takes: dict[str, Any], mount: Path, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = run("cp", str(notes), str(mount / "Project/Takes/"), check=False)
    assert result.returncode != 0 and "Operation not permitted" in result.stderr
    assert "in a folder, write audio" in (mount / ".voicefs/errors.log").read_text()
