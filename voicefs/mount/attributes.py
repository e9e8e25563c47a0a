"""What `stat` shows for a node: stable inode numbers from the service's ids, the service's
times (never the time of the call), modes that say what can be written, and the times and
modes users set (`chmod`, `utimens`, as `rsync -a` and `cp -p` do), kept in the account's
store so that they outlive the mount (a second `rsync -a` after a remount sends nothing).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.store import Store

DIRECTORY_MODE = 0o755
WRITABLE_MODE = 0o644  # audio can be deleted, control files written
READ_ONLY_MODE = 0o444
BLOCK = 512


def inode_of(node: Node) -> int:
    """A stable inode number: from the service's id for what has one, else from the role and
    the id of what the file belongs to, else from the path (63 bits, never 0 or 1)."""
    if node.service_id:
        identity = f"{node.kind.value}:{node.service_id}"
    elif node.kind == NodeKind.SIDECAR and node.original is not None:
        identity = f"sidecar:{node.original.id}"
    elif node.calibration is not None:
        identity = f"calibration:{node.calibration.id}"
    elif node.recording is not None and node.role is not None:
        identity = f"{node.role.value}:{node.recording.id}"
    else:
        identity = f"path:{node.path}"
    digest = hashlib.blake2b(identity.encode("utf-8", "surrogateescape"), digest_size=8)
    return (int.from_bytes(digest.digest(), "little") >> 1) | 2


def nanoseconds(when: datetime | None) -> int:
    return 0 if when is None else int(when.timestamp() * 1_000_000_000)


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


def attributes(
    node: Node,
    size: int,
    fallback_time: Callable[[], datetime],
    *,
    writable: bool,
    user: dict[str, int],
) -> dict[str, Any]:
    """The stat dict mfusepy wants (`use_ns`: times in nanoseconds)."""
    if node.is_directory:
        mode = stat.S_IFDIR | DIRECTORY_MODE
    else:
        mode = stat.S_IFREG | (WRITABLE_MODE if writable else READ_ONLY_MODE)
    if "mode" in user:
        mode = stat.S_IFMT(mode) | stat.S_IMODE(user["mode"])
    modified = nanoseconds(node.modified or node.created or fallback_time())
    created = nanoseconds(node.created) or modified
    return {
        "st_mode": mode,
        "st_ino": inode_of(node),
        "st_nlink": 2 if node.is_directory else 1,
        "st_uid": user.get("uid", os.getuid()),
        "st_gid": user.get("gid", os.getgid()),
        "st_size": size,
        "st_blocks": (size + BLOCK - 1) // BLOCK,
        "st_blksize": 1 << 20,
        "st_mtime": user.get("mtime", modified),
        "st_atime": user.get("atime", modified),
        "st_ctime": created,
    }


def local_attributes(path: str, inode: int, user: dict[str, int]) -> dict[str, Any]:
    """The stat dict of a local file (scratch or staged), with what users set on it."""
    local = os.stat(path)
    mode = stat.S_IFREG | stat.S_IMODE(user.get("mode", local.st_mode))
    return {
        "st_mode": mode,
        "st_ino": inode,
        "st_nlink": 1,
        "st_uid": user.get("uid", os.getuid()),
        "st_gid": user.get("gid", os.getgid()),
        "st_size": local.st_size,
        "st_blocks": (local.st_size + BLOCK - 1) // BLOCK,
        "st_blksize": 1 << 20,
        "st_mtime": user.get("mtime", local.st_mtime_ns),
        "st_atime": user.get("atime", local.st_atime_ns),
        "st_ctime": local.st_ctime_ns,
    }
