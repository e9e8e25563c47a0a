"""The `voicefs mount` and `voicefs unmount` commands, run as a user runs them: daemon mode,
the one-line refusals (wrong key, a non-empty or already mounted mount point, unmounting what
is not mounted), and the API key kept out of argv and out of the cache directory."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account
from tests.mount.mounting import mounted, require_fuse, run


def voicefs(
    *args: str, key: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m voicefs ARGS` with the key (if any) in VOICEFS_API_KEY."""
    env = {k: v for k, v in os.environ.items() if k != "VOICEFS_API_KEY"}
    if key is not None:
        env["VOICEFS_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "voicefs", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def mount_args(account: Account, mountpoint: Path, cache_dir: Path) -> list[str]:
    return ["mount", str(mountpoint), "--url", account.url, "--cache-dir", str(cache_dir)]


@pytest.fixture
def mountpoint(tmp_path: Path) -> Iterator[Path]:
    """An empty directory to mount at; whatever got mounted there is unmounted afterwards."""
    require_fuse()
    path = tmp_path / "mnt"
    path.mkdir()
    try:
        yield path
    finally:
        if os.path.ismount(path):
            subprocess.run(["fusermount3", "-u", str(path)], check=False, capture_output=True)
        if os.path.ismount(path):
            subprocess.run(["fusermount3", "-uz", str(path)], check=False, capture_output=True)


def one_line(stderr: str) -> str:
    """The single line a refused command printed; fails on a traceback or several lines."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_mount_returns_once_ready_and_unmount_unmounts(
    account: Account, mountpoint: Path, tmp_path: Path, api: Api
) -> None:
    """`voicefs mount` returns 0 with the drive already there (its daemon has no key in its
    arguments); `voicefs unmount` removes it."""
    api.folder(api.project("Project")["id"], "Takes")
    mounted_now = voicefs(*mount_args(account, mountpoint, tmp_path / "cache"), key=account.api_key)
    assert mounted_now.returncode == 0, mounted_now.stderr
    assert os.path.ismount(mountpoint)
    assert "Project" in os.listdir(mountpoint)
    assert _commands_holding(account.api_key.encode()) == []
    assert "Takes" in run("ls", str(mountpoint / "Project")).stdout
    unmounted = voicefs("unmount", str(mountpoint))
    assert unmounted.returncode == 0, unmounted.stderr
    assert not os.path.ismount(mountpoint)
    assert os.listdir(mountpoint) == []


def test_a_background_mount_logs_to_a_private_file_in_its_cache_directory(
    account: Account, mountpoint: Path, tmp_path: Path, api: Api
) -> None:
    """Without --foreground there is no terminal: -vv goes to <cache>/logs/mount.log, 0600,
    with every request in it and never the key."""
    api.folder(api.project("Project")["id"], "Takes")
    cache = tmp_path / "cache"
    started = voicefs(*mount_args(account, mountpoint, cache), "-vv", key=account.api_key)
    assert started.returncode == 0, started.stderr
    try:
        run("ls", "-l", str(mountpoint / "Project" / "Takes"))
    finally:
        assert voicefs("unmount", str(mountpoint)).returncode == 0
    log = cache / "logs" / "mount.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    logged = log.read_text()
    assert f"{mountpoint}: mounted (writable)" in logged
    assert "GET /api/folders" in logged  # -vv: each request
    assert account.api_key not in logged


def test_a_wrong_key_is_one_line_and_mounts_nothing(
    account: Account, mountpoint: Path, tmp_path: Path
) -> None:
    """A wrong API key: exit status 1, one line on stderr, no traceback, nothing mounted."""
    result = voicefs(*mount_args(account, mountpoint, tmp_path / "cache"), key="wrong-key")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("voicefs mount:"), line
    assert not os.path.ismount(mountpoint)


def test_a_non_empty_mount_point_is_refused(
    account: Account, mountpoint: Path, tmp_path: Path
) -> None:
    """A mount point with files in it: exit status 1 and one line naming it."""
    (mountpoint / "keep.txt").write_text("mine\n")
    result = voicefs(*mount_args(account, mountpoint, tmp_path / "cache"), key=account.api_key)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(mountpoint) in line and "not empty" in line, line
    assert not os.path.ismount(mountpoint)
    assert (mountpoint / "keep.txt").read_text() == "mine\n"


def test_an_already_mounted_mount_point_is_refused(
    account: Account, mount: Path, tmp_path: Path
) -> None:
    """Mounting again where the account is mounted: exit status 1 and one line naming it; the
    first mount goes on working."""
    result = voicefs(*mount_args(account, mount, tmp_path / "cache2"), key=account.api_key)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(mount) in line, line
    assert os.path.ismount(mount)
    assert ".voicefs" in os.listdir(mount)


def test_unmount_of_what_is_not_mounted_is_one_line(mountpoint: Path) -> None:
    """`voicefs unmount` of a plain directory: exit status 1 and one line naming it."""
    result = voicefs("unmount", str(mountpoint))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert str(mountpoint) in line and "not mounted" in line, line


def test_a_missing_mount_point_is_named_as_missing(account: Account, tmp_path: Path) -> None:
    result = voicefs(*mount_args(account, tmp_path / "nowhere", tmp_path / "cache"))
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"{tmp_path / 'nowhere'}: no such directory" in line, line


def test_a_drive_whose_process_died_is_refused_then_unmounted(
    account: Account, mountpoint: Path, tmp_path: Path
) -> None:
    """After kill -9 the directory answers "Transport endpoint is not connected": mounting
    there again says it is mounted, and `voicefs unmount` clears it."""
    with mounted(account, mountpoint, tmp_path / "cache") as process:
        process.kill()
        process.wait(timeout=30)
        with pytest.raises(OSError) as dead:
            os.listdir(mountpoint)
        assert dead.value.errno == errno.ENOTCONN
        again = voicefs(*mount_args(account, mountpoint, tmp_path / "cache"), key=account.api_key)
        assert again.returncode == 1
        assert "mounted there already" in one_line(again.stderr)
        status = voicefs("status", "--url", account.url, key=account.api_key)
        assert status.returncode == 1
        assert str(mountpoint) in one_line(status.stderr)
        cleared = voicefs("unmount", str(mountpoint))
        assert cleared.returncode == 0, cleared.stderr
        assert os.listdir(mountpoint) == []


def test_the_key_is_not_in_argv_nor_in_the_cache(
    account: Account, api: Api, tmp_path: Path
) -> None:
    """While mounted and used, the API key is in no process argument, no mount option and no
    file of the cache directory."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    cache = tmp_path / "cache"
    mountpoint = tmp_path / "mnt"
    key = account.api_key.encode()
    with mounted(account, mountpoint, cache) as process:
        run("ls", "-lR", str(mountpoint / "Project"))
        run("cp", str(mountpoint / "Project/Takes/take.wav"), str(tmp_path / "read.wav"))
        assert (tmp_path / "read.wav").read_bytes() == tone("wav")
        run(
            "cp",
            str(mountpoint / "Project/Takes/take.wav"),
            str(mountpoint / "Project/Takes/copy.wav"),
        )
        run("sh", "-c", f"echo Alice > '{mountpoint}/Project/Takes/take.wav.conversions/order.txt'")
        run("cat", str(mountpoint / ".voicefs/errors.log"))
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert str(mountpoint).encode() in argv
        assert key not in argv
        assert _commands_holding(key) == []
        assert key not in Path("/proc/self/mounts").read_bytes()
        cached_while_mounted = _files_holding(cache, key)
    assert cached_while_mounted == []
    assert _files_holding(cache, key) == []
    assert any(p.is_file() for p in cache.rglob("*")), "the mount cached nothing to look at"


def _files_holding(directory: Path, needle: bytes) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _commands_holding(needle: bytes) -> list[str]:
    """The command lines of this machine's processes that contain needle."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
        except OSError:
            continue  # the process ended
        if needle in argv:
            found.append(argv.replace(b"\0", b" ").decode(errors="replace"))
    return found


def test_mount_shows_the_service_as_the_drives_source(account: Account, tmp_path: Path) -> None:
    """`mount` shows `voicefs:<host>` as the source, as rclone shows `remote:`; never a bare
    `voicefs`, which util-linux shows as a path when run beside a `voicefs` directory (the
    checkout, under `voicefs demo`)."""
    host = urlsplit(account.url).netloc
    beside = tmp_path / "checkout"
    (beside / "voicefs").mkdir(parents=True)
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache"):
        listed = subprocess.run(["mount"], capture_output=True, text=True, cwd=beside).stdout
        table = Path("/proc/self/mounts").read_text()
    line = next(line for line in listed.splitlines() if f" on {mountpoint} " in line)
    assert line.startswith(f"voicefs:{host} on {mountpoint} type fuse.voicefs"), line
    assert f"voicefs:{host} {mountpoint} fuse.voicefs" in table
    assert account.api_key not in listed and account.api_key not in table
