"""The `large` seed: an account of 20 projects × 10 folders × 500 recordings (100,000), to
measure walks, memory and request counts at scale (`--seed large`, `--seed-scale PxFxR`).

Made in seconds, not minutes: projects and folders go through the store's own operations,
but each folder's recordings go in with one statement, and every recording of the account
points at one short WAV on disk (a shared file key, which deleting a recording leaves alone).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voicefs.emulator.store import Row, Store

LARGE_EMAIL = "large@example.com"
LARGE_PASSWORD = "large"
LARGE_API_KEY = "large-key-0123456789abcdef"
DEFAULT_SCALE = (20, 10, 500)
RATE = 22050


def parse_scale(text: str) -> tuple[int, int, int]:
    """`PxFxR` (projects, folders per project, recordings per folder), e.g. `20x10x500`."""
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"{text!r}: the scale is PROJECTSxFOLDERSxRECORDINGS, e.g. 20x10x500")
    projects, folders, recordings = (int(p) for p in parts)
    return projects, folders, recordings


def seed_large(store: Store, user: Row, scale: tuple[int, int, int] = DEFAULT_SCALE) -> int:
    """Fills user's account; returns the number of recordings made."""
    import numpy as np  # the emulator's dependencies: this module is imported by the CLI
    import soundfile as sf

    from voicefs.emulator.database import new_id
    from voicefs.emulator.files import SHARED_PREFIX

    projects, folders, recordings = scale
    key = f"{SHARED_PREFIX}{user['id']}.wav"
    samples = (0.3 * np.sin(2 * np.pi * 220.0 * np.arange(RATE // 2) / RATE)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    shared = store.files.path(key)
    shared.parent.mkdir(parents=True, exist_ok=True)
    shared.write_bytes(buffer.getvalue())
    size, duration = len(buffer.getvalue()), 0.5
    made = 0
    for p in range(1, projects + 1):
        project = store.create_project(user, f"Project {p:02}", user["id"], {})
        for f in range(1, folders + 1):
            folder = store.create_folder(user, project["id"], f"Folder {f:02}")
            rows = [
                (
                    new_id(),
                    user["id"],
                    project["id"],
                    folder["id"],
                    key,
                    f"take {r:04}.wav",
                    size,
                    duration,
                    store.clock.stamp(),
                )
                for r in range(1, recordings + 1)
            ]
            with store.db.transaction() as db:
                db.executemany(
                    "INSERT INTO recordings (id, user_id, project_id, folder_id, type, file_key,"
                    " file_name, state, microphone, size, duration, created_at) VALUES"
                    " (?, ?, ?, ?, 'original', ?, ?, 'done', 'file', ?, ?, ?)",
                    rows,
                )
                db.execute(
                    "UPDATE projects SET last_recording_at = ? WHERE id = ?",
                    (rows[-1][-1], project["id"]),
                )
            made += len(rows)
    return made
