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
    OutcomeUnknownError,
    RateLimitedError,
    ServiceError,
    ServiceUnavailableError,
    TooLargeError,
)
from voicefs.api.options import ClientOptions
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
    RecordingState,
    RecordingType,
    User,
    Voice,
)

__all__ = [
    "Accent",
    "AccessDeniedError",
    "AlreadyExistsError",
    "Calibration",
    "ClientOptions",
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
    "OutcomeUnknownError",
    "Project",
    "RateLimitedError",
    "Recording",
    "RecordingState",
    "RecordingType",
    "ServiceError",
    "ServiceUnavailableError",
    "TooLargeError",
    "User",
    "Voice",
    "VoiceClient",
]
