"""Is this really audio of the format its name says? Checked from the first bytes, before
anything is sent, so a wrong file fails at once with a clear message (CONTRACT §3)."""

from __future__ import annotations

import errno

from voicefs.api.errors import InvalidRequestError

HEADER_BYTES = 64


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
