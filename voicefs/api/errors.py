"""One mapping from the service's answers to OSError subclasses with errno (CONTRACT §7).

Every exception the client raises is a `ServiceError` (an OSError) carrying the HTTP status,
the service's `detail` text and the operation it refused, so the filesystem layers can turn it
into a kernel errno or an fsspec exception without parsing messages.
"""

from __future__ import annotations

import errno
from typing import Any

import requests

from voicefs.api.limits import NAME_MAX


class ServiceError(OSError):
    """Base of the client's errors: an OSError with errno, status, detail and operation."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(code, message)
        self.status = status
        self.detail = detail
        self.operation = operation


class NotFoundError(ServiceError, FileNotFoundError):
    """404: the object does not exist or belongs to someone else (ENOENT)."""


class AccessDeniedError(ServiceError, PermissionError):
    """401/403 or missing credentials (EACCES); never reported as "not found"."""


class InvalidRequestError(ServiceError, ValueError):
    """400/422: the service refused the content (EINVAL); also a ValueError for fsspec users."""


class AlreadyExistsError(ServiceError, FileExistsError):
    """The object exists already (EEXIST)."""


class NotEnoughCreditsError(ServiceError):
    """402: not enough credits (EDQUOT)."""


class TooLargeError(ServiceError):
    """413: the upload is larger than the service accepts (EFBIG)."""


class NameTooLongError(ServiceError):
    """A name or label longer than the service allows (ENAMETOOLONG)."""


class ServiceUnavailableError(ServiceError, ConnectionError):
    """Unreachable, 5xx after retries, or an unexpected answer (EIO)."""


class RateLimitedError(ServiceUnavailableError):
    """429 for longer than the client's patience (EIO)."""


class AmbiguousOutcomeError(ServiceUnavailableError):
    """A create request failed after it may have reached the service (dropped, timeout, 5xx).

    Internal signal for the exactly-once logic: the caller looks for the object before retrying.
    """


class OutcomeUnknownError(ServiceUnavailableError):
    """A create whose outcome stayed unknown: every attempt lost its answer, or the check
    for what an attempt did failed too. The message says so, and how to check (EIO)."""

    HINT = "it may have been done: list the place it was made in before trying again"


# Fields whose over-long values mean "name too long" rather than "invalid content".
NAME_FIELDS = frozenset({"name", "label"})


def detail_text(payload: Any) -> str:
    """The service's `detail` as one readable line; FastAPI's 422 list becomes a summary."""
    detail = payload.get("detail", payload) if isinstance(payload, dict) else payload
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
                where = ".".join(loc) or "request"
                parts.append(f"{where}: {item.get('msg', 'invalid')}")
            else:
                parts.append(str(item))
        return "; ".join(parts) or "invalid request"
    if detail is None:
        return ""
    return str(detail)


def _name_too_long(payload: Any) -> bool:
    """True when a 422 says a name/label exceeds its maximum length."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if not isinstance(detail, list):
        return False
    for item in detail:
        if not isinstance(item, dict):
            continue
        loc = item.get("loc") or []
        field = str(loc[-1]) if loc else ""
        kind = str(item.get("type", ""))
        msg = str(item.get("msg", "")).lower()
        too_long = "too_long" in kind or "max_length" in kind or "at most" in msg
        if field in NAME_FIELDS and too_long:
            return True
    return False


_BY_STATUS: dict[int, tuple[type[ServiceError], int]] = {
    400: (InvalidRequestError, errno.EINVAL),
    401: (AccessDeniedError, errno.EACCES),
    402: (NotEnoughCreditsError, errno.EDQUOT),
    403: (AccessDeniedError, errno.EACCES),
    404: (NotFoundError, errno.ENOENT),
    409: (AlreadyExistsError, errno.EEXIST),
    410: (NotFoundError, errno.ENOENT),
    413: (TooLargeError, errno.EFBIG),
    422: (InvalidRequestError, errno.EINVAL),
    429: (RateLimitedError, errno.EIO),
}


def error_for_status(status: int, payload: Any, operation: str) -> ServiceError:
    """The exception for an HTTP error status; `payload` is the decoded body (or its text)."""
    text = detail_text(payload)
    cls, code = _BY_STATUS.get(status, (ServiceUnavailableError, errno.EIO))
    if status == 422 and _name_too_long(payload):
        cls, code = NameTooLongError, errno.ENAMETOOLONG
    elif status in (400, 409, 422) and "already exist" in text.lower():
        cls, code = AlreadyExistsError, errno.EEXIST
    elif status < 500 and status not in _BY_STATUS:
        cls, code = InvalidRequestError, errno.EINVAL
    message = f"{operation}: {text or 'no detail'} (HTTP {status})"
    return cls(code, message, status=status, detail=text, operation=operation)


def error_for_response(response: requests.Response, operation: str) -> ServiceError:
    """The exception for a response whose status is an error."""
    try:
        payload: Any = response.json()
    except ValueError:
        payload = response.text[:300].strip()
    return error_for_status(response.status_code, payload, operation)


def unreachable(operation: str, cause: BaseException, *, ambiguous: bool = False) -> ServiceError:
    """EIO for a request that got no usable answer; `ambiguous` when it may have been done."""
    cls = AmbiguousOutcomeError if ambiguous else ServiceUnavailableError
    reason = type(cause).__name__
    message = f"{operation}: service unreachable ({reason}: {_short(cause)})"
    return cls(errno.EIO, message, operation=operation, detail=str(cause))


def name_too_long(operation: str, name: str, limit: int = NAME_MAX) -> NameTooLongError:
    """Raised before sending a name the service would refuse for its length."""
    detail = f"{len(name)} characters, at most {limit} allowed"
    return NameTooLongError(
        errno.ENAMETOOLONG,
        f"{operation}: name too long ({detail})",
        detail=detail,
        operation=operation,
    )


def invalid_response(operation: str, cause: BaseException) -> ServiceUnavailableError:
    """EIO for a 200 answer that does not parse as the expected record."""
    message = f"{operation}: unexpected answer from the service ({type(cause).__name__}: {cause})"
    return ServiceUnavailableError(errno.EIO, message, operation=operation, detail=str(cause))


def _short(cause: BaseException, limit: int = 200) -> str:
    text = str(cause)
    return text if len(text) <= limit else text[:limit] + "…"
