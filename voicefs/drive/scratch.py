"""Files whose names mean nothing on the service (CONTRACT §3; the names are
`voicefs.tree.local_names`): editors' swap files, rsync's, sed's, perl's and Python's
temporaries, downloads in progress, lock files. They live on local disk for the mount's life
and are never sent; renaming one onto a meaningful name performs that write. So rsync, cp,
editors, `sed -i` and atomic writers work as on a local drive.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

from voicefs.private import private_directory


class ScratchFiles:
    """Local files standing at mount paths; thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        private_directory(self.directory)
        self._files: dict[str, Path] = {}
        self._lock = threading.Lock()

    def _local_name(self, path: str) -> Path:
        return self.directory / hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()

    def create(self, path: str, mode: int = 0o644) -> Path:
        local = self._local_name(path)
        local.touch()
        local.chmod(mode)
        with self._lock:
            self._files[path] = local
        return local

    def get(self, path: str) -> Path | None:
        with self._lock:
            return self._files.get(path)

    def names_in(self, directory: str) -> list[str]:
        prefix = f"{directory}/" if directory else ""
        with self._lock:
            return [
                p[len(prefix) :]
                for p in self._files
                if p.startswith(prefix) and "/" not in p[len(prefix) :]
            ]

    def remove(self, path: str) -> bool:
        with self._lock:
            local = self._files.pop(path, None)
        if local is None:
            return False
        local.unlink(missing_ok=True)
        return True

    def move(self, old: str, new: str) -> bool:
        with self._lock:
            local = self._files.pop(old, None)
            if local is None:
                return False
            target = self._local_name(new)
            local.rename(target)
            self._files[new] = target
            return True

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
