"""The service's endpoints: each one parses its request and calls the store. Nothing more."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from voicefs.emulator import bodies
from voicefs.emulator.conversions import ConversionRequest
from voicefs.emulator.errors import bad_request, not_found
from voicefs.emulator.route_common import Direction, Offset, State, User, limit, optional_id
from voicefs.emulator.store import Row

router = APIRouter(prefix="/api")


def _zip_response(path: Any, filename: str) -> FileResponse:
    return FileResponse(
        path,
        media_type="application/zip",
        filename=filename,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


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
    limit: int = limit(100),
    offset: Offset = 0,
    sort: Annotated[str, Query(pattern="^(name|created_at|last_recording_at)$")] = "created_at",
    direction: Direction = "desc",
    owner: UUID | None = None,
) -> dict[str, Any]:
    return state.store.list_projects(user, limit, offset, sort, direction, optional_id(owner))


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
    limit: int = limit(200),
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
    limit: int = limit(200),
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
        project_id=optional_id(project_id),
        folder_id=optional_id(folder_id),
    )


@router.get("/recordings/originals")
def list_originals(
    folder_id: UUID,
    state: State,
    user: User,
    limit: int = limit(200),
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
    limit: int = limit(200),
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
        optional_id(body.tts_voice_id),
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
        user, str(body.original_id), requests, optional_id(body.calibration_id), False
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


# ---------------------------------------------------------------------------------- files

# Its own router, included after every other: its path takes whatever they did not.
files_router = APIRouter(prefix="/api")


@files_router.api_route("/{file_url:path}", methods=["GET", "HEAD"])
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
