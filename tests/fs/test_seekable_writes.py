"""Files open for writing can seek back (libsndfile fixes a WAV's header at the end), and a WAV
visibly cut short (shorter than its header says) is refused before anything is sent
(CONTRACT §3)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import (
    RATE,
    SIGNAL,
    closed_on_failure,
    decoded,
    file_names,
    fresh_cat,
    fresh_names,
    wav_bytes,
)
from tests.fs.helpers import FOLDER, UPLOAD, counted, folder_id, raises_errno, recording, upload
from voicefs.filesystem import VoiceFileSystem

SINE = f"{FOLDER}/sine.wav"


def assert_uploaded_signal(account: Account, api: Api, fs: VoiceFileSystem) -> None:
    """sine.wav is the one original of the folder and decodes to SIGNAL at RATE, exactly as
    soundfile's own WAV of SIGNAL does."""
    assert file_names(api, folder_id(fs)) == ["sine.wav"]
    samples, rate = decoded(fresh_cat(account, SINE))
    expected, _ = decoded(wav_bytes(SIGNAL))
    assert rate == RATE
    assert samples.shape == expected.shape == SIGNAL.shape
    np.testing.assert_array_equal(samples, expected)


def test_soundfile_writes_a_wav_into_an_open_file(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    """`soundfile.write(fs.open(p, "wb"), data, rate)` uploads a WAV that plays back as data."""
    handle = fs.open(SINE, "wb")
    with closed_on_failure(handle):
        sf.write(handle, SIGNAL, RATE)  # the format comes from the file object's name
        handle.close()
    assert_uploaded_signal(account, api, fs)


def test_soundfile_writes_a_wav_inside_a_with_block(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    """`with fs.open(p, "wb") as f: soundfile.write(f, data, rate, format="WAV")` uploads a
    WAV whose header matches its samples."""
    with fs.open(SINE, "wb") as handle:
        sf.write(handle, SIGNAL, RATE, format="WAV")
    assert_uploaded_signal(account, api, fs)


def test_seek_back_and_write_overwrites_within_what_was_written(
    fs: VoiceFileSystem, api: Api, folder: str
) -> None:
    """After seek(0), write(b"X") replaces the first byte; the rest of the text stays."""
    take = upload(api, folder_id(fs), "take.wav")
    with fs.open(f"{FOLDER}/take.wav.note.txt", "wb") as handle:
        handle.write(b"hello world")
        handle.seek(0)
        handle.write(b"X")
        assert handle.tell() == 1
    assert recording(api, take["id"])["note"]["text"] == "Xello world"


def test_seek_back_patches_the_header_of_an_upload(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    """A header patched after the data was written (as encoders do) is uploaded as patched."""
    data = tone("wav")
    with fs.open(f"{FOLDER}/patched.wav", "wb") as handle:
        handle.write(b"X" + data[1:])
        handle.seek(0)
        handle.write(b"R")  # b"RIFF" again
        handle.seek(0, 2)
    assert file_names(api, folder_id(fs)) == ["patched.wav"]
    assert fresh_cat(account, f"{FOLDER}/patched.wav") == data


# ------------------------------------------------------------------------- cut short

Writer = Callable[[VoiceFileSystem, str, bytes, Path], None]


def by_pipe_file(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    fs.pipe_file(path, data)


def by_put_file(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    local = tmp / "copy.wav"
    local.write_bytes(data)
    fs.put_file(str(local), path)


def by_open(fs: VoiceFileSystem, path: str, data: bytes, tmp: Path) -> None:
    with fs.open(path, "wb") as handle:
        handle.write(data)


@pytest.mark.parametrize("write", [by_pipe_file, by_put_file, by_open])
def test_a_wav_shorter_than_its_header_says_is_refused_before_sending(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    account: Account,
    folder: str,
    tmp_path: Path,
    write: Writer,
) -> None:
    """A WAV cut short (like an interrupted copy) fails with ValueError naming the path, and
    nothing is uploaded."""
    complete = tone("wav")
    cut = complete[: len(complete) - 2000]  # its RIFF and data sizes still count the tail
    path = f"{FOLDER}/cut.wav"
    with counted(emulator) as requests, raises_errno(ValueError, errno.EINVAL, path):
        write(fs, path, cut, tmp_path)
    assert requests[UPLOAD] == 0, requests
    assert file_names(api, folder_id(fs)) == []
    assert fresh_names(account) == ["recordings.csv"]
