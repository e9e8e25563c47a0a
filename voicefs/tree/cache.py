"""The metadata cache: the service's listings, keyed by the object they list.

Requests are the scarce resource (500 per 300 s), so listings are kept for `ttl` seconds;
a listing with items still processing is kept only `processing_ttl` seconds, so finished
conversions appear by themselves; a name that is not found re-reads a listing older than
`missing_ttl` once, so something created elsewhere shows up soon.

Concurrent misses of one key share one load (single flight): a file manager or the mount's
threads looking up many names at once cost what one thread would. The filesystem's own
writes edit the cached listings with what the service answered (`update`), so writing N
files into a listed folder costs N requests, not N re-listings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cachetools import TLRUCache

T = TypeVar("T")

DEFAULT_TTL = 30.0
DEFAULT_PROCESSING_TTL = 3.0
DEFAULT_MISSING_TTL = 3.0
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Cached:
    value: Any
    loaded_at: float
    expires_at: float


@dataclass
class _Flight:
    """One load in progress; the threads that missed the same key wait for its outcome."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class ListingCache:
    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        processing_ttl: float = DEFAULT_PROCESSING_TTL,
        missing_ttl: float = DEFAULT_MISSING_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self.processing_ttl = min(processing_ttl, ttl)
        self.missing_ttl = missing_ttl
        self._lock = threading.RLock()
        self._flights: dict[Hashable, _Flight] = {}
        self._entries: TLRUCache[Hashable, Cached] = TLRUCache(
            maxsize=max_entries,
            ttu=lambda _key, cached, _now: cached.expires_at,
            timer=time.monotonic,
        )

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(
        self,
        key: Hashable,
        load: Callable[[], T],
        *,
        unsettled: Callable[[T], bool] | None = None,
        lifetime: float | None = None,
    ) -> T:
        """The cached value of key, else `load()`, kept `lifetime` seconds (default: the
        TTL; shorter when `unsettled(value)`). Threads that miss the same key while it is
        loading wait for that load instead of sending their own request."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                value: T = cached.value
                return value
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            shared: T = flight.value
            return shared
        try:
            value = load()
            if unsettled is not None and unsettled(value):
                lifetime = self.processing_ttl
            self.put(key, value, lifetime)
            flight.value = value
            return value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def peek(self, key: Hashable) -> Any:
        """The cached value of key, or None: never loads."""
        with self._lock:
            cached = self._entries.get(key)
        return None if cached is None else cached.value

    def put(self, key: Hashable, value: Any, lifetime: float | None = None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            self._entries[key] = Cached(
                value, now, now + (self.ttl if lifetime is None else lifetime)
            )

    def update(
        self,
        key: Hashable,
        change: Callable[[Any], Any],
        *,
        unsettled: Callable[[Any], bool] | None = None,
    ) -> bool:
        """Replaces a cached value by `change(value)`, keeping its expiry (shortened to the
        processing TTL when the new value is unsettled). False when key was not cached: then
        nothing is known to change, and the next read loads it."""
        with self._lock:
            cached = self._entries.get(key)
            if cached is None:
                return False
            value = change(cached.value)
            expires = cached.expires_at
            if unsettled is not None and unsettled(value):
                expires = min(expires, time.monotonic() + self.processing_ttl)
            self._entries[key] = Cached(value, cached.loaded_at, expires)
            return True

    def age(self, key: Hashable) -> float | None:
        """Seconds since key was loaded, or None when it is not cached."""
        with self._lock:
            cached = self._entries.get(key)
        return None if cached is None else time.monotonic() - cached.loaded_at

    def stale_for_missing(self, key: Hashable) -> bool:
        """Whether a name missing from this listing justifies reading it again."""
        age = self.age(key)
        return age is not None and age > self.missing_ttl

    def cached_keys(self) -> list[Hashable]:
        """The keys cached now (a snapshot)."""
        with self._lock:
            return list(self._entries.keys())

    def contains(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def invalidate(self, *keys: Hashable) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
