"""The shape every virtual file shares: a role with read, write and delete, and the helpers
their writes use to read what was written."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicefs.api.errors import InvalidRequestError
from voicefs.tree.errors import path_error
from voicefs.tree.formats import ControlTextError
from voicefs.tree.nodes import Node

CONTROL_TEXT_MAX = 1 << 20  # control files are text for people: refuse megabytes at once


@dataclass(frozen=True)
class Role:
    """How one kind of virtual file behaves; None means the operation is refused."""

    read: Callable[[Node], bytes]
    write: Callable[[Node, Path], Any] | None = None
    delete: Callable[[Node], Any] | None = None


def read_text(path: str, staged: Path) -> str:
    """What was written to a control file, as text (UTF-8, a leading BOM dropped)."""
    if staged.stat().st_size > CONTROL_TEXT_MAX:
        raise path_error(errno.EFBIG, f"control files take at most {CONTROL_TEXT_MAX} bytes", path)
    try:
        return staged.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(errno.EINVAL, f"{path}: not UTF-8 text ({exc})") from exc


def control_error(path: str, exc: ControlTextError) -> InvalidRequestError:
    """Invalid control text as the client's EINVAL error, with the path first."""
    return InvalidRequestError(errno.EINVAL, f"{path}: {exc}", detail=str(exc))
