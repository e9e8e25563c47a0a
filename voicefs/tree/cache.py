"""The metadata cache: the service's listings, keyed by the object they list.

Requests are the scarce resource (500 per 300 s), so listings are kept for `ttl` seconds;
a listing with items still processing is kept only `processing_ttl` seconds, so finished
conversions appear by themselves; a name that is not found re-reads a listing older than
`missing_ttl` once, so something created elsewhere shows up soon.

Concurrent misses of one key share one load (single flight): a file manager or the mount's
threads looking up many names at once cost what one thread would. The filesystem's own
writes edit the cached listings with what the service answered (`update`), so writing N
files into a listed folder costs N requests, not N re-listings.

With a `Store` (the mount's, or `cache_storage=` of the fsspec filesystem) every listing is
also kept on disk, and the last known one serves when the service does not answer: a listing
younger than the TTL costs no request after a restart, and a stale or refreshed one is used
when the service is unreachable, failing or out of budget. With `wait` (the mount's
`--timeout`) no caller waits longer than that for a listing: a load that takes longer goes
on in the background while the caller gets the last known listing, or EIO when there is none;
while the service is away, a stale listing is answered at once.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cachetools import TLRUCache

from voicefs.api.errors import ServiceUnavailableError
from voicefs.api.health import ServiceHealth
from voicefs.tree.store import Known, Store

T = TypeVar("T")

DEFAULT_TTL = 30.0
DEFAULT_PROCESSING_TTL = 3.0
DEFAULT_MISSING_TTL = 3.0
# Entries of listings (a project, a folder or a recording each) kept in memory: with a store,
# the folders in use (4 to 6 KiB a recording with its indexes, for a mount); the rest is
# read back from disk when asked. Without one, what is evicted costs requests again.
DEFAULT_MAX_ENTRIES = 25_000
DEFAULT_MAX_ENTRIES_WITHOUT_STORE = 1_000_000
BACKGROUND_LOADS = 4  # listings fetched at once in the background (bounded waits)


def weight(value: Any, most: int) -> int:
    """What a value counts against `max_entries` (`most`): a listing its entries and itself,
    and never more than all of it (a folder larger than the bound is kept alone)."""
    return min(1 + len(value), most) if isinstance(value, list) else 1


@dataclass(frozen=True)
class Cached:
    value: Any
    loaded_at: float  # monotonic
    expires_at: float  # monotonic
    loaded_wall: float  # when the service gave it, as the store keeps it
    lifetime: float | None  # None: the TTL


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
        max_entries: int | None = None,
        *,
        store: Store | None = None,
        wait: float | None = None,
        health: ServiceHealth | None = None,
    ) -> None:
        self.ttl = ttl
        self.processing_ttl = min(processing_ttl, ttl)
        self.missing_ttl = missing_ttl
        self.store = store if ttl > 0 else None
        if max_entries is None:
            stored = self.store is not None
            max_entries = DEFAULT_MAX_ENTRIES if stored else DEFAULT_MAX_ENTRIES_WITHOUT_STORE
        self.max_entries = max_entries
        # A value loaded again that equals the one in use is that one (the tree sets it):
        # what is worked out from a listing stays good while the listing says the same.
        self.same_as_before: Callable[[Hashable, Any], Any] = lambda _key, value: value
        self.wait = wait
        self.health = health
        self._background = threading.BoundedSemaphore(BACKGROUND_LOADS)
        self._strict = threading.local()  # see fresh_only
        self._changes: dict[Hashable, int] = {}  # see _generation
        self._versions: dict[Hashable, int] = {}  # the stored version memory agrees with
        self._epoch = 0
        self._slow = False  # a load outlasted `wait` and none has come back since
        self._lock = threading.RLock()
        self._flights: dict[Hashable, _Flight] = {}
        self._loaded_here: set[Hashable] = set()  # keys this process has put (not remembered)
        self._entries: TLRUCache[Hashable, Cached] = TLRUCache(
            maxsize=max_entries,
            ttu=lambda _key, cached, _now: cached.expires_at,
            timer=time.monotonic,
            getsizeof=lambda cached: weight(cached.value, max_entries),
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
            generation = self._generation(key)
        strict = getattr(self._strict, "on", False)
        known = self.store.load(key) if self.store is not None else None
        if known is not None and known.fresh(self.ttl):
            remembered: T = self._keep_known(key, known, generation)
            return remembered
        if strict:
            known = None  # what must be fresh is never answered from the past
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if leader:
            run = lambda: self._load(key, flight, load, unsettled, lifetime)  # noqa: E731
            if self.wait is None or strict:
                run()
            else:
                self._start(run)
        if known is not None and not known.invalidated and self._answer_stale(key):
            return self._stale(key, known, generation)  # the load brings it up to date
        if not flight.done.wait(None if strict else self.wait):
            self._slow = True  # until a load comes back, known listings answer at once
            if known is not None:
                return self._stale(key, known, generation)
            raise ServiceUnavailableError(
                errno.EIO, f"no answer from the service within {self.wait:g} s"
            )
        if flight.error is not None:
            if known is not None and isinstance(flight.error, ServiceUnavailableError):
                return self._stale(key, known, generation)
            raise flight.error
        shared: T = flight.value
        return shared

    @contextmanager
    def fresh_only(self) -> Iterator[None]:
        """In this thread, for the block: no listing from the past (stale, out of date, or
        too slow to come), only what the service answers now, however long it takes. For
        decisions that must not be wrong, such as whether an upload is already there."""
        before = getattr(self._strict, "on", False)
        self._strict.on = True
        try:
            yield
        finally:
            self._strict.on = before

    def _stale(self, key: Hashable, known: Known, generation: int) -> Any:
        """The last known value, answered instead of the service's; kept in memory (until
        the load in progress brings the fresh one, or for the TTL if it fails), so the calls
        that follow neither wait nor ask again."""
        return self._keep(key, known, self.ttl, generation)

    def _keep_known(self, key: Hashable, known: Known, generation: int) -> Any:
        """A fresh listing from the store, in memory for what is left of its life."""
        remaining = known.expires(self.ttl) - time.time()
        return self._keep(key, known, remaining, generation)

    def _load(
        self,
        key: Hashable,
        flight: _Flight,
        load: Callable[[], Any],
        unsettled: Callable[[Any], bool] | None,
        lifetime: float | None,
    ) -> None:
        with self._lock:
            generation = self._generation(key)
        try:
            value = self.same_as_before(key, load())
            if unsettled is not None and unsettled(value):
                lifetime = self.processing_ttl
            self.put(key, value, lifetime, generation=generation)
            flight.value = value
            self._slow = False
        except BaseException as exc:
            flight.error = exc
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def _answer_stale(self, key: Hashable) -> bool:
        """Whether a stale listing is answered at once (with bounded waits only): when it
        comes from an earlier run (a remount shows the last known tree at once and brings it
        up to date in the background), or while the service is away (unreachable, failing,
        out of budget), or slow (a load outlasted the bound and none has come back since).
        Otherwise the caller waits, within the bound, for the fresh one."""
        if self.wait is None:
            return False
        with self._lock:
            from_before = key not in self._loaded_here
        away = self.health is not None and not self.health.state.usable
        return from_before or away or self._slow

    def _start(self, run: Callable[[], None]) -> None:
        """A load in the background, on a daemon thread: one stuck on a slow service must
        not hold up the exit of the process (at most BACKGROUND_LOADS at once)."""

        def limited() -> None:
            with self._background:
                run()

        threading.Thread(target=limited, name="voicefs-listing", daemon=True).start()

    def _generation(self, key: Hashable) -> int:
        """Changes whenever key's value is changed or made out of date (under the lock): a
        load or a look at the store that began before does not overwrite what came after."""
        return self._epoch + self._changes.get(key, 0)

    def _changed(self, key: Hashable) -> None:
        self._changes[key] = self._changes.get(key, 0) + 1

    def _keep(self, key: Hashable, known: Known, lifetime: float, generation: int) -> Any:
        """A listing from the store into memory only, for `lifetime` seconds, unless key
        changed since `generation`; it keeps the age it has. Returns the value, as the one
        in use when it says the same (see `same_as_before`)."""
        value = self.same_as_before(key, known.value)
        if lifetime <= 0 or not self.enabled:
            return value
        now, wall = time.monotonic(), time.time()
        loaded_at = now - (wall - known.loaded)
        kept = Cached(value, loaded_at, now + lifetime, known.loaded, known.lifetime)
        with self._lock:  # never over a value in memory: that one is at least as new
            if self._generation(key) == generation and key not in self._entries:
                self._entries[key] = kept
                self._versions[key] = known.version
        return value

    def remembered(self, key: Hashable) -> Known | None:
        """The last known value of key on disk, however old (None without a store)."""
        return None if self.store is None else self.store.load(key)

    def peek(self, key: Hashable) -> Any:
        """The cached value of key, or None: never loads."""
        with self._lock:
            cached = self._entries.get(key)
        return None if cached is None else cached.value

    def peek_known(self, key: Hashable) -> Any:
        """The value of key in memory, else the last known one in the store, or None."""
        value = self.peek(key)
        if value is None:
            known = self.remembered(key)
            value = None if known is None else known.value
        return value

    def put(
        self,
        key: Hashable,
        value: Any,
        lifetime: float | None = None,
        *,
        generation: int | None = None,
    ) -> None:
        """Keeps value for key (in memory and in the store); with `generation`, only if key
        has not changed since (a load must not undo a write that came after it began)."""
        if not self.enabled:
            return
        value = self.same_as_before(key, value)
        now, wall = time.monotonic(), time.time()
        life = self.ttl if lifetime is None else lifetime
        with self._lock:
            if generation is not None and self._generation(key) != generation:
                return
            self._entries[key] = Cached(value, now, now + life, wall, lifetime)
            self._loaded_here.add(key)
            if self.store is not None:
                self._saved(key, self.store.save(key, value, wall, lifetime))

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
            self._changed(key)
            cached = self._entries.get(key)
            if cached is None:
                if self.store is not None:  # what is on disk no longer tells the truth
                    self.store.invalidate(key)
                return False
            value = change(cached.value)
            expires, lifetime = cached.expires_at, cached.lifetime
            if unsettled is not None and unsettled(value):
                now = time.monotonic()
                if now + self.processing_ttl < expires:  # checked again soon, from now on
                    expires = now + self.processing_ttl
                    lifetime = now - cached.loaded_at + self.processing_ttl
            self._entries[key] = Cached(
                value, cached.loaded_at, expires, cached.loaded_wall, lifetime
            )
            if self.store is not None:  # unless another mount saved it since we saw it
                over = self._versions.get(key, -1)
                saved = self.store.save(key, value, cached.loaded_wall, lifetime, over=over)
                self._saved(key, saved)
        return True

    def _saved(self, key: Hashable, version: int | None) -> None:
        """Notes which version of key's stored listing memory agrees with (under the lock)."""
        if version is None:
            self._versions.pop(key, None)
        else:
            self._versions[key] = version

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
        """Whether key is known and fresh: in memory, or on disk and younger than its expiry
        (then taken into memory)."""
        with self._lock:
            if key in self._entries:
                return True
        with self._lock:
            generation = self._generation(key)
        known = self.remembered(key)
        if known is None or not known.fresh(self.ttl):
            return False
        self._keep_known(key, known, generation)
        return True

    def invalidate(self, *keys: Hashable) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)
                self._changed(key)
            if self.store is not None:
                self.store.invalidate(*keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._epoch += 1 << 32  # every key's generation changes
            if self.store is not None:
                self.store.invalidate_all()

    def close(self) -> None:
        """Closes the store (loads still running finish in memory)."""
        if self.store is not None:
            self.store.close()
