"""`X.star` and `X.note.txt` (CONTRACT §4): present exactly when X is starred or has a note.

Creating `X.star` stars X and deleting it unstars; writing `X.note.txt` creates or replaces
the note, deleting it deletes the note. `fs.star` and `fs.set_note` are the same operations.
Each change is written into the cached listing from the service's answer: no re-listing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from voicefs.api.records import Note, Recording
from voicefs.tree import formats
from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile, control_error, read_text


class Companions:
    """The operations behind the companion files."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.client = tree.client

    def star(self, node: Node, starred: bool = True) -> Recording:
        recording = node.recording_of()
        with self.tree.errors_at(node.path):
            updated = self.client.update_recording(recording.id, starred=starred)
        self._remember(node, dataclasses.replace(recording, starred=starred))
        return updated

    def set_note(self, node: Node, text: str | None) -> None:
        """Creates, replaces or (None or "") deletes the note of a recording."""
        recording = node.recording_of()
        note: Note | None = None
        with self.tree.errors_at(node.path):
            if text:
                formats.check_note(text)  # raises with the limit and the length
                if recording.note is None:
                    note = self.client.create_note(recording.id, text)
                else:
                    note = self.client.update_note(recording.id, text)
                note = dataclasses.replace(note, text=text)
            elif recording.note is not None:
                self.client.delete_note(recording.id)
        self._remember(node, dataclasses.replace(recording, note=note))

    def _remember(self, node: Node, recording: Recording) -> None:
        self.tree.remember_recording(node.folder_of().id, recording)


class StarFile(GeneratedFile):
    writable = True
    content_matters = False

    def __init__(self, companions: Companions) -> None:
        self.companions = companions

    def read(self, node: Node) -> bytes:
        return b""

    def write(self, node: Node, staged: Path) -> None:
        self.companions.star(node, True)

    def delete(self, node: Node) -> None:
        self.companions.star(node, False)


class NoteFile(GeneratedFile):
    writable = True

    def __init__(self, companions: Companions) -> None:
        self.companions = companions

    def read(self, node: Node) -> bytes:
        note = node.recording.note if node.recording else None
        return note.text.encode() if note else b""

    def write(self, node: Node, staged: Path) -> None:
        try:
            text = formats.check_note(read_text(node.path, staged))
        except formats.ControlTextError as exc:
            raise control_error(node.path, exc) from exc
        self.companions.set_note(node, text)

    def delete(self, node: Node) -> None:
        self.companions.set_note(node, None)
