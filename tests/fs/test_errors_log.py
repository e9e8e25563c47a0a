"""`/.voicefs/errors.log` shows recent errors with their paths and reasons (CONTRACT §2): what
a write was refused for, and what the service answered when it failed."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import FOLDER, make_fs
from voicefs.filesystem import VoiceFileSystem

LOG = ".voicefs/errors.log"


def test_a_refused_write_is_logged_with_its_path_and_reason(
    fs: VoiceFileSystem, folder: str
) -> None:
    """A bad order line and a name the upload would change each leave one line."""
    fs.pipe_file(f"{FOLDER}/take.wav", tone("wav"))
    order = f"{FOLDER}/take.wav.conversions/order.txt"
    with pytest.raises(ValueError):
        fs.pipe_file(order, b"Nobody\n")
    with pytest.raises(ValueError):
        fs.pipe_file(f'{FOLDER}/say "hi".wav', tone("wav"))
    lines = fs.cat_file(LOG).decode().splitlines()
    assert len(lines) == 2, lines
    assert "EINVAL" in lines[0] and order in lines[0] and "Nobody" in lines[0]
    assert f'{FOLDER}/say "hi".wav' in lines[1] and "double quote" in lines[1]


def test_a_failing_service_is_logged_once_and_a_missing_path_not_at_all(
    fs: VoiceFileSystem, account: Account, emulator: EmulatorProcess, folder: str
) -> None:
    """The service's 500 is logged once with the path, between lines saying the service went
    offline and came back; `exists` of nothing is no error."""
    assert not fs.exists(f"{FOLDER}/nothing.wav")
    sick = make_fs(account, max_retries=0)
    emulator.set_faults(fail_rate=1.0, fail_mode="error", seed=1)
    try:
        with pytest.raises(ConnectionError):
            sick.ls(FOLDER)
    finally:
        emulator.clear_faults()
    offline, line, online = sick.cat_file(LOG).decode().splitlines()
    assert "service offline since" in offline and "injected fault" in offline, offline
    assert "EIO" in line and FOLDER in line and "injected fault" in line, line
    assert online.endswith("service online"), online  # reading the log listed the root
    assert fs.cat_file(LOG) == b""
