"""What tests/test_docs.py needs to run the docs' code blocks as a reader would: the blocks of
a Markdown file, `voicefs demo` as a real process, and each block run against it.

Conventions (docs/architecture.md states them for contributors):
- ```` ```python ```` and ```` ```sh ```` blocks run, in document order; ```` ```sh no-run ````
  (or `python no-run`) marks one that cannot (a real account, a prompt, a command that never
  returns). Other info strings (`text`, `toml`, `json`, none) are illustrations.
- Shell blocks run in `bash -euo pipefail`; Python blocks share one namespace per file.
- Both run in a fresh directory holding the demo's mount at `voicefs-demo/`, with
  VOICEFS_URL and VOICEFS_API_KEY of the demo set, as the demo tells its user to.
"""

from __future__ import annotations

import linecache
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNNABLE = ("python", "sh")
OPTIONS = ("no-run",)
# Info strings that mean Python or a shell but would not run: a typo must not skip silently.
MISSPELLED = {"py": "python", "python3": "python", "bash": "sh", "shell": "sh", "zsh": "sh"}
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
EXPORTS = re.compile(r"^\s*export VOICEFS_URL=(?P<url>\S+) VOICEFS_API_KEY=(?P<key>\S+)\s*$")
DEMO_START_SECONDS = 60.0
BLOCK_SECONDS = 120.0


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its info string's words, and its code."""

    document: str  # the file, relative to the repository: "docs/mount.md"
    line: int  # the line of its opening fence, 1-based
    words: tuple[str, ...]
    code: str

    @property
    def language(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and "no-run" not in self.words[1:]

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    def problem(self) -> str | None:
        """Why this block's info string is a mistake (a typo would skip it silently)."""
        if self.language in MISSPELLED:
            return f"write ```{MISSPELLED[self.language]}, not ```{self.language}"
        if self.language in RUNNABLE:
            unknown = [word for word in self.words[1:] if word not in OPTIONS]
            if unknown:
                return f"unknown option {unknown[0]!r} (the only one is 'no-run')"
        return None


def blocks_of(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file (CommonMark fences, also indented in lists),
    their code dedented by the fence's indent."""
    absolute = path.resolve()
    document = (
        absolute.relative_to(ROOT) if absolute.is_relative_to(ROOT) else absolute
    ).as_posix()
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = FENCE.match(lines[index])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            text = lines[index]
            body.append(text[min(indent, len(text) - len(text.lstrip(" "))) :])
            index += 1
        index += 1
        words = tuple(opening["info"].split())
        blocks.append(Block(document, start + 1, words, "\n".join(body) + "\n"))
    return blocks


@dataclass(frozen=True)
class Demo:
    """A running `voicefs demo`: where it is mounted and what it told its user to export."""

    directory: Path  # the working directory of every block; the mount is its voicefs-demo/
    mountpoint: Path
    url: str
    api_key: str
    printed: list[str] = field(default_factory=list)  # its stdout so far, a line each

    def environment(self) -> dict[str, str]:
        """The variables a block runs with, on top of the test's environment: the demo's URL
        and key, a home and XDG directories of its own, the project's venv first on PATH."""
        home = self.directory / "home"
        return {
            "VOICEFS_URL": self.url,
            "VOICEFS_API_KEY": self.api_key,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }


@contextmanager
def running_demo(directory: Path) -> Iterator[Demo]:
    """`voicefs demo DIR/voicefs-demo --cache-dir DIR/cache`, as a user starts it, until the
    block ends; then Ctrl-C (SIGINT to its process group), as a user stops it."""
    mountpoint, log = directory / "voicefs-demo", directory / "demo-stderr.txt"
    (directory / "home").mkdir()
    command = [sys.executable, "-m", "voicefs", "demo", str(mountpoint)]
    command += ["--cache-dir", str(directory / "cache")]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    printed: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(process, printed, lines), daemon=True).start()
    try:
        found = _exports(lines, time.monotonic() + DEMO_START_SECONDS)
        if found is None or not os.path.ismount(mountpoint):
            raise AssertionError(
                f"`{' '.join(command[1:])}` did not print its exports and mount within"
                f" {DEMO_START_SECONDS:.0f} s (exit status {process.poll()}).\nstdout:\n"
                + "".join(printed)
                + f"\nstderr:\n{log.read_text()}"
            )
        yield Demo(directory, mountpoint, found["url"], found["key"], printed)
    finally:
        _stop(process, directory)


def _drain(process: subprocess.Popen[str], printed: list[str], lines: queue.Queue[Any]) -> None:
    """Reads the demo's stdout to its end, so it never blocks on a full pipe."""
    assert process.stdout is not None
    for line in process.stdout:
        printed.append(line)
        lines.put(line)
    lines.put(None)


def _exports(lines: queue.Queue[str | None], deadline: float) -> re.Match[str] | None:
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:
            return None
        if found := EXPORTS.match(line):
            return found
    return None


def _stop(process: subprocess.Popen[str], directory: Path) -> None:
    """Ctrl-C unmounts and stops the emulator; a demo that does not stop is killed. Then
    whatever is still mounted in the directory (the demo's drive after a kill, a drive a
    failed block mounted and never unmounted) is unmounted."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for mountpoint in mounts_under(directory):
        done = subprocess.run(["fusermount3", "-u", mountpoint], capture_output=True)
        if done.returncode != 0:
            subprocess.run(["fusermount3", "-uz", mountpoint], capture_output=True)


def mounts_under(directory: Path) -> list[str]:
    """The mount points in directory, deepest first (/proc/mounts escapes spaces as \\040)."""
    with open("/proc/mounts", encoding="utf-8") as table:
        points = [
            re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal[1], 8)), line.split()[1])
            for line in table
        ]
    inside = [p for p in points if Path(p).is_relative_to(directory.resolve())]
    return sorted(inside, key=len, reverse=True)


def run_shell(block: Block, demo: Demo) -> str | None:
    """Runs a shell block in `bash -euo pipefail`; what went wrong, or None."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=demo.directory,
        env={**os.environ, **demo.environment()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a timeout stops what the block started too
    )
    try:
        stdout, stderr = process.communicate(timeout=BLOCK_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        outcome = f"did not finish in {BLOCK_SECONDS:.0f} s"
    else:
        if process.returncode == 0:
            return None
        outcome = f"exited with status {process.returncode}"
    return _report(block, outcome, f"stdout:\n{stdout}\nstderr:\n{stderr}")


def run_python(block: Block, namespace: dict[str, Any]) -> str | None:
    """Runs a Python block in the file's namespace; what went wrong, or None. The code is
    compiled as `<document>:<line>` with the Markdown file's own line numbers, so a
    traceback shows the doc's lines."""
    filename = block.where
    source = "\n" * block.line + block.code
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec"), namespace)
    except (Exception, SystemExit) as exc:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return _report(block, f"raised {type(exc).__name__}", "".join(lines))
    return None


def _report(block: Block, outcome: str, details: str) -> str:
    return (
        f"{block.where}: the ```{' '.join(block.words)} block {outcome}\n"
        f"--- block ---\n{block.code}--- output ---\n{details}"
    )
