"""The metadata cache: the service's listings, keyed by the object they list.

Requests are the scarce resource (500 per 300 s), so listings are kept for `ttl` seconds;
a listing with items still processing is kept only `processing_ttl` seconds, so finished
conversions appear by themselves; a name that is not found re-reads a listing older than
`missing_ttl` once, so something created elsewhere shows up soon. Writes invalidate exactly
the listings they change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
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
    lifetime: float


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
        self._entries: TLRUCache[Hashable, Cached] = TLRUCache(
            maxsize=max_entries,
            ttu=lambda _key, cached, now: now + cached.lifetime,
            timer=time.monotonic,
        )

    def get(
        self,
        key: Hashable,
        load: Callable[[], T],
        *,
        unsettled: Callable[[T], bool] | None = None,
        lifetime: float | None = None,
    ) -> T:
        """The cached value of key, else `load()`, kept `lifetime` seconds (default: the
        TTL; shorter when `unsettled(value)`)."""
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            value: T = cached.value
            return value
        value = load()
        if unsettled is not None and unsettled(value):
            lifetime = self.processing_ttl
        self.put(key, value, lifetime)
        return value

    def peek(self, key: Hashable) -> Any:
        """The cached value of key, or None: never loads."""
        with self._lock:
            cached = self._entries.get(key)
        return None if cached is None else cached.value

    def put(self, key: Hashable, value: Any, lifetime: float | None = None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = Cached(
                value, time.monotonic(), self.ttl if lifetime is None else lifetime
            )

    def age(self, key: Hashable) -> float | None:
        """Seconds since key was loaded, or None when it is not cached."""
        with self._lock:
            cached = self._entries.get(key)
        return None if cached is None else time.monotonic() - cached.loaded_at

    def stale_for_missing(self, key: Hashable) -> bool:
        """Whether a name missing from this listing justifies reading it again."""
        age = self.age(key)
        return age is not None and age > self.missing_ttl

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
