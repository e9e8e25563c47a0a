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
