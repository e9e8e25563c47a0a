"""The filesystem's methods for scripts (CONTRACT §5): order, star, set_note, tts, wait.

Each goes through the same code as the file it stands for (`order.txt`, `X.star`,
`X.note.txt`, `<name>.tts.txt`), so a script and a shell user get the same checks and errors.
"""

from __future__ import annotations

import errno
import posixpath
import shlex
import time
from collections.abc import Sequence

from voicefs.api import VoiceClient
from voicefs.api.errors import InvalidRequestError
from voicefs.api.limiter import poll_intervals
from voicefs.tree import formats, names
from voicefs.tree.errors import path_error
from voicefs.tree.nodes import Node, NodeKind
from voicefs.tree.tree import Tree
from voicefs.tree.virtual import VirtualFiles
from voicefs.tree.virtual.base import control_error


class ScriptMethods:
    """Mixed into VoiceFileSystem, which provides these attributes and `_node`."""

    client: VoiceClient
    tree: Tree
    virtual: VirtualFiles

    def _node(self, path: str) -> Node:
        raise NotImplementedError

    def _strip_protocol(self, path: str) -> str:
        raise NotImplementedError

    def order(
        self,
        path: str,
        voices: str | Sequence[str],
        *,
        accent: str | None = None,
        style: str | None = None,
        semitones: float | None = None,
        label: str | None = None,
        calibration: str | None = None,
    ) -> list[str]:
        """Orders conversions of the original at path (or of its `.conversions` directory)
        into each voice given (names or ids), with the same options, as one write of its
        order.txt would; returns the paths of the new conversions (`….processing`)."""
        sidecar = self._sidecar_of(path)
        voice_list = [voices] if isinstance(voices, str) else list(voices)
        lines = [
            formats.order_line(voice, accent=accent, style=style, semitones=semitones, label=label)
            for voice in voice_list
        ]
        if calibration is not None:
            lines.append(f"calibration={shlex.quote(calibration)}")
        try:
            plan = self.virtual.orders.parse(sidecar, "\n".join(lines))
        except InvalidRequestError as exc:
            if not isinstance(exc.__cause__, formats.OrderError):
                raise
            # The lines were made from the arguments: the error speaks of those (a voice, an
            # accent), not of an order.txt line nobody wrote.
            reason = exc.__cause__.reason
            original = sidecar.path.removesuffix(names.SIDECAR_SUFFIX)
            raise InvalidRequestError(errno.EINVAL, f"{original}: {reason}", detail=reason) from exc
        orders = self.virtual.orders.place(sidecar, plan)
        ordered = {o.conversion_id for o in orders}
        return [
            child.path
            for child in self.tree.children(self._node(sidecar.path))
            if child.audio is not None and child.audio.id in ordered
        ]

    def star(self, path: str, starred: bool = True) -> None:
        """Stars (or unstars) the recording at path, as creating (deleting) `path.star` does."""
        self.virtual.companions.star(self._recording_node(path), starred)

    def set_note(self, path: str, text: str | None) -> None:
        """Writes the note of the recording at path (None or "" deletes it)."""
        node = self._recording_node(path)
        try:
            checked = formats.check_note(text) if text else None
        except formats.ControlTextError as exc:
            raise control_error(node.path + names.NOTE_SUFFIX, exc) from exc
        self.virtual.companions.set_note(node, checked)

    def tts(self, folder: str, name: str, text: str, language: str | None = None) -> str:
        """Creates a text-to-speech original `name` in a folder, as writing
        `<name>.tts.txt` does; returns its path (`<name>.wav.processing` until done)."""
        label = posixpath.splitext(name)[0] if name.lower().endswith(".wav") else name
        source = f"{folder}/{label}{names.TTS_SUFFIX}"
        with self.tree.errors_at(source):
            names.check_new_name(source, label + names.DEFAULT_EXTENSION)
        node = self._node(folder)
        if node.kind != NodeKind.FOLDER:
            raise path_error(errno.EPERM, "Text-to-speech originals are made in a folder", source)
        try:
            request = formats.parse_tts(f"lang: {language}\n{text}" if language else text)
        except formats.ControlTextError as exc:
            raise control_error(source, exc) from exc
        recording = self.virtual.sources.tts(
            node, names.unescape(label), request.text, request.language
        )
        return self._path_of(node, recording.id)

    def wait(self, path: str, timeout: float = 600.0, interval: float = 2.0) -> str:
        """Waits until the recording at path (its audio name, or `….processing`) is done and
        returns its path; raises OSError(EIO) with the service's reason when it failed, and
        TimeoutError when `timeout` seconds pass first. It looks soon, then less often, up to
        every `interval` seconds (`poll_intervals`: at once at the longest while the request
        budget is more than half used)."""
        node = self._recording_node(path)
        deadline = time.monotonic() + timeout
        recording = node.recording_of()
        pace = poll_intervals(self.client.limiter.used, interval)
        while recording.is_processing:
            if time.monotonic() > deadline:
                raise TimeoutError(errno.ETIMEDOUT, f"{node.path}: still processing", node.path)
            time.sleep(next(pace))
            with self.tree.errors_at(node.path):
                recording = self.client.get_recording(recording.id)
        parent = self._node(node.parent_path)
        self.tree.forget_recordings(parent.folder_of().id)
        done_path = self._path_of(parent, recording.id)
        if recording.is_failed:
            reason = recording.error or "the service gave no reason"
            raise OSError(errno.EIO, f"{done_path}: conversion failed: {reason}", done_path)
        return done_path

    def project_path(self, url: str) -> str:
        """The path of the project whose web app URL this is (a link pasted from the web
        app); FileNotFoundError, with the service's reason, when no project has it."""
        with self.tree.errors_at(url):
            project = self.client.project_by_url(url)
        for _ in range(2):  # a project made elsewhere since the listing: list again once
            for child in self.tree.children(self._node("")):
                if child.kind == NodeKind.PROJECT and child.project_of().id == project.id:
                    return child.path
            self.tree.cache.invalidate(("projects",))
        raise path_error(errno.ENOENT, f"project {project.id} is not in the listing", url)

    def _recording_node(self, path: str) -> Node:
        """The recording at path, also by its audio name while it is processing or failed."""
        path = self._strip_protocol(path)
        audio = path.removesuffix(names.PROCESSING_SUFFIX).removesuffix(names.ERROR_SUFFIX)
        candidates = dict.fromkeys(
            (path, audio, audio + names.PROCESSING_SUFFIX, audio + names.ERROR_SUFFIX)
        )
        for candidate in candidates:
            try:
                node = self._node(candidate)
            except FileNotFoundError:
                continue
            if node.is_audio:
                return node
        raise path_error(errno.ENOENT, "No recording here", path)

    def _sidecar_of(self, path: str) -> Node:
        node = self._node(path)
        if node.kind == NodeKind.SIDECAR:
            return node
        if node.kind == NodeKind.ORIGINAL:
            return self._node(
                node.path.removesuffix(names.PROCESSING_SUFFIX).removesuffix(names.ERROR_SUFFIX)
                + names.SIDECAR_SUFFIX
            )
        raise path_error(
            errno.EPERM, "Conversions are ordered for an original recording", node.path
        )

    def _path_of(self, directory: Node, recording_id: str) -> str:
        for child in self.tree.children(directory):
            if child.audio is not None and child.audio.id == recording_id:
                return child.path
        raise path_error(errno.ENOENT, "The recording is gone", directory.path)
