"""The one exception the store raises; the HTTP layer turns it into `{"detail": ...}`."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with the HTTP status and the `detail` text the real service would send."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def not_found(what: str) -> ServiceError:
    return ServiceError(404, f"{what} not found")


def bad_request(detail: str) -> ServiceError:
    return ServiceError(400, detail)
