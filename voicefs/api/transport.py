"""The HTTP road every request takes: auth, limiter, retries, 429, redirects, error mapping.

One `requests.Session` with a pool sized for parallel use and keep-alive. Idempotent requests
retry on connection errors and 5xx with exponential backoff and jitter, a bounded number of
times. Non-idempotent ones (creates) are sent once; when their outcome is unknown the caller
gets an `AmbiguousOutcomeError` and checks the service before trying again. Requests that
certainly never reached the service (connection refused, 429, 401 before a re-login) are
retried for everyone.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from voicefs import __version__
from voicefs.api.auth import Credentials
from voicefs.api.errors import (
    AccessDeniedError,
    AmbiguousOutcomeError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
    error_for_response,
    invalid_response,
    unreachable,
)
from voicefs.api.health import Availability, ServiceHealth
from voicefs.api.limiter import FAST, BudgetSpent, RateLimiter
from voicefs.api.options import ClientOptions

log = logging.getLogger("voicefs.api")

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
PRECISE_OFFSET_TTL = 600.0  # clocks drift; an old observation is not trusted for long
BUDGET_NOTICE = 1.0  # seconds of waiting for the budget that count as being rate limited
MAX_BACKOFF = 8.0  # seconds between retries at most: later retries come no slower than this
BodyFactory = Callable[[], tuple[Any, Mapping[str, str]]]


def origin_of(url: str) -> tuple[str, str]:
    """(scheme, host:port) with default ports made explicit: what "same origin" compares."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, f"{(parts.hostname or '').lower()}:{port}"


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach the service (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def went_silent(exc: BaseException) -> bool:
    """True when the service heard nothing or said nothing for a whole timeout: a read
    timeout, or a body that could not be sent (urllib3 wraps that one as a connection
    error)."""
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    seen: BaseException | None = exc
    for _ in range(4):  # requests -> urllib3 -> the socket's own error
        if seen is None or not seen.args:
            return False
        inner = seen.args[-1] if isinstance(seen.args[-1], BaseException) else None
        if isinstance(inner, TimeoutError):
            return True
        seen = getattr(inner, "reason", inner)
    return False


def retry_after_seconds(response: requests.Response, default: float = 1.0) -> float:
    """The 429's Retry-After in seconds (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class Transport:
    """Sends requests to one service for one set of credentials."""

    def __init__(
        self, url: str, credentials: Credentials, options: ClientOptions, limiter: RateLimiter
    ) -> None:
        self.base_url = url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self.credentials = credentials
        self.options = options
        self.limiter = limiter
        self.session = self._new_session()
        self._anonymous: requests.Session | None = None
        self._login_lock = threading.Lock()
        self._csrf_token: str | None = None
        self._login_generation = 0
        self.user_json: dict[str, Any] | None = None
        self._clock_offset: float | None = None
        self._precise_offset: tuple[float, float] | None = None
        self.health = ServiceHealth()

    # -- sessions ---------------------------------------------------------------------------

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=self.options.pool_size, max_retries=0
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = f"voicefs/{__version__} python-requests"
        return session

    @property
    def anonymous(self) -> requests.Session:
        """A session with no credentials and no cookies, for URLs on other origins."""
        if self._anonymous is None:
            self._anonymous = self._new_session()
        return self._anonymous

    @property
    def max_retries(self) -> int:
        return self.options.max_retries

    def close(self) -> None:
        self.session.close()
        if self._anonymous is not None:
            self._anonymous.close()

    def resolve(self, url: str) -> str:
        """An absolute URL: root-relative and relative ones resolve against the service URL."""
        return urljoin(self.base_url + "/", url)

    def is_own(self, url: str) -> bool:
        return origin_of(url) == self.origin

    # -- authentication -----------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if self.credentials.api_key is not None:
            return {"api-key": self.credentials.api_key.reveal()}
        if self._csrf_token is None:
            self.login(self._login_generation)
        return {"X-Csrf-Token": self._csrf_token or ""}

    def login(self, seen_generation: int | None = None) -> dict[str, Any]:
        """Starts a session (email/password); once per expiry even with many threads."""
        with self._login_lock:
            if seen_generation is not None and seen_generation != self._login_generation:
                return self.user_json or {}  # another thread logged in meanwhile
            creds = self.credentials
            if creds.email is None or creds.password is None:
                raise AccessDeniedError(
                    errno.EACCES, "login: no email and password to log in with", operation="login"
                )
            payload: dict[str, Any] = {"email": creds.email, "password": creds.password.reveal()}
            if self.options.session_duration:
                payload["session_duration"] = self.options.session_duration
            operation = f"log in as {creds.email}"
            try:
                response = self.request(
                    "POST", "/api/login", operation=operation, json=payload, authenticate=False
                )
            except NotFoundError as exc:  # "no such user" is a refused login, not a missing file
                raise AccessDeniedError(
                    errno.EACCES,
                    str(exc.strerror),
                    status=exc.status,
                    detail=exc.detail,
                    operation=operation,
                ) from exc
            data = self.parse_json(response, operation)
            self._csrf_token = str(data.get("csrf_token") or "")
            user = data.get("user")
            self.user_json = user if isinstance(user, dict) else None
            self._login_generation += 1
            log.debug("logged in as %s (session %d)", creds.email, self._login_generation)
            return self.user_json or {}

    def forget_session(self) -> None:
        """Drops the session state after logout."""
        self._csrf_token = None
        self.session.cookies.clear()

    def set_api_key(self, credentials: Credentials) -> None:
        self.credentials = credentials

    # -- the request loop ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        body: BodyFactory | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        kind: str = FAST,
        idempotent: bool = True,
        missing_ok_on_retry: bool = False,
        authenticate: bool = True,
    ) -> requests.Response:
        """One logical request with retries; raises a ServiceError for every failure.

        `body` makes a fresh request body per attempt (uploads). `idempotent=False` sends a
        create once: an unknown outcome raises AmbiguousOutcomeError. `missing_ok_on_retry`
        lets a retried DELETE treat 404 as success (the first attempt did it).
        `authenticate=False` sends no credentials (the login itself).
        """
        full_url = self.resolve(url)
        own = self.is_own(full_url)
        failures = 0
        rate_waited = 0.0
        relogged = False
        while True:
            generation = self._login_generation
            try:
                response = self._send_once(
                    method,
                    full_url,
                    own=own,
                    authenticate=authenticate,
                    params=params,
                    json=json,
                    body=body,
                    headers=headers,
                    stream=stream,
                    kind=kind,
                )
            except BudgetSpent as spent:
                raise self._budget_spent(spent, operation) from spent
            except requests.RequestException as exc:
                failures += 1
                if own and went_silent(exc):
                    # silence for the whole timeout: the service is away, not slow
                    self.health.unreachable(str(unreachable(operation, exc).strerror))
                if (idempotent or never_sent(exc)) and self._may_retry(failures, exc):
                    log.debug(
                        "%s %s failed (%s); retry %d",
                        method,
                        _path(full_url),
                        type(exc).__name__,
                        failures,
                    )
                    self.sleep_backoff(failures)
                    continue
                ambiguous = not idempotent and not never_sent(exc)
                error = unreachable(operation, exc, ambiguous=ambiguous)
                if own and not ambiguous:  # a create that may have worked is looked for first
                    self.health.unreachable(str(error.strerror))
                raise error from exc
            status = response.status_code
            if own and status < 500 and status != 429:
                self.health.answered()
            if status < 300:
                return response
            if status == 401 and own and self.credentials.uses_session and authenticate:
                if relogged:
                    raise error_for_response(response, operation)
                response.close()
                relogged = True
                self.login(generation)
                continue
            if status == 429:
                delay = retry_after_seconds(response)
                if own:
                    self.health.rate_limited(delay, f"{operation}: HTTP 429 (rate limited)")
                if rate_waited + delay > self.options.rate_limit_patience:
                    error = error_for_response(response, operation)
                    raise RateLimitedError(
                        errno.EIO,
                        f"{operation}: rate limited beyond patience ({error.detail})",
                        status=429,
                        detail=error.detail,
                        operation=operation,
                    )
                response.close()
                log.debug("429 for %s %s; waiting %.2f s", method, _path(full_url), delay)
                rate_waited += delay
                if own and self.limiter.enabled:
                    self.limiter.pause(delay)  # holds back every request, this one included
                else:
                    time.sleep(delay)
                continue
            if status in RETRYABLE_STATUS:
                failures += 1
                if idempotent and failures <= self.options.max_retries:
                    response.close()
                    self.sleep_backoff(failures)
                    continue
                error = error_for_response(response, operation)
                if own and idempotent:  # a create that may have worked is looked for first
                    self.health.unreachable(str(error.strerror))
                if not idempotent:
                    raise AmbiguousOutcomeError(
                        error.errno or errno.EIO,
                        str(error.strerror),
                        status=status,
                        detail=error.detail,
                        operation=operation,
                    )
                raise error
            if status == 404 and missing_ok_on_retry and failures > 0:
                return response
            raise error_for_response(response, operation)

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        own: bool,
        authenticate: bool,
        params: Mapping[str, Any] | None,
        json: Any,
        body: BodyFactory | None,
        headers: Mapping[str, str] | None,
        stream: bool,
        kind: str,
    ) -> requests.Response:
        """One HTTP exchange, redirects followed by hand so the key never leaves its origin."""
        for _ in range(6):
            all_headers = dict(headers or {})
            data = None
            if body is not None:
                data, extra = body()
                all_headers.update(extra)
            if own and authenticate:
                all_headers.update(self._auth_headers())
            session = self.session if own else self.anonymous
            timeout = self.options.slow_timeout if kind != FAST else self.options.timeout
            if own:
                self._note_budget(kind)
            started = time.monotonic()
            patience = self.options.budget_patience
            slot = self.limiter.slot(kind, patience) if own else contextlib.nullcontext()
            with slot:
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=all_headers,
                    stream=stream,
                    timeout=timeout,
                    allow_redirects=False,
                )
            log.debug(
                "%s %s -> %d in %.0f ms",
                method,
                _path(url),
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            if own:
                self._note_server_clock(response)
            location = response.headers.get("Location")
            if response.status_code in REDIRECT_STATUS and location and method in ("GET", "HEAD"):
                response.close()
                url = urljoin(url, location)
                own = own and self.is_own(url)  # never carry credentials to another origin
                params = None
                continue
            return response
        raise requests.TooManyRedirects(f"too many redirects for {_path(url)}")

    def _budget_spent(self, spent: BudgetSpent, operation: str) -> RateLimitedError:
        """A request that may not wait for the budget fails, and the service counts as rate
        limited until a slot frees (status.json; a drive's writes fail at once until then)."""
        self.health.rate_limited(spent.wait if spent.wait < math.inf else BUDGET_NOTICE, str(spent))
        return RateLimitedError(
            errno.EIO,
            f"{operation}: not sent: {spent} ({self.health.state.describe()})",
            detail=str(spent),
            operation=operation,
        )

    def _note_budget(self, kind: str) -> None:
        """A request about to wait for the client's own budget (500 per 300 s) makes the
        service "rate limited until" the budget frees, for status.json and the mount."""
        wait = self.limiter.wait_estimate(kind)
        if BUDGET_NOTICE < wait < math.inf:
            self.health.rate_limited(wait, f"the request budget ({kind}) is spent")

    def _may_retry(self, failures: int, exc: BaseException) -> bool:
        """Within the retries allowed, unless no connection could be made to a service known
        to be away, or it stayed silent for the whole timeout: then the request fails at once
        instead of waiting through the timeout again (a dropped connection or a 5xx is still
        retried)."""
        silent = never_sent(exc) or went_silent(exc)
        if silent and self.health.state.availability == Availability.OFFLINE:
            return False
        return failures <= self.options.max_retries

    def sleep_backoff(self, failures: int) -> None:
        """Exponential backoff with jitter: half fixed, half random."""
        delay = min(MAX_BACKOFF, self.options.backoff * (2 ** (failures - 1)))
        time.sleep(delay / 2 + random.uniform(0, delay / 2))

    # -- helpers ------------------------------------------------------------------------------

    def parse_json(self, response: requests.Response, operation: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise invalid_response(operation, exc) from exc

    def _note_server_clock(self, response: requests.Response) -> None:
        """Keeps a lower bound of (server clock - local clock) from the Date header."""
        date = response.headers.get("Date")
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self._clock_offset = server - time.time()

    def observe_creation(self, created_at: float, received_at: float) -> None:
        """A created object's timestamp bounds the clock offset much tighter than `Date`:
        the service stamped it before we received the answer."""
        self._precise_offset = (created_at - received_at, time.monotonic())

    def server_time_floor(self, local_time: float) -> float | None:
        """The earliest server time (epoch s) that local `local_time` can correspond to:
        objects created by a request sent at `local_time` have `created_at` at or after it."""
        floors = []
        if self._clock_offset is not None:
            floors.append(self._clock_offset)  # Date is rounded down: already a lower bound
        if self._precise_offset is not None:
            offset, seen = self._precise_offset
            if time.monotonic() - seen < PRECISE_OFFSET_TTL:
                floors.append(offset - 0.002)  # created_at has milliseconds
        return local_time + max(floors) if floors else None


def _path(url: str) -> str:
    """The URL's path only: logs never carry query strings or hosts' credentials."""
    return urlsplit(url).path


__all__ = ["ServiceError", "Transport", "never_sent", "origin_of", "retry_after_seconds"]
