"""The rules between the layers (docs/architecture.md) that keep the door narrow: the mount
asks everything of `voicefs.drive.Drive`, never of the tree's machinery, the client or the
fsspec filesystem (only the runner makes the filesystem the drive stands on)."""

from __future__ import annotations

import ast
from pathlib import Path

import voicefs

PACKAGE = Path(voicefs.__file__).parent
BEHIND_THE_DOOR = (
    "voicefs.filesystem",
    "voicefs.api.client",
    "voicefs.tree.tree",
    "voicefs.tree.cache",
    "voicefs.tree.index",
    "voicefs.tree.virtual",
)
MAKES_THE_FILESYSTEM = {"runner.py"}


def imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_mount_stands_on_the_drive_alone() -> None:
    crossing = {
        path.name: sorted(m for m in imported(path) if m.startswith(BEHIND_THE_DOOR))
        for path in sorted((PACKAGE / "mount").glob("*.py"))
        if path.name not in MAKES_THE_FILESYSTEM
    }
    assert not {name: found for name, found in crossing.items() if found}
    assert "voicefs.drive" in imported(PACKAGE / "mount" / "operations.py")


def test_the_mount_reaches_no_further_than_the_door() -> None:
    """No `….tree.`, `….client.` or `….virtual.` attribute chains in the mount's code."""
    reaching = []
    for path in sorted((PACKAGE / "mount").glob("*.py")):
        if path.name in MAKES_THE_FILESYSTEM:
            continue  # it checks the credentials with the client before mounting
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"tree", "client", "virtual"}:
                reaching.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert not reaching
