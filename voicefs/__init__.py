"""voicefs: the Respeecher Voice Marketplace API as a filesystem."""

__version__ = "0.1.0"
