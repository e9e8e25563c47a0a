"""Errors as users see them: the path first, then the service's reason (CONTRACT §7)."""

from __future__ import annotations

import errno
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from voicefs.api.errors import ServiceError
from voicefs.api.health import Availability, HealthState

ERRORS_KEPT = 200


@contextmanager
def errors_at(path: str) -> Iterator[None]:
    """Re-raises the client's errors (OSErrors with errno) with the path in the message."""
    try:
        yield
    except ServiceError as exc:
        named = shown(path)
        reason = exc.strerror or str(exc)
        if reason.startswith(f"{named}: "):
            raise
        if path and reason.startswith(f"{path}: "):  # its control characters not yet escaped
            reason = reason.removeprefix(f"{path}: ")
        elif exc.operation:  # the client's wording names ids; the caller's path replaces it
            reason = reason.removeprefix(f"{exc.operation}: ")
        raised = type(exc)(
            exc.errno or errno.EIO,
            f"{named}: {reason}",
            status=exc.status,
            detail=exc.detail,
            operation=exc.operation,
        )
        raise raised from exc


def path_error(code: int, message: str, path: str) -> OSError:
    """An error of ours (not the service's) about path, as the OSError subclass of its errno."""
    exception = {
        errno.ENOENT: FileNotFoundError,
        errno.EEXIST: FileExistsError,
        errno.EPERM: PermissionError,
        errno.EACCES: PermissionError,
        errno.EISDIR: IsADirectoryError,
        errno.ENOTDIR: NotADirectoryError,
    }.get(code, OSError)
    return exception(code, f"{shown(path)}: {message}")


def shown(path: str) -> str:
    """A path as messages name it: the top of the account is `/`, not an empty string, and
    control characters are escaped (`printable`)."""
    return printable(path) or "/"


_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """text with each control character (U+0000-U+001F, U+007F-U+009F) written as an escape,
    `\\t`, `\\n`, `\\r` or `\\x1b`: what messages and errors.log show of names, so that no
    name can move a terminal's cursor or colour its text."""
    if not any(is_control(character) for character in text):
        return text
    return "".join(_ESCAPES.get(c, f"\\x{ord(c):02x}") if is_control(c) else c for c in text)


def is_control(character: str) -> bool:
    """C0 and C1 control characters and DEL: U+0000-U+001F, U+007F-U+009F."""
    code = ord(character)
    return code < 0x20 or 0x7F <= code <= 0x9F


class ErrorLog:
    """Recent errors, one line each with the time, errno, path and the service's reason:
    what `/.voicefs/errors.log` shows. Bounded, so a long-lived mount does not grow."""

    def __init__(self, kept: int = ERRORS_KEPT) -> None:
        self._lines: deque[str] = deque(maxlen=kept)
        self._lock = threading.Lock()

    def record(self, error: OSError) -> None:
        """Adds a line for error, once however many layers it passes through."""
        if getattr(error, "_voicefs_logged", False):
            return
        error._voicefs_logged = True  # type: ignore[attr-defined]
        code = errno.errorcode.get(error.errno or errno.EIO, "EIO")
        reason = printable(" ".join((error.strerror or str(error)).split()))
        with self._lock:
            self._lines.append(f"{_now()} {code} {reason}")

    def health_changed(self, before: HealthState, after: HealthState) -> None:
        """One line per change of the service's availability, not one per failed request."""
        reason = f" ({after.last_error})" if after.availability != Availability.ONLINE else ""
        line = printable(" ".join(f"service {after.describe()}{reason}".split()))
        with self._lock:
            self._lines.append(f"{_now()} {line}")

    def text(self) -> str:
        with self._lock:
            return "".join(f"{line}\n" for line in self._lines)

    @contextmanager
    def errors_at(self, path: str) -> Iterator[None]:
        """`errors_at(path)`, and each error from the service is recorded here (a path not
        found is an answer, not an error: `exists` asks that all the time)."""
        try:
            with errors_at(path):
                yield
        except ServiceError as exc:
            self.record(exc)
            raise

    @contextmanager
    def all_errors_at(self, path: str) -> Iterator[None]:
        """As `errors_at`, recording every error: for writes, whose refusals are news."""
        try:
            with errors_at(path):
                yield
        except OSError as exc:
            self.record(exc)
            raise


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
