"""The journal of uploads in flight: nothing written to the mount is lost to a crash.

When a written audio file is closed, its staged bytes are linked into the journal with an
entry naming the path, before anything is sent; the entry goes when the service has the file.
A mount started after a crash or `kill -9` finishes what the journal holds, checking the folder
first so that nothing is uploaded twice (CONTRACT §3). An entry is locked (flock) while a
mount works on it, so two mounts of one cache directory never send it both; the kernel drops
the lock of a process that died, so its entries are picked up by the next mount.

Only uploads are journaled: an upload is found again by its name, so completing one is safe.
An order or a note interrupted by a crash is not replayed (an order cannot be told apart from
a new one after the fact); the writer sees the error instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from voicefs.private import private_directory

ORPHAN_AGE = 60.0  # seconds after which journal data with no entry is nobody's


@dataclass(frozen=True)
class Entry:
    id: str
    path: str  # the tree path written, e.g. "Project/Takes/take 1.wav"
    size: int
    started: float = 0.0  # when it was first sent (time.time())

    def data_file(self, directory: Path) -> Path:
        return directory / f"{self.id}.data"

    def entry_file(self, directory: Path) -> Path:
        return directory / f"{self.id}.json"


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        private_directory(self.directory)
        self._held: dict[str, int] = {}  # entry id -> the open, locked descriptor
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def recorded(self, path: str, staged: Path) -> Iterator[Path]:
        """Journals the staged bytes of path for the block (which sends them, from the path it
        is given); the entry stays if the block dies with the process, and goes otherwise."""
        entry = Entry(uuid.uuid4().hex, path, staged.stat().st_size, time.time())
        data = entry.data_file(self.directory)
        try:
            os.link(staged, data)
            self._write(entry)
        except OSError as exc:  # a full disk, say: nothing may stay behind to block others
            self._forget(entry)
            raise OSError(
                exc.errno, f"{path}: not sent: the journal could not record it: {exc.strerror}"
            ) from exc
        try:
            yield data
        finally:
            self._forget(entry)

    def _write(self, entry: Entry) -> None:
        """Writes the entry locked from the start: another mount never sees it unlocked."""
        target = entry.entry_file(self.directory)
        temporary = target.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.write(descriptor, json.dumps(asdict(entry)).encode())
            os.fsync(descriptor)
            os.replace(temporary, target)
        except OSError:
            os.close(descriptor)
            temporary.unlink(missing_ok=True)
            raise
        with self._lock:
            self._held[entry.id] = descriptor

    def _forget(self, entry: Entry) -> None:
        entry.entry_file(self.directory).unlink(missing_ok=True)
        entry.data_file(self.directory).unlink(missing_ok=True)
        with self._lock:
            descriptor = self._held.pop(entry.id, None)
        if descriptor is not None:
            os.close(descriptor)

    def claim_unfinished(self) -> Iterator[tuple[Entry, Path]]:
        """Entries left by a mount that died, each locked for this one while the caller
        handles it; `finished(entry)` removes it. Entries another live mount holds are left."""
        self._remove_orphans()
        for file in sorted(self.directory.glob("*.json")):
            descriptor = os.open(file, os.O_RDONLY)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            try:
                entry = Entry(**json.loads(file.read_text(encoding="utf-8")))
            except (ValueError, TypeError, OSError):
                os.close(descriptor)
                file.unlink(missing_ok=True)  # a torn entry: its write never began
                continue
            with self._lock:
                self._held[entry.id] = descriptor
            yield entry, entry.data_file(self.directory)

    def _remove_orphans(self) -> None:
        """Data whose entry was never written (a disk that filled in between): no one can
        send it, and it would keep the disk full. Linked more than ORPHAN_AGE ago (a link
        sets the ctime), so as not to race a live mount between its link and its entry."""
        old = time.time() - ORPHAN_AGE
        for data in self.directory.glob("*.data"):
            if data.with_suffix(".json").exists() or data.with_suffix(".tmp").exists():
                continue
            with contextlib.suppress(FileNotFoundError):
                if data.stat().st_ctime < old:
                    data.unlink()

    def paths(self) -> list[str]:
        """The paths of every entry, this mount's in flight and those a dead mount left."""
        found = []
        for file in self.directory.glob("*.json"):
            with contextlib.suppress(ValueError, TypeError, OSError):
                found.append(Entry(**json.loads(file.read_text(encoding="utf-8"))).path)
        return found

    def finished(self, entry: Entry) -> None:
        self._forget(entry)

    def release(self, entry: Entry) -> None:
        """Leaves an entry for a later mount (the service could not be reached)."""
        with self._lock:
            descriptor = self._held.pop(entry.id, None)
        if descriptor is not None:
            os.close(descriptor)
