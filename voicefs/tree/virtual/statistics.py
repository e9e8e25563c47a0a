"""`/projects.csv` and `<project>/folders.csv`: the service's statistics where a user looks
for them, one row per project or folder.

Each read asks the service once (`/api/stats/projects` or `/api/stats/folders`, all rows in
one request); a listing asks nothing: the size shown is that of the last read, or unknown
until the first. Reads less than `FRESH` seconds apart (two programs opening the table at
once) share one answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any

from voicefs.tree.formats import csv_bytes
from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.tree import ROOT_NODE, Tree
from voicefs.tree.virtual.base import GeneratedFile

FRESH = 2.0  # seconds
PROJECT_COLUMNS = (
    *("name", "id", "time_converted", "time_converted_this_month"),
    *("conversions", "completed", "in_progress", "failed"),
)
FOLDER_COLUMNS = ("name", "id", "conversions", "completed", "in_progress", "failed")
_COUNTS = ("total", "completed", "in_progress", "failed")


class _Table(GeneratedFile):
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._lock = threading.Lock()
        self._last: dict[Hashable, tuple[bytes, float]] = {}

    def _key(self, node: Node) -> Hashable:
        raise NotImplementedError

    def _render(self, node: Node) -> bytes:
        raise NotImplementedError

    def read(self, node: Node) -> bytes:
        key = self._key(node)
        with self._lock:
            last = self._last.get(key)
        if last is not None and time.monotonic() - last[1] < FRESH:
            return last[0]
        with self.tree.errors_at(node.path):
            data = self._render(node)
        with self._lock:
            self._last[key] = (data, time.monotonic())
        return data

    def size(self, node: Node) -> int | None:
        with self._lock:
            last = self._last.get(self._key(node))
        return None if last is None else len(last[0])


class ProjectsTable(_Table):
    def _key(self, node: Node) -> Hashable:
        return "projects"

    def _render(self, node: Node) -> bytes:
        projects = [c for c in self.tree.children(ROOT_NODE) if c.kind == NodeKind.PROJECT]
        ids = [p.project_of().id for p in projects]
        stats = {s.get("project_id"): s for s in self.tree.client.project_stats(ids)} if ids else {}
        rows = []
        for project in projects:
            found: dict[str, Any] = stats.get(project.project_of().id, {})
            time_converted, counts = found.get("time_converted", {}), found.get("conversions", {})
            rows.append(
                (
                    project.name,
                    project.project_of().id,
                    time_converted.get("total", 0),
                    time_converted.get("current_month", 0),
                    *(counts.get(c, 0) for c in _COUNTS),
                )
            )
        return csv_bytes(PROJECT_COLUMNS, rows)


class FoldersTable(_Table):
    def _key(self, node: Node) -> Hashable:
        return ("folders", node.project_of().id)

    def _render(self, node: Node) -> bytes:
        project = self.tree.resolve(node.parent_path)
        folders = [c for c in self.tree.children(project) if c.kind == NodeKind.FOLDER]
        ids = [f.folder_of().id for f in folders]
        stats = {s.get("folder_id"): s for s in self.tree.client.folder_stats(ids)} if ids else {}
        rows = []
        for folder in folders:
            counts = stats.get(folder.folder_of().id, {}).get("stats", {})
            rows.append((folder.name, folder.folder_of().id, *(counts.get(c, 0) for c in _COUNTS)))
        return csv_bytes(FOLDER_COLUMNS, rows)
