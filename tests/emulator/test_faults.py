"""The emulator's test hooks: request counters, injected failures, latency and rate limits."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulator_process import Account, EmulatorProcess


def _create_project(account: Account, session: requests.Session, name: str) -> requests.Response:
    return session.post(
        f"{account.url}/api/projects",
        json={"name": name, "owner": account.user_id, "models": {}},
        timeout=10,
    )


def _project_names(account: Account) -> list[str]:
    body = account.session().get(f"{account.url}/api/projects?limit=100", timeout=10).json()
    return [p["name"] for p in body["list"]]


def test_request_counts_are_kept_by_route_template(
    emulator: EmulatorProcess, account: Account
) -> None:
    session = account.session()
    project = _create_project(account, session, "Counted").json()
    folders = [
        session.post(
            f"{account.url}/api/folders",
            json={"name": f"F{n}", "project_id": project["id"]},
            timeout=10,
        ).json()
        for n in range(2)
    ]
    emulator.reset_request_counts()
    for folder in folders:
        session.get(f"{account.url}/api/folders/{folder['id']}", timeout=10)
    session.get(f"{account.url}/api/projects", timeout=10)

    counts = emulator.request_counts()
    assert counts == {"GET /api/folders/{folder_id}": 2, "GET /api/projects": 1}
    emulator.reset_request_counts()
    assert emulator.request_counts() == {}


def test_error_faults_answer_500_before_or_after_the_work(
    emulator: EmulatorProcess, account: Account
) -> None:
    session = account.session()
    emulator.reset_request_counts()  # the counter is the whole emulator's, kept across tests
    emulator.set_faults(fail_rate=1.0, fail_mode="error", seed=7)
    statuses = [_create_project(account, session, f"P{n}").status_code for n in range(20)]
    emulator.clear_faults()

    assert statuses == [500] * 20
    # Faulted requests count too, each once, whether it failed before or after the work.
    assert emulator.request_counts() == {"POST /api/projects": 20}
    created = _project_names(account)
    # Some failures happened after the project was created (the response was lost), others
    # before anything was done: exactly what makes a failed create ambiguous for a client.
    assert 0 < len(created) < 20
    assert len(set(created)) == len(created)


def test_error_fault_body_has_the_service_shape(
    emulator: EmulatorProcess, account: Account
) -> None:
    emulator.set_faults(fail_rate=1.0, fail_mode="error")
    response = account.session().get(f"{account.url}/api/projects", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"detail": "injected fault"}


def test_drop_faults_close_the_connection_mid_response(
    emulator: EmulatorProcess, account: Account
) -> None:
    session = account.session()
    emulator.set_faults(fail_rate=1.0, fail_mode="drop", seed=3)
    for n in range(10):
        with pytest.raises(
            (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        ):
            _create_project(account, session, f"D{n}")
    emulator.clear_faults()
    assert 0 < len(_project_names(account)) < 10


def test_faults_spare_the_test_hooks(emulator: EmulatorProcess) -> None:
    emulator.set_faults(fail_rate=1.0, fail_mode="drop")
    assert emulator.hook("GET", "faults")["fail_rate"] == 1.0
    emulator.clear_faults()
    assert emulator.hook("GET", "faults")["fail_rate"] == 0.0


def test_partial_fail_rate_fails_some_requests(emulator: EmulatorProcess, account: Account) -> None:
    emulator.set_faults(fail_rate=0.3, fail_mode="error", seed=11)
    session = account.session()
    statuses = [
        session.get(f"{account.url}/api/credits", timeout=10).status_code for _ in range(60)
    ]
    assert set(statuses) == {200, 500}


def test_latency_delays_every_api_request(emulator: EmulatorProcess, account: Account) -> None:
    emulator.set_faults(latency_ms=300)
    started = time.monotonic()
    response = account.session().get(f"{account.url}/api/credits", timeout=10)
    # A lower bound the emulator guarantees by sleeping, not a speed measurement.
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200


def test_unknown_fault_settings_are_refused(emulator: EmulatorProcess) -> None:
    response = requests.post(f"{emulator.url}/_emulator/faults", json={"nonsense": 1}, timeout=10)
    assert response.status_code == 422
    response = requests.post(f"{emulator.url}/_emulator/faults", json={"fail_rate": 2}, timeout=10)
    assert response.status_code == 422
    assert emulator.hook("GET", "faults")["fail_rate"] == 0.0


def test_rate_limit_answers_429_with_retry_after_per_account_and_kind(
    emulator: EmulatorProcess, account: Account
) -> None:
    other = emulator.new_account()
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [5, 2], "slow": [1, 60]})
    session = account.session()
    url = f"{account.url}/api/credits"
    assert [session.get(url, timeout=10).status_code for _ in range(5)] == [200] * 5

    refused = session.get(url, timeout=10)
    assert refused.status_code == 429
    assert "Rate limit" in refused.json()["detail"]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3

    # Budgets are per account, and slow requests have their own.
    assert other.session().get(f"{other.url}/api/credits", timeout=10).status_code == 200
    export = session.get(
        f"{account.url}/api/recordings/export?original_id={account.user_id}", timeout=10
    )
    assert export.status_code == 404  # counted as slow, then refused as unknown
    export = session.get(
        f"{account.url}/api/recordings/export?original_id={account.user_id}", timeout=10
    )
    assert export.status_code == 429

    time.sleep(retry_after)
    assert session.get(url, timeout=10).status_code == 200


def test_rate_limit_off_by_default(emulator: EmulatorProcess, account: Account) -> None:
    session = account.session()
    statuses = {
        session.get(f"{account.url}/api/credits", timeout=10).status_code for _ in range(50)
    }
    assert statuses == {200}
