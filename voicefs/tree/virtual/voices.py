"""The files of a voice's directory, `/.voicefs/voices/<voice>/`: `about.json`, the samples
to audition, `favorite` and `settings.txt`.

A sample is fetched only when read, into a local file kept for the life of the filesystem:
samples never change. Until then its size is unknown. Changing `favorite` or
`settings.txt` writes the service's answer (the updated voice) into the cached voices
listing, so the next listing shows it without asking again.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.account import json_bytes
from voicefs.tree.virtual.base import GeneratedFile, control_error, read_text
from voicefs.tree.voice_formats import OrderError, parse_settings, render_settings


class VoiceChanges:
    """Favorites and settings: the operations behind `favorite` and `settings.txt`."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def set_favorite(self, node: Node, favorite: bool) -> None:
        voice = node.voice_of()
        with self.tree.errors_at(node.path):
            updated = self.tree.client.set_voice_favorite(voice.id, favorite)
        self.tree.remember_voice(updated)

    def write_settings(self, node: Node, text: str) -> None:
        """Every line checked first (one bad line refuses the whole write), then one
        `POST /api/v2/voices/settings` per line."""
        voice = node.voice_of()
        try:
            changes = parse_settings(text, voice)
        except OrderError as exc:
            raise control_error(node.path, exc) from exc
        for change in changes:
            with self.tree.errors_at(node.path):
                updated = self.tree.client.set_voice_settings(
                    voice.id,
                    accent_id=change.accent_id,
                    narration_style_id=change.narration_style_id,
                    semitones_correction=change.semitones_correction,
                )
            self.tree.remember_voice(updated)


class AboutFile(GeneratedFile):
    """The voice as the service describes it."""

    def read(self, node: Node) -> bytes:
        return json_bytes(node.voice_of().raw)


class FavoriteFile(GeneratedFile):
    """Present exactly when the voice is a favorite; creating it marks, deleting unmarks."""

    writable = True
    content_matters = False

    def __init__(self, changes: VoiceChanges) -> None:
        self.changes = changes

    def read(self, node: Node) -> bytes:
        return b""

    def write(self, node: Node, staged: Path) -> None:
        self.changes.set_favorite(node, True)

    def delete(self, node: Node) -> None:
        self.changes.set_favorite(node, False)


class SettingsFile(GeneratedFile):
    writable = True

    def __init__(self, changes: VoiceChanges) -> None:
        self.changes = changes

    def read(self, node: Node) -> bytes:
        return render_settings(node.voice_of()).encode()

    def write(self, node: Node, staged: Path) -> None:
        self.changes.write_settings(node, read_text(node.path, staged))


class SampleFile(GeneratedFile):
    """A sample's audio: asked for where it is, then downloaded, once each."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._lock = threading.Lock()
        self._scratch = tempfile.TemporaryDirectory(prefix="voicefs-samples-")

    def _path(self, node: Node) -> Path:
        sample = node.sample_of()
        return Path(self._scratch.name) / f"{sample.kind.name.lower()}-{sample.id}"

    def size(self, node: Node) -> int | None:
        """Known once fetched; None before: a listing never downloads samples."""
        fetched = self._path(node)
        return fetched.stat().st_size if fetched.exists() else None

    def read(self, node: Node) -> bytes:
        return self.local_file(node).read_bytes()

    def local_file(self, node: Node) -> Path:
        target = self._path(node)
        with self._lock:
            if not target.exists():
                with self.tree.errors_at(node.path):
                    url = self.tree.sample_url(node.sample_of())
                    data = self.tree.client.download(url)
                partial = target.with_suffix(".part")
                partial.write_bytes(data)
                partial.replace(target)
        return target
