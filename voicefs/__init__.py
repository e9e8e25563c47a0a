"""voicefs: the Respeecher Voice Marketplace API as a filesystem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["VoiceFileSystem", "__version__"]

if TYPE_CHECKING:
    from voicefs.filesystem import VoiceFileSystem


def __getattr__(name: str) -> Any:
    # Imported on first use, so `voicefs.api` and the emulator do not load fsspec.
    if name == "VoiceFileSystem":
        from voicefs.filesystem import VoiceFileSystem

        return VoiceFileSystem
    raise AttributeError(f"module 'voicefs' has no attribute {name!r}")
