"""`ClientOptions`: how the client treats the service (limits, timeouts, retries, pool).

One frozen value, so the client, its transport and the filesystem share one list of options
and their defaults, and a pickled client carries them as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from voicefs.api.limiter import DEFAULT_BUDGETS, Budget, BudgetSpec, parse_budgets


def _default_budgets() -> dict[str, Budget]:
    return dict(DEFAULT_BUDGETS)


@dataclass(frozen=True)
class ClientOptions:
    """Everything about a client but its URL and credentials; all fields have defaults."""

    rate_limit: bool = True
    """Keep under the service's budgets client-side: a big walk then slows down instead of
    running into 429s. Off for an emulator without limits."""

    budgets: BudgetSpec = field(default_factory=_default_budgets)
    """`{"fast": (times, seconds), "slow": (...)}`: the service's 500 / 100 per 300 s unless
    changed (lower them when other programs share the account); kinds not given keep theirs."""

    timeout: tuple[float, float] = (10.0, 60.0)
    """(connect, read) seconds of ordinary requests: a live service connects in well under
    10 s and answers JSON in well under a minute, so waiting longer only hides an outage."""

    slow_timeout: tuple[float, float] = (10.0, 600.0)
    """(connect, read) seconds of slow requests (uploads, exports, text-to-speech), whose
    answer may take minutes while the service stores or renders audio."""

    max_retries: int = 5
    """Retries of a failed idempotent request (or of a create after looking for it): with
    `backoff` they wait up to about 8 s in all, enough to ride out a restart, short of a hang."""

    backoff: float = 0.25
    """Seconds before the first retry, doubling each time (at most 8 s, with jitter): most
    faults are a dropped connection that the next attempt gets past."""

    budget_patience: float | None = None
    """Seconds a request may wait for a slot of the client's own budget before it fails with
    EIO (rate limited until …); None waits as long as it takes. A drive sets its `--timeout`,
    so that no call blocks for minutes behind a spent budget."""

    rate_limit_patience: float = 330.0
    """Seconds that 429s may delay one request before it fails with EIO: a full budget window
    (300 s) empties in that time, so waiting longer means something else uses the account."""

    pool_size: int = 32
    """Pooled connections per host: enough for thread pools, Dask and the mount to work in
    parallel with keep-alive (requests' default of 10 would drop and reopen connections)."""

    session_duration: int | None = None
    """Seconds of session an email/password login asks for; None takes the service's
    default. Tests use a short one to see the client log in again."""

    def __post_init__(self) -> None:
        # Lists from a config file or JSON become the tuples and Budgets the fields promise.
        object.__setattr__(self, "budgets", parse_budgets(self.budgets))
        object.__setattr__(self, "timeout", _pair(self.timeout))
        object.__setattr__(self, "slow_timeout", _pair(self.slow_timeout))

    def __hash__(self) -> int:
        """A value can be a key: `budgets` (a dict) counts by its items."""
        values = (getattr(self, f.name) for f in fields(self))
        return hash(
            tuple(tuple(sorted(v.items())) if isinstance(v, Mapping) else v for v in values)
        )

    @classmethod
    def names(cls) -> frozenset[str]:
        """The option names, as keyword arguments spell them."""
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def take(
        cls, kwargs: MutableMapping[str, Any], base: ClientOptions | None = None
    ) -> ClientOptions:
        """Pops the client options out of `kwargs` (leaving the rest for their owner) and
        returns them as a value: `base` (else the defaults) with those given replaced."""
        given = {name: kwargs.pop(name) for name in cls.names() if name in kwargs}
        return replace(base or cls(), **given)


def _pair(value: Any) -> tuple[float, float]:
    first, second = value
    return float(first), float(second)


__all__ = ["ClientOptions"]
