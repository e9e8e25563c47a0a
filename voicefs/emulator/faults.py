"""Test hooks that make the emulator behave like a real, imperfect service.

- `Faults`: the run-time settings (fail rate and mode, latency, rate limits, upload limit).
- `RequestCounter`: requests served, by method and route template.
- `RateLimiter`: the service's per-account budgets (fast and slow requests per window).
- `FaultMiddleware`: an ASGI middleware that adds latency and injects failures — a 500, or a
  dropped connection — either before a request reaches the store or after it was carried out
  (the response is lost), which is what makes a failure ambiguous for a client.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAST_BUDGET = (500, 300.0)
SLOW_BUDGET = (100, 300.0)

# Uploads, orders, exports and TTS are the service's "slow" requests.
SLOW_ROUTES = frozenset(
    {
        ("POST", "/api/recordings"),
        ("POST", "/api/recordings/tts"),
        ("POST", "/api/v2/recordings/tts"),
        ("POST", "/api/v2/orders"),
        ("POST", "/api/v2/orders/retry/{recording_id}"),
        ("POST", "/api/recordings/conversion-order"),
        ("POST", "/api/recordings/conversion-redo/{recording_id}"),
        ("GET", "/api/projects/{project_id}/export"),
        ("GET", "/api/recordings/export"),
        ("POST", "/api/calibration"),
    }
)


@dataclass
class Faults:
    fail_rate: float = 0.0
    fail_mode: str = "error"  # "error": answer 500; "drop": close the connection mid-response
    latency_ms: float = 0.0
    rate_limit: bool = False
    rate_limits: dict[str, list[float]] = field(
        default_factory=lambda: {"fast": list(FAST_BUDGET), "slow": list(SLOW_BUDGET)}
    )
    max_upload_bytes: int = 2 << 30
    seed: int | None = None

    def updated(self, changes: dict[str, Any]) -> Faults:
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        result = replace(self, **changes)
        if not 0.0 <= result.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if result.fail_mode not in ("error", "drop"):
            raise ValueError("fail_mode must be 'error' or 'drop'")
        return result

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class InjectedDisconnect(Exception):
    """Raised after the response started, so the server closes the connection mid-response."""


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"counts": dict(self._counts), "total": sum(self._counts.values())}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RateLimiter:
    """Sliding windows per (account, kind); `check` returns seconds to wait, or 0 to go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def check(self, account: str, kind: str, budget: tuple[int, float]) -> float:
        times, seconds = int(budget[0]), float(budget[1])
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault((account, kind), deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            if len(window) >= times:
                return max(window[0] + seconds - now, 0.001)
            window.append(now)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # has .faults, .counter, .random and .routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        faults: Faults = self.state.faults
        if not scope["path"].startswith("/api/"):  # the test hooks: neither faulted nor counted
            await self.app(scope, receive, send)
            return
        counted = False

        def count() -> None:
            nonlocal counted
            if not counted:
                counted = True
                self.state.counter.add(f"{scope['method']} {self._template(scope)}")

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                count()  # before the client can see the answer, so counts are never late
            await send(message)

        try:
            if faults.latency_ms > 0:
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.fail_rate > 0 and self.state.random.random() < faults.fail_rate:
                await self._fail(scope, receive, counting_send, faults.fail_mode)
            else:
                await self.app(scope, receive, counting_send)
        finally:
            count()

    def _template(self, scope: Scope) -> str:
        """The route template of a request, also of one faulted before it was routed."""
        route = scope.get("route")
        if route is None:
            route = next((r for r in self.state.routes if r.matches(scope)[0] == Match.FULL), None)
        return getattr(route, "path", None) or "<no route>"

    async def _fail(self, scope: Scope, receive: Receive, send: Send, mode: str) -> None:
        carried_out = self.state.random.random() < 0.5
        length = 64
        if carried_out:
            length = await self._run_and_discard(scope, receive)
        if mode == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", str(max(length, 1)).encode())],
                }
            )
            raise InjectedDisconnect("connection dropped by fault injection")
        body = json.dumps({"detail": "injected fault"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _run_and_discard(self, scope: Scope, receive: Receive) -> int:
        """Serves the request for its side effects; returns the length of the lost body."""
        length = 0

        async def swallow(message: Message) -> None:
            nonlocal length
            if message["type"] == "http.response.body":
                length += len(message.get("body", b""))

        await self.app(scope, receive, swallow)
        return length
