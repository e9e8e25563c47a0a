"""Real audio for the emulator: sniffing, probing, codecs, a pitch shifter and speech.

Pure functions (numpy + soundfile, optionally espeak-ng) so the HTTP layer and the store can
validate uploads and return "converted" audio a client can really play, with no model behind it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

AUDIO_FORMATS: dict[str, str] = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}

_SUBTYPES = {"wav": "PCM_16", "flac": "PCM_16", "ogg": "VORBIS", "mp3": "MPEG_LAYER_III"}
_FROM_SF = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "OGG": "ogg", "MP3": "mp3"}
_MP3_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_WRITE_BLOCK = 1 << 15  # libvorbis overflows its stack on one huge write; feed it in blocks
_MAX_SEMITONES = 24.0  # two octaves; beyond that the work (and the result) is unreasonable
_ESPEAK_TIMEOUT = 60.0
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
# F1-F3 of a few vowels (Peterson & Barney averages): what makes a harmonic buzz sound voiced.
_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480))

PathLike = str | os.PathLike[str]
Samples = NDArray[np.float32]


class AudioError(ValueError):
    """Content is not decodable audio of a supported format (message says why)."""


@dataclass(frozen=True)
class AudioInfo:
    """What the service reports about a stored recording."""

    format: str
    samplerate: int
    channels: int
    frames: int
    duration: float


def sniff_format(head: bytes) -> str | None:
    """Format from the first bytes of a file by magic number, so extensions can't lie."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
        # 0b01 version and 0b00 layer are reserved (the latter is how ADTS AAC looks).
        bad_header = len(head) >= 3 and (head[2] >> 4 == 0xF or (head[2] >> 2) & 3 == 3)
        if version != 1 and layer != 0 and not bad_header:
            return "mp3"
    return None


def _sniff_path(path: PathLike) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    fmt = sniff_format(head)
    if fmt is None:
        raise AudioError("not wav, flac, ogg or mp3 audio" if head else "empty file")
    return fmt


def _checked_frames(f: sf.SoundFile, fmt: str) -> int:
    """Decodes a block at each end: headers of truncated files promise frames that aren't there."""
    frames = int(f.frames)
    if frames <= 0:
        raise AudioError(f"{fmt} file holds no audio frames")
    if not f.seekable():
        return frames
    block = min(frames, 1024)
    if len(f.read(block, dtype="float32")) == 0:
        raise AudioError(f"{fmt} file has no decodable audio")
    f.seek(frames - block)
    if len(f.read(block, dtype="float32")) == block:
        return frames
    if fmt != "mp3":
        raise AudioError(f"{fmt} file is truncated: its header promises {frames} frames")
    # An mp3 without an exact length header (or cut short): count what really decodes.
    f.seek(0)
    counted = 0
    while chunk := len(f.read(1 << 16, dtype="float32")):  # not blocks(): it trusts f.frames
        counted += chunk
    if counted == 0:
        raise AudioError("mp3 file has no decodable audio")
    return counted


def probe(path: PathLike) -> AudioInfo:
    """Validates a file and gets its duration from headers plus two small reads, never a decode.

    The magic number is only a gate; libsndfile names the format, so an ID3 tag in front of
    FLAC or WAV (which it skips) yields "flac" or "wav", as the content really is.
    """
    sniffed = _sniff_path(path)
    try:
        with sf.SoundFile(os.fspath(path)) as f:
            fmt = _FROM_SF.get(f.format)
            if fmt is None:
                raise AudioError(f"{f.format} audio is not supported")
            frames = _checked_frames(f, fmt)
            samplerate, channels = int(f.samplerate), int(f.channels)
    except RuntimeError as e:  # soundfile.LibsndfileError and friends
        raise AudioError(f"corrupt or truncated {sniffed} file: {e}") from e
    return AudioInfo(fmt, samplerate, channels, frames, frames / samplerate)


def read(path: PathLike) -> tuple[Samples, int]:
    """Decodes a whole file to float32 (frames, channels); AudioError if it is not audio."""
    fmt = _sniff_path(path)
    try:
        data, samplerate = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except RuntimeError as e:
        raise AudioError(f"corrupt or truncated {fmt} file: {e}") from e
    if len(data) == 0:
        raise AudioError(f"{fmt} file holds no audio frames")
    return data, int(samplerate)


def write(path: PathLike, samples: NDArray[np.floating], samplerate: int, fmt: str) -> None:
    """Encodes to fmt; removes the partial file if encoding fails so nothing half-written stays."""
    if fmt not in AUDIO_FORMATS:
        raise ValueError(f"unsupported audio format {fmt!r}; use one of {sorted(AUDIO_FORMATS)}")
    if fmt == "mp3" and samplerate not in _MP3_RATES:
        raise ValueError(f"mp3 cannot encode {samplerate} Hz; use one of {sorted(_MP3_RATES)}")
    if not 0 < samplerate <= 192_000:
        raise ValueError(f"unsupported sample rate {samplerate}")
    data = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    data = data[:, None] if data.ndim == 1 else data
    if data.ndim != 2 or not 1 <= data.shape[1] <= (2 if fmt == "mp3" else 8):
        # (libvorbis crashes the process on hundreds of channels rather than failing)
        raise ValueError(f"cannot write {data.shape} samples as {fmt}: 1-8 channels, mp3 1-2")
    codec = {"subtype": _SUBTYPES[fmt], "format": AUDIO_FORMATS[fmt]}
    try:
        with sf.SoundFile(os.fspath(path), "w", samplerate, data.shape[1], **codec) as f:
            for start in range(0, len(data), _WRITE_BLOCK):
                f.write(data[start : start + _WRITE_BLOCK])
    except BaseException as e:
        if os.path.exists(path):
            os.unlink(path)
        if isinstance(e, RuntimeError):
            raise AudioError(f"cannot encode {fmt}: {e}") from e
        raise


def _stft_size(samplerate: int) -> int:
    """About 46 ms, a power of two: long enough to resolve low voices' harmonics."""
    return int(min(8192, max(256, 2 ** round(math.log2(max(samplerate, 1) * 0.046)))))


def _nearest_peaks(magnitude: NDArray[np.float32]) -> NDArray[np.intp]:
    """Per frame, the index of the spectral peak nearest to each bin (the bin itself if none)."""
    bins = magnitude.shape[1]
    index = np.arange(bins, dtype=np.int32)
    middle = magnitude[:, 1:-1]
    is_peak = np.zeros(magnitude.shape, dtype=bool)
    is_peak[:, 1:-1] = (middle > magnitude[:, :-2]) & (middle >= magnitude[:, 2:])
    below = np.maximum.accumulate(np.where(is_peak, index, np.int32(-bins)), axis=1)
    above = np.where(is_peak[:, ::-1], index[::-1], np.int32(2 * bins))
    above = np.minimum.accumulate(above, axis=1)[:, ::-1]
    nearest = np.where(above - index < index - below, above, below)
    return np.where((nearest < 0) | (nearest >= bins), index, nearest)


def _shift_channel(x: NDArray[np.float32], ratio: float, n_fft: int) -> NDArray[np.float32]:
    """Phase vocoder that resamples each synthesised frame (n_fft -> n_fft / ratio points).

    Equivalent to time-stretching by `ratio` and resampling back, but blockwise and
    band-limited (the per-frame irfft truncates or zero-pads the spectrum), so it needs
    no whole-signal FFT and its memory stays bounded.
    """
    n_out = max(2, round(n_fft / ratio))
    hop = max(1, min(n_fft, n_out) // 4)
    pad = n_fft // 2
    padded = np.pad(x, (pad, pad + max(n_fft, n_out)))
    frames = sliding_window_view(padded, n_fft)[::hop]
    count = min(len(frames), (len(x) + n_out) // hop + 2)
    bins = min(n_fft, n_out) // 2 + 1
    win_in = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    win_out = np.hanning(n_out + 1)[:-1].astype(np.float32)
    expected = 2.0 * np.pi * np.arange(bins) * hop / n_fft
    offset = (n_fft - n_out) // 2  # keeps frame centres where they were in the input
    out = np.zeros(len(padded) + 2 * n_out, dtype=np.float64)
    norm = np.zeros_like(out)
    previous = np.angle(np.fft.rfft(frames[0] * win_in)[:bins])
    phase = previous.copy()
    for first in range(0, count, 512):
        spec = np.fft.rfft(frames[first : min(first + 512, count)] * win_in, axis=1)[:, :bins]
        angle = np.angle(spec)
        delta = np.diff(np.vstack([previous, angle]), axis=0) - expected
        delta -= 2.0 * np.pi * np.round(delta / (2.0 * np.pi))
        steps = ratio * (expected + delta)
        if first == 0:
            steps[0] = 0.0
        phases = phase + np.cumsum(steps, axis=0)
        phase, previous = np.mod(phases[-1], 2.0 * np.pi), angle[-1]
        magnitude = np.abs(spec)
        peak = _nearest_peaks(magnitude)
        # Identity phase locking: each bin keeps its analysis phase offset from its peak,
        # otherwise per-bin frequency errors (times `ratio`) smear and cancel partials.
        locked = np.mod(np.take_along_axis(phases - angle, peak, axis=1) + angle, 2.0 * np.pi)
        locked = locked.astype(np.float32)
        full = np.zeros((len(spec), n_out // 2 + 1), dtype=np.complex64)
        full[:, :bins].real = magnitude * np.cos(locked)
        full[:, :bins].imag = magnitude * np.sin(locked)
        synth = np.fft.irfft(full, n_out, axis=1) * (n_out / n_fft) * win_out
        for i, row in enumerate(synth):
            start = (first + i) * hop + offset + n_out
            out[start : start + n_out] += row
            norm[start : start + n_out] += win_out * win_out
    begin = pad + n_out
    result = out[begin : begin + len(x)] / np.maximum(norm[begin : begin + len(x)], 1e-3)
    return result.astype(np.float32)


def pitch_shift(samples: NDArray[np.floating], samplerate: int, semitones: float) -> Samples:
    """Shifts pitch by `semitones` (|s| <= 24) keeping length, shape and channel count."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError("samples must be (frames,) or (frames, channels)")
    if not math.isfinite(semitones) or abs(semitones) > _MAX_SEMITONES:
        raise ValueError(f"semitones must be within ±{_MAX_SEMITONES:g}")
    if semitones == 0 or len(x) == 0:
        return np.clip(x, -1.0, 1.0)
    ratio = 2.0 ** (semitones / 12.0)
    columns = x.reshape(len(x), -1)
    shifted = np.empty_like(columns)
    for c in range(columns.shape[1]):
        shifted[:, c] = _shift_channel(columns[:, c], ratio, _stft_size(samplerate))
    return np.clip(shifted, -1.0, 1.0).reshape(x.shape)


def convert_file(source: PathLike, target: PathLike, semitones: float) -> AudioInfo:
    """The emulator's "voice conversion": a pitch shift, written in the source's own format."""
    info = probe(source)
    samples, samplerate = read(source)
    write(target, pitch_shift(samples, samplerate, semitones), samplerate, info.format)
    return probe(target)


def estimate_f0(samples: NDArray[np.floating], samplerate: int) -> float:
    """Median autocorrelation pitch (60-800 Hz) of up to 200 voiced 50 ms frames; 0.0 if none."""
    x = np.asarray(samples, dtype=np.float32)
    x = x.mean(axis=1) if x.ndim == 2 else x.reshape(-1)
    size = int(0.05 * samplerate)
    lo, hi = int(samplerate / 800), min(math.ceil(samplerate / 60), size - 2)
    if len(x) == 0 or samplerate <= 0 or lo < 1 or hi <= lo + 2:
        return 0.0
    frames = sliding_window_view(np.pad(x, (0, max(0, size - len(x)))), size)[:: size // 2]
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    voiced = np.flatnonzero(rms >= max(1e-3, 0.25 * np.percentile(rms, 90)))
    if len(voiced) == 0:
        return 0.0
    picked = frames[voiced[np.linspace(0, len(voiced) - 1, min(len(voiced), 200)).astype(int)]]
    picked = picked - picked.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(picked, 2 ** math.ceil(math.log2(2 * size)), axis=1)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :size]
    acf = acf / np.maximum(acf[:, :1], 1e-12) * (size / (size - np.arange(size)))  # unbiased
    f0s = []
    for r in acf[:, lo : hi + 1]:
        peaks = np.flatnonzero((r[1:-1] > r[:-2]) & (r[1:-1] >= r[2:])) + 1
        if len(peaks) == 0 or r[peaks].max() < 0.5:
            continue  # unvoiced: no strong periodicity
        k = int(peaks[np.argmax(r[peaks] >= 0.9 * r[peaks].max())])  # earliest: avoid octaves
        curve = r[k - 1] - 2.0 * r[k] + r[k + 1]
        shift = 0.5 * (r[k - 1] - r[k + 1]) / curve if curve < 0 else 0.0
        f0s.append(samplerate / (lo + k + shift))
    return float(np.median(f0s)) if f0s else 0.0


def synthesize_speech(
    text: str, samplerate: int = 22050, f0: float = 140.0, seed: int = 0
) -> Samples:
    """Deterministic speech-like audio (harmonic syllables, formants, pauses): a stand-in voice."""
    if samplerate < 8000 or not 40.0 <= f0 <= 1000.0:
        raise ValueError("need samplerate >= 8000 and 40 <= f0 <= 1000")
    rng = np.random.default_rng([seed, zlib.crc32(text.encode())])
    words = text.split() or [""]
    word_len, pause = 0.25, 0.06
    total = max(0.5, word_len * len(words))
    out = np.zeros(round(total * samplerate), dtype=np.float64)
    nyquist = 0.45 * samplerate
    for w, word in enumerate(words):
        syllables = 1 + (len(word) > 5)
        span = (word_len - pause) / syllables
        for s in range(syllables):
            start = round((w * word_len + s * span) * samplerate)
            t = np.arange(round(span * samplerate)) / samplerate
            where = (w + s / syllables) / len(words)  # declination over the utterance
            accent = 1.0 + rng.uniform(-0.06, 0.06) * np.sin(np.pi * t / span)
            contour = f0 * (1.1 - 0.2 * where) * accent
            phase = 2.0 * np.pi * np.cumsum(contour) / samplerate
            harmonics = np.arange(1, max(2, int(min(5000.0, nyquist) / contour.max())) + 1)
            formants = np.array(_VOWELS[int(rng.integers(len(_VOWELS)))], dtype=np.float64)
            detuning = (harmonics[:, None] * contour.mean() - formants) / 90.0
            gains = (np.array([1.0, 0.6, 0.3]) / (1.0 + detuning**2)).sum(axis=1)
            voiced = (gains / np.sqrt(harmonics)) @ np.sin(np.outer(harmonics, phase))
            envelope = np.clip(np.minimum(t / 0.02, (span - t) / 0.04), 0.0, 1.0)
            burst = rng.normal(0.0, 0.15, len(t)) * np.clip(1.0 - t / 0.015, 0.0, 1.0)
            out[start : start + len(t)] += voiced * envelope / max(gains.sum(), 1e-9) + burst
    return (0.7 * out / max(float(np.abs(out).max()), 1e-9)).astype(np.float32)


def _espeak(text: str, language: str | None) -> tuple[Samples, int] | None:
    """Speech from espeak-ng, or None when it is missing or fails (callers then synthesize)."""
    exe = shutil.which("espeak-ng")
    if exe is None or not text.strip():
        return None
    # Voices to try: "pt_BR" -> "pt-br", then "pt", then espeak-ng's default voice.
    tag = (language or "").strip().lower().replace("_", "-")
    tags = [tag, tag.split("-")[0]] if _LANGUAGE.fullmatch(tag) else []
    with tempfile.TemporaryDirectory(prefix="voicefs-tts-") as tmp:
        wav = os.path.join(tmp, "speech.wav")
        for voice in [*dict.fromkeys(tags), None]:
            command = [exe, "--stdin", "-w", wav, *(["-v", voice] if voice else [])]
            try:
                done = subprocess.run(
                    command, input=text.encode(), capture_output=True, timeout=_ESPEAK_TIMEOUT
                )
                if done.returncode == 0 and os.path.exists(wav):
                    samples, samplerate = read(wav)
                    return samples[:, 0], samplerate
            except (OSError, subprocess.SubprocessError, AudioError):
                return None
    return None


def text_to_speech(
    text: str,
    path: PathLike,
    fmt: str = "wav",
    language: str | None = None,
    voice_f0: float | None = None,
) -> AudioInfo:
    """Speaks text into path (espeak-ng if installed, else synthesize_speech), at voice_f0 Hz."""
    spoken = _espeak(text, language)
    if spoken is None:
        f0 = min(max(voice_f0 or 140.0, 60.0), 600.0)
        samples, samplerate = synthesize_speech(text, f0=f0), 22050
    else:
        samples, samplerate = spoken
        current = estimate_f0(samples, samplerate) if voice_f0 else 0.0
        if voice_f0 and current > 0:
            limit = _MAX_SEMITONES
            semitones = float(np.clip(12.0 * math.log2(voice_f0 / current), -limit, limit))
            samples = pitch_shift(samples, samplerate, semitones)
    write(path, samples, samplerate, fmt)
    return probe(path)
