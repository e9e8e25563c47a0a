"""The account around the content: session and API keys, voices, calibrations, credits,
statistics and exports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from voicefs.api.auth import Credentials, Secret
from voicefs.api.core import ClientCore, created_since
from voicefs.api.downloads import StreamedFile
from voicefs.api.errors import invalid_response
from voicefs.api.limiter import SLOW
from voicefs.api.limits import PAGE_LIMITS
from voicefs.api.records import Calibration, Credits, User, Voice
from voicefs.api.uploads import UploadInput, UploadSource, multipart_body


class AccountMixin(ClientCore):
    """Login, API keys, voices, calibrations, credits, statistics, exports."""

    # -- session and keys ---------------------------------------------------------------------

    def login(self) -> User:
        """Starts a session now (it also starts by itself on the first request)."""
        data = self._transport.login()
        return self._parse(User.from_json, data, "log in")

    def logout(self) -> None:
        """Ends the session (POST /api/logout)."""
        self._call("POST", "/api/logout", operation="log out")
        self._transport.forget_session()

    def create_api_key(self, expires_at: datetime | None = None) -> str:
        """Creates the account's API key (replacing the previous one) and returns it.

        A client authenticated by key switches to the new key, since the old one stops working.
        """
        body = {"expires_at": expires_at.isoformat()} if expires_at else {}
        data = self._call("POST", "/api/api-key", operation="create an API key", json=body)
        key = str((data or {}).get("api_key") or "")
        if not key:
            raise invalid_response("create an API key", ValueError("no api_key in the answer"))
        if not self._credentials.uses_session:
            self._credentials = Credentials(
                api_key=Secret(key), source="create_api_key", url=self._credentials.url
            )
            self._transport.set_api_key(self._credentials)
        return key

    def delete_api_key(self) -> None:
        """Deletes the account's API key (DELETE /api/api-key)."""
        self._call(
            "DELETE", "/api/api-key", operation="delete the API key", missing_ok_on_retry=True
        )

    # -- voices -------------------------------------------------------------------------------

    def list_voices(self, **filters: Any) -> Iterator[Voice]:
        """All voices available to the account (100 a page); filters as the API names them
        (`visibility`, `species`, `gender`, `age_group`, `pitch_group`, `nationality`,
        `sort`, `direction`)."""
        return self._paginate(
            "/api/v2/voices", filters, PAGE_LIMITS["voices"], Voice.from_json, "list voices"
        )

    def search_voices(self, name: str, limit: int = PAGE_LIMITS["voice_search"]) -> list[Voice]:
        """Voices whose name matches (the service returns at most 10)."""
        operation = f"search voices named {name!r}"
        data = self._call(
            "GET",
            "/api/v2/voices/search",
            operation=operation,
            params={"name": name, "limit": min(limit, PAGE_LIMITS["voice_search"])},
        )
        items = data.get("list", []) if isinstance(data, dict) else data or []
        return [self._parse(Voice.from_json, item, operation) for item in items]

    def set_voice_favorite(self, voice_id: str, favorite: bool = True) -> Voice:
        operation = f"mark voice {voice_id} {'favorite' if favorite else 'not favorite'}"
        data = self._call(
            "POST",
            f"/api/v2/voices/favorite/{voice_id}",
            operation=operation,
            json={"favorite": favorite},
        )
        return self._parse(Voice.from_json, data, operation)

    def set_voice_settings(
        self,
        voice_id: str,
        *,
        accent_id: str | None = None,
        narration_style_id: str | None = None,
        semitones_correction: float | None = None,
    ) -> Voice:
        operation = f"change the settings of voice {voice_id}"
        body: dict[str, Any] = {"voice_id": voice_id}
        for key, value in (
            ("accent_id", accent_id),
            ("narration_style_id", narration_style_id),
            ("semitones_correction", semitones_correction),
        ):
            if value is not None:
                body[key] = value
        data = self._call("POST", "/api/v2/voices/settings", operation=operation, json=body)
        return self._parse(Voice.from_json, data, operation)

    def accent_samples(self, accent_id: str) -> dict[str, str]:
        """{label: audio URL} of the samples of an accent (GET /api/v2/accents/samples)."""
        return self._samples("/api/v2/accents/samples", {"accent_id": accent_id}, "accent")

    def narration_style_samples(self, narration_style_id: str) -> dict[str, str]:
        """{label: audio URL} of the samples of a narration style."""
        return self._samples(
            "/api/v2/narration-styles/samples",
            {"narration_style_id": narration_style_id},
            "narration style",
        )

    def _samples(self, path: str, params: dict[str, str], what: str) -> dict[str, str]:
        operation = f"list the samples of {what} {next(iter(params.values()))}"
        data = self._call("GET", path, operation=operation, params=params)
        samples = data.get("samples") if isinstance(data, dict) else None
        if not isinstance(samples, dict):
            raise invalid_response(operation, ValueError("no samples in the answer"))
        return {str(label): str(url) for label, url in samples.items() if url}

    # -- calibrations -------------------------------------------------------------------------

    def list_calibrations(self) -> Iterator[Calibration]:
        return self._paginate(
            "/api/calibration",
            {},
            PAGE_LIMITS["calibrations"],
            Calibration.from_json,
            "list calibrations",
        )

    def get_calibration(self, calibration_id: str) -> Calibration:
        operation = f"get calibration {calibration_id}"
        data = self._call("GET", f"/api/calibration/{calibration_id}", operation=operation)
        return self._parse(Calibration.from_json, data, operation)

    def create_calibration(
        self, name: str, source: UploadInput, file_name: str | None = None
    ) -> Calibration:
        """Creates a calibration from an audio file (a slow request); exactly once, by name."""
        upload = UploadSource(source, file_name)
        operation = f"create calibration {name!r}"
        self._check_name(name, operation)
        with upload.opened():

            def send() -> Calibration:
                data = self._call(
                    "POST",
                    "/api/calibration",
                    operation=operation,
                    kind=SLOW,
                    body=lambda: multipart_body({"name": name}, "data", upload),
                    idempotent=False,
                )
                return self._parse(Calibration.from_json, data, operation)

            def find(floor: float | None) -> Calibration | None:
                found = [
                    c
                    for c in self.list_calibrations()
                    if c.name == name and created_since(c.created_at, floor)
                ]
                return found[-1] if found else None

            return self._create(operation, send, find)

    def enable_calibration(self, calibration_id: str) -> Calibration:
        operation = f"enable calibration {calibration_id}"
        data = self._call("PUT", f"/api/calibration/{calibration_id}/enable", operation=operation)
        return self._parse(Calibration.from_json, data, operation)

    def use_auto_calibration(self) -> dict[str, Any]:
        """Makes `auto` the default calibration; returns the user profile."""
        data = self._call("POST", "/api/calibration/auto", operation="enable auto calibration")
        return dict(data or {})

    def rename_calibration(self, calibration_id: str, name: str) -> Calibration:
        operation = f"rename calibration {calibration_id} to {name!r}"
        self._check_name(name, operation)
        data = self._call(
            "PATCH", f"/api/calibration/{calibration_id}", operation=operation, json={"name": name}
        )
        return self._parse(Calibration.from_json, data, operation)

    def delete_calibration(self, calibration_id: str) -> None:
        self._call(
            "DELETE",
            f"/api/calibration/{calibration_id}",
            operation=f"delete calibration {calibration_id}",
            missing_ok_on_retry=True,
        )

    # -- credits, statistics, exports ---------------------------------------------------------

    def credits(self) -> Credits:
        data = self._call("GET", "/api/credits", operation="read credits")
        return self._parse(Credits.from_json, data, "read credits")

    def stats(self) -> dict[str, Any]:
        """The account's statistics (GET /api/stats) as the service sends them."""
        return dict(self._call("GET", "/api/stats", operation="read statistics") or {})

    def project_stats(self, project_ids: Sequence[str]) -> list[dict[str, Any]]:
        # The OpenAPI file says POST, the reference GET with a body; POST carries a body
        # everywhere, and a read is safe to retry.
        data = self._call(
            "POST",
            "/api/stats/projects",
            operation="read project statistics",
            json={"project_ids": list(project_ids)},
        )
        return list(data or [])

    def folder_stats(self, folder_ids: Sequence[str]) -> list[dict[str, Any]]:
        data = self._call(
            "POST",
            "/api/stats/folders",
            operation="read folder statistics",
            json={"folder_ids": list(folder_ids)},
        )
        return list(data or [])

    def export_project(self, project_id: str, starred_only: bool = False) -> StreamedFile:
        """The project's zip export as an open stream (`filename`, `size`, `iter_chunks()`)."""
        query = "?starred_only=true" if starred_only else ""
        return self.open_url(
            f"/api/projects/{project_id}/export{query}",
            operation=f"export project {project_id}",
            kind=SLOW,
        )

    def export_recording(self, original_id: str, starred_only: bool = False) -> StreamedFile:
        """An original's conversions as a zip stream (GET /api/recordings/export)."""
        query = f"?original_id={original_id}" + ("&starred_only=true" if starred_only else "")
        return self.open_url(
            f"/api/recordings/export{query}", operation=f"export recording {original_id}", kind=SLOW
        )
