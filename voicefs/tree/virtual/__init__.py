"""The files voicefs makes up: control, companion, manifest and account files (reading,
writing on close, deleting), and the rules for what writing a new file means.

`VirtualFiles` is the one door: `file(node)` is the `GeneratedFile` behind a node's role,
`writer(parent, name)` what closing a file written there does. Each kind lives in its own
module: `order`, `companions`, `manifests`, `account`, `calibrations`, `exports`, `sources`.
"""

from __future__ import annotations

import errno
import posixpath
from pathlib import Path

from voicefs.tree import names
from voicefs.tree.errors import path_error
from voicefs.tree.layout import VOICE_FAVORITE
from voicefs.tree.nodes import Node, NodeKind, Role
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.account import (
    CalibrationChoiceFile,
    CreditsFile,
    ErrorsFile,
    StatsFile,
    StatusFile,
    VoicesFile,
)
from voicefs.tree.virtual.base import GeneratedFile, Writer
from voicefs.tree.virtual.calibrations import CalibrationAudio
from voicefs.tree.virtual.companions import Companions, NoteFile, StarFile
from voicefs.tree.virtual.exports import ExportFile
from voicefs.tree.virtual.manifests import ManifestFile
from voicefs.tree.virtual.order import OrderFile, Orders
from voicefs.tree.virtual.sources import Progress, Sources
from voicefs.tree.virtual.statistics import FoldersTable, ProjectsTable
from voicefs.tree.virtual.voices import (
    AboutFile,
    FavoriteFile,
    SampleFile,
    SettingsFile,
    VoiceChanges,
)

__all__ = ["GeneratedFile", "Progress", "VirtualFiles", "Writer"]

WHAT_CAN_BE_WRITTEN = {
    NodeKind.ROOT: "at the top, make a directory to create a project",
    NodeKind.PROJECT: "in a project, make a directory to create a folder",
    NodeKind.FOLDER: "in a folder, write audio (.wav, .ogg, .mp3, .flac) to upload an original, "
    "<name>.tts.txt for text-to-speech, or X.star / X.note.txt for a recording X",
    NodeKind.SIDECAR: "in a conversions directory, write order.txt to order conversions, or "
    "X.star / X.note.txt for a conversion X",
    NodeKind.ACCOUNT: "in /.voicefs, write calibration.txt, audio in calibrations/ to create "
    "a calibration, or a voice's favorite or settings.txt in voices/<voice>/",
}
_COMPANION_SUFFIXES = ((names.STAR_SUFFIX, Role.STAR), (names.NOTE_SUFFIX, Role.NOTE))


class VirtualFiles:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.companions = Companions(tree)
        self.orders = Orders(tree)
        self.sources = Sources(tree)
        self.calibration_audio = CalibrationAudio(tree)
        self.voice_changes = VoiceChanges(tree)
        exports = ExportFile(tree)
        self._files: dict[Role, GeneratedFile] = {
            Role.STAR: StarFile(self.companions),
            Role.NOTE: NoteFile(self.companions),
            Role.ORDER: OrderFile(self.orders),
            Role.MANIFEST: ManifestFile(tree),
            Role.VOICES: VoicesFile(tree),
            Role.CREDITS: CreditsFile(tree),
            Role.STATS: StatsFile(tree),
            Role.CALIBRATION: CalibrationChoiceFile(tree),
            Role.ERRORS: ErrorsFile(tree),
            Role.STATUS: StatusFile(tree),
            Role.CALIBRATION_AUDIO: self.calibration_audio,
            Role.EXPORT: exports,
            Role.EXPORT_STARRED: exports,
            Role.VOICE_ABOUT: AboutFile(),
            Role.VOICE_SAMPLE: SampleFile(tree),
            Role.VOICE_FAVORITE: FavoriteFile(self.voice_changes),
            Role.VOICE_SETTINGS: SettingsFile(self.voice_changes),
            Role.PROJECTS_TABLE: ProjectsTable(tree),
            Role.FOLDERS_TABLE: FoldersTable(tree),
        }

    def file(self, node: Node) -> GeneratedFile:
        """The generated file a node is; EPERM for anything else (a directory, audio)."""
        generated = self._files.get(node.role) if node.role is not None else None
        if generated is None:
            raise path_error(errno.EPERM, "not a control, companion or account file", node.path)
        return generated

    def writable(self, node: Node) -> bool:
        """Whether writing the (existing) generated file at node means something."""
        generated = self._files.get(node.role) if node.role is not None else None
        return generated is not None and generated.writable

    def writer(
        self, parent: Node, name: str, existing: Node | None, progress: Progress | None = None
    ) -> Writer:
        """What closing a file written as `name` in `parent` does (CONTRACT §3–§4); refuses at
        once, with EPERM naming what can be written there, what means nothing. The writer's
        errors (a bad order line, the service's refusal) go to errors.log."""
        path = posixpath.join(parent.path, name)
        action = self._action(parent, name, path, existing, progress)

        def write(staged: Path) -> object:
            with self.tree.errors.all_errors_at(path):
                return action(staged)

        return Writer(write, action.content_matters)

    def _action(
        self, parent: Node, name: str, path: str, existing: Node | None, progress: Progress | None
    ) -> Writer:
        if existing is not None and existing.is_audio:
            raise path_error(
                errno.EPERM,
                "A recording's audio cannot be replaced (the service keeps it as uploaded); "
                "delete it first",
                path,
            )
        if existing is not None and existing.role in self._files:
            generated, target = self._files[existing.role], existing
            if not generated.writable:
                raise path_error(errno.EPERM, "this file is read-only", path)
            return Writer(lambda staged: generated.write(target, staged), generated.content_matters)
        if existing is None:
            writer = self._new_file_writer(parent, name, progress)
            if writer is not None:
                return writer
        if existing is not None and existing.is_directory:
            raise path_error(errno.EISDIR, "Is a directory", path)
        what = WHAT_CAN_BE_WRITTEN.get(parent.kind, "not a directory")
        raise path_error(errno.EPERM, f"Nothing can be written here: {what}", path)

    def _new_file_writer(self, parent: Node, name: str, progress: Progress | None) -> Writer | None:
        audio = names.split_extension(name)[1].lower() in names.AUDIO_EXTENSIONS
        if parent.kind == NodeKind.FOLDER and audio:
            return Writer(lambda staged: self.sources.upload(parent, name, staged, progress))
        if parent.kind == NodeKind.FOLDER and name.endswith(names.TTS_SUFFIX):
            return Writer(lambda staged: self.sources.write_tts(parent, name, staged))
        if parent.role == Role.CALIBRATIONS and audio:
            path = posixpath.join(parent.path, name)
            return Writer(lambda staged: self.calibration_audio.create(path, staged))
        if parent.role == Role.VOICE and name == VOICE_FAVORITE:
            return Writer(
                lambda staged: self.voice_changes.set_favorite(parent, True), content_matters=False
            )
        companion = self._new_companion(parent, name)
        if companion is not None:
            generated = self._files[companion.role or Role.STAR]
            return Writer(
                lambda staged: generated.write(companion, staged), generated.content_matters
            )
        return None

    def _new_companion(self, parent: Node, name: str) -> Node | None:
        """`X.star` or `X.note.txt` for a recording X of this directory that has none yet."""
        if parent.kind not in (NodeKind.FOLDER, NodeKind.SIDECAR):
            return None
        for suffix, role in _COMPANION_SUFFIXES:
            if name.endswith(suffix):
                recording = self.tree.recording_named(parent, name[: -len(suffix)])
                if recording is not None:
                    return parent.child(name, NodeKind.COMPANION, recording=recording, role=role)
        return None

    # -- reading and deleting ---------------------------------------------------------------

    def content(self, node: Node) -> bytes:
        with self.tree.errors_at(node.path):
            return self.file(node).read(node)

    def size(self, node: Node) -> int | None:
        with self.tree.errors_at(node.path):
            return self.file(node).size(node)

    def delete(self, node: Node) -> None:
        with self.tree.errors_at(node.path):
            self.file(node).delete(node)

    def local_file(self, node: Node) -> Path | None:
        return self.file(node).local_file(node) if node.role is not None else None
