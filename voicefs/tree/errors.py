"""Errors as users see them: the path first, then the service's reason (CONTRACT §7)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from voicefs.api.errors import ServiceError


@contextmanager
def errors_at(path: str) -> Iterator[None]:
    """Re-raises the client's errors (OSErrors with errno) with the path in the message."""
    try:
        yield
    except ServiceError as exc:
        reason = exc.strerror or str(exc)
        if reason.startswith(f"{path}: "):
            raise
        raised = type(exc)(
            exc.errno or errno.EIO,
            f"{path}: {reason}",
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
    return exception(code, f"{path}: {message}")
