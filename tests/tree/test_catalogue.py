"""The voice catalogue's names and settings.txt's text, as pure functions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from voicefs.api.records import Accent, NarrationStyle, Voice
from voicefs.tree.catalogue import (
    sample_by_first_name,
    sample_extension,
    voice_directories,
    voice_files,
)
from voicefs.tree.formats import OrderError
from voicefs.tree.nodes import Node, NodeKind, Role
from voicefs.tree.voice_formats import SettingsChange, parse_settings, render_settings

CATALOGUE = Node(".voicefs/voices", NodeKind.ACCOUNT, role=Role.VOICE_CATALOGUE, is_directory=True)
ALICE = Voice(
    "v-alice",
    "Alice",
    accents=(
        Accent("a-us", "American", is_default=True),
        Accent("a-gb", "British", favorite=True, semitones_correction=-2.0),
        Accent("a-xx", "Warm", semitones_correction=1.0),  # an accent named as a style
    ),
    narration_styles=(NarrationStyle("s-warm", "Warm"), NarrationStyle("s-neutral", "Neutral")),
)


def test_voices_are_named_as_projects_are_older_first_on_a_collision() -> None:
    older = Voice(
        "11111111-aaaa", "Echo/Delta", created_at=datetime(2024, 1, 1, tzinfo=timezone.utc)
    )
    newer = Voice(
        "22222222-bbbb", "Echo/Delta", created_at=datetime(2025, 1, 1, tzinfo=timezone.utc)
    )
    named = [n.name for n in voice_directories(CATALOGUE, [newer, older])]
    assert named == ["Echo／Delta ~22222222", "Echo／Delta"]


def test_a_voice_directory_holds_about_samples_favorite_and_settings() -> None:
    [alice] = voice_directories(CATALOGUE, [ALICE])
    files = voice_files(alice, lambda sample: "/api/files/x.mp3" if sample.id == "a-us" else None)
    assert [f.name for f in files] == [
        "about.json",
        "American.mp3",  # its URL is known: its real extension
        "British.wav",
        "Warm.wav",
        "Warm ~swarm.wav",  # the accent came first; the style gets its id
        "Neutral.wav",
        "settings.txt",
    ]
    assert "favorite" not in [f.name for f in files]
    assert sample_extension("/api/files/a.FLAC?x=1") == ".flac"
    assert sample_extension("/api/files/a.bin") == ".wav"


def test_settings_show_the_favorites_as_lines_that_write_back_the_same() -> None:
    text = render_settings(ALICE)
    live = [line for line in text.splitlines() if not line.startswith("#")]
    assert live == ["accent=British semitones=-2"]
    assert "Corrections kept for other accents: Warm +1" in text
    assert parse_settings(text, ALICE) == [SettingsChange("a-gb", None, -2.0)]


def test_settings_lines_become_one_change_each() -> None:
    written = "# mine\nAccent=american\nstyle=s-neutral accent=British semitones=+1.5\n\n"
    assert parse_settings(written, ALICE) == [
        SettingsChange("a-us", None, None),
        SettingsChange("a-gb", "s-neutral", 1.5),
    ]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("accent=American\nlabel=x\n", "settings.txt line 2: unknown setting 'label=x'"),
        ("accent=Klingon\n", "accent 'Klingon' is not an accent of Alice"),
        ("style=Warm style=Neutral\n", "style given twice"),
        ("semitones=1\n", "write accent= on its line"),
        ("accent=British semitones=x\n", "semitones must be a number"),
        ("accent='British\n", "unbalanced quotes"),
    ],
)
def test_a_bad_line_is_refused_naming_it(written: str, reason: str) -> None:
    with pytest.raises(OrderError) as refused:
        parse_settings(written, ALICE)
    assert reason in str(refused.value)


def test_a_sample_keeps_answering_to_its_first_wav_name() -> None:
    [alice] = voice_directories(CATALOGUE, [ALICE])
    files = voice_files(alice, lambda sample: "/api/files/x.mp3" if sample.id == "a-us" else None)
    assert sample_by_first_name(files, "American.wav") is files[1]
    assert files[1].name == "American.mp3"
    assert sample_by_first_name(files, "American.flac") is None
    assert sample_by_first_name(files, "about.wav") is None
