"""The mount's memory stays within its stated bound (docs/mount.md) through the walk of a
large account: 5,000 recordings here (`--seed large --seed-scale 2x5x500`); the
benchmarks walk 100,000."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator_process import Account, EmulatorProcess, running_emulator
from tests.mount.mounting import mounted, run
from voicefs.emulator.seed_large import LARGE_API_KEY, LARGE_EMAIL, LARGE_PASSWORD

RECORDINGS = 2 * 5 * 500
BASE_MIB = 64  # the mount process with nothing listed: Python, libfuse, requests, SQLite
PER_RECORDING_KIB = 4  # listings, names and attributes kept for each (about 3 measured)


def memory_bound_mib(recordings: int) -> float:
    """What docs/mount.md promises: BASE_MIB plus PER_RECORDING_KIB per recording listed."""
    return BASE_MIB + recordings * PER_RECORDING_KIB / 1024


@pytest.fixture
def large(tmp_path: Path) -> Iterator[EmulatorProcess]:
    yield from running_emulator(
        "--seed", "large", "--seed-scale", "2x5x500", data_dir=tmp_path / "service"
    )


def test_the_walk_of_a_large_account_stays_within_the_memory_bound(
    large: EmulatorProcess, tmp_path: Path
) -> None:
    account = Account(large.url, "", LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache") as process:
        recordings = ("-path", "*/.voicefs", "-prune", "-o", "-name", "*.wav", "-print")
        found = run("find", str(mountpoint), *recordings).stdout.splitlines()
        run("ls", "-lR", str(mountpoint))
        status = Path(f"/proc/{process.pid}/status").read_text()
    peak_kib = int(
        next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]
    )
    assert len(found) == RECORDINGS
    assert peak_kib / 1024 < memory_bound_mib(RECORDINGS), f"peak {peak_kib / 1024:.0f} MiB"
