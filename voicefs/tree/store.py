"""What a drive knows, kept on disk: the service's listings and the times and modes users set.

A remount (or a notebook restarted) then answers from the last known tree at once instead of
listing a whole account again against a budget of 500 requests per 300 s, and a drive whose
service is away can still be browsed. One SQLite file per account in the cache directory:
WAL journal (readers never wait for a writer, and two mounts of one account share it),
`synchronous=NORMAL` (a `kill -9` loses nothing committed and corrupts nothing). A file from
another version, or one SQLite cannot read, is set aside (renamed `*.broken-<time>`) and a new
one made: a cache must never stop a mount.

Listings are the client's own frozen records, pickled; they are read back with an unpickler
that accepts those record types, datetimes and builtins only. The file is the user's alone
(0600 in a 0700 directory), like the audio cache beside it.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import logging
import os
import pickle
import sqlite3
import threading
import time
import zlib
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicefs.api import records
from voicefs.private import private_directory

log = logging.getLogger("voicefs.store")


def _schema() -> int:
    """The store's shape: its tables' version and the fields of every record it pickles, so
    that a record gaining or losing a field sets old stores aside by itself."""
    fields = sorted(
        f"{name}.{field.name}"
        for name, kind in vars(records).items()
        if isinstance(kind, type) and dataclasses.is_dataclass(kind)
        for field in dataclasses.fields(kind)
    )
    return zlib.crc32(f"{TABLES}:{','.join(fields)}".encode()) & 0x7FFFFFFF or 1


TABLES = 3  # bump when the tables change
BUSY_TIMEOUT_MS = 5000  # another mount of the account writing at the same moment
SAFE_GLOBALS = {
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("datetime", "date"),
    ("builtins", "frozenset"),
    ("builtins", "set"),
}
RECORDS_MODULE = "voicefs.api.records"
SCHEMA = _schema()


@dataclass(frozen=True)
class Known:
    """A listing as last known: its value, when the service gave it (wall clock), how long
    it is trusted (None: the TTL of whoever reads it, so that `--cache-ttl` is an age, not a
    date fixed when it was fetched), and whether something made it certainly out of date (a
    write, a refresh)."""

    value: Any
    loaded: float
    lifetime: float | None = None
    invalidated: bool = False
    version: int = 0  # bumped by every save: who changes it must have seen the one before

    def expires(self, ttl: float) -> float:
        return self.loaded + (ttl if self.lifetime is None else self.lifetime)

    def fresh(self, ttl: float, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return not self.invalidated and now < self.expires(ttl)


class _RecordsUnpickler(pickle.Unpickler):
    """Makes the client's record classes (dataclasses and enums of voicefs.api.records),
    datetimes and builtins, and nothing else: no function, no attribute path."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in SAFE_GLOBALS:
            return super().find_class(module, name)
        if module == RECORDS_MODULE and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and (
                dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a record type")


def _loads(data: bytes) -> Any:
    return _RecordsUnpickler(io.BytesIO(data)).load()


def _key_text(key: Hashable) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return "\x1f".join(str(part) for part in parts)


class Store:
    """One account's remembered listings and user settings; thread-safe. Every failure of
    the file after it opened is logged and turns the store off: the drive goes on from
    memory and the service."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            private_directory(path.parent)
            try:
                self._db = self._open()
            except sqlite3.OperationalError:
                raise  # busy or unreadable for now: the file itself may be fine
            except sqlite3.DatabaseError as exc:
                self._set_aside(f"it could not be read ({exc})")
                self._db = self._open()
        except (OSError, sqlite3.Error) as exc:
            log.error("%s: %s; going on without remembering listings", path, exc)
            self._db = None

    def _open(self) -> sqlite3.Connection:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # never readable by others
        os.close(fd)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA):
                db.close()
                self._set_aside(f"it was made by another version (schema {version})")
                return self._open()
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if version == 0:
                with db:
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS listings (key TEXT PRIMARY KEY, value BLOB "
                        "NOT NULL, loaded REAL NOT NULL, lifetime REAL, invalidated INTEGER NOT "
                        "NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0)"
                    )
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS settings (path TEXT PRIMARY KEY, mode "
                        "INTEGER, uid INTEGER, gid INTEGER, atime INTEGER, mtime INTEGER)"
                    )
                    db.execute(f"PRAGMA user_version={SCHEMA}")
            db.execute("SELECT count(*) FROM listings").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        log.warning("%s: set aside as %s and made anew: %s", self.path, aside.name, why)
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.replace(Path(f"{aside}{suffix}"))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            db = self._db
            try:
                yield db
            except sqlite3.Error as exc:
                log.error("%s: %s; going on without it", self.path, exc)
                self._db = None
                if db is not None:
                    db.close()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ----------------------------------------------------------------- listings

    def load(self, key: Hashable) -> Known | None:
        row = None
        with self._connection() as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT value, loaded, lifetime, invalidated, version FROM listings WHERE key = ?",
                (_key_text(key),),
            ).fetchone()
        if row is None:
            return None
        try:
            return Known(_loads(row[0]), row[1], row[2], bool(row[3]), row[4])
        except Exception as exc:  # a record that changed shape: as if it were not there
            log.info("%s: a remembered listing could not be read (%s)", self.path, exc)
            return None

    def save(
        self,
        key: Hashable,
        value: Any,
        loaded: float,
        lifetime: float | None = None,
        *,
        over: int | None = None,
    ) -> int | None:
        """Keeps value for key, as the service gave it at `loaded`, trusted `lifetime` seconds
        (None: the reader's TTL); returns the version it now has. With `over` (a version seen
        before), only if nobody saved key since: a listing changed by this process's write
        must not replace what another mount of the account saved meanwhile. Then the
        listing is marked out of date instead (the next look asks the service) and None
        is returned."""
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        text = _key_text(key)
        saved: int | None = None
        with self._connection() as db:
            if db is None:
                return None
            with db:
                if over is None:
                    db.execute(
                        "INSERT INTO listings (key, value, loaded, lifetime, invalidated, version) "
                        "VALUES (?, ?, ?, ?, 0, 1) ON CONFLICT(key) DO UPDATE SET "
                        "value = excluded.value, loaded = excluded.loaded, "
                        "lifetime = excluded.lifetime, invalidated = 0, version = version + 1",
                        (text, data, loaded, lifetime),
                    )
                else:
                    changed = db.execute(
                        "UPDATE listings SET value = ?, loaded = ?, lifetime = ?, invalidated = 0, "
                        "version = version + 1 WHERE key = ? AND version = ?",
                        (data, loaded, lifetime, text, over),
                    ).rowcount
                    if not changed:
                        db.execute("UPDATE listings SET invalidated = 1 WHERE key = ?", (text,))
                        return None
                saved = db.execute(
                    "SELECT version FROM listings WHERE key = ?", (text,)
                ).fetchone()[0]
        return saved

    def invalidate(self, *keys: Hashable) -> None:
        """Marks listings certainly out of date: the next look asks the service, and they
        are used only when it does not answer."""
        with self._connection() as db:
            if db is not None:
                with db:
                    db.executemany(
                        "UPDATE listings SET invalidated = 1 WHERE key = ?",
                        [(_key_text(key),) for key in keys],
                    )

    def invalidate_all(self) -> None:
        with self._connection() as db:
            if db is not None:
                with db:
                    db.execute("UPDATE listings SET invalidated = 1")

    # ----------------------------------------------------------------- user settings

    SETTINGS = ("mode", "uid", "gid", "atime", "mtime")

    def settings(self) -> dict[str, dict[str, int]]:
        """Every path's settings (what `chmod`, `chown` and `touch -d` set)."""
        rows: list[Any] = []
        with self._connection() as db:
            if db is None:
                return {}
            rows = db.execute(f"SELECT path, {', '.join(self.SETTINGS)} FROM settings").fetchall()
        return {
            row[0]: {k: v for k, v in zip(self.SETTINGS, row[1:], strict=True) if v is not None}
            for row in rows
        }

    def save_settings(self, path: str, values: dict[str, int] | None) -> None:
        """Replaces path's settings; None forgets them."""
        with self._connection() as db:
            if db is None:
                return
            with db:
                db.execute("DELETE FROM settings WHERE path = ?", (path,))
                if values:
                    columns = [k for k in self.SETTINGS if k in values]
                    db.execute(
                        f"INSERT INTO settings (path, {', '.join(columns)}) "
                        f"VALUES (?{', ?' * len(columns)})",
                        (path, *(values[k] for k in columns)),
                    )
