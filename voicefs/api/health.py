"""Whether the service answers: online, offline since …, or rate limited until ….

The transport reports the outcome of every request to the service. A drive needs this to
refuse writes at once while the service is away (no silent queue), to show it in
`/.voicefs/status.json`, and to know when to look again; listeners hear each change of state
(errors.log gets one line per change, not one per failed request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any


class Availability(str, Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    RATE_LIMITED = "rate limited"


@dataclass(frozen=True)
class HealthState:
    availability: Availability
    since: float  # wall-clock seconds when this state began
    until: float | None = None  # rate limited: when the service said to come back
    last_error: str | None = None  # the latest failure, whatever the state now

    @property
    def usable(self) -> bool:
        """Worth sending a request to: online, or a rate limit that has run out."""
        if self.availability == Availability.RATE_LIMITED:
            return self.until is not None and time.time() >= self.until
        return self.availability == Availability.ONLINE

    @property
    def effective(self) -> Availability:
        """The availability now: a rate limit whose time has come is over."""
        if self.availability == Availability.RATE_LIMITED and self.usable:
            return Availability.ONLINE
        return self.availability

    def describe(self) -> str:
        """`online`, `offline since …` or `rate limited until …`, for messages."""
        if self.effective == Availability.OFFLINE:
            return f"offline since {_iso(self.since)}"
        if self.effective == Availability.RATE_LIMITED:
            return f"rate limited until {_iso(self.until or self.since)}"
        return "online"

    def as_json(self) -> dict[str, Any]:
        limited = self.effective == Availability.RATE_LIMITED
        ended = self.until if self.effective != self.availability else None  # a limit's end
        return {
            "state": self.effective.value,
            "since": _iso(ended if ended is not None else self.since),
            "until": _iso(self.until) if limited and self.until is not None else None,
            "last_error": self.last_error,
        }


Listener = Callable[[HealthState, HealthState], None]  # (before, after)


class ServiceHealth:
    """The service's availability as the requests found it; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = HealthState(Availability.ONLINE, time.time())
        self._listeners: list[Listener] = []

    @property
    def state(self) -> HealthState:
        with self._lock:
            return self._state

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def answered(self) -> None:
        """A request got an answer that was not a 5xx or a 429: the service is there (a rate
        limit still running goes on: the budget is spent until then)."""
        state = self._state
        if state.availability == Availability.ONLINE:  # most calls: nothing to change
            return
        if state.availability == Availability.RATE_LIMITED and not state.usable:
            return
        self._change(
            lambda state: HealthState(Availability.ONLINE, time.time(), None, state.last_error)
        )

    def unreachable(self, reason: str) -> None:
        """A request failed for good: no connection, a timeout, or 5xx after retries."""

        def change(state: HealthState) -> HealthState:
            if state.availability == Availability.OFFLINE:
                return replace(state, last_error=reason)
            return HealthState(Availability.OFFLINE, time.time(), None, reason)

        self._change(change)

    def rate_limited(self, seconds: float, reason: str) -> None:
        """The service answered 429, or the client's own budget is spent: requests go out
        again in `seconds`."""
        until = time.time() + seconds

        def change(state: HealthState) -> HealthState:
            if state.availability == Availability.RATE_LIMITED:
                return HealthState(
                    state.availability, state.since, max(until, state.until or 0), reason
                )
            return HealthState(Availability.RATE_LIMITED, time.time(), until, reason)

        self._change(change)

    def _change(self, change: Callable[[HealthState], HealthState]) -> None:
        with self._lock:
            before = self._state
            after = self._state = change(before)
            listeners = list(self._listeners)
        if after.availability != before.availability:
            for listener in listeners:
                listener(before, after)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
