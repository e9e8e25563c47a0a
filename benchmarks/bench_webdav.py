"""Benchmarks the WebDAV server (`voicefs serve webdav`) against the emulator on loopback.

Reports, in one run on one emulator (`--seed large --seed-scale 1x1x1000`, 1x1x200 with
--quick; the large account is the one served), each figure as a ratio to a baseline measured
in the same run (best of N, alternated round by round), or a request count against its minimum:
- a PROPFIND Depth 1 of a folder of 1,000 recordings (200 with --quick), allprop (no body, as
  RFC 4918 reads it) and five named properties (as a client asks). Cold: the first request of
  a server just started (the measured server; a new one for each further round): the
  service's requests, counted by the emulator, against the minimum 1 + P + ceil(R_project /
  200) (the projects, the project's folders, its recordings in pages of 200), and the time
  against the same requests made bare on a keep-alive `requests.Session`. Warm: the same
  server again (target 0 requests), against the same server with WsgiDAV's
  `FilesystemProvider` over the same names (sparse files of the same sizes) on local disk;
- a GET of a 64 MiB recording (8 MiB), read as `bare_download` reads (1 MiB chunks of
  `requests.get(stream=True)`). Cold (a recording the server has never read: it downloads it
  into its audio cache while it streams it) against a bare download of the same audio from
  the emulator (target >= 0.8, the mount's) and the FUSE mount's cold read of it (`voicefs
  mount` as bench_mount starts it, read as `cat` reads). Warm (the second GET: the audio
  cache) against the `FilesystemProvider` server reading the same file from the same disk,
  the mount's second read (the kernel's page cache) and its read with the file's pages dropped
  (voicefs's disk cache, the path the server's warm GET takes), and a bare download;
- a PUT of a 64 MiB WAV (8 MiB) into a folder, a new name each round (the server answers once
  the service has the take), against a bare multipart `requests.post` of the same file to
  POST /api/recordings (target >= 0.8, the mount's for `cp`);
- the server's peak RSS (VmRSS sampled every 10 ms, and VmHWM reset through clear_refs before)
  during a PUT of a 1 GiB WAV (64 MiB), made by the client while it sends it (an iterable with
  a length: sent with Content-Length, 1 MiB at a time); target < 150 MiB, the mount's; with
  the server's RSS after each step before it (started, PROPFINDs, GETs, PUTs). The emulator
  takes uploads up to `max_upload_bytes`, 2 GiB (voicefs/emulator/store.py; the reference
  documents a 413 but no figure): 1 GiB is within the service's limit.

How it serves. `python -m voicefs serve webdav --port 0 --url URL --cache-dir DIR`, the key in
VOICEFS_API_KEY and the password in VOICEFS_WEBDAV_PASSWORD (never argv), the cache directory
on the disk under $TMPDIR; ready once it prints "Serving the account over WebDAV at URL";
stopped with SIGINT. The baseline server is that same command run through a shim
(`LOCAL_DAV`) that puts WsgiDAV's `FilesystemProvider` in place of the drive's provider: the
same middleware, WsgiDAV configuration, threads and login, without the drive. The client logs
in with Basic, sent with every request (Digest starts with a 401, and requests'
HTTPDigestAuth cannot send a streamed body again after it); every request opens a new
connection, as a bare `requests.get` does. The emulator keeps its data on tmpfs, as in
bench_mount. Cold GETs read recordings uploaded before the server started, one per round, on
one server whose listings are warm (a PROPFIND of the file first, not timed): the download is
what is measured, not the listings on the way.

Usage: python benchmarks/bench_webdav.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import secrets
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_client import CHUNK, MiB, bare_download, bare_upload, write_wav  # noqa: E402
from benchmarks.bench_mount import (  # noqa: E402
    SETTLE,
    Mounts,
    RssSampler,
    drop_page_cache,
    machine,
    read_file,
    routes,
    timed,
    total,
    verdict,
)
from tests.emulator.helpers import Api  # noqa: E402
from tests.emulator_process import Account, EmulatorProcess, running_emulator  # noqa: E402
from tests.mount.mounting import fuse_available  # noqa: E402
from voicefs.emulator.seed_large import LARGE_API_KEY, LARGE_EMAIL, LARGE_PASSWORD  # noqa: E402

USER = "voicefs"
PASSWORD = secrets.token_urlsafe(12)
AUTH = (USER, PASSWORD)  # Basic
ADDRESS = re.compile(r"at (https?://\S+/)")
PAGE = 200
DAV = "{DAV:}"
TIMEOUT = 1800
# The named properties a listing client asks for (name, time, size, type, collection or not).
NAMED = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>"
    "<d:getcontenttype/></d:prop></d:propfind>"
)

# `voicefs serve webdav` itself (its middleware, WsgiDAV configuration, cheroot threads, login)
# with WsgiDAV's FilesystemProvider over a local directory in place of the drive's provider:
# the baseline that shows what the server costs without the drive, and what the drive adds.
# Run with `python -c LOCAL_DAV ROOT serve webdav ...`.
LOCAL_DAV = r"""
import sys
from wsgidav.fs_dav_provider import FilesystemProvider
from voicefs.webdav import server

root = sys.argv[1]
server.DriveProvider = lambda session, **options: FilesystemProvider(root)
from voicefs.cli import main
sys.exit(main(sys.argv[2:]))
"""


# --------------------------------------------------------------------------- plumbing


@dataclass
class Server:
    """A server process started by `started`; `url` waits until it says where it listens."""

    process: subprocess.Popen[str]
    cache: Path
    log: Path
    _url: str = ""

    @property
    def url(self) -> str:
        deadline = time.monotonic() + 30
        while not self._url:
            found = ADDRESS.search(self.log.read_text(errors="replace"))
            if found:
                self._url = found.group(1)
            elif self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}: {tail(self.log)}")
            elif time.monotonic() > deadline:
                raise RuntimeError(f"not ready in 30 s: {tail(self.log)}")
            else:
                time.sleep(0.02)
        return self._url

    def href(self, path: str) -> str:
        return self.url + quote(path)


@contextmanager
def started(
    command: list[str], base: Path, env: dict[str, str], *, wait: bool = True
) -> Iterator[Server]:
    """A server process, its output in base/log.txt, ready once it prints its address
    (waited for here, or with `wait=False` at the first use of its `url`); stopped with
    SIGINT (and waited for)."""
    base.mkdir(parents=True)
    log = base / "log.txt"
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        server = Server(process, base / "cache", log)
        if wait:
            assert server.url
        yield server
    finally:
        stop(process)


def interrupt(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)


def stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def serve_webdav(
    account: Account, base: Path, local_root: Path | None = None, *, wait: bool = True
) -> contextlib.AbstractContextManager[Server]:
    """`voicefs serve webdav` as users start it; with `local_root`, the same server with
    WsgiDAV's FilesystemProvider over that directory in place of the drive (`LOCAL_DAV`)."""
    arguments = [
        *("serve", "webdav", "--port", "0"),
        *("--url", account.url, "--cache-dir", str(base / "cache")),
    ]
    env = {"VOICEFS_API_KEY": account.api_key, "VOICEFS_WEBDAV_PASSWORD": PASSWORD}
    if local_root is None:
        command = [sys.executable, "-m", "voicefs", *arguments]
    else:
        command = [sys.executable, "-c", LOCAL_DAV, str(local_root), *arguments]
        env["PYTHONPATH"] = str(REPO)
    return started(command, base, env, wait=wait)


def failures(server: Server) -> list[str]:
    """Tracebacks and errors the server logged."""
    text = server.log.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or "ERROR" in line]


def dav_download(url: str) -> int:
    """A GET read as `bare_download` reads (1 MiB chunks of a streamed `requests.get`)."""
    count = 0
    with requests.get(url, auth=AUTH, stream=True, timeout=TIMEOUT) as response:
        response.raise_for_status()
        for chunk in response.iter_content(CHUNK):
            count += len(chunk)
    return count


def dav_put(url: str, body: Any) -> requests.Response:
    response = requests.put(
        url, data=body, auth=AUTH, headers={"Content-Type": "audio/wav"}, timeout=TIMEOUT
    )
    if response.status_code not in (201, 204):
        raise RuntimeError(f"PUT {url}: {response.status_code} {response.text[:500]}")
    return response


def propfind(url: str, body: str | None = None) -> bytes:
    headers = {"Depth": "1"}
    if body is not None:
        headers["Content-Type"] = "application/xml"
    response = requests.request(
        "PROPFIND", url, data=body, headers=headers, auth=AUTH, timeout=TIMEOUT
    )
    if response.status_code != 207:
        raise RuntimeError(f"PROPFIND {url}: {response.status_code} {response.text[:500]}")
    return response.content


def members(multistatus: bytes) -> list[tuple[str, bool, int]]:
    """(decoded href, is a collection, content length) of each response of a multistatus."""
    found = []
    for response in ElementTree.fromstring(multistatus).iter(f"{DAV}response"):
        href = unquote(response.findtext(f"{DAV}href") or "")
        collection = response.find(f".//{DAV}resourcetype/{DAV}collection") is not None
        length = response.findtext(f".//{DAV}getcontentlength")
        found.append((href, collection, int(length) if length else 0))
    return found


class StreamedWav:
    """A valid 48 kHz stereo 16-bit WAV of about `size` bytes, made while it is sent: an
    iterable with a length, which requests sends with Content-Length, one 1 MiB block at a
    time, never holding more than that block."""

    def __init__(self, size: int) -> None:
        self.data = (max(size, 48) - 44) // 4 * 4
        samples = (np.sin(2 * np.pi * 440 * np.arange(MiB // 4) / 48000) * 8000).astype(np.int16)
        self.block = np.stack([samples, samples], axis=1).tobytes()  # 1 MiB

    def __len__(self) -> int:
        return 44 + self.data

    def __iter__(self) -> Iterator[bytes]:
        yield struct.pack(
            "<4sI4s4sIHHIIHH4sI",
            *(b"RIFF", 36 + self.data, b"WAVE", b"fmt ", 16, 1, 2, 48000, 48000 * 4, 4, 16),
            *(b"data", self.data),
        )
        left = self.data
        while left:
            n = min(left, len(self.block))
            yield self.block if n == len(self.block) else self.block[:n]
            left -= n


def summed(counts: list[dict[str, int]]) -> dict[str, int]:
    """Requests by route over several rounds."""
    routes_seen: dict[str, int] = {}
    for made in counts:
        for route, n in made.items():
            routes_seen[route] = routes_seen.get(route, 0) + n
    return routes_seen


def best(times: list[float]) -> float:
    return min(times)


def rates(size: int, times: dict[str, list[float]]) -> dict[str, float]:
    return {name: size / MiB / best(values) for name, values in times.items() if values}


def median_ratio(times: dict[str, list[float]], ours: str, theirs: str) -> float:
    """Throughput ratio by medians: theirs' median time over ours'."""
    return statistics.median(times[theirs]) / statistics.median(times[ours])


# --------------------------------------------------------------------------- 1. listing


def bare_listing(account: Account, project_id: str) -> int:
    """What a cold PROPFIND of a folder needs of the service, made bare on a keep-alive
    session: the projects, the project's folders, its recordings in pages of 200."""
    got = 0
    with account.session() as session:

        def page(path: str, **params: Any) -> dict[str, Any]:
            response = session.get(account.url + path, params=params, timeout=TIMEOUT)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        page("/api/projects", sort="created_at", direction="asc", limit=100, offset=0)
        page("/api/folders", project_id=project_id, direction="asc", limit=PAGE, offset=0)
        while True:
            listed = page(
                "/api/recordings", project_id=project_id, direction="asc", limit=PAGE, offset=got
            )
            got += len(listed["list"])
            if not listed["list"] or got >= listed["pagination"]["count"]:
                return got


def local_copy(found: list[tuple[str, bool, int]], prefix: str, root: Path) -> int:
    """The members of a PROPFIND as names on local disk (sparse files of their sizes)."""
    made = 0
    root.mkdir(parents=True, exist_ok=True)
    for href, collection, length in found:
        relative = href[len(prefix) :].strip("/")
        if not relative:
            continue
        target = root / relative
        if collection:
            target.mkdir(parents=True, exist_ok=True)
        else:
            with target.open("wb") as handle:
                handle.truncate(length)
        made += 1
    return made


def listing(
    emulator: EmulatorProcess,
    account: Account,
    server: Server,
    folder: dict[str, Any],
    local: Server,
    root: Path,
    tmp: Path,
    rounds: dict[str, int],
) -> dict[str, Any]:
    """PROPFIND Depth 1 of a large folder: cold (the first request of a server just started:
    `server`, then a new one each further round) against the bare listing requests; warm (on
    `server`) against WsgiDAV's FilesystemProvider over the same names."""
    path, count = folder["path"], folder["recordings"]
    minimum = 1 + 1 + math.ceil(count / PAGE)
    bodies = {"allprop": None, "named": NAMED}
    cold: dict[str, list[float]] = {"webdav": [], "bare": []}
    cold_requests: list[dict[str, int]] = []
    warm: dict[str, list[float]] = {
        f"{side} {kind}": [] for side in ("webdav", "local") for kind in bodies
    }
    answer: list[bytes] = []

    def cold_round(served: Server) -> None:
        cold["bare"].append(timed(lambda: bare_listing(account, folder["project_id"])))
        emulator.reset_request_counts()
        cold["webdav"].append(timed(lambda: answer.append(propfind(served.href(path)))))
        cold_requests.append(emulator.request_counts())

    cold_round(server)
    found = members(answer[0])
    entries = len(found) - 1
    copied = local_copy(found, "/" + path, root / path)
    assert copied == entries, (copied, entries)
    emulator.reset_request_counts()
    last: dict[str, bytes] = {}
    for _ in range(rounds["warm_listing"]):
        for kind, body in bodies.items():
            for side, place in (("webdav", server), ("local", local)):
                key = f"{side} {kind}"
                url = place.href(path)
                warm[key].append(timed(lambda: last.update({key: propfind(url, body)})))  # noqa: B023
    warm_requests = emulator.request_counts()
    for key, multistatus in last.items():  # both sides answered with every member
        assert len(members(multistatus)) == entries + 1, key
    for n in range(1, rounds["cold_listing"]):
        with serve_webdav(account, tmp / f"listing-{n}") as fresh:
            cold_round(fresh)
    made = [total(counts) for counts in cold_requests]
    best_cold = {name: best(values) for name, values in cold.items()}
    best_warm = {name: best(values) for name, values in warm.items()}
    results: dict[str, Any] = {
        "folder": path,
        "recordings": count,
        "entries": entries,
        "minimum_requests": minimum,
        "cold_requests": max(made),
        "cold_requests_by_route": cold_requests[0],
        "cold_s": best_cold["webdav"],
        "bare_listing_s": best_cold["bare"],
        "cold_vs_bare": best_cold["webdav"] / best_cold["bare"],
        "cold_rounds": rounds["cold_listing"],
        "warm_requests": total(warm_requests),
        "warm_rounds": rounds["warm_listing"],
        "warm_s": {name: value for name, value in best_warm.items()},
    }
    print(
        f"PROPFIND Depth 1 of {path} ({count} recordings, {entries} members), cold (a new "
        f"server), best of {rounds['cold_listing']}: {best_cold['webdav'] * 1000:.0f} ms, "
        f"{max(made)} requests (minimum 1 + P + ceil(R/200) = {minimum}: "
        f"{'met' if max(made) <= minimum else 'MISSED'}; {routes(cold_requests[0])}); the "
        f"same requests bare on a keep-alive session {best_cold['bare'] * 1000:.0f} ms: "
        f"ratio {results['cold_vs_bare']:.2f} (the warm PROPFIND's own time, "
        f"{best_warm['webdav allprop'] * 1000:.0f} ms, is in it)"
    )
    for kind in bodies:
        ours, theirs = best_warm[f"webdav {kind}"], best_warm[f"local {kind}"]
        results[f"warm_{kind}_vs_local"] = ours / theirs
        print(
            f"  warm, {kind}, best of {rounds['warm_listing']}: {ours * 1000:.0f} ms "
            f"({ours / max(entries, 1) * 1e6:.0f} us per member); WsgiDAV's FilesystemProvider "
            f"over the same names on disk {theirs * 1000:.0f} ms: ratio {ours / theirs:.2f}"
        )
    print(
        f"  warm PROPFINDs: {total(warm_requests)} requests in "
        f"{rounds['warm_listing'] * len(bodies)} (goal 0: "
        f"{'met' if total(warm_requests) == 0 else 'MISSED'}; {routes(warm_requests)})"
    )
    return results


# --------------------------------------------------------------------------- 2. audio


def reads(
    emulator: EmulatorProcess,
    account: Account,
    server: Server,
    local: Server,
    copies: list[dict[str, Any]],
    tmp: Path,
) -> dict[str, Any]:
    """Cold and warm GETs against bare downloads, the mount and WsgiDAV over a local copy."""
    size = copies[0]["size"]
    rounds = len(copies)
    times: dict[str, list[float]] = {
        name: []
        for name in (
            "bare",
            "cold",
            "mount cold",
            "warm",
            "bare again",
            "mount page cache",
            "mount disk cache",
            "local",
        )
    }
    requests_made: dict[str, list[dict[str, int]]] = {"cold": [], "warm": []}
    with contextlib.ExitStack() as stack:
        mountpoint: Path | None = None
        if fuse_available():
            mountpoint = stack.enter_context(Mounts(account, tmp).voicefs("read")).mountpoint
        else:
            print("no FUSE here: no mount baseline")
        for copy in copies:  # the listings on the way, not timed
            propfind_file = requests.request(
                "PROPFIND", server.href(copy["path"]), headers={"Depth": "0"}, auth=AUTH
            )
            assert propfind_file.status_code == 207, propfind_file.text
            if mountpoint is not None:
                assert (mountpoint / copy["path"]).stat().st_size == size
        time.sleep(SETTLE)
        for copy in copies:
            times["bare"].append(timed(lambda: bare_download(account, copy["url"])))  # noqa: B023
            emulator.reset_request_counts()
            got: list[int] = []
            times["cold"].append(timed(lambda: got.append(dav_download(server.href(copy["path"])))))  # noqa: B023
            requests_made["cold"].append(emulator.request_counts())
            assert got == [size], (got, size)
            if mountpoint is not None:
                where = mountpoint / copy["path"]
                times["mount cold"].append(timed(lambda: read_file(where)))  # noqa: B023
        cached = [(server.cache / "audio" / copy["id"]) for copy in copies]
        in_cache = sum(1 for path in cached if path.exists() and path.stat().st_size == size)
        local_file = local.href(copies[0]["local_path"])
        for copy in copies:
            emulator.reset_request_counts()
            times["warm"].append(timed(lambda: dav_download(server.href(copy["path"]))))  # noqa: B023
            requests_made["warm"].append(emulator.request_counts())
            times["local"].append(timed(lambda: dav_download(local_file)))
            times["bare again"].append(timed(lambda: bare_download(account, copy["url"])))  # noqa: B023
            if mountpoint is not None:
                where = mountpoint / copy["path"]
                times["mount page cache"].append(timed(lambda: read_file(where)))  # noqa: B023
                drop_page_cache(where)
                times["mount disk cache"].append(timed(lambda: read_file(where)))  # noqa: B023
    rate = rates(size, times)
    results: dict[str, Any] = {
        "size_mib": size / MiB,
        "rounds": rounds,
        "mib_s": rate,
        "cold_requests": max(map(total, requests_made["cold"])),
        "warm_requests": max(map(total, requests_made["warm"])),
        "requests_by_route": {when: summed(made) for when, made in requests_made.items()},
        "whole_files_in_audio_cache": in_cache,
        "cold_vs_bare": rate["cold"] / rate["bare"],
        "cold_vs_bare_medians": median_ratio(times, "cold", "bare"),
        "warm_vs_bare": rate["warm"] / rate["bare again"],
        "warm_vs_local": rate["warm"] / rate["local"],
        "warm_vs_local_medians": median_ratio(times, "warm", "local"),
    }
    line = (
        f"GET of {size / MiB:.0f} MiB, best of {rounds}: cold {rate['cold']:6.1f} MiB/s "
        f"(at most {results['cold_requests']} request(s) each; in all "
        f"{routes(results['requests_by_route']['cold'])}; {in_cache} of {rounds} whole in the "
        f"audio cache after), bare requests stream {rate['bare']:6.1f} MiB/s: ratio "
        f"{results['cold_vs_bare']:.2f} (medians: {results['cold_vs_bare_medians']:.2f}; "
        f"{verdict(results['cold_vs_bare'], 0.8, at_most=False)})"
    )
    if times["mount cold"]:
        results["cold_vs_mount"] = rate["cold"] / rate["mount cold"]
        results["cold_vs_mount_medians"] = median_ratio(times, "cold", "mount cold")
        line += (
            f"; the mount's cold read {rate['mount cold']:6.1f} MiB/s: ratio "
            f"{results['cold_vs_mount']:.2f} (medians: {results['cold_vs_mount_medians']:.2f})"
        )
    print(line)
    line = (
        f"  warm GET (the audio cache), best of {rounds}: {rate['warm']:6.0f} MiB/s "
        f"(at most {results['warm_requests']} request(s) each; in all "
        f"{routes(results['requests_by_route']['warm'])}); WsgiDAV's FilesystemProvider, the "
        f"same file on the same disk {rate['local']:6.0f} MiB/s: ratio "
        f"{results['warm_vs_local']:.2f} (medians: {results['warm_vs_local_medians']:.2f}); "
        f"bare requests stream "
        f"{rate['bare again']:6.0f} MiB/s: ratio {results['warm_vs_bare']:.2f}"
    )
    if times["mount page cache"]:
        results["warm_vs_mount_page_cache"] = rate["warm"] / rate["mount page cache"]
        results["warm_vs_mount_disk_cache"] = rate["warm"] / rate["mount disk cache"]
        line += (
            f"; the mount's second read (page cache) {rate['mount page cache']:6.0f} MiB/s: "
            f"ratio {results['warm_vs_mount_page_cache']:.2f}, with its pages dropped "
            f"(voicefs's disk cache) {rate['mount disk cache']:6.0f} MiB/s: ratio "
            f"{results['warm_vs_mount_disk_cache']:.2f}"
        )
    print(line)
    return results


def uploads(
    emulator: EmulatorProcess,
    account: Account,
    server: Server,
    folder: dict[str, Any],
    local: Path,
    rounds: int,
) -> dict[str, Any]:
    """PUT of a WAV into a folder against a bare multipart `requests.post` of it."""
    size = local.stat().st_size
    times: dict[str, list[float]] = {"bare": [], "put": []}
    statuses: list[int] = []
    emulator.reset_request_counts()
    for n in range(rounds):
        named = local.with_name(f"bare {n}.wav")
        os.link(local, named)
        times["bare"].append(timed(lambda: bare_upload(account, folder["id"], named)))  # noqa: B023
        named.unlink()
        href = server.href(f"{folder['path']}/put {n}.wav")
        with local.open("rb") as body:
            times["put"].append(timed(lambda: statuses.append(dav_put(href, body).status_code)))  # noqa: B023
    counts = emulator.request_counts()
    listed = {r["file_name"]: r["size"] for r in Api.of(account).recordings(folder["id"])}
    arrived = sum(1 for n in range(rounds) if listed.get(f"put {n}.wav") == size)
    rate = rates(size, times)
    ratio = rate["put"] / rate["bare"]
    by_put = counts.get("POST /api/recordings", 0) - rounds
    others = {route: n for route, n in counts.items() if route != "POST /api/recordings"}
    results: dict[str, Any] = {
        "size_mib": size / MiB,
        "rounds": rounds,
        "put_mib_s": rate["put"],
        "bare_mib_s": rate["bare"],
        "ratio": ratio,
        "median_ratio": median_ratio(times, "put", "bare"),
        "statuses": sorted(set(statuses)),
        "uploads_by_server": by_put,
        "other_requests": others,
        "arrived": arrived,
    }
    print(
        f"PUT of {size / MiB:.0f} MiB into a folder, best of {rounds}: {rate['put']:6.1f} MiB/s"
        f" (status {', '.join(map(str, results['statuses']))}; {arrived} of {rounds} on the "
        f"service at that size), bare requests.post {rate['bare']:6.1f} MiB/s: ratio "
        f"{ratio:.2f} (medians: {results['median_ratio']:.2f}; "
        f"{verdict(ratio, 0.8, at_most=False)}); the server's requests for {rounds} PUTs: "
        f"POST /api/recordings {by_put}, {routes(others)}"
    )
    return results


def rss_mib(pid: int) -> float:
    return RssSampler(pid).status("VmRSS") / 1024


def put_rss(
    emulator: EmulatorProcess,
    account: Account,
    server: Server,
    folder: dict[str, Any],
    size: int,
    history: dict[str, float],
) -> dict[str, Any]:
    """The server's peak RSS during a PUT of a large WAV, streamed by the client (whose own
    RSS growth is measured too); `history`, the server's RSS after each earlier step."""
    body = StreamedWav(size)
    probe = RssSampler(server.process.pid)
    start = probe.status("VmRSS") / 1024
    hwm_reset = probe.reset_hwm()
    name = "large.wav"
    emulator.reset_request_counts()
    statuses: list[int] = []
    client = RssSampler(os.getpid())
    client.reset_hwm()
    client_start = client.status("VmRSS") / 1024
    with RssSampler(server.process.pid) as sampler, client:
        href = server.href(f"{folder['path']}/{name}")
        seconds = timed(lambda: statuses.append(dav_put(href, body).status_code))
    counts = emulator.request_counts()
    peak = sampler.peak / 1024
    client_growth = client.peak / 1024 - client_start
    listed = {r["file_name"]: r["size"] for r in Api.of(account).recordings(folder["id"])}
    results = {
        "size_mib": len(body) / MiB,
        "peak_rss_mib": peak,
        "start_rss_mib": start,
        "earlier_rss_mib": history,
        "client_rss_growth_mib": client_growth,
        "mib_s": len(body) / MiB / seconds,
        "status": statuses[0],
        "arrived": listed.get(name) == len(body),
        "requests": counts,
        "hwm_reset": hwm_reset,
    }
    print(
        f"PUT of {len(body) / MiB:.0f} MiB streamed from a generator: the server's peak RSS "
        f"{peak:.0f} MiB ({verdict(peak, 150, at_most=True)}; {start:.0f} MiB before), "
        f"{results['mib_s']:.0f} MiB/s, status {statuses[0]}, on the service at that size: "
        f"{'yes' if results['arrived'] else 'NO'}; {routes(counts)}; the client's RSS grew "
        f"{client_growth:.0f} MiB"
        + ("" if hwm_reset else " (VmHWM could not be reset: it covers the server's whole life)")
    )
    print(
        "  the server's RSS before: "
        + ", ".join(f"{value:.0f} MiB {when}" for when, value in history.items())
    )
    return results


def recordings_to_read(
    account: Account, root: Path, work: Path, size: int, rounds: int
) -> tuple[dict[str, Any], Path, list[dict[str, Any]]]:
    """A folder Bench/Files with one copy of a WAV of `size` per round (uploaded bare, before
    the server starts: each a recording it has never read), and the WAV in `root` for
    WsgiDAV's FilesystemProvider."""
    api = Api.of(account)
    folder = api.folder(api.project("Bench")["id"], "Files")
    folder["path"] = "Bench/Files"
    work.mkdir()
    wav = write_wav(work / "take.wav", size)
    for n in range(rounds):
        named = work / f"copy {n}.wav"
        os.link(wav, named)
        bare_upload(account, folder["id"], named)
        named.unlink()
    listed = {r["file_name"]: r for r in api.recordings(folder["id"])}
    copies = []
    for n in range(rounds):
        recording = listed[f"copy {n}.wav"]
        assert recording["size"] == wav.stat().st_size, recording
        copies.append(
            {
                "id": recording["id"],
                "url": recording["url"],
                "size": recording["size"],
                "path": f"Bench/Files/copy {n}.wav",
                "local_path": "take.wav",
            }
        )
    os.link(wav, root / "take.wav")
    return folder, wav, copies


# --------------------------------------------------------------------------- main


def summary(results: dict[str, Any]) -> list[str]:
    lines = []

    def add(label: str, value: float, target: float | None, at_most: bool, unit: str = "") -> None:
        shown = f"{value:.0f}{unit}" if unit == " requests" else f"{value:.2f}{unit}"
        lines.append(
            f"  {label:<56} {shown:>14}  "
            + (verdict(value, target, at_most) if target is not None else "(no target)")
        )

    get = results["get"]
    add("cold GET / bare requests stream", get["cold_vs_bare"], 0.8, False)
    if "cold_vs_mount" in get:
        add("cold GET / the mount's cold read", get["cold_vs_mount"], None, False)
    add("warm GET / WsgiDAV FilesystemProvider GET", get["warm_vs_local"], None, False)
    if "warm_vs_mount_disk_cache" in get:
        add(
            "warm GET / the mount's read from its disk cache",
            get["warm_vs_mount_disk_cache"],
            None,
            False,
        )
        add(
            "warm GET / the mount's second read (page cache)",
            get["warm_vs_mount_page_cache"],
            None,
            False,
        )
    put = results["put"]
    add("PUT / bare requests.post", put["ratio"], 0.8, False)
    listed = results["listing"]
    add(
        f"cold PROPFIND requests (minimum {listed['minimum_requests']})",
        listed["cold_requests"],
        listed["minimum_requests"],
        True,
        " requests",
    )
    add("cold PROPFIND time / the same requests bare", listed["cold_vs_bare"], None, True)
    add("warm PROPFIND requests", listed["warm_requests"], 0, True, " requests")
    for kind in ("allprop", "named"):
        add(
            f"warm PROPFIND ({kind}) / WsgiDAV FilesystemProvider",
            listed[f"warm_{kind}_vs_local"],
            None,
            True,
        )
    rss = results["rss"]
    add(
        f"peak RSS of the server, PUT of {rss['size_mib']:.0f} MiB",
        rss["peak_rss_mib"],
        150,
        True,
        " MiB",
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    options = parser.parse_args()
    about = machine()
    print(
        f"machine: {about['cores']} cores, Python {about['python']}, kernel {about['kernel']}, "
        f"{about['fusermount3']}"
    )
    if options.quick:
        rounds = {"io": 2, "cold_listing": 1, "warm_listing": 2}
        scale = (1, 1, 200)
    else:
        rounds = {"io": 7, "cold_listing": 5, "warm_listing": 9}
        scale = (1, 1, 1000)
    started_at = time.perf_counter()
    results: dict[str, Any] = {"machine": about, "quick": options.quick, "rounds": rounds}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voicefs-bench-")))
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="voicefs-", dir="/dev/shm"))
        emulator = stack.enter_context(
            contextmanager(running_emulator)(
                *("--seed", "large", "--seed-scale", "x".join(map(str, scale))),
                *("--conversion-seconds", "0.1"),
                data_dir=Path(data),
            )
        )
        me = requests.post(
            emulator.url + "/api/auth", headers={"api-key": LARGE_API_KEY}, timeout=30
        )
        me.raise_for_status()
        account = Account(emulator.url, me.json()["id"], LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)
        root = tmp / "local-root"  # what WsgiDAV's FilesystemProvider serves
        root.mkdir()
        local = stack.enter_context(  # ready by its first use: it starts meanwhile
            serve_webdav(account, tmp / "local-server", root, wait=False)
        )
        large = {
            "path": "Project 01/Folder 01",
            "project_id": next(
                p["id"]
                for p in Api.of(account).ok("GET", "/api/projects", params={"limit": 100})["list"]
                if p["name"] == "Project 01"
            ),
            "recordings": scale[2],
        }
        size = (8 if options.quick else 64) * MiB
        bench, wav, copies = recordings_to_read(account, root, tmp / "audio", size, rounds["io"])
        server = stack.enter_context(serve_webdav(account, tmp / "server"))
        history = {"after it started": rss_mib(server.process.pid)}
        results["listing"] = listing(emulator, account, server, large, local, root, tmp, rounds)
        history["after the PROPFINDs"] = rss_mib(server.process.pid)
        results["get"] = reads(emulator, account, server, local, copies, tmp / "mounts")
        history["after the GETs"] = rss_mib(server.process.pid)
        results["put"] = uploads(emulator, account, server, bench, wav, rounds["io"])
        history[f"after the {rounds['io']} PUTs"] = rss_mib(server.process.pid)
        wav.unlink()
        big = (64 if options.quick else 1024) * MiB
        results["rss"] = put_rss(emulator, account, server, bench, big, history)
        for process in (server.process, local.process):  # both told to stop at once
            interrupt(process)
        results["server_exit"] = stop(server.process)
        stop(local.process)
        results["server_errors"] = failures(server)
    if results["server_exit"] != 0:
        print(f"the server exited with {results['server_exit']} on SIGINT: {tail(server.log)}")
    if results["server_errors"]:
        print(f"the server logged: {results['server_errors'][:5]}")
    results["seconds"] = time.perf_counter() - started_at
    print("summary:")
    print("\n".join(summary(results)))
    print(f"done in {results['seconds']:.0f} s")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
