"""A write through fsspec on a full local disk (the temporary directory it stages in) fails
with ENOSPC naming the path, sends nothing and leaves nothing there (CONTRACT §3, §7)."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.fs.helpers import FOLDER, UPLOAD, counted, folder_id, raises_errno
from voicefs.filesystem import VoiceFileSystem

TMPFS_SIZE = 1 << 20

Writer = Callable[[VoiceFileSystem, str, bytes], None]


@pytest.fixture
def full_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 1 MiB tmpfs as the temporary directory (TMPDIR and Python's cached choice)."""
    assert os.geteuid() == 0, "mounting a tmpfs needs root (CI runs as root)"
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", disk], check=True)
    try:
        monkeypatch.setenv("TMPDIR", str(disk))
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        yield disk
    finally:
        subprocess.run(["umount", disk], check=True)


def by_pipe(fs: VoiceFileSystem, path: str, data: bytes) -> None:
    fs.pipe(path, data)


def by_open(fs: VoiceFileSystem, path: str, data: bytes) -> None:
    with fs.open(path, "wb") as handle:
        for start in range(0, len(data), 1000):
            handle.write(data[start : start + 1000])


def by_open_closed(fs: VoiceFileSystem, path: str, data: bytes) -> None:
    handle = fs.open(path, "wb")
    handle.write(data[:1000])
    try:
        handle.write(data[1000:])
    finally:
        handle.close()


@pytest.mark.parametrize("write", [by_pipe, by_open, by_open_closed])
def test_a_write_on_a_full_temporary_disk_fails_naming_the_path(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    folder: str,
    full_tmp: Path,
    write: Writer,
) -> None:
    data = tone("wav", seconds=30)  # 2.6 MB: more than the disk holds
    assert len(data) > TMPFS_SIZE
    path = f"{FOLDER}/long.wav"
    with counted(emulator) as requests, raises_errno(OSError, errno.ENOSPC, path) as caught:
        write(fs, path, data)
    assert str(full_tmp) in str(caught.value) and "nothing was sent" in str(caught.value)
    assert requests[UPLOAD] == 0, requests
    assert api.recordings(folder_id(fs)) == []
    assert list(full_tmp.iterdir()) == []  # the staged bytes are gone


def noise_mp3(seconds: float) -> bytes:
    """An MP3 of noise: it does not compress to nothing, and the service accepts one cut
    short (nothing in an MP3 says how long it should be)."""
    samples = np.random.default_rng(1).uniform(-0.5, 0.5, round(44100 * seconds))
    buffer = io.BytesIO()
    sf.write(buffer, samples.astype(np.float32), 44100, format="MP3")
    return buffer.getvalue()


def test_an_mp3_cut_by_a_full_disk_is_not_sent_when_closed(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, folder: str, full_tmp: Path
) -> None:
    """The writer ignores the failed write and closes: the close fails too and sends
    nothing (an MP3 cut short would have been accepted by the service)."""
    data = noise_mp3(150)
    assert len(data) > TMPFS_SIZE
    path = f"{FOLDER}/noise.mp3"
    handle = fs.open(path, "wb")
    with pytest.raises(OSError) as refused:
        handle.write(data)
    assert refused.value.errno == errno.ENOSPC
    with counted(emulator) as requests, raises_errno(OSError, errno.ENOSPC, path):
        handle.close()
    assert requests[UPLOAD] == 0, requests
    assert api.recordings(folder_id(fs)) == []
    assert list(full_tmp.iterdir()) == []


def test_a_write_that_fits_still_uploads(
    fs: VoiceFileSystem, api: Api, folder: str, full_tmp: Path
) -> None:
    fs.pipe(f"{FOLDER}/short.wav", tone("wav", seconds=1))
    assert [r["file_name"] for r in api.recordings(folder_id(fs))] == ["short.wav"]
    assert list(full_tmp.iterdir()) == []


def test_a_copy_between_folders_on_a_full_temporary_disk_fails_naming_the_target(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, folder: str, full_tmp: Path
) -> None:
    source = f"{FOLDER}/long.wav"
    response = api.upload(folder_id(fs), tone("wav", seconds=30), "long.wav")
    assert response.status_code == 200, response.text
    fs.mkdir("Project/Other")
    target = "Project/Other/long.wav"
    with counted(emulator) as requests, raises_errno(OSError, errno.ENOSPC, target):
        fs.copy(source, target)
    assert requests[UPLOAD] == 0, requests
    assert api.recordings(folder_id(fs, "Project/Other")) == []
    assert list(full_tmp.iterdir()) == []
