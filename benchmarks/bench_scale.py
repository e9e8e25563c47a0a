"""Benchmarks large accounts (`voicefs emulator --seed large`) through fsspec and the mount.

Accounts of 20 x 5 x 150, 4 x 5 x 1,000 and 20 x 10 x 500 recordings (projects x folders x
recordings per folder), one emulator on loopback each; --quick keeps the folder sizes of the
first two (150 and 1,000) in small accounts, 2 x 5 x 150 and 1 x 2 x 1,000, so that the whole
quick run of the benchmarks stays within two minutes. Reports, each
figure against a baseline of the same run:
- listing requests of a cold `find` through the mount (and through fsspec) against the
  minimum 1 + P + sum(ceil(R_p / 200)): the projects, each project's folders, and each
  project's recordings in pages of 200;
- warm `find` and `ls -lR` of the mount as ratios to the same tree copied to tmpfs (names
  only), and to an rclone mount of that copy when Debian's `rclone` is installed; the warm
  walk again after a pause of 10 s (6 s with --quick; within --cache-ttl); the time per entry;
- the mount process's RSS growth per recording over the walks, and its peak.

The mount runs with `--cache-ttl 3600`: a cold walk of 100,000 recordings spends the service's
budget of 500 requests per 300 s and lasts longer than the default 30 s, after which every
listing would be asked for again; the warm walks measure the drive, not the budget. Memory is
the default `--cache-entries` (25,000): an account larger than that walks from the store.

Usage: python benchmarks/bench_scale.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_mount import machine  # noqa: E402
from tests.emulator_process import Account, EmulatorProcess  # noqa: E402
from tests.mount.mounting import mounted  # noqa: E402
from voicefs import VoiceFileSystem  # noqa: E402
from voicefs.emulator.seed_large import LARGE_API_KEY, LARGE_EMAIL  # noqa: E402

PAGE = 200
SCALES = [(20, 5, 150), (4, 5, 1000), (20, 10, 500)]
QUICK_SCALES = [(2, 5, 150), (1, 2, 1000)]
PAUSE = 10.0  # seconds between walks, within the mount's --cache-ttl ...
QUICK_PAUSE = 6.0  # ... with --quick: still past the kernel's 5 s entry and attribute timeouts
CACHE_TTL = "3600"  # longer than a cold walk of 100,000 recordings under the budget
LISTING_ROUTES = ("GET /api/projects", "GET /api/folders", "GET /api/recordings")


def run(*command: str) -> subprocess.CompletedProcess[str]:
    """A tool run to its end, however long a cold walk of 100,000 recordings takes."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[:2000]}")
    return done


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """The process's resident memory now (or its peak, `VmHWM`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def listing_requests(emulator: EmulatorProcess, action: Callable[[], Any]) -> tuple[int, Any]:
    emulator.reset_request_counts()
    result = action()
    counts = emulator.request_counts()
    return sum(n for route, n in counts.items() if route.startswith(LISTING_ROUTES)), result


def best(action: Callable[[], Any], rounds: int = 2) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def walks(top: Path) -> dict[str, Callable[[], Any]]:
    """`find` and `ls -lR` of a tree, the account's `/.voicefs` left out."""
    return {
        "find": lambda: run("find", str(top), "-path", f"{top}/.voicefs", "-prune", "-o", "-print"),
        "ls -lR": lambda: run(
            "ls", "-lR", *[str(p) for p in top.iterdir() if p.name != ".voicefs"]
        ),
    }


def tmpfs_copy(paths: list[str], mountpoint: Path, target: Path) -> None:
    """The mount's tree as empty files and directories on tmpfs (names only)."""
    for line in sorted(paths):
        destination = target / Path(line.rstrip("/")).relative_to(mountpoint)
        if line.endswith("/"):
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.touch()


def rclone_walks(tree: Path, scratch: Path) -> dict[str, float] | None:
    """Warm walks of an rclone mount (local backend) of the tmpfs copy; None without rclone."""
    rclone = shutil.which("rclone")
    if rclone is None:
        return None
    mountpoint = scratch / "rclone"
    mountpoint.mkdir()
    process = subprocess.Popen(
        [rclone, "mount", str(tree), str(mountpoint), "--read-only", "--dir-cache-time", "1h"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if os.path.ismount(mountpoint):
                break
            time.sleep(0.05)
        timed = walks(mountpoint)
        for walk in timed.values():
            walk()  # warm
        return {name: best(walk) for name, walk in timed.items()}
    finally:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False, capture_output=True)
        process.wait(timeout=30)


def measure(scale: tuple[int, int, int], tmp: Path, pause: float) -> dict[str, Any]:
    projects, folders, per_folder = scale
    recordings = projects * folders * per_folder
    emulator = EmulatorProcess(
        tmp / "service", ["--seed", "large", "--seed-scale", "x".join(map(str, scale))]
    )
    emulator.start()
    try:
        account = Account(emulator.url, "", LARGE_EMAIL, "large", LARGE_API_KEY)
        minimum = 1 + projects + projects * math.ceil(folders * per_folder / PAGE)
        fs = VoiceFileSystem(
            url=account.url, api_key=account.api_key, rate_limit=False, skip_instance_cache=True
        )
        fs_listings, _ = listing_requests(emulator, lambda: fs.find(""))
        mountpoint = tmp / "mnt"
        # --timeout: a cold walk beyond the budget of 500 requests per 300 s waits for it
        options = ("--timeout", "900", "--cache-ttl", CACHE_TTL)
        with mounted(account, mountpoint, tmp / "cache", *options) as process:
            started_rss = rss_kib(process.pid)
            timed = walks(mountpoint)
            listings, found = listing_requests(emulator, timed["find"])
            lines = found.stdout.splitlines()
            paths = [p + "/" if os.path.isdir(p) else p for p in lines if p != str(mountpoint)]
            mount = {name: best(walk) for name, walk in timed.items()}
            time.sleep(pause)
            after_pause = {name: best(walk, 1) for name, walk in timed.items()}
            grown_rss = rss_kib(process.pid) - started_rss
            peak_rss = rss_kib(process.pid, "VmHWM")
        shm = Path(tempfile.mkdtemp(prefix="voicefs-scale-", dir="/dev/shm"))
        try:
            tmpfs_copy(paths, mountpoint, shm)
            tmpfs = {name: best(walk, 3) for name, walk in walks(shm).items()}
            rclone = rclone_walks(shm, tmp)
        finally:
            shutil.rmtree(shm, ignore_errors=True)
        entries = len(paths)
        return {
            "scale": {"projects": projects, "folders": folders, "recordings": recordings},
            "entries": entries,
            "listing_requests": {
                "mount_cold_find": listings,
                "fsspec_cold_find": fs_listings,
                "minimum": minimum,
                "ratio": round(listings / minimum, 3),
            },
            "warm": {
                name: {
                    "mount_seconds": round(mount[name], 3),
                    "tmpfs_seconds": round(tmpfs[name], 3),
                    "ratio_to_tmpfs": round(mount[name] / tmpfs[name], 1),
                    "after_pause_ratio_to_tmpfs": round(after_pause[name] / tmpfs[name], 1),
                    "microseconds_per_entry": round(mount[name] / entries * 1e6, 1),
                    "ratio_to_rclone": (
                        None if rclone is None else round(mount[name] / rclone[name], 2)
                    ),
                }
                for name in mount
            },
            "rclone": "not installed" if rclone is None else rclone,
            "rss_growth_kib_per_recording": round(grown_rss / recordings, 2),
            "rss_peak_mib": round(peak_rss / 1024),
        }
    finally:
        emulator.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 x 5 x 150 and 1 x 2 x 1,000")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "accounts": []}
    print(f"machine: {', '.join(f'{k} {v}' for k, v in results['machine'].items())}")
    pause = QUICK_PAUSE if args.quick else PAUSE
    for scale in QUICK_SCALES if args.quick else SCALES:
        with tempfile.TemporaryDirectory(prefix="voicefs-bench-scale-") as tmp:
            measured = measure(scale, Path(tmp), pause)
        results["accounts"].append(measured)
        s, requests = measured["scale"], measured["listing_requests"]
        print(
            f"{s['projects']} x {s['folders']} x {s['recordings'] // s['projects'] // s['folders']}"
            f" ({s['recordings']} recordings, {measured['entries']} entries): cold find listed "
            f"{requests['mount_cold_find']} times through the mount, "
            f"{requests['fsspec_cold_find']} through fsspec (minimum {requests['minimum']}, "
            f"ratio {requests['ratio']})"
        )
        for name, warm in measured["warm"].items():
            rclone = (
                "" if warm["ratio_to_rclone"] is None else f", {warm['ratio_to_rclone']}x rclone"
            )
            print(
                f"  warm {name}: {warm['mount_seconds']} s, {warm['ratio_to_tmpfs']}x tmpfs "
                f"({warm['after_pause_ratio_to_tmpfs']}x after {pause:g} s){rclone}, "
                f"{warm['microseconds_per_entry']} us per entry"
            )
        if measured["rclone"] == "not installed":
            print("  rclone is not installed: no rclone baseline")
        print(
            f"  RSS growth: {measured['rss_growth_kib_per_recording']} KiB per recording, "
            f"peak {measured['rss_peak_mib']} MiB"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
