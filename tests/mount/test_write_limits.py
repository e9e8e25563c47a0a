"""Writes at the edges (CONTRACT §3, §6): a full cache disk changes nothing and leaves nothing
behind, a spent budget and a hung service fail a write within `--timeout` instead of blocking,
a signal interrupts a waiting close(), and names the drive cannot hold are refused before
anything is sent. Every effect is checked through the service's API."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted, run

UPLOAD = "POST /api/recordings"
BOUND = 15.0  # a write taking longer than this blocks; --timeout is 2 s


@contextlib.contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at directory (the tests run as root, as CI does)."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], check=True
    )
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def takes_of(account: Account) -> tuple[Api, dict[str, Any], dict[str, Any]]:
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    api.ok("POST", "/api/notes", json={"recording_id": take["id"], "text": "Keep this note"})
    return api, folder, take


def bounded(*command: Any) -> tuple[subprocess.CompletedProcess[bytes], float]:
    started = time.monotonic()
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True, timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command[0]} still running after {BOUND} s")
    return result, time.monotonic() - started


def test_a_full_cache_disk_changes_nothing_and_leaves_nothing_behind(
    account: Account, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    api, _folder, take = takes_of(account)
    big = tmp_path / "big.wav"
    big.write_bytes(tone("wav", seconds=600.0, rate=22050))  # about 50 MiB of float samples
    small = tmp_path / "small.wav"
    small.write_bytes(tone("wav", hz=330))
    with tmpfs(tmp_path / "cache", "20m") as cache, mounted(account, tmp_path / "mnt", cache) as _:
        takes = tmp_path / "mnt/Project/Takes"
        emulator.reset_request_counts()
        result = run("cp", str(big), str(takes / "big.wav"), check=False)
        assert result.returncode != 0 and "No space left" in result.stderr, result.stderr
        assert emulator.request_counts().get(UPLOAD, 0) == 0
        staged = [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 1 << 20]
        assert staged == []  # the staged bytes went with the failed write
        assert list((cache / "journal").rglob("*.data")) == []
        run("cp", str(small), str(takes / "small.wav"))  # the next write has room again
        assert emulator.request_counts().get(UPLOAD) == 1

        filler = cache / "filler"
        subprocess.run(["fallocate", "-l", "30m", str(filler)], check=False)  # fills what is left
        emulator.reset_request_counts()
        note = takes / "take.wav.note.txt"
        result = run("sh", "-c", f"head -c 65536 /dev/zero | tr '\\0' x > '{note}'", check=False)
        assert result.returncode != 0
        assert api.ok("GET", f"/api/recordings/{take['id']}")["note"]["text"] == "Keep this note"
        sent = {k: v for k, v in emulator.request_counts().items() if not k.startswith("GET")}
        assert sent == {}
        filler.unlink()


def test_a_spent_budget_fails_writes_at_once_and_status_says_so(
    account: Account, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """The service answers 429 for the rest of a 300 s window: a copy fails within the
    mount's --timeout (it does not wait minutes), and what it sent is there once."""
    api, folder, _ = takes_of(account)
    sources = []
    for n in range(3):
        source = tmp_path / f"take {n}.wav"
        source.write_bytes(tone("wav", hz=200 + 40 * n))
        sources.append(source)
    with mounted(account, tmp_path / "mnt", tmp_path / "cache", "--timeout", "2") as _:
        takes = tmp_path / "mnt/Project/Takes"
        os.listdir(takes)
        emulator.set_faults(rate_limit=True, rate_limits={"fast": [500, 300], "slow": [1, 300]})
        result, took = bounded("cp", *sources, takes)
        assert result.returncode != 0, result.stderr
        assert took < 3 * 2 + 2, took
        uploaded = [r["file_name"] for r in api.recordings(folder["id"])]
        assert sorted(uploaded) == ["take 0.wav", "take.wav"]
        status = json.loads((tmp_path / "mnt/.voicefs/status.json").read_text())
        assert status["state"] == "rate limited", status
        assert "rate limited" in (tmp_path / "mnt/.voicefs/errors.log").read_text()


def test_a_hung_service_fails_a_copy_within_the_timeout_and_a_signal_interrupts_it(
    own_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    account = own_emulator.new_account()
    api, folder, _ = takes_of(account)
    big = tmp_path / "big.wav"
    big.write_bytes(tone("wav", seconds=120.0))
    assert own_emulator.process is not None
    pid = own_emulator.process.pid
    with mounted(account, tmp_path / "mnt", tmp_path / "cache", "--timeout", "2") as _:
        takes = tmp_path / "mnt/Project/Takes"
        os.listdir(takes)
        os.kill(pid, signal.SIGSTOP)
        try:
            interrupted, took = bounded("timeout", "1", "cp", big, takes / "again.wav")
            assert interrupted.returncode == 124  # killed by SIGTERM during its close()
            assert took < 2.0, took
            result, took = bounded("cp", big, takes / "hung.wav")
            assert result.returncode != 0 and b"Input/output error" in result.stderr
            assert took < 3 * 2 + 2, took  # about --timeout of silence, not minutes
        finally:
            os.kill(pid, signal.SIGCONT)
        time.sleep(4)  # what was under way has finished or failed by now
        uploaded = [r["file_name"] for r in api.recordings(folder["id"])]
        assert uploaded.count("hung.wav") <= 1 and uploaded.count("again.wav") <= 1
        assert sorted(set(uploaded)) == sorted(uploaded)


def test_names_the_drive_cannot_hold_are_refused_before_anything_is_sent(
    account: Account, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    _api, _folder, _ = takes_of(account)
    source = tmp_path / "take.wav"
    source.write_bytes(tone("wav"))
    with mounted(account, tmp_path / "mnt", tmp_path / "cache") as _:
        takes = tmp_path / "mnt/Project/Takes"
        emulator.reset_request_counts()
        long_name = "a" * 252 + ".wav"  # 256 bytes
        with pytest.raises(OSError) as refused:
            (takes / long_name).write_bytes(source.read_bytes())
        assert refused.value.errno == errno.ENAMETOOLONG
        with pytest.raises(OSError) as refused:
            os.mkdir(tmp_path / "mnt/Bad\tname")
        assert refused.value.errno == errno.EINVAL
        with pytest.raises(OSError) as refused:
            (takes / ("x" * 300 + ".tmp")).write_bytes(b"scratch")
        assert refused.value.errno == errno.ENAMETOOLONG
        sent = {k: v for k, v in emulator.request_counts().items() if not k.startswith("GET")}
        assert sent == {}
        log = (tmp_path / "mnt/.voicefs/errors.log").read_text()
        assert "\t" not in log and "Bad\\tname" in log
