"""New originals from written files: audio uploads and text-to-speech sources (CONTRACT §3).

`<name>.wav|.ogg|.mp3|.flac` written in a folder is uploaded under exactly that name, after
its content was checked to be audio of that format (and, for WAV, complete);
`<name>.tts.txt` creates a text-to-speech original labelled `<name>`. Either is written into
the folder's cached listing from the service's answer, so N uploads cost N requests.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from voicefs.api.records import Recording
from voicefs.api.uploads import Progress
from voicefs.tree import formats, names
from voicefs.tree.audio_header import check_audio_file
from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import control_error, read_text


class Sources:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.client = tree.client

    def upload(
        self, folder: Node, name: str, staged: Path, progress: Progress | None = None
    ) -> Recording:
        """Uploads the audio at `staged` as the original `name` of the folder."""
        path = posixpath.join(folder.path, name)
        check_audio_file(path, names.split_extension(name)[1], staged)
        with self.tree.errors_at(path):
            recording = self.client.upload_recording(
                folder.folder_of().id, staged, file_name=name, progress=progress
            )
        self.tree.remember_recording(folder.folder_of().id, recording)
        return recording

    def tts(self, folder: Node, label: str, text: str, language: str | None) -> Recording:
        """A text-to-speech original labelled `label` from `text`."""
        with self.tree.errors_at(posixpath.join(folder.path, label + names.TTS_SUFFIX)):
            recording = self.client.create_tts(folder.folder_of().id, text, language, label or None)
        self.tree.remember_recording(folder.folder_of().id, recording)
        return recording

    def write_tts(self, folder: Node, name: str, staged: Path) -> None:
        """What closing `<label>.tts.txt` in a folder does."""
        path = posixpath.join(folder.path, name)
        try:
            request = formats.parse_tts(read_text(path, staged))
        except formats.ControlTextError as exc:
            raise control_error(path, exc) from exc
        label = names.unescape(name[: -len(names.TTS_SUFFIX)])
        self.tts(folder, label, request.text, request.language)
