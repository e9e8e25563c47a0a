"""When a change shows (CONTRACT §6): `--cache-ttl` is an age, whichever mount fetched the
listing, and a name not found in a listing within it costs no request. Checked with real
tools against the emulator's request counts."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted, run


def test_a_remount_with_a_longer_ttl_walks_with_no_request(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    """A listing fetched under `--cache-ttl 2` and now 3 s old is still young for a mount
    with `--cache-ttl 600`: its trust is judged by its age under the TTL in use."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    mountpoint, cache = tmp_path / "mnt", tmp_path / "cache"
    with mounted(account, mountpoint, cache, "--cache-ttl", "2"):
        walked = run("find", str(mountpoint / "Project")).stdout
    time.sleep(3)
    with mounted(account, mountpoint, cache, "--cache-ttl", "600"):
        emulator.reset_request_counts()
        assert run("find", str(mountpoint / "Project")).stdout == walked
        run("ls", "-lR", str(mountpoint / "Project"))
        assert emulator.request_counts() == {}


def test_a_name_not_found_in_a_listed_folder_costs_no_request_within_the_ttl(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    """rsync and editors look up names that are not there yet, again and again."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    mountpoint = tmp_path / "mnt"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, tmp_path / "cache", "--cache-ttl", "60"):
        os.listdir(takes)
        time.sleep(4)  # older than the kernel's negative timeout, and than 3 s
        emulator.reset_request_counts()
        for n in range(20):
            assert not (takes / f"missing {n}.wav").exists()
        assert emulator.request_counts() == {}
