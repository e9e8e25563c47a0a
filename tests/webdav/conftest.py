"""Fixtures of the WebDAV server's tests: `voicefs serve webdav` as a real process in front of
an account of the session's emulator, and what clients need to reach it."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.emulator.helpers import Api
from tests.emulator_process import Account, EmulatorProcess

ADDRESS = re.compile(r"at (https?://\S+/)")
SHOWN_PASSWORD = re.compile(r"password: (\S+)\n")
CHANGES = ("POST ", "PATCH ", "PUT ", "DELETE ")  # requests that change the service


@dataclass
class Served:
    """A running `voicefs serve webdav`: its address, its login, its log."""

    url: str
    user: str
    password: str
    process: subprocess.Popen[str]
    log: Path
    cache_dir: Path
    banner: str  # what it printed before serving

    def session(self) -> requests.Session:
        """A client that logs in with Digest, as Finder and Explorer do."""
        session = requests.Session()
        session.auth = HTTPDigestAuth(self.user, self.password)
        return session

    def href(self, path: str) -> str:
        return self.url + quote(path.lstrip("/"))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def serve_webdav(
    account: Account,
    directory: Path,
    *args: str,
    password: str | None = None,
    environ: dict[str, str] | None = None,
) -> Served:
    """Starts the server on a free port and waits until it says where it listens. With no
    password given, one is chosen for VOICEFS_WEBDAV_PASSWORD; with `environ` the caller
    decides everything the process sees (a password kept in the profile, say)."""
    log = directory / "webdav.log"
    cache_dir = directory / "cache"
    if environ is None:
        password = password or secrets.token_urlsafe(12)
        environ = {"VOICEFS_API_KEY": account.api_key, "VOICEFS_WEBDAV_PASSWORD": password}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "voicefs", "-v", "serve", "webdav", "--port", "0"),
            *("--url", account.url, "--cache-dir", str(cache_dir), *args),
        ],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env={**os.environ, **environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = []
    for line in process.stdout:
        banner.append(line)
        if "Ctrl-C" in line:
            text = "".join(banner)
            found = ADDRESS.search(text)
            shown = SHOWN_PASSWORD.search(text)
            assert found, text
            password = password or (shown.group(1) if shown else "")
            return Served(found.group(1), "voicefs", password, process, log, cache_dir, text)
    raise RuntimeError(f"serve webdav exited with {process.wait()}: {log.read_text()}")


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


@pytest.fixture
def webdav(account: Account, tmp_path: Path) -> Iterator[Served]:
    served = serve_webdav(account, tmp_path)
    try:
        yield served
    finally:
        served.stop()


def changes(emulator: EmulatorProcess) -> dict[str, int]:
    """The requests that changed something on the service since the counts were reset."""
    return {
        route: count
        for route, count in emulator.request_counts().items()
        if route.startswith(CHANGES)
    }
