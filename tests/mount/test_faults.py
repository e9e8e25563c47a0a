"""Nothing lost, nothing doubled, through the mount, while the service misbehaves: one request
in ten fails (a 500, or the connection dropped mid-answer) and every answer is 50 ms late;
the request budget is scaled down so that a walk runs into it; the service dies and comes
back in the middle of a copy. Run alone with `pytest -m faults`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted, run

pytestmark = pytest.mark.faults

FAULTS: dict[str, Any] = {"fail_rate": 0.1, "latency_ms": 50}
MODES = ["error", "drop"]


def by_file_name(api: Api, folder_id: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for recording in api.recordings(folder_id):
        if recording["type"] == "original":
            found.setdefault(recording["file_name"], []).append(recording)
    return found


@pytest.mark.parametrize("mode", MODES)
def test_rsync_through_faults_puts_each_take_once_with_its_bytes(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path, mode: str
) -> None:
    folder = api.folder(api.project("Project")["id"], "Session")
    session = tmp_path / "session"
    session.mkdir()
    for n in range(30):
        ext = "flac" if n % 3 == 0 else "wav"
        (session / f"take {n:02}.{ext}").write_bytes(tone(ext, seconds=0.5, hz=110 + 13 * n))
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache"):
        run("ls", str(mountpoint / "Project/Session"))
        emulator.set_faults(fail_mode=mode, seed=7, **FAULTS)
        try:
            run("rsync", "-a", f"{session}/", f"{mountpoint}/Project/Session/")
        finally:
            emulator.clear_faults()
    uploaded = by_file_name(api, folder["id"])
    assert sorted(uploaded) == sorted(p.name for p in session.iterdir())
    for local in session.iterdir():
        (only,) = uploaded[local.name]  # exactly once
        assert api.download(only).content == local.read_bytes(), local.name


@pytest.mark.parametrize("mode", MODES)
def test_orders_stars_and_notes_through_faults_act_once(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path, mode: str
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    takes = [api.original(folder["id"]) for _ in range(4)]
    mountpoint = tmp_path / "mnt"
    directory = mountpoint / "Project/Takes"
    with mounted(account, mountpoint, tmp_path / "cache"):
        shown = sorted(
            n for n in run("ls", str(directory)).stdout.split("\n") if n.endswith(".wav")
        )
        assert len(shown) == len(takes)
        emulator.set_faults(fail_mode=mode, seed=11, **FAULTS)
        try:
            for name in shown:
                run("tee", str(directory / f"{name}.conversions/order.txt"), input="Alice\n")
                run("touch", str(directory / f"{name}.star"))
                run("tee", str(directory / f"{name}.note.txt"), input=f"{name}: keep\n")
        finally:
            emulator.clear_faults()
    recordings = api.recordings(folder["id"])
    for take in takes:
        state = api.ok("GET", f"/api/recordings/{take['id']}")
        conversions = [r for r in recordings if r.get("original_id") == take["id"]]
        assert [c["model_name"] for c in conversions] == ["Alice"], conversions  # once
        assert state["starred"] is True
        assert state["note"]["text"].strip().endswith(": keep")


def test_a_cold_walk_runs_into_the_budget_and_no_429_reaches_the_user(
    account: Account, emulator: EmulatorProcess, api: Api, tmp_path: Path
) -> None:
    layout = {f"Project {p}": {f"Folder {f}": 3 for f in range(6)} for p in range(3)}
    api.seed_layout(layout)
    mountpoint = tmp_path / "mnt"
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [8, 2], "slow": [4, 2]})
    try:
        with mounted(account, mountpoint, tmp_path / "cache", "--timeout", "30"):
            found = run("find", str(mountpoint)).stdout.splitlines()
            log = (mountpoint / ".voicefs/errors.log").read_text()
    finally:
        emulator.clear_faults()
    originals = [
        p
        for p in found
        if p.endswith(".wav") and ".conversions/" not in p and "/.voicefs/" not in p
    ]
    assert len(originals) == 3 * 6 * 3
    assert "service rate limited until" in log  # the walk did meet the budget's 429


@pytest.mark.parametrize("outage", [1.0, 12.0])
def test_the_service_dying_mid_copy_leaves_what_cp_reports(
    own_emulator: EmulatorProcess, tmp_path: Path, outage: float
) -> None:
    """`cp` either completes (a short outage: the retries ride it out) or fails with EIO (a
    long one), and what it says is true: a file it copied is on the service once with its
    bytes; one it reports failed is not there, unless the error said it may have been done."""
    account = own_emulator.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    session = tmp_path / "session"
    session.mkdir()
    for n in range(12):
        (session / f"take {n:02}.wav").write_bytes(tone("wav", seconds=1.0, hz=150 + 20 * n))
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache"):
        run("ls", str(mountpoint / "Project/Takes"))
        own_emulator.set_faults(latency_ms=150)
        copy = subprocess.Popen(
            ["cp", *sorted(str(p) for p in session.iterdir()), str(mountpoint / "Project/Takes")],
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert copy.poll() is None  # the service dies in the middle of the copy
        own_emulator.stop()
        time.sleep(outage)
        own_emulator.start()
        _, stderr = copy.communicate(timeout=120)
        log = (mountpoint / ".voicefs/errors.log").read_text()
    failed = {p.name for p in session.iterdir() if f"{p.name}'" in stderr}
    assert copy.returncode == 0 or failed, stderr
    if outage > 10:  # longer than the retries last: the files copied then fail
        assert failed, stderr
    assert all("Input/output error" in line for line in stderr.splitlines()), stderr
    uploaded = by_file_name(api, folder["id"])
    for local in session.iterdir():
        copies = uploaded.get(local.name, [])
        assert len(copies) <= 1, local.name
        if local.name not in failed:
            (only,) = copies
            assert api.download(only).content == local.read_bytes()
        elif copies:
            assert "may have been done" in log and local.name in log, log
