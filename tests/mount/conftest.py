"""Fixtures of the mount's tests: an account of the session's emulator, mounted for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import Api
from tests.emulator_process import Account
from tests.mount.mounting import mounted


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


@pytest.fixture
def mount(account: Account, tmp_path: Path) -> Iterator[Path]:
    """The account mounted at a fresh directory, with its own cache directory."""
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache"):
        yield mountpoint
