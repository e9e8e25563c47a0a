"""The rules between the layers (docs/architecture.md) that keep the door narrow: the
front-ends (the mount, the WebDAV server) and the drive machinery they share ask everything of
`voicefs.drive.Drive`, never of the tree's machinery, the client or the fsspec filesystem
(only the door itself, and what makes the filesystem the drive stands on, reach behind it)."""

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
FRONT = ("mount", "webdav", "drive")
REACHES_BEHIND = {
    "door.py",
    "options.py",
    "runner.py",
    "server.py",
}  # the door; those making the filesystem


def front_modules() -> list[Path]:
    return [
        path
        for package in FRONT
        for path in sorted((PACKAGE / package).glob("*.py"))
        if path.name not in REACHES_BEHIND
    ]


def imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_the_front_ends_stand_on_the_drive_alone() -> None:
    crossing = {
        f"{path.parent.name}/{path.name}": sorted(
            m for m in imported(path) if m.startswith(BEHIND_THE_DOOR)
        )
        for path in front_modules()
    }
    assert {name.split("/")[0] for name in crossing} == set(FRONT)  # all three were read
    assert not {name: found for name, found in crossing.items() if found}
    assert "voicefs.drive" in imported(PACKAGE / "mount" / "operations.py")
    assert "voicefs.drive" in imported(PACKAGE / "webdav" / "provider.py")


def test_the_front_ends_reach_no_further_than_the_door() -> None:
    """No `….tree.`, `….client.` or `….virtual.` attribute chains in front of the door."""
    reaching = []
    for path in front_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"tree", "client", "virtual"}:
                reaching.append(f"{path.parent.name}/{path.name}:{node.lineno} .{node.attr}")
    assert not reaching
