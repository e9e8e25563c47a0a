"""How the mount's operations fail: every failure an errno, and refused changes logged.

`translated` lets OSErrors through (their errno is the answer) and turns anything else into
EIO, logged with its traceback: a bug must not reach the user as EINVAL. `recorded` also puts
a refused change in `/.voicefs/errors.log` with its path: the shell's `echo … > order.txt`
never shows what `close()` said, and `cp` shows only the errno's words.
"""

from __future__ import annotations

import errno
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import mfusepy

from voicefs.tree.errors import ErrorLog

log = logging.getLogger("voicefs.mount")
F = TypeVar("F", bound=Callable[..., Any])


def translated(method: F) -> F:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except OSError:
            raise
        except Exception as exc:
            log.exception("%s failed", method.__name__)
            raise mfusepy.FuseOSError(errno.EIO) from exc

    return wrapper  # type: ignore[return-value]


def not_news(error: OSError) -> OSError:
    """An error the caller expects and gets past (`touch` probing an existing recording
    before it sets the times): answered, never put in errors.log."""
    error._voicefs_logged = True  # type: ignore[attr-defined]  # what ErrorLog.record skips
    return error


def recorded(method: F) -> F:
    """For operations of an object with an `error_log` whose first argument is the path:
    a failure other than "not found" (an answer, not news) is logged, naming the path."""

    @functools.wraps(method)
    def wrapper(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, path, *args, **kwargs)
        except OSError as exc:
            errors: ErrorLog | None = self.error_log
            if exc.errno != errno.ENOENT and errors is not None:
                named = path.strip("/")
                if named in str(exc):
                    errors.record(exc)
                else:
                    errors.record(OSError(exc.errno, f"{named}: {exc.strerror}"))
            raise

    return wrapper  # type: ignore[return-value]
