"""Is this really audio of the format its name says? Checked from the first bytes, before
anything is sent, so a wrong file fails at once with a clear message (CONTRACT §3)."""

from __future__ import annotations

import errno
from pathlib import Path

from voicefs.api.errors import InvalidRequestError

HEADER_BYTES = 64
WAV_SCAN_BYTES = 1 << 16  # where a WAV's data chunk starts, after fmt, LIST and the like


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

    A RIFF size of 0 with bytes after the header is what a writer leaves when it could not
    seek back to fix the header; a RIFF or data chunk that claims more bytes than the file
    holds is a cut copy. Trailing bytes after the RIFF chunk are tolerated, as players do.
    """
    riff_size = int.from_bytes(head[4:8], "little")
    if riff_size == 0 or riff_size + 8 > length:
        return f"its header says {riff_size + 8} bytes, the file has {length}"
    offset = 12
    while offset + 8 <= len(head):
        chunk_id, size = (
            head[offset : offset + 4],
            int.from_bytes(head[offset + 4 : offset + 8], "little"),
        )
        body = offset + 8
        if chunk_id == b"data":
            if size == 0 and length > body:
                return f"its data chunk says 0 bytes, {length - body} follow"
            if body + size > length:
                return f"its data chunk says {size} bytes, {length - body} follow"
            return None
        offset = body + size + (size & 1)
    return None  # the data chunk lies beyond what was scanned: nothing to hold against it
