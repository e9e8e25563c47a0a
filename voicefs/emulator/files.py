"""Audio and export files on disk beside the database, addressed by a key (`user/id.ext`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

SHARED_PREFIX = "shared/"  # files many recordings point at (the large seed): never deleted


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.scratch = root / ".scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad file key {key!r}")
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def scratch_file(self, suffix: str = "") -> Path:
        """A new empty file on the same disk, for work that is moved into place at the end."""
        handle, name = tempfile.mkstemp(dir=self.scratch, suffix=suffix)
        os.close(handle)
        return Path(name)

    def spool(self, source: BinaryIO, limit: int) -> tuple[Path, int]:
        """Copies an upload to a scratch file in chunks; stops early once it exceeds limit."""
        target = self.scratch_file()
        size = 0
        with target.open("wb") as out:
            while chunk := source.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    break
                out.write(chunk)
        return target, size

    def adopt(self, scratch: Path, key: str) -> Path:
        """Moves a finished scratch file to its key (atomic on the same disk)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, path)
        return path

    def copy(self, source_key: str, key: str) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(source_key), path)

    def delete(self, key: str | None) -> None:
        if key and not key.startswith(SHARED_PREFIX):
            self.path(key).unlink(missing_ok=True)

    def wipe(self) -> None:
        for child in self.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            elif child.is_file():
                child.unlink()
        self.scratch.mkdir(parents=True, exist_ok=True)
