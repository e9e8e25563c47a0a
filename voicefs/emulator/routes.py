"""The service's endpoints: each one parses its request and calls the store. Nothing more."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from voicefs.emulator import bodies, render
from voicefs.emulator.catalog import TTS_VOICES
from voicefs.emulator.conversions import ConversionRequest
from voicefs.emulator.errors import bad_request, not_found
from voicefs.emulator.state import EmulatorState, authenticated_user, emulator_state
from voicefs.emulator.store import Row

router = APIRouter(prefix="/api")

State = Annotated[EmulatorState, Depends(emulator_state)]
User = Annotated[Row, Depends(authenticated_user)]
Offset = Annotated[int, Query(ge=0)]
Direction = Annotated[str, Query(pattern="^(asc|desc)$")]


def _limit(maximum: int, default: int = 50) -> Any:
    return Query(default, ge=0, le=maximum)


def _zip_response(path: Any, filename: str) -> FileResponse:
    return FileResponse(
        path,
        media_type="application/zip",
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


# ------------------------------------------------------------------------ health and auth


@router.get("/healtz")
def health() -> dict[str, str]:
    return {"state": "OK"}


@router.post("/login")
def login(body: bodies.LoginCreds, state: State, response: Response) -> dict[str, Any]:
    session_id, csrf, user = state.store.login(body.email, body.password, body.session_duration)
    response.set_cookie("session_id", session_id, httponly=True, samesite="lax")
    return {"user": state.store.render_user(user), "csrf_token": csrf}


@router.post("/logout")
def logout(request: Request, state: State, user: User, response: Response) -> dict[str, str]:
    session_id = request.cookies.get("session_id")
    if session_id:
        state.store.logout(session_id)
    response.delete_cookie("session_id")
    return {"detail": "OK"}


@router.post("/auth")
def authenticate(state: State, user: User) -> dict[str, Any]:
    return state.store.render_user(user)


@router.post("/api-key")
def create_api_key(
    state: State, user: User, body: Annotated[bodies.ApiKeyCreate | None, Body()] = None
) -> dict[str, str]:
    return {"api_key": state.store.create_api_key(user["id"], body.expires_at if body else None)}


@router.delete("/api-key")
def delete_api_key(state: State, user: User) -> dict[str, str]:
    state.store.delete_api_key(user["id"])
    return {"detail": "OK"}


@router.get("/credits")
def credits(state: State, user: User) -> dict[str, float]:
    account = state.store.user(user["id"])
    return {"credits": round(account["credits"], 3), "initial_credits": account["initial_credits"]}


# ------------------------------------------------------------------------------ projects


@router.get("/projects")
def list_projects(
    state: State,
    user: User,
    limit: int = _limit(100),
    offset: Offset = 0,
    sort: Annotated[str, Query(pattern="^(name|created_at|last_recording_at)$")] = "created_at",
    direction: Direction = "desc",
    owner: UUID | None = None,
) -> dict[str, Any]:
    return state.store.list_projects(user, limit, offset, sort, direction, _id(owner))


@router.post("/projects")
def create_project(body: bodies.ProjectCreate, state: State, user: User) -> Row:
    return state.store.create_project(user, body.name, str(body.owner), body.models)


@router.get("/projects/by-url")
def project_by_url(project_url: str, state: State, user: User) -> Row:
    return state.store.project_by_url(user, project_url)


@router.patch("/projects/{project_id}")
def rename_project(project_id: UUID, body: bodies.ProjectRename, state: State, user: User) -> Row:
    return state.store.update_project(user, str(project_id), name=body.name)


@router.put("/projects/{project_id}")
def update_project(project_id: UUID, body: bodies.ProjectUpdate, state: State, user: User) -> Row:
    return state.store.update_project(user, str(project_id), models=body.models)


@router.delete("/projects/{project_id}")
def delete_project(project_id: UUID, state: State, user: User) -> Row:
    return state.store.delete_project(user, str(project_id))


@router.get("/projects/{project_id}/export")
def export_project(
    project_id: UUID, state: State, user: User, starred_only: bool = False
) -> FileResponse:
    path, filename = state.reports.export_project(user, str(project_id), starred_only)
    return _zip_response(path, filename)


# ------------------------------------------------------------------------------- folders


@router.get("/folders")
def list_folders(
    project_id: UUID,
    state: State,
    user: User,
    limit: int = _limit(200),
    offset: Offset = 0,
    direction: Direction = "desc",
) -> dict[str, Any]:
    return state.store.list_folders(user, str(project_id), limit, offset, direction)


@router.post("/folders")
def create_folder(body: bodies.FolderCreate, state: State, user: User) -> Row:
    return state.store.create_folder(user, str(body.project_id), body.name)


@router.get("/folders/{folder_id}")
def get_folder(folder_id: UUID, state: State, user: User) -> Row:
    return state.store.get_folder(user, str(folder_id))


@router.patch("/folders/{folder_id}")
def rename_folder(folder_id: UUID, body: bodies.FolderUpdate, state: State, user: User) -> Row:
    if body.name is None:
        return state.store.get_folder(user, str(folder_id))
    return state.store.rename_folder(user, str(folder_id), body.name)


@router.delete("/folders/{folder_id}")
def delete_folder(folder_id: UUID, state: State, user: User) -> list[dict[str, str]]:
    return state.store.delete_folder(user, str(folder_id))


# ---------------------------------------------------------------------------- recordings


@router.get("/recordings")
def list_recordings(
    state: State,
    user: User,
    project_id: UUID | None = None,
    folder_id: UUID | None = None,
    limit: int = _limit(200),
    offset: Offset = 0,
    direction: Direction = "desc",
) -> dict[str, Any]:
    if project_id is None and folder_id is None:
        raise bad_request("Give project_id or folder_id")
    return state.store.list_recordings(
        user,
        limit=limit,
        offset=offset,
        direction=direction,
        project_id=_id(project_id),
        folder_id=_id(folder_id),
    )


@router.get("/recordings/originals")
def list_originals(
    folder_id: UUID,
    state: State,
    user: User,
    limit: int = _limit(200),
    offset: Offset = 0,
    direction: Direction = "desc",
) -> dict[str, Any]:
    return state.store.list_recordings(
        user,
        limit=limit,
        offset=offset,
        direction=direction,
        folder_id=str(folder_id),
        originals_only=True,
    )


@router.get("/recordings/conversions")
def list_conversions(
    original_id: UUID,
    state: State,
    user: User,
    limit: int = _limit(200),
    offset: Offset = 0,
    direction: Direction = "desc",
) -> dict[str, Any]:
    return state.store.list_recordings(
        user, limit=limit, offset=offset, direction=direction, original_id=str(original_id)
    )


@router.get("/recordings/export")
def export_original(
    original_id: UUID, state: State, user: User, starred_only: bool = False
) -> FileResponse:
    path, filename = state.reports.export_original(user, str(original_id), starred_only)
    return _zip_response(path, filename)


@router.post("/recordings")
def create_recording(
    state: State,
    user: User,
    data: Annotated[UploadFile, File()],
    parent_folder_id: Annotated[UUID, Form()],
    microphone: Annotated[str, Form()],
    label: Annotated[str | None, Form(max_length=40, pattern=bodies.LABEL_PATTERN)] = None,
) -> Row:
    return state.store.create_recording(
        user, str(parent_folder_id), data.file, data.filename or "upload", microphone, label
    )


@router.post("/recordings/tts")
def create_tts_v1(body: bodies.TTSCreateV1, state: State, user: User) -> Row:
    return state.conversions.tts(
        user, str(body.parent_folder_id), body.text, body.label, None, str(body.voice_id)
    )


@router.post("/v2/recordings/tts")
def create_tts_v2(body: bodies.TTSCreateV2, state: State, user: User) -> Row:
    return state.conversions.tts(
        user,
        str(body.parent_folder_id),
        body.text,
        body.label,
        body.text_language,
        _id(body.tts_voice_id),
    )


@router.get("/recordings/{recording_id}")
def get_recording(recording_id: UUID, state: State, user: User) -> Row:
    return state.store.get_recording(user, str(recording_id))


@router.patch("/recordings/{recording_id}")
def patch_recording(
    recording_id: UUID, body: bodies.RecordingUpdate, state: State, user: User
) -> Row:
    return state.store.update_recording(
        user, str(recording_id), label=body.label, starred=body.starred
    )


@router.put("/recordings/{recording_id}")
def put_recording(
    recording_id: UUID, body: bodies.RecordingPutUpdate, state: State, user: User
) -> Row:
    return state.store.update_recording(
        user, str(recording_id), label=body.label, starred=body.starred
    )


@router.delete("/recordings/{recording_id}")
def delete_recording(recording_id: UUID, state: State, user: User) -> list[dict[str, str]]:
    return state.store.delete_recording(user, str(recording_id))


@router.post("/recordings/conversion-order")
def legacy_conversion_order(
    body: bodies.LegacyConversionRequest, state: State, user: User
) -> list[Row]:
    requests = [ConversionRequest(voice_id=str(model.id)) for model in body.models]
    orders = state.conversions.order(
        user, str(body.original_id), requests, _id(body.calibration_id), False
    )
    return [state.store.get_recording(user, order["conversion_id"]) for order in orders]


@router.post("/recordings/conversion-redo/{recording_id}")
def legacy_conversion_redo(recording_id: UUID, state: State, user: User) -> Row:
    return state.conversions.retry(user, str(recording_id))[1]


# ---------------------------------------------------------------------------------- notes


@router.get("/notes")
def list_notes(folder_id: UUID, state: State, user: User) -> list[Row]:
    return state.store.list_notes(user, str(folder_id))


@router.post("/notes")
def create_note(body: bodies.NoteWrite, state: State, user: User) -> Row:
    return state.store.create_note(user, str(body.recording_id), body.text)


@router.put("/notes")
def update_note(body: bodies.NoteWrite, state: State, user: User) -> Row:
    return state.store.update_note(user, str(body.recording_id), body.text)


@router.delete("/notes")
def delete_note(body: bodies.NoteDelete, state: State, user: User) -> Row:
    return state.store.delete_note(user, str(body.recording_id))


# ---------------------------------------------------------------------------------- stats


@router.get("/stats")
def account_stats(state: State, user: User) -> dict[str, Any]:
    return state.reports.account_stats(user)


@router.api_route("/stats/projects", methods=["GET", "POST"])
def project_stats(body: bodies.ProjectStatsRequest, state: State, user: User) -> list[Row]:
    return state.reports.project_stats(user, [str(i) for i in body.project_ids])


@router.api_route("/stats/folders", methods=["GET", "POST"])
def folder_stats(body: bodies.FolderStatsRequest, state: State, user: User) -> list[Row]:
    return state.reports.folder_stats(user, [str(i) for i in body.folder_ids])


# --------------------------------------------------------------------------------- orders


@router.post("/v2/orders")
def create_order(body: bodies.OrderRequest, state: State, user: User) -> list[Row]:
    requests = [
        ConversionRequest(
            voice_id=str(c.voice_id),
            accent_id=_id(c.accent_id),
            narration_style_id=_id(c.narration_style_id),
            semitones_correction=c.semitones_correction,
            label=c.label,
        )
        for c in body.conversions
    ]
    return state.conversions.order(
        user, str(body.original_id), requests, _id(body.calibration_id), body.use_calibration
    )


@router.post("/v2/orders/retry/{recording_id}")
def retry_order(recording_id: UUID, state: State, user: User) -> Row:
    return state.conversions.retry(user, str(recording_id))[0]


# --------------------------------------------------------------------------------- voices


@router.get("/v2/voices")
def list_voices(
    state: State,
    user: User,
    limit: int = _limit(100, default=25),
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
    limit: int = _limit(10, default=5),
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
    limit: int = _limit(100, default=0),
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
    limit: int = _limit(200),
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


# ---------------------------------------------------------------------------------- files


@router.api_route("/{file_url:path}", methods=["GET", "HEAD"])
def get_file(file_url: str, request: Request, state: State, user: User) -> FileResponse:
    """Recording, calibration and sample audio; FileResponse answers Range with 206."""
    if not file_url.startswith("files/"):
        raise not_found("Not Found: " + file_url)
    key = file_url.removeprefix("files/")
    if key.startswith("samples/"):
        path = state.sample_path(key.removeprefix("samples/"))
    else:
        ranged = request.headers.get("range", "")
        first_byte = ranged.startswith("bytes=0-") or not ranged
        path = state.store.file_path(user, key, count_listen=first_byte and request.method == "GET")
    media = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}
    return FileResponse(
        path, media_type=media.get(path.suffix.lstrip("."), "application/octet-stream")
    )
