"""The WAV completeness check (CONTRACT §3): a WAV written to a pipe, whose header sizes are
unknown (0, 0xFFFFFFFF, sox's 0x7FFFF000), is complete when its data ends; a WAV shorter than
a known header size, or whose header was never finished, is refused before sending."""

from __future__ import annotations

import errno
import io
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicefs.api.errors import InvalidRequestError
from voicefs.tree.audio_header import check_audio_file, wav_size_problem

UNKNOWN = (0, 0xFFFFFFFF)
DATA_SIZE_AT = 40  # soundfile's 16-bit mono WAV: RIFF, fmt (16 bytes), then data


def pcm16_wav() -> bytes:
    """A plain 16-bit WAV (44-byte header), complete, as soundfile writes it to a file."""
    samples = (0.5 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 8000, format="WAV", subtype="PCM_16")
    data = buffer.getvalue()
    assert data[36:40] == b"data"
    return data


def with_sizes(wav: bytes, riff: int | None = None, data: int | None = None) -> bytes:
    """wav with its RIFF and/or data chunk size replaced."""
    patched = bytearray(wav)
    if riff is not None:
        patched[4:8] = struct.pack("<I", riff)
    if data is not None:
        patched[DATA_SIZE_AT : DATA_SIZE_AT + 4] = struct.pack("<I", data)
    return bytes(patched)


def problem(wav: bytes) -> str | None:
    return wav_size_problem(wav[: 1 << 16], len(wav))


def checked(tmp_path: Path, wav: bytes, name: str = "take.wav") -> None:
    staged = tmp_path / "staged"
    staged.write_bytes(wav)
    check_audio_file(f"P/F/{name}", ".wav", staged)


def test_a_complete_wav_passes() -> None:
    assert problem(pcm16_wav()) is None


@pytest.mark.parametrize("riff", [None, *UNKNOWN])
@pytest.mark.parametrize("data", UNKNOWN)
def test_a_streamed_wav_is_complete_when_its_data_ends(riff: int | None, data: int) -> None:
    """Unknown data size (with the RIFF size unknown too, or right): the data runs to the end."""
    assert problem(with_sizes(pcm16_wav(), riff=riff, data=data)) is None


@pytest.mark.parametrize("riff", UNKNOWN)
def test_an_unknown_riff_size_alone_passes(riff: int) -> None:
    assert problem(with_sizes(pcm16_wav(), riff=riff)) is None


def test_a_wav_cut_short_is_still_refused(tmp_path: Path) -> None:
    wav = pcm16_wav()
    cut = wav[:-1000]
    assert problem(cut) is not None
    with pytest.raises(InvalidRequestError) as caught:
        checked(tmp_path, cut)
    assert caught.value.errno == errno.EINVAL
    assert "P/F/take.wav" in str(caught.value) and "incomplete" in str(caught.value)


@pytest.mark.parametrize("riff", UNKNOWN)
def test_a_known_data_size_longer_than_the_file_is_refused_whatever_the_riff_size(
    riff: int,
) -> None:
    """Only the size a writer could not fill in is taken as unknown: a cut copy of a WAV
    whose RIFF size is unknown but whose data size is known is still cut short."""
    cut = with_sizes(pcm16_wav(), riff=riff)[:-1000]
    assert "data chunk says" in (problem(cut) or "")


def test_a_copy_two_bytes_short_is_refused() -> None:
    assert problem(pcm16_wav()[:-2]) is not None  # RIFF and data both say 2 bytes more


def test_a_header_never_finished_is_refused(tmp_path: Path) -> None:
    """libsndfile writes RIFF size 8 and data size 0 until the file is closed: a copy taken
    before that (a writer killed mid-way) is not a stream, and is refused."""
    path = tmp_path / "unfinished.wav"
    with sf.SoundFile(path, "w", 8000, 1, "PCM_16") as handle:
        handle.write(np.zeros(4000))
        unfinished = path.read_bytes()
    assert unfinished[4:8] == struct.pack("<I", 8) and unfinished[40:44] == bytes(4)
    assert "never finished" in (problem(unfinished) or "")
    assert problem(path.read_bytes()) is None  # once closed, complete


def test_an_empty_wav_with_a_zero_data_size_is_not_a_size_problem() -> None:
    wav = with_sizes(pcm16_wav()[:44], riff=36, data=0)
    assert problem(wav) is None  # the service says whether it holds audio


def piped(command: list[str]) -> bytes:
    """What a program writes to its standard output when that is a pipe (it cannot seek)."""
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return done.stdout


@pytest.mark.parametrize(
    "options",
    [["-b", "16", "-c", "1"], ["-b", "24", "-c", "1"], ["-b", "24", "-c", "5"], []],
    ids=["16-bit", "24-bit", "24-bit-5-channels", "default"],
)
def test_sox_writing_to_a_pipe(tmp_path: Path, options: list[str]) -> None:
    """sox's header for a length it does not know (0x7FFFF000 rounded to whole frames)."""
    sox = ["sox", "-n", *options, "-t", "wav", "-", "synth", "0.3", "sine", "440"]
    wav = piped(sox)
    assert int.from_bytes(wav[4:8], "little") + 8 > len(wav)  # the header is not the length
    checked(tmp_path, wav)
    assert problem(wav[:-100]) is None  # a stream's end cannot be told from its data


def test_ffmpeg_writing_to_a_pipe(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    command = ["ffmpeg", "-nostdin", "-f", "lavfi", "-i", "sine=d=0.3", "-f", "wav", "-"]
    wav = piped(command)
    assert wav[4:8] == b"\xff\xff\xff\xff"
    checked(tmp_path, wav)
