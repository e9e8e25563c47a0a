"""`voicefs logout` and `voicefs status` as real processes (login: test_login.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cli.conftest import FOLDER, PROJECT, Run, done, refused, run_voicefs
from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted
from voicefs.api.auth import config_path, read_profile


def _login(account: Account, profile: str) -> str:
    command = [sys.executable, "-m", "voicefs", "login", "--url", account.url]
    result = subprocess.run(
        [*command, "--email", account.email, "--profile", profile],
        input=account.password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no terminal: the password is read from stdin
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stored = read_profile(profile, config_path())
    assert stored is not None
    return str(stored["api_key"])


def _accepted(account: Account, key: str) -> bool:
    answer = requests.get(f"{account.url}/api/projects", headers={"api-key": key}, timeout=10)
    return answer.status_code == 200


def test_logout_deletes_the_key_on_the_service_and_from_the_profile(account: Account) -> None:
    key = _login(account, "work")
    assert _accepted(account, key)
    result = run_voicefs("logout", "--profile", "work")
    assert done(result) == ["The API key is deleted on the service and profile 'work' is removed."]
    assert not _accepted(account, key)
    assert read_profile("work", config_path()) is None
    assert key not in result.stdout + result.stderr


def test_logout_sends_the_key_to_the_profile_service_not_to_voicefs_url(
    account: Account, tmp_path: Path
) -> None:
    key = _login(account, "prod")
    elsewhere = {"VOICEFS_URL": "http://127.0.0.1:9"}  # e.g. a demo's export line
    assert done(run_voicefs("logout", "--profile", "prod", env=elsewhere)) == [
        "The API key is deleted on the service and profile 'prod' is removed."
    ]
    assert not _accepted(account, key)


def test_logout_of_a_profile_that_is_not_there_fails_and_touches_nothing(
    account: Account,
) -> None:
    key = _login(account, "default")
    refused(run_voicefs("logout", "--profile", "other"), "no profile 'other'")
    assert read_profile("default", config_path()) is not None
    assert _accepted(account, key)


def test_logout_with_a_key_the_service_refuses_still_forgets_it(account: Account) -> None:
    _login(account, "old")
    _login(account, "new")  # one key per account: this one replaced the first
    result = run_voicefs("logout", "--profile", "old")
    assert done(result) == ["The service no longer accepted the key; profile 'old' is removed."]
    assert read_profile("old", config_path()) is None
    assert read_profile("new", config_path()) is not None


def test_status_shows_the_account_credits_and_each_mount(
    voicefs: Run, account: Account, take: dict[str, Any], tmp_path: Path
) -> None:
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache"):
        (mountpoint / FOLDER / "new.wav").write_bytes(tone("wav"))
        printed = done(voicefs("status"))
        report = json.loads(voicefs("status", "--json").stdout)
    assert printed[0] == f"account  {account.email} at {account.url}"
    assert printed[1].startswith("credits  ")
    assert f"mount    {mountpoint}: online, 0 pending uploads" in printed
    assert report["account"]["id"] == account.user_id
    credits = requests.get(
        f"{account.url}/api/credits", headers={"api-key": account.api_key}, timeout=10
    ).json()
    assert report["credits"]["left"] == credits["credits"]
    [drive] = [m for m in report["mounts"] if m["mountpoint"] == str(mountpoint)]
    assert drive["status"]["state"] == "online"
    assert drive["status"]["pending_uploads"] == []


def test_status_shows_only_this_accounts_mounts_and_errors(
    voicefs: Run, account: Account, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """Two accounts, each with a drive: each `voicefs status` shows its own drive, and none
    of the other's state or errors (CONTRACT §7: errors.log is that account's)."""
    other = emulator.new_account()
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    for owner in (account, other):
        api = Api.of(owner)
        api.folder(api.project(PROJECT)["id"], "Takes")
    with (
        mounted(account, mine, tmp_path / "cache-mine"),
        mounted(other, theirs, tmp_path / "cache-theirs"),
    ):
        with pytest.raises(OSError):  # an error only the other account's drive logs
            (theirs / FOLDER / "their-secret.wav").write_bytes(b"not audio at all")
        assert "their-secret.wav" in (theirs / ".voicefs/errors.log").read_text()
        printed = "\n".join(done(voicefs("status")))
        report = json.loads(voicefs("status", "--json").stdout)
        env = {"VOICEFS_URL": other.url, "VOICEFS_API_KEY": other.api_key}
        printed_other = "\n".join(done(voicefs("status", env=env)))
    assert f"mount    {mine}: online" in printed
    assert str(theirs) not in printed and "their-secret" not in printed, printed
    listed = [m["mountpoint"] for m in report["mounts"]]
    assert str(mine) in listed and str(theirs) not in listed, listed
    assert f"mount    {theirs}: online" in printed_other and "their-secret" in printed_other
    assert str(mine) not in printed_other, printed_other


def test_status_with_a_wrong_key_exits_1_and_says_why(voicefs: Run) -> None:
    refused(voicefs("status", env={"VOICEFS_API_KEY": "wrong-key"}), "Invalid or expired API key")
