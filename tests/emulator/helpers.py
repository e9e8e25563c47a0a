"""Small helpers for the emulator tests: real audio, and the API calls the tests repeat."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import requests
import soundfile as sf

from tests.emulator_process import Account, wait_until

FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}
TIMEOUT = 30


@functools.cache
def tone(ext: str = "wav", seconds: float = 1.0, hz: float = 220.0, rate: int = 22050) -> bytes:
    """A real audio file's bytes: a mono sine tone in the format of the extension."""
    t = np.arange(round(seconds * rate)) / rate
    samples = (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=FORMATS[ext])
    return buffer.getvalue()


@dataclass
class Api:
    """One account's view of the emulator: a requests session with its api-key."""

    url: str
    user_id: str
    session: requests.Session

    @classmethod
    def of(cls, account: Account) -> Api:
        return cls(account.url, account.user_id, account.session())

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a request that must succeed."""
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()

    # ------------------------------------------------------------------ library

    def project(self, name: str = "Project") -> dict[str, Any]:
        body = {"name": name, "owner": self.user_id, "models": {}}
        project: dict[str, Any] = self.ok("POST", "/api/projects", json=body)
        return project

    def folder(self, project_id: str, name: str = "Folder") -> dict[str, Any]:
        body = {"name": name, "project_id": project_id}
        folder: dict[str, Any] = self.ok("POST", "/api/folders", json=body)
        return folder

    def new_folder(self) -> dict[str, Any]:
        """A folder in a new project."""
        return self.folder(self.project()["id"])

    def upload(
        self, folder_id: str, data: bytes, filename: str = "take.wav", **form: str
    ) -> requests.Response:
        """POST /api/recordings as a multipart form, as the service's upload expects."""
        fields = {"parent_folder_id": folder_id, "microphone": "file", **form}
        return self.post("/api/recordings", data=fields, files={"data": (filename, data)})

    def original(self, folder_id: str, ext: str = "wav", **form: str) -> dict[str, Any]:
        """Uploads a 1 s tone; returns the new recording."""
        response = self.upload(folder_id, tone(ext), f"tone.{ext}", **form)
        assert response.status_code == 200, response.text
        recording: dict[str, Any] = response.json()
        return recording

    def recordings(self, folder_id: str) -> list[dict[str, Any]]:
        page = self.ok("GET", "/api/recordings", params={"folder_id": folder_id, "limit": 200})
        items: list[dict[str, Any]] = page["list"]
        return items

    def recordings_of_project(self, project_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            params = {"project_id": project_id, "limit": 200, "offset": len(items)}
            page = self.ok("GET", "/api/recordings", params=params)
            items += page["list"]
            if len(items) >= page["pagination"]["count"]:
                return items

    def seed_layout(
        self, layout: dict[str, dict[str, int]], conversions: int = 1
    ) -> dict[str, int]:
        """Projects of folders of short originals ({project: {folder: originals}}), with the
        first `conversions` folders' first original converted; returns recordings per
        project."""
        sound = tone("wav", seconds=0.1)
        per_project = {}
        for project_name, folders in layout.items():
            project = self.project(project_name)
            for folder_name, count in folders.items():
                folder = self.folder(project["id"], folder_name)
                uploads = [
                    self.upload(folder["id"], sound, f"take {n}.wav").json() for n in range(count)
                ]
                if conversions > 0 and uploads:
                    self.convert(uploads[0]["id"])
                    conversions -= 1
            per_project[project_name] = len(self.recordings_of_project(project["id"]))
        return per_project

    def download(self, recording: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.get(recording["url"], **kwargs)

    def convert(self, original_id: str, voice_name: str = "Alice") -> dict[str, Any]:
        """Orders one conversion of an original and waits until it is done."""
        voices = self.ok("GET", "/api/v2/voices/search", params={"name": voice_name})
        voice = next(v for v in voices if v["name"] == voice_name)
        body = {"original_id": original_id, "conversions": [{"voice_id": voice["id"]}]}
        (order,) = self.ok("POST", "/api/v2/orders", json=body)

        def finished() -> dict[str, Any] | None:
            conversion = self.ok("GET", f"/api/recordings/{order['conversion_id']}")
            assert conversion["state"] != "error", conversion
            return conversion if conversion["state"] == "done" else None

        done: dict[str, Any] = wait_until(finished, timeout=20)
        return done


def assert_detail(response: requests.Response, status: int) -> Any:
    """Asserts the status and the service's error shape; returns the `detail`."""
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail
    return detail


def assert_validation_error(response: requests.Response, field: str) -> None:
    """FastAPI's HTTPValidationError: 422 with a list of errors, one of them about field."""
    detail = assert_detail(response, 422)
    assert isinstance(detail, list)
    assert any(field in error["loc"] for error in detail), detail
