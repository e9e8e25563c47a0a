"""Nothing written is lost to a crash, and nothing is sent twice (CONTRACT §3): `kill -9` the
mount during a `cp` of several files, mount again, and every file ends up on the service
exactly once with the right bytes."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from tests.mount.mounting import mounted, run


def test_kill_9_during_cp_then_remount_finishes_each_file_once(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    session = tmp_path / "session"
    session.mkdir()
    for n in range(6):
        (session / f"take {n}.wav").write_bytes(tone("wav", seconds=3.0, hz=150 + 40 * n))
    cache = tmp_path / "cache"
    mountpoint = tmp_path / "mnt"
    target = mountpoint / "Project/Takes"

    with mounted(account, mountpoint, cache) as mount_process:
        os.listdir(target)
        emulator.set_faults(latency_ms=400)  # every request slow: the kill lands mid-upload
        copy = subprocess.Popen(
            ["cp", *sorted(str(p) for p in session.iterdir()), str(target)],
            stderr=subprocess.PIPE,
            text=True,
        )

        def uploading() -> bool | None:
            journal = cache / "journal"
            return True if journal.exists() and any(journal.rglob("*.json")) else None

        wait_until(uploading, timeout=30)
        mount_process.send_signal(signal.SIGKILL)
        mount_process.wait()
        copy.wait(timeout=60)
        subprocess.run(["fusermount3", "-uz", str(mountpoint)], check=False)
        emulator.clear_faults()
    assert copy.returncode != 0  # cp saw the mount die
    interrupted = len(list((cache / "journal").rglob("*.json")))
    assert interrupted >= 1

    with mounted(account, mountpoint, cache):

        def journal_done() -> bool | None:
            return True if not list((cache / "journal").rglob("*.json")) else None

        wait_until(journal_done, timeout=60)
        run("rsync", "-a", "--ignore-existing", f"{session}/", f"{target}/")

    uploaded: dict[str, list[dict[str, Any]]] = {}
    for recording in api.recordings(folder["id"]):
        uploaded.setdefault(recording["file_name"], []).append(recording)
    assert sorted(uploaded) == sorted(p.name for p in session.iterdir())
    for local in session.iterdir():
        (only,) = uploaded[local.name]  # exactly once
        assert api.download(only).content == local.read_bytes()
