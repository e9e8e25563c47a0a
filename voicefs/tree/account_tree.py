"""The entries of `/.voicefs` and of its directories (CONTRACT §2): the account files,
`calibrations/`, `exports/` and the voice catalogue `voices/`."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from voicefs.api.records import Calibration
from voicefs.tree import names
from voicefs.tree.catalogue import voice_directories, voice_files
from voicefs.tree.errors import path_error
from voicefs.tree.layout import ACCOUNT_FILES, EXPORT_SUFFIXES
from voicefs.tree.nodes import Node, NodeKind, Role

if TYPE_CHECKING:
    from voicefs.tree.tree import Tree


def account_children(tree: Tree, node: Node) -> list[Node]:
    """/.voicefs: the account files, calibrations/ and exports/ (CONTRACT §2)."""
    if node.role == Role.CALIBRATIONS:
        calibrations = tree.calibrations()
        assigned = names.assign_names(
            [
                names.Named(names.escape(c.name) + calibration_extension(c), c.id, c.created_at)
                for c in calibrations
            ]
        )
        return [
            node.child(assigned[c.id], NodeKind.ACCOUNT, role=Role.CALIBRATION_AUDIO, calibration=c)
            for c in calibrations
        ]
    if node.role == Role.EXPORTS:
        projects = tree.projects()
        assigned = tree.directory_names(projects)
        return [
            node.child(assigned[p.id] + suffix, NodeKind.ACCOUNT, role=role, project=p)
            for p in projects
            for suffix, role in EXPORT_SUFFIXES
        ]
    if node.role == Role.VOICE_CATALOGUE:
        return voice_directories(node, tree.voices())
    if node.role == Role.VOICE:
        return voice_files(node, tree.known_sample_url)
    if node.role != Role.ACCOUNT:
        raise path_error(errno.ENOTDIR, "Not a directory", node.path)
    files = [node.child(name, NodeKind.ACCOUNT, role=role) for name, role in ACCOUNT_FILES]
    directories = [
        node.child(str(role), NodeKind.ACCOUNT, role=role, is_directory=True)
        for role in (Role.CALIBRATIONS, Role.EXPORTS, Role.VOICE_CATALOGUE)
    ]
    return [*files, *directories]


def calibration_extension(calibration: Calibration) -> str:
    """A calibration's audio extension, from the file path it is served at."""
    return names.extension_of(str(calibration.raw.get("key") or ""))
