"""Writing through the mount with real tools: `cp`, `rsync -a`, `mv`, `rm`, `touch`, `mkdir`,
`rmdir`, `echo >`, `vim`. Every effect is checked on the service through its HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess, wait_until
from tests.mount.mounting import run

UPLOAD = "POST /api/recordings"


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with one original, take.wav."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    return {"folder": folder, "take": take}


@pytest.fixture
def local_takes(tmp_path: Path) -> Path:
    """A local session of three takes, as a sound engineer has them."""
    session = tmp_path / "session"
    session.mkdir()
    for n, ext in enumerate(("wav", "flac", "ogg")):
        (session / f"take {n}.{ext}").write_bytes(tone(ext, seconds=0.5, hz=200 + 50 * n))
    return session


def originals(api: Api, folder_id: str) -> dict[str, dict[str, Any]]:
    return {r["file_name"]: r for r in api.recordings(folder_id) if r["type"] == "original"}


def test_cp_uploads_once_with_the_same_bytes(
    takes: dict[str, Any], mount: Path, api: Api, local_takes: Path
) -> None:
    source = local_takes / "take 0.wav"
    run("cp", str(source), str(mount / "Project/Takes/"))
    uploaded = originals(api, takes["folder"]["id"])
    assert set(uploaded) == {"take.wav", "take 0.wav"}
    assert api.download(uploaded["take 0.wav"]).content == source.read_bytes()
    assert (mount / "Project/Takes/take 0.wav").read_bytes() == source.read_bytes()


def test_rsync_a_uploads_a_session_and_a_second_run_sends_nothing(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, local_takes: Path
) -> None:
    target = str(mount / "Project/Takes") + "/"
    run("rsync", "-a", f"{local_takes}/", target)
    uploaded = originals(api, takes["folder"]["id"])
    for local in local_takes.iterdir():
        assert api.download(uploaded[local.name]).content == local.read_bytes()
    assert len(uploaded) == 4
    emulator.reset_request_counts()
    again = run("rsync", "-a", "--itemize-changes", f"{local_takes}/", target)
    assert emulator.request_counts().get(UPLOAD, 0) == 0
    assert len(originals(api, takes["folder"]["id"])) == 4
    assert not [line for line in again.stdout.splitlines() if line.startswith(">f")], again.stdout


def test_content_that_is_not_audio_is_refused_and_nothing_is_sent(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    emulator.reset_request_counts()
    result = run("cp", str(text), str(mount / "Project/Takes/notes.wav"), check=False)
    assert result.returncode != 0 and "Invalid argument" in result.stderr, result.stderr
    assert emulator.request_counts().get(UPLOAD, 0) == 0
    assert set(originals(api, takes["folder"]["id"])) == {"take.wav"}


def test_a_recording_cannot_be_overwritten(
    takes: dict[str, Any], mount: Path, api: Api, local_takes: Path
) -> None:
    result = run(
        "cp", str(local_takes / "take 0.wav"), str(mount / "Project/Takes/take.wav"), check=False
    )
    assert result.returncode != 0 and "Operation not permitted" in result.stderr
    assert api.download(takes["take"]).content == tone("wav")


def test_echo_into_order_txt_orders_a_conversion(
    takes: dict[str, Any],
    mount: Path,
    api: Api,
) -> None:
    order = mount / "Project/Takes/take.wav.conversions/order.txt"
    assert "Alice" in order.read_text()
    run("sh", "-c", f"echo Alice > '{order}'")

    def converted() -> list[dict[str, Any]] | None:
        found = [r for r in api.recordings(takes["folder"]["id"]) if r["type"] != "original"]
        return found or None

    (conversion,) = wait_until(converted, timeout=20)
    assert conversion["model_name"] == "Alice"


def test_a_bad_order_line_fails_the_write_and_orders_nothing(
    takes: dict[str, Any], mount: Path, api: Api
) -> None:
    """The error comes back from close(): tee reports it (a shell's `>` does not look, so
    errors.log says it too)."""
    order = mount / "Project/Takes/take.wav.conversions/order.txt"
    result = run("tee", str(order), input="Nobody\n", check=False)
    assert result.returncode != 0 and "Invalid argument" in result.stderr, result.stderr
    assert [r for r in api.recordings(takes["folder"]["id"]) if r["type"] != "original"] == []
    log = (mount / ".voicefs/errors.log").read_text()
    assert "order.txt" in log and "Nobody" in log


def test_touch_and_rm_of_a_star(takes: dict[str, Any], mount: Path, api: Api) -> None:
    star = mount / "Project/Takes/take.wav.star"
    run("touch", str(star))
    assert api.ok("GET", f"/api/recordings/{takes['take']['id']}")["starred"] is True
    assert star.exists()
    run("rm", str(star))
    assert api.ok("GET", f"/api/recordings/{takes['take']['id']}")["starred"] is False


def test_a_note_reads_back_as_echo_wrote_it(
    takes: dict[str, Any], mount: Path, api: Api, tmp_path: Path
) -> None:
    """`echo` ends the note with a newline: `cat` shows it so (the prompt on a line of its
    own) and `diff` against the file written finds no difference."""
    note = mount / "Project/Takes/take.wav.note.txt"
    written = tmp_path / "note.txt"
    run("sh", "-c", f"echo 'Breath at 0:02' | tee '{written}' > '{note}'")
    assert run("cat", str(note)).stdout == "Breath at 0:02\n"
    assert run("diff", str(written), str(note), check=False).returncode == 0
    assert api.ok("GET", f"/api/recordings/{takes['take']['id']}")["note"]["text"] == (
        "Breath at 0:02\n"
    )


def vim(path: Path, keys: str) -> None:
    """vim with its default settings (swap file, write backup), editing path as a user would:
    `keys` in normal mode, then `:wq`."""
    subprocess.run(
        ["vim", "-u", "DEFAULTS", "-i", "NONE", "-N", "-es", f"+normal {keys}", "+wq", str(path)],
        env={**os.environ, "HOME": str(path.parents[-2])},
        timeout=60,
        capture_output=True,
        check=False,
    )


def test_vim_writes_and_rewrites_a_note(takes: dict[str, Any], mount: Path, api: Api) -> None:
    """Saving X.note.txt in vim sets the note; saving it again replaces it; vim's swap and
    backup files never reach the service and are gone afterwards."""
    note = mount / "Project/Takes/take.wav.note.txt"
    vim(note, "iToo loud at 0:03")
    recording = api.ok("GET", f"/api/recordings/{takes['take']['id']}")
    assert recording["note"]["text"] == "Too loud at 0:03\n"  # as vim wrote it
    vim(note, "ggdGiQuiet now")
    recording = api.ok("GET", f"/api/recordings/{takes['take']['id']}")
    assert recording["note"]["text"] == "Quiet now\n"
    assert sorted(p for p in os.listdir(note.parent) if p.startswith(".") or p.endswith("~")) == []


def test_vim_saves_an_order(takes: dict[str, Any], mount: Path, api: Api) -> None:
    """Editing order.txt's template in vim and saving it orders what the file then says
    (the template's comment lines are comments)."""
    vim(mount / "Project/Takes/take.wav.conversions/order.txt", "GoBob")

    def converted() -> list[dict[str, Any]] | None:
        found = [r for r in api.recordings(takes["folder"]["id"]) if r["type"] != "original"]
        return found or None

    (conversion,) = wait_until(converted, timeout=20)
    assert conversion["model_name"] == "Bob"


def test_mv_relabels_and_rm_deletes(takes: dict[str, Any], mount: Path, api: Api) -> None:
    folder = mount / "Project/Takes"
    run("mv", str(folder / "take.wav"), str(folder / "Best take.wav"))
    assert api.ok("GET", f"/api/recordings/{takes['take']['id']}")["label"] == "Best take"
    assert "Best take.wav" in os.listdir(folder)
    run("rm", str(folder / "Best take.wav"))
    assert originals(api, takes["folder"]["id"]) == {}


def test_mkdir_and_rmdir_make_and_remove_projects_and_folders(mount: Path, api: Api) -> None:
    run("mkdir", "-p", str(mount / "Radio/Monday"))
    projects = {p["name"]: p for p in api.ok("GET", "/api/projects", params={"limit": 100})["list"]}
    assert "Radio" in projects
    run("rmdir", str(mount / "Radio/Monday"))
    run("rmdir", str(mount / "Radio"))
    names = [p["name"] for p in api.ok("GET", "/api/projects", params={"limit": 100})["list"]]
    assert "Radio" not in names
    refused = run("mkdir", str(mount / ".voicefs/here"), check=False)
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr


def test_a_wav_cut_short_is_refused_and_nothing_is_sent(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """An interrupted copy (a WAV shorter than its header says) fails with EINVAL."""
    cut = tmp_path / "cut.wav"
    cut.write_bytes(tone("wav", seconds=2.0)[:20_000])
    emulator.reset_request_counts()
    result = run("cp", str(cut), str(mount / "Project/Takes/cut.wav"), check=False)
    assert result.returncode != 0 and "Invalid argument" in result.stderr, result.stderr
    assert emulator.request_counts().get(UPLOAD, 0) == 0
    assert "incomplete" in (mount / ".voicefs/errors.log").read_text()


def test_repeated_flushes_send_once(
    takes: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """A descriptor duplicated and closed twice (as shells and `exec 3>` do) uploads once, at
    the first close after the writing."""
    source = tmp_path / "dup.wav"
    source.write_bytes(tone("wav"))
    script = (
        "import os, sys\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)\n"
        "os.write(fd, open(sys.argv[2], 'rb').read())\n"
        "copy = os.dup(fd)\n"
        "os.close(copy)\n"
        "os.close(fd)\n"
    )
    emulator.reset_request_counts()
    run(sys.executable, "-c", script, str(mount / "Project/Takes/dup.wav"), str(source))
    assert emulator.request_counts().get(UPLOAD) == 1
    assert api.download(originals(api, takes["folder"]["id"])["dup.wav"]).content == tone("wav")


def test_chmod_and_touch_d_are_remembered_and_send_nothing(
    takes: dict[str, Any], mount: Path, emulator: EmulatorProcess
) -> None:
    """chmod and touch -d (as rsync -a and cp -p do) show in stat and change nothing on the
    service."""
    take = mount / "Project/Takes/take.wav"
    emulator.reset_request_counts()
    run("chmod", "600", str(take))
    run("touch", "-d", "2020-01-02 03:04:05 UTC", str(take))
    assert run("stat", "-c", "%a %Y", str(take)).stdout.split() == ["600", "1577934245"]
    assert not [route for route in emulator.request_counts() if not route.startswith("GET")]


def test_what_was_set_on_a_removed_folder_does_not_pass_to_a_new_one(
    takes: dict[str, Any], mount: Path
) -> None:
    """A folder made again under an old name shows the service's time, not the one `touch -d`
    gave the folder that was removed (an old time could make rsync skip what it holds)."""
    fresh = mount / "Project/Fresh"
    run("mkdir", str(fresh))
    run("touch", "-d", "2001-01-02 03:04:05 UTC", str(fresh))
    assert run("stat", "-c", "%Y", str(fresh)).stdout.strip() == "978404645"
    run("rmdir", str(fresh))
    run("mkdir", str(fresh))
    assert run("stat", "-c", "%Y", str(fresh)).stdout.strip() != "978404645"
