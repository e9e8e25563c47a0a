"""SQLite persistence for the emulator: schema, a locked connection, clocks and ids.

One connection shared by all request threads and the conversion worker, guarded by a lock:
the emulator serves tests and demos, so simplicity beats write concurrency.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,
    username TEXT NOT NULL,
    api_key TEXT UNIQUE,
    api_key_expires_at TEXT,
    credits REAL NOT NULL,
    initial_credits REAL NOT NULL,
    calibration_id TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    models TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    last_recording_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS recordings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    folder_id TEXT NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    file_key TEXT,
    file_name TEXT,
    label TEXT,
    state TEXT NOT NULL,
    original_id TEXT REFERENCES recordings(id) ON DELETE CASCADE,
    model_id TEXT,
    model_name TEXT,
    accent_id TEXT,
    narration_style_id TEXT,
    semitones REAL,
    calibration_id TEXT,
    calibration_value REAL,
    calibration_name TEXT,
    microphone TEXT,
    size INTEGER,
    duration REAL NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0,
    tts INTEGER NOT NULL DEFAULT 0,
    tts_voice TEXT,
    tts_voice_id TEXT,
    text TEXT,
    text_language TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TEXT NOT NULL,
    converted_at TEXT,
    listen_count INTEGER NOT NULL DEFAULT 0,
    process_stage TEXT,
    due_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS recordings_folder ON recordings(folder_id, seq);
CREATE INDEX IF NOT EXISTS recordings_project ON recordings(project_id, seq);
CREATE INDEX IF NOT EXISTS recordings_original ON recordings(original_id, seq);
CREATE INDEX IF NOT EXISTS recordings_due ON recordings(state, due_at);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    recording_id TEXT NOT NULL UNIQUE REFERENCES recordings(id) ON DELETE CASCADE,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calibrations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    f0 REAL,
    state TEXT NOT NULL,
    error TEXT,
    file_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    calibrated_at TEXT,
    due_at REAL
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    original_id TEXT NOT NULL,
    conversion_id TEXT NOT NULL,
    calibration_id TEXT,
    tracking_id TEXT NOT NULL,
    f0 REAL,
    cost REAL NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS voice_settings (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    favorite INTEGER NOT NULL DEFAULT 0,
    semitones_correction REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, item_id)
);
"""


def new_id() -> str:
    return str(uuid.uuid4())


class Clock:
    """Timestamps in the service's format, strictly increasing so creation order is total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0

    def now(self) -> float:
        with self._lock:
            self._last = max(time.time(), self._last + 0.001)
            return self._last

    def stamp(self, moment: float | None = None) -> str:
        return format_time(self.now() if moment is None else moment)


def format_time(moment: float) -> str:
    when = datetime.fromtimestamp(moment, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Database:
    """The SQLite file under the data directory; `transaction()` is the only way in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._connection.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Runs the block atomically: all of its writes land, or none (a refusal changes nothing).

        A transaction opened inside another one joins it.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._connection
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            else:
                self._connection.execute("COMMIT")
            finally:
                self._depth = 0

    def wipe(self) -> None:
        with self.transaction() as db:
            for table in ("sessions", "notes", "orders", "voice_settings", "calibrations"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM recordings WHERE original_id IS NOT NULL")
            for table in ("recordings", "folders", "projects", "users"):
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def row_dict(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return dict(row) if row is not None else None
