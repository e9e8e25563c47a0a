"""`voicefs emulator --seed demo`, `--api-key`, the reset hook and the command's own output."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator_process import EmulatorProcess, running_emulator
from voicefs.emulator.seed import DEMO_API_KEY, DEMO_EMAIL, DEMO_PASSWORD


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    data_dir = tmp_path_factory.mktemp("demo-data")
    yield from running_emulator("--seed", "demo", data_dir=data_dir)


def _get(emulator: EmulatorProcess, path: str, key: str = DEMO_API_KEY, **params: Any) -> Any:
    response = requests.get(
        f"{emulator.url}{path}", headers={"api-key": key}, params=params, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _all_recordings(emulator: EmulatorProcess) -> list[dict[str, Any]]:
    projects = _get(emulator, "/api/projects", limit=100)["list"]
    return [
        recording
        for project in projects
        for recording in _get(emulator, "/api/recordings", project_id=project["id"], limit=200)[
            "list"
        ]
    ]


def test_demo_account_has_projects_folders_and_real_recordings(demo: EmulatorProcess) -> None:
    projects = _get(demo, "/api/projects", limit=100)["list"]
    assert 2 <= len(projects) <= 3
    folders = [f for p in projects for f in _get(demo, "/api/folders", project_id=p["id"])["list"]]
    assert len(folders) >= 4

    recordings = _all_recordings(demo)
    originals = [r for r in recordings if r["type"] == "original"]
    conversions = [r for r in recordings if r["type"] == "converted"]
    assert len(originals) >= 12
    formats = Counter(r["file_name"].rsplit(".", 1)[1] for r in originals)
    assert set(formats) == {"wav", "flac", "ogg", "mp3"}
    assert all(r["state"] == "done" and r["duration"] > 0.5 for r in originals)
    states = Counter(r["state"] for r in conversions)
    assert states["done"] >= 3
    assert states["error"] == 1
    assert any(r.get("note") for r in recordings)
    assert any(r["starred"] for r in recordings)

    audio = requests.get(
        demo.url + originals[0]["url"], headers={"api-key": DEMO_API_KEY}, timeout=10
    )
    assert len(audio.content) == originals[0]["size"]


def test_demo_login_with_the_printed_credentials(demo: EmulatorProcess) -> None:
    response = requests.post(
        f"{demo.url}/api/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["user"]["email"] == DEMO_EMAIL


def test_seed_applies_once_per_data_directory(tmp_path: Path) -> None:
    for _ in running_emulator("--seed", "demo", data_dir=tmp_path):
        pass
    for emulator in running_emulator("--seed", "demo", data_dir=tmp_path):
        projects = _get(emulator, "/api/projects", limit=100)["list"]
        assert len({p["name"] for p in projects}) == len(projects)


def test_api_key_option_makes_a_primary_user(tmp_path: Path) -> None:
    for emulator in running_emulator("--api-key", "secret-test-key", data_dir=tmp_path):
        assert _get(emulator, "/api/projects", key="secret-test-key")["list"] == []
        refused = requests.get(
            f"{emulator.url}/api/projects", headers={"api-key": "other"}, timeout=10
        )
        assert refused.status_code == 401


def test_reset_restores_the_seed_and_forgets_everything_else(tmp_path: Path) -> None:
    for emulator in running_emulator("--seed", "demo", data_dir=tmp_path):
        stranger = emulator.new_account()
        first = _get(emulator, "/api/projects", limit=100)["list"][0]
        requests.delete(
            f"{emulator.url}/api/projects/{first['id']}",
            headers={"api-key": DEMO_API_KEY},
            timeout=10,
        ).raise_for_status()
        emulator.set_faults(latency_ms=5)

        assert emulator.hook("POST", "reset")["seeded"] is True

        names = {p["name"] for p in _get(emulator, "/api/projects", limit=100)["list"]}
        assert first["name"] in names
        assert emulator.hook("GET", "faults")["latency_ms"] == 0
        refused = requests.get(
            f"{emulator.url}/api/projects", headers={"api-key": stranger.api_key}, timeout=10
        )
        assert refused.status_code == 401


def test_command_prints_where_and_how_to_connect(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voicefs",
            "emulator",
            "--port",
            "0",
            "--seed",
            "demo",
            "--data",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(timeout=15)
    text = "".join(lines)
    assert "http://127.0.0.1:" in text
    assert DEMO_EMAIL in text
    assert DEMO_API_KEY in text


def test_command_refuses_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voicefs", "emulator", "--seed", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "'nonsense' is not one of 'demo', 'large', 'none'" in result.stderr


def test_fault_flags_set_the_start_up_faults(tmp_path: Path) -> None:
    flags = ("--fail-rate", "1", "--fail-mode", "error", "--latency-ms", "20", "--rate-limit")
    for emulator in running_emulator(*flags, data_dir=tmp_path):
        faults = emulator.hook("GET", "faults")
        assert (faults["fail_rate"], faults["latency_ms"], faults["rate_limit"]) == (1.0, 20, True)
        account = emulator.new_account()  # the hooks are never faulted
        response = account.session().get(f"{emulator.url}/api/credits", timeout=10)
        assert response.status_code == 500
        emulator.set_faults(fail_rate=0)
        assert account.session().get(f"{emulator.url}/api/credits", timeout=10).ok
        emulator.clear_faults()  # back to the flags, not to nothing
        assert emulator.hook("GET", "faults")["fail_rate"] == 1.0
