"""Benchmarks the FUSE mount (`voicefs mount`) against the emulator on loopback.

Reports, in one run on one emulator, each figure as a ratio to a baseline measured in the same
run (best of N, alternated round by round):
- a warm `ls -lR` of a seeded tree (2 projects, 10 folders, 740 originals: ~3,000 entries;
  ~600 with --quick) through the mount, against the same tree on tmpfs (target <= 1.5) and
  against the same `VoiceFileSystem` mounted with `fsspec.fuse.run(fs, "", mountpoint,
  foreground=True, threads=False)` (target <= 0.2). Two regimes: "again", the second of two
  `ls -lR` in a row (the kernel's caches as fresh as they get), and "after a pause" of 5.5 s
  (the kernel's entries and attributes expired: the mount's 5 s, libfuse's 1 s for
  fsspec.fuse; the 30 s listing caches still warm). Rounds in which a listing expired and was
  fetched again are left out of the best. Also the requests of the cold `ls -lR` against
  1 + P + sum(ceil(R_p / 200)) (+ 1 for the voice catalogue that order.txt lists), and of the
  warm one (goal 0);
- a sequential read (1 MiB blocks, as `cat` reads) of a 64 MiB recording: cold (a fresh mount
  and cache each round) against a bare `requests.get(stream=True)` loop (target >= 0.8), with
  the CPU time of the reader, the mount and the emulator; cached, against reading a copy on
  tmpfs: a second read (the kernel's page cache: finished audio is opened with keep_cache)
  and one with that file's pages dropped (POSIX_FADV_DONTNEED: voicefs's on-disk cache);
- `cp` of a 64 MiB WAV into a folder of the mount against a bare `requests.post` multipart
  upload of the same file (target >= 0.8); for reference, the local part of the mount's work
  alone (the file written to the cache directory's disk and fsynced, as its flush does);
- the FUSE operations of one cold read and one `cp` (counting shim, below);
- the requests of a cold `cat`, `head -c 4096` and `soxi` of that recording (a fresh mount and
  cache each, counted from before the mount starts: its credentials check and the listings on
  the way are in), and whether the whole recording was downloaded;
- the peak RSS of the mount process during a `cp` of a 1 GiB WAV into the mount and a `cat` of
  it (target < 150 MiB): VmRSS sampled every 10 ms, and VmHWM (reset through clear_refs
  before each);
- for docs/mount.md, what the kernel's caching buys: the FUSE operations of one warm `ls -lR`
  (by operation, getxattr by attribute name, readdir at offset 0 or past it) and its time,
  with the mount's timeouts (entry 5 s, attr 5 s, negative 1 s) and with them set to 0, and
  for fsspec.fuse.
--quick: a 16 MiB recording, a 256 MiB RSS run, the smaller tree, fewer rounds (about 40 s).

How it mounts. The timed mounts are started as users start them: `python -m voicefs mount
MOUNTPOINT --foreground --url URL --cache-dir DIR`, the key in VOICEFS_API_KEY (never argv),
the cache directory on the disk under $TMPDIR; unmounted with `fusermount3 -u`, then the
process is waited for. The FUSE operation counts come from separate mounts started through a
shim (`SHIM` below) that wraps mfusepy's dispatcher to count each callback and the time spent
in it; it changes no file of voicefs, and its mounts are not the timed ones. The emulator
keeps its data on tmpfs: the service's storage is not the client's disk, and with both on one
disk the mount's fsync of a staged upload waits behind the emulator's writeback of the
previous uploads.

fsspec.fuse imports fusepy's `fuse` module, which is not installed here (fusepy wants libfuse
2; this machine has libfuse 3 only). mfusepy, which the mount already uses, keeps fusepy's API
(`FUSE`, `Operations`, `FuseOSError`, `LoggingMixIn`), so the fsspec baseline's process puts it
in `sys.modules["fuse"]` before importing fsspec.fuse: nothing is installed for the benchmark.

The tmpfs copy is the mount's tree (names, types, sizes, modes, times) made on /dev/shm from
one walk of the mount, the files sparse, and checked against the mount with `ls -R`. `cp -r`
of the mount would read every recording, one download each: past the service's 500 requests
per 300 s, which the mount's rate limiter honours by waiting minutes (and it reads the
`.voicefs/` files and project exports too); `ls -lR` reads no file's content. Dot entries are
left out of the copy as `ls -lR` leaves them out.

Usage: python benchmarks/bench_mount.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_client import MiB, bare_download, bare_upload, write_wav  # noqa: E402
from tests.emulator.helpers import Api  # noqa: E402
from tests.emulator_process import (  # noqa: E402
    Account,
    EmulatorProcess,
    running_emulator,
    wait_until,
)
from tests.mount.mounting import fuse_available, unmount  # noqa: E402
from voicefs.mount import operations  # noqa: E402

CREDENTIALS = "POST /api/auth"  # every mount's check of its key, before it mounts
BLOCK = MiB
SETTLE = 0.3  # after mounting, before a timed step: the new process's start-up is over
PAUSE = max(operations.ENTRY_TIMEOUT, operations.ATTR_TIMEOUT) + 0.5  # kernel caches lapse

# Run with `python -c SHIM voicefs ARGS...` (the voicefs CLI) or `python -c SHIM fsspec URL
# MOUNTPOINT` (fsspec.fuse over a VoiceFileSystem, the key from VOICEFS_API_KEY).
# BENCH_FUSE_COUNTS=FILE: every FUSE callback is counted, with the seconds spent in Python, and
# the totals written to FILE (when they change, every 50 ms). BENCH_KERNEL_CACHE=off: the
# mount's entry, attribute and negative timeouts are 0 (the kernel caches nothing).
SHIM = r"""
import collections, json, os, sys, threading, time
import mfusepy

counts_file = os.environ.get("BENCH_FUSE_COUNTS")
if counts_file:
    calls, seconds = collections.Counter(), collections.Counter()
    lock = threading.Lock()
    dispatch = mfusepy.FUSE._wrapper

    def _wrapper(self, func, *args, **kwargs):
        started = time.perf_counter()
        try:
            return dispatch(self, func, *args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            name = getattr(func, "__name__", "?").removesuffix("_fuse_3")
            if name == "getxattr" and len(args) > 1:
                name += " " + args[1].decode(errors="replace")
            elif name == "readdir" and len(args) > 3:
                name += " at offset 0" if args[3] == 0 else " past offset 0"
            with lock:
                calls[name] += 1
                seconds[name] += elapsed

    mfusepy.FUSE._wrapper = _wrapper

    def dump():
        last = None
        while True:
            with lock:
                now = {name: [calls[name], seconds[name]] for name in calls}
            if now != last:
                with open(counts_file + ".tmp", "w") as out:
                    json.dump(now, out)
                os.replace(counts_file + ".tmp", counts_file)
                last = now
            time.sleep(0.05)

    threading.Thread(target=dump, name="bench-counts", daemon=True).start()

if os.environ.get("BENCH_KERNEL_CACHE") == "off":
    from voicefs.mount import operations
    operations.ENTRY_TIMEOUT = operations.ATTR_TIMEOUT = operations.NEGATIVE_TIMEOUT = 0.0

if sys.argv[1] == "voicefs":
    from voicefs.cli import main
    sys.exit(main(sys.argv[2:]))
sys.modules.setdefault("fuse", mfusepy)  # fusepy's API, on libfuse 3
import fsspec.fuse
from voicefs.filesystem import VoiceFileSystem


class SizedAsTheMount(VoiceFileSystem):
    # A table whose size only reading it tells (`projects.csv`) has size None in fsspec;
    # fsspec.fuse cannot stat that (EINVAL), and the mount shows such files with size 0.
    def info(self, path, **kwargs):
        found = super().info(path, **kwargs)
        return {**found, "size": found.get("size") or 0}


url, mountpoint = sys.argv[2:4]
fsspec.fuse.run(
    SizedAsTheMount(url=url, skip_instance_cache=True), "", mountpoint,
    foreground=True, threads=False,
)
"""


# --------------------------------------------------------------------------- plumbing


@dataclass
class Mounted:
    mountpoint: Path
    process: subprocess.Popen[str]
    cache: Path


class Mounts:
    """Starts mounts as subprocesses, each at a new mount point with its own cache directory
    and log file, and unmounts them (fusermount3 -u, then waits for the process)."""

    def __init__(self, account: Account, tmp: Path) -> None:
        self.account = account
        self.tmp = tmp
        self.count = 0

    def _next(self, label: str) -> tuple[Path, Path, Path]:
        self.count += 1
        base = self.tmp / f"mount-{self.count}-{label}"
        base.mkdir(parents=True)
        return base / "mnt", base / "cache", base / "log.txt"

    @contextmanager
    def voicefs(self, label: str = "voicefs") -> Iterator[Mounted]:
        """`voicefs mount` as users start it."""
        mountpoint, cache, log = self._next(label)
        command = [
            *(sys.executable, "-m", "voicefs", "mount", str(mountpoint), "--foreground"),
            *("--url", self.account.url, "--cache-dir", str(cache)),
        ]
        with self._run(command, mountpoint, log, {}) as process:
            yield Mounted(mountpoint, process, cache)

    @contextmanager
    def shimmed(
        self, label: str, kind: str, counts: Path | None, kernel_cache: bool = True
    ) -> Iterator[Path]:
        """The voicefs mount (kind "voicefs") or fsspec.fuse (kind "fsspec") through the shim;
        with `counts`, its FUSE callbacks are counted into that file."""
        mountpoint, cache, log = self._next(label)
        if kind == "voicefs":
            arguments = [
                *("voicefs", "mount", str(mountpoint), "--foreground"),
                *("--url", self.account.url, "--cache-dir", str(cache)),
            ]
        else:
            arguments = ["fsspec", self.account.url, str(mountpoint)]
        env = {"PYTHONPATH": str(REPO)}
        if counts is not None:
            env["BENCH_FUSE_COUNTS"] = str(counts)
        if not kernel_cache:
            env["BENCH_KERNEL_CACHE"] = "off"
        with self._run([sys.executable, "-c", SHIM, *arguments], mountpoint, log, env):
            yield mountpoint

    def _run(
        self, command: list[str], mountpoint: Path, log: Path, extra_env: dict[str, str]
    ) -> contextlib.AbstractContextManager[subprocess.Popen[str]]:
        mountpoint.mkdir()
        env = {**os.environ, "VOICEFS_API_KEY": self.account.api_key, **extra_env}
        return _mounted(command, mountpoint, log, env)


@contextmanager
def _mounted(
    command: list[str], mountpoint: Path, log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output, text=True
        )
    try:
        deadline = time.monotonic() + 30
        while not os.path.ismount(mountpoint):
            if process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode}: {_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} was not mounted in 30 s: {_tail(log)}")
            time.sleep(0.02)
        yield process
    finally:
        unmount(mountpoint, process)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def ls_lr(path: Path) -> float:
    """Seconds of `ls -lR path`, its output discarded."""
    return timed(
        lambda: subprocess.run(["ls", "-lR", str(path)], stdout=subprocess.DEVNULL, check=True)
    )


def read_file(path: Path) -> int:
    """Reads a file sequentially in 1 MiB blocks, as `cat` does; returns its length."""
    buffer = bytearray(BLOCK)
    total = 0
    with path.open("rb", buffering=0) as handle:
        while n := handle.readinto(buffer):
            total += n
    return total


def drop_page_cache(path: Path) -> None:
    """Drops the kernel's cached pages of one file (clean pages: POSIX_FADV_DONTNEED)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def total(counts: dict[str, int], *leave_out: str) -> int:
    return sum(n for route, n in counts.items() if route not in leave_out)


def routes(counts: dict[str, int]) -> str:
    return ", ".join(f"{route} {n}" for route, n in sorted(counts.items())) or "none"


def best_of(times: list[float]) -> float:
    return min(times)


def verdict(value: float, target: float, at_most: bool) -> str:
    met = value <= target if at_most else value >= target
    return f"target {'<=' if at_most else '>='} {target:g}: {'met' if met else 'MISSED'}"


class FuseCounts:
    """The shim's counts file: {callback: [calls, seconds in Python]}."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, tuple[int, float]]:
        """The totals once the shim has written everything (two equal reads 0.1 s apart)."""
        last: dict[str, tuple[int, float]] | None = None
        for _ in range(50):
            time.sleep(0.1)
            try:
                data = json.loads(self.path.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                data = {}
            now = {name: (int(n), float(s)) for name, (n, s) in data.items()}
            if now == last:
                return now
            last = now
        return last or {}

    def during(self, action: Callable[[], object]) -> dict[str, tuple[int, float]]:
        before = self.read()
        action()
        after = self.read()
        changed = {}
        for name, (calls, seconds) in after.items():
            calls0, seconds0 = before.get(name, (0, 0.0))
            if calls != calls0:
                changed[name] = (calls - calls0, seconds - seconds0)
        return changed


def describe_ops(ops: dict[str, tuple[int, float]]) -> str:
    ordered = sorted(ops.items(), key=lambda item: -item[1][0])
    return ", ".join(f"{name} {n} ({s * 1000:.0f} ms)" for name, (n, s) in ordered) or "none"


# --------------------------------------------------------------------------- 1. listing


def layout_for(quick: bool) -> dict[str, dict[str, int]]:
    if quick:
        return {
            "Audiobook": {f"Chapter {n}": 40 for n in range(1, 4)},
            "Podcast": {"Episodes": 30},
        }
    return {
        "Audiobook": {f"Chapter {n}": 60 for n in range(1, 9)},
        "Podcast": {"Episodes": 250, "Ads": 10},
    }


def copy_tree(source: Path, target: Path) -> int:
    """The tree at source (not its dot entries) on target: directories, files of the same
    sizes (sparse), modes and times. Returns the entries made."""
    made = 0
    directories: list[tuple[Path, os.stat_result]] = []
    stack = [(source, target)]
    while stack:
        here, there = stack.pop()
        with os.scandir(here) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                info = entry.stat(follow_symlinks=False)
                copy = there / entry.name
                made += 1
                if stat.S_ISDIR(info.st_mode):
                    copy.mkdir()
                    directories.append((copy, info))
                    stack.append((Path(entry.path), copy))
                    continue
                with copy.open("wb") as handle:
                    handle.truncate(info.st_size)
                os.chmod(copy, stat.S_IMODE(info.st_mode))
                os.utime(copy, ns=(info.st_atime_ns, info.st_mtime_ns))
    for directory, info in reversed(directories):  # children first: their making moves mtime
        os.chmod(directory, stat.S_IMODE(info.st_mode))
        os.utime(directory, ns=(info.st_atime_ns, info.st_mtime_ns))
    return made


def names_only(path: Path) -> str:
    """`ls -R .` in path: the names and their places, to check the copy against the mount."""
    return subprocess.run(
        ["ls", "-R", "."], cwd=path, capture_output=True, text=True, check=True
    ).stdout


def folder_pages(layout: dict[str, dict[str, int]], conversions: int) -> int:
    """sum(ceil(R_f / 200)) over folders: seed_layout converts the first original of the
    first `conversions` folders."""
    pages, converted = 0, 0
    for folders in layout.values():
        for count in folders.values():
            extra = 1 if converted < conversions and count else 0
            converted += extra
            pages += math.ceil((count + extra) / 200)
    return pages


Sample = tuple[float, int]
"""One timed `ls -lR`: its seconds and the requests made meanwhile."""


def counted_ls(emulator: EmulatorProcess, path: Path) -> Sample:
    emulator.reset_request_counts()
    seconds = ls_lr(path)
    return seconds, total(emulator.request_counts())


def best_clean(samples: list[Sample]) -> tuple[float, int]:
    """The best time among the rounds that made no request (a listing that expired during
    the run refetches), else among all; and how many rounds made requests."""
    clean = [seconds for seconds, made in samples if made == 0]
    busy = len(samples) - len(clean)
    return min(clean or [seconds for seconds, _ in samples]), busy


def listing(
    emulator: EmulatorProcess, tmp: Path, quick: bool, rounds: dict[str, int]
) -> dict[str, Any]:
    tmp.mkdir()
    account = emulator.new_account()
    layout = layout_for(quick)
    per_project = Api.of(account).seed_layout(layout, conversions=2)
    recordings = sum(per_project.values())
    goal = 1 + len(per_project) + sum(math.ceil(r / 200) for r in per_project.values())
    by_folder = 1 + len(per_project) + folder_pages(layout, 2)
    mounts = Mounts(account, tmp)
    results: dict[str, Any] = {"recordings": recordings, "projects": len(per_project)}
    shm = Path(tempfile.mkdtemp(prefix="voicefs-bench-", dir="/dev/shm"))
    try:
        emulator.reset_request_counts()
        with mounts.voicefs("listing") as mounted:
            mountpoint = mounted.mountpoint
            cold_seconds = ls_lr(mountpoint)
            cold = emulator.request_counts()
            warm_seconds, warm = counted_ls(emulator, mountpoint)
            entries = copy_tree(mountpoint, shm)
            assert names_only(shm) == names_only(mountpoint), "the tmpfs copy differs"
            cost = total(cold, CREDENTIALS)
            voices = min(cold.get("GET /api/v2/voices", 0), 1)
            print(
                f"tree: {recordings} recordings in {len(per_project)} projects, "
                f"{sum(len(f) for f in layout.values())} folders: {entries} entries in `ls -lR`"
            )
            print(
                f"cold ls -lR: {cost} requests in {cold_seconds:.2f} s; goal 1 + P + sum "
                f"ceil(R_p/200) = {goal}, + 1 for the voice catalogue = {goal + 1}: "
                f"{'met' if cost <= goal + voices else 'MISSED'} (listed folder by folder, "
                f"1 + P + sum ceil(R_f/200) + 1 = {by_folder + 1}); by route, with the mount's "
                f"credentials check: {routes(cold)}"
            )
            print(
                f"warm ls -lR: {warm} requests in {warm_seconds:.2f} s (goal 0: "
                f"{'met' if warm == 0 else 'MISSED'})"
            )
            results.update(
                entries=entries,
                cold_requests=cold,
                cold_requests_counted=cost,
                goal=goal,
                goal_with_voices=goal + 1,
                goal_by_folder_with_voices=by_folder + 1,
                cold_seconds=cold_seconds,
                warm_requests=warm,
            )
            results.update(compare_listings(emulator, mounts, mountpoint, shm, rounds))
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    results["fuse_operations"] = kernel_caching(mounts, tmp, rounds["profile"])
    return results


def compare_listings(
    emulator: EmulatorProcess, mounts: Mounts, mountpoint: Path, shm: Path, rounds: dict[str, int]
) -> dict[str, Any]:
    """Warm `ls -lR` of the mount, the tmpfs copy and fsspec.fuse (mounted beside it), in
    rounds that alternate them, best of each: "again", the second of two in a row (the
    kernel's caches as fresh as they get), and "after a pause" (the kernel's entries and
    attributes expired, for the mount and for fsspec.fuse, whose libfuse default is 1 s; the
    listing caches, 30 s, not)."""
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        places: dict[str, Path] = {"mount": mountpoint, "tmpfs": shm}
        try:
            fsspec_mount = mounts.shimmed("fsspec", "fsspec", counts=None)
            places["fsspec.fuse"] = stack.enter_context(fsspec_mount)
            seconds, made = counted_ls(emulator, places["fsspec.fuse"])
            print(
                f"fsspec.fuse (threads=False) over the same VoiceFileSystem, cold ls -lR: "
                f"{made} requests in {seconds:.2f} s"
            )
            results["fsspec_fuse_cold"] = {"seconds": seconds, "requests": made}
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"fsspec.fuse baseline skipped: {exc}")
            results["fsspec_fuse_skipped"] = str(exc)
            places.pop("fsspec.fuse", None)
        again: dict[str, list[Sample]] = {name: [] for name in places}
        for _ in range(rounds["ls"]):
            for name, place in places.items():
                ls_lr(place)
                again[name].append(counted_ls(emulator, place))
        paused: dict[str, list[Sample]] = {name: [] for name in places}
        for _ in range(rounds["lapse"]):
            time.sleep(PAUSE)
            for name, place in places.items():
                paused[name].append(counted_ls(emulator, place))
    for label, samples, key in (
        (f"second of two in a row, best of {rounds['ls']}", again, "again"),
        (f"after a {PAUSE:.1f} s pause, best of {rounds['lapse']}", paused, "after_pause"),
    ):
        best = {name: best_clean(values) for name, values in samples.items()}
        best_s = {name: value[0] for name, value in best.items()}
        busy = {name: value[1] for name, value in best.items()}
        figures: dict[str, Any] = {f"{name}_s": value for name, value in best_s.items()}
        figures["rounds_with_requests"] = busy
        figures["mount_vs_tmpfs"] = best_s["mount"] / best_s["tmpfs"]
        line = (
            f"warm ls -lR, {label}: mount {best_s['mount'] * 1000:.0f} ms, tmpfs "
            f"{best_s['tmpfs'] * 1000:.1f} ms"
        )
        if "fsspec.fuse" in best_s:
            figures["mount_vs_fsspec_fuse"] = best_s["mount"] / best_s["fsspec.fuse"]
            line += f", fsspec.fuse {best_s['fsspec.fuse'] * 1000:.0f} ms"
        line += (
            f"; mount/tmpfs {figures['mount_vs_tmpfs']:.1f} "
            f"({verdict(figures['mount_vs_tmpfs'], 1.5, at_most=True)})"
        )
        if "mount_vs_fsspec_fuse" in figures:
            line += (
                f", mount/fsspec.fuse {figures['mount_vs_fsspec_fuse']:.2f} "
                f"({verdict(figures['mount_vs_fsspec_fuse'], 0.2, at_most=True)})"
            )
        if any(busy.values()):
            line += f"; rounds with requests (a listing expired): {busy}"
        print(line)
        results[key] = figures
    return results


def kernel_caching(mounts: Mounts, tmp: Path, rounds: int) -> dict[str, Any]:
    """FUSE callbacks (and their time in Python) of one warm `ls -lR`, through the counting
    shim: the mount as it is and with the kernel caching nothing, and fsspec.fuse; again
    (the second of two in a row) and after a pause."""
    results: dict[str, Any] = {}
    variants = [
        ("mount", "voicefs", True, True),
        ("mount, kernel timeouts 0", "voicefs", False, False),
        ("fsspec.fuse", "fsspec", True, True),
    ]
    print(
        f"FUSE operations of one warm ls -lR (counting shim; the mount's kernel timeouts: "
        f"entry {operations.ENTRY_TIMEOUT:g} s, attr {operations.ATTR_TIMEOUT:g} s, negative "
        f"{operations.NEGATIVE_TIMEOUT:g} s; fsspec.fuse: libfuse's 1 s):"
    )
    for label, kind, kernel_cache, pause_too in variants:
        counts = tmp / f"counts-{len(results)}.json"
        measured: dict[str, tuple[float, dict[str, tuple[int, float]]]] = {}
        try:
            with mounts.shimmed("profile", kind, counts, kernel_cache) as mountpoint:
                shim = FuseCounts(counts)
                ls_lr(mountpoint)  # cold: fills the listing cache
                for _ in range(rounds):
                    ls_lr(mountpoint)
                    seconds: list[float] = []
                    ops = shim.during(lambda: seconds.append(ls_lr(mountpoint)))  # noqa: B023
                    if "again" not in measured or seconds[0] < measured["again"][0]:
                        measured["again"] = (seconds[0], ops)
                if pause_too:
                    time.sleep(PAUSE)
                    seconds = []
                    ops = shim.during(lambda: seconds.append(ls_lr(mountpoint)))  # noqa: B023
                    measured["after a pause"] = (seconds[0], ops)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"  {label}: skipped: {exc}")
            results[label] = {"skipped": str(exc)}
            continue
        results[label] = {}
        for when, (seconds_taken, ops) in measured.items():
            calls = sum(n for n, _ in ops.values())
            python = sum(s for _, s in ops.values())
            print(
                f"  {label}, {when}: {seconds_taken * 1000:.0f} ms, {calls} operations "
                f"({seconds_taken / max(calls, 1) * 1e6:.0f} us each, {python * 1000:.0f} ms "
                f"in all in Python): {describe_ops(ops)}"
            )
            results[label][when] = {
                "seconds": seconds_taken,
                "operations": calls,
                "python_seconds": python,
                "by_operation": {name: {"calls": n, "seconds": s} for name, (n, s) in ops.items()},
            }
    return results


# --------------------------------------------------------------------------- 2-5. audio


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat_file:
        fields = stat_file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used during a block by this process ("self": the reader or the bare loop)
    and by other processes by name (the emulator, the mount)."""

    def __init__(self, **pids: int) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._start = {name: process_cpu(pid) for name, pid in self.pids.items()}
        self._self = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = {
            name: process_cpu(pid) - self._start[name] for name, pid in self.pids.items()
        }
        self.seconds["self"] = time.process_time() - self._self


def median_cpu(samples: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(s[name] for s in samples) for name in samples[0]}


def reads(
    emulator: EmulatorProcess, mounts: Mounts, big: dict[str, Any], tmp: Path, rounds: int
) -> dict[str, Any]:
    """Cold reads (a fresh mount and cache each) against the bare streamed download; cached
    reads against a copy on tmpfs."""
    url, size, path = big["url"], big["size"], big["path"]
    results: dict[str, Any] = {}
    times: dict[str, list[float]] = {"bare": [], "cold": []}
    cpu: dict[str, list[dict[str, float]]] = {"bare": [], "cold": []}
    cold_requests: list[int] = []
    server = emulator.process.pid if emulator.process else 0
    for _ in range(rounds):
        with CpuMeter(server=server) as meter:
            times["bare"].append(timed(lambda: bare_download(mounts.account, url)))
        cpu["bare"].append(meter.seconds)
        with mounts.voicefs("cold-read") as mounted:
            mountpoint = mounted.mountpoint
            assert (mountpoint / path).stat().st_size == size  # the listings, not timed
            time.sleep(SETTLE)
            emulator.reset_request_counts()
            with CpuMeter(server=server, mount=mounted.process.pid) as meter:
                times["cold"].append(timed(functools.partial(read_file, mountpoint / path)))
            cpu["cold"].append(meter.seconds)
            cold_requests.append(total(emulator.request_counts()))
    rate = {name: size / MiB / best_of(values) for name, values in times.items()}
    ratio = rate["cold"] / rate["bare"]
    median_ratio = statistics.median(times["bare"]) / statistics.median(times["cold"])
    print(
        f"cold read of {size / MiB:.0f} MiB, best of {rounds}: mount {rate['cold']:6.1f} MiB/s "
        f"({max(cold_requests)} request(s)), bare requests stream {rate['bare']:6.1f} MiB/s: "
        f"ratio {ratio:.2f} (medians: {median_ratio:.2f}; {verdict(ratio, 0.8, at_most=False)})"
    )
    used = {name: median_cpu(values) for name, values in cpu.items()}
    print(
        f"  CPU per read (medians; {os.cpu_count()} cores): bare: the loop "
        f"{used['bare']['self'] * 1000:.0f} ms, the emulator {used['bare']['server'] * 1000:.0f}"
        f" ms, in {statistics.median(times['bare']) * 1000:.0f} ms; mount: the mount process "
        f"{used['cold']['mount'] * 1000:.0f} ms, the reader {used['cold']['self'] * 1000:.0f} "
        f"ms, the emulator {used['cold']['server'] * 1000:.0f} ms, in "
        f"{statistics.median(times['cold']) * 1000:.0f} ms"
    )
    results["cold"] = {
        "mount_mib_s": rate["cold"],
        "bare_mib_s": rate["bare"],
        "ratio": ratio,
        "median_ratio": median_ratio,
        "requests": max(cold_requests),
        "cpu_seconds_medians": used,
        "seconds_medians": {name: statistics.median(values) for name, values in times.items()},
    }

    shm = Path(tempfile.mkdtemp(prefix="voicefs-bench-", dir="/dev/shm"))
    try:
        with mounts.voicefs("cached-read") as mounted:
            mountpoint = mounted.mountpoint
            shutil.copyfile(mountpoint / path, shm / "copy.wav")  # the cold read, not timed
            emulator.reset_request_counts()
            cached: dict[str, list[float]] = {"tmpfs": [], "page cache": [], "disk cache": []}
            for _ in range(rounds):
                cached["tmpfs"].append(timed(lambda: read_file(shm / "copy.wav")))
                cached["page cache"].append(timed(lambda: read_file(mountpoint / path)))
                drop_page_cache(mountpoint / path)
                cached["disk cache"].append(timed(lambda: read_file(mountpoint / path)))
            requests_made = total(emulator.request_counts())
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    rate = {name: size / MiB / best_of(values) for name, values in cached.items()}
    ratios = {name: rate[name] / rate["tmpfs"] for name in ("page cache", "disk cache")}
    print(
        f"cached read, best of {rounds}: tmpfs copy {rate['tmpfs']:7.0f} MiB/s; second read "
        f"(kernel page cache) {rate['page cache']:7.0f} MiB/s, ratio {ratios['page cache']:.2f};"
        f" page cache dropped (voicefs's disk cache) {rate['disk cache']:7.0f} MiB/s, ratio "
        f"{ratios['disk cache']:.2f}; {requests_made} requests"
    )
    results["cached"] = {
        "tmpfs_mib_s": rate["tmpfs"],
        "page_cache_mib_s": rate["page cache"],
        "disk_cache_mib_s": rate["disk cache"],
        "page_cache_ratio": ratios["page cache"],
        "disk_cache_ratio": ratios["disk cache"],
        "requests": requests_made,
    }
    return results


def staged_locally(local: Path, directory: Path) -> None:
    """What the mount's staging costs at least: the file written in 1 MiB blocks to a new
    file in `directory` (the cache directory's filesystem) and fsynced, as its flush does."""
    target = directory / "staged-reference"
    buffer = bytearray(BLOCK)
    with local.open("rb", buffering=0) as source, target.open("wb", buffering=0) as out:
        while n := source.readinto(buffer):
            out.write(memoryview(buffer)[:n])
        os.fsync(out.fileno())
    target.unlink()


def uploads(
    emulator: EmulatorProcess, mounts: Mounts, big: dict[str, Any], local: Path, rounds: int
) -> dict[str, Any]:
    """`cp` into a folder of the mount against a bare multipart `requests.post`; and, for
    the reasons, the local part of the mount's work alone (written to disk and fsynced)."""
    size = local.stat().st_size
    times: dict[str, list[float]] = {"bare": [], "cp": [], "staging": []}
    with mounts.voicefs("upload") as mounted:
        folder = mounted.mountpoint / big["folder_path"]
        assert folder.is_dir()
        emulator.reset_request_counts()
        for n in range(rounds):
            times["bare"].append(
                timed(lambda: bare_upload(mounts.account, big["folder_id"], local))
            )
            target = folder / f"copied {n}.wav"
            command = ["cp", str(local), str(target)]
            times["cp"].append(timed(lambda: subprocess.run(command, check=True)))  # noqa: B023
            times["staging"].append(timed(lambda: staged_locally(local, mounted.cache)))
        counts = emulator.request_counts()
    rate = {name: size / MiB / best_of(values) for name, values in times.items()}
    ratio = rate["cp"] / rate["bare"]
    median_ratio = statistics.median(times["bare"]) / statistics.median(times["cp"])
    uploads_by_mount = counts.get("POST /api/recordings", 0) - rounds
    others = {route: n for route, n in counts.items() if route != "POST /api/recordings"}
    print(
        f"upload of {size / MiB:.0f} MiB, best of {rounds}: cp into the mount "
        f"{rate['cp']:6.1f} MiB/s, bare requests.post {rate['bare']:6.1f} MiB/s: ratio "
        f"{ratio:.2f} (medians: {median_ratio:.2f}; {verdict(ratio, 0.8, at_most=False)}); "
        f"the mount's requests for "
        f"{rounds} copies: POST /api/recordings {uploads_by_mount}, {routes(others)}"
    )
    best_ms = {name: best_of(values) * 1000 for name, values in times.items()}
    print(
        f"  for reference, the mount's local staging alone (write to the cache directory's "
        f"disk + fsync): {best_ms['staging']:.0f} ms; cp {best_ms['cp']:.0f} ms, bare "
        f"{best_ms['bare']:.0f} ms"
    )
    return {
        "cp_mib_s": rate["cp"],
        "bare_mib_s": rate["bare"],
        "ratio": ratio,
        "median_ratio": median_ratio,
        "staging_alone_s": best_of(times["staging"]),
        "cp_s": best_of(times["cp"]),
        "bare_s": best_of(times["bare"]),
        "mount_uploads": uploads_by_mount,
        "other_requests": others,
    }


def io_profile(mounts: Mounts, big: dict[str, Any], local: Path, tmp: Path) -> dict[str, Any]:
    """FUSE callbacks of one cold read and one `cp` through the counting shim."""
    counts = tmp / "counts-io.json"
    results: dict[str, Any] = {}
    with mounts.shimmed("profile-io", "voicefs", counts) as mountpoint:
        shim = FuseCounts(counts)
        source = mountpoint / big["path"]
        source.stat()
        actions: dict[str, Callable[[], object]] = {
            "cold read": lambda: read_file(source),
            "cp": lambda: subprocess.run(
                ["cp", str(local), str(mountpoint / big["folder_path"] / "profiled.wav")],
                check=True,
            ),
        }
        for label, action in actions.items():
            seconds: list[float] = []
            ops = shim.during(lambda: seconds.append(timed(action)))  # noqa: B023
            print(
                f"  FUSE operations of one {label} of {big['size'] / MiB:.0f} MiB (counting "
                f"shim): {seconds[0] * 1000:.0f} ms; {describe_ops(ops)}"
            )
            results[label] = {
                "seconds": seconds[0],
                "by_operation": {name: {"calls": n, "seconds": s} for name, (n, s) in ops.items()},
            }
    return results


def tool_requests(emulator: EmulatorProcess, mounts: Mounts, big: dict[str, Any]) -> dict[str, Any]:
    """Requests of one tool on a recording, from a fresh mount and cache (counted from before
    the mount starts: its credentials check and the root listing are in), and whether the
    whole recording then arrives in the audio cache (within 10 s)."""
    results: dict[str, Any] = {}
    tools = {
        "cat": ["cat", "{}"],
        "head -c 4096": ["head", "-c", "4096", "{}"],
        "soxi": ["soxi", "{}"],
    }
    for label, template in tools.items():
        emulator.reset_request_counts()
        with mounts.voicefs("tool") as mounted:
            target = str(mounted.mountpoint / big["path"])
            command = [target if part == "{}" else part for part in template]
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            cached = mounted.cache / "audio" / big["id"]
            try:
                wait_until(
                    lambda: cached.exists() and cached.stat().st_size == big["size"],  # noqa: B023
                    timeout=10,
                )
                whole = True
            except TimeoutError:
                whole = False
            counts = emulator.request_counts()
        results[label] = {"requests": counts, "whole_file_downloaded": whole}
        print(
            f"cold `{label}` of the {big['size'] / MiB:.0f} MiB recording, fresh mount: "
            f"{total(counts)} requests ({total(counts, CREDENTIALS)} without the credentials "
            f"check): {routes(counts)}; the whole file downloaded: {'yes' if whole else 'no'}"
        )
    return results


class RssSampler:
    """Samples a process's VmRSS every 10 ms in a thread; `peak` after `stop()` is the highest
    sample or VmHWM, in KiB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def status(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def reset_hwm(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")
            return True
        except OSError:
            return False

    def _sample(self) -> None:
        while self._running:
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, self.status("VmRSS"))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, self.status("VmHWM"))


def rss(mounts: Mounts, big: dict[str, Any], local: Path) -> dict[str, Any]:
    """Peak RSS of the mount process while `cp` uploads a large WAV and `cat` reads it."""
    size = local.stat().st_size
    results: dict[str, Any] = {}
    with mounts.voicefs("rss") as mounted:
        mountpoint, process = mounted.mountpoint, mounted.process
        folder = mountpoint / big["folder_path"]
        target = folder / "large.wav"
        assert folder.is_dir()
        probe = RssSampler(process.pid)
        start = probe.status("VmRSS") / 1024

        def measure(label: str, command: list[str]) -> None:
            hwm_reset = probe.reset_hwm()
            with RssSampler(process.pid) as sampler:
                seconds = timed(
                    lambda: subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
                )
            peak = sampler.peak / 1024
            print(
                f"{label} of {size / MiB:.0f} MiB: the mount's peak RSS {peak:.0f} MiB "
                f"({verdict(peak, 150, at_most=True)}; {start:.0f} MiB after mounting), "
                f"{size / MiB / seconds:.0f} MiB/s"
                + ("" if hwm_reset else " (VmHWM could not be reset: it covers the whole run)")
            )
            results[label] = {
                "size_mib": size / MiB,
                "peak_rss_mib": peak,
                "start_rss_mib": start,
                "mib_s": size / MiB / seconds,
            }

        measure("cp (upload)", ["cp", str(local), str(target)])
        # finished audio of the right size before reading it (not a processing status)
        wait_until(lambda: target.stat().st_size == size, timeout=60, interval=0.5)
        measure("cat (cold read)", ["cat", str(target)])
    return results


def audio(
    emulator: EmulatorProcess, tmp: Path, quick: bool, rounds: dict[str, int]
) -> dict[str, Any]:
    account = emulator.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Bench")["id"], "Files")
    tmp.mkdir()
    local = write_wav(tmp / "big.wav", (16 if quick else 64) * MiB)
    bare_upload(account, folder["id"], local)
    (recording,) = api.recordings(folder["id"])
    assert recording["size"] == local.stat().st_size, recording
    big = {
        "id": recording["id"],
        "url": recording["url"],
        "size": recording["size"],
        "path": "Bench/Files/big.wav",
        "folder_path": "Bench/Files",
        "folder_id": folder["id"],
    }
    assert bare_download(account, big["url"]) == big["size"]
    mounts = Mounts(account, tmp)
    results: dict[str, Any] = {"recording_mib": big["size"] / MiB}
    results["read"] = reads(emulator, mounts, big, tmp, rounds["io"])
    results["upload"] = uploads(emulator, mounts, big, local, rounds["io"])
    results["io_profile"] = io_profile(mounts, big, local, tmp)
    results["requests"] = tool_requests(emulator, mounts, big)
    local.unlink()
    large = write_wav(tmp / "large.wav", (256 if quick else 1024) * MiB)
    results["rss"] = rss(mounts, big, large)
    large.unlink()
    return results


# --------------------------------------------------------------------------- main


def machine() -> dict[str, str]:
    fuse = subprocess.run(["fusermount3", "-V"], capture_output=True, text=True, check=False)
    return {
        "cores": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "kernel": platform.release(),
        "fusermount3": (fuse.stdout or fuse.stderr).strip(),
        "requests": requests.__version__,
    }


def summary(results: dict[str, Any]) -> list[str]:
    """One line per figure: its value, its target and whether it was met."""
    lines = []

    def add(label: str, value: float, target: float | None, at_most: bool, unit: str) -> None:
        shown = f"{value:.2f}{unit}" if unit != " requests" else f"{value:.0f}{unit}"
        lines.append(
            f"  {label:<52} {shown:>14}  "
            + (verdict(value, target, at_most) if target is not None else "(no target)")
        )

    listed = results["listing"]
    for key, label in (("again", "again"), ("after_pause", "after a pause")):
        figures = listed[key]
        add(f"warm ls -lR mount / tmpfs ({label})", figures["mount_vs_tmpfs"], 1.5, True, "")
        if "mount_vs_fsspec_fuse" in figures:
            add(
                f"warm ls -lR mount / fsspec.fuse ({label})",
                figures["mount_vs_fsspec_fuse"],
                0.2,
                True,
                "",
            )
    add(
        f"cold ls -lR requests (goal {listed['goal_with_voices']} with voices)",
        listed["cold_requests_counted"],
        listed["goal_with_voices"],
        True,
        " requests",
    )
    add("warm ls -lR requests", listed["warm_requests"], 0, True, " requests")
    sound = results["audio"]
    add("cold read, mount / bare requests stream", sound["read"]["cold"]["ratio"], 0.8, False, "")
    cached = sound["read"]["cached"]
    add("cached read (page cache), mount / tmpfs", cached["page_cache_ratio"], None, False, "")
    add("cached read (disk cache), mount / tmpfs", cached["disk_cache_ratio"], None, False, "")
    add("upload, cp into the mount / bare requests.post", sound["upload"]["ratio"], 0.8, False, "")
    for label, figures in sound["rss"].items():
        add(
            f"peak RSS of the mount, {label} {figures['size_mib']:.0f} MiB",
            figures["peak_rss_mib"],
            150,
            True,
            " MiB",
        )
    for label, figures in sound["requests"].items():
        add(f"requests of a cold `{label}`", total(figures["requests"]), None, True, " requests")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    options = parser.parse_args()
    if not fuse_available():
        print("bench_mount: no FUSE here (fusermount3 and /dev/fuse are needed)")
        return 1
    about = machine()
    print(
        f"machine: {about['cores']} cores, Python {about['python']}, kernel {about['kernel']}, "
        f"{about['fusermount3']}"
    )
    if options.quick:
        rounds = {"ls": 3, "fsspec": 3, "lapse": 1, "profile": 1, "io": 3}
    else:
        rounds = {"ls": 9, "fsspec": 5, "lapse": 3, "profile": 2, "io": 7}
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": about, "quick": options.quick, "rounds": rounds}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="voicefs-bench-"))
        # The service's storage is not the client's disk: the emulator keeps its data on
        # tmpfs, so that its writes do not queue behind (or ahead of) the mount's on one disk.
        data = stack.enter_context(tempfile.TemporaryDirectory(prefix="voicefs-", dir="/dev/shm"))
        emulator_running = contextmanager(running_emulator)
        emulator = stack.enter_context(
            emulator_running("--conversion-seconds", "0.1", data_dir=Path(data))
        )
        results["listing"] = listing(emulator, Path(tmp) / "listing", options.quick, rounds)
        results["audio"] = audio(emulator, Path(tmp) / "audio", options.quick, rounds)
    results["seconds"] = time.perf_counter() - started
    print("summary:")
    print("\n".join(summary(results)))
    print(f"done in {results['seconds']:.0f} s")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
