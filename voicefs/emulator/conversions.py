"""Work the emulated service does in the background: conversions, TTS and calibrations.

Requests only queue the work (a row in state `processing` with a due time) and pay for it;
`Worker` turns due rows into real audio on its own thread, so state changes happen while
clients poll, as on the real service. Everything queued survives a restart.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from voicefs.emulator import audio, render
from voicefs.emulator.catalog import TTS_VOICES, default_tts_voice
from voicefs.emulator.database import new_id
from voicefs.emulator.errors import ServiceError, bad_request, not_found
from voicefs.emulator.store import Row, Store

log = logging.getLogger("voicefs.emulator")


@dataclass(frozen=True)
class ConversionRequest:
    voice_id: str
    accent_id: str | None = None
    narration_style_id: str | None = None
    semitones_correction: float = 0.0
    label: str | None = None


class Conversions:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _db(self) -> Any:
        return self.store.db

    def _due(self) -> float:
        return time.time() + self.store.settings.conversion_seconds

    # ------------------------------------------------------------------- orders

    def order(
        self,
        user: Row,
        original_id: str,
        requests: list[ConversionRequest],
        calibration_id: str | None,
        use_calibration: bool,
    ) -> list[Row]:
        """Validates the whole order, charges credits, queues one conversion per request."""
        if not requests:
            raise bad_request("An order needs at least one conversion")
        with self._db.transaction() as db:
            original = self.store._recording(db, user, original_id)
            if original["type"] != "original":
                raise bad_request("Conversions can only be ordered for an original recording")
            if original["state"] != "done":
                raise bad_request(f"The original is not ready (state: {original['state']})")
            settings = self.store.voice_settings(user)
            plans = [self._plan(original, request, settings) for request in requests]
            calibration = self._calibration_for_order(db, user, calibration_id, use_calibration)
            cost = original["duration"] * len(plans)
            account = self.store.user(user["id"])
            if account["credits"] < cost:
                raise ServiceError(
                    402,
                    f"Not enough credits: this order needs {cost:.1f}, "
                    f"the account has {account['credits']:.1f}",
                )
            db.execute("UPDATE users SET credits = credits - ? WHERE id = ?", (cost, user["id"]))
            orders = []
            for plan in plans:
                conversion = self.store.insert_recording(
                    db,
                    {
                        **plan,
                        "user_id": user["id"],
                        "project_id": original["project_id"],
                        "folder_id": original["folder_id"],
                        "type": "converted",
                        "original_id": original_id,
                        "state": "processing",
                        "process_stage": "queued",
                        "duration": original["duration"],
                        "due_at": self._due(),
                        "calibration_id": calibration["id"] if calibration else None,
                        "calibration_name": calibration["name"] if calibration else None,
                        "calibration_value": calibration["f0"] if calibration else None,
                    },
                )
                orders.append(self._insert_order(db, user, conversion, original["duration"]))
            return orders

    def _plan(self, original: Row, request: ConversionRequest, settings: dict[str, Row]) -> Row:
        voice = self.store.voice(request.voice_id)
        if not voice.available:
            raise ServiceError(403, f"The voice {voice.name} is not available on your plan")
        accent = voice.accent(request.accent_id) if request.accent_id else None
        if request.accent_id and accent is None:
            raise bad_request(f"Accent {request.accent_id} is not an accent of {voice.name}")
        accent = accent or next(a for a in voice.accents if a.is_default)
        style_id = request.narration_style_id
        if style_id and voice.narration_style(style_id) is None:
            raise bad_request(f"Narration style {style_id} is not a style of {voice.name}")
        if original["tts"] and not style_id:
            raise bad_request("narration_style_id is required to convert a text-to-speech original")
        saved = settings.get(accent.id, {}).get("semitones_correction", 0.0)
        semitones = voice.pitch + saved + request.semitones_correction
        stem = (original["file_name"] or original["id"]).rsplit(".", 1)[0]
        extension = (original["file_key"] or ".wav").rsplit(".", 1)[-1]
        params = {"accent_id": accent.id, "semitones_correction": request.semitones_correction}
        if style_id:
            params["narration_style_id"] = style_id
        return {
            "model_id": voice.id,
            "model_name": voice.name,
            "accent_id": accent.id,
            "narration_style_id": style_id,
            "semitones": semitones,
            "label": request.label,
            "file_name": f"{stem}-{voice.slug}.{extension}",
            "params": json.dumps(params),
        }

    def _calibration_for_order(
        self, db: sqlite3.Connection, user: Row, calibration_id: str | None, use: bool
    ) -> Row | None:
        wanted = calibration_id if (use or calibration_id) else user["calibration_id"]
        if not wanted:
            return None
        row = db.execute(
            "SELECT * FROM calibrations WHERE id = ? AND user_id = ?", (wanted, user["id"])
        ).fetchone()
        if row is None:
            raise not_found("Calibration")
        return dict(row)

    def _insert_order(self, db: sqlite3.Connection, user: Row, conversion: Row, cost: float) -> Row:
        row = {
            "id": new_id(),
            "user_id": user["id"],
            "original_id": conversion["original_id"],
            "conversion_id": conversion["id"],
            "calibration_id": conversion["calibration_id"],
            "tracking_id": new_id(),
            "f0": conversion["calibration_value"],
            "cost": cost,
            "state": "new",
            "created_at": self.store.clock.stamp(),
            "closed_at": None,
            "error": None,
        }
        db.execute(
            "INSERT INTO orders (id, user_id, original_id, conversion_id, calibration_id,"
            " tracking_id, f0, cost, state, created_at) VALUES (:id, :user_id, :original_id,"
            " :conversion_id, :calibration_id, :tracking_id, :f0, :cost, :state, :created_at)",
            row,
        )
        return render.order(row)

    def retry(self, user: Row, recording_id: str) -> tuple[Row, Row]:
        """Queues a failed conversion again; returns (order, conversion)."""
        with self._db.transaction() as db:
            conversion = self.store._recording(db, user, recording_id)
            if conversion["type"] != "converted":
                raise bad_request("Only a conversion can be retried, not an original")
            if conversion["state"] != "error":
                raise bad_request(
                    f"Only a failed conversion can be retried (state: {conversion['state']})"
                )
            cost = conversion["duration"]
            if self.store.user(user["id"])["credits"] < cost:
                raise ServiceError(402, f"Not enough credits: the retry needs {cost:.1f}")
            db.execute("UPDATE users SET credits = credits - ? WHERE id = ?", (cost, user["id"]))
            db.execute(
                "UPDATE recordings SET state = 'processing', process_stage = 'queued',"
                " error = NULL, due_at = ? WHERE id = ?",
                (self._due(), recording_id),
            )
            fresh = self.store._recording(db, user, recording_id)
            order = self._insert_order(db, user, fresh, cost)
            return order, self.store._render_recordings(db, [fresh])[0]

    # ---------------------------------------------------------------------- TTS

    def tts(
        self,
        user: Row,
        folder_id: str,
        text: str,
        label: str | None,
        language: str | None,
        tts_voice_id: str | None,
    ) -> Row:
        if not text.strip():
            raise bad_request("Text must not be blank")
        voice = default_tts_voice()
        if tts_voice_id:
            matches = [v for v in TTS_VOICES if v.id == tts_voice_id]
            if not matches:
                raise not_found("TTS voice")
            voice = matches[0]
        with self._db.transaction() as db:
            folder = self.store._folder(db, user, folder_id)
            row = self.store.insert_recording(
                db,
                {
                    "user_id": user["id"],
                    "project_id": folder["project_id"],
                    "folder_id": folder_id,
                    "type": "original",
                    "label": label,
                    "state": "processing",
                    "process_stage": "synthesizing",
                    "tts": 1,
                    "tts_voice": voice.name,
                    "tts_voice_id": voice.id,
                    "text": text,
                    "text_language": language,
                    "microphone": "tts",
                    "due_at": self._due(),
                },
            )
            return self.store._render_recordings(db, [row])[0]

    # ------------------------------------------------------------- calibrations

    def list_calibrations(self, user: Row, limit: int, offset: int, search: str | None) -> Row:
        where, args = "user_id = ?", [user["id"]]
        if search:
            where += " AND name LIKE ?"
            args.append(f"%{search}%")
        with self._db.transaction() as db:
            count = db.execute(f"SELECT COUNT(*) FROM calibrations WHERE {where}", args).fetchone()[
                0
            ]
            rows = db.execute(
                f"SELECT * FROM calibrations WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        enabled = self.store.user(user["id"])["calibration_id"]
        items = [render.calibration(dict(r), r["id"] == enabled) for r in rows]
        return render.page(items, count, limit, offset)

    def _calibration(self, db: sqlite3.Connection, user: Row, calibration_id: str) -> Row:
        row = db.execute(
            "SELECT * FROM calibrations WHERE id = ? AND user_id = ?", (calibration_id, user["id"])
        ).fetchone()
        if row is None:
            raise not_found("Calibration")
        return dict(row)

    def _render_calibration(self, user_id: str, row: Row) -> Row:
        return render.calibration(row, self.store.user(user_id)["calibration_id"] == row["id"])

    def create_calibration(self, user: Row, name: str, upload: BinaryIO, file_name: str) -> Row:
        with self._db.transaction() as db:
            taken = db.execute(
                "SELECT 1 FROM calibrations WHERE user_id = ? AND name = ?", (user["id"], name)
            ).fetchone()
        if taken:
            raise bad_request(f"A calibration named {name!r} exists already")
        scratch, size = self.store.files.spool(upload, self.store.settings.max_upload_bytes)
        try:
            if size > self.store.settings.max_upload_bytes:
                raise ServiceError(413, "File too large")
            try:
                info = audio.probe(scratch)
            except audio.AudioError as exc:
                raise bad_request(f"Unsupported audio file {file_name!r}: {exc}") from exc
            calibration_id = new_id()
            key = f"{user['id']}/calibrations/{calibration_id}.{info.format}"
            row = {
                "id": calibration_id,
                "user_id": user["id"],
                "name": name,
                "state": "processing",
                "file_key": key,
                "created_at": self.store.clock.stamp(),
                "due_at": self._due(),
            }
            with self._db.transaction() as db:
                self.store.files.adopt(scratch, key)
                db.execute(
                    "INSERT INTO calibrations (id, user_id, name, state, file_key, created_at,"
                    " due_at) VALUES (:id, :user_id, :name, :state, :file_key, :created_at,"
                    " :due_at)",
                    row,
                )
                return render.calibration(self._calibration(db, user, calibration_id), False)
        finally:
            scratch.unlink(missing_ok=True)

    def get_calibration(self, user: Row, calibration_id: str) -> Row:
        with self._db.transaction() as db:
            row = self._calibration(db, user, calibration_id)
        return self._render_calibration(user["id"], row)

    def rename_calibration(self, user: Row, calibration_id: str, name: str) -> Row:
        with self._db.transaction() as db:
            self._calibration(db, user, calibration_id)
            db.execute("UPDATE calibrations SET name = ? WHERE id = ?", (name, calibration_id))
            row = self._calibration(db, user, calibration_id)
        return self._render_calibration(user["id"], row)

    def enable_calibration(self, user: Row, calibration_id: str | None) -> Row | None:
        """Makes the calibration the account's default; None means `auto`."""
        with self._db.transaction() as db:
            row = self._calibration(db, user, calibration_id) if calibration_id else None
            if row is not None and row["state"] != "calibrated":
                raise bad_request(f"The calibration is not ready (state: {row['state']})")
            db.execute(
                "UPDATE users SET calibration_id = ? WHERE id = ?", (calibration_id, user["id"])
            )
        return render.calibration(row, True) if row else None

    def delete_calibration(self, user: Row, calibration_id: str) -> Row:
        with self._db.transaction() as db:
            row = self._calibration(db, user, calibration_id)
            enabled = self.store.user(user["id"])["calibration_id"] == calibration_id
            db.execute("DELETE FROM calibrations WHERE id = ?", (calibration_id,))
            if enabled:
                db.execute("UPDATE users SET calibration_id = NULL WHERE id = ?", (user["id"],))
        self.store.files.delete(row["file_key"])
        return render.calibration(row, enabled)


class Worker:
    """Finishes due conversions, TTS originals and calibrations on a background thread."""

    def __init__(self, store: Store, interval: float = 0.05) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emulator-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_due()
            except Exception:  # keep the service alive; the row stays queued
                log.exception("background work failed")
                worked = False
            if not worked:
                self._stop.wait(self.interval)

    def run_due(self) -> bool:
        """Does one due piece of work; returns whether there was any."""
        now = time.time()
        with self.store.db.transaction() as db:
            recording = db.execute(
                "SELECT * FROM recordings WHERE state = 'processing' AND due_at <= ?"
                " ORDER BY due_at LIMIT 1",
                (now,),
            ).fetchone()
            calibration = db.execute(
                "SELECT * FROM calibrations WHERE state = 'processing' AND due_at <= ?"
                " ORDER BY due_at LIMIT 1",
                (now,),
            ).fetchone()
        if recording is not None:
            row = dict(recording)
            if row["tts"] and row["type"] == "original":
                self._speak(row)
            else:
                self._convert(row)
            return True
        if calibration is not None:
            self._calibrate(dict(calibration))
            return True
        return False

    def _finish(self, row: Row, scratch: Any, info: audio.AudioInfo, key: str) -> None:
        """Stores the produced audio, unless the recording was deleted meanwhile."""
        with self.store.db.transaction() as db:
            still_there = db.execute(
                "SELECT 1 FROM recordings WHERE id = ? AND state = 'processing'", (row["id"],)
            ).fetchone()
            if not still_there:
                scratch.unlink(missing_ok=True)
                return
            self.store.files.adopt(scratch, key)
            converted_at = self.store.clock.stamp()
            db.execute(
                "UPDATE recordings SET state = 'done', process_stage = NULL, file_key = ?,"
                " size = ?, duration = ?, converted_at = ?, due_at = NULL,"
                " attempts = attempts + 1 WHERE id = ?",
                (
                    key,
                    self.store.files.path(key).stat().st_size,
                    round(info.duration, 3),
                    converted_at,
                    row["id"],
                ),
            )
            db.execute(
                "UPDATE orders SET state = 'done', closed_at = ? WHERE conversion_id = ?"
                " AND state = 'new'",
                (converted_at, row["id"]),
            )

    def _convert(self, row: Row) -> None:
        voice = self.store.voices.get(row["model_id"])
        if voice is not None and row["attempts"] < voice.failing_attempts:
            self._fail(row, f"Conversion failed: {voice.name} could not process this recording")
            return
        original_key = self._original_key(row)
        if original_key is None:
            return
        source = self.store.files.path(original_key)
        extension = original_key.rsplit(".", 1)[-1]
        scratch = self.store.files.scratch_file(f".{extension}")
        info = audio.convert_file(source, scratch, row["semitones"] or 0.0)
        self._finish(row, scratch, info, f"{row['user_id']}/{row['id']}.{extension}")

    def _original_key(self, row: Row) -> str | None:
        with self.store.db.transaction() as db:
            original = db.execute(
                "SELECT file_key FROM recordings WHERE id = ?", (row["original_id"],)
            ).fetchone()
        return original["file_key"] if original else None

    def _fail(self, row: Row, error: str) -> None:
        with self.store.db.transaction() as db:
            db.execute(
                "UPDATE recordings SET state = 'error', process_stage = NULL, error = ?,"
                " due_at = NULL, attempts = attempts + 1 WHERE id = ? AND state = 'processing'",
                (error, row["id"]),
            )
            refund = db.execute(
                "SELECT cost FROM orders WHERE conversion_id = ? AND state = 'new'", (row["id"],)
            ).fetchone()
            if refund:
                db.execute(
                    "UPDATE users SET credits = credits + ? WHERE id = ?",
                    (refund["cost"], row["user_id"]),
                )
            db.execute(
                "UPDATE orders SET state = 'error', error = ?, closed_at = ?"
                " WHERE conversion_id = ? AND state = 'new'",
                (error, self.store.clock.stamp(), row["id"]),
            )

    def _speak(self, row: Row) -> None:
        scratch = self.store.files.scratch_file(".wav")
        voice = next((v for v in TTS_VOICES if v.id == row["tts_voice_id"]), default_tts_voice())
        info = audio.text_to_speech(
            row["text"], scratch, "wav", language=row["text_language"], voice_f0=voice.f0
        )
        with self.store.db.transaction() as db:
            db.execute(
                "UPDATE recordings SET file_name = ? WHERE id = ?",
                (f"{row['label'] or 'tts'}.wav", row["id"]),
            )
        self._finish(row, scratch, info, f"{row['user_id']}/{row['id']}.wav")

    def _calibrate(self, row: Row) -> None:
        samples, samplerate = audio.read(self.store.files.path(row["file_key"]))
        f0 = audio.estimate_f0(samples, samplerate)
        with self.store.db.transaction() as db:
            if f0 <= 0:
                db.execute(
                    "UPDATE calibrations SET state = 'error', error = ?, due_at = NULL"
                    " WHERE id = ?",
                    ("No voice found in the calibration audio", row["id"]),
                )
            else:
                db.execute(
                    "UPDATE calibrations SET state = 'calibrated', f0 = ?, calibrated_at = ?,"
                    " due_at = NULL WHERE id = ?",
                    (round(f0, 2), self.store.clock.stamp(), row["id"]),
                )
