"""Authentication (api-key and session with CSRF token) and the isolation of accounts."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.emulator.helpers import TIMEOUT, Api, assert_detail
from tests.emulator_process import Account, EmulatorProcess


def login(account: Account, **extra: object) -> tuple[requests.Session, str]:
    """A cookie-only session (no api-key) and its CSRF token."""
    session = requests.Session()
    body = {"email": account.email, "password": account.password, **extra}
    response = session.post(f"{account.url}/api/login", json=body, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == account.user_id
    assert session.cookies.get("session_id")
    return session, response.json()["csrf_token"]


def project_names(account: Account) -> list[str]:
    return [p["name"] for p in Api.of(account).ok("GET", "/api/projects")["list"]]


def key_works(account: Account, key: str) -> int:
    """The status of an api-key authenticated listing with key."""
    response = requests.get(
        f"{account.url}/api/projects", headers={"api-key": key}, timeout=TIMEOUT
    )
    return response.status_code


# --------------------------------------------------------------------------- api-key


def test_no_credentials_is_401_with_a_detail(emulator: EmulatorProcess) -> None:
    for method, path in [("GET", "/api/projects"), ("POST", "/api/auth"), ("GET", "/api/credits")]:
        response = requests.request(method, emulator.url + path, timeout=TIMEOUT)
        assert "api-key" in assert_detail(response, 401)


def test_unknown_api_key_is_401(emulator: EmulatorProcess) -> None:
    response = requests.get(
        f"{emulator.url}/api/projects", headers={"api-key": "not-a-key"}, timeout=TIMEOUT
    )
    assert assert_detail(response, 401) == "Invalid or expired API key"


def test_auth_returns_the_user_of_the_key(account: Account) -> None:
    user = Api.of(account).ok("POST", "/api/auth")
    assert user["id"] == account.user_id
    assert user["email"] == account.email


def test_new_api_key_replaces_the_old_one(account: Account) -> None:
    new_key = Api.of(account).ok("POST", "/api/api-key")["api_key"]
    assert new_key and new_key != account.api_key
    assert key_works(account, new_key) == 200
    assert key_works(account, account.api_key) == 401


def test_api_key_expiry_is_honoured_whatever_the_offset(account: Account) -> None:
    api = Api.of(account)
    in_new_york = timezone(timedelta(hours=-5))
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).astimezone(in_new_york)
    key = api.ok("POST", "/api/api-key", json={"expires_at": later.isoformat()})["api_key"]
    assert key_works(account, key) == 200

    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    api.session.headers["api-key"] = key
    expired = api.ok("POST", "/api/api-key", json={"expires_at": past.isoformat()})["api_key"]
    assert key_works(account, expired) == 401
    assert key_works(account, key) == 401  # replaced, so gone as well


def test_deleted_api_key_is_rejected(account: Account) -> None:
    assert Api.of(account).ok("DELETE", "/api/api-key") == {"detail": "OK"}
    assert key_works(account, account.api_key) == 401
    session, csrf = login(account)  # the account itself still works, and can get a new key
    assert session.get(f"{account.url}/api/projects", timeout=TIMEOUT).status_code == 200
    response = session.post(
        f"{account.url}/api/api-key", headers={"X-Csrf-Token": csrf}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert key_works(account, response.json()["api_key"]) == 200


# --------------------------------------------------------------------------- session


def test_login_with_a_wrong_password_is_401(account: Account) -> None:
    for email, password in [(account.email, "wrong"), ("nobody@example.com", account.password)]:
        response = requests.post(
            f"{account.url}/api/login", json={"email": email, "password": password}, timeout=30
        )
        assert assert_detail(response, 401) == "Incorrect email or password"
        assert "session_id" not in response.cookies


def test_session_cookie_authenticates_reads_without_the_token(account: Account) -> None:
    Api.of(account).project("Mine")
    session, _ = login(account)
    response = session.get(f"{account.url}/api/projects", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert [p["name"] for p in response.json()["list"]] == ["Mine"]
    user = session.post(f"{account.url}/api/auth", timeout=TIMEOUT)
    assert user.status_code == 403  # a POST, so it needs the token


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_session_write_without_the_right_csrf_token_is_403(
    account: Account, token: str | None
) -> None:
    session, _ = login(account)
    headers = {"X-Csrf-Token": token} if token else {}
    body = {"name": "Forged", "owner": account.user_id, "models": {}}
    response = session.post(
        f"{account.url}/api/projects", json=body, headers=headers, timeout=TIMEOUT
    )
    assert "CSRF" in assert_detail(response, 403)
    assert project_names(account) == []


def test_session_write_with_the_csrf_token_succeeds(account: Account) -> None:
    session, csrf = login(account)
    body = {"name": "By session", "owner": account.user_id, "models": {}}
    response = session.post(
        f"{account.url}/api/projects", json=body, headers={"X-Csrf-Token": csrf}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert project_names(account) == ["By session"]


def test_each_login_has_its_own_csrf_token(account: Account) -> None:
    first, first_csrf = login(account)
    _, second_csrf = login(account)
    assert first_csrf != second_csrf
    response = first.post(
        f"{account.url}/api/auth", headers={"X-Csrf-Token": second_csrf}, timeout=TIMEOUT
    )
    assert response.status_code == 403


def test_logout_ends_the_session(account: Account) -> None:
    session, csrf = login(account)
    session_id = session.cookies["session_id"]
    refused = session.post(f"{account.url}/api/logout", timeout=TIMEOUT)
    assert refused.status_code == 403  # logging out is a write: it needs the token too

    response = session.post(
        f"{account.url}/api/logout", headers={"X-Csrf-Token": csrf}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.json() == {"detail": "OK"}
    # Send the old cookie explicitly: the server must have forgotten it, not just the client.
    again = requests.get(
        f"{account.url}/api/projects", cookies={"session_id": session_id}, timeout=TIMEOUT
    )
    assert assert_detail(again, 401)
    assert key_works(account, account.api_key) == 200  # the api-key is not affected


def test_session_expires_after_its_duration(account: Account) -> None:
    session, _ = login(account, session_duration=1)
    assert session.get(f"{account.url}/api/projects", timeout=TIMEOUT).status_code == 200
    time.sleep(1.5)
    response = session.get(f"{account.url}/api/projects", timeout=TIMEOUT)
    assert "expired" in assert_detail(response, 401)


# ------------------------------------------------------------------------- isolation


def test_another_user_cannot_see_or_touch_a_library(
    emulator: EmulatorProcess, account: Account
) -> None:
    owner, other = Api.of(account), Api.of(emulator.new_account())
    project = owner.project("Private")
    folder = owner.folder(project["id"], "Secret")
    recording = owner.original(folder["id"], label="Take one")
    owner.ok("POST", "/api/notes", json={"recording_id": recording["id"], "text": "mine"})
    other.project("Theirs")

    assert [p["name"] for p in other.ok("GET", "/api/projects")["list"]] == ["Theirs"]
    assert [p["name"] for p in owner.ok("GET", "/api/projects")["list"]] == ["Private"]
    project_id, folder_id, recording_id = project["id"], folder["id"], recording["id"]
    refused = [
        ("GET", "/api/projects/by-url", {"params": {"project_url": project["url"]}}),
        ("PATCH", f"/api/projects/{project_id}", {"json": {"name": "Stolen"}}),
        ("PUT", f"/api/projects/{project_id}", {"json": {"models": {}}}),
        ("GET", "/api/folders", {"params": {"project_id": project_id}}),
        ("POST", "/api/folders", {"json": {"name": "Intruder", "project_id": project_id}}),
        ("GET", f"/api/folders/{folder_id}", {}),
        ("PATCH", f"/api/folders/{folder_id}", {"json": {"name": "Stolen"}}),
        ("GET", "/api/recordings", {"params": {"folder_id": folder_id}}),
        ("GET", "/api/recordings", {"params": {"project_id": project_id}}),
        ("GET", "/api/recordings/originals", {"params": {"folder_id": folder_id}}),
        ("GET", f"/api/recordings/{recording_id}", {}),
        ("PATCH", f"/api/recordings/{recording_id}", {"json": {"starred": True}}),
        ("GET", "/api/notes", {"params": {"folder_id": folder_id}}),
        ("PUT", "/api/notes", {"json": {"recording_id": recording_id, "text": "theirs"}}),
        ("DELETE", "/api/notes", {"json": {"recording_id": recording_id}}),
        ("GET", recording["url"], {}),
        ("HEAD", recording["url"], {}),
        ("DELETE", f"/api/recordings/{recording_id}", {}),
        ("DELETE", f"/api/folders/{folder_id}", {}),
        ("DELETE", f"/api/projects/{project_id}", {}),
    ]
    for method, path, kwargs in refused:
        response = other.request(method, path, **kwargs)
        assert response.status_code == 404, f"{method} {path}: {response.text}"

    # Nothing of the owner's changed.
    assert owner.ok("GET", f"/api/folders/{folder_id}")["name"] == "Secret"
    kept = owner.ok("GET", f"/api/recordings/{recording_id}")
    assert kept["starred"] is False
    assert kept["note"]["text"] == "mine"
    assert owner.download(recording).status_code == 200
    assert [p["name"] for p in owner.ok("GET", "/api/projects")["list"]] == ["Private"]
