"""What a path resolves to: a `Node`, a frozen value every filesystem call starts from.

A node knows its path, name and kind, and carries the service objects behind it (project,
folder, recording) so that callers never parse path strings again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from voicefs.api.records import Calibration, Folder, Project, Recording

# kinds (CONTRACT §5)
ROOT = "root"
PROJECT = "project"
FOLDER = "folder"
ORIGINAL = "original"
CONVERSION = "conversion"
SIDECAR = "sidecar"
CONTROL = "control"
COMPANION = "companion"
ACCOUNT = "account"

DIRECTORY_KINDS = frozenset({ROOT, PROJECT, FOLDER, SIDECAR})


@dataclass(frozen=True)
class Node:
    """One entry of the tree. `recording` is the recording itself for originals and
    conversions, and the one it belongs to for sidecars and companions. `role` says which
    virtual file a control, companion or account node is (`star`, `note`, `order`, …)."""

    path: str
    kind: str
    project: Project | None = None
    folder: Folder | None = None
    recording: Recording | None = None
    original: Recording | None = None  # inside a sidecar: the original it belongs to
    role: str | None = None
    is_directory: bool = False
    calibration: Calibration | None = None  # under /.voicefs/calibrations/

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent_path(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def child(self, name: str, kind: str, **fields: Any) -> Node:
        path = f"{self.path}/{name}" if self.path else name
        inherited = {
            "project": self.project,
            "folder": self.folder,
            "original": self.original,
            "recording": None,
            "role": None,
            "calibration": None,
            "is_directory": kind in DIRECTORY_KINDS,
        }
        return replace(self, path=path, kind=kind, **{**inherited, **fields})

    @property
    def is_audio(self) -> bool:
        return self.kind in (ORIGINAL, CONVERSION)

    @property
    def is_settled_audio(self) -> bool:
        """A finished recording: its bytes never change."""
        return self.is_audio and self.recording is not None and self.recording.state == "done"

    @property
    def service_id(self) -> str | None:
        if self.kind == PROJECT and self.project:
            return self.project.id
        if self.kind == FOLDER and self.folder:
            return self.folder.id
        if self.kind in (ORIGINAL, CONVERSION) and self.recording:
            return self.recording.id
        return None

    @property
    def created(self) -> datetime | None:
        if self.recording is not None:
            return self.recording.created_at
        if self.kind == FOLDER and self.folder is not None:
            return self.folder.created_at
        if self.kind == PROJECT and self.project is not None:
            return self.project.created_at
        return None

    @property
    def modified(self) -> datetime | None:
        if self.recording is not None:
            return self.recording.converted_at or self.recording.created_at
        if self.kind == PROJECT and self.project is not None:
            return self.project.last_recording_at or self.project.created_at
        return self.created
