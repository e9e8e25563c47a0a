"""Uploads stream from disk: a large upload barely moves the process's memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from tests.emulator_process import REPO_ROOT, Account
from voicefs.api import Folder, VoiceClient

MiB = 1 << 20

# Runs in a fresh process: RSS after a warm-up request, then the peak while uploading
# (VmHWM reset through /proc/self/clear_refs, plus a 5 ms sampler where that is unavailable).
CHILD = r"""
import json, sys, threading, time
from voicefs.api import VoiceClient

def kib(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field + ":"))

url, key, folder_id, path = sys.argv[1:5]
client = VoiceClient(url, api_key=key, rate_limit=False)
client.credits()
try:
    open("/proc/self/clear_refs", "w").write("5")
except OSError:
    pass
baseline, peak, running = kib("VmRSS"), 0, True

def sample():
    global peak
    while running:
        peak = max(peak, kib("VmRSS"))
        time.sleep(0.005)

thread = threading.Thread(target=sample)
thread.start()
rec = client.upload_recording(folder_id, path)
running = False
thread.join()
print(json.dumps({"baseline": baseline, "peak": max(peak, kib("VmHWM")), "size": rec.size}))
"""


def _big_wav(path: Path, size: int) -> Path:
    block = (np.sin(np.arange(MiB) / 10) * 8000).astype(np.int16)
    with soundfile.SoundFile(path, "w", 48000, 1, subtype="PCM_16", format="WAV") as out:
        for _ in range(size // (2 * MiB)):
            out.write(block)
    return path


def test_large_upload_streams_from_disk(
    account: Account, client: VoiceClient, folder: Folder, tmp_path: Path
) -> None:
    path = _big_wav(tmp_path / "big.wav", 96 * MiB)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, account.url, account.api_key, folder.id, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["size"] == path.stat().st_size
    growth_mib = (measured["peak"] - measured["baseline"]) / 1024
    assert growth_mib < 16, f"a 96 MiB upload raised RSS by {growth_mib:.1f} MiB"
    # and the bytes arrived intact
    stored = next(client.list_originals(folder.id))
    head = client.download(stored.url or "", 0, 1 << 16)
    with path.open("rb") as handle:
        assert head == handle.read(1 << 16)
