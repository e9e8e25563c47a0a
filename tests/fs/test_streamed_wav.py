"""A WAV written to a pipe (ffmpeg, sox: sizes unknown in its header) uploads through fsspec
as it was written, once; the service holds exactly those bytes (CONTRACT §3)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.emulator.helpers import Api
from tests.emulator_process import Account
from tests.fs.defect_helpers import fresh_cat
from tests.fs.helpers import FOLDER, Writer, by_open, by_pipe, by_put, folder_id
from voicefs.filesystem import VoiceFileSystem

SOX = ["sox", "-n", "-b", "16", "-t", "wav", "-", "synth", "0.5", "sine", "440"]
FFMPEG = ["ffmpeg", "-nostdin", "-f", "lavfi", "-i", "sine=d=0.5", "-f", "wav", "-"]


def piped(command: list[str]) -> bytes:
    """What the program writes to a pipe, where it cannot go back to fix its header."""
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return done.stdout


@pytest.mark.parametrize("write", [by_pipe, by_put, by_open])
@pytest.mark.parametrize("command", [SOX, FFMPEG], ids=["sox", "ffmpeg"])
def test_a_wav_written_to_a_pipe_uploads_once_as_written(
    fs: VoiceFileSystem,
    api: Api,
    account: Account,
    folder: str,
    tmp_path: Path,
    command: list[str],
    write: Writer,
) -> None:
    wav = piped(command)
    assert int.from_bytes(wav[4:8], "little") + 8 > len(wav)  # a size it did not know
    path = f"{FOLDER}/streamed.wav"
    write(fs, path, wav, tmp_path)
    held = [r for r in api.recordings(folder_id(fs)) if r["type"] == "original"]
    assert [r["file_name"] for r in held] == ["streamed.wav"]
    assert api.download(held[0]).content == wav
    assert fresh_cat(account, path) == wav
