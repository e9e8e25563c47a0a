"""Shared fixtures: the emulator as a real server process, and isolated accounts on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator_process import Account, EmulatorProcess, running_emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """One emulator for the session; conversions finish after 0.3 s."""
    yield from running_emulator("--conversion-seconds", "0.3")


@pytest.fixture
def account(emulator: EmulatorProcess) -> Iterator[Account]:
    """A fresh, isolated user on the session's emulator; faults are cleared afterwards."""
    yield emulator.new_account()
    emulator.clear_faults()
