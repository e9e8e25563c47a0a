"""The emulated service's state and rules: projects, folders, recordings and notes (and,
through `AccountStore`, accounts).

Every method checks ownership (another user's object is "not found", as the service answers),
validates before it writes, and writes in one transaction, so a refused request changes
nothing. Conversions, TTS and calibrations are in `conversions.py`; exports and stats in
`reports.py`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from voicefs.emulator import audio, render
from voicefs.emulator.accounts import AccountStore
from voicefs.emulator.catalog import Voice, voices
from voicefs.emulator.database import Clock, Database, new_id
from voicefs.emulator.errors import ServiceError, bad_request, not_found
from voicefs.emulator.files import FileStore

Row = dict[str, Any]

PROJECT_SORTS = {
    "name": "name",
    "created_at": "created_at",
    "last_recording_at": "last_recording_at",
}


@dataclass
class Settings:
    """Start-up options that shape the service's behaviour."""

    conversion_seconds: float = 2.0
    max_upload_bytes: int = 2 << 30
    extra_voices: int = 0
    session_seconds: float = 7 * 24 * 3600.0


def _direction(direction: str) -> str:
    return "DESC" if direction == "desc" else "ASC"


def _require_name(name: str, what: str) -> str:
    if not name.strip():
        raise bad_request(f"{what} name must not be empty")
    return name


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "project"


class Store(AccountStore):
    def __init__(self, data_dir: Path, settings: Settings) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.db = Database(data_dir / "emulator.sqlite3")
        self.files = FileStore(data_dir / "files")
        self.clock = Clock()
        self.voices: dict[str, Voice] = {v.id: v for v in voices(settings.extra_voices)}

    def wipe(self) -> None:
        self.db.wipe()
        self.files.wipe()

    # ----------------------------------------------------------------- projects

    def _project(self, db: sqlite3.Connection, user: Row, project_id: str) -> Row:
        row = db.execute(
            "SELECT * FROM projects WHERE id = ? AND user_id = ?", (project_id, user["id"])
        ).fetchone()
        if row is None:
            raise not_found("Project")
        return dict(row)

    def list_projects(
        self, user: Row, limit: int, offset: int, sort: str, direction: str, owner: str | None
    ) -> dict[str, Any]:
        where, args = "user_id = ?", [user["id"]]
        if owner:
            where += " AND owner = ?"
            args.append(owner)
        order = f"{PROJECT_SORTS[sort]} {_direction(direction)}, rowid {_direction(direction)}"
        with self.db.transaction() as db:
            count = db.execute(f"SELECT COUNT(*) FROM projects WHERE {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM projects WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return render.page([render.project(dict(r)) for r in rows], count, limit, offset)

    def create_project(self, user: Row, name: str, owner: str, models: dict[str, Any]) -> Row:
        _require_name(name, "Project")
        if owner != user["id"]:
            raise ServiceError(403, "You can only create projects owned by yourself or your groups")
        project_id, now = new_id(), self.clock.stamp()
        slug = slugify(name)
        row = {
            "id": project_id,
            "user_id": user["id"],
            "owner": owner,
            "name": name,
            "slug": slug[:60],
            "url": f"{slug[:50]}-{project_id[:8]}",
            "models": json.dumps(models),
            "created_at": now,
            "last_recording_at": now,
        }
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO projects (id, user_id, owner, name, slug, url, models, created_at,"
                " last_recording_at) VALUES (:id, :user_id, :owner, :name, :slug, :url, :models,"
                " :created_at, :last_recording_at)",
                row,
            )
        return render.project(row)

    def get_project(self, user: Row, project_id: str) -> Row:
        with self.db.transaction() as db:
            return render.project(self._project(db, user, project_id))

    def project_by_url(self, user: Row, url: str) -> Row:
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT * FROM projects WHERE url = ? AND user_id = ?", (url, user["id"])
            ).fetchone()
        if row is None:
            raise not_found("Project")
        return render.project(dict(row))

    def update_project(self, user: Row, project_id: str, **changes: Any) -> Row:
        if "name" in changes:
            _require_name(changes["name"], "Project")
        if "models" in changes:
            changes["models"] = json.dumps(changes["models"])
        with self.db.transaction() as db:
            self._project(db, user, project_id)
            for column, value in changes.items():
                db.execute(f"UPDATE projects SET {column} = ? WHERE id = ?", (value, project_id))
            return render.project(self._project(db, user, project_id))

    def delete_project(self, user: Row, project_id: str) -> Row:
        """Deletes the project with everything in it."""
        with self.db.transaction() as db:
            self._project(db, user, project_id)
            keys = self._file_keys(db, "project_id = ?", project_id)
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        for key in keys:
            self.files.delete(key)
        return {"id": project_id}

    # ------------------------------------------------------------------ folders

    def _folder(self, db: sqlite3.Connection, user: Row, folder_id: str) -> Row:
        row = db.execute(
            "SELECT * FROM folders WHERE id = ? AND user_id = ?", (folder_id, user["id"])
        ).fetchone()
        if row is None:
            raise not_found("Folder")
        return dict(row)

    def list_folders(
        self, user: Row, project_id: str, limit: int, offset: int, direction: str
    ) -> dict[str, Any]:
        order = _direction(direction)
        with self.db.transaction() as db:
            self._project(db, user, project_id)
            count = db.execute(
                "SELECT COUNT(*) FROM folders WHERE project_id = ?", (project_id,)
            ).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM folders WHERE project_id = ? ORDER BY created_at {order},"
                f" rowid {order} LIMIT ? OFFSET ?",
                (project_id, limit, offset),
            ).fetchall()
        return render.page([render.folder(dict(r)) for r in rows], count, limit, offset)

    def create_folder(self, user: Row, project_id: str, name: str) -> Row:
        _require_name(name, "Folder")
        row = {"id": new_id(), "project_id": project_id, "name": name}
        with self.db.transaction() as db:
            self._project(db, user, project_id)
            row["created_at"] = self.clock.stamp()
            db.execute(
                "INSERT INTO folders (id, user_id, project_id, name, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (row["id"], user["id"], project_id, name, row["created_at"]),
            )
        return render.folder(row)

    def get_folder(self, user: Row, folder_id: str) -> Row:
        with self.db.transaction() as db:
            return render.folder(self._folder(db, user, folder_id))

    def rename_folder(self, user: Row, folder_id: str, name: str) -> Row:
        _require_name(name, "Folder")
        with self.db.transaction() as db:
            self._folder(db, user, folder_id)
            db.execute("UPDATE folders SET name = ? WHERE id = ?", (name, folder_id))
            return render.folder(self._folder(db, user, folder_id))

    def delete_folder(self, user: Row, folder_id: str) -> list[dict[str, str]]:
        with self.db.transaction() as db:
            self._folder(db, user, folder_id)
            keys = self._file_keys(db, "folder_id = ?", folder_id)
            db.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
        for key in keys:
            self.files.delete(key)
        return [{"id": folder_id}]

    # --------------------------------------------------------------- recordings

    def _file_keys(self, db: sqlite3.Connection, where: str, value: str) -> list[str]:
        rows = db.execute(f"SELECT file_key FROM recordings WHERE {where}", (value,)).fetchall()
        return [r["file_key"] for r in rows if r["file_key"]]

    def _recording(self, db: sqlite3.Connection, user: Row, recording_id: str) -> Row:
        row = db.execute(
            "SELECT * FROM recordings WHERE id = ? AND user_id = ?", (recording_id, user["id"])
        ).fetchone()
        if row is None:
            raise not_found("Recording")
        return dict(row)

    def _render_recordings(self, db: sqlite3.Connection, rows: list[Row]) -> list[Row]:
        ids = [r["id"] for r in rows]
        notes: dict[str, Row] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for note in db.execute(
                f"SELECT * FROM notes WHERE recording_id IN ({marks})", ids
            ).fetchall():
                notes[note["recording_id"]] = dict(note)
        return [render.recording(r, notes.get(r["id"])) for r in rows]

    def list_recordings(
        self,
        user: Row,
        *,
        limit: int,
        offset: int,
        direction: str,
        project_id: str | None = None,
        folder_id: str | None = None,
        original_id: str | None = None,
        originals_only: bool = False,
    ) -> dict[str, Any]:
        clauses, args = ["user_id = ?"], [user["id"]]
        with self.db.transaction() as db:
            if folder_id:
                self._folder(db, user, folder_id)
                clauses.append("folder_id = ?")
                args.append(folder_id)
            if project_id:
                self._project(db, user, project_id)
                clauses.append("project_id = ?")
                args.append(project_id)
            if original_id:
                self._recording(db, user, original_id)
                clauses.append("original_id = ?")
                args.append(original_id)
            if originals_only:
                clauses.append("type = 'original'")
            where = " AND ".join(clauses)
            count = db.execute(f"SELECT COUNT(*) FROM recordings WHERE {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM recordings WHERE {where} ORDER BY seq {_direction(direction)}"
                " LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            items = self._render_recordings(db, [dict(r) for r in rows])
        return render.page(items, count, limit, offset)

    def get_recording(self, user: Row, recording_id: str) -> Row:
        with self.db.transaction() as db:
            return self._render_recordings(db, [self._recording(db, user, recording_id)])[0]

    def insert_recording(self, db: sqlite3.Connection, fields: Row) -> Row:
        """Inserts a recording row (defaults filled in) and touches its project."""
        row: Row = {
            "id": new_id(),
            "created_at": self.clock.stamp(),
            "params": "{}",
            "starred": 0,
            "tts": 0,
            "listen_count": 0,
            "attempts": 0,
            "duration": 0.0,
            **fields,
        }
        columns = ", ".join(row)
        db.execute(
            f"INSERT INTO recordings ({columns}) VALUES ({', '.join(':' + c for c in row)})", row
        )
        db.execute(
            "UPDATE projects SET last_recording_at = ? WHERE id = ?",
            (row["created_at"], row["project_id"]),
        )
        return dict(db.execute("SELECT * FROM recordings WHERE id = ?", (row["id"],)).fetchone())

    def create_recording(
        self,
        user: Row,
        folder_id: str,
        upload: BinaryIO,
        file_name: str,
        microphone: str,
        label: str | None,
    ) -> Row:
        with self.db.transaction() as db:
            folder = self._folder(db, user, folder_id)
        scratch, size = self.files.spool(upload, self.settings.max_upload_bytes)
        try:
            if size > self.settings.max_upload_bytes:
                raise ServiceError(
                    413, f"File too large: the limit is {self.settings.max_upload_bytes} bytes"
                )
            try:
                info = audio.probe(scratch)
            except audio.AudioError as exc:
                raise bad_request(
                    f"Unsupported audio file {file_name!r}: {exc}. "
                    "Supported formats are wav, ogg, mp3 and flac"
                ) from exc
            with self.db.transaction() as db:
                self._folder(db, user, folder_id)  # still there after the upload
                recording_id = new_id()
                key = f"{user['id']}/{recording_id}.{info.format}"
                self.files.adopt(scratch, key)
                row = self.insert_recording(
                    db,
                    {
                        "id": recording_id,
                        "user_id": user["id"],
                        "project_id": folder["project_id"],
                        "folder_id": folder_id,
                        "type": "original",
                        "file_key": key,
                        "file_name": file_name,
                        "label": label,
                        "state": "done",
                        "microphone": microphone,
                        "size": size,
                        "duration": round(info.duration, 3),
                    },
                )
                return self._render_recordings(db, [row])[0]
        finally:
            scratch.unlink(missing_ok=True)

    def update_recording(self, user: Row, recording_id: str, **changes: Any) -> Row:
        if changes.get("label") is not None and not changes["label"].strip():
            raise bad_request("Label must not be empty")
        with self.db.transaction() as db:
            self._recording(db, user, recording_id)
            for column, value in changes.items():
                if value is not None:
                    db.execute(
                        f"UPDATE recordings SET {column} = ? WHERE id = ?",
                        (int(value) if column == "starred" else value, recording_id),
                    )
            return self._render_recordings(db, [self._recording(db, user, recording_id)])[0]

    def delete_recording(self, user: Row, recording_id: str) -> list[dict[str, str]]:
        """Deletes a recording; an original takes its conversions with it."""
        with self.db.transaction() as db:
            self._recording(db, user, recording_id)
            rows = db.execute(
                "SELECT id, file_key FROM recordings WHERE id = ? OR original_id = ? ORDER BY seq",
                (recording_id, recording_id),
            ).fetchall()
            db.execute("DELETE FROM recordings WHERE original_id = ?", (recording_id,))
            db.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
        for row in rows:
            self.files.delete(row["file_key"])
        return [{"id": row["id"]} for row in rows]

    def file_path(self, user: Row, key: str, *, count_listen: bool) -> Path:
        """The file behind a recording's or calibration's url, for its owner only."""
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT id FROM recordings WHERE file_key = ? AND user_id = ? AND state = 'done'",
                (key, user["id"]),
            ).fetchone()
            if row is None:
                row = db.execute(
                    "SELECT id FROM calibrations WHERE file_key = ? AND user_id = ?",
                    (key, user["id"]),
                ).fetchone()
            elif count_listen:
                db.execute(
                    "UPDATE recordings SET listen_count = listen_count + 1 WHERE id = ?",
                    (row["id"],),
                )
        if row is None or not self.files.exists(key):
            raise not_found("File")
        return self.files.path(key)

    # -------------------------------------------------------------------- notes

    def list_notes(self, user: Row, folder_id: str) -> list[Row]:
        with self.db.transaction() as db:
            self._folder(db, user, folder_id)
            rows = db.execute(
                "SELECT notes.* FROM notes JOIN recordings ON recordings.id = notes.recording_id"
                " WHERE recordings.folder_id = ? ORDER BY recordings.seq",
                (folder_id,),
            ).fetchall()
        return [render.note(dict(r)) for r in rows]

    def _note(self, db: sqlite3.Connection, user: Row, recording_id: str) -> Row | None:
        self._recording(db, user, recording_id)
        row = db.execute("SELECT * FROM notes WHERE recording_id = ?", (recording_id,)).fetchone()
        return dict(row) if row else None

    def create_note(self, user: Row, recording_id: str, text: str) -> Row:
        with self.db.transaction() as db:
            if self._note(db, user, recording_id) is not None:
                raise bad_request("The recording has a note already: update it with PUT")
            row = {"id": new_id(), "recording_id": recording_id, "text": text}
            db.execute(
                "INSERT INTO notes (id, user_id, recording_id, text) VALUES (?, ?, ?, ?)",
                (row["id"], user["id"], recording_id, text),
            )
        return render.note(row)

    def update_note(self, user: Row, recording_id: str, text: str) -> Row:
        with self.db.transaction() as db:
            note = self._note(db, user, recording_id)
            if note is None:
                raise not_found("Note")
            db.execute("UPDATE notes SET text = ? WHERE id = ?", (text, note["id"]))
        return render.note({**note, "text": text})

    def delete_note(self, user: Row, recording_id: str) -> Row:
        with self.db.transaction() as db:
            note = self._note(db, user, recording_id)
            if note is None:
                raise not_found("Note")
            db.execute("DELETE FROM notes WHERE id = ?", (note["id"],))
        return render.note(note)

    # ------------------------------------------------------------------- voices

    def voice_settings(self, user: Row) -> dict[str, Row]:
        with self.db.transaction() as db:
            rows = db.execute(
                "SELECT * FROM voice_settings WHERE user_id = ?", (user["id"],)
            ).fetchall()
        return {r["item_id"]: dict(r) for r in rows}

    def save_voice_setting(self, user: Row, item_id: str, **values: Any) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO voice_settings (user_id, item_id) VALUES (?, ?)",
                (user["id"], item_id),
            )
            for column, value in values.items():
                db.execute(
                    f"UPDATE voice_settings SET {column} = ? WHERE user_id = ? AND item_id = ?",
                    (value, user["id"], item_id),
                )

    def voice(self, voice_id: str) -> Voice:
        entry = self.voices.get(voice_id)
        if entry is None:
            raise not_found("Voice")
        return entry
