"""The running emulator's parts, and the authentication every endpoint depends on."""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from voicefs.emulator import audio
from voicefs.emulator.conversions import Conversions, Worker
from voicefs.emulator.errors import ServiceError, not_found
from voicefs.emulator.faults import SLOW_ROUTES, Faults, RateLimiter, RequestCounter
from voicefs.emulator.reports import Reports
from voicefs.emulator.store import Row, Store

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class EmulatorState:
    store: Store
    startup_faults: Faults
    seed: str | None = None
    primary_api_key: str | None = None
    faults: Faults = field(init=False)
    counter: RequestCounter = field(default_factory=RequestCounter)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    random: random.Random = field(init=False)
    conversions: Conversions = field(init=False)
    reports: Reports = field(init=False)
    worker: Worker = field(init=False)
    routes: list[Any] = field(default_factory=list)  # the API routes, to name faulted requests

    def __post_init__(self) -> None:
        self.conversions = Conversions(self.store)
        self.reports = Reports(self.store)
        self.worker = Worker(self.store)
        self.set_faults(self.startup_faults)

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.store.settings.max_upload_bytes = faults.max_upload_bytes
        self.limiter.reset()

    def enforce_rate_limit(self, user: Row, method: str, route: str) -> None:
        if not self.faults.rate_limit:
            return
        kind = "slow" if (method, route) in SLOW_ROUTES else "fast"
        times, seconds = self.faults.rate_limits[kind]
        wait = self.limiter.check(user["id"], kind, (int(times), float(seconds)))
        if wait:
            retry_after = max(1, round(wait + 0.4))
            raise ServiceError(
                429,
                f"Rate limit exceeded: {int(times)} {kind} requests per {seconds:g} s",
                {"Retry-After": str(retry_after)},
            )

    def sample_path(self, name: str) -> Path:
        """A voice sample, spoken once on first request and kept beside the recordings."""
        if not re.fullmatch(r"[a-z0-9-]+\.wav", name):
            raise not_found("Sample")
        path = self.store.files.path(f"samples/{name}")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.store.files.scratch_file(".wav")
            audio.text_to_speech(f"Hello, this is {name.split('-')[0]}.", scratch, "wav")
            self.store.files.adopt(scratch, f"samples/{name}")
        return path


def emulator_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def authenticated_user(request: Request) -> Row:
    """The caller, by `api-key` header or by session cookie plus CSRF token; then the
    account's rate limit is applied."""
    state = emulator_state(request)
    key = request.headers.get("api-key")
    if key:
        user = state.store.user_by_api_key(key)
        if user is None:
            raise ServiceError(401, "Invalid or expired API key")
    else:
        session_id = request.cookies.get("session_id")
        if not session_id:
            raise ServiceError(401, "Not authenticated: send an api-key header or log in")
        found = state.store.session(session_id)
        if found is None:
            raise ServiceError(401, "Session expired or unknown: log in again")
        user, csrf = found
        sent = request.headers.get("x-csrf-token", "")
        if request.method not in SAFE_METHODS and not secrets.compare_digest(sent, csrf):
            raise ServiceError(403, "CSRF token missing or incorrect")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    state.enforce_rate_limit(user, request.method, route)
    return user
