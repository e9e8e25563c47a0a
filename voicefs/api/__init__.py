"""The service: HTTP session, auth, retries, rate limit, pagination, typed records and the
HTTP status -> OSError mapping. Knows nothing about paths."""

from voicefs.api.client import VoiceClient
from voicefs.api.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    InvalidRequestError,
    NameTooLongError,
    NotEnoughCreditsError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
    ServiceUnavailableError,
    TooLargeError,
)
from voicefs.api.records import (
    Accent,
    Calibration,
    ConversionRequest,
    Credits,
    Folder,
    NarrationStyle,
    Note,
    Order,
    Project,
    Recording,
    User,
    Voice,
)

__all__ = [
    "Accent",
    "AccessDeniedError",
    "AlreadyExistsError",
    "Calibration",
    "ConversionRequest",
    "Credits",
    "Folder",
    "InvalidRequestError",
    "NameTooLongError",
    "NarrationStyle",
    "NotEnoughCreditsError",
    "NotFoundError",
    "Note",
    "Order",
    "Project",
    "RateLimitedError",
    "Recording",
    "ServiceError",
    "ServiceUnavailableError",
    "TooLargeError",
    "User",
    "Voice",
    "VoiceClient",
]
