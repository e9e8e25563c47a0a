"""Fixtures for the filesystem's tests: a `VoiceFileSystem` over a fresh account of the
emulator, the account's HTTP API for setting things up and checking them, and a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import Api
from tests.emulator_process import Account, EmulatorProcess, running_emulator
from tests.fs.helpers import FOLDER, make_fs
from voicefs.filesystem import VoiceFileSystem

ENV_VARS = (
    "VOICEFS_URL",
    "VOICEFS_API_KEY",
    "VOICEFS_EMAIL",
    "VOICEFS_PASSWORD",
    "VOICEFS_PROFILE",
)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the real home's profile or the caller's VOICEFS_* variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fs(account: Account) -> VoiceFileSystem:
    return make_fs(account)


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


@pytest.fixture
def folder(fs: VoiceFileSystem) -> str:
    """`Project/Takes`, made through the filesystem."""
    fs.makedirs(FOLDER)
    return FOLDER


@pytest.fixture(scope="session")
def slow_emulator() -> Iterator[EmulatorProcess]:
    """A second emulator whose conversions and TTS take ten minutes: they stay `processing`
    for the whole test, so what a processing item looks like is checked without racing it."""
    yield from running_emulator("--conversion-seconds", "600")
