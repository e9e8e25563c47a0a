"""Fixtures for the filesystem's tests: a `VoiceFileSystem` over a fresh account of the
emulator, the account's HTTP API for setting things up and checking them, and a folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.helpers import Api
from tests.emulator_process import Account, EmulatorProcess, running_emulator
from tests.fs.helpers import FOLDER, make_fs
from voicefs.filesystem import VoiceFileSystem


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
