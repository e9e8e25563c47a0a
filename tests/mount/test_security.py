"""Security through the drive and the filesystem: the key stays out of logs at DEBUG, argv
(`ps`), the cache directory and error messages; what the mount keeps on disk is private
(files 0600, directories 0700) and stays inside its cache directory; the mount is private to
its user unless `--allow-other`; one user of the service cannot see or change another's
objects. (The key never travels to another origin: tests/api/test_origins.py.)"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import make_fs
from tests.mount.mounting import require_fuse, run, unmount
from voicefs.api import VoiceClient


def mount_process(
    account: Account, mountpoint: Path, cache: Path, log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """`voicefs mount -vv` (DEBUG to its log), the key in the environment only."""
    require_fuse()
    mountpoint.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VOICEFS_API_KEY": account.api_key}
    command = [sys.executable, "-m", "voicefs", "mount", str(mountpoint), "--foreground"]
    command += ["--url", account.url, "--cache-dir", str(cache), "-vv", *extra]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while not os.path.ismount(mountpoint):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the mount did not become ready"
        time.sleep(0.05)
    return process


def test_the_key_stays_out_of_debug_logs_argv_and_the_cache_directory(
    account: Account, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    local = tmp_path / "new take.wav"
    local.write_bytes(tone("wav", hz=330))
    mountpoint, cache, log = tmp_path / "mnt", tmp_path / "cache", tmp_path / "mount.log"
    process = mount_process(account, mountpoint, cache, log)
    try:
        takes = mountpoint / "Project/Takes"
        run("ls", "-lR", str(mountpoint))
        subprocess.run(["cat", str(takes / "take.wav")], capture_output=True, check=True)
        run("cp", str(local), str(takes))
        run("tee", str(takes / "take.wav.conversions/order.txt"), input="Alice\n")
        run("touch", str(takes / ".take.wav.swp"))  # a scratch file, kept locally
        run(
            "cat",
            str(mountpoint / ".voicefs/credits.json"),
            str(mountpoint / ".voicefs/status.json"),
        )
        arguments = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert account.api_key not in arguments
        assert "voicefs mount" in arguments  # the mount was there to be seen
    finally:
        unmount(mountpoint, process)  # type: ignore[arg-type]
    logged = log.read_bytes()
    assert b"GET /api/projects" in logged  # DEBUG was on
    assert account.api_key.encode() not in logged
    kept = [path for path in cache.rglob("*")]
    assert any(path.suffix == ".sqlite" for path in kept) and any("audio" in str(p) for p in kept)
    for path in kept:
        mode = path.lstat().st_mode
        assert not stat.S_ISLNK(mode), path
        assert path.resolve().is_relative_to(cache.resolve()), path
        if stat.S_ISDIR(mode):
            assert stat.S_IMODE(mode) == 0o700, (path, oct(mode))
        else:
            assert stat.S_IMODE(mode) == 0o600, (path, oct(mode))
            assert account.api_key.encode() not in path.read_bytes(), path


def test_the_key_stays_out_of_fsspec_logs_reprs_and_errors(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fs = make_fs(account)
    fs.makedirs("Project/Takes")
    fs.pipe_file("Project/Takes/take.wav", tone("wav"))
    fs.cat_file("Project/Takes/take.wav")
    wrong = make_fs(account, api_key=account.api_key[::-1])
    with pytest.raises(PermissionError) as refused:
        wrong.ls("")
    assert "GET /api/projects" in caplog.text  # DEBUG was on
    for text in (caplog.text, repr(fs), str(fs), repr(fs.client), str(refused.value)):
        assert account.api_key not in text and account.api_key[::-1] not in text


@pytest.fixture
def open_place() -> Iterator[Path]:
    """A directory anyone may enter (unlike pytest's), so only the mount can say no."""
    place = Path(tempfile.mkdtemp(prefix="voicefs-private-"))
    place.chmod(0o755)
    yield place
    shutil.rmtree(place, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("allow_other", [False, True])
def test_the_mount_is_private_to_its_user_unless_allow_other(
    account: Account, open_place: Path, allow_other: bool
) -> None:
    mountpoint = open_place / "mnt"
    extra = ("--allow-other",) if allow_other else ()
    process = mount_process(account, mountpoint, open_place / "cache", open_place / "log", *extra)
    try:
        options = next(
            line
            for line in Path("/proc/mounts").read_text().splitlines()
            if f" {mountpoint} " in line
        )
        other = subprocess.run(
            ["runuser", "-u", "nobody", "--", "ls", str(mountpoint)],
            capture_output=True,
            text=True,
        )
    finally:
        unmount(mountpoint, process)  # type: ignore[arg-type]
    assert ("allow_other" in options) is allow_other, options
    if allow_other:
        assert other.returncode == 0, other.stderr
    else:
        assert other.returncode != 0 and "Permission denied" in other.stderr, other.stderr


def test_one_user_cannot_see_or_change_anothers_objects(
    emulator: EmulatorProcess, account: Account, api: Api
) -> None:
    folder = api.folder(api.project("Secret project")["id"], "Takes")
    theirs = api.upload(folder["id"], tone("wav"), "private.wav").json()
    intruder = emulator.new_account()
    fs = make_fs(intruder)
    assert fs.ls("", detail=False) == ["projects.csv", ".voicefs"]
    assert not fs.exists("Secret project")
    client = VoiceClient(url=intruder.url, api_key=intruder.api_key, rate_limit=False)
    with pytest.raises(FileNotFoundError):
        client.get_recording(theirs["id"])
    with pytest.raises(FileNotFoundError):
        client.delete_recording(theirs["id"])
    with pytest.raises(FileNotFoundError):
        list(client.list_recordings(folder_id=folder["id"]))
    assert api.ok("GET", f"/api/recordings/{theirs['id']}")["id"] == theirs["id"]
