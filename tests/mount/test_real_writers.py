"""Writes as real programs make them (CONTRACT §3): shell redirection, duplicated and inherited
descriptors, dd, pv, ffmpeg writing to a pipe, mknod. Each ends with exactly one upload of the
complete file and no false error; every effect is checked through the service's API."""

from __future__ import annotations

import os
import shutil
import stat
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
def folder(api: Api) -> dict[str, Any]:
    return api.folder(api.project("Project")["id"], "Takes")


@pytest.fixture
def take(tmp_path: Path) -> Path:
    source = tmp_path / "take.wav"
    source.write_bytes(tone("wav", seconds=2.0))
    return source


def originals(api: Api, folder_id: str) -> dict[str, dict[str, Any]]:
    return {r["file_name"]: r for r in api.recordings(folder_id) if r["type"] == "original"}


def uploaded_once(
    api: Api, emulator: EmulatorProcess, folder: dict[str, Any], name: str, content: bytes
) -> None:
    """Exactly one upload reached the service, under `name`, with exactly `content`."""
    assert emulator.request_counts().get(UPLOAD) == 1
    found = originals(api, folder["id"])
    assert list(found) == [name], found
    assert api.download(found[name]).content == content


def errors_log(mount: Path) -> str:
    return (mount / ".voicefs/errors.log").read_text()


@pytest.mark.parametrize(
    "redirection",
    [
        'cat "$1" > "$2"',
        'cat "$1" >> "$2"',
        'pv -q "$1" > "$2"',
        'exec 3> "$2"; cat "$1" >&3; exec 3>&-',
    ],
    ids=["cat >", "cat >>", "pv >", "exec 3>"],
)
def test_shell_redirection_uploads_the_whole_file_once(
    redirection: str,
    folder: dict[str, Any],
    mount: Path,
    api: Api,
    emulator: EmulatorProcess,
    take: Path,
) -> None:
    """The shell opens the file, duplicates it onto a descriptor and closes the original
    before anything is written: that empty close is not the end of the file."""
    if redirection.startswith("pv") and shutil.which("pv") is None:
        pytest.fail("pv is not installed (scripts/bootstrap.sh installs it)")
    target = mount / "Project/Takes/new.wav"
    emulator.reset_request_counts()
    run("bash", "-c", redirection, "redirect", str(take), str(target))
    uploaded_once(api, emulator, folder, "new.wav", take.read_bytes())
    assert errors_log(mount) == ""


def test_a_descriptor_closed_by_a_child_first_is_not_the_end(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, take: Path
) -> None:
    """Python writes half, runs a child that inherits and closes the descriptor, writes the
    rest: one upload, of the whole."""
    script = (
        "import os, subprocess, sys\n"
        "data = open(sys.argv[2], 'rb').read()\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n"
        "os.close(os.dup(fd))\n"
        "os.write(fd, data[: len(data) // 2])\n"
        "os.set_inheritable(fd, True)\n"
        "subprocess.run(['true'], close_fds=False)\n"
        "subprocess.run(['true'])\n"
        "os.write(fd, data[len(data) // 2 :])\n"
        "os.close(fd)\n"
    )
    emulator.reset_request_counts()
    run(sys.executable, "-c", script, str(mount / "Project/Takes/child.wav"), str(take))
    uploaded_once(api, emulator, folder, "child.wav", take.read_bytes())


def test_ffmpeg_twice_into_one_redirection_is_one_recording(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """`{ ffmpeg …; ffmpeg …; } > joined.mp3`: each ffmpeg exits holding the descriptor; the
    shell's own close after the group is the end."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("ffmpeg is not installed (scripts/bootstrap.sh installs it)")
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    first.write_bytes(tone("wav", seconds=1.0, hz=300))
    second.write_bytes(tone("wav", seconds=1.0, hz=500))
    encode = f'"{ffmpeg}" -nostdin -loglevel error -i "$1" -f mp3 -'
    group = f"{{ {encode.replace('$1', '$2')}; {encode.replace('$1', '$3')}; }}"
    expected = subprocess.run(
        ["bash", "-c", group, "g", "", str(first), str(second)], capture_output=True, check=True
    ).stdout
    target = mount / "Project/Takes/joined.mp3"
    emulator.reset_request_counts()
    run("bash", "-c", f'{group} > "$1"', "g", str(target), str(first), str(second))
    assert emulator.request_counts().get(UPLOAD) == 1
    (joined,) = originals(api, folder["id"]).values()
    assert joined["file_name"] == "joined.mp3"
    assert api.download(joined).content == expected


def test_ffmpeg_streaming_a_wav_into_the_drive_is_accepted(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    """A WAV written to a pipe has 0xFFFFFFFF sizes in its header: complete when its data
    ends, not "cut short"."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("ffmpeg is not installed (scripts/bootstrap.sh installs it)")
    source = tmp_path / "in.flac"
    source.write_bytes(tone("flac", seconds=1.5))
    streamed = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(source), "-f", "wav", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert streamed[4:8] == b"\xff\xff\xff\xff"  # what every tool writing WAV to a pipe does
    emulator.reset_request_counts()
    command = f'"{ffmpeg}" -nostdin -loglevel error -i "$1" -f wav - > "$2"'
    run("bash", "-c", command, "f", str(source), str(mount / "Project/Takes/x.wav"))
    uploaded_once(api, emulator, folder, "x.wav", streamed)


def test_dd_uploads_once_with_no_error_logged(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, take: Path
) -> None:
    emulator.reset_request_counts()
    run("dd", f"if={take}", f"of={mount / 'Project/Takes/dd.wav'}", "bs=4k", "status=none")
    uploaded_once(api, emulator, folder, "dd.wav", take.read_bytes())
    assert errors_log(mount) == ""


def test_an_empty_new_take_is_refused_when_its_last_descriptor_goes(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess
) -> None:
    """An empty close is not the end of a file (a shell closes one before writing), so the
    refusal of a take left empty comes at the release, into errors.log, and it goes away."""
    target = mount / "Project/Takes/empty.wav"
    emulator.reset_request_counts()
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    wait_until(lambda: not os.path.lexists(target), timeout=10)
    assert "empty.wav" not in os.listdir(target.parent)
    assert emulator.request_counts().get(UPLOAD, 0) == 0
    assert "empty.wav" in wait_until(lambda: errors_log(mount) or None, timeout=10)


def test_mknod_makes_and_closes_a_file_at_once(
    folder: dict[str, Any], mount: Path, api: Api, emulator: EmulatorProcess, take: Path
) -> None:
    """mknod of a star stars at once; of an empty take fails with the refusal, and nothing
    is left standing."""
    run("cp", str(take), str(mount / "Project/Takes/take.wav"))
    (recording,) = originals(api, folder["id"]).values()
    os.mknod(mount / "Project/Takes/take.wav.star", stat.S_IFREG | 0o644)
    assert api.ok("GET", f"/api/recordings/{recording['id']}")["starred"] is True
    emulator.reset_request_counts()
    with pytest.raises(OSError) as refused:
        os.mknod(mount / "Project/Takes/empty.wav", stat.S_IFREG | 0o644)
    assert refused.value.errno == 22
    assert not os.path.lexists(mount / "Project/Takes/empty.wav")
    assert emulator.request_counts().get(UPLOAD, 0) == 0


def test_a_new_file_shows_the_mode_it_was_created_with(folder: dict[str, Any], mount: Path) -> None:
    target = mount / "Project/Takes/new.wav"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    finally:
        os.close(descriptor)


def test_touch_of_an_existing_recording_logs_nothing(
    folder: dict[str, Any], mount: Path, api: Api, take: Path
) -> None:
    """touch opens for writing first (refused: audio never changes), then sets the times,
    which succeeds: no error for errors.log."""
    run("cp", str(take), str(mount / "Project/Takes/take.wav"))
    run("touch", str(mount / "Project/Takes/take.wav"))
    assert errors_log(mount) == ""


def test_names_starting_with_dots_upload_like_any_other(
    folder: dict[str, Any], mount: Path, api: Api, take: Path
) -> None:
    for name in ("..wav", "...wav"):
        run("cp", str(take), str(mount / "Project/Takes" / name))
    assert set(originals(api, folder["id"])) == {"..wav", "...wav"}
