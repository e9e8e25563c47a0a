"""Exactly-once creates under the emulator's faults: requests dropped before the store or after
it (the answer lost), and 500s either way. No duplicates, nothing missing."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.api.conftest import WavFactory, make_client
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api import VoiceClient

# Ten retries: at a 20 % fail rate an idempotent call then fails for good once in 5e7 tries.
# The client-side limiter is off: these runs send more than 100 slow requests in 300 s, which
# the real budget would (rightly) stretch to minutes; the emulator does not limit here.
FAULTY = {"max_retries": 10, "backoff": 0.01, "rate_limit": False}


@pytest.fixture
def faulty(account: Account) -> VoiceClient:
    return make_client(account, **FAULTY)


def test_uploads_exactly_once_with_dropped_connections(
    emulator: EmulatorProcess, faulty: VoiceClient, wav: WavFactory
) -> None:
    project = faulty.create_project("Faults")
    folder = faulty.create_folder(project.id, "Uploads")
    sources = [wav(f"take-{n:03d}.wav", seconds=0.02 + n * 0.0005) for n in range(100)]
    emulator.reset_request_counts()
    emulator.set_faults(fail_rate=0.2, fail_mode="drop", seed=11)
    returned = [faulty.upload_recording(folder.id, path) for path in sources]
    emulator.clear_faults()
    counts = emulator.request_counts()
    assert counts["POST /api/recordings"] > 100
    assert counts.get("GET /api/recordings/originals", 0) > 0  # ...after looking first
    stored = list(faulty.list_originals(folder.id))
    names = Counter(r.file_name for r in stored)
    assert names == Counter(p.name for p in sources)  # each exactly once
    assert {r.id for r in returned} == {r.id for r in stored}
    for path, rec in zip(sources, returned, strict=True):
        assert rec.file_name == path.name and rec.size == path.stat().st_size


def test_orders_exactly_once_with_dropped_connections(
    emulator: EmulatorProcess, faulty: VoiceClient, wav: WavFactory
) -> None:
    project = faulty.create_project("Faults")
    folder = faulty.create_folder(project.id, "Orders")
    original = faulty.upload_recording(folder.id, wav(seconds=0.02))
    voices = {v.name: v.id for v in faulty.list_voices()}
    emulator.reset_request_counts()
    emulator.set_faults(fail_rate=0.2, fail_mode="drop", seed=12)
    conversion_ids: list[str] = []
    for n in range(100):
        # half labelled, half not (matched by voice alone); two conversions in some orders
        spec = (
            {"voice_id": voices["Alice"], "label": f"c{n}"}
            if n % 2
            else {"voice_id": voices["Bob"]}
        )
        batch = [spec, {"voice_id": voices["Greta"]}] if n % 10 == 0 else [spec]
        orders = faulty.order(original.id, batch)
        assert len(orders) == len(batch)
        conversion_ids.extend(o.conversion_id for o in orders)
    emulator.clear_faults()
    counts = emulator.request_counts()
    assert counts["POST /api/v2/orders"] > 100
    stored = list(faulty.list_conversions(original.id))
    assert len(stored) == 110 == len(conversion_ids)
    assert sorted(r.id for r in stored) == sorted(conversion_ids)
    labels = Counter(r.label for r in stored if r.label)
    assert labels == Counter(f"c{n}" for n in range(1, 100, 2))
    assert Counter(r.model_name for r in stored) == {"Alice": 50, "Bob": 50, "Greta": 10}


def test_other_creates_exactly_once_with_injected_500s(
    emulator: EmulatorProcess, faulty: VoiceClient, wav: WavFactory
) -> None:
    base = faulty.create_project("Base")
    folder = faulty.create_folder(base.id, "F")
    recordings = [faulty.upload_recording(folder.id, wav(f"r{n}.wav")) for n in range(10)]
    emulator.set_faults(fail_rate=0.3, fail_mode="error", seed=13)
    projects = [faulty.create_project(f"Project {n}") for n in range(15)]
    folders = [faulty.create_folder(base.id, f"Folder {n}") for n in range(15)]
    notes = [faulty.create_note(r.id, f"note {n}") for n, r in enumerate(recordings)]
    tts = [faulty.create_tts(folder.id, f"Sentence number {n}.", label=f"T{n}") for n in range(8)]
    cal = faulty.create_calibration("Cal", wav("cal.wav"))
    emulator.clear_faults()
    assert sorted(p.name for p in faulty.list_projects()) == sorted(
        ["Base", *(p.name for p in projects)]
    )
    assert len({p.id for p in projects}) == 15
    assert [f.name for f in faulty.list_folders(base.id)] == ["F", *(f.name for f in folders)]
    assert [n.text for n in faulty.list_notes(folder.id)] == [n.text for n in notes]
    tts_stored = [r for r in faulty.list_originals(folder.id) if r.tts]
    assert sorted(r.label or "" for r in tts_stored) == sorted(f"T{n}" for n in range(8))
    assert {r.id for r in tts} == {r.id for r in tts_stored}
    assert [c.id for c in faulty.list_calibrations()] == [cal.id]


def test_idempotent_calls_survive_faults_and_give_up_with_eio(
    emulator: EmulatorProcess, account: Account
) -> None:
    with make_client(account, **FAULTY) as api:
        emulator.set_faults(fail_rate=0.3, fail_mode="drop", seed=14)
        for _ in range(30):
            assert api.credits().credits > 0
        emulator.set_faults(fail_rate=1.0, fail_mode="error")
    with make_client(account, max_retries=2, backoff=0.01) as fragile:
        with pytest.raises(ConnectionError) as info:
            fragile.credits()
        assert info.value.errno == 5 and "injected fault" in str(info.value)


def test_downloads_resume_and_stay_exact_under_drops(
    emulator: EmulatorProcess, faulty: VoiceClient, wav: WavFactory
) -> None:
    folder = faulty.create_folder(faulty.create_project("P").id, "F")
    path = wav(seconds=3.0)
    data = path.read_bytes()
    url = faulty.upload_recording(folder.id, path).url or ""
    emulator.set_faults(fail_rate=0.3, fail_mode="drop", seed=15)
    for n in range(20):
        start, end = n * 1000, n * 1000 + 50_000
        assert faulty.download(url, start, end) == data[start:end]
    assert faulty.download(url) == data
