"""Is this really audio of the format its name says? Checked from the first bytes, before
anything is sent, so a wrong file fails at once with a clear message (CONTRACT §3)."""

from __future__ import annotations

import errno
from pathlib import Path

from voicefs.api.errors import InvalidRequestError

HEADER_BYTES = 64
WAV_SCAN_BYTES = 1 << 16  # where a WAV's data chunk starts, after fmt, LIST and the like
STREAMED_SIZES = (0, 0xFFFFFFFF)  # a size a writer could not go back and fill in
SOX_UNKNOWN_SIZE = 0x7FFFF000


def sniff(head: bytes) -> str | None:
    """The audio format the first bytes show: "wav", "flac", "ogg", "mp3" or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"  # an MPEG audio frame sync with a layer set
    return None


def check_audio(path: str, extension: str, head: bytes) -> None:
    """Raises EINVAL (a ValueError) unless head starts audio of the extension's format."""
    wanted = extension.lower().lstrip(".")
    found = sniff(head)
    if found == wanted:
        return
    what = f"{found.upper()} audio" if found else "not audio"
    raise InvalidRequestError(
        errno.EINVAL,
        f"{path}: the content is {what}, not {wanted.upper()}: only wav, ogg, mp3 and flac "
        "audio whose content matches its extension can be uploaded",
        operation=f"upload {path}",
    )


def check_audio_file(path: str, extension: str, staged: Path) -> None:
    """`check_audio` on a staged file, and for WAV that its header agrees with its length."""
    with staged.open("rb") as handle:
        head = handle.read(WAV_SCAN_BYTES)
    check_audio(path, extension, head[:HEADER_BYTES])
    if sniff(head) == "wav":
        problem = wav_size_problem(head, staged.stat().st_size)
        if problem is not None:
            raise InvalidRequestError(
                errno.EINVAL,
                f"{path}: the WAV is incomplete: {problem} (an interrupted copy?); "
                "nothing was uploaded",
                operation=f"upload {path}",
            )


def wav_size_problem(head: bytes, length: int) -> str | None:
    """Why a WAV's header sizes disagree with its length, or None when they agree.

    A RIFF or data chunk that claims more bytes than the file holds is a cut copy. A writer
    that cannot seek back (ffmpeg, sox or anything writing to a pipe) leaves its sizes unknown:
    0 or 0xFFFFFFFF (sox: 0x7FFFF000, less a partial block): such data runs to the end of the
    file, which is where it ends. A data size of 0 with bytes after it in a RIFF chunk that
    ends before them is a header never finished (libsndfile's while writing), not a stream.
    Trailing bytes after the RIFF chunk are tolerated, as players do.
    """
    riff_size = int.from_bytes(head[4:8], "little")
    riff_known = riff_size not in STREAMED_SIZES
    found = _data_chunk(head)
    if found is None:  # the data chunk lies beyond what was scanned
        if riff_known and riff_size + 8 > length:
            return f"its header says {riff_size + 8} bytes, the file has {length}"
        return None
    body, size, block_align = found
    if size in STREAMED_SIZES or _is_sox_unknown(size, block_align):
        if size == 0 and riff_known and riff_size + 8 <= body < length:
            return (
                f"its header was never finished (RIFF size {riff_size}, data size 0, "
                f"{length - body} bytes of data follow)"
            )
        return None
    if riff_known and riff_size + 8 > length:
        return f"its header says {riff_size + 8} bytes, the file has {length}"
    if body + size > length:
        return f"its data chunk says {size} bytes, {length - body} follow"
    return None


def _data_chunk(head: bytes) -> tuple[int, int, int] | None:
    """Where the data chunk's bytes start, its size and the format's block alignment."""
    offset, block_align = 12, 1
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        body = offset + 8
        if chunk_id == b"fmt " and body + 14 <= len(head):
            block_align = int.from_bytes(head[body + 12 : body + 14], "little") or 1
        if chunk_id == b"data":
            return body, size, block_align
        offset = body + size + (size & 1)
    return None


def _is_sox_unknown(size: int, block_align: int) -> bool:
    """sox's size for data of unknown length: 0x7FFFF000 rounded down to whole blocks."""
    return size == SOX_UNKNOWN_SIZE - SOX_UNKNOWN_SIZE % block_align
