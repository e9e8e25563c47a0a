"""Start-up data: the `demo` account, the `large` one (seed_large.py), and the user that owns
`--api-key`.

Seeding goes through the store's own operations (uploads, orders, notes), so the seeded
account is exactly what a client could have built, and applies only once per data directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from voicefs.emulator import audio
from voicefs.emulator.catalog import stable_id
from voicefs.emulator.conversions import ConversionRequest, Conversions, Worker
from voicefs.emulator.seed_large import (
    DEFAULT_SCALE,
    LARGE_API_KEY,
    LARGE_EMAIL,
    LARGE_PASSWORD,
    seed_large,
)
from voicefs.emulator.store import Row, Store

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo"
DEMO_API_KEY = "demo-key-0123456789abcdef"
DEFAULT_EMAIL = "emulator@example.com"
DEFAULT_PASSWORD = "emulator"

# project -> folder -> [(file name, label, spoken text)]
DEMO_LIBRARY: dict[str, dict[str, list[tuple[str, str | None, str]]]] = {
    "Audiobook": {
        "Chapter 1": [
            ("opening.wav", None, "It was a bright cold day in April."),
            ("take 2.flac", None, "The clocks were striking thirteen."),
            ("whisper.ogg", "Whisper take", "Nobody heard the whisper in the hall."),
        ],
        "Chapter 2": [
            ("door.mp3", None, "The door opened slowly, and the wind came in."),
            ("letter.wav", None, "She read the letter twice before she believed it."),
        ],
    },
    "Podcast": {
        "Episode 1": [
            ("intro.wav", None, "Welcome back to the show. Today we talk about voices."),
            ("outro.mp3", None, "Thanks for listening, see you next week."),
            ("ad read.flac", None, "This episode is brought to you by nobody at all."),
        ],
        "Interviews": [
            ("guest.ogg", None, "I started recording when I was twelve years old."),
            ("host.wav", "Host question", "What made you choose this voice?"),
        ],
    },
    "Game Characters": {
        "Villains": [
            ("laugh.wav", None, "You will never find the key to the tower."),
            ("threat.flac", None, "Come closer, little hero, if you dare."),
        ],
    },
}


def apply_seed(
    store: Store,
    seed: str | None,
    api_key: str | None,
    scale: tuple[int, int, int] = DEFAULT_SCALE,
) -> bool:
    """Creates the seed's data unless it is there already; returns whether it created any."""
    if seed == "demo":
        if store.user_by_email(DEMO_EMAIL) is not None:
            if api_key:
                store.set_api_key(store.user_by_email(DEMO_EMAIL)["id"], api_key)  # type: ignore[index]
            return False
        user = store.create_user(DEMO_EMAIL, DEMO_PASSWORD, api_key=api_key or DEMO_API_KEY)
        _seed_demo(store, store.user(user["id"]))
        return True
    if seed == "large":
        if store.user_by_email(LARGE_EMAIL) is not None:
            return False
        user = store.create_user(LARGE_EMAIL, LARGE_PASSWORD, api_key=api_key or LARGE_API_KEY)
        seed_large(store, store.user(user["id"]), scale)
        return True
    if seed not in (None, "", "none"):
        raise ValueError(f"unknown seed {seed!r}: the seeds are 'demo', 'large' and 'none'")
    if api_key:
        existing = store.user_by_email(DEFAULT_EMAIL)
        if existing is None:
            store.create_user(DEFAULT_EMAIL, DEFAULT_PASSWORD, api_key=api_key)
            return True
        store.set_api_key(existing["id"], api_key)
    return False


def _seed_demo(store: Store, user: Row) -> None:
    conversions = Conversions(store)
    originals: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="voicefs-seed-") as tmp:
        for project_name, folders in DEMO_LIBRARY.items():
            project = store.create_project(user, project_name, user["id"], {})
            for folder_name, takes in folders.items():
                folder = store.create_folder(user, project["id"], folder_name)
                for file_name, label, text in takes:
                    extension = file_name.rsplit(".", 1)[1]
                    path = Path(tmp) / f"take.{extension}"
                    audio.text_to_speech(text, path, extension, voice_f0=130.0)
                    with path.open("rb") as upload:
                        originals.append(
                            store.create_recording(
                                user, folder["id"], upload, file_name, "file", label
                            )
                        )
    alice, bob, flaky = (stable_id("voice", name) for name in ("Alice", "Bob", "Flaky"))
    opening, door, intro = originals[0], originals[3], originals[5]
    conversions.order(
        user, opening["id"], [ConversionRequest(alice), ConversionRequest(bob)], None, False
    )
    conversions.order(
        user,
        door["id"],
        [ConversionRequest(alice, semitones_correction=-2, label="Alice low")],
        None,
        False,
    )
    conversions.order(
        user, intro["id"], [ConversionRequest(bob), ConversionRequest(flaky)], None, False
    )
    _finish_now(store)
    store.create_note(user, opening["id"], "Best take so far; keep the pause after 'April'.")
    store.update_recording(user, door["id"], starred=True)
    converted = store.list_recordings(
        user, limit=200, offset=0, direction="asc", original_id=opening["id"]
    )["list"]
    store.update_recording(user, converted[0]["id"], starred=True)


def _finish_now(store: Store) -> None:
    """Runs the queued conversions at once instead of after --conversion-seconds."""
    with store.db.transaction() as db:
        db.execute("UPDATE recordings SET due_at = 0 WHERE state = 'processing'")
    worker = Worker(store)
    while worker.run_due():
        pass
