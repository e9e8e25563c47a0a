"""Browsing the mount with real tools: `ls -l`, `stat`, `find`, `cat`, `soxi`, `getfattr`,
`df`. A listed folder answers without requests; audio is read in one streaming request and
then from the on-disk cache."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.mount.mounting import run

DOWNLOAD = "GET /api/{file_url:path}"


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with two originals (one converted into Alice)."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    first = api.upload(folder["id"], tone("wav", seconds=2.0), "first.wav").json()
    api.upload(folder["id"], tone("flac", seconds=1.0), "second.flac").raise_for_status()
    api.convert(first["id"])
    return {"folder": folder, "first": first}


def test_ls_l_shows_names_sizes_and_service_times(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
) -> None:
    """`ls -l` shows every entry, the service's sizes and its times (never now)."""
    listing = run("ls", "-l", "--time-style=+%s", str(mount / "Project/Takes")).stdout
    assert "first.wav" in listing and "second.flac" in listing and "recordings.csv" in listing
    first = mount / "Project/Takes/first.wav"
    assert first.stat().st_size == takes["first"]["size"]
    created = takes["first"]["created_at"]
    assert abs(first.stat().st_mtime - _timestamp(created)) < 1.0
    sidecar = sorted(os.listdir(mount / "Project/Takes/first.wav.conversions"))
    assert sidecar == ["Alice.wav", "order.txt", "recordings.csv"]


def test_a_listed_folder_answers_stat_and_find_with_no_request(
    takes: dict[str, Any],
    mount: Path,
    emulator: EmulatorProcess,
) -> None:
    run("ls", "-lR", str(mount / "Project"))
    emulator.reset_request_counts()
    run("stat", str(mount / "Project/Takes/first.wav"))
    found = run("find", str(mount / "Project"), "-type", "f").stdout.splitlines()
    run("ls", "-l", str(mount / "Project/Takes"))
    assert emulator.request_counts() == {}
    assert str(mount / "Project/Takes/first.wav.conversions/Alice.wav") in found


def test_cat_reads_the_audio_once_then_from_the_cache(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
) -> None:
    """The bytes are the service's; a cold read is one download, a second read none."""
    path = mount / "Project/Takes/first.wav"
    expected = api.download(takes["first"]).content
    os.listdir(mount / "Project/Takes")
    emulator.reset_request_counts()
    assert path.read_bytes() == expected
    assert emulator.request_counts().get(DOWNLOAD) == 1
    emulator.reset_request_counts()
    assert subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout == expected
    assert emulator.request_counts().get(DOWNLOAD, 0) == 0


def test_soxi_reads_the_header_of_a_recording(takes: dict[str, Any], mount: Path) -> None:
    duration = run("soxi", "-D", str(mount / "Project/Takes/first.wav")).stdout
    assert float(duration) == pytest.approx(2.0, abs=0.05)
    rate = run("soxi", "-r", str(mount / "Project/Takes/second.flac")).stdout
    assert int(rate) == 22050


def test_extended_attributes_carry_the_service_metadata(takes: dict[str, Any], mount: Path) -> None:
    dumped = run("getfattr", "-d", str(mount / "Project/Takes/first.wav.conversions/Alice.wav"))
    assert 'user.voicefs.voice="Alice"' in dumped.stdout
    assert 'user.voicefs.state="done"' in dumped.stdout
    ident = run(
        "getfattr", "-n", "user.voicefs.id", "--only-values", str(mount / "Project/Takes/first.wav")
    )
    assert ident.stdout == takes["first"]["id"]


def test_namespaces_other_than_user_are_not_supported(takes: dict[str, Any], mount: Path) -> None:
    """`ls -l` asks each entry's SELinux label and ACL until told "not supported" once per
    filesystem; "no such attribute" would cost a round trip per entry of every listing."""
    path = mount / "Project/Takes/first.wav"
    for name in ("security.selinux", "system.posix_acl_access"):
        refused = run("getfattr", "-n", name, str(path), check=False)
        assert refused.returncode != 0 and "Operation not supported" in refused.stderr
    missing = run("getfattr", "-n", "user.voicefs.nothing", str(path), check=False)
    assert missing.returncode != 0 and "No such attribute" in missing.stderr


def test_df_reports_ample_free_space(mount: Path) -> None:
    free = os.statvfs(mount)
    assert free.f_bavail * free.f_frsize > 1 << 40


def test_df_i_shows_no_inode_used(mount: Path) -> None:
    """A monitoring script reading `df -i` sees nothing used up, not a table half full."""
    header, line = run("df", "-i", str(mount)).stdout.strip().splitlines()
    fields = dict(zip(header.split()[1:5], line.split()[1:5], strict=True))
    assert fields["IUsed"] == "0" and fields["IUse%"] in ("0%", "-"), fields
    assert int(fields["IFree"]) > 1 << 30


def test_a_missing_path_is_enoent(mount: Path) -> None:
    result = run("ls", str(mount / "No such project"), check=False)
    assert result.returncode != 0 and "No such file or directory" in result.stderr


def _timestamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
