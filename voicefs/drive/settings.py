"""The modes, times and owners users set on paths (`chmod`, `utimens`, as `rsync -a` and
`cp -p` do; a WebDAV client's PROPPATCH of times): accepted and kept, changing nothing on the
service (CONTRACT §3), in the account's store so that they outlive the front-end (a second
`rsync -a` after a remount sends nothing)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from voicefs.tree.store import Store


@dataclass
class UserSettings:
    """Modes and times users set on paths, and owners they asked for: accepted and kept,
    changing nothing on the service (CONTRACT §3); on disk once `keep_in` has a store."""

    _settings: dict[str, dict[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _store: Store | None = None
    generation: object = field(default_factory=object)
    """Replaced by every change: attributes worked out before it are out of date."""

    def keep_in(self, store: Store | None) -> None:
        """Loads what the store remembers and writes every change to it from now on."""
        if store is None:
            return
        remembered = store.settings()
        with self._lock:
            self._store = store
            self._settings = {**remembered, **self._settings}
            self.generation = object()

    def set(self, path: str, **values: int) -> None:
        with self._lock:
            current = self._settings.setdefault(path, {})
            current.update(values)
            self._save(path, current)
            self.generation = object()

    def get(self, path: str) -> dict[str, int]:
        with self._lock:
            return dict(self._settings.get(path, {}))

    def move(self, old: str, new: str) -> None:
        """What was set on old, and on everything under it, now stands at new."""
        with self._lock:
            for path in self._under(old):
                moved = self._settings.pop(path)
                renamed = new + path[len(old) :]
                self._settings[renamed] = moved
                self._save(path, None)
                self._save(renamed, moved)
            self.generation = object()

    def forget(self, path: str) -> None:
        """Drops what was set on path and under it: a name made again later starts afresh
        (an old mtime on it could make `rsync` skip a file that is not the same)."""
        with self._lock:
            for gone in self._under(path):
                del self._settings[gone]
                self._save(gone, None)
            self.generation = object()

    def _under(self, path: str) -> list[str]:
        return [p for p in self._settings if p == path or p.startswith(path + "/")]

    def _save(self, path: str, values: dict[str, int] | None) -> None:
        if self._store is not None:
            self._store.save_settings(path, values)
