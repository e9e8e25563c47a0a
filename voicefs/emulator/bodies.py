"""Request bodies of the service, with the limits of its OpenAPI document.

FastAPI validates them and answers 422 with its `HTTPValidationError` shape, as the service
does. Fields the endpoint reference adds to the older OpenAPI document (`label` and
`narration_style_id` in orders, `text_language` in TTS v2) are accepted too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

LABEL_PATTERN = r"^[a-zA-Z0-9 -]+$"

Name = Annotated[str, Field(max_length=40)]


class LoginCreds(BaseModel):
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    password: str
    session_duration: Annotated[int | None, Field(gt=0)] = None


class ApiKeyCreate(BaseModel):
    expires_at: datetime | None = None


class ProjectCreate(BaseModel):
    name: Name
    owner: UUID
    models: dict[str, Any]


class ProjectRename(BaseModel):
    name: Name


class ProjectUpdate(BaseModel):
    models: dict[str, Any]


class FolderCreate(BaseModel):
    name: Name
    project_id: UUID


class FolderUpdate(BaseModel):
    name: Name | None = None


class RecordingUpdate(BaseModel):
    label: Name | None = None
    starred: bool | None = None


class RecordingPutUpdate(BaseModel):
    label: Name
    starred: bool


class NoteWrite(BaseModel):
    recording_id: UUID
    text: Annotated[str, Field(max_length=2000)]


class NoteDelete(BaseModel):
    recording_id: UUID


class OrderConversion(BaseModel):
    voice_id: UUID
    accent_id: UUID | None = None
    narration_style_id: UUID | None = None
    semitones_correction: float = 0.0
    label: Name | None = None


class OrderRequest(BaseModel):
    original_id: UUID
    conversions: list[OrderConversion]
    calibration_id: UUID | None = None
    use_calibration: bool = False


class ModelRef(BaseModel):
    id: UUID
    name: str
    params: list[dict[str, Any]] = []


class LegacyConversionRequest(BaseModel):
    original_id: UUID
    models: list[ModelRef]
    calibration_id: UUID | None = None


TTSText = Annotated[str, Field(min_length=1, max_length=1000)]


class TTSCreateV1(BaseModel):
    parent_folder_id: UUID
    text: TTSText
    voice_id: UUID
    label: Name | None = None


class TTSCreateV2(BaseModel):
    parent_folder_id: UUID
    text: TTSText
    tts_voice_id: UUID | None = None
    label: Name | None = None
    text_language: Annotated[str | None, Field(pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)?$")] = None


class ProjectStatsRequest(BaseModel):
    project_ids: list[UUID]


class FolderStatsRequest(BaseModel):
    folder_ids: list[UUID]


class FavoriteUpdate(BaseModel):
    favorite: bool


class VoiceSettingsUpdate(BaseModel):
    voice_id: UUID
    accent_id: UUID | None = None
    semitones_correction: float | None = None
    narration_style_id: UUID | None = None


class CalibrationRename(BaseModel):
    name: Name


class NewUser(BaseModel):
    """Body of the `POST /_emulator/users` test hook."""

    email: str | None = None
    password: str | None = None
    credits: float | None = None
