"""Benchmarks a large account (`voicefs emulator --seed large`: 20 projects x 10 folders x
500 recordings = 100,000; --quick: 4 x 5 x 200 = 4,000) through fsspec and through the mount.

Reports, from one emulator on loopback:
- how long seeding took (the emulator's start, until it answers);
- the requests of a cold `find` through fsspec and through the mount, against the minimum
  (the mount keeps to the service's budget of 500 requests per 300 s: past it, it waits)
  1 + P + sum(ceil(R_p / 200)) (fsspec lists each project's recordings in one paged listing;
  the mount lists folder by folder: 1 + P + sum(ceil(R_f / 200)));
- a warm `find` of the mount against the same tree on tmpfs (best of 2; one round at
  100,000), same run;
- the mount process's memory (VmRSS, VmHWM) after the walks.

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


def run(*command: str) -> subprocess.CompletedProcess[str]:
    """A tool run to its end, however long a cold walk of 100,000 recordings takes."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[:2000]}")
    return done


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def requests_during(emulator: EmulatorProcess, action: Any) -> tuple[int, float, Any]:
    emulator.reset_request_counts()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    return sum(emulator.request_counts().values()), seconds, result


def tmpfs_copy(paths: list[str], mountpoint: Path, target: Path) -> None:
    """The mount's tree as empty files and directories on tmpfs (names only)."""
    for line in paths:
        relative = Path(line).relative_to(mountpoint)
        destination = target / relative
        if line.endswith("/"):
            destination.mkdir(parents=True, exist_ok=True)
    for line in paths:
        if not line.endswith("/"):
            destination = target / Path(line).relative_to(mountpoint)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.touch()


def best(action: Any, rounds: int = 2) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(scale: tuple[int, int, int], tmp: Path) -> dict[str, Any]:
    projects, folders, per_folder = scale
    started = time.perf_counter()
    emulator = EmulatorProcess(
        tmp / "service",
        [
            "--seed",
            "large",
            "--seed-scale",
            "x".join(map(str, scale)),
            "--conversion-seconds",
            "0.3",
        ],
    )
    emulator.start()
    try:
        seeded = time.perf_counter() - started
        account = Account(emulator.url, "", LARGE_EMAIL, "large", LARGE_API_KEY)
        per_project = folders * per_folder
        minimum = 1 + projects + projects * math.ceil(per_project / PAGE)
        by_folder = 1 + projects + projects * folders * math.ceil(per_folder / PAGE)
        fs = VoiceFileSystem(
            url=account.url, api_key=account.api_key, rate_limit=False, skip_instance_cache=True
        )
        fs_requests, fs_seconds, found = requests_during(emulator, lambda: fs.find(""))
        results: dict[str, Any] = {
            "scale": {
                "projects": projects,
                "folders": folders,
                "recordings": projects * folders * per_folder,
                "fsspec_find_entries": len(found),
            },
            "seeding_seconds": round(seeded, 2),
            "minimum_requests": minimum,
            "fsspec_cold_find": {"requests": fs_requests, "seconds": round(fs_seconds, 2)},
        }
        mountpoint = tmp / "mnt"
        # The mount keeps to the service's budget of 500 requests per 300 s, so a cold walk of
        # more listings than that waits for it; --timeout lets it wait instead of answering EIO.
        with mounted(account, mountpoint, tmp / "cache", "--timeout", "900") as process:
            find = ["find", str(mountpoint), "-mindepth", "1", "-path", "*/.voicefs", "-prune"]
            whole = lambda: run(*find, "-o", "-printf", "%p\n")  # noqa: E731
            mount_requests, mount_seconds, listing = requests_during(emulator, whole)
            paths = [p + "/" if os.path.isdir(p) else p for p in listing.stdout.splitlines()]
            rounds = 2 if projects * folders * per_folder <= 20_000 else 1
            warm = best(whole, rounds)
            rss, hwm = status_kib(process.pid, "VmRSS"), status_kib(process.pid, "VmHWM")
        shm = Path(tempfile.mkdtemp(prefix="voicefs-scale-", dir="/dev/shm"))
        try:
            tmpfs_copy(paths, mountpoint, shm)
            on_tmpfs = best(lambda: run("find", str(shm), "-mindepth", "1", "-printf", "%p\n"), 3)
        finally:
            shutil.rmtree(shm, ignore_errors=True)
        results.update(
            {
                "mount_cold_find": {
                    "requests": mount_requests,
                    "seconds": round(mount_seconds, 2),
                    "folder_by_folder": by_folder,
                },
                "warm_find": {
                    "mount_seconds": round(warm, 3),
                    "tmpfs_seconds": round(on_tmpfs, 3),
                    "ratio": round(warm / on_tmpfs, 2),
                    "entries": len(paths),
                },
                "mount_memory_mib": {"rss": round(rss / 1024, 1), "peak": round(hwm / 1024, 1)},
            }
        )
        return results
    finally:
        emulator.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 x 5 x 200 recordings")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    scale = (4, 5, 200) if args.quick else (20, 10, 500)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="voicefs-bench-scale-") as tmp:
        results = measure(scale, Path(tmp))
    results["machine"] = machine()
    s, fsf, mnt = results["scale"], results["fsspec_cold_find"], results["mount_cold_find"]
    warm, memory = results["warm_find"], results["mount_memory_mib"]
    print(f"machine: {', '.join(f'{k} {v}' for k, v in results['machine'].items())}")
    print(
        f"account: {s['projects']} projects x {s['folders']} folders, {s['recordings']} "
        f"recordings; seeded and serving in {results['seeding_seconds']} s"
    )
    print(
        f"cold find through fsspec: {fsf['requests']} requests in {fsf['seconds']} s "
        f"(minimum 1 + P + sum ceil(R_p/200) = {results['minimum_requests']})"
    )
    print(
        f"cold find through the mount: {mnt['requests']} requests in {mnt['seconds']} s "
        f"(minimum {results['minimum_requests']}; folder by folder {mnt['folder_by_folder']})"
    )
    print(
        f"warm find of the mount ({warm['entries']} entries): {warm['mount_seconds']} s, "
        f"on tmpfs {warm['tmpfs_seconds']} s: ratio {warm['ratio']}"
    )
    print(f"the mount process after the walks: RSS {memory['rss']} MiB (peak {memory['peak']} MiB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
