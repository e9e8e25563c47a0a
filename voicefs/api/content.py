"""What an account holds: projects, folders, recordings, notes, orders and their audio."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from voicefs.api.core import ClientCore, created_since
from voicefs.api.downloads import CHUNK_SIZE, iter_range, read_range
from voicefs.api.errors import AmbiguousOutcomeError, ServiceUnavailableError
from voicefs.api.limiter import SLOW
from voicefs.api.limits import PAGE_LIMITS
from voicefs.api.records import ConversionRequest, Folder, Note, Order, Project, Recording
from voicefs.api.uploads import Progress, UploadInput, UploadSource, multipart_body

log = logging.getLogger("voicefs.api")


class ContentMixin(ClientCore):
    """Projects, folders, recordings, notes and orders."""

    # -- projects -----------------------------------------------------------------------------

    def list_projects(self) -> Iterator[Project]:
        """All projects, oldest first (so pages do not shift when new ones are created)."""
        return self._paginate(
            "/api/projects",
            {"sort": "created_at", "direction": "asc"},
            PAGE_LIMITS["projects"],
            Project.from_json,
            "list projects",
        )

    def project_by_url(self, project_url: str) -> Project:
        """The project whose web app URL this is (GET /api/projects/by-url)."""
        operation = f"find the project at {project_url}"
        data = self._call(
            "GET", "/api/projects/by-url", operation=operation, params={"project_url": project_url}
        )
        return self._parse(Project.from_json, data, operation)

    def create_project(self, name: str, owner: str | None = None) -> Project:
        """Creates a project owned by `owner` (default: the logged-in user); exactly once."""
        operation = f"create project {name!r}"
        self._check_name(name, operation)
        body = {"name": name, "owner": owner or self.user_id(), "models": {}}

        def send() -> Project:
            data = self._call(
                "POST", "/api/projects", operation=operation, json=body, idempotent=False
            )
            return self._parse(Project.from_json, data, operation)

        def find(floor: float | None) -> Project | None:
            found = [
                p
                for p in self.list_projects()
                if p.name == name and created_since(p.created_at, floor)
            ]
            return found[-1] if found else None

        return self._create(operation, send, find)

    def rename_project(self, project_id: str, name: str) -> Project:
        operation = f"rename project {project_id} to {name!r}"
        self._check_name(name, operation)
        data = self._call(
            "PATCH", f"/api/projects/{project_id}", operation=operation, json={"name": name}
        )
        return self._parse(Project.from_json, data, operation)

    def delete_project(self, project_id: str) -> None:
        self._call(
            "DELETE",
            f"/api/projects/{project_id}",
            operation=f"delete project {project_id}",
            missing_ok_on_retry=True,
        )

    # -- folders ------------------------------------------------------------------------------

    def list_folders(self, project_id: str) -> Iterator[Folder]:
        """All folders of a project, oldest first."""
        return self._paginate(
            "/api/folders",
            {"project_id": project_id, "direction": "asc"},
            PAGE_LIMITS["folders"],
            Folder.from_json,
            f"list folders of project {project_id}",
        )

    def get_folder(self, folder_id: str) -> Folder:
        operation = f"get folder {folder_id}"
        data = self._call("GET", f"/api/folders/{folder_id}", operation=operation)
        return self._parse(Folder.from_json, data, operation)

    def create_folder(self, project_id: str, name: str) -> Folder:
        """Creates a folder in a project; exactly once."""
        operation = f"create folder {name!r} in project {project_id}"
        self._check_name(name, operation)
        body = {"name": name, "project_id": project_id}

        def send() -> Folder:
            data = self._call(
                "POST", "/api/folders", operation=operation, json=body, idempotent=False
            )
            return self._parse(Folder.from_json, data, operation)

        def find(floor: float | None) -> Folder | None:
            found = [
                f
                for f in self.list_folders(project_id)
                if f.name == name and created_since(f.created_at, floor)
            ]
            return found[-1] if found else None

        return self._create(operation, send, find)

    def rename_folder(self, folder_id: str, name: str) -> Folder:
        operation = f"rename folder {folder_id} to {name!r}"
        self._check_name(name, operation)
        data = self._call(
            "PATCH", f"/api/folders/{folder_id}", operation=operation, json={"name": name}
        )
        return self._parse(Folder.from_json, data, operation)

    def delete_folder(self, folder_id: str) -> None:
        self._call(
            "DELETE",
            f"/api/folders/{folder_id}",
            operation=f"delete folder {folder_id}",
            missing_ok_on_retry=True,
        )

    # -- recordings ---------------------------------------------------------------------------

    def list_recordings(
        self,
        *,
        folder_id: str | None = None,
        project_id: str | None = None,
        direction: str = "asc",
    ) -> Iterator[Recording]:
        """Originals and conversions of a folder, or of a whole project in ceil(n/200)
        requests."""
        if (folder_id is None) == (project_id is None):
            raise TypeError("list_recordings() needs exactly one of folder_id, project_id")
        params = {"folder_id": folder_id} if folder_id else {"project_id": project_id}
        where = f"folder {folder_id}" if folder_id else f"project {project_id}"
        return self._paginate(
            "/api/recordings",
            {**params, "direction": direction},
            PAGE_LIMITS["recordings"],
            Recording.from_json,
            f"list recordings of {where}",
        )

    def list_originals(self, folder_id: str, direction: str = "asc") -> Iterator[Recording]:
        return self._paginate(
            "/api/recordings/originals",
            {"folder_id": folder_id, "direction": direction},
            PAGE_LIMITS["recordings"],
            Recording.from_json,
            f"list originals of {folder_id}",
        )

    def list_conversions(self, original_id: str, direction: str = "asc") -> Iterator[Recording]:
        return self._paginate(
            "/api/recordings/conversions",
            {"original_id": original_id, "direction": direction},
            PAGE_LIMITS["recordings"],
            Recording.from_json,
            f"list conversions of {original_id}",
        )

    def get_recording(self, recording_id: str) -> Recording:
        operation = f"get recording {recording_id}"
        data = self._call("GET", f"/api/recordings/{recording_id}", operation=operation)
        return self._parse(Recording.from_json, data, operation)

    def upload_recording(
        self,
        folder_id: str,
        source: UploadInput,
        file_name: str | None = None,
        label: str | None = None,
        microphone: str = "file",
        progress: Progress | None = None,
    ) -> Recording:
        """Uploads an original, streamed from disk (or spooled to disk first); exactly once:
        after a lost answer the folder is checked for the file (name and size) first.
        `progress` is told how many bytes of the file were sent so far."""
        upload = UploadSource(source, file_name, progress)
        operation = f"upload {upload.file_name!r} to folder {folder_id}"
        if label is not None:
            self._check_name(label, operation)
        fields = {"parent_folder_id": folder_id, "microphone": microphone, "label": label}
        with upload.opened():

            def send() -> Recording:
                data = self._call(
                    "POST",
                    "/api/recordings",
                    operation=operation,
                    kind=SLOW,
                    body=lambda: multipart_body(fields, "data", upload),
                    idempotent=False,
                )
                return self._parse(Recording.from_json, data, operation)

            def find(floor: float | None) -> Recording | None:
                for rec in self.list_originals(folder_id, direction="desc"):
                    if not created_since(rec.created_at, floor):
                        return None  # newest first: everything further is older
                    if (
                        rec.file_name == upload.file_name
                        and rec.size in (None, upload.size)
                        and rec.label == label
                    ):
                        return rec
                return None

            return self._create(operation, send, find)

    def update_recording(
        self, recording_id: str, *, label: str | None = None, starred: bool | None = None
    ) -> Recording:
        """Relabels and/or stars a recording (PATCH: fields not given stay)."""
        operation = f"update recording {recording_id}"
        body: dict[str, Any] = {}
        if label is not None:
            self._check_name(label, operation)
            body["label"] = label
        if starred is not None:
            body["starred"] = starred
        data = self._call(
            "PATCH", f"/api/recordings/{recording_id}", operation=operation, json=body
        )
        return self._parse(Recording.from_json, data, operation)

    def delete_recording(self, recording_id: str) -> None:
        """Deletes a recording (an original with its conversions)."""
        self._call(
            "DELETE",
            f"/api/recordings/{recording_id}",
            operation=f"delete recording {recording_id}",
            missing_ok_on_retry=True,
        )

    def create_tts(
        self, folder_id: str, text: str, language: str | None = None, label: str | None = None
    ) -> Recording:
        """A text-to-speech original (POST /api/v2/recordings/tts); exactly once."""
        operation = f"text-to-speech {label or text[:20]!r} in folder {folder_id}"
        if label is not None:
            self._check_name(label, operation)
        body: dict[str, Any] = {"parent_folder_id": folder_id, "text": text}
        if language:
            body["text_language"] = language
        if label is not None:
            body["label"] = label

        def send() -> Recording:
            data = self._call(
                "POST",
                "/api/v2/recordings/tts",
                operation=operation,
                kind=SLOW,
                json=body,
                idempotent=False,
            )
            return self._parse(Recording.from_json, data, operation)

        def find(floor: float | None) -> Recording | None:
            for rec in self.list_originals(folder_id, direction="desc"):
                if not created_since(rec.created_at, floor):
                    return None
                if rec.tts and rec.text == text and rec.label == label:
                    return rec
            return None

        return self._create(operation, send, find)

    # -- orders -------------------------------------------------------------------------------

    def order(
        self,
        original_id: str,
        conversions: Iterable[ConversionRequest | Mapping[str, Any]],
        calibration_id: str | None = None,
        use_calibration: bool | None = None,
        known_conversions: Collection[str] | None = None,
    ) -> list[Order]:
        """Orders conversions of an original (POST /api/v2/orders); each exactly once.

        After a lost answer the original's conversions are compared with those that existed
        before the order (`known_conversions`, the ids the caller has seen; listed first when
        not given): requests already carried out are not repeated (their Order is rebuilt
        from the conversion), the rest are ordered again.
        """
        pending = [
            c if isinstance(c, ConversionRequest) else ConversionRequest(**c) for c in conversions
        ]
        operation = f"order {len(pending)} conversion(s) of {original_id}"
        for spec in pending:
            if spec.label is not None:
                self._check_name(spec.label, operation)
        if known_conversions is None:
            known = {c.id for c in self.list_conversions(original_id)}
        else:
            known = set(known_conversions)
        done: list[Order] = []
        attempt = 0
        while True:
            attempt += 1
            body: dict[str, Any] = {
                "original_id": original_id,
                "conversions": [c.to_json() for c in pending],
            }
            if calibration_id is not None:
                body["calibration_id"] = calibration_id
            if use_calibration is not None:
                body["use_calibration"] = use_calibration
            try:
                data = self._call(
                    "POST",
                    "/api/v2/orders",
                    operation=operation,
                    kind=SLOW,
                    json=body,
                    idempotent=False,
                )
            except AmbiguousOutcomeError as exc:
                if attempt > self.max_retries:
                    raise self._gave_up(exc, operation, attempt) from exc
                self._transport.sleep_backoff(attempt)
                try:
                    recovered, pending = self._match_conversions(original_id, pending, known)
                except ServiceUnavailableError as lookup:
                    raise self._gave_up(lookup, operation, attempt, checking=True) from exc
                known.update(o.conversion_id for o in recovered)
                done.extend(recovered)
                if recovered:
                    log.info("%s: %d conversion(s) found done", operation, len(recovered))
                if not pending:
                    return done
                continue
            if not isinstance(data, list):
                data = [data]
            return done + [self._parse(Order.from_json, item, operation) for item in data]

    def _match_conversions(
        self, original_id: str, wanted: list[ConversionRequest], known: set[str]
    ) -> tuple[list[Order], list[ConversionRequest]]:
        """Splits `wanted` into conversions that exist already (as Orders) and missing ones."""
        fresh = [c for c in self.list_conversions(original_id) if c.id not in known]
        found: list[Order] = []
        missing: list[ConversionRequest] = []
        for spec in wanted:
            match = next(
                (
                    c
                    for c in fresh
                    if c.model_id == spec.voice_id and (spec.label is None or c.label == spec.label)
                ),
                None,
            )
            if match is None:
                missing.append(spec)
            else:
                fresh.remove(match)
                found.append(Order.recovered(match))
        return found, missing

    def retry_conversion(self, conversion_id: str) -> Order:
        """Retries a failed conversion (POST /api/v2/orders/retry/{id}); exactly once: after a
        lost answer, a conversion no longer in `error` state counts as retried."""
        operation = f"retry conversion {conversion_id}"

        def send() -> Order:
            data = self._call(
                "POST",
                f"/api/v2/orders/retry/{conversion_id}",
                operation=operation,
                kind=SLOW,
                idempotent=False,
            )
            return self._parse(Order.from_json, data, operation)

        def find(floor: float | None) -> Order | None:
            conversion = self.get_recording(conversion_id)
            return None if conversion.is_failed else Order.recovered(conversion)

        return self._create(operation, send, find)

    # -- notes --------------------------------------------------------------------------------

    def list_notes(self, folder_id: str) -> list[Note]:
        operation = f"list notes of folder {folder_id}"
        data = self._call("GET", "/api/notes", operation=operation, params={"folder_id": folder_id})
        return [self._parse(Note.from_json, item, operation) for item in data or []]

    def create_note(self, recording_id: str, text: str) -> Note:
        """Adds a note to a recording; exactly once (the recording is read after a lost
        answer)."""
        operation = f"add a note to recording {recording_id}"
        body = {"recording_id": recording_id, "text": text}

        def send() -> Note:
            data = self._call(
                "POST", "/api/notes", operation=operation, json=body, idempotent=False
            )
            return self._parse(Note.from_json, data, operation)

        def find(floor: float | None) -> Note | None:
            note = self.get_recording(recording_id).note
            return note if note is not None and note.text == text else None

        return self._create(operation, send, find)

    def update_note(self, recording_id: str, text: str) -> Note:
        operation = f"update the note of recording {recording_id}"
        data = self._call(
            "PUT",
            "/api/notes",
            operation=operation,
            json={"recording_id": recording_id, "text": text},
        )
        return self._parse(Note.from_json, data, operation)

    def delete_note(self, recording_id: str) -> None:
        self._call(
            "DELETE",
            "/api/notes",
            operation=f"delete the note of {recording_id}",
            json={"recording_id": recording_id},
            missing_ok_on_retry=True,
        )

    # -- audio --------------------------------------------------------------------------------

    def iter_download(
        self, url: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Bytes [start, end) of a recording's `url` as chunks (HTTP Range; resumes after a
        dropped connection). Another origin's URL is fetched without credentials."""
        return iter_range(
            self._transport, url, start, end, chunk_size=chunk_size, operation=f"download {url}"
        )

    def download(self, url: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes [start, end) of a recording's `url` in memory (small ranges, whole files),
        received straight into the returned object when the response gives its length."""
        return read_range(self._transport, url, start, end, operation=f"download {url}")
