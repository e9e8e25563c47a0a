"""The voice catalogue and the statistics tables through the mount, driven with real tools
(`ls`, `cat`, `soxi`, `touch`, `rm`, a shell's `>`) and pandas, checked against the service."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import counted
from tests.fs.test_catalogue import accent, voice_json
from tests.mount.mounting import mounted, run


def test_audition_a_voice_and_make_it_a_favorite(mount: Path, api: Api) -> None:
    voices = mount / ".voicefs" / "voices"
    assert {"Alice", "Bob", "Carmen"} <= set(run("ls", str(voices)).stdout.split())
    alice = voices / "Alice"
    listed = run("ls", "-l", str(alice)).stdout
    assert "British.wav" in listed and "settings.txt" in listed
    assert json.loads((alice / "about.json").read_text()) == voice_json(api, "Alice")

    british = accent(voice_json(api, "Alice"), "British")
    samples = api.ok("GET", "/api/v2/accents/samples", params={"accent_id": british["id"]})
    [url] = samples["samples"].values()
    assert (alice / "British.wav").read_bytes() == api.get(url).content
    duration = float(run("soxi", "-D", str(alice / "British.wav")).stdout)
    assert duration > 0

    run("touch", str(alice / "favorite"))
    assert voice_json(api, "Alice")["favorite"] is True
    assert "favorite" in run("ls", str(alice)).stdout.split()
    run("rm", str(alice / "favorite"))
    assert voice_json(api, "Alice")["favorite"] is False


def test_ls_lr_of_the_catalogue_fetches_no_sample(mount: Path, emulator: EmulatorProcess) -> None:
    """A walk of every voice costs the voices listing and nothing per voice or sample: the
    samples show size 0 until read, and reading them still gets every byte."""
    run("ls", str(mount))  # the top, listed for every path, is not the catalogue's cost
    with counted(emulator) as requests:
        walked = run("ls", "-lR", str(mount / ".voicefs" / "voices")).stdout
    assert set(requests) == {"GET /api/v2/voices"}, requests
    assert " 0 " in next(line for line in walked.splitlines() if line.endswith("British.wav"))
    assert run("soxi", "-D", str(mount / ".voicefs/voices/Bob/Australian.wav")).returncode == 0


def test_copy_tools_get_every_byte_of_what_shows_size_0_until_read(
    mount: Path, api: Api, tmp_path: Path
) -> None:
    """gio and shutil size their copy by fstat after open: opening a sample or a table tells
    the kernel its size, so they copy it whole."""
    sample = mount / ".voicefs/voices/Carmen/Mexican.wav"
    run("gio", "copy", str(sample), str(tmp_path / "gio.wav"))
    shutil.copyfile(mount / "projects.csv", tmp_path / "projects.csv")
    carmen = voice_json(api, "Carmen")
    samples = api.ok(
        "GET", "/api/v2/accents/samples", params={"accent_id": accent(carmen, "Mexican")["id"]}
    )
    [url] = samples["samples"].values()
    assert (tmp_path / "gio.wav").read_bytes() == api.get(url).content
    assert (tmp_path / "projects.csv").read_bytes() == (mount / "projects.csv").read_bytes()
    assert (tmp_path / "projects.csv").read_text().startswith("name,id,time_converted")


def test_settings_written_from_a_shell_and_a_bad_line_refused(mount: Path, api: Api) -> None:
    settings = mount / ".voicefs" / "voices" / "Alice" / "settings.txt"
    run("sh", "-c", f"printf 'accent=British semitones=-2\\n' > '{settings}'")  # sh's >
    assert accent(voice_json(api, "Alice"), "British")["settings"] == {
        "favorite": True,
        "semitones_correction": -2,
    }
    before = voice_json(api, "Alice")
    # tee reports what close() returns (a shell's > does not look)
    bad = run("tee", str(settings), input="style=Warm\naccent=Klingon\n", check=False)
    assert bad.returncode != 0
    assert "Invalid argument" in bad.stderr
    assert voice_json(api, "Alice") == before  # nor the good first line: nothing changed
    log = (mount / ".voicefs" / "errors.log").read_text()
    assert "settings.txt line 2: accent 'Klingon' is not an accent of Alice" in log


def test_projects_and_folders_tables_read_with_pandas(
    account: Account, api: Api, tmp_path: Path
) -> None:
    project: dict[str, Any] = api.project("Show")
    folder = api.folder(project["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "one.wav").raise_for_status()
    mount = tmp_path / "mnt"
    with mounted(account, mount, tmp_path / "cache"):
        projects = pd.read_csv(mount / "projects.csv")
        folders = pd.read_csv(mount / "Show" / "folders.csv")
    [stats] = api.ok("POST", "/api/stats/projects", json={"project_ids": [project["id"]]})
    assert projects.to_dict("records") == [
        {
            "name": "Show",
            "id": project["id"],
            "time_converted": stats["time_converted"]["total"],
            "time_converted_this_month": stats["time_converted"]["current_month"],
            "conversions": stats["conversions"]["total"],
            "completed": stats["conversions"]["completed"],
            "in_progress": stats["conversions"]["in_progress"],
            "failed": stats["conversions"]["failed"],
        }
    ]
    assert list(folders["name"]) == ["Takes"]
    assert list(folders["id"]) == [folder["id"]]


def test_unzip_and_zipfile_read_an_export_the_first_time(
    account: Account, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """unzip sizes the file by a stat before it opens it and seeks from the end: a stat of
    an export fetches it (once: the open that follows uses it), while `ls -l` of the exports
    fetches none."""
    folder = api.folder(api.project("Show")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "one.wav").raise_for_status()
    mount = tmp_path / "mnt"
    with mounted(account, mount, tmp_path / "cache"):
        export = mount / ".voicefs/exports/Show.zip"
        with counted(emulator) as requests:
            listed = run("unzip", "-l", str(export)).stdout
        assert "one.wav" in listed
        assert requests.get("GET /api/projects/{project_id}/export") == 1, requests
        with counted(emulator) as requests:
            run("ls", "-l", str(mount / ".voicefs/exports"))
        assert "GET /api/projects/{project_id}/export" not in requests, requests
    with mounted(account, mount, tmp_path / "cache"):
        names = zipfile.ZipFile(mount / ".voicefs/exports/Show.zip").namelist()
        assert any(name.endswith("one.wav") for name in names), names
