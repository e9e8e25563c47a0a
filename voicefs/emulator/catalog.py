"""The voices, accents, narration styles and TTS voices the emulated service offers.

The catalogue is static data, the same for every user and every restart (ids are uuid5 of the
names); what a user changes about a voice (favorites, semitone settings) lives in the store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

_NAMESPACE = uuid.UUID("6f1f6d2e-4b0b-4c1e-9a57-0c5e7a1f2b3d")
CATALOG_OWNER_ID = str(uuid.uuid5(_NAMESPACE, "owner:respeecher"))
CATALOG_CREATED_AT = "2024-02-28T11:21:32.401Z"


def stable_id(kind: str, name: str) -> str:
    """A uuid that is the same in every run, so seeded ids survive restarts and resets."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


@dataclass(frozen=True)
class Accent:
    id: str
    name: str
    short_name: str
    locale: str
    is_default: bool
    native: bool


@dataclass(frozen=True)
class NarrationStyle:
    id: str
    name: str
    is_default: bool


@dataclass(frozen=True)
class Voice:
    """A marketplace voice. `pitch` is its default shift in semitones applied to an original."""

    id: str
    name: str
    gender: str
    age_group: str
    species: str
    visibility: str
    pitch: float
    nationality: str
    description: str
    rating: int
    accents: tuple[Accent, ...]
    narration_styles: tuple[NarrationStyle, ...]
    available: bool = True
    failing_attempts: int = 0  # conversions with this voice fail this many times, then succeed
    tiers: tuple[str, ...] = field(default=("basic",))

    @property
    def slug(self) -> str:
        return self.name.lower().replace(" ", "-")

    @property
    def pitch_group(self) -> str:
        return "low" if self.pitch < -2 else "high" if self.pitch > 2 else "mid"

    def accent(self, accent_id: str) -> Accent | None:
        return next((a for a in self.accents if a.id == accent_id), None)

    def narration_style(self, style_id: str) -> NarrationStyle | None:
        return next((s for s in self.narration_styles if s.id == style_id), None)


@dataclass(frozen=True)
class TTSVoice:
    id: str
    name: str
    f0: float
    visibility: str
    is_default: bool


_ACCENT_LOCALES = {
    "American": ("US", "en-US"),
    "British": ("UK", "en-GB"),
    "Australian": ("AU", "en-AU"),
    "Spanish": ("ES", "es-ES"),
    "Mexican": ("MX", "es-MX"),
    "Ukrainian": ("UA", "uk-UA"),
    "German": ("DE", "de-DE"),
}


def _voice(
    name: str,
    gender: str,
    age_group: str,
    pitch: float,
    accents: list[str],
    styles: list[str],
    *,
    species: str = "human",
    visibility: str = "public",
    available: bool = True,
    failing_attempts: int = 0,
    description: str = "",
    rating: int = 80,
) -> Voice:
    return Voice(
        id=stable_id("voice", name),
        name=name,
        gender=gender,
        age_group=age_group,
        species=species,
        visibility=visibility,
        pitch=pitch,
        nationality=_ACCENT_LOCALES[accents[0]][1].split("-")[1],
        description=description or f"{name}, a {age_group} {gender} voice.",
        rating=rating,
        accents=tuple(
            Accent(
                id=stable_id("accent", f"{name}:{accent}"),
                name=accent,
                short_name=_ACCENT_LOCALES[accent][0],
                locale=_ACCENT_LOCALES[accent][1],
                is_default=index == 0,
                native=index == 0,
            )
            for index, accent in enumerate(accents)
        ),
        narration_styles=tuple(
            NarrationStyle(stable_id("style", f"{name}:{style}"), style, index == 0)
            for index, style in enumerate(styles)
        ),
        available=available,
        failing_attempts=failing_attempts,
    )


VOICES: tuple[Voice, ...] = (
    _voice("Alice", "female", "adult", 3, ["American", "British"], ["Neutral", "Warm"]),
    _voice("Bob", "male", "adult", -4, ["American", "Australian"], ["Neutral", "Excited"]),
    _voice("Carmen", "female", "young", 5, ["Spanish", "Mexican"], ["Neutral", "Bright"]),
    _voice("Dmytro", "male", "senior", -6, ["Ukrainian"], ["Calm"]),
    _voice("Echo", "female", "child", 7, ["American"], ["Playful"], visibility="kids"),
    _voice("Greta", "female", "adult", 2, ["German", "British"], ["Neutral", "Newsroom"]),
    _voice("Hugo", "male", "young", -2, ["British"], ["Neutral"], rating=65),
    _voice(
        "Rex",
        "male",
        "adult",
        -9,
        ["American"],
        ["Growl"],
        species="animal",
        description="A friendly dog's voice.",
    ),
    _voice(
        "Flaky",
        "male",
        "adult",
        1,
        ["American"],
        ["Neutral"],
        failing_attempts=1,
        description="Each conversion fails once, then succeeds when retried.",
    ),
    _voice(
        "Vault",
        "female",
        "adult",
        0,
        ["British"],
        ["Neutral"],
        visibility="paid",
        available=False,
        description="Not available on your plan.",
    ),
)

TTS_VOICES: tuple[TTSVoice, ...] = (
    TTSVoice(stable_id("tts", "Narrator"), "Narrator", 120.0, "public", True),
    TTSVoice(stable_id("tts", "Storyteller"), "Storyteller", 190.0, "public", False),
    TTSVoice(stable_id("tts", "Whisper"), "Whisper", 150.0, "private", False),
)


def voices(extra: int = 0) -> tuple[Voice, ...]:
    """The catalogue, with `extra` generated voices appended (to exercise pagination)."""
    generated = tuple(
        _voice(
            f"Chorus {n:03d}",
            "male" if n % 2 else "female",
            "adult",
            (n % 11) - 5,
            ["American"],
            ["Neutral"],
        )
        for n in range(1, extra + 1)
    )
    return VOICES + generated


def default_tts_voice() -> TTSVoice:
    return next(v for v in TTS_VOICES if v.is_default)
