"""What `stat` shows for a node: stable inode numbers from the service's ids, the service's
times (never the time of the call), modes that say what can be written, and the times and
modes users set (`voicefs.drive.settings`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from datetime import datetime
from typing import Any

from voicefs.tree.nodes import Node, NodeKind

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
