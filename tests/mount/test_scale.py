"""The mount's memory stays within its stated bound (docs/mount.md) through the walk of a
large account: 5,000 recordings here (`--seed large --seed-scale 2x5x500`); the
benchmarks walk 100,000. With `--cache-entries` below the account, what the walk passed is
let go (the store keeps it): memory follows the bound, not the account."""

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


def walk_memory(large: EmulatorProcess, directory: Path, *options: str) -> tuple[int, int]:
    """A mount's RSS before the walk and its peak after `find` and `ls -lR` of it (KiB)."""
    account = Account(large.url, "", LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)
    mountpoint = directory / "mnt"
    with mounted(account, mountpoint, directory / "cache", *options) as process:
        before = status_kib(process.pid, "VmRSS")
        recordings = ("-path", "*/.voicefs", "-prune", "-o", "-name", "*.wav", "-print")
        found = run("find", str(mountpoint), *recordings).stdout.splitlines()
        run("ls", "-lR", str(mountpoint))
        peak = status_kib(process.pid, "VmHWM")
    assert len(found) == RECORDINGS
    return before, peak


def status_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(
        next(line for line in status.splitlines() if line.startswith(f"{field}:")).split()[1]
    )


def test_the_walk_of_a_large_account_stays_within_the_memory_bound(
    large: EmulatorProcess, tmp_path: Path
) -> None:
    _, peak_kib = walk_memory(large, tmp_path)
    assert peak_kib / 1024 < memory_bound_mib(RECORDINGS), f"peak {peak_kib / 1024:.0f} MiB"


def test_memory_follows_the_entries_kept_not_the_account(
    large: EmulatorProcess, tmp_path: Path
) -> None:
    """The same walk with 1,000 entries kept in memory grows the mount by well under half
    what it grows keeping all 5,000 recordings (measured: 12 MiB against 28 MiB)."""
    before, peak = walk_memory(large, tmp_path / "all")
    bounded_before, bounded_peak = walk_memory(
        large, tmp_path / "bounded", "--cache-entries", "1000"
    )
    grown, bounded_grown = peak - before, bounded_peak - bounded_before
    assert bounded_grown < 0.6 * grown, (bounded_grown, grown)
