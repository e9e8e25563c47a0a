"""Mounting and unmounting: checks before the mount, the daemon, clean shutdown.

Credentials are checked before mounting, so a wrong key is one line and exit status 1, not a
mount that answers EACCES. Without `--foreground` the process forks once the mount exists
(libfuse's daemon mode) and the parent returns: threads and HTTP pools are made after that.
SIGINT, SIGTERM and `voicefs unmount` unmount cleanly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from voicefs.drive import Drive
from voicefs.drive.options import CredentialsError, DriveOptions
from voicefs.private import private_directory

log = logging.getLogger("voicefs.mount")

UNMOUNT_WAIT = 60.0  # seconds `voicefs unmount` waits for files still open on the drive
MOUNT_TABLE = Path("/proc/self/mounts")
MOUNT_TYPE = "fuse.voicefs"
STOPPED_BY_SIGNAL = 8  # fuse_main's return value when SIGINT/SIGTERM ended it: a clean stop


class MountError(Exception):
    """A mount that cannot happen, with a message for one line on stderr."""


@dataclass(frozen=True, kw_only=True)
class MountOptions(DriveOptions):
    mountpoint: Path
    foreground: bool = False
    allow_other: bool = False


def voicefs_mounts(table: Path = MOUNT_TABLE) -> list[str]:
    """The mountpoints of the voicefs drives this process can see, also those whose process
    has died (which `os.path.ismount` cannot tell: their directory answers ENOTCONN)."""
    found = []
    with contextlib.suppress(OSError):
        for line in table.read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[2] == MOUNT_TYPE:
                # the mount table escapes space, tab, newline and backslash as octal
                found.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1]))
    return found


def is_mounted(mountpoint: Path) -> bool:
    return os.path.ismount(mountpoint) or os.path.abspath(mountpoint) in voicefs_mounts()


def check_mountpoint(mountpoint: Path) -> None:
    if shutil.which("fusermount3") is None or not Path("/dev/fuse").exists():
        raise MountError("FUSE is not available here: install fuse3 (and /dev/fuse must exist)")
    if is_mounted(mountpoint):
        raise MountError(f"{mountpoint}: something is mounted there already")
    if not mountpoint.exists():
        raise MountError(f"{mountpoint}: no such directory (make it first: mkdir -p)")
    if not mountpoint.is_dir():
        raise MountError(f"{mountpoint}: not a directory")
    if any(mountpoint.iterdir()):
        raise MountError(f"{mountpoint}: not empty (a mount would hide what is there)")


def check_credentials(options: MountOptions) -> str:
    """One request before mounting (`DriveOptions.check_credentials`), as a MountError."""
    try:
        return options.check_credentials()
    except CredentialsError as exc:
        raise MountError(str(exc)) from exc


def mount_source(options: MountOptions, url: str) -> str:
    """What `mount` and `df` show as the drive's source, as rclone shows `remote:`: the
    profile, else the service's host (`voicefs:api.example.com`), never a bare `voicefs`
    that util-linux would show as a path when a `voicefs` directory is at hand."""
    shown = options.profile or urlsplit(url).netloc or url
    return "voicefs:" + re.sub(r"[\s,\\]", "_", shown)  # libfuse's -o list splits at commas


def mount(options: MountOptions, on_ready: Callable[[], None] | None = None) -> None:
    """Mounts and serves until unmounted; returns at once in the parent without --foreground."""
    from voicefs.mount.glue import VoiceFUSE
    from voicefs.mount.operations import VoiceOperations

    mountpoint = options.mountpoint.resolve()
    check_mountpoint(mountpoint)
    url = check_credentials(options)
    private_directory(options.cache_dir)
    operations = VoiceOperations(
        lambda: Drive(options.filesystem()),
        options.cache_dir,
        options.cache_size,
        read_only=options.read_only,
        on_ready=lambda: _when_mounted(mountpoint, on_ready),
    )
    fuse_options: dict[str, object] = {
        "fsname": mount_source(options, url),
        "subtype": "voicefs",
        "max_threads": 16,
        # libfuse 3.14 warns of its own default (UINT_MAX idle threads) unless one is given
        "max_idle_threads": 16,
        # unlink even while the file is open (a scratch file's local copy stays readable
        # through its open descriptor) instead of renaming it to `.fuse_hidden*`
        "hard_remove": True,
    }
    if options.read_only:
        fuse_options["ro"] = True
    if options.allow_other:
        fuse_options["allow_other"] = True
    try:
        VoiceFUSE(
            operations,
            str(mountpoint),
            foreground=options.foreground,
            nothreads=False,
            raw_fi=True,
            **fuse_options,
        )
    except RuntimeError as exc:
        if exc.args != (STOPPED_BY_SIGNAL,):
            raise MountError(f"{mountpoint}: the mount failed (libfuse error {exc})") from exc


def _when_mounted(mountpoint: Path, then: Callable[[], None] | None) -> None:
    """After the mount is there: larger kernel reads, then whatever the caller wanted."""
    for _ in range(200):
        if os.path.ismount(mountpoint):
            break
        time.sleep(0.05)
    _raise_readahead(mountpoint)
    if then is not None:
        then()


def _raise_readahead(mountpoint: Path) -> None:
    """1 MiB kernel read-ahead for this mount (the kernel's default is 128 KiB: eight times
    the round trips on a sequential read); only root may change it, so failing is fine."""
    with contextlib.suppress(OSError):
        device = os.stat(mountpoint).st_dev
        bdi = Path(f"/sys/class/bdi/{os.major(device)}:{os.minor(device)}/read_ahead_kb")
        bdi.write_text("1024\n")


def unmount(mountpoint: Path, wait: float = UNMOUNT_WAIT) -> None:
    """Unmounts. While programs still have files open on the drive (an upload finishing its
    close(), a copy in progress) the kernel says "busy": this waits up to `wait` seconds for
    them, then gives up with that message."""
    if not is_mounted(mountpoint):
        raise MountError(f"{mountpoint}: not mounted")
    deadline = time.monotonic() + wait
    while True:
        result = subprocess.run(
            ["fusermount3", "-u", str(mountpoint)], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return
        reason = result.stderr.strip() or f"fusermount3 exited with {result.returncode}"
        if "busy" not in reason or time.monotonic() > deadline:
            raise MountError(f"{mountpoint}: {reason}")
        time.sleep(0.5)
