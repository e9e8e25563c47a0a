"""An interrupted write sends nothing (CONTRACT §3): an exception inside
`with fs.open(p, "wb")`, or `discard()` before `close()`, uploads no audio, places no order and
writes no note. Checked on the service and through a fresh filesystem."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import (
    closed_on_failure,
    conversions,
    file_names,
    fresh_cat,
    fresh_names,
    writes,
)
from tests.fs.helpers import FOLDER, counted, folder_id, note, recording, upload
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"
ORDER = f"{TAKE}.conversions/order.txt"
NOTE = f"{TAKE}.note.txt"


class Interrupted(Exception):
    """What the caller's own code raises half-way through writing a file."""


@pytest.fixture
def take(fs: VoiceFileSystem, api: Api, folder: str) -> dict[str, Any]:
    """`Project/Takes/take.wav`, uploaded through the HTTP API; its id and folder id."""
    takes = folder_id(fs)
    return {"id": upload(api, takes, "take.wav")["id"], "folder": takes}


def test_an_exception_inside_an_audio_write_uploads_nothing(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, account: Account, take: dict[str, Any]
) -> None:
    """The with block raises after the audio was written: nothing is uploaded."""
    path = f"{FOLDER}/cut off.wav"
    with counted(emulator) as requests, pytest.raises(Interrupted), fs.open(path, "wb") as handle:
        handle.write(tone("wav"))  # complete audio: only the exception says "do not send"
        raise Interrupted
    assert writes(requests) == {}, requests
    assert file_names(api, take["folder"]) == ["take.wav"]
    assert "cut off.wav" not in fresh_names(account)


def test_an_exception_inside_an_order_write_places_no_order(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, account: Account, take: dict[str, Any]
) -> None:
    """The with block raises after the voices were written to order.txt: nothing is ordered."""
    with counted(emulator) as requests, pytest.raises(Interrupted), fs.open(ORDER, "wb") as handle:
        handle.write(b"Alice\nBob\n")
        raise Interrupted
    assert writes(requests) == {}, requests
    assert conversions(api, take["folder"]) == []
    assert fresh_names(account, f"{TAKE}.conversions") == ["order.txt", "recordings.csv"]


def test_an_exception_inside_a_note_write_leaves_no_note(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, account: Account, take: dict[str, Any]
) -> None:
    """The with block raises after the text was written to X.note.txt: X gets no note."""
    with counted(emulator) as requests, pytest.raises(Interrupted), fs.open(NOTE, "wb") as handle:
        handle.write(b"Too loud at 0:03")
        raise Interrupted
    assert writes(requests) == {}, requests
    assert recording(api, take["id"]).get("note") is None
    assert "take.wav.note.txt" not in fresh_names(account)


def test_an_exception_inside_a_note_rewrite_keeps_the_old_note(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, account: Account, take: dict[str, Any]
) -> None:
    """The with block raises while X.note.txt is rewritten: the old note stays as it was."""
    note(api, take["id"], "Keep this one")
    with counted(emulator) as requests, pytest.raises(Interrupted), fs.open(NOTE, "wb") as handle:
        handle.write(b"Half a new no")
        raise Interrupted
    assert writes(requests) == {}, requests
    assert recording(api, take["id"])["note"]["text"] == "Keep this one"
    assert fresh_cat(account, NOTE) == b"Keep this one"


@pytest.mark.parametrize(
    ("path", "content"),
    [
        (f"{FOLDER}/discarded.wav", tone("wav")),
        (ORDER, b"Alice\n"),
        (NOTE, b"Not this note"),
    ],
    ids=["audio", "order", "note"],
)
def test_discard_then_close_sends_nothing(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    account: Account,
    take: dict[str, Any],
    path: str,
    content: bytes,
) -> None:
    """`f.discard()` throws the written bytes away: the following close() sends nothing."""
    with counted(emulator) as requests:
        handle = fs.open(path, "wb")
        with closed_on_failure(handle):
            handle.write(content)
            handle.discard()
            handle.close()
    assert writes(requests) == {}, requests
    assert file_names(api, take["folder"]) == ["take.wav"]
    assert conversions(api, take["folder"]) == []
    assert recording(api, take["id"]).get("note") is None
    assert fresh_names(account) == ["take.wav", "take.wav.conversions", "recordings.csv"]


def test_an_exception_inside_a_text_mode_write_sends_nothing(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, take: dict[str, Any]
) -> None:
    """`open(p, "w")` (text) is discarded on an exception like a binary write."""
    with counted(emulator) as requests, pytest.raises(Interrupted), fs.open(NOTE, "w") as handle:
        handle.write("Too loud at 0:03")
        raise Interrupted
    assert writes(requests) == {}, requests
    assert recording(api, take["id"]).get("note") is None


def test_a_transaction_sends_its_files_when_it_ends(
    fs: VoiceFileSystem, api: Api, take: dict[str, Any]
) -> None:
    """Inside `with fs.transaction:` a write is sent when the transaction ends, not before."""
    with fs.transaction:
        with fs.open(f"{TAKE}.star", "wb"):
            pass
        assert recording(api, take["id"])["starred"] is False
    assert recording(api, take["id"])["starred"] is True
