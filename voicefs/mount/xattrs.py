"""Extended attributes `user.voicefs.*` (CONTRACT §6): a recording's service metadata, read
from the listing with no request, for scripts and file-manager columns."""

from __future__ import annotations

from voicefs.tree.nodes import Node

PREFIX = "user.voicefs."
ATTRIBUTE_NAMES = tuple(PREFIX + n for n in ("id", "state", "voice", "duration", "starred"))


def is_system_name(name: str) -> bool:
    """`security.*`, `system.*` and `trusted.*`: namespaces the drive does not support. The
    kernel asks for them before each write, and `ls -l` for every entry (SELinux label, POSIX
    ACLs) until it is told "not supported" (EOPNOTSUPP) once per filesystem; "no such attribute"
    (ENODATA) would make it ask again for each of thousands of entries."""
    return not name.startswith("user.")


def attribute_value(node: Node, name: str) -> bytes | None:
    recording = node.audio
    if recording is None or not name.startswith(PREFIX):
        return None
    values = {
        "id": recording.id,
        "state": str(recording.state),
        "voice": recording.model_name,
        "duration": f"{recording.duration:g}",
        "starred": "true" if recording.starred else "false",
    }
    value = values.get(name[len(PREFIX) :])
    return None if value is None else value.encode()
