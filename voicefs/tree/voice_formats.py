"""The texts of the voice catalogue, as pure functions: `/.voicefs/voices.csv`, and a voice's
`settings.txt` (what reading shows and what a write means).

The service keeps, per user and voice, a favorite accent, a favorite narration style and a
pitch correction per accent (`POST /api/v2/voices/settings`). The file shows them in the
`order.txt` option syntax, and each line written is one change:

    accent=<name|id> [semitones=<number>]   the favorite accent (and its saved correction)
    style=<name|id>                         the favorite narration style

A line may carry both. A bad line refuses the whole write, so nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voicefs.api.records import Voice
from voicefs.tree.formats import (
    NUMBER,
    ControlLine,
    OrderError,
    csv_bytes,
    is_available,
    key_values,
    option_tokens,
    voice_choices,
)

_KEYS = ("accent", "style", "semitones")


@dataclass(frozen=True)
class SettingsChange:
    """One line of settings.txt: what to send in one `POST /api/v2/voices/settings`."""

    accent_id: str | None = None
    narration_style_id: str | None = None
    semitones_correction: float | None = None


def render_settings(voice: Voice) -> str:
    """The commented template with the current favorites as live lines: writing the file
    back unchanged sends the same settings again."""
    accents = ", ".join(a.name + (" (default)" if a.is_default else "") for a in voice.accents)
    styles = ", ".join(
        s.name + (" (default)" if s.is_default else "") for s in voice.narration_styles
    )
    kept = [
        f"{a.name} {a.semitones_correction:+g}"
        for a in voice.accents
        if a.semitones_correction and not a.favorite
    ]
    comments = [
        f"Settings of {voice.name}: your favorite accent and narration style, and the pitch",
        "correction kept for an accent. Write lines and save; a line with a mistake refuses the",
        "whole write and changes nothing.",
        "",
        "  accent=<name|id> [semitones=<number>]   the favorite accent, with its correction",
        "  style=<name|id>                         the favorite narration style",
        "",
        f"Accents: {accents or 'none'}",
        f"Narration styles: {styles or 'none'}",
    ]
    if kept:
        comments.append(f"Corrections kept for other accents: {', '.join(kept)}")
    live = [
        " ".join(option_tokens(accent=a.name, semitones=a.semitones_correction))
        for a in voice.accents
        if a.favorite
    ]
    live += [" ".join(option_tokens(style=s.name)) for s in voice.narration_styles if s.favorite]
    return "".join(f"# {c}".rstrip() + "\n" for c in comments) + "".join(
        f"{line}\n" for line in live
    )


def parse_settings(text: str, voice: Voice) -> list[SettingsChange]:
    """The changes a written settings.txt asks for, in order; OrderError names the first bad
    line (nothing is sent then)."""
    changes = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = ControlLine(number, raw, "settings.txt")
        tokens = line.tokens()
        if tokens:
            changes.append(_change(tokens, voice, line))
    return changes


def _change(tokens: list[str], voice: Voice, line: ControlLine) -> SettingsChange:
    options = key_values(tokens, line, _KEYS, "setting '{}' (write accent=, style= or semitones=)")
    accent, style = voice_choices(voice, options, line)
    semitones = None
    if (value := options.get("semitones")) is not None:
        if accent is None:
            raise line.error("semitones= is kept for an accent: write accent= on its line", value)
        if not NUMBER.fullmatch(value):
            raise line.error(f"semitones must be a number, not '{value}'", value)
        semitones = float(value)
    return SettingsChange(accent, style, semitones)


VOICE_COLUMNS = (
    *("name", "id", "gender", "age_group", "pitch", "available", "favorite"),
    *("accents", "styles"),  # `;`-joined names, the default first
    *("favorite_accent", "favorite_style", "semitones"),  # settings: `accent:number;…`
)


def _default_first(items: Sequence[Any]) -> str:
    return ";".join(i.name for i in sorted(items, key=lambda i: not i.is_default))


def voices_csv(voices: Sequence[Voice]) -> bytes:
    """voices.csv: one row per voice, its accents and styles `;`-joined, default first."""
    return csv_bytes(VOICE_COLUMNS, (_voice_row(v) for v in voices))


def _voice_row(v: Voice) -> tuple[object, ...]:
    choices = (_default_first(v.accents), _default_first(v.narration_styles))
    accent = next((a.name for a in v.accents if a.favorite), None)
    style = next((s.name for s in v.narration_styles if s.favorite), None)
    corrections = ";".join(
        f"{a.name}:{a.semitones_correction:g}" for a in v.accents if a.semitones_correction
    )
    settings = (accent, style, corrections)
    return (
        v.name,
        v.id,
        v.gender,
        v.age_group,
        v.pitch,
        is_available(v),
        v.favorite,
        *choices,
        *settings,
    )


__all__ = ["OrderError", "SettingsChange", "parse_settings", "render_settings", "voices_csv"]
