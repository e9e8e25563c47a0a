"""The emulator's audio: real codecs, honest probing, a pitch shift that moves pitch, speech."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from voicefs.emulator import audio
from voicefs.emulator.audio import AUDIO_FORMATS, AudioError

SR = 22050
FORMATS = sorted(AUDIO_FORMATS)
HAVE_ESPEAK = shutil.which("espeak-ng") is not None


def tone(freq: float = 220.0, seconds: float = 1.0, samplerate: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * samplerate)) / samplerate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(16)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return audio.synthesize_speech("the quick brown fox jumps over the lazy dog", SR)


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_sniff_probe_read_round_trip(tmp_path: Path, speech: np.ndarray, fmt: str) -> None:
    path = tmp_path / f"clip.{fmt}"
    audio.write(path, speech, SR, fmt)

    assert audio.sniff_format(head(path)) == fmt
    info = audio.probe(path)
    assert (info.format, info.samplerate, info.channels) == (fmt, SR, 1)
    expected = len(speech) / SR
    assert info.duration == pytest.approx(expected, abs=0.1 if fmt == "mp3" else 1 / SR)
    assert info.frames / info.samplerate == pytest.approx(info.duration)

    samples, samplerate = audio.read(path)
    assert samples.dtype == np.float32 and samplerate == SR
    assert samples.shape == (info.frames, 1)
    if fmt in ("wav", "flac"):  # lossless apart from 16-bit quantisation
        np.testing.assert_allclose(samples[:, 0], speech, atol=1e-4)
    else:  # lossy: same loudness, still the same signal
        assert rms(samples) == pytest.approx(rms(speech), rel=0.2)
        n = min(len(samples), len(speech))
        assert np.corrcoef(samples[:n, 0], speech[:n])[0, 1] > 0.8


@pytest.mark.parametrize("fmt", FORMATS)
def test_stereo_keeps_its_channels(tmp_path: Path, fmt: str) -> None:
    stereo = np.stack([tone(220), tone(330)], axis=1)
    path = tmp_path / f"stereo.{fmt}"
    audio.write(path, stereo, SR, fmt)
    assert audio.probe(path).channels == 2
    samples, _ = audio.read(path)
    assert samples.shape[1] == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"ID3\x04\x00\x00", "mp3"),
        (b"\xff\xfb\x90\x64", "mp3"),  # MPEG-1 layer III frame
        (b"\xff\xf3\x80\xc4", "mp3"),  # MPEG-2 layer III (what 22.05 kHz encodes to)
        (b"\xff\xf1\x50\x80", None),  # ADTS AAC: same sync, layer bits 00
        (b"\xff\xfb\xf0\x64", None),  # bitrate index 15 is invalid
        (b"RIFF\x24\x00\x00\x00AVI ", None),
        (b"hello, world", None),
        (b"", None),
    ],
)
def test_sniff_format(data: bytes, expected: str | None) -> None:
    assert audio.sniff_format(data) == expected


def test_probe_refuses_what_is_not_audio(tmp_path: Path, speech: np.ndarray) -> None:
    audio.write(tmp_path / "good.flac", speech, SR, "flac")
    audio.write(tmp_path / "good.wav", speech, SR, "wav")
    flac = (tmp_path / "good.flac").read_bytes()
    rng = np.random.default_rng(0)
    bad = {
        "text.wav": b"this is a text file, not audio\n" * 20,
        "empty.wav": b"",
        "header-only.wav": (tmp_path / "good.wav").read_bytes()[:44],
        "cut.flac": flac[: len(flac) // 2],
        "garbage.flac": b"fLaC" + rng.bytes(4000),
        "garbage.ogg": b"OggS" + rng.bytes(4000),
        "garbage.mp3": b"ID3" + rng.bytes(4000),
        "garbage.wav": b"RIFF\x00\x10\x00\x00WAVE" + rng.bytes(4000),
    }
    for name, data in bad.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AudioError):
            audio.probe(path)
        with pytest.raises(AudioError):
            audio.read(path)


def test_probe_counts_what_is_really_there(tmp_path: Path, speech: np.ndarray) -> None:
    with pytest.raises(AudioError, match="no audio frames"):
        audio.write(tmp_path / "silent.wav", np.zeros(0, dtype=np.float32), SR, "wav")
        audio.probe(tmp_path / "silent.wav")
    # An mp3 cut short still plays; its Xing header's length is no longer true.
    audio.write(tmp_path / "full.mp3", speech, SR, "mp3")
    data = (tmp_path / "full.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    info = audio.probe(tmp_path / "cut.mp3")
    samples, _ = audio.read(tmp_path / "cut.mp3")
    assert info.frames == len(samples) < len(speech) * 0.6
    # An ID3 tag in front of FLAC: libsndfile skips it, and the content is what counts.
    audio.write(tmp_path / "plain.flac", speech, SR, "flac")
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
    (tmp_path / "tagged").write_bytes(tag + (tmp_path / "plain.flac").read_bytes())
    assert audio.probe(tmp_path / "tagged").format == "flac"
    assert audio.convert_file(tmp_path / "tagged", tmp_path / "out", 2).format == "flac"
    assert audio.sniff_format(head(tmp_path / "out")) == "flac"


def test_probe_reads_only_the_header_of_a_huge_wav(tmp_path: Path) -> None:
    data_bytes = 1 << 30  # 1 GiB of 16-bit mono, sparse on disk
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 48000, 96000, 2, 16)
    header += b"data" + struct.pack("<I", data_bytes)
    path = tmp_path / "huge.wav"
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + data_bytes)
    info = audio.probe(path)
    assert info.frames == data_bytes // 2
    assert info.duration == pytest.approx(data_bytes / 2 / 48000)


def test_write_refuses_what_it_cannot_encode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="unsupported audio format"):
        audio.write(tmp_path / "x.aac", tone(), SR, "aac")
    with pytest.raises(ValueError, match="mp3"):
        audio.write(tmp_path / "x.mp3", tone(samplerate=20000), 20000, "mp3")
    with pytest.raises(ValueError, match="channels"):
        audio.write(tmp_path / "x.ogg", np.zeros((SR, 300), dtype=np.float32), SR, "ogg")

    def failing_write(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(soundfile.SoundFile, "write", failing_write)
    with pytest.raises(AudioError, match="disk full"):
        audio.write(tmp_path / "x.wav", tone(), SR, "wav")
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_estimate_f0() -> None:
    assert audio.estimate_f0(tone(220), SR) == pytest.approx(220, rel=0.01)
    assert audio.estimate_f0(tone(110, samplerate=44100), 44100) == pytest.approx(110, rel=0.01)
    assert audio.estimate_f0(np.zeros(SR, dtype=np.float32), SR) == 0.0
    assert audio.estimate_f0(np.zeros(0, dtype=np.float32), SR) == 0.0
    noise = np.random.default_rng(0).normal(0, 0.3, SR).astype(np.float32)
    assert audio.estimate_f0(noise, SR) == 0.0  # loud but unvoiced


@pytest.mark.parametrize("semitones", [4, -3])
def test_pitch_shift_moves_f0_and_keeps_length(semitones: float) -> None:
    x = tone(220)
    y = audio.pitch_shift(x, SR, semitones)
    assert y.shape == x.shape and y.dtype == np.float32
    assert audio.estimate_f0(y, SR) == pytest.approx(220 * 2 ** (semitones / 12), rel=0.02)
    assert rms(y[2000:-2000]) == pytest.approx(rms(x), rel=0.1)  # loudness survives
    assert np.abs(y).max() <= 1.0


@pytest.mark.parametrize("semitones", [4, -3])
def test_pitch_shift_keeps_timing(semitones: float) -> None:
    t = np.arange(SR) / SR
    burst = tone(220) * ((t > 0.3) & (t < 0.6))  # a note from 0.3 s to 0.6 s

    def centre_ms(x: np.ndarray) -> float:
        energy = np.square(x, dtype=np.float64)
        return float((energy * np.arange(len(x))).sum() / energy.sum() / SR * 1000)

    shifted = audio.pitch_shift(burst, SR, semitones)
    assert centre_ms(shifted) == pytest.approx(centre_ms(burst), abs=1.0)


def test_pitch_shift_keeps_channels_and_zero_is_a_copy() -> None:
    stereo = np.stack([tone(220), tone(330)], axis=1)
    shifted = audio.pitch_shift(stereo, SR, 12)
    assert shifted.shape == stereo.shape and shifted.dtype == np.float32
    assert audio.estimate_f0(shifted[:, 0], SR) == pytest.approx(440, rel=0.05)
    assert audio.estimate_f0(shifted[:, 1], SR) == pytest.approx(660, rel=0.05)
    # an octave up, partials stay coherent (no phasey cancellation): loudness survives
    assert rms(shifted[2000:-2000]) == pytest.approx(rms(stereo), rel=0.1)
    same = audio.pitch_shift(stereo, SR, 0)
    assert same is not stereo and np.array_equal(same, stereo)
    with pytest.raises(ValueError):
        audio.pitch_shift(stereo, SR, float("nan"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_convert_file_keeps_format_and_duration(tmp_path: Path, fmt: str) -> None:
    source = tmp_path / f"source.{fmt}"
    audio.write(source, tone(220), SR, fmt)
    before = audio.probe(source)
    target = tmp_path / "converted.bin"  # the format comes from the content, not the name
    info = audio.convert_file(source, target, 4)
    assert audio.sniff_format(head(target)) == fmt
    assert (info.format, info.samplerate, info.channels) == (fmt, SR, 1)
    assert info.duration == pytest.approx(before.duration, abs=0.1 if fmt == "mp3" else 1 / SR)
    shifted, _ = audio.read(target)
    assert audio.estimate_f0(shifted, SR) == pytest.approx(220 * 2 ** (4 / 12), rel=0.05)


def test_convert_file_refuses_non_audio(tmp_path: Path) -> None:
    source = tmp_path / "notes.wav"
    source.write_text("not audio")
    with pytest.raises(AudioError):
        audio.convert_file(source, tmp_path / "out.wav", 2)
    assert not (tmp_path / "out.wav").exists()


def test_convert_file_handles_a_minute_of_audio(tmp_path: Path) -> None:
    rate = 44100
    clip = audio.synthesize_speech("a minute of speech for the timing test", rate)
    minute = np.tile(clip, 60 * rate // len(clip) + 1)[: 60 * rate]
    source = tmp_path / "minute.wav"
    audio.write(source, minute, rate, "wav")
    info = audio.convert_file(source, tmp_path / "out.wav", 3)
    assert info.frames == 60 * rate


def test_synthesize_speech_is_deterministic_speech_like() -> None:
    words = "one two three four five six seven eight"
    a = audio.synthesize_speech(words, SR, f0=140.0)
    assert np.array_equal(a, audio.synthesize_speech(words, SR, f0=140.0))
    assert not np.array_equal(a, audio.synthesize_speech(words, SR, f0=140.0, seed=1))
    assert a.dtype == np.float32 and len(a) / SR == pytest.approx(8 * 0.25, abs=0.01)
    assert audio.estimate_f0(a, SR) == pytest.approx(140, rel=0.15)
    assert rms(a) > 0.05 and np.abs(a).max() <= 1.0
    quiet = np.sqrt(np.mean(a[: len(a) // 50 * 50].reshape(-1, 50) ** 2, axis=1)) < 1e-3
    assert quiet.any()  # pauses between words
    assert len(audio.synthesize_speech("", SR)) / SR >= 0.5


def check_speech(path: Path, fmt: str, min_s: float, max_s: float) -> np.ndarray:
    info = audio.probe(path)
    assert info.format == fmt and audio.sniff_format(head(path)) == fmt
    assert min_s < info.duration < max_s
    samples, _ = audio.read(path)
    assert rms(samples) > 0.01
    return samples[:, 0]


TEXT = "hello world, this is a test of the voice emulator"


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed")
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_text_to_speech_with_espeak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    commands: list[list[str]] = []
    real_run = subprocess.run

    def spy(command: list[str], **kwargs: Any) -> Any:
        commands.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    path = tmp_path / f"tts.{fmt}"
    info = audio.text_to_speech(TEXT, path, fmt)
    check_speech(path, fmt, 1.0, 8.0)
    assert len(commands) == 1 and Path(commands[0][0]).name == "espeak-ng"
    assert info == audio.probe(path)


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed")
def test_text_to_speech_language_and_pitch(tmp_path: Path) -> None:
    def speak(language: str | None) -> np.ndarray:
        path = tmp_path / f"{language}.wav"
        audio.text_to_speech("guten tag, wie geht es", path, language=language)
        return check_speech(path, "wav", 0.5, 8.0)

    default = speak(None)
    assert not np.array_equal(speak("de"), default)
    assert not np.array_equal(speak("pt_BR"), default)
    for unknown in ("xx-unknown", "--help"):  # rejected or refused: the default voice speaks
        assert np.array_equal(speak(unknown), default)
    audio.text_to_speech(TEXT, tmp_path / "high.wav", voice_f0=220.0)
    high = check_speech(tmp_path / "high.wav", "wav", 1.0, 8.0)
    assert audio.estimate_f0(high, 22050) == pytest.approx(220, rel=0.15)


def test_text_to_speech_without_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("espeak-ng is missing, nothing should be run")

    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    path = tmp_path / "tts.ogg"
    info = audio.text_to_speech(TEXT, path, "ogg", language="en", voice_f0=180.0)
    samples = check_speech(path, "ogg", 1.0, 8.0)
    assert info.duration == pytest.approx(10 * 0.25, abs=0.02)  # the synthetic voice
    assert audio.estimate_f0(samples, info.samplerate) == pytest.approx(180, rel=0.15)
