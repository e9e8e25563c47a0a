"""`voicefs unmount` waits for files still open on the drive, and what they held is sent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account
from tests.mount.mounting import mounted


def test_unmount_waits_for_an_open_upload_then_unmounts(
    account: Account, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache") as process:
        take = open(mountpoint / "Project/Takes/late.wav", "wb")  # noqa: SIM115
        take.write(tone("wav"))
        unmount = subprocess.Popen(
            [sys.executable, "-m", "voicefs", "unmount", str(mountpoint)],
            stderr=subprocess.PIPE,
            text=True,
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            unmount.wait(timeout=2)
        assert unmount.returncode is None, "unmount did not wait for the open file"
        take.close()
        assert unmount.wait(timeout=30) == 0, unmount.stderr
        process.wait(timeout=30)
    assert not os.path.ismount(mountpoint)
    (uploaded,) = [r for r in api.recordings(folder["id"]) if r["file_name"] == "late.wav"]
    assert api.download(uploaded).content == tone("wav")


def test_sigterm_and_sigint_unmount_cleanly(account: Account, tmp_path: Path) -> None:
    """A foreground mount stopped with SIGTERM or Ctrl-C (SIGINT) unmounts and exits 0."""
    for number, stop in enumerate((signal.SIGTERM, signal.SIGINT)):
        mountpoint = tmp_path / f"mnt{number}"
        with mounted(account, mountpoint, tmp_path / "cache") as process:
            os.listdir(mountpoint)
            process.send_signal(stop)
            assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
            assert not os.path.ismount(mountpoint)
