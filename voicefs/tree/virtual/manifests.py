"""`recordings.csv` (CONTRACT §4): one row per recording of its directory, read-only.

Made from the directory's cached listing, so reading it after `ls` costs no request.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from voicefs.tree import formats, names
from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile


class ManifestFile(GeneratedFile):
    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        directory = self.tree.resolve(node.parent_path)
        return self._render(directory, self.tree.children(directory))

    def size(self, node: Node) -> int:
        """Kept with the directory's index: `ls -l` asks it of every directory it lists."""
        index = self.tree.index_of(self.tree.resolve(node.parent_path))
        return index.derived(
            "manifest size", lambda: len(self._render(index.directory, index.entries))
        )

    def _render(self, directory: Node, children: Sequence[Node]) -> bytes:
        original = ""
        if directory.kind == NodeKind.SIDECAR:
            original = posixpath.basename(directory.path).removesuffix(names.SIDECAR_SUFFIX)
        rows = [
            formats.ManifestRow.from_recording(child.audio, child.name, original)
            for child in children
            if child.audio is not None
        ]
        return formats.manifest_csv(rows)
