"""A real `voicefs mount` of an emulator account, run as its own process, as users run it.

The FUSE tests must run where the project is tested: with `VOICEFS_REQUIRE_FUSE=1` (set by
scripts/test, so in CI) a machine without FUSE fails them instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.emulator_process import Account


def fuse_available() -> bool:
    return shutil.which("fusermount3") is not None and Path("/dev/fuse").exists()


def require_fuse() -> None:
    if fuse_available():
        return
    if os.environ.get("VOICEFS_REQUIRE_FUSE") == "1":
        pytest.fail(
            "FUSE is required here (VOICEFS_REQUIRE_FUSE=1) but fusermount3 or /dev/fuse is missing"
        )
    pytest.skip("no FUSE on this machine")


@contextmanager
def mounted(
    account: Account, mountpoint: Path, cache_dir: Path, *extra: str
) -> Iterator[subprocess.Popen[str]]:
    """`voicefs mount --foreground` of the account at mountpoint, until the block ends. The key
    travels in the environment, never in argv."""
    require_fuse()
    mountpoint.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VOICEFS_API_KEY": account.api_key}
    command = [
        sys.executable,
        "-m",
        "voicefs",
        "mount",
        str(mountpoint),
        "--foreground",
        "--url",
        account.url,
        "--cache-dir",
        str(cache_dir),
        *extra,
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not os.path.ismount(mountpoint):
            if process.poll() is not None:
                _, stderr = process.communicate()
                pytest.fail(f"voicefs mount exited with {process.returncode}: {stderr}")
            if time.monotonic() > deadline:
                pytest.fail("voicefs mount did not become ready in 30 s")
            time.sleep(0.05)
        yield process
    finally:
        unmount(mountpoint, process)


def unmount(mountpoint: Path, process: subprocess.Popen[str]) -> None:
    if os.path.ismount(mountpoint):
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False, capture_output=True)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        subprocess.run(["fusermount3", "-uz", str(mountpoint)], check=False, capture_output=True)


def run(
    *command: str, cwd: Path | None = None, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """A real tool, as a user runs it; its output as text. With `check`, a failure fails the
    test with what the tool said."""
    result = subprocess.run(
        list(command), cwd=cwd, capture_output=True, text=True, input=input, timeout=120
    )
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {result.returncode}: {result.stderr}")
    return result
