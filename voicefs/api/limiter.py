"""A client-side sliding-window limiter that keeps the process under the service's budgets.

The service allows 500 "fast" and 100 "slow" requests per 300 s per account and answers 429
beyond that. A big walk of the tree would hit that wall; the limiter makes it slow down instead.
A request holds a slot from the moment it is sent until its answer arrives, and the window
counts it from its *answer* time: the service counted it on arrival, which is never later, so
the client's window is never more generous than the service's.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from voicefs.api.limits import FAST_BUDGET, SLOW_BUDGET

FAST = "fast"
SLOW = "slow"


@dataclass(frozen=True)
class Budget:
    """At most `times` requests in any `seconds`-long window."""

    times: int
    seconds: float


DEFAULT_BUDGETS: dict[str, Budget] = {FAST: Budget(*FAST_BUDGET), SLOW: Budget(*SLOW_BUDGET)}

BudgetSpec = Mapping[str, "Budget | tuple[int, float] | list[float]"]


def parse_budgets(spec: BudgetSpec | None) -> dict[str, Budget]:
    """Budgets from `{"fast": (times, seconds), ...}`; kinds not given keep the defaults."""
    budgets = dict(DEFAULT_BUDGETS)
    for kind, value in (spec or {}).items():
        if isinstance(value, Budget):
            budgets[kind] = value
        else:
            times, seconds = value
            budgets[kind] = Budget(int(times), float(seconds))
    return budgets


POLL_FIRST = 0.5  # seconds before the first look at something just asked for ...
POLL_GROWTH = 1.5  # ... each next look this much later than the one before ...
SPARE_SHARE = 0.5  # ... while no more than this share of the budget is in use


def poll_intervals(
    used: Callable[[], float], longest: float, first: float = POLL_FIRST
) -> Iterator[float]:
    """Seconds between looks at something about to change (a conversion just ordered): short
    at first, then backing off to `longest`; while more than half of the request budget is in
    use, `longest` at once, so that looking never crowds out what users ask."""
    interval = min(first, longest)
    while True:
        yield longest if used() > SPARE_SHARE else interval
        interval = min(longest, interval * POLL_GROWTH)


class BudgetSpent(Exception):
    """The budget of `kind` has no slot within the caller's patience: one frees in `wait` s
    (infinity: when a request still in flight answers)."""

    def __init__(self, kind: str, wait: float) -> None:
        super().__init__(f"the request budget ({kind}) is spent")
        self.kind = kind
        self.wait = wait


class RateLimiter:
    """Blocks callers until their kind of request fits its budget; thread-safe.

    `pause(seconds)` holds every request back, for a 429 whose Retry-After says the service
    is already counting us out.
    """

    def __init__(
        self,
        budgets: BudgetSpec | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.budgets = parse_budgets(budgets)
        self._clock = clock
        self._cond = threading.Condition()
        self._stamps: dict[str, deque[float]] = {kind: deque() for kind in self.budgets}
        self._in_flight: dict[str, int] = dict.fromkeys(self.budgets, 0)
        self._paused_until = 0.0

    def __repr__(self) -> str:
        if not self.enabled:
            return "RateLimiter(disabled)"
        shown = ", ".join(f"{k}={b.times}/{b.seconds:g}s" for k, b in self.budgets.items())
        return f"RateLimiter({shown})"

    @contextmanager
    def slot(self, kind: str = FAST, patience: float | None = None) -> Iterator[None]:
        """Holds one request slot of `kind` for the duration of the block; raises BudgetSpent
        at once when none frees within `patience` seconds (None: waits as long as it takes)."""
        if not self.enabled:
            yield
            return
        self._acquire(kind, patience)
        try:
            yield
        finally:
            self._release(kind)

    def pause(self, seconds: float) -> None:
        """No request starts during the next `seconds` (a 429's Retry-After)."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def wait_estimate(self, kind: str = FAST) -> float:
        """Seconds until a slot of `kind` would be free now: 0 when one is free, infinity when
        every slot is held by a request still in flight."""
        if not self.enabled:
            return 0.0
        with self._cond:
            wait = self._wait_time(kind, self._clock())
            return math.inf if wait is None else max(0.0, wait)

    def used(self, kind: str = FAST) -> float:
        """The share of the budget of `kind` taken in the window now (0 when disabled)."""
        if not self.enabled:
            return 0.0
        with self._cond:
            self._wait_time(kind, self._clock())  # lets stamps out of the window age out
            taken = len(self._stamps[kind]) + self._in_flight[kind]
            return min(1.0, taken / self.budgets[kind].times)

    def _wait_time(self, kind: str, now: float) -> float | None:
        """0 when a slot is free; else seconds to wait, or None to wait for a release."""
        budget = self.budgets[kind]
        window = self._stamps[kind]
        while window and window[0] <= now - budget.seconds:
            window.popleft()
        if self._paused_until > now:
            return self._paused_until - now
        if len(window) + self._in_flight[kind] < budget.times:
            return 0.0
        if window:
            return window[0] + budget.seconds - now
        return None

    def _acquire(self, kind: str, patience: float | None) -> None:
        if kind not in self.budgets:
            raise KeyError(f"unknown request kind {kind!r}")
        with self._cond:
            deadline = None if patience is None else self._clock() + patience
            while True:
                now = self._clock()
                wait = self._wait_time(kind, now)
                if wait == 0.0:
                    self._in_flight[kind] += 1
                    return
                if deadline is not None:
                    if wait is not None and now + wait > deadline:
                        raise BudgetSpent(kind, wait)  # no slot ages out in time: say so now
                    if now >= deadline:
                        raise BudgetSpent(kind, math.inf)
                    wait = min(wait if wait is not None else math.inf, deadline - now)
                self._cond.wait(timeout=wait)

    def _release(self, kind: str) -> None:
        with self._cond:
            self._in_flight[kind] -= 1
            self._stamps[kind].append(self._clock())
            self._cond.notify_all()
