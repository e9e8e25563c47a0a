"""The drive every front-end shows: the narrow door onto the tree (`Drive`), and the machinery
the FUSE mount and the WebDAV server share on top of it (`DriveSession`): staging and the
journal of uploads, scratch files that stay local, the audio cache on disk, the settings
users make, and the background upkeep."""

from voicefs.drive.door import ALWAYS_THERE, CacheSpace, Downloader, Drive, Writer

__all__ = ["ALWAYS_THERE", "CacheSpace", "Downloader", "Drive", "Writer"]
