"""A project's originals backed up and restored with rsync and the filter docs/mount.md gives:
the backup holds the takes, stars and notes and nothing the drive makes; `rsync --delete` back
changes nothing and deletes no conversion; a restore into a new project uploads each original
once and sets its star and note."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.mount.mounting import run

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mount.md"


def changes(emulator: EmulatorProcess) -> dict[str, int]:
    counts = emulator.request_counts()
    return {route: n for route, n in counts.items() if not route.startswith("GET ")}


def documented_filter() -> str:
    """The rules as docs/mount.md gives them to users (its heredoc)."""
    found = re.search(r"<<'RULES'\n(.*?)RULES\n", DOCS.read_text(), re.S)
    assert found, "docs/mount.md gives no rsync filter"
    return found.group(1)


@pytest.fixture
def project(api: Api) -> dict[str, Any]:
    """Project/Takes: a.wav (starred, with a note and a conversion) and b.flac."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    first = api.upload(folder["id"], tone("wav", 0.5), "a.wav").json()
    api.upload(folder["id"], tone("flac", 0.5), "b.flac").raise_for_status()
    api.ok("PATCH", f"/api/recordings/{first['id']}", json={"starred": True})
    api.ok("POST", "/api/notes", json={"recording_id": first["id"], "text": "keep\n"})
    api.convert(first["id"])
    return folder


def test_backup_and_restore_with_the_documented_filter(
    project: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    rules = tmp_path / "voicefs.rsync-filter"
    rules.write_text(documented_filter())
    merge = f"--filter=merge {rules}"
    backup = tmp_path / "backup"

    run("rsync", "-a", merge, f"{mount}/Project/", f"{backup}/")
    kept = sorted(str(p.relative_to(backup)) for p in backup.rglob("*"))
    assert kept == [
        "Takes",
        "Takes/a.wav",
        "Takes/a.wav.note.txt",
        "Takes/a.wav.star",
        "Takes/b.flac",
    ]
    assert (backup / "Takes/a.wav.note.txt").read_text() == "keep\n"

    emulator.reset_request_counts()
    again = run("rsync", "-ai", "--delete", merge, f"{backup}/", f"{mount}/Project/")
    assert "deleting" not in again.stdout, again.stdout
    assert changes(emulator) == {}
    conversions = [r for r in api.recordings(project["id"]) if r["type"] != "original"]
    assert len(conversions) == 1  # the service's conversions are left alone

    (mount / "Restored").mkdir()
    emulator.reset_request_counts()
    run("rsync", "-a", merge, f"{backup}/", f"{mount}/Restored/")
    assert changes(emulator).get("POST /api/recordings") == 2
    restored_project = next(
        p for p in api.ok("GET", "/api/projects")["list"] if p["name"] == "Restored"
    )
    (folder,) = api.ok("GET", "/api/folders", params={"project_id": restored_project["id"]})["list"]
    by_name = {r["file_name"]: r for r in api.recordings(folder["id"])}
    assert sorted(by_name) == ["a.wav", "b.flac"]
    assert by_name["a.wav"]["starred"] is True and by_name["a.wav"]["note"]["text"] == "keep\n"
    assert by_name["b.flac"]["starred"] is False

    emulator.reset_request_counts()
    run("rsync", "-a", merge, f"{backup}/", f"{mount}/Restored/")
    assert changes(emulator) == {}  # a second restore sends nothing
