"""What a path resolves to: a `Node`, a frozen value every filesystem call starts from.

A node knows its path, its kind and, for a generated file, its role; it carries the service
objects behind it (project, folder, recording, calibration) so that callers never parse path
strings again. The typed accessors (`project_of`, `folder_of`, …) fail with a clear error
instead of making each caller assert that an optional field is set.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from voicefs.api.records import Calibration, Folder, Project, Recording, Voice
from voicefs.tree.errors import path_error


class NodeKind(str, Enum):
    """What an entry is (CONTRACT §5: the `kind` of `ls(detail=True)`)."""

    ROOT = "root"
    PROJECT = "project"
    FOLDER = "folder"
    ORIGINAL = "original"
    CONVERSION = "conversion"
    SIDECAR = "sidecar"
    CONTROL = "control"
    COMPANION = "companion"
    ACCOUNT = "account"

    def __str__(self) -> str:
        return self.value


class Role(str, Enum):
    """Which generated file (or account directory) a control, companion or account node is."""

    STAR = "star"
    NOTE = "note"
    ORDER = "order"
    MANIFEST = "manifest"
    ACCOUNT = "account"  # the /.voicefs directory itself
    VOICES = "voices"
    CREDITS = "credits"
    STATS = "stats"
    CALIBRATION = "calibration"  # calibration.txt
    ERRORS = "errors"
    STATUS = "status"
    CALIBRATIONS = "calibrations"  # the calibrations/ directory
    CALIBRATION_AUDIO = "calibration-audio"
    EXPORTS = "exports"  # the exports/ directory
    EXPORT = "export"
    EXPORT_STARRED = "export-starred"
    VOICE_CATALOGUE = "voices"  # the voices/ directory
    VOICE = "voice"  # one voice's directory
    VOICE_ABOUT = "voice-about"
    VOICE_SAMPLE = "voice-sample"
    VOICE_FAVORITE = "voice-favorite"
    VOICE_SETTINGS = "voice-settings"
    PROJECTS_TABLE = "projects-table"  # /projects.csv
    FOLDERS_TABLE = "folders-table"  # <project>/folders.csv

    def __str__(self) -> str:
        return self.value


class SampleKind(str, Enum):
    """What a voice's sample lets you hear: an accent (speech-to-speech) or a narration
    style (text-to-speech)."""

    ACCENT = "accent"
    NARRATION_STYLE = "narration style"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample to audition: of which accent or style (by id), under which name."""

    kind: SampleKind
    id: str
    name: str


DIRECTORY_KINDS = frozenset({NodeKind.ROOT, NodeKind.PROJECT, NodeKind.FOLDER, NodeKind.SIDECAR})
AUDIO_KINDS = frozenset({NodeKind.ORIGINAL, NodeKind.CONVERSION})


@dataclass(frozen=True, slots=True)
class Node:
    """One entry of the tree. `recording` is the recording itself for originals and
    conversions, and the one it belongs to for companions and `order.txt`; `original` is
    the original whose sidecar holds the node (for the sidecar itself, too)."""

    path: str
    kind: NodeKind
    project: Project | None = None
    folder: Folder | None = None
    recording: Recording | None = None
    original: Recording | None = None
    role: Role | None = None
    is_directory: bool = False
    calibration: Calibration | None = None
    voice: Voice | None = None
    sample: Sample | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent_path(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def child(self, name: str, kind: NodeKind, **fields: Any) -> Node:
        path = f"{self.path}/{name}" if self.path else name
        inherited = {
            "project": self.project,
            "folder": self.folder,
            "original": self.original,
            "recording": None,
            "role": None,
            "calibration": None,
            "voice": self.voice,
            "sample": None,
            "is_directory": kind in DIRECTORY_KINDS,
        }
        return replace(self, path=path, kind=kind, **{**inherited, **fields})

    # -- typed access to what the node carries ---------------------------------------------

    def project_of(self) -> Project:
        if self.project is None:
            raise path_error(errno.ENOENT, "not inside a project", self.path)
        return self.project

    def folder_of(self) -> Folder:
        if self.folder is None:
            raise path_error(errno.ENOENT, "not inside a folder", self.path)
        return self.folder

    def recording_of(self) -> Recording:
        if self.recording is None:
            raise path_error(errno.ENOENT, "no recording here", self.path)
        return self.recording

    def original_of(self) -> Recording:
        if self.original is None:
            raise path_error(errno.ENOENT, "not a conversions directory", self.path)
        return self.original

    def voice_of(self) -> Voice:
        if self.voice is None:
            raise path_error(errno.ENOENT, "not a voice of the catalogue", self.path)
        return self.voice

    def sample_of(self) -> Sample:
        if self.sample is None:
            raise path_error(errno.ENOENT, "not a sample", self.path)
        return self.sample

    def calibration_of(self) -> Calibration:
        if self.calibration is None:
            raise path_error(errno.ENOENT, "not a calibration", self.path)
        return self.calibration

    # -- what the node is --------------------------------------------------------------------

    @property
    def is_audio(self) -> bool:
        return self.kind in AUDIO_KINDS

    @property
    def audio(self) -> Recording | None:
        """The recording an original or conversion node shows; None for anything else."""
        return self.recording if self.is_audio else None

    @property
    def is_settled_audio(self) -> bool:
        """A finished recording: its bytes never change."""
        return self.audio is not None and self.audio.is_done

    @property
    def service_id(self) -> str | None:
        if self.kind == NodeKind.PROJECT and self.project:
            return self.project.id
        if self.kind == NodeKind.FOLDER and self.folder:
            return self.folder.id
        if self.audio is not None:
            return self.audio.id
        return None

    @property
    def created(self) -> datetime | None:
        if self.recording is not None:
            return self.recording.created_at
        if self.calibration is not None:
            return self.calibration.created_at
        if self.kind == NodeKind.FOLDER and self.folder is not None:
            return self.folder.created_at
        if self.project is not None:
            return self.project.created_at
        return None

    @property
    def modified(self) -> datetime | None:
        """The service's time for what the node shows, never the time of the call."""
        if self.recording is not None:
            return self.recording.converted_at or self.recording.created_at
        if self.project is not None and self.kind != NodeKind.FOLDER:
            return self.project.last_recording_at or self.project.created_at
        return self.created
