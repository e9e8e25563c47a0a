"""`/.voicefs/exports/<project>.zip` and `.starred.zip`: the project's export, downloaded
into a local file when first opened (zip readers seek) and kept as long as a listing is."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from voicefs.tree.nodes import Node, Role
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile

ExportKey = tuple[str, bool]  # (project id, starred only)


class ExportFile(GeneratedFile):
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._fetched: dict[ExportKey, tuple[Path, float]] = {}
        self._lock = threading.Lock()
        self._scratch = tempfile.TemporaryDirectory(prefix="voicefs-exports-")

    @staticmethod
    def _key(node: Node) -> ExportKey:
        return node.project_of().id, node.role == Role.EXPORT_STARRED

    def read(self, node: Node) -> bytes:
        return self.local_file(node).read_bytes()

    def size(self, node: Node) -> int | None:
        """Known once fetched; None before (only the download would tell)."""
        fetched = self._fresh(self._key(node))
        return fetched.stat().st_size if fetched is not None else None

    def local_file(self, node: Node) -> Path:
        key = self._key(node)
        with self._lock:
            fresh = self._fresh(key)
            if fresh is not None:
                return fresh
            target = Path(self._scratch.name) / f"{key[0]}-{int(key[1])}.zip"
            with (
                self.tree.errors_at(node.path),
                self.tree.client.export_project(*key) as stream,
                target.open("wb") as out,
            ):
                for chunk in stream.iter_chunks():
                    out.write(chunk)
            self._fetched[key] = (target, time.monotonic())
            return target

    def _fresh(self, key: ExportKey) -> Path | None:
        fetched = self._fetched.get(key)
        if fetched is None or time.monotonic() - fetched[1] > self.tree.cache.ttl:
            return None
        return fetched[0] if fetched[0].exists() else None
