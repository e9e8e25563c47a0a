"""Uploads stream from disk: a large upload barely moves the process's memory. Downloads
into memory give exactly the bytes asked, resume a body cut short, and keep their connection
for the next request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.api.local_server import serving
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


PAYLOAD = bytes(range(256)) * 12288  # 3 MiB: more than one read of CHUNK_SIZE


class Served(ThreadingHTTPServer):
    """Serves PAYLOAD at any path over HTTP/1.1 keep-alive, honouring Range with 206 unless
    `ignore_range`; `cut` stops the next body after that many bytes and closes."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.ignore_range = False
        self.cut: int | None = None
        self.ranges: list[str | None] = []
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Served

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        asked = self.headers.get("Range")
        self.server.ranges.append(asked)
        start, end = 0, len(PAYLOAD)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", asked or "")
        if match and not self.server.ignore_range:
            start = int(match[1])
            end = min(end, int(match[2]) + 1) if match[2] else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:end]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.cut is not None:
            body, self.server.cut = body[: self.server.cut], None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served() -> Iterator[Served]:
    yield from serving(Served())


@pytest.mark.parametrize("ignore_range", [False, True], ids=["206", "200"])
def test_downloads_resume_a_body_cut_short(served: Served, ignore_range: bool) -> None:
    served.ignore_range = ignore_range
    with VoiceClient(served.url, api_key="KEY", backoff=0.01) as api:
        served.cut = 300_000
        assert api.download("/file") == PAYLOAD
        assert served.ranges == [None, "bytes=300000-"]
        served.cut = 300_000
        assert api.download("/file", 1000, 900_000) == PAYLOAD[1000:900_000]
        resumed = 300_000 if ignore_range else 301_000  # a 200 counts from byte 0
        assert served.ranges[-1] == f"bytes={resumed}-899999"
        served.cut = 700_000
        assert api.download("/file", 10) == PAYLOAD[10:]
        assert served.ranges[-1] == f"bytes={700_000 if ignore_range else 700_010}-"


def test_whole_reads_keep_their_connection(served: Served) -> None:
    with VoiceClient(served.url, api_key="KEY") as api:
        for _ in range(3):
            assert api.download("/file") == PAYLOAD
        assert api.download("/file", 5, 50) == PAYLOAD[5:50]
        assert b"".join(api.iter_download("/file")) == PAYLOAD
    assert served.connections == 1
