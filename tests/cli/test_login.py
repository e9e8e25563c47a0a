"""The `voicefs` command as a user runs it: a real process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import requests

from tests.emulator_process import Account
from voicefs.api.auth import read_profile


def _login(account: Account, config_home: Path, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicefs", "login", "--url", account.url, "--email", account.email],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_CONFIG_HOME": str(config_home)},
        start_new_session=True,  # no terminal: the password is read from stdin
    )


def test_login_stores_a_working_key_in_a_private_profile(account: Account, tmp_path: Path) -> None:
    result = _login(account, tmp_path, account.password)
    assert result.returncode == 0, result.stderr
    config = tmp_path / "voicefs" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    profile = read_profile("default", config)
    assert profile is not None
    key = profile["api_key"]
    assert profile == {"url": account.url, "api_key": key}
    assert key not in result.stdout + result.stderr
    response = requests.get(f"{account.url}/api/projects", headers={"api-key": key}, timeout=10)
    assert response.status_code == 200
    old = requests.get(
        f"{account.url}/api/projects", headers={"api-key": account.api_key}, timeout=10
    )
    assert old.status_code == 401  # one key per account: the new one replaced it


def test_login_with_a_wrong_password_says_so_without_a_traceback(
    account: Account, tmp_path: Path
) -> None:
    result = _login(account, tmp_path, "wrong")
    assert result.returncode == 1
    assert "Incorrect email or password" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "voicefs" / "config.toml").exists()
