"""Benchmarks a remount: the walk of a drive that remembers its tree, against its first walk.

One emulator on loopback, one seeded account (the tree of bench_mount.py), one cache
directory. Each mount is `voicefs mount --foreground` as users start it (the key in the
environment); requests are counted by the emulator from after the mount is ready (its
credentials check is before), and `find` of the whole mount is timed:
- the first (cold) walk: every listing asked of the service;
- a remount within `--cache-ttl`: the store answers (goal: 0 requests);
- a remount after `--cache-ttl`: the last known tree answers at once and is brought up to
  date in the background (the requests of that, counted until they stop, are reported apart).
Each walk's time is reported with its ratio to the cold walk's, best of N rounds.

Usage: python benchmarks/bench_remount.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_mount import layout_for, machine  # noqa: E402
from tests.emulator.helpers import Api  # noqa: E402
from tests.emulator_process import Account, EmulatorProcess, running_emulator  # noqa: E402
from tests.mount.mounting import mounted, run  # noqa: E402

TTL = 5.0  # the mounts' --cache-ttl, seconds


def walk(emulator: EmulatorProcess, mountpoint: Path) -> tuple[float, int, int]:
    """`find` of the whole mount: seconds, requests during it, entries found."""
    emulator.reset_request_counts()
    started = time.perf_counter()
    found = run("find", str(mountpoint)).stdout.count("\n")
    seconds = time.perf_counter() - started
    return seconds, sum(emulator.request_counts().values()), found


def settled_requests(emulator: EmulatorProcess, quiet: float = 1.0, limit: float = 30.0) -> int:
    """Requests counted until none came for `quiet` seconds (background revalidation)."""
    deadline = time.monotonic() + limit
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = sum(emulator.request_counts().values())
        if total != last:
            last, since = total, time.monotonic()
        elif time.monotonic() - since > quiet:
            break
        time.sleep(0.1)
    return last


def measure(emulator: EmulatorProcess, account: Account, tmp: Path, rounds: int) -> dict[str, Any]:
    results: dict[str, list[tuple[float, int]]] = {"cold": [], "within": [], "after": []}
    background: list[int] = []
    entries = 0
    for n in range(rounds):
        cache, mountpoint = tmp / f"cache-{n}", tmp / f"mnt-{n}"
        ttl = ("--cache-ttl", str(TTL))
        with mounted(account, mountpoint, cache, *ttl):
            seconds, requests, entries = walk(emulator, mountpoint)
            results["cold"].append((seconds, requests))
        with mounted(account, mountpoint, cache, *ttl):
            seconds, requests, _ = walk(emulator, mountpoint)
            results["within"].append((seconds, requests))
        time.sleep(TTL + 0.5)
        with mounted(account, mountpoint, cache, *ttl):
            seconds, requests, _ = walk(emulator, mountpoint)
            results["after"].append((seconds, requests))
            background.append(settled_requests(emulator) - requests)
    best = {name: min(samples) for name, samples in results.items()}
    return {
        "entries": entries,
        "rounds": rounds,
        "walks": {
            name: {
                "seconds": round(seconds, 4),
                "requests": requests,
                "time_vs_cold": round(seconds / best["cold"][0], 3),
            }
            for name, (seconds, requests) in best.items()
        },
        "background_requests_after_ttl": max(background),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smaller tree, one round")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="voicefs-bench-remount-") as tmp:
        emulator_gen = running_emulator(data_dir=Path(tmp) / "service")
        emulator = next(emulator_gen)
        try:
            account = emulator.new_account()
            per_project = Api.of(account).seed_layout(layout_for(args.quick), conversions=2)
            results = measure(emulator, account, Path(tmp), 1 if args.quick else 3)
        finally:
            emulator_gen.close()
    results["recordings"] = sum(per_project.values())
    results["machine"] = machine()
    walks = results["walks"]
    print(f"machine: {', '.join(f'{k} {v}' for k, v in results['machine'].items())}")
    print(f"tree: {results['recordings']} recordings, {results['entries']} entries in `find`")
    print(f"best of {results['rounds']}; --cache-ttl {TTL:g} s")
    labels = {
        "cold": "first walk (cold)",
        "within": "remount within the TTL (goal 0 requests)",
        "after": "remount after the TTL (store, revalidated)",
    }
    for name, label in labels.items():
        walk_result = walks[name]
        print(
            f"  {label:50} {walk_result['requests']:4} requests "
            f"{walk_result['seconds'] * 1000:8.0f} ms  ({walk_result['time_vs_cold']:.2f} of cold)"
        )
    print(
        "  after the TTL, the walk is answered from the store while the background brings it "
        "up to date: its requests above, and "
        f"{results['background_requests_after_ttl']} more once the walk was over"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
