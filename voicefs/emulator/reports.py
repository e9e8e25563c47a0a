"""What the service computes from the stored data: zip exports and statistics."""

from __future__ import annotations

import sqlite3
import zipfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voicefs.emulator.database import parse_time
from voicefs.emulator.errors import not_found
from voicefs.emulator.store import Row, Store


def _archive_name(row: Row) -> str:
    name = row["label"] or row["model_name"] or (row["file_name"] or row["id"]).rsplit(".", 1)[0]
    extension = (row["file_key"] or "x.wav").rsplit(".", 1)[-1]
    return f"{name.replace('/', '_')}.{extension}"


class Reports:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ exports

    def export_project(self, user: Row, project_id: str, starred_only: bool) -> tuple[Path, str]:
        """A zip of the project's finished recordings: `<folder>/<original>` and, for each
        original, its conversions under `<folder>/<original stem>/`."""
        with self.store.db.transaction() as db:
            project = self.store._project(db, user, project_id)
            rows = self._done_rows(db, "recordings.project_id = ?", project_id)
        return self._zip(rows, starred_only, include_originals=True), f"{project['slug']}.zip"

    def export_original(self, user: Row, original_id: str, starred_only: bool) -> tuple[Path, str]:
        """A zip of one original's finished conversions."""
        with self.store.db.transaction() as db:
            original = self.store._recording(db, user, original_id)
            if original["type"] != "original":
                raise not_found("Original recording")
            rows = self._done_rows(db, "recordings.original_id = ?", original_id)
        stem = (original["label"] or original["file_name"] or original["id"]).rsplit(".", 1)[0]
        return self._zip(rows, starred_only, include_originals=False), f"{stem}.zip"

    def _done_rows(self, db: sqlite3.Connection, where: str, value: str) -> list[Row]:
        query = (
            "SELECT recordings.*, folders.name AS folder_name FROM recordings"
            " JOIN folders ON folders.id = recordings.folder_id"
            f" WHERE {where} AND recordings.state = 'done' ORDER BY recordings.seq"
        )
        return [dict(r) for r in db.execute(query, (value,))]

    def _zip(self, rows: list[Row], starred_only: bool, include_originals: bool) -> Path:
        by_id = {row["id"]: row for row in rows}  # conversions are filed under their original
        target = self.store.files.scratch_file(".zip")
        used: set[str] = set()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            for row in rows:
                if row["type"] == "original" and not include_originals:
                    continue
                if starred_only and not row["starred"]:
                    continue
                name = _archive_name(row)
                if include_originals:
                    folder = row["folder_name"].replace("/", "_")
                    if row["type"] == "converted":
                        original = by_id.get(row["original_id"])
                        stem = (
                            _archive_name(original).rsplit(".", 1)[0] if original else "conversions"
                        )
                        name = f"{folder}/{stem}/{name}"
                    else:
                        name = f"{folder}/{name}"
                unique, n = name, 1
                while unique in used:
                    n += 1
                    base, _, extension = name.rpartition(".")
                    unique = f"{base} ({n}).{extension}"
                used.add(unique)
                archive.write(self.store.files.path(row["file_key"]), unique)
        return target

    # -------------------------------------------------------------------- stats

    def _conversions(self, user: Row, where: str = "", args: tuple[Any, ...] = ()) -> list[Row]:
        with self.store.db.transaction() as db:
            rows = db.execute(
                "SELECT * FROM recordings WHERE user_id = ? AND type = 'converted'" + where,
                (user["id"], *args),
            ).fetchall()
        return [dict(r) for r in rows]

    @staticmethod
    def _counts(rows: list[Row]) -> dict[str, int]:
        states = [r["state"] for r in rows]
        return {
            "total": len(states),
            "completed": states.count("done"),
            "in_progress": states.count("processing"),
            "failed": states.count("error"),
        }

    @staticmethod
    def _durations(rows: list[Row]) -> tuple[int, int, dict[str, float]]:
        """Total converted seconds, this month's, and earlier months' by month."""
        this_month = datetime.now(timezone.utc).strftime("%Y-%m")
        total = current = 0.0
        earlier: dict[str, float] = defaultdict(float)
        for row in rows:
            if row["state"] != "done" or not row["converted_at"]:
                continue
            month = parse_time(row["converted_at"]).strftime("%Y-%m")
            total += row["duration"]
            if month == this_month:
                current += row["duration"]
            else:
                earlier[f"{month}-01"] += row["duration"]
        return round(total), round(current), earlier

    def account_stats(self, user: Row) -> dict[str, Any]:
        rows = self._conversions(user)
        total, current, earlier = self._durations(rows)
        models: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = models.setdefault(
                row["model_id"],
                {
                    "id": row["model_id"],
                    "name": row["model_name"],
                    "conversions_count": 0,
                    "converted_time": 0.0,
                },
            )
            entry["conversions_count"] += 1
            if row["state"] == "done":
                entry["converted_time"] += row["duration"]
        return {
            "time_converted": {
                "total": total,
                "current_month": current,
                "previous_monthes": [
                    {"month": month, "duration": duration}
                    for month, duration in sorted(earlier.items())
                ],
            },
            "conversions": self._counts(rows),
            "models": list(models.values()),
        }

    def project_stats(self, user: Row, project_ids: list[str]) -> list[dict[str, Any]]:
        result = []
        for project_id in project_ids:
            with self.store.db.transaction() as db:
                self.store._project(db, user, project_id)
            rows = self._conversions(user, " AND project_id = ?", (project_id,))
            total, current, _ = self._durations(rows)
            result.append(
                {
                    "project_id": project_id,
                    "time_converted": {"total": total, "current_month": current},
                    "conversions": self._counts(rows),
                }
            )
        return result

    def folder_stats(self, user: Row, folder_ids: list[str]) -> list[dict[str, Any]]:
        result = []
        for folder_id in folder_ids:
            with self.store.db.transaction() as db:
                self.store._folder(db, user, folder_id)
            rows = self._conversions(user, " AND folder_id = ?", (folder_id,))
            result.append({"folder_id": folder_id, "stats": self._counts(rows)})
        return result
