"""What the control, companion and account files do: one table of virtual files.

For each role a virtual file can play, `VirtualFiles` knows what reading it shows, what
writing it means when the file is closed, and what deleting it means. The same operations
back the filesystem's script methods (`order`, `star`, `set_note`, `tts`): a file is a front
to a method, not a second implementation.
"""

from __future__ import annotations

import dataclasses
import errno
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicefs.api.records import Calibration, ConversionRequest, Order, Recording, Voice
from voicefs.tree import formats, names
from voicefs.tree.account import CALIBRATIONS, AccountFiles
from voicefs.tree.errors import errors_at, path_error
from voicefs.tree.nodes import ACCOUNT, COMPANION, FOLDER, SIDECAR, Node
from voicefs.tree.roles import Role, control_error, read_text
from voicefs.tree.tree import ORDER, Tree

VOICES_TTL = 600.0  # the voice catalogue changes rarely; order.txt templates list it
Writer = Callable[[Path], Any]


class VirtualFiles:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.client = tree.client
        self.roles: dict[str, Role] = {
            "star": Role(lambda node: b"", self._write_star, lambda n: self.star(n, False)),
            "note": Role(self._read_note, self._write_note, lambda n: self.set_note(n, None)),
            "order": Role(self._read_order, self._write_order),
            "manifest": Role(self._read_manifest),
        }
        self.account = AccountFiles(self)
        self.roles.update(self.account.roles())
        tree.account_children = self.account.children

    # ------------------------------------------------------------------ dispatch

    def role(self, node: Node) -> Role:
        role = self.roles.get(node.role or "")
        if role is None:
            raise path_error(errno.EPERM, "not a control or companion file", node.path)
        return role

    def content(self, node: Node) -> bytes:
        return self.role(node).read(node)

    def delete(self, node: Node) -> None:
        action = self.role(node).delete
        if action is None:
            raise path_error(errno.EPERM, "this file cannot be deleted", node.path)
        action(node)

    def writer(self, parent: Node, name: str) -> Writer | None:
        """What closing a file written as `name` in `parent` does, or None when writing that
        name means nothing there. Existing control and companion files, new companions of a
        recording, text-to-speech sources."""
        target = next((c for c in self.tree.children(parent) if c.name == name), None)
        if target is None or target.role not in self.roles:
            target = self._new_companion(parent, name) if target is None else None
        if target is not None:
            write = self.roles[target.role or ""].write
            if write is None:
                raise path_error(errno.EPERM, "this file is read-only", target.path)
            node = target
            return lambda staged: write(node, staged)
        audio = posixpath.splitext(name)[1].lower() in names.AUDIO_EXTENSIONS
        if parent.kind == ACCOUNT and parent.role == CALIBRATIONS and audio:
            path = posixpath.join(parent.path, name)
            return lambda staged: self.account.create_calibration(path, staged)
        if parent.kind == FOLDER and name.endswith(names.TTS_SUFFIX):
            label = names.unescape(name[: -len(names.TTS_SUFFIX)])
            return lambda staged: self._write_tts(parent, label, staged)
        return None

    def _new_companion(self, parent: Node, name: str) -> Node | None:
        """`X.star` or `X.note.txt` for a recording X of this directory that has none yet."""
        if parent.kind not in (FOLDER, SIDECAR):
            return None
        for suffix, role in ((names.STAR_SUFFIX, "star"), (names.NOTE_SUFFIX, "note")):
            if name.endswith(suffix):
                recording = self.recording_named(parent, name[: -len(suffix)])
                if recording is not None:
                    return parent.child(name, COMPANION, recording=recording, role=role)
        return None

    def recording_named(self, directory: Node, audio_name: str) -> Recording | None:
        """The recording of a folder or sidecar whose audio name is `audio_name`."""
        recordings = self.directory_recordings(directory)
        reserved = self.tree.reserved_names(directory)
        assigned = self.tree.audio_names(recordings, reserved)
        return next((r for r in recordings if assigned[r.id] == audio_name), None)

    def directory_recordings(self, directory: Node) -> list[Recording]:
        if directory.kind == FOLDER and directory.folder is not None:
            return [r for r in self.tree.recordings(directory.folder) if r.type == "original"]
        if directory.kind == SIDECAR and directory.folder and directory.original:
            return self.tree.conversions(directory.folder, directory.original)
        return []

    # --------------------------------------------------------------- operations

    def star(self, node: Node, starred: bool = True) -> Recording:
        recording = self._recording_of(node)
        with errors_at(node.path):
            updated = self.client.update_recording(recording.id, starred=starred)
        self._forget(node)
        return updated

    def set_note(self, node: Node, text: str | None) -> None:
        """Creates, replaces or (None or "") deletes the note of a recording."""
        recording = self._recording_of(node)
        with errors_at(node.path):
            if text:
                if len(text) > formats.NOTE_MAX:
                    formats.check_note(text)  # raises with the limit and the length
                if recording.note is None:
                    self.client.create_note(recording.id, text)
                else:
                    self.client.update_note(recording.id, text)
            elif recording.note is not None:
                self.client.delete_note(recording.id)
        self._forget(node)

    def order(self, sidecar: Node, plan: formats.OrderPlan) -> list[Order]:
        """Places one order (and the retries) for the sidecar's original."""
        original = sidecar.original
        assert original is not None and sidecar.folder is not None
        orders: list[Order] = []
        # an order is a write of order.txt (fs.order too): its errors name that file
        with errors_at(posixpath.join(sidecar.path, ORDER)):
            if plan.conversions:
                known = [r.id for r in self.tree.conversions(sidecar.folder, original)]
                calibration = plan.calibration
                orders += self.client.order(
                    original.id,
                    self._with_styles(original, plan),
                    calibration_id=None if calibration in (None, formats.AUTO) else calibration,
                    use_calibration=calibration not in (None, formats.AUTO),
                    known_conversions=known,
                )
            orders += [self.client.retry_conversion(rid) for rid in plan.retries]
        self.tree.forget_recordings(sidecar.folder.id, original.id)
        return orders

    def _with_styles(self, original: Recording, plan: formats.OrderPlan) -> list[ConversionRequest]:
        """A text-to-speech original needs a narration style: the voice's default if none."""
        if not original.tts:
            return list(plan.conversions)
        voices = {v.id: v for v in self.voices()}
        requests = []
        for request in plan.conversions:
            voice = voices.get(request.voice_id)
            if request.narration_style_id is None and voice and voice.narration_styles:
                styles = voice.narration_styles
                default = next((s for s in styles if s.is_default), styles[0])
                request = dataclasses.replace(request, narration_style_id=default.id)
            requests.append(request)
        return requests

    def parse_order(self, sidecar: Node, text: str) -> formats.OrderPlan:
        names_to_ids = {
            child.name: child.recording.id
            for child in self.tree.children(sidecar)
            if child.is_audio and child.recording is not None
        }
        for child in self.tree.children(sidecar):  # `retry X.wav` for `X.wav.error` too
            if child.is_audio and child.recording is not None and child.recording.state == "error":
                names_to_ids[child.name.removesuffix(names.ERROR_SUFFIX)] = child.recording.id
        return formats.parse_order(text, self.voices(), self.calibrations(), names_to_ids)

    def tts(self, folder: Node, label: str, text: str, language: str | None) -> Recording:
        assert folder.folder is not None
        with errors_at(folder.path):
            recording = self.client.create_tts(folder.folder.id, text, language, label or None)
        self.tree.forget_recordings(folder.folder.id)
        return recording

    # ------------------------------------------------------------------ catalogues

    def voices(self) -> list[Voice]:
        return self.tree.cache.get(
            ("voices",), lambda: list(self.client.list_voices()), lifetime=VOICES_TTL
        )

    def calibrations(self) -> list[Calibration]:
        return self.tree.cache.get(("calibrations",), lambda: list(self.client.list_calibrations()))

    # ------------------------------------------------------------ read and write

    def _read_note(self, node: Node) -> bytes:
        note = node.recording.note if node.recording else None
        return note.text.encode() if note else b""

    def _write_note(self, node: Node, staged: Path) -> None:
        try:
            text = formats.check_note(read_text(node.path, staged))
        except formats.ControlTextError as exc:
            raise control_error(node.path, exc) from exc
        self.set_note(node, text)

    def _write_star(self, node: Node, staged: Path) -> None:
        self.star(node, True)

    def _read_order(self, node: Node) -> bytes:
        original = node.original
        assert original is not None
        audio = posixpath.basename(node.parent_path).removesuffix(names.SIDECAR_SUFFIX)
        return formats.order_template(audio or original.id, self.voices()).encode()

    def _write_order(self, node: Node, staged: Path) -> None:
        sidecar = self.tree.resolve(node.parent_path)
        try:
            plan = self.parse_order(sidecar, read_text(node.path, staged))
        except formats.ControlTextError as exc:
            raise control_error(node.path, exc) from exc
        if not plan.is_empty:
            self.order(sidecar, plan)

    def _write_tts(self, folder: Node, label: str, staged: Path) -> None:
        path = posixpath.join(folder.path, label + names.TTS_SUFFIX)
        try:
            request = formats.parse_tts(read_text(path, staged))
        except formats.ControlTextError as exc:
            raise control_error(path, exc) from exc
        self.tts(folder, label, request.text, request.language)

    def _read_manifest(self, node: Node) -> bytes:
        directory = self.tree.resolve(node.parent_path)
        rows = []
        for child in self.tree.children(directory):
            if child.is_audio and child.recording is not None:
                original = ""
                if directory.kind == SIDECAR:
                    original = posixpath.basename(directory.path).removesuffix(names.SIDECAR_SUFFIX)
                rows.append(
                    formats.ManifestRow.from_recording(child.recording, child.name, original)
                )
        return formats.manifest_csv(rows)

    # ------------------------------------------------------------------- helpers

    def _recording_of(self, node: Node) -> Recording:
        if node.recording is None:
            raise path_error(errno.ENOENT, "no recording here", node.path)
        return node.recording

    def _forget(self, node: Node) -> None:
        if node.folder is not None:
            self.tree.forget_recordings(node.folder.id, node.original.id if node.original else None)

    def local_file(self, node: Node) -> Path | None:
        """A local file that holds the node's content (exports), or None."""
        if node.role in ("export", "export-starred"):
            return self.account.export_path(node)
        return None

    def size(self, node: Node) -> int | None:
        if node.kind == ACCOUNT:
            return self.account.size(node)
        return len(self.content(node))
