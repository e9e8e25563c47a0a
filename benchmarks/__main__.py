"""`python -m benchmarks [--quick] [--out DIR]`: every benchmark of the project in one run, and
one report of them, in Markdown and JSON.

Each benchmark is its own script (run alone too: `python benchmarks/bench_mount.py`): it starts
an emulator on loopback, mounts or serves where it measures the mount or the WebDAV server, and
reports each figure as a ratio to a baseline measured in the same run (bare `requests`, a tmpfs
copy, `fsspec.fuse`, WsgiDAV's FilesystemProvider), and request counts against their minimum.
This runs them one after the other, each in a new process (so one's caches and threads cannot
flatter the next), and gathers what they printed and their JSON into `DIR/report.md` and
`DIR/report.json` (`report-quick.*` with --quick), with the machine they ran on. Timings are
never asserted anywhere: the report is what we read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ("client", "bench_client.py", "the API client against bare requests: reads, uploads, memory"),
    ("fs", "bench_fs.py", "the fsspec filesystem: walk and upload requests, whole-file reads"),
    ("mount", "bench_mount.py", "the drive: ls -lR, reads, uploads, requests per tool, memory"),
    ("remount", "bench_remount.py", "a remount's walk against the first one"),
    ("scale", "bench_scale.py", "a large account through fsspec and the mount"),
    ("webdav", "bench_webdav.py", "voicefs serve webdav: GET, PUT, PROPFIND, memory"),
]


def machine() -> dict[str, str]:
    fuse = subprocess.run(["fusermount3", "-V"], capture_output=True, text=True, check=False)
    libfuse = (fuse.stdout or fuse.stderr).strip().rsplit(" ", 1)[-1] or "absent"
    return {
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "libfuse": libfuse,
        "system": platform.platform(),
    }


def run_one(script: str, quick: bool, scratch: Path) -> dict[str, Any]:
    output = scratch / f"{script}.json"
    command = [sys.executable, str(HERE / script), "--json", str(output)]
    if quick:
        command.append("--quick")
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    results = json.loads(output.read_text()) if output.exists() else None
    return {
        "script": script,
        "seconds": round(seconds, 1),
        "exit": done.returncode,
        "printed": done.stdout.strip(),
        "errors": done.stderr.strip()[-4000:] if done.returncode else "",
        "results": results,
    }


def markdown(report: dict[str, Any]) -> str:
    flag = " --quick" if report["quick"] else ""
    lines = [
        f"# voicefs benchmarks{' (quick)' if report['quick'] else ''}",
        "",
        f"Run {report['started']} with `python -m benchmarks{flag}` in {report['seconds']} s,"
        " against the local emulator on loopback.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in report["machine"].items()),
        "",
        "Every figure is a ratio to a baseline measured in the same run, or a request count "
        "against its minimum; each script's own text says which.",
    ]
    for name, run in report["benchmarks"].items():
        lines += [
            "",
            f"## {name}: {run['about']}",
            "",
            f"`benchmarks/{run['script']}`, {run['seconds']} s"
            + ("" if run["exit"] == 0 else f", **failed with exit status {run['exit']}**"),
            "",
            "```text",
            run["printed"] or "(nothing printed)",
            "```",
        ]
        if run["errors"]:
            lines += ["", "```text", run["errors"], "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under two minutes")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where the report goes")
    parser.add_argument("--only", nargs="*", choices=[n for n, _, _ in BENCHMARKS])
    args = parser.parse_args()
    started = time.monotonic()
    report: dict[str, Any] = {
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    with tempfile.TemporaryDirectory(prefix="voicefs-benchmarks-") as scratch:
        for name, script, about in BENCHMARKS:
            if args.only and name not in args.only:
                continue
            print(f"{name}: {script} …", flush=True)
            run = run_one(script, args.quick, Path(scratch))
            run["about"] = about
            report["benchmarks"][name] = run
            print(run["printed"] + "\n", flush=True)
    report["seconds"] = round(time.monotonic() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "report-quick" if args.quick else "report"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(report))
    print(f"report: {args.out / stem}.md and .json ({report['seconds']} s)")
    failed = [name for name, run in report["benchmarks"].items() if run["exit"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
