"""Everyday tools on the mount, run as real processes: GLib's `gio` (what file managers use),
`cp -r`, `cp -p`, `find` during a copy, `rm -r`, `mv` across folders, `ls` of a conversion
while it is processing. Every effect is checked on the service through its HTTP API.

`gio` (libglib2.0-bin) runs headless here: it is given `GIO_USE_VFS=local` (the plain
local-file backend, never a gvfs daemon), `GIO_USE_VOLUME_MONITOR=unix` (mounts read from
/proc/self/mountinfo, no udisks monitor over D-Bus) and no `DBUS_SESSION_BUS_ADDRESS`, so it
neither needs nor finds a session bus; `HOME` and `XDG_DATA_HOME` point into the test's
directory so a trash is never the user's own. On a machine without gvfs gio works without
these variables too; with them the tests behave the same on a developer's desktop session.
For a file:// path the local backend is what file managers use as well: `gio trash` of a file
on another filesystem than home tries the mount's top-level `.Trash-<uid>` (there is no
fallback to the home trash across filesystems), which the drive refuses.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, running_emulator, wait_until
from tests.mount.mounting import mounted, run

UPLOAD = "POST /api/recordings"
DELETE = "DELETE /api/recordings/{recording_id}"


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with one original, take.wav, and an empty folder Project/Other."""
    project = api.project("Project")
    folder = api.folder(project["id"], "Takes")
    other = api.folder(project["id"], "Other")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    return {"project": project, "folder": folder, "other": other, "take": take}


@pytest.fixture
def local_takes(tmp_path: Path) -> Path:
    """A local session directory of three takes."""
    session = tmp_path / "session"
    session.mkdir()
    for n, ext in enumerate(("wav", "flac", "ogg")):
        (session / f"take {n}.{ext}").write_bytes(tone(ext, seconds=0.5, hz=300 + 50 * n))
    return session


@pytest.fixture
def gio_env(tmp_path: Path) -> dict[str, str]:
    """The environment gio runs in headless (see the module's docstring)."""
    home = tmp_path / "home"
    (home / "share").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(
        GIO_USE_VFS="local",
        GIO_USE_VOLUME_MONITOR="unix",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "share"),
    )
    return env


def gio(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["gio", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"gio {' '.join(args)} exited with {result.returncode}: {result.stderr}")
    return result


def originals(api: Api, folder_id: str) -> dict[str, dict[str, Any]]:
    """The folder's originals by file name; fails on a name uploaded twice."""
    found = [r for r in api.recordings(folder_id) if r["type"] == "original"]
    names = [r["file_name"] for r in found]
    assert len(names) == len(set(names)), f"uploaded more than once: {sorted(names)}"
    return {r["file_name"]: r for r in found}


def folders(api: Api, project_id: str) -> dict[str, dict[str, Any]]:
    page = api.ok("GET", "/api/folders", params={"project_id": project_id, "limit": 200})
    return {f["name"]: f for f in page["list"]}


def project_names(api: Api) -> set[str]:
    page = api.ok("GET", "/api/projects", params={"limit": 100})
    return {p["name"] for p in page["list"]}


# ---------------------------------------------------------------------------------- gio


def test_gio_info_shows_the_service_size_and_metadata(
    takes: dict[str, Any], mount: Path, gio_env: dict[str, str]
) -> None:
    """`gio info` of a recording shows a regular audio file of the service's size and id."""
    info = gio(gio_env, "info", str(mount / "Project/Takes/take.wav")).stdout
    assert "type: regular" in info
    assert f"standard::size: {takes['take']['size']}" in info
    assert "standard::content-type: audio/x-wav" in info
    assert f"xattr::voicefs.id: {takes['take']['id']}" in info


def test_gio_list_shows_the_folder(
    takes: dict[str, Any], mount: Path, gio_env: dict[str, str]
) -> None:
    """`gio list` of a folder shows the recording, its sidecar and the manifest."""
    listing = gio(gio_env, "list", str(mount / "Project/Takes")).stdout.splitlines()
    assert sorted(listing) == ["recordings.csv", "take.wav", "take.wav.conversions"]


def test_gio_copy_uploads_once_with_the_same_bytes(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
    gio_env: dict[str, str],
    local_takes: Path,
) -> None:
    """`gio copy` of a local wav into a folder uploads it once, byte for byte."""
    source = local_takes / "take 0.wav"
    os.listdir(mount / "Project/Takes")
    emulator.reset_request_counts()
    gio(gio_env, "copy", str(source), str(mount / "Project/Takes/"))
    assert emulator.request_counts().get(UPLOAD) == 1
    uploaded = originals(api, takes["folder"]["id"])
    assert set(uploaded) == {"take.wav", "take 0.wav"}
    assert api.download(uploaded["take 0.wav"]).content == source.read_bytes()


def test_gio_remove_deletes_the_recording(
    takes: dict[str, Any], mount: Path, api: Api, gio_env: dict[str, str]
) -> None:
    """`gio remove` of a recording deletes it on the service."""
    gio(gio_env, "remove", str(mount / "Project/Takes/take.wav"))
    assert originals(api, takes["folder"]["id"]) == {}
    assert api.get(f"/api/recordings/{takes['take']['id']}").status_code == 404
    assert "take.wav" not in os.listdir(mount / "Project/Takes")


def test_gio_trash_fails_and_deletes_nothing(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
    gio_env: dict[str, str],
) -> None:
    """`gio trash` of a recording fails with a message, and the recording stays."""
    emulator.reset_request_counts()
    result = gio(gio_env, "trash", str(mount / "Project/Takes/take.wav"), check=False)
    assert result.returncode != 0
    assert "take.wav" in result.stderr
    assert emulator.request_counts().get(DELETE, 0) == 0
    assert set(originals(api, takes["folder"]["id"])) == {"take.wav"}
    assert (mount / "Project/Takes/take.wav").read_bytes() == tone("wav")


def test_gio_trash_sends_no_trash_directory_to_the_service(
    takes: dict[str, Any], mount: Path, api: Api, gio_env: dict[str, str]
) -> None:
    """After a failed `gio trash`, the account has no `.Trash-<uid>` project (§3: `.Trash-*`
    means nothing on the service and is never sent)."""
    gio(gio_env, "trash", str(mount / "Project/Takes/take.wav"), check=False)
    assert project_names(api) == {"Project"}
    assert [name for name in os.listdir(mount) if name.startswith(".Trash")] == []


# ------------------------------------------------------------------------------- coreutils


def test_cp_r_uploads_a_session_as_a_new_folder(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
    local_takes: Path,
) -> None:
    """`cp -r session Project/` makes the folder `session` with the three takes, each once."""
    os.listdir(mount / "Project")
    emulator.reset_request_counts()
    run("cp", "-r", str(local_takes), str(mount / "Project/"))
    assert emulator.request_counts().get(UPLOAD) == 3
    folder = folders(api, takes["project"]["id"])["session"]
    uploaded = originals(api, folder["id"])
    assert set(uploaded) == {p.name for p in local_takes.iterdir()}
    for local in local_takes.iterdir():
        assert api.download(uploaded[local.name]).content == local.read_bytes()


def test_cp_p_keeps_the_modification_time(
    takes: dict[str, Any], mount: Path, api: Api, local_takes: Path
) -> None:
    """`cp -p` of a take: `stat` of the copy shows the source's mtime."""
    source = local_takes / "take 1.flac"
    os.utime(source, (1_600_000_000, 1_577_934_245))
    run("cp", "-p", str(source), str(mount / "Project/Takes/"))
    copied = run("stat", "-c", "%Y", str(mount / "Project/Takes/take 1.flac")).stdout
    assert int(copied) == 1_577_934_245
    uploaded = originals(api, takes["folder"]["id"])
    assert api.download(uploaded["take 1.flac"]).content == source.read_bytes()


@pytest.fixture
def radio(api: Api) -> dict[str, Any]:
    """A second project, Radio, made before the mount."""
    return api.project("Radio")


def test_find_while_cp_r_uploads(
    takes: dict[str, Any], radio: dict[str, Any], mount: Path, api: Api, local_takes: Path
) -> None:
    """`find` of the mount runs while `cp -r` copies a session: both succeed, find shows the
    projects and every take is uploaded once."""
    finder = subprocess.Popen(
        ["sh", "-c", 'for i in 1 2 3 4 5 6; do find "$1" || exit 1; done', "sh", str(mount)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copier = subprocess.Popen(
        ["cp", "-r", str(local_takes), str(mount / "Project/")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, copied_err = copier.communicate(timeout=120)
        found_out, found_err = finder.communicate(timeout=120)
    finally:
        for process in (finder, copier):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert copier.returncode == 0, copied_err
    assert finder.returncode == 0, found_err
    found = set(found_out.splitlines())
    assert {str(mount / "Project"), str(mount / "Radio")} <= found
    assert str(mount / "Project/Takes/take.wav") in found
    folder = folders(api, takes["project"]["id"])["session"]
    uploaded = originals(api, folder["id"])
    assert set(uploaded) == {p.name for p in local_takes.iterdir()}
    for local in local_takes.iterdir():
        assert api.download(uploaded[local.name]).content == local.read_bytes()


def test_rm_r_removes_a_folder(takes: dict[str, Any], mount: Path, api: Api) -> None:
    """`rm -r Project/Takes` succeeds and the folder and its recordings are gone."""
    api.convert(takes["take"]["id"])
    api.upload(takes["folder"]["id"], tone("flac"), "second.flac").raise_for_status()
    result = run("rm", "-r", str(mount / "Project/Takes"), check=False)
    assert result.returncode == 0, result.stderr
    assert "Takes" not in folders(api, takes["project"]["id"])
    assert api.get(f"/api/recordings/{takes['take']['id']}").status_code == 404
    assert "Takes" not in os.listdir(mount / "Project")


def test_rename_to_another_folder_is_a_cross_device_link(
    takes: dict[str, Any], mount: Path, api: Api
) -> None:
    """rename(2) of a recording without conversions into another folder fails with "Invalid
    cross-device link" and moves nothing."""
    rename = 'rename($ARGV[0], $ARGV[1]) or die "$!\\n"'
    source, target = mount / "Project/Takes/take.wav", mount / "Project/Other/take.wav"
    result = run("perl", "-e", rename, str(source), str(target), check=False)
    assert result.returncode != 0 and "Invalid cross-device link" in result.stderr, result.stderr
    assert set(originals(api, takes["folder"]["id"])) == {"take.wav"}
    assert originals(api, takes["other"]["id"]) == {}


def test_mv_to_another_folder_copies_and_deletes(
    takes: dict[str, Any], mount: Path, api: Api
) -> None:
    """`mv` of a recording into another folder: it is there once and gone from the first."""
    run("mv", str(mount / "Project/Takes/take.wav"), str(mount / "Project/Other/"))
    assert originals(api, takes["folder"]["id"]) == {}
    moved = originals(api, takes["other"]["id"])
    assert set(moved) == {"take.wav"}
    assert api.download(moved["take.wav"]).content == tone("wav")
    assert sorted(os.listdir(mount / "Project/Other")) == [
        "recordings.csv",
        "take.wav",
        "take.wav.conversions",
    ]
    assert "take.wav" not in os.listdir(mount / "Project/Takes")


def test_a_name_that_cannot_be_sent_is_refused(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
    tmp_path: Path,
) -> None:
    """`cp 'say "hi".wav'` fails with "Invalid argument" and uploads nothing."""
    source = tmp_path / 'say "hi".wav'
    source.write_bytes(tone("wav"))
    emulator.reset_request_counts()
    result = run("cp", str(source), str(mount / "Project/Takes/"), check=False)
    assert result.returncode != 0 and "Invalid argument" in result.stderr, result.stderr
    assert emulator.request_counts().get(UPLOAD, 0) == 0
    assert set(originals(api, takes["folder"]["id"])) == {"take.wav"}
    assert 'say "hi".wav' not in os.listdir(mount / "Project/Takes")


# ------------------------------------------------------------- a conversion in progress


@pytest.fixture(scope="module")
def slow_emulator() -> Any:
    """An emulator whose conversions take 3 s, so `ls` can see one processing."""
    yield from running_emulator("--conversion-seconds", "3")


def test_ls_shows_a_conversion_processing_then_done(
    slow_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """After `tee order.txt`, `ls` shows `Alice.wav.processing`, and later `Alice.wav` with
    nothing but `ls` run in between."""
    account: Account = slow_emulator.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav").raise_for_status()
    with mounted(account, tmp_path / "mnt", tmp_path / "cache"):
        sidecar = tmp_path / "mnt/Project/Takes/take.wav.conversions"
        run("tee", str(sidecar / "order.txt"), input="Alice\n")
        first = run("ls", str(sidecar)).stdout.splitlines()
        assert "Alice.wav.processing" in first and "Alice.wav" not in first, first

        def finished() -> list[str] | None:
            names = run("ls", str(sidecar)).stdout.splitlines()
            return names if "Alice.wav" in names else None

        try:
            last = wait_until(finished, timeout=20, interval=0.5)
        except TimeoutError:
            pytest.fail(f"ls never showed Alice.wav: {run('ls', str(sidecar)).stdout!r}")
        assert "Alice.wav.processing" not in last
    (conversion,) = [r for r in api.recordings(folder["id"]) if r["type"] != "original"]
    assert conversion["state"] == "done" and conversion["model_name"] == "Alice"
