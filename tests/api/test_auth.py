"""Credentials (CONTRACT §1): resolution order, profiles, `voicefs login`, sessions, secrets."""

from __future__ import annotations

import errno
import logging
import os
import pickle
import stat
import time
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import tomli_w

from tests.api.conftest import WavFactory
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api import VoiceClient
from voicefs.api.auth import (
    DEFAULT_URL,
    config_path,
    read_config,
    resolve_credentials,
    resolve_url,
    store_profile,
)
from voicefs.cli import login_and_store_key


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, isolated_config: Path) -> None:
    store_profile("default", {"api_key": "from-profile", "url": "http://profile"})
    store_profile("other", {"api_key": "from-other"})
    creds = resolve_credentials()
    assert creds.api_key is not None and creds.api_key.reveal() == "from-profile"
    assert resolve_url(None, creds) == "http://profile"
    monkeypatch.setenv("VOICEFS_PROFILE", "other")
    assert resolve_credentials().api_key.reveal() == "from-other"  # type: ignore[union-attr]
    monkeypatch.setenv("VOICEFS_EMAIL", "e@x")
    monkeypatch.setenv("VOICEFS_PASSWORD", "pw")
    creds = resolve_credentials()
    assert creds.uses_session and creds.email == "e@x"
    monkeypatch.setenv("VOICEFS_API_KEY", "from-env")
    assert resolve_credentials().api_key.reveal() == "from-env"  # type: ignore[union-attr]
    # explicit arguments beat the environment
    assert resolve_credentials(api_key="arg").api_key.reveal() == "arg"  # type: ignore[union-attr]
    creds = resolve_credentials(email="a@b", password="p")
    assert creds.email == "a@b"
    creds = resolve_credentials(profile="default")
    assert creds.api_key.reveal() == "from-profile"  # type: ignore[union-attr]
    # URL: argument, then VOICEFS_URL, then the profile's, then the default
    monkeypatch.setenv("VOICEFS_URL", "http://env/")
    assert resolve_url(None, creds) == "http://env"
    assert resolve_url("http://arg", creds) == "http://arg"
    monkeypatch.delenv("VOICEFS_URL")
    assert resolve_url(None, resolve_credentials(api_key="k")) == DEFAULT_URL


def test_config_path_follows_xdg(isolated_config: Path) -> None:
    assert config_path() == isolated_config / "voicefs" / "config.toml"
    assert config_path({"HOME": "/h"}).parts[-3:] == (".config", "voicefs", "config.toml")


def test_no_credentials_is_permission_error() -> None:
    with pytest.raises(PermissionError, match="voicefs login"):
        resolve_credentials()


def test_store_profile_is_private_and_keeps_others() -> None:
    path = store_profile("a", {"api_key": "k1", "url": "http://a"})
    store_profile("b", {"api_key": 'k"2\\'})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_credentials(profile="a").api_key.reveal() == "k1"  # type: ignore[union-attr]
    assert resolve_credentials(profile="b").api_key.reveal() == 'k"2\\'  # type: ignore[union-attr]


def test_store_profile_is_never_readable_by_others(
    isolated_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is written into a file that is already 0600, even under a umask of 0 (a file
    chmod-ed only after writing would be world-readable meanwhile); values that need TOML
    quoting come back as they went in."""
    modes_while_writing: list[int] = []
    real_dump = tomli_w.dump

    def dump(config: Any, handle: BinaryIO, **kwargs: Any) -> None:
        modes_while_writing.append(stat.S_IMODE(os.fstat(handle.fileno()).st_mode))
        real_dump(config, handle, **kwargs)

    monkeypatch.setattr(tomli_w, "dump", dump)
    values = {"url": "http://a", "api_key": 'k"2\\\n\u00e9', "note": "two\nlines"}
    old_umask = os.umask(0)
    try:
        path = store_profile("odd name.with dots", values)
    finally:
        os.umask(old_umask)
    assert modes_while_writing == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_config(path) == {"profiles": {"odd name.with dots": values}}
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary left


def test_refuses_key_file_others_can_read() -> None:
    path = store_profile("default", {"api_key": "k"})
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError) as info:
        resolve_credentials()
    assert info.value.errno == errno.EACCES
    assert f"chmod 600 {path}" in str(info.value)


def test_login_and_store_key(account: Account) -> None:
    path = login_and_store_key(account.url, account.email, account.password, profile="work")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with VoiceClient(profile="work") as api:
        assert api.url == account.url
        assert api.credits().credits >= 0
    # one key per account: the fixture's key was replaced by the new one
    with VoiceClient(account.url, api_key=account.api_key) as old, pytest.raises(PermissionError):
        old.credits()


def test_wrong_password_is_permission_error(account: Account) -> None:
    api = VoiceClient(account.url, email=account.email, password="nope")
    with api, pytest.raises(PermissionError) as info:
        api.credits()
    assert "nope" not in str(info.value)


def test_unknown_user_is_permission_error_never_not_found(account: Account) -> None:
    api = VoiceClient(account.url, email="nobody@example.com", password="x")
    with api, pytest.raises(PermissionError) as info:
        api.credits()
    assert not isinstance(info.value, FileNotFoundError)


def test_session_client_pickles_and_logs_in_again(account: Account) -> None:
    with VoiceClient(account.url, email=account.email, password=account.password) as api:
        api.create_project("Before pickling")
        copy = pickle.loads(pickle.dumps(api))
    with copy:
        assert [p.name for p in copy.list_projects()] == ["Before pickling"]
        copy.create_project("After")  # a fresh session and CSRF token in the copy


def test_session_login_csrf_and_relogin_after_expiry(
    emulator: EmulatorProcess, account: Account
) -> None:
    with VoiceClient(
        account.url,
        email=account.email,
        password=account.password,
        session_duration=1,
        backoff=0.01,
    ) as api:
        project = api.create_project("Session project")  # unsafe method: needs X-Csrf-Token
        emulator.reset_request_counts()
        time.sleep(1.3)  # the session expires; the next call logs in again, once
        api.rename_project(project.id, "Renamed")
        assert [p.name for p in api.list_projects()] == ["Renamed"]
        counts = emulator.request_counts()
        assert counts.get("POST /api/login") == 1
        assert counts.get("PATCH /api/projects/{project_id}") == 2  # 401, then the retry
        api.logout()


def test_create_api_key_switches_a_key_client(account: Account) -> None:
    with VoiceClient(account.url, api_key=account.api_key) as api:
        new_key = api.create_api_key()
        assert new_key and new_key != account.api_key
        assert api.credits().credits >= 0  # uses the new key
        api.delete_api_key()
        with pytest.raises(PermissionError):
            api.credits()


def test_secrets_never_leak(
    emulator: EmulatorProcess, caplog: pytest.LogCaptureFixture, wav: WavFactory
) -> None:
    """A full session at DEBUG (including retries and errors): the key and password appear in
    no log record, exception text, repr or pickle."""
    account = emulator.new_account(password="Pw-8f3a1c9e-unguessable")
    caplog.set_level(logging.DEBUG)  # root: urllib3 and requests log too
    texts: list[str] = []
    with VoiceClient(account.url, api_key=account.api_key, backoff=0.01) as api:
        texts.append(repr(api))
        project = api.create_project("Secret project")
        folder = api.create_folder(project.id, "F")
        rec = api.upload_recording(folder.id, wav())
        api.download(rec.url or "", 0, 100)
        emulator.set_faults(fail_rate=0.5, fail_mode="drop", seed=7)
        for _ in range(5):
            api.credits()
        emulator.clear_faults()
        try:
            api.get_folder("bad")
        except OSError as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
        blob = pickle.dumps(api)
        texts.append(repr(blob))
        copy = pickle.loads(blob)
        texts.append(repr(copy))
        assert copy.credits().credits >= 0  # the credentials travelled
        copy.close()
    with VoiceClient(account.url, email=account.email, password=account.password) as session:
        texts.append(repr(session))
        session.credits()
        texts.append(repr(pickle.dumps(session)))
        texts.append(repr(session._credentials))
    texts.extend(record.getMessage() for record in caplog.records)
    texts.extend(str(record.args) for record in caplog.records)
    assert len(caplog.records) > 10
    for text in texts:
        assert account.api_key not in text
        assert account.password not in text
