"""A drive that keeps working when the service does not (CONTRACT §6): with the service gone,
browsing and cached audio go on from the last known state, writes fail at once with EIO, and
status.json says so; when it is back the drive recovers with no remount. A slow service does
not hold up a listed folder. A remount serves the remembered tree with no request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from tests.mount.mounting import mounted, run

TIMEOUT = "2"  # the mount's --timeout, in seconds
BOUND = 15.0  # a call taking longer than this is hanging (the slow service takes 60 s)
UPLOAD = "POST /api/recordings"


def bounded(*command: Any, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """A real tool that must finish within BOUND seconds, whatever the service does."""
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True, timeout=BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command[0]} still running after {BOUND} s")
    if check and result.returncode != 0:
        pytest.fail(f"{command} exited with {result.returncode}: {result.stderr.decode()}")
    return result


def status(mountpoint: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((mountpoint / ".voicefs/status.json").read_text())
    return loaded


def test_the_drive_goes_on_without_the_service_and_recovers_by_itself(
    own_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    account = own_emulator.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    new = tmp_path / "new.wav"
    new.write_bytes(tone("wav", hz=300))
    mountpoint = tmp_path / "mnt"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, tmp_path / "cache", "--timeout", TIMEOUT, "--cache-ttl", "1"):
        audio = (takes / "take.wav").read_bytes()  # now in the audio cache
        listing = bounded("ls", "-l", takes).stdout
        walked = bounded("find", mountpoint / "Project").stdout
        assert status(mountpoint)["state"] == "online"

        own_emulator.stop()
        time.sleep(1.5)  # the listings expire: the remembered state answers from now on
        assert bounded("ls", "-l", takes).stdout == listing
        bounded("stat", takes / "take.wav")
        assert bounded("find", mountpoint / "Project").stdout == walked
        assert bounded("cat", takes / "take.wav").stdout == audio
        refused = bounded("cp", new, takes, check=False)
        assert refused.returncode != 0 and b"Input/output error" in refused.stderr
        assert "new.wav" not in os.listdir(takes)
        away = status(mountpoint)
        assert away["state"] == "offline" and away["last_error"], away
        assert away["pending_uploads"] == []  # the refused copy waits in no queue
        log = (mountpoint / ".voicefs/errors.log").read_text()
        assert "service offline since" in log
        assert any("EIO" in line and "Takes/new.wav" in line for line in log.splitlines()), log
        again = bounded("cp", new, takes / "again.wav", check=False)  # known away: at once
        assert again.returncode != 0 and b"Input/output error" in again.stderr
        log = (mountpoint / ".voicefs/errors.log").read_text()
        assert "Takes/again.wav: not written: the service is offline since" in log, log

        own_emulator.start()
        wait_until(lambda: status(mountpoint)["state"] == "online" or None, timeout=20)
        bounded("cp", new, takes)
        assert "service online" in (mountpoint / ".voicefs/errors.log").read_text()
    (uploaded,) = [r for r in api.recordings(folder["id"]) if r["file_name"] == "new.wav"]
    assert api.download(uploaded).content == new.read_bytes()


def test_a_listed_folder_answers_while_the_service_takes_a_minute(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    """And one never listed fails with EIO within the bound instead of hanging."""
    project = api.project("Project")["id"]
    folder = api.folder(project, "Takes")
    api.folder(project, "Never opened")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    mountpoint = tmp_path / "mnt"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, tmp_path / "cache", "--timeout", TIMEOUT, "--cache-ttl", "1"):
        bounded("ls", "-l", takes)
        emulator.set_faults(latency_ms=60_000)
        try:
            time.sleep(1.5)  # the listing expires: looking again would take a minute
            assert b"take.wav" in bounded("ls", "-l", takes).stdout
            assert b"take.wav" in bounded("ls", "-l", takes).stdout
            unknown = bounded("ls", mountpoint / "Project/Never opened", check=False)
            assert unknown.returncode != 0 and b"Input/output error" in unknown.stderr
        finally:
            emulator.clear_faults()


def test_a_remount_serves_the_remembered_tree_and_rsync_sends_nothing(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    session = tmp_path / "session"
    session.mkdir()
    for n in range(3):
        (session / f"take {n}.wav").write_bytes(tone("wav", hz=200 + 50 * n))
    mountpoint, cache = tmp_path / "mnt", tmp_path / "cache"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, cache):
        run("rsync", "-a", f"{session}/", f"{takes}/")
        walked = run("find", str(mountpoint)).stdout
    with mounted(account, mountpoint, cache):
        emulator.reset_request_counts()
        assert run("find", str(mountpoint)).stdout == walked
        run("ls", "-lR", str(mountpoint / "Project"))
        assert emulator.request_counts() == {}
        run("rsync", "-a", f"{session}/", f"{takes}/")
        assert UPLOAD not in emulator.request_counts()
    assert len(api.recordings(folder["id"])) == 3


def test_kill_9_during_a_walk_and_a_copy_leaves_a_store_the_next_mount_opens(
    account: Account, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    for n in range(20):
        api.upload(folder["id"], tone("wav"), f"take {n}.wav").raise_for_status()
    session = tmp_path / "session"
    session.mkdir()
    for n in range(4):
        (session / f"new {n}.wav").write_bytes(tone("wav", seconds=2.0, hz=200 + 50 * n))
    mountpoint, cache = tmp_path / "mnt", tmp_path / "cache"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, cache, "--cache-ttl", "0.2") as process:
        walking = subprocess.Popen(
            ["sh", "-c", f"while true; do find '{mountpoint}' -ls >/dev/null 2>&1; done"]
        )
        copying = subprocess.Popen(
            ["cp", *sorted(str(p) for p in session.iterdir()), str(takes)],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        process.send_signal(signal.SIGKILL)
        process.wait()
        walking.kill()
        walking.wait()
        copying.wait(timeout=60)
        subprocess.run(["fusermount3", "-uz", str(mountpoint)], check=False)
    with mounted(account, mountpoint, cache):
        listed = run("ls", str(takes)).stdout.split("\n")
        assert {f"take {n}.wav" for n in range(20)} <= set(listed)
        run("find", str(mountpoint))


def test_a_remount_after_the_ttl_shows_the_last_known_tree_then_brings_it_up_to_date(
    account: Account, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    mountpoint, cache = tmp_path / "mnt", tmp_path / "cache"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, cache, "--cache-ttl", "1"):
        walked = run("find", str(mountpoint / "Project")).stdout
    api.upload(folder["id"], tone("wav", hz=300), "made elsewhere.wav").raise_for_status()
    time.sleep(1.5)  # everything remembered is older than the TTL now
    with mounted(account, mountpoint, cache, "--cache-ttl", "1"):
        assert run("find", str(mountpoint / "Project")).stdout == walked  # at once, as known
        wait_until(lambda: "made elsewhere.wav" in os.listdir(takes) or None, timeout=20)
