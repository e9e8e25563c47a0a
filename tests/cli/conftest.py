"""The `voicefs` command as a user runs it: a real process, the account in the environment
(VOICEFS_URL and VOICEFS_API_KEY, never argv), its stdout, stderr and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account

Run = Callable[..., subprocess.CompletedProcess[str]]
PROJECT, FOLDER, TAKE = "Project", "Project/Takes", "Project/Takes/take.wav"


def run_voicefs(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicefs", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
        **kwargs,
    )


@pytest.fixture
def voicefs(account: Account, tmp_path: Path) -> Run:
    """Runs `voicefs ARGS` on the test's account, in the test's directory."""

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        env = {"VOICEFS_URL": account.url, "VOICEFS_API_KEY": account.api_key}
        return run_voicefs(*args, env={**env, **kwargs.pop("env", {})}, cwd=tmp_path, **kwargs)

    return run


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


@pytest.fixture
def take(api: Api) -> dict[str, Any]:
    """`Project/Takes/take.wav`, an original uploaded through the HTTP API; returns it."""
    folder = api.folder(api.project(PROJECT)["id"], "Takes")
    response = api.upload(folder["id"], tone("wav"), "take.wav")
    response.raise_for_status()
    recording: dict[str, Any] = response.json()
    recording["folder_id"] = folder["id"]
    return recording


def refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """A refused action: exit status 1 and one line on stderr, no traceback, naming each of
    `words` (the path and the service's reason); returns the line."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def done(result: subprocess.CompletedProcess[str]) -> list[str]:
    """A command that did its work: exit status 0; returns its lines of output."""
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout.splitlines()
