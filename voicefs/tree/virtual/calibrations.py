"""`/.voicefs/calibrations/`: one audio file per calibration; writing an audio file there
creates one (named after the file's stem), deleting a file deletes its calibration."""

from __future__ import annotations

import posixpath
from pathlib import Path

from voicefs.api.records import Calibration
from voicefs.tree import names
from voicefs.tree.audio_header import check_audio_file
from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile

SIZE_TTL = 86400.0  # a calibration's audio never changes


def calibration_url(calibration: Calibration) -> str:
    """Where a calibration's audio is served: its `key` is the file path under /api/."""
    key = str(calibration.raw.get("key") or "")
    return key if key.startswith(("http://", "https://", "/")) else f"/api/{key}"


class CalibrationAudio(GeneratedFile):
    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        with self.tree.errors_at(node.path):
            return self.tree.client.download(calibration_url(node.calibration_of()))

    def size(self, node: Node) -> int:
        """One header request, then cached: listing calibrations/ costs no download."""
        calibration = node.calibration_of()

        def probe() -> int:
            with (
                self.tree.errors_at(node.path),
                self.tree.client.open_url(calibration_url(calibration)) as streamed,
            ):
                return streamed.size if streamed.size is not None else len(streamed.read())

        return self.tree.cache.get(("calibration-size", calibration.id), probe, lifetime=SIZE_TTL)

    def delete(self, node: Node) -> None:
        with self.tree.errors_at(node.path):
            self.tree.client.delete_calibration(node.calibration_of().id)
        self.tree.cache.invalidate(("calibrations",))

    def create(self, path: str, staged: Path) -> None:
        """A new calibration from audio written as `path` in calibrations/."""
        name = posixpath.basename(path)
        stem, extension = names.split_extension(name)
        check_audio_file(path, extension, staged)
        with self.tree.errors_at(path):
            self.tree.client.create_calibration(names.unescape(stem), staged, file_name=name)
        self.tree.cache.invalidate(("calibrations",))
