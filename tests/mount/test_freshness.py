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


def test_the_drives_own_changes_show_at_once_after_a_warm_walk(
    account: Account, api: Api, tmp_path: Path
) -> None:
    """An upload, a rename and a star made through the drive show in the next `ls`, though
    every listing and attribute of the folder was just walked and is young."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    first = api.upload(folder["id"], tone("wav"), "first.wav").json()
    source = tmp_path / "second.wav"
    source.write_bytes(tone("wav"))
    mountpoint = tmp_path / "mnt"
    takes = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, tmp_path / "cache", "--cache-ttl", "600"):
        run("find", str(mountpoint / "Project"))
        run("ls", "-lR", str(mountpoint / "Project"))  # warm: everything listed is young

        run("cp", str(source), str(takes))
        assert "second.wav" in run("ls", str(takes)).stdout.split("\n")
        run("mv", str(takes / "first.wav"), str(takes / "renamed.wav"))
        shown = run("ls", str(takes)).stdout.split("\n")
        assert "renamed.wav" in shown and "first.wav" not in shown
        run("touch", str(takes / "renamed.wav.star"))
        assert "renamed.wav.star" in run("ls", str(takes)).stdout.split("\n")
    on_the_service = {r["id"]: r for r in api.recordings(folder["id"])}
    assert on_the_service[first["id"]]["starred"] is True  # the renamed take, starred
    assert len(on_the_service) == 2  # and the upload, once


def test_a_change_made_elsewhere_shows_within_the_ttl_and_not_staler(
    account: Account, api: Api, tmp_path: Path
) -> None:
    """A star set through the API alone (the web app) shows once the folder's listing is
    older than `--cache-ttl`, and not while it is younger: the TTL is the promise both ways."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    mountpoint = tmp_path / "mnt"
    takes = mountpoint / "Project/Takes"
    ttl = 4.0
    with mounted(account, mountpoint, tmp_path / "cache", "--cache-ttl", str(ttl)):
        assert "take.wav.star" not in os.listdir(takes)
        listed = time.monotonic()
        api.ok("PATCH", f"/api/recordings/{take['id']}", json={"starred": True})
        assert "take.wav.star" not in os.listdir(takes)  # young: the drive's listing answers
        while "take.wav.star" not in os.listdir(takes):
            time.sleep(0.2)
            assert time.monotonic() - listed < ttl + 3, "staler than --cache-ttl"
        assert time.monotonic() - listed >= ttl - 0.5  # it waited for the listing to age
