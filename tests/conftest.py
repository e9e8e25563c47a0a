"""Shared fixtures: the emulator as a real server process, and isolated accounts on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator_process import Account, EmulatorProcess, running_emulator

ENV_VARS = (
    "VOICEFS_URL",
    "VOICEFS_API_KEY",
    "VOICEFS_EMAIL",
    "VOICEFS_PASSWORD",
    "VOICEFS_PROFILE",
)


@pytest.fixture(autouse=True)
def isolated_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own config directory and no voicefs variables: never the real home."""
    config_home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return config_home


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """One emulator for the session; conversions finish after 0.3 s."""
    yield from running_emulator("--conversion-seconds", "0.3")


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """An emulator of the test alone, which it may stop and start again (same port, same
    data): for what a service that goes away and comes back does to voicefs."""
    yield from running_emulator("--conversion-seconds", "0.3", data_dir=tmp_path / "service")


@pytest.fixture
def account(emulator: EmulatorProcess) -> Iterator[Account]:
    """A fresh, isolated user on the session's emulator; faults are cleared afterwards."""
    yield emulator.new_account()
    emulator.clear_faults()
