"""Typed, immutable records of the service's objects, parsed from its JSON.

Parsing is lenient on purpose: unknown fields are ignored (the service adds fields over time),
optional fields that are missing or null get defaults, and only the identifying fields are
required. Records the account has few of (credits, voices, calibrations) keep the JSON they
came from in `raw` for fields nobody typed yet; recordings, of which a studio has a hundred
thousand, keep only their typed fields.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

JSON = dict[str, Any]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when the service omits the zone)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _str(data: JSON, key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _shared(data: JSON, key: str) -> str | None:
    """A value many records repeat (a project's id, a voice's name), kept once in memory:
    a studio's account holds a hundred thousand recordings."""
    value = _str(data, key)
    return None if value is None else sys.intern(value)


def _float(data: JSON, key: str, default: float | None = None) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _int(data: JSON, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _bool(data: JSON, key: str, default: bool = False) -> bool:
    value = data.get(key)
    return value if isinstance(value, bool) else default


def _dict(data: JSON, key: str) -> JSON:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _list(data: JSON, key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class User:
    """The logged-in user (from login)."""

    id: str
    email: str | None = None
    username: str | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> User:
        return cls(
            id=str(data["id"]), email=_str(data, "email"), username=_str(data, "username"), raw=data
        )


@dataclass(frozen=True, slots=True)
class Project:
    """A project: the top-level directories of the tree."""

    id: str
    name: str
    owner: str | None = None
    slug: str | None = None
    url: str | None = None
    active: bool = True
    created_at: datetime | None = None
    last_recording_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Project:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            owner=_str(data, "owner"),
            slug=_str(data, "slug"),
            url=_str(data, "url"),
            active=_bool(data, "active", True),
            created_at=parse_time(data.get("created_at")),
            last_recording_at=parse_time(data.get("last_recording_at")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder of a project."""

    id: str
    name: str
    project_id: str
    parent_id: str | None = None
    active: bool = True
    created_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Folder:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            project_id=str(data.get("project_id") or ""),
            parent_id=_str(data, "parent_id"),
            active=_bool(data, "active", True),
            created_at=parse_time(data.get("created_at")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Note:
    """A recording's note (at most `limits.NOTE_MAX` characters)."""

    id: str
    text: str
    recording_id: str | None = None
    active: bool = True
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON, recording_id: str | None = None) -> Note:
        return cls(
            id=str(data.get("id") or ""),
            text=str(data.get("text") or ""),
            recording_id=_str(data, "recording_id") or recording_id,
            active=_bool(data, "active", True),
            raw=data,
        )


class RecordingState(str, Enum):
    """A recording's state (the reference's `RecordingStates`)."""

    DONE = "done"
    PROCESSING = "processing"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: Any, default: RecordingState) -> RecordingState:
        """The state of a JSON value; a state this client does not know counts as still
        processing (not done, not failed), so it is looked at again soon."""
        if not value:
            return default
        try:
            return cls(str(value))
        except ValueError:
            return cls.PROCESSING


class RecordingType(str, Enum):
    """Whether a recording is an original or a conversion (the reference's `RecordingTypes`)."""

    ORIGINAL = "original"
    CONVERTED = "converted"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Recording:
    """An original or a conversion, with its state, audio URL and companions (star, note)."""

    id: str
    project_id: str
    type: RecordingType = RecordingType.ORIGINAL
    state: RecordingState = RecordingState.DONE
    parent_folder_id: str | None = None
    url: str | None = None
    file_name: str | None = None
    label: str | None = None
    original_id: str | None = None
    model_id: str | None = None
    model_name: str | None = None
    calibration_id: str | None = None
    calibration_name: str | None = None
    microphone: str | None = None
    size: int | None = None
    duration: float = 0.0
    starred: bool = False
    tts: bool = False
    text: str | None = None
    error: str | None = None
    process_stage: str | None = None
    active: bool = True
    created_at: datetime | None = None
    converted_at: datetime | None = None
    note: Note | None = None

    @property
    def is_original(self) -> bool:
        return self.type == RecordingType.ORIGINAL

    @property
    def is_processing(self) -> bool:
        return self.state == RecordingState.PROCESSING

    @property
    def is_failed(self) -> bool:
        return self.state == RecordingState.ERROR

    @property
    def is_done(self) -> bool:
        return self.state == RecordingState.DONE

    @classmethod
    def from_json(cls, data: JSON) -> Recording:
        note = data.get("note")
        rec_id = str(data["id"])
        return cls(
            id=rec_id,
            project_id=sys.intern(str(data.get("project_id") or "")),
            type=(
                RecordingType.ORIGINAL
                if (data.get("type") or "original") == "original"
                else RecordingType.CONVERTED
            ),
            state=RecordingState.parse(data.get("state"), RecordingState.DONE),
            parent_folder_id=_shared(data, "parent_folder_id"),
            url=_str(data, "url"),
            file_name=_str(data, "file_name"),
            label=_str(data, "label"),
            original_id=_str(data, "original_id"),
            model_id=_shared(data, "model_id"),
            model_name=_shared(data, "model_name"),
            calibration_id=_shared(data, "calibration_id"),
            calibration_name=_shared(data, "calibration_name"),
            microphone=_shared(data, "microphone"),
            size=_int(data, "size"),
            duration=_float(data, "duration", 0.0) or 0.0,
            starred=_bool(data, "starred"),
            tts=_bool(data, "tts"),
            text=_str(data, "text"),
            error=_str(data, "error"),
            process_stage=_shared(data, "process_stage"),
            active=_bool(data, "active", True),
            created_at=parse_time(data.get("created_at")),
            converted_at=parse_time(data.get("converted_at")),
            note=Note.from_json(note, rec_id) if isinstance(note, dict) else None,
        )


@dataclass(frozen=True, slots=True)
class Accent:
    """An accent of a voice (speech-to-speech)."""

    id: str
    name: str
    short_name: str | None = None
    locale: str | None = None
    is_default: bool = False
    native: bool = False
    available: bool = False
    favorite: bool = False
    semitones_correction: float = 0.0

    @classmethod
    def from_json(cls, data: JSON) -> Accent:
        info, settings = _dict(data, "info"), _dict(data, "settings")
        return cls(
            id=str(data["id"]),
            name=str(info.get("name") or data.get("name") or ""),
            short_name=_str(info, "short_name"),
            locale=_str(info, "locale"),
            is_default=_bool(data, "is_default"),
            native=_bool(data, "native"),
            available=_bool(data, "available"),
            favorite=_bool(settings, "favorite"),
            semitones_correction=_float(settings, "semitones_correction", 0.0) or 0.0,
        )


@dataclass(frozen=True, slots=True)
class NarrationStyle:
    """A narration style of a voice (text-to-speech)."""

    id: str
    name: str
    is_default: bool = False
    favorite: bool = False

    @classmethod
    def from_json(cls, data: JSON) -> NarrationStyle:
        info, settings = _dict(data, "info"), _dict(data, "settings")
        return cls(
            id=str(data["id"]),
            name=str(info.get("name") or data.get("name") or ""),
            is_default=_bool(data, "is_default"),
            favorite=_bool(settings, "favorite"),
        )


@dataclass(frozen=True, slots=True)
class Voice:
    """A marketplace voice with its accents and narration styles."""

    id: str
    name: str
    slug: str | None = None
    owner_id: str | None = None
    visibility: str | None = None
    species: str | None = None
    gender: str | None = None
    age_group: str | None = None
    pitch_group: str | None = None
    nationality: str | None = None
    pitch: float | None = None
    rating: int | None = None
    description: str | None = None
    active: bool = True
    available: bool = False
    favorite: bool = False
    created_at: datetime | None = None
    accents: tuple[Accent, ...] = ()
    narration_styles: tuple[NarrationStyle, ...] = ()
    tiers: tuple[str, ...] = ()
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Voice:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            slug=_str(data, "slug"),
            owner_id=_str(data, "owner_id"),
            visibility=_str(data, "visibility"),
            species=_str(data, "species"),
            gender=_str(data, "gender"),
            age_group=_str(data, "age_group"),
            pitch_group=_str(data, "pitch_group"),
            nationality=_str(data, "nationality"),
            pitch=_float(data, "pitch"),
            rating=_int(data, "rating"),
            description=_str(data, "description"),
            active=_bool(data, "active", True),
            available=_bool(data, "available"),
            favorite=_bool(data, "favorite"),
            created_at=parse_time(data.get("created_at")),
            accents=tuple(
                Accent.from_json(a) for a in _list(data, "accents") if isinstance(a, dict)
            ),
            narration_styles=tuple(
                NarrationStyle.from_json(s)
                for s in _list(data, "narration_styles")
                if isinstance(s, dict)
            ),
            tiers=tuple(
                str(t.get("name"))
                for t in _list(data, "tiers")
                if isinstance(t, dict) and t.get("name") is not None
            ),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Calibration:
    """A calibration (a sample of the user's voice used to tune conversions)."""

    id: str
    name: str
    state: str = "processing"
    enabled: bool = False
    user_id: str | None = None
    f0: float | None = None
    algorithm: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    calibrated_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Calibration:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            state=str(data.get("state") or "processing"),
            enabled=_bool(data, "enabled"),
            user_id=_str(data, "user_id"),
            f0=_float(data, "f0"),
            algorithm=_str(data, "algorithm"),
            error=_str(data, "error"),
            created_at=parse_time(data.get("created_at")),
            calibrated_at=parse_time(data.get("calibrated_at")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Order:
    """One ordered conversion. `id` is None when recovered from the conversion itself
    (the order's answer was lost and the client found the conversion instead)."""

    conversion_id: str
    original_id: str
    id: str | None = None
    state: str = "new"
    user_id: str | None = None
    tracking_id: str | None = None
    calibration_id: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    closed_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Order:
        return cls(
            conversion_id=str(data["conversion_id"]),
            original_id=str(data.get("original_id") or ""),
            id=_str(data, "id"),
            state=str(data.get("state") or "new"),
            user_id=_str(data, "user_id"),
            tracking_id=_str(data, "tracking_id"),
            calibration_id=_str(data, "calibration_id"),
            error=_str(data, "error"),
            created_at=parse_time(data.get("created_at")),
            closed_at=parse_time(data.get("closed_at")),
            raw=data,
        )

    @classmethod
    def recovered(cls, conversion: Recording) -> Order:
        """An order reconstructed from the conversion it produced."""
        return cls(
            conversion_id=conversion.id,
            original_id=conversion.original_id or "",
            state=conversion.state,
            calibration_id=conversion.calibration_id,
            error=conversion.error,
            created_at=conversion.created_at,
        )


@dataclass(frozen=True, slots=True)
class Credits:
    """The account's credits."""

    credits: float
    initial_credits: float = 0.0
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: JSON) -> Credits:
        return cls(
            credits=_float(data, "credits", 0.0) or 0.0,
            initial_credits=_float(data, "initial_credits", 0.0) or 0.0,
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class ConversionRequest:
    """One conversion of an order: a voice and, optionally, its accent/style and pitch shift."""

    voice_id: str
    accent_id: str | None = None
    narration_style_id: str | None = None
    semitones_correction: float | None = None
    label: str | None = None

    def to_json(self) -> JSON:
        body: JSON = {"voice_id": self.voice_id}
        for key in ("accent_id", "narration_style_id", "semitones_correction", "label"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body
