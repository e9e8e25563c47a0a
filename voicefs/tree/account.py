"""`/.voicefs/`: the account as files (CONTRACT §2).

voices.csv, credits.json, stats.json, calibration.txt and errors.log are generated on read;
`calibrations/` holds one audio file per calibration (write one to create it, delete it to
delete the calibration); `exports/` holds each project's zip export, fetched when opened.
"""

from __future__ import annotations

import errno
import json
import posixpath
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicefs.api.errors import InvalidRequestError
from voicefs.api.records import Calibration
from voicefs.tree import formats, names
from voicefs.tree.audio_header import HEADER_BYTES, check_audio
from voicefs.tree.errors import errors_at
from voicefs.tree.nodes import ACCOUNT, Node
from voicefs.tree.roles import Role, read_text

if TYPE_CHECKING:  # VirtualFiles composes this class
    from voicefs.tree.controls import VirtualFiles

CALIBRATIONS = "calibrations"
EXPORTS = "exports"
ERRORS_KEPT = 200
FILES = {
    "voices.csv": "voices",
    "credits.json": "credits",
    "stats.json": "stats",
    "calibration.txt": "calibration",
    "errors.log": "errors",
}


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode()


class AccountFiles:
    """The roles and the listing of the account directory, for `VirtualFiles`."""

    def __init__(self, virtual: VirtualFiles) -> None:
        self.virtual = virtual
        self.tree = virtual.tree
        self.client = virtual.client
        self.errors: deque[str] = deque(maxlen=ERRORS_KEPT)
        self._exports: dict[tuple[str, bool], tuple[Path, float]] = {}
        self._exports_lock = threading.Lock()
        self._scratch = tempfile.TemporaryDirectory(prefix="voicefs-exports-")

    def roles(self) -> dict[str, Role]:
        return {
            "voices": Role(lambda node: formats.voices_csv(self.virtual.voices())),
            "credits": Role(lambda node: _json(self.client.credits().raw)),
            "stats": Role(lambda node: _json(self.client.stats())),
            "calibration": Role(self._read_calibration, self._write_calibration),
            "errors": Role(lambda node: "".join(f"{line}\n" for line in self.errors).encode()),
            "calibration-audio": Role(
                self._read_calibration_audio, delete=self._delete_calibration
            ),
            "export": Role(lambda node: self.export_path(node).read_bytes()),
            "export-starred": Role(lambda node: self.export_path(node).read_bytes()),
        }

    def record_error(self, message: str) -> None:
        """What errors.log shows: the mount records its errors here (fsspec leaves it empty)."""
        self.errors.append(message)

    # ------------------------------------------------------------------- listing

    def children(self, node: Node) -> list[Node]:
        if node.role == CALIBRATIONS:
            return self._calibration_nodes(node)
        if node.role == EXPORTS:
            return self._export_nodes(node)
        files = [node.child(name, ACCOUNT, role=role) for name, role in FILES.items()]
        directories = [
            node.child(name, ACCOUNT, role=name, is_directory=True)
            for name in (CALIBRATIONS, EXPORTS)
        ]
        return [*files, *directories]

    def _calibration_nodes(self, node: Node) -> list[Node]:
        calibrations = self.virtual.calibrations()
        assigned = names.assign_names(
            [
                names.Named(names.escape(c.name) + self._extension(c), c.id, c.created_at)
                for c in calibrations
            ]
        )
        return [
            node.child(assigned[c.id], ACCOUNT, role="calibration-audio", calibration=c)
            for c in calibrations
        ]

    def _export_nodes(self, node: Node) -> list[Node]:
        projects = self.tree.projects()
        assigned = self.tree.directory_names(projects)
        nodes = []
        for project in projects:
            for suffix, role in (".zip", "export"), (".starred.zip", "export-starred"):
                name = assigned[project.id] + suffix
                nodes.append(node.child(name, ACCOUNT, role=role, project=project))
        return nodes

    @staticmethod
    def _extension(calibration: Calibration) -> str:
        return names.extension_of(str(calibration.raw.get("key") or ""))

    def size(self, node: Node) -> int | None:
        """Sizes that reading would cost a download to learn: a calibration's audio (one
        header request, then cached), an export (None until it was fetched)."""
        if node.role == "calibration-audio" and node.calibration is not None:
            return self._calibration_size(node)
        if node.role in ("export", "export-starred") and node.project is not None:
            fetched = self._fresh_export((node.project.id, node.role == "export-starred"))
            return fetched.stat().st_size if fetched is not None else None
        return len(self.virtual.content(node))

    # --------------------------------------------------------------- calibration

    def _calibration_url(self, calibration: Calibration) -> str:
        key = str(calibration.raw.get("key") or "")
        return key if key.startswith(("http://", "https://", "/")) else f"/api/{key}"

    def _calibration_size(self, node: Node) -> int:
        assert node.calibration is not None
        calibration = node.calibration

        def probe() -> int:
            with (
                errors_at(node.path),
                self.client.open_url(self._calibration_url(calibration)) as f,
            ):
                return f.size if f.size is not None else len(f.read())

        return self.tree.cache.get(("calibration-size", calibration.id), probe, lifetime=86400)

    def _read_calibration_audio(self, node: Node) -> bytes:
        assert node.calibration is not None
        with errors_at(node.path):
            return self.client.download(self._calibration_url(node.calibration))

    def _delete_calibration(self, node: Node) -> None:
        assert node.calibration is not None
        with errors_at(node.path):
            self.client.delete_calibration(node.calibration.id)
        self.tree.cache.invalidate(("calibrations",))

    def create_calibration(self, path: str, staged: Path) -> None:
        name = posixpath.basename(path)
        stem, extension = posixpath.splitext(name)
        with staged.open("rb") as handle:
            check_audio(path, extension, handle.read(HEADER_BYTES))
        with errors_at(path):
            self.client.create_calibration(names.unescape(stem), staged, file_name=name)
        self.tree.cache.invalidate(("calibrations",))

    def _read_calibration(self, node: Node) -> bytes:
        enabled = next((c for c in self.virtual.calibrations() if c.enabled), None)
        return f"{enabled.name if enabled else formats.AUTO}\n".encode()

    def _write_calibration(self, node: Node, staged: Path) -> None:
        wanted = read_text(node.path, staged).strip()
        calibrations = self.virtual.calibrations()
        with errors_at(node.path):
            if wanted.casefold() == formats.AUTO:
                self.client.use_auto_calibration()
            else:
                match = [c for c in calibrations if wanted in (c.id, c.name)]
                if not match:
                    known = ", ".join(c.name for c in calibrations) or "none"
                    raise InvalidRequestError(
                        errno.EINVAL,
                        f"{node.path}: no calibration named {wanted!r} (calibrations: {known}; "
                        "or write auto)",
                    )
                self.client.enable_calibration(match[0].id)
        self.tree.cache.invalidate(("calibrations",))

    # -------------------------------------------------------------------- exports

    def export_path(self, node: Node) -> Path:
        """The project's export, downloaded into a local file (zip readers seek), and kept
        as long as a listing is."""
        assert node.project is not None
        key = (node.project.id, node.role == "export-starred")
        with self._exports_lock:
            fresh = self._fresh_export(key)
            if fresh is not None:
                return fresh
            target = Path(self._scratch.name) / f"{key[0]}-{int(key[1])}.zip"
            with (
                errors_at(node.path),
                self.client.export_project(*key) as stream,
                target.open("wb") as out,
            ):
                for chunk in stream.iter_chunks():
                    out.write(chunk)
            self._exports[key] = (target, time.monotonic())
            return target

    def _fresh_export(self, key: tuple[str, bool]) -> Path | None:
        fetched = self._exports.get(key)
        if fetched is None or time.monotonic() - fetched[1] > self.tree.cache.ttl:
            return None
        return fetched[0] if fetched[0].exists() else None
