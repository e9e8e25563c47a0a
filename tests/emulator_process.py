"""Runs the emulator as a real server process on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"


@dataclass
class Account:
    """An isolated user of the emulator with its credentials."""

    url: str
    user_id: str
    email: str
    password: str
    api_key: str

    def session(self) -> requests.Session:
        """A requests session that authenticates with this account's API key."""
        session = requests.Session()
        session.headers["api-key"] = self.api_key
        return session


@dataclass
class EmulatorProcess:
    """A running `voicefs emulator` and its test hooks under /_emulator/."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    url: str = ""
    process: subprocess.Popen[str] | None = None
    port: int = 0

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "voicefs",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(self.data_dir),
            "--ready-json",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"emulator exited with {self.process.wait()} before it was ready")
        ready = json.loads(line)
        self.url = ready["url"]
        self.port = ready["port"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stops and starts the server on the same port and data directory."""
        self.stop()
        self.start()

    def hook(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def new_account(self, **options: Any) -> Account:
        """A fresh isolated user (POST /_emulator/users); options: email, password, credits."""
        user = self.hook("POST", "users", json=options)
        return Account(self.url, user["id"], user["email"], user["password"], user["api_key"])

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Changes fault injection at run time (POST /_emulator/faults)."""
        result: dict[str, Any] = self.hook("POST", "faults", json=faults)
        return result

    def clear_faults(self) -> None:
        self.hook("DELETE", "faults")

    def request_counts(self) -> dict[str, int]:
        """Requests served since the last reset, by 'METHOD /route/{template}'."""
        counts: dict[str, int] = self.hook("GET", "requests")["counts"]
        return counts

    def reset_request_counts(self) -> None:
        self.hook("DELETE", "requests")


def running_emulator(*extra_args: str, data_dir: Path | None = None) -> Iterator[EmulatorProcess]:
    """Generator for fixtures: starts an emulator, yields it, stops it."""
    with tempfile.TemporaryDirectory(prefix="voicefs-emulator-") as tmp:
        emulator = EmulatorProcess(data_dir or Path(tmp), list(extra_args))
        emulator.start()
        try:
            yield emulator
        finally:
            emulator.stop()


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Polls predicate until it returns something truthy; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)
