"""The voice catalogue as directories, `/.voicefs/voices/<voice>/` (CONTRACT §2): one per
voice you can see, each holding `about.json`, a sample per accent and per narration style,
`favorite` when it is one, and `settings.txt`.

Everything here comes from the voices listing (one request per 100 voices): listing the
catalogue or a voice's directory asks nothing more. A sample's audio is asked for only when
it is read; until then its name carries `.wav`, and the extension the service's URL has once
it has been asked.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from voicefs.api.records import Voice
from voicefs.tree import names
from voicefs.tree.layout import (
    SAMPLE_EXTENSION,
    VOICE_ABOUT,
    VOICE_FAVORITE,
    VOICE_RESERVED,
    VOICE_SETTINGS,
)
from voicefs.tree.nodes import Node, NodeKind, Role, Sample, SampleKind

SampleUrl = Callable[[Sample], str | None]
"""The URL of a sample's audio when the service has told it already, else None."""


def voice_directories(catalogue: Node, voices: Sequence[Voice]) -> list[Node]:
    """One directory per voice, named by CONTRACT §2's rules (collisions included)."""
    assigned = names.assign_names(
        [names.Named(names.directory_name(v.name, v.id), v.id, v.created_at) for v in voices],
        keep_extension=False,
    )
    return [
        catalogue.child(
            assigned[v.id], NodeKind.ACCOUNT, role=Role.VOICE, voice=v, is_directory=True
        )
        for v in voices
    ]


def samples_of(voice: Voice) -> list[Sample]:
    """What there is to audition: each accent, then each narration style."""
    return [Sample(SampleKind.ACCENT, a.id, a.name) for a in voice.accents] + [
        Sample(SampleKind.NARRATION_STYLE, s.id, s.name) for s in voice.narration_styles
    ]


def sample_extension(url: str | None) -> str:
    """The extension of a sample's audio: its URL's, else `.wav` until the URL is known."""
    extension = posixpath.splitext(url.split("?", 1)[0])[1].lower() if url else ""
    return extension if extension in names.AUDIO_EXTENSIONS else SAMPLE_EXTENSION


def sample_by_first_name(files: Sequence[Node], name: str) -> Node | None:
    """The sample a `.wav` name stood for before the service's URL told its extension: a
    path seen in an earlier listing keeps leading to it."""
    stem, extension = posixpath.splitext(name)
    if extension != SAMPLE_EXTENSION:
        return None
    samples = [f for f in files if f.role == Role.VOICE_SAMPLE]
    return next((f for f in samples if posixpath.splitext(f.name)[0] == stem), None)


def voice_files(directory: Node, known_url: SampleUrl) -> list[Node]:
    """The entries of one voice's directory."""
    voice = directory.voice_of()
    samples = samples_of(voice)
    assigned = names.assign_names(
        [
            names.Named(names.escape(s.name) + sample_extension(known_url(s)), s.id, None)
            for s in samples
        ],
        VOICE_RESERVED,
    )
    files = [directory.child(VOICE_ABOUT, NodeKind.ACCOUNT, role=Role.VOICE_ABOUT)]
    files += [
        directory.child(assigned[s.id], NodeKind.ACCOUNT, role=Role.VOICE_SAMPLE, sample=s)
        for s in samples
    ]
    if voice.favorite:
        files.append(directory.child(VOICE_FAVORITE, NodeKind.ACCOUNT, role=Role.VOICE_FAVORITE))
    files.append(directory.child(VOICE_SETTINGS, NodeKind.ACCOUNT, role=Role.VOICE_SETTINGS))
    return files
