"""The drive's errors (CONTRACT §7, each an OSError with an errno) as HTTP statuses, with the
message that names the path and the service's reason in the body; 503 carries Retry-After.
Wrong input is a 4xx with words, never a traceback; anything that is not an OSError is a bug,
logged and answered 500."""

from __future__ import annotations

import errno
import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    HTTP_SERVICE_UNAVAILABLE,
    HTTP_UNPROCESSABLE_ENTITY,
    DAVError,
)

from voicefs.api.health import HealthState

log = logging.getLogger("voicefs.webdav")
F = TypeVar("F", bound=Callable[..., Any])

RETRY_AFTER = 10  # seconds a client is told to wait while the service is away

STATUS_OF_ERRNO = {
    errno.ENOENT: HTTP_NOT_FOUND,
    errno.EACCES: HTTP_FORBIDDEN,
    errno.EPERM: HTTP_FORBIDDEN,
    errno.EROFS: HTTP_FORBIDDEN,
    errno.EEXIST: HTTP_CONFLICT,
    errno.ENOTEMPTY: HTTP_CONFLICT,
    errno.ENOTDIR: HTTP_CONFLICT,
    errno.EISDIR: HTTP_CONFLICT,
    errno.EINVAL: HTTP_UNPROCESSABLE_ENTITY,
    errno.ENAMETOOLONG: HTTP_BAD_REQUEST,
    errno.EFBIG: HTTP_REQUEST_ENTITY_TOO_LARGE,
    errno.ENOSPC: HTTP_INSUFFICIENT_STORAGE,
    errno.EDQUOT: HTTP_INSUFFICIENT_STORAGE,
    errno.EIO: HTTP_SERVICE_UNAVAILABLE,
    errno.EINTR: HTTP_SERVICE_UNAVAILABLE,
    errno.ECONNABORTED: HTTP_BAD_REQUEST,
    errno.ETIMEDOUT: HTTP_SERVICE_UNAVAILABLE,
}


def retry_after(health: HealthState) -> int:
    """Seconds until a request is worth sending again: the rate limit's end when the service
    gave one, else a short wait for an absent service to come back."""
    if health.until is not None:
        return max(1, math.ceil(health.until - time.time()))
    return RETRY_AFTER


def dav_error(exc: OSError, health: Callable[[], HealthState]) -> DAVError:
    status = STATUS_OF_ERRNO.get(exc.errno or 0, HTTP_SERVICE_UNAVAILABLE)
    message = exc.strerror or str(exc)
    if exc.filename is not None:
        message = f"{exc.filename}: {message}"
    headers = None
    if status == HTTP_SERVICE_UNAVAILABLE:
        headers = [("Retry-After", str(retry_after(health())))]
    return DAVError(status, message, add_headers=headers)


def answered(method: F) -> F:
    """For methods of objects with `_health()` and `_record(error)`: an OSError becomes its
    status (refused changes logged in errors.log, as through the mount); a DAVError passes;
    anything else is a bug, logged with its traceback."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except DAVError:
            raise
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                self._record(exc)
            raise dav_error(exc, self._health) from exc
        except Exception as exc:
            log.exception("%s failed", method.__name__)
            raise DAVError(HTTP_INTERNAL_ERROR, "an error in voicefs: see its log") from exc

    return wrapper  # type: ignore[return-value]
