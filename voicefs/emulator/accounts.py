"""The emulated service's accounts: users, their one API key, login sessions with CSRF tokens.

Part of `Store` (a base class of it), apart because identity is its own concern.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from typing import Any

from voicefs.emulator import render
from voicefs.emulator.database import Clock, Database, format_time, new_id
from voicefs.emulator.errors import ServiceError, bad_request

Row = dict[str, Any]
DEFAULT_CREDITS = 36_000.0  # seconds of converted audio


class AccountStore:
    """Needs the `db`, `clock` and `settings` (for `session_seconds`) that Store sets up."""

    db: Database
    clock: Clock
    settings: Any

    def create_user(
        self,
        email: str,
        password: str,
        credits: float = DEFAULT_CREDITS,
        api_key: str | None = None,
    ) -> Row:
        user_id = new_id()
        key = api_key or secrets.token_urlsafe(32)
        with self.db.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise bad_request(f"A user with email {email} already exists")
            db.execute(
                "INSERT INTO users (id, email, password, username, api_key, credits,"
                " initial_credits, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    email,
                    password,
                    email.split("@")[0],
                    key,
                    credits,
                    credits,
                    self.clock.stamp(),
                ),
            )
        return {"id": user_id, "email": email, "password": password, "api_key": key}

    def user(self, user_id: str) -> Row:
        with self.db.transaction() as db:
            row = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise ServiceError(401, "User no longer exists")
        return dict(row)

    def user_by_email(self, email: str) -> Row | None:
        with self.db.transaction() as db:
            row = db.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
        return dict(row) if row else None

    def user_by_api_key(self, key: str) -> Row | None:
        with self.db.transaction() as db:
            row = db.execute("SELECT * FROM users WHERE api_key = ?", (key,)).fetchone()
        if row is None:
            return None
        expires = row["api_key_expires_at"]
        if expires and expires < self.clock.stamp():
            return None
        return dict(row)

    def set_api_key(self, user_id: str, key: str) -> None:
        with self.db.transaction() as db:
            db.execute("UPDATE users SET api_key = ? WHERE id = ?", (key, user_id))

    def login(self, email: str, password: str, duration: float | None) -> tuple[str, str, Row]:
        user = self.user_by_email(email)
        if user is None or not secrets.compare_digest(user["password"], password):
            raise ServiceError(401, "Incorrect email or password")
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = time.time() + (duration if duration else self.settings.session_seconds)
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO sessions (id, user_id, csrf_token, expires_at) VALUES (?, ?, ?, ?)",
                (session_id, user["id"], csrf, expires),
            )
        return session_id, csrf, user

    def session(self, session_id: str) -> tuple[Row, str] | None:
        """The session's user and CSRF token, or None when unknown or expired."""
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT users.*, sessions.csrf_token AS csrf, sessions.expires_at AS session_end"
                " FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.id = ?",
                (session_id,),
            ).fetchone()
            if row is not None and row["session_end"] < time.time():
                db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                row = None
        if row is None:
            return None
        user = dict(row)
        return user, user.pop("csrf")

    def logout(self, session_id: str) -> None:
        with self.db.transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def create_api_key(self, user_id: str, expires_at: datetime | None) -> str:
        """One key per account: a new key replaces the previous one.

        The expiry is kept as a UTC stamp (naive times count as UTC), so that it compares
        correctly, as text, with the clock's stamps whatever offset the client sent.
        """
        key = secrets.token_urlsafe(32)
        expires = None
        if expires_at is not None:
            if expires_at.tzinfo is None:
                expires_at = expires_at.replace(tzinfo=timezone.utc)
            expires = format_time(expires_at.timestamp())
        with self.db.transaction() as db:
            db.execute(
                "UPDATE users SET api_key = ?, api_key_expires_at = ? WHERE id = ?",
                (key, expires, user_id),
            )
        return key

    def delete_api_key(self, user_id: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE users SET api_key = NULL, api_key_expires_at = NULL WHERE id = ?",
                (user_id,),
            )

    def render_user(self, user: Row) -> dict[str, Any]:
        f0 = None
        if user["calibration_id"]:
            with self.db.transaction() as db:
                row = db.execute(
                    "SELECT f0 FROM calibrations WHERE id = ?", (user["calibration_id"],)
                ).fetchone()
            f0 = row["f0"] if row else None
        return render.user(user, f0)
