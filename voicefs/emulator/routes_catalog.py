"""The service's endpoints for orders, voices and calibrations: each one parses its request
and calls the store. Nothing more."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, UploadFile

from voicefs.emulator import bodies, render
from voicefs.emulator.catalog import TTS_VOICES
from voicefs.emulator.conversions import ConversionRequest
from voicefs.emulator.errors import not_found
from voicefs.emulator.route_common import Direction, Offset, State, User, limit, optional_id
from voicefs.emulator.store import Row

router = APIRouter(prefix="/api")


# --------------------------------------------------------------------------------- orders


@router.post("/v2/orders")
def create_order(body: bodies.OrderRequest, state: State, user: User) -> list[Row]:
    requests = [
        ConversionRequest(
            voice_id=str(c.voice_id),
            accent_id=optional_id(c.accent_id),
            narration_style_id=optional_id(c.narration_style_id),
            semitones_correction=c.semitones_correction,
            label=c.label,
        )
        for c in body.conversions
    ]
    return state.conversions.order(
        user,
        str(body.original_id),
        requests,
        optional_id(body.calibration_id),
        body.use_calibration,
    )


@router.post("/v2/orders/retry/{recording_id}")
def retry_order(recording_id: UUID, state: State, user: User) -> Row:
    return state.conversions.retry(user, str(recording_id))[0]


# --------------------------------------------------------------------------------- voices


@router.get("/v2/voices")
def list_voices(
    state: State,
    user: User,
    limit: int = limit(100, default=25),
    offset: Offset = 0,
    visibility: Annotated[list[str] | None, Query()] = None,
    species: Annotated[list[str] | None, Query()] = None,
    gender: Annotated[list[str] | None, Query()] = None,
    age_group: Annotated[list[str] | None, Query()] = None,
    pitch_group: Annotated[list[str] | None, Query()] = None,
    nationality: Annotated[list[str] | None, Query()] = None,
    sort: Annotated[str, Query(pattern="^(default|name|pitch|rating|created_at)$")] = "default",
    direction: Direction = "desc",
) -> dict[str, Any]:
    filters = {
        "visibility": visibility,
        "species": species,
        "gender": gender,
        "age_group": age_group,
        "pitch_group": pitch_group,
        "nationality": nationality,
    }
    entries = [
        v
        for v in state.store.voices.values()
        if all(not wanted or getattr(v, name) in wanted for name, wanted in filters.items())
    ]
    if sort != "default":
        key = "created_at" if sort == "created_at" else sort
        entries.sort(key=lambda v: getattr(v, key, v.name), reverse=direction == "desc")
    settings = state.store.voice_settings(user)
    items = [render.voice(v, settings) for v in entries[offset : offset + limit]]
    return render.page(items, len(entries), limit, offset)


@router.get("/v2/voices/search")
def search_voices(
    state: State,
    user: User,
    name: Annotated[str, Query(min_length=2)],
    limit: int = limit(10, default=5),
) -> list[Row]:
    settings = state.store.voice_settings(user)
    found = [v for v in state.store.voices.values() if name.lower() in v.name.lower()]
    return [render.voice(v, settings) for v in found[:limit]]


@router.post("/v2/voices/favorite/{voice_id}")
def favorite_voice(voice_id: UUID, body: bodies.FavoriteUpdate, state: State, user: User) -> Row:
    voice = state.store.voice(str(voice_id))
    state.store.save_voice_setting(user, voice.id, favorite=int(body.favorite))
    return render.voice(voice, state.store.voice_settings(user))


@router.post("/v2/voices/settings")
def voice_settings(body: bodies.VoiceSettingsUpdate, state: State, user: User) -> Row:
    voice = state.store.voice(str(body.voice_id))
    if body.accent_id is not None:
        accent = voice.accent(str(body.accent_id))
        if accent is None:
            raise not_found("Accent")
        values: dict[str, Any] = {"favorite": 1}
        if body.semitones_correction is not None:
            values["semitones_correction"] = body.semitones_correction
        state.store.save_voice_setting(user, accent.id, **values)
    if body.narration_style_id is not None:
        style = voice.narration_style(str(body.narration_style_id))
        if style is None:
            raise not_found("Narration style")
        state.store.save_voice_setting(user, style.id, favorite=1)
    return render.voice(voice, state.store.voice_settings(user))


@router.get("/v2/accents/samples")
def accent_samples(accent_id: UUID, state: State, user: User) -> dict[str, Any]:
    for voice in state.store.voices.values():
        accent = voice.accent(str(accent_id))
        if accent is not None:
            sample = f"{voice.slug}-{accent.short_name.lower()}.wav"
            return {"samples": {accent.locale: f"/api/files/samples/{sample}"}}
    raise not_found("Accent")


@router.get("/v2/narration-styles/samples")
def narration_style_samples(narration_style_id: UUID, state: State, user: User) -> dict[str, Any]:
    for voice in state.store.voices.values():
        style = voice.narration_style(str(narration_style_id))
        if style is not None:
            name = style.name.lower()
            return {"samples": {style.name: f"/api/files/samples/{voice.slug}-{name}.wav"}}
    raise not_found("Narration style")


@router.get("/models")
def list_models(
    state: State,
    user: User,
    limit: int = limit(100, default=0),
    offset: Offset = 0,
    search: str | None = None,
) -> dict[str, Any]:
    entries = [
        v for v in state.store.voices.values() if not search or search.lower() in v.name.lower()
    ]
    shown = entries[offset : offset + limit] if limit else entries[offset:]
    return render.page([render.model(v) for v in shown], len(entries), limit, offset)


@router.get("/tts-voices")
def list_tts_voices(user: User) -> list[Row]:
    return [render.tts_voice(v) for v in TTS_VOICES]


# ----------------------------------------------------------------------------- calibration


@router.get("/calibration")
def list_calibrations(
    state: State,
    user: User,
    limit: int = limit(200),
    offset: Offset = 0,
    search: str | None = None,
) -> dict[str, Any]:
    return state.conversions.list_calibrations(user, limit, offset, search)


@router.post("/calibration")
def create_calibration(
    state: State,
    user: User,
    name: Annotated[str, Form(max_length=40, pattern=bodies.LABEL_PATTERN)],
    data: Annotated[UploadFile, File()],
) -> Row:
    return state.conversions.create_calibration(user, name, data.file, data.filename or "upload")


@router.post("/calibration/auto")
def calibration_auto(state: State, user: User) -> dict[str, Any]:
    state.conversions.enable_calibration(user, None)
    return state.store.render_user(state.store.user(user["id"]))


@router.get("/calibration/{calibration_id}")
def get_calibration(calibration_id: UUID, state: State, user: User) -> Row:
    return state.conversions.get_calibration(user, str(calibration_id))


@router.patch("/calibration/{calibration_id}")
def rename_calibration(
    calibration_id: UUID, body: bodies.CalibrationRename, state: State, user: User
) -> Row:
    return state.conversions.rename_calibration(user, str(calibration_id), body.name)


@router.put("/calibration/{calibration_id}/enable")
def enable_calibration(calibration_id: UUID, state: State, user: User) -> Row | None:
    return state.conversions.enable_calibration(user, str(calibration_id))


@router.delete("/calibration/{calibration_id}")
def delete_calibration(calibration_id: UUID, state: State, user: User) -> Row:
    return state.conversions.delete_calibration(user, str(calibration_id))
