"""Every endpoint group the filesystem needs, at the HTTP level against the emulator."""

from __future__ import annotations

import io
import math
import os
import zipfile
from pathlib import Path

import pytest

from tests.api.conftest import WavFactory
from tests.emulator_process import EmulatorProcess, wait_until
from voicefs.api import ConversionRequest, Folder, Project, Recording, VoiceClient


def _voice(client: VoiceClient, name: str) -> str:
    return next(v.id for v in client.list_voices() if v.name == name)


def _done(client: VoiceClient, recording_id: str, state: str = "done") -> Recording:
    return wait_until(
        lambda: (r := client.get_recording(recording_id)).state == state and r, timeout=20
    )


def test_projects(client: VoiceClient) -> None:
    created = client.create_project("Alpha")
    assert created.name == "Alpha" and created.owner == client.user_id()
    renamed = client.rename_project(created.id, "Beta")
    assert renamed.name == "Beta"
    assert [p.name for p in client.list_projects()] == ["Beta"]
    client.delete_project(created.id)
    assert list(client.list_projects()) == []
    with pytest.raises(FileNotFoundError):
        client.delete_project(created.id)


def test_project_pages_ask_for_100(emulator: EmulatorProcess, client: VoiceClient) -> None:
    for n in range(101):
        client.create_project(f"P{n:03d}")
    emulator.reset_request_counts()
    names = [p.name for p in client.list_projects()]
    assert names == [f"P{n:03d}" for n in range(101)]  # oldest first, no duplicates
    assert emulator.request_counts() == {"GET /api/projects": 2}


def test_folders(client: VoiceClient, project: Project) -> None:
    folder = client.create_folder(project.id, "One")
    assert folder.project_id == project.id
    assert client.get_folder(folder.id) == folder
    assert client.rename_folder(folder.id, "Two").name == "Two"
    client.create_folder(project.id, "Three")
    assert [f.name for f in client.list_folders(project.id)] == ["Two", "Three"]
    client.delete_folder(folder.id)
    with pytest.raises(FileNotFoundError):
        client.get_folder(folder.id)


def test_upload_from_path_fileobj_and_pipe(
    client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    path = wav("a.wav")
    from_path = client.upload_recording(folder.id, path)
    assert from_path.file_name == "a.wav" and from_path.size == path.stat().st_size
    with path.open("rb") as handle:
        from_file = client.upload_recording(folder.id, handle, file_name="b.wav", label="B take")
    assert from_file.file_name == "b.wav" and from_file.label == "B take"

    read_end, write_end = os.pipe()  # not seekable: spooled to disk first
    os.write(write_end, path.read_bytes())  # a few KiB: fits the pipe's buffer
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        piped = client.upload_recording(folder.id, pipe, file_name="c.wav")
    assert piped.size == path.stat().st_size
    assert client.download(piped.url or "") == path.read_bytes()
    originals = [r.file_name for r in client.list_originals(folder.id)]
    assert originals == ["a.wav", "b.wav", "c.wav"]


def test_recording_update_star_label_delete(
    client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    rec = client.upload_recording(folder.id, wav())
    starred = client.update_recording(rec.id, starred=True)
    assert starred.starred and starred.label is None
    labelled = client.update_recording(rec.id, label="Take one")
    assert labelled.label == "Take one" and labelled.starred  # PATCH keeps other fields
    client.delete_recording(rec.id)
    with pytest.raises(FileNotFoundError):
        client.get_recording(rec.id)


def test_downloads_and_ranges(client: VoiceClient, folder: Folder, wav: WavFactory) -> None:
    path = wav(seconds=1.0)
    data = path.read_bytes()
    rec = client.upload_recording(folder.id, path)
    url = rec.url or ""
    assert url.startswith("/")  # root-relative: resolved against the service URL
    assert client.download(url) == data
    assert client.download(url, 100, 200) == data[100:200]
    assert client.download(url, len(data) - 5) == data[-5:]
    assert client.download(url, len(data) + 10) == b""  # past the end: nothing, no error
    chunks = list(client.iter_download(url, 10, 30_000, chunk_size=4096))
    assert b"".join(chunks) == data[10:30_000] and len(chunks) > 1


def test_list_recordings_of_a_project_in_pages_of_200(
    emulator: EmulatorProcess, client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    original = client.upload_recording(folder.id, wav(seconds=0.05))
    alice = _voice(client, "Alice")
    total = 1
    for batch in (199, 200, 1):
        client.order(original.id, [{"voice_id": alice}] * batch, known_conversions=())
        total += batch
        emulator.reset_request_counts()
        recordings = list(client.list_recordings(project_id=folder.project_id))
        assert len(recordings) == total == len({r.id for r in recordings})
        assert emulator.request_counts() == {"GET /api/recordings": math.ceil(total / 200)}
    assert sum(1 for _ in client.list_conversions(original.id)) == 400
    assert [r.id for r in client.list_originals(folder.id)] == [original.id]
    assert sum(1 for _ in client.list_recordings(folder_id=folder.id)) == 401


def test_order_with_options_and_retry_of_a_failed_conversion(
    client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    original = client.upload_recording(folder.id, wav())
    voices = {v.name: v for v in client.list_voices()}
    bob = voices["Bob"]
    accent = next(a for a in bob.accents if not a.is_default)
    orders = client.order(
        original.id,
        [
            ConversionRequest(bob.id, accent_id=accent.id, semitones_correction=1.5, label="Bob"),
            {"voice_id": voices["Flaky"].id},
        ],
    )
    assert len(orders) == 2 and all(o.original_id == original.id for o in orders)
    bob_conv = _done(client, orders[0].conversion_id)
    assert bob_conv.model_name == "Bob" and bob_conv.label == "Bob"
    assert bob_conv.original_id == original.id and bob_conv.type == "converted"
    failed = _done(client, orders[1].conversion_id, "error")
    assert failed.error
    retried = client.retry_conversion(failed.id)
    assert retried.conversion_id == failed.id
    assert _done(client, failed.id).url
    audio = client.download(bob_conv.url or "")
    assert audio[:4] in (b"RIFF", b"OggS", b"fLaC", b"ID3\x03")


def test_tts(client: VoiceClient, folder: Folder) -> None:
    rec = client.create_tts(folder.id, "Hello there.", language="en", label="Greeting")
    assert rec.tts and rec.label == "Greeting" and rec.text == "Hello there."
    done = _done(client, rec.id)
    assert client.download(done.url or "")[:4] == b"RIFF"


def test_notes(client: VoiceClient, folder: Folder, wav: WavFactory) -> None:
    rec = client.upload_recording(folder.id, wav())
    note = client.create_note(rec.id, "first")
    assert note.text == "first" and note.recording_id == rec.id
    assert client.update_note(rec.id, "second").text == "second"
    fetched = client.get_recording(rec.id).note
    assert fetched is not None and fetched.text == "second"
    assert [n.text for n in client.list_notes(folder.id)] == ["second"]
    client.delete_note(rec.id)
    assert client.get_recording(rec.id).note is None
    assert client.list_notes(folder.id) == []


def test_voices(emulator: EmulatorProcess, client: VoiceClient) -> None:
    emulator.reset_request_counts()
    voices = list(client.list_voices())
    assert emulator.request_counts() == {"GET /api/v2/voices": 1}  # one page of 100
    alice = next(v for v in voices if v.name == "Alice")
    assert alice.accents and alice.narration_styles and alice.available
    found = client.search_voices("Ali")
    assert [v.name for v in found] == ["Alice"]
    assert client.set_voice_favorite(alice.id).favorite
    style = alice.narration_styles[-1]
    updated = client.set_voice_settings(alice.id, narration_style_id=style.id)
    assert updated.id == alice.id


def test_calibrations(client: VoiceClient, wav: WavFactory) -> None:
    created = client.create_calibration("My voice", wav("cal.wav", seconds=0.5))
    assert created.name == "My voice"
    assert [c.id for c in client.list_calibrations()] == [created.id]
    calibrated = wait_until(
        lambda: (c := client.get_calibration(created.id)).state != "processing" and c
    )
    enabled = client.enable_calibration(calibrated.id)
    assert enabled.enabled
    assert isinstance(client.use_auto_calibration(), dict)
    assert not client.get_calibration(created.id).enabled
    assert client.rename_calibration(created.id, "Renamed").name == "Renamed"
    client.delete_calibration(created.id)
    assert list(client.list_calibrations()) == []


def test_credits_and_stats(client: VoiceClient, folder: Folder) -> None:
    credits = client.credits()
    assert credits.credits > 0 and credits.initial_credits >= credits.credits
    assert "conversions" in client.stats()
    stats = client.project_stats([folder.project_id])
    assert stats[0]["project_id"] == folder.project_id
    assert client.folder_stats([folder.id])[0]["folder_id"] == folder.id


def test_exports(client: VoiceClient, folder: Folder, wav: WavFactory, tmp_path: Path) -> None:
    original = client.upload_recording(folder.id, wav("take.wav"))
    client.update_recording(original.id, starred=True)
    order = client.order(original.id, [{"voice_id": _voice(client, "Alice")}])[0]
    _done(client, order.conversion_id)
    with client.export_project(folder.project_id) as export:
        assert export.filename and export.filename.endswith(".zip")
        data = b"".join(export.iter_chunks(1024))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any(n.endswith("take.wav") for n in names) and len(names) >= 2
    with client.export_project(folder.project_id, starred_only=True) as starred:
        assert len(zipfile.ZipFile(io.BytesIO(starred.read())).namelist()) == 1
    with client.export_recording(original.id) as takes:
        assert zipfile.ZipFile(io.BytesIO(takes.read())).namelist()
