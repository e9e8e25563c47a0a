"""The FUSE mount (CONTRACT §6): thin `Operations` over `VoiceFileSystem` and its generated
files, with staged writes, scratch files, an on-disk audio cache and kernel caching. It knows
nothing of HTTP: it calls the filesystem layer only."""
