"""The shape every generated file shares, and the helpers their writes use.

A `GeneratedFile` is one kind of file voicefs makes up from the service (order.txt, X.star,
recordings.csv, /.voicefs/credits.json, …): what reading it shows, what writing it means when
the written file is closed, and what deleting it does. Like ratarmount's control files, a
write acts once, on close, with everything that was written; an operation a kind does not
support is refused with EPERM.
"""

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
class Writer:
    """What closing a written file does: `writer(staged)` with the path of the staged bytes."""

    action: Callable[[Path], Any]
    content_matters: bool = True
    """False where creating the file is the whole act (`X.star`, a voice's `favorite`): a
    drive does it at the first close, written or not; elsewhere a close with nothing written
    is not the end of the file (a shell's redirection closes one copy before writing)."""

    def __call__(self, staged: Path) -> Any:
        return self.action(staged)


class GeneratedFile:
    """One kind of generated file. Subclasses override what they support; `writable` ones
    say so, so that a write of a read-only file is refused at open, not at close."""

    writable = False
    content_matters = True  # False: creating the file is the whole act (see `Writer`)

    def read(self, node: Node) -> bytes:
        raise path_error(errno.EPERM, "this file cannot be read", node.path)

    def size(self, node: Node) -> int | None:
        """Its size in bytes; None when only a download would tell."""
        return len(self.read(node))

    def write(self, node: Node, staged: Path) -> None:
        raise path_error(errno.EPERM, "this file is read-only", node.path)

    def delete(self, node: Node) -> None:
        raise path_error(errno.EPERM, "this file cannot be deleted", node.path)

    def local_file(self, node: Node) -> Path | None:
        """A local file holding the content, for readers that seek (zip); None if none."""
        return None


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
