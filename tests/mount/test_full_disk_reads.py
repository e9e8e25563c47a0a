"""Reading through the mount when the cache directory's disk is full (CONTRACT §6, §7): a
recording that cannot be kept is read from the service, a ranged GET per MiB, with its bytes
intact; errors.log says so once, and status.json says the cache directory is full."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.drive.test_audio_cache import AUDIO_ROUTE, MiB, free_bytes, small_disk
from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted, run


def status(mountpoint: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((mountpoint / ".voicefs/status.json").read_text())
    return loaded


def test_a_full_cache_disk_serves_reads_uncached_and_says_so(
    emulator: EmulatorProcess, account: Account, api: Api, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    response = api.upload(folder["id"], tone("wav", 80.0), "long.wav")  # 3.4 MiB
    assert response.status_code == 200, response.text
    recording = response.json()
    served = tmp_path / "served.wav"
    served.write_bytes(api.download(recording).content)
    size = served.stat().st_size
    mountpoint = tmp_path / "mnt"
    with small_disk(tmp_path / "cache", 20 * MiB) as cache, mounted(account, mountpoint, cache):
        audio_dir = cache / "audio"
        long = mountpoint / "Project/Takes/long.wav"
        assert long.stat().st_size == size  # listed, and the listing kept on the disk
        assert status(mountpoint)["cache"]["full"] is False
        filler = cache / "filler"
        subprocess.run(["fallocate", "-l", str(free_bytes(cache) - 2 * MiB), filler], check=True)

        emulator.reset_request_counts()
        run("cmp", str(served), str(long))
        assert emulator.request_counts().get(AUDIO_ROUTE, 0) <= 2 * -(-size // MiB)  # ~1 a MiB
        run("cmp", str(served), str(long))  # again from the service (the kernel may keep it)
        assert os.listdir(audio_dir) == []  # no partial file, nothing kept
        line = (
            f"ENOSPC {recording['id']}: not kept in the audio cache: no space left in "
            f"{audio_dir}; read from the service"
        )
        log = (mountpoint / ".voicefs/errors.log").read_text().splitlines()
        assert [entry for entry in log if line in entry] == [log[-1]], log  # once
        full = status(mountpoint)["cache"]
        assert full["directory"] == str(audio_dir) and full["full"] is True
        assert MiB < full["free_bytes"] <= 2 * MiB

        filler.unlink()
        room = status(mountpoint)["cache"]
        assert room["full"] is False and room["free_bytes"] > 15 * MiB
