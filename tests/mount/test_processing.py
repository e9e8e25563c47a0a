"""Items still processing are looked at again in the background: a finished conversion shows
in `ls` by itself, and that `ls` costs no request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess, wait_until
from tests.mount.mounting import run

LISTING = "GET /api/recordings"


@pytest.fixture
def folder(api: Api) -> dict[str, Any]:
    """Project/Takes with take.wav, made before the mount."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    return folder


def test_a_finished_conversion_appears_with_no_user_action(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess
) -> None:
    sidecar = mount / "Project/Takes/take.wav.conversions"
    run("tee", str(sidecar / "order.txt"), input="Alice\n")
    assert "Alice.wav.processing" in os.listdir(sidecar)

    def converted() -> list[dict[str, Any]] | None:
        done = [r for r in api.recordings(folder["id"]) if r["state"] == "done"]
        return done if len(done) == 2 else None

    wait_until(converted, timeout=20)
    emulator.reset_request_counts()

    def looked_again() -> bool | None:  # nobody touches the mount meanwhile
        return True if emulator.request_counts().get(LISTING) else None

    wait_until(looked_again, timeout=20)
    emulator.reset_request_counts()
    assert sorted(os.listdir(sidecar)) == ["Alice.wav", "order.txt", "recordings.csv"]
    assert emulator.request_counts() == {}
