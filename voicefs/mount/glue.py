"""What mfusepy 3.1 leaves out on libfuse 3, put back in a `FUSE` subclass.

- readdir with attributes: mfusepy keeps only a mode and never sets FUSE_FILL_DIR_PLUS, so
  `ls -l` of a listed folder would cost a getattr per entry. Entries are filled with their full
  attributes (`kernel_stat`, made once per listing) and non-zero offsets (libfuse < 3.17
  drops attributes at offset 0), which carry the token of the listing being read, so a read
  that goes on sees the same entries with no opendir to hold them (see
  `VoiceOperations.readdir_plus`).
- ftruncate's file handle: mfusepy drops it, so `ftruncate(fd, 0)` (vim's save) could not
  reach the open file. It is passed on (as the file info, the mount uses `raw_fi`).
- kernel notifications: mfusepy has none, so a refused new file would stay visible until the
  attribute timeout. `forget_in_kernel` calls libfuse's `fuse_invalidate_path`.
- rename flags: mfusepy drops them, so RENAME_EXCHANGE would become a plain rename and lose a
  file. They are passed on, and the operations refuse what they cannot honour.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import mfusepy

FUSE_READDIR_PLUS = 1
FUSE_FILL_DIR_PLUS = 2

Entry = tuple[str, Any]
"""A directory entry: its name and its attributes as the kernel takes them (`kernel_stat`),
or None when they are not known without a request. Kept with a directory's listing, so it is
compact: a ctypes `stat` of 144 bytes, not a dict of a kilobyte."""


def kernel_stat(attributes: dict[str, Any]) -> Any:
    """The `struct stat` libfuse hands the kernel, made once from a stat dict (`use_ns`)."""
    made = mfusepy.c_stat()
    mfusepy.set_st_attrs(made, attributes, use_ns=True)
    return made


class DirectoryListing:
    """A directory's entries as the kernel reads them: `.` and `..`, the index's entries
    (shared with it, never copied), then the scratch files' names."""

    __slots__ = ("entries", "local")

    DOTS: tuple[Entry, Entry] = ((".", None), ("..", None))

    def __init__(self, entries: Sequence[Entry], local: Sequence[Entry]) -> None:
        self.entries = entries
        self.local = local

    def since(self, start: int) -> Iterator[Entry]:
        """The entries from position `start` on: a read that goes on starts there, with no
        pass over what came before."""
        for part in (self.DOTS, self.entries, self.local):
            if start < len(part):
                for position in range(start, len(part)):
                    yield part[position]
                start = 0
            else:
                start -= len(part)


class VoiceFUSE(mfusepy.FUSE):
    def readdir_fuse_3(
        self, path: bytes | None, buf: Any, filler: Any, offset: int, fip: Any, flags: int
    ) -> int:
        decoded = None if path is None else path.decode(self.encoding, self.errors)
        for name, stat, after in self.operations.readdir_plus(decoded, offset):
            fill = FUSE_FILL_DIR_PLUS if stat is not None and flags & FUSE_READDIR_PLUS else 0
            if filler(buf, name.encode(self.encoding, self.errors), stat, after, fill) != 0:
                break  # the kernel's buffer is full: it asks again from the last `after`
        return 0

    def rename_fuse_3(self, old: bytes, new: bytes, flags: int) -> int:
        return int(
            self.operations.rename(
                old.decode(self.encoding, self.errors),
                new.decode(self.encoding, self.errors),
                flags,
            )
            or 0
        )

    def truncate_fuse_3(self, path: bytes | None, length: int, fip: Any) -> int:
        decoded = None if path is None else path.decode(self.encoding, self.errors)
        return int(self.operations.truncate(decoded, length, fip.contents if fip else None) or 0)


# mfusepy wraps no notification call; libfuse 3's high-level one is taken from the library
# mfusepy loaded (the same one the mount runs on).
_invalidate_path = mfusepy._libfuse.fuse_invalidate_path
_invalidate_path.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
_invalidate_path.restype = ctypes.c_int


def forget_in_kernel(path: str, *, at_once: bool = False) -> None:
    """Asks the kernel to drop the attributes it keeps of path (libfuse's
    `fuse_invalidate_path`): a new file whose write was refused must not show to `stat` until
    the attribute timeout. Called from within an operation, whose context names the mount.
    `at_once` from a flush, before `close()` returns to the writer, or from an open, before
    the opener's `fstat` (the kernel then holds no lock the notice needs); otherwise from
    another thread (a release may come at any time)."""
    fuse = mfusepy._libfuse.fuse_get_context().contents.fuse
    if not fuse:
        return
    target = ("/" + path.strip("/")).encode("utf-8", "surrogateescape")
    if at_once:
        _invalidate_path(ctypes.c_void_p(fuse), target)
        return
    threading.Thread(
        target=_invalidate_path, args=(ctypes.c_void_p(fuse), target), daemon=True
    ).start()
