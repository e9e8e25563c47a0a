"""Who a FUSE request comes from, and whether the caller gave up on it.

The kernel names the calling thread in every request. A file is one writer's while one
process (thread group) holds it: the process that opened it is told by its thread group, so a
writer that closes from another thread than it opened from is still the writer.
"""

from __future__ import annotations

import ctypes

import mfusepy

_interrupted = mfusepy._libfuse.fuse_interrupted
_interrupted.argtypes = ()
_interrupted.restype = ctypes.c_int


def calling_process() -> int:
    """The process (thread group id) of the request being served, from within an operation."""
    _, _, thread = mfusepy.fuse_get_context()
    return process_of(thread)


def process_of(thread: int) -> int:
    """The thread group of a thread id, read from /proc; the id itself if it is gone."""
    try:
        with open(f"/proc/{thread}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return thread


def interrupted() -> bool:
    """Whether the caller of the request being served was interrupted (Ctrl-C, SIGTERM): the
    kernel then sends FUSE_INTERRUPT, which libfuse notes on the request."""
    return bool(_interrupted())
