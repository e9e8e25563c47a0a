"""The client's machinery shared by its typed methods: configuration, pickling, JSON calls,
lazy pagination and exactly-once creates."""

from __future__ import annotations

import errno
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

from voicefs.api.auth import Credentials, resolve_credentials, resolve_url
from voicefs.api.downloads import StreamedFile
from voicefs.api.errors import (
    AmbiguousOutcomeError,
    OutcomeUnknownError,
    ServiceUnavailableError,
    invalid_response,
    name_too_long,
)
from voicefs.api.health import Availability, ServiceHealth
from voicefs.api.limiter import FAST, RateLimiter
from voicefs.api.limits import NAME_MAX
from voicefs.api.options import ClientOptions
from voicefs.api.records import JSON, User
from voicefs.api.transport import Transport

log = logging.getLogger("voicefs.api")
T = TypeVar("T")


def created_since(created_at: datetime | None, floor: float | None) -> bool:
    """Whether an object may have been created by an attempt that started at server time
    `floor` (unknown times count as "maybe": better to find than to duplicate)."""
    return floor is None or created_at is None or created_at.timestamp() >= floor


class ClientCore:
    """Configuration and plumbing of `VoiceClient`; see there for the parameters."""

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        email: str | None = None,
        password: str | None = None,
        profile: str | None = None,
        credentials: Credentials | None = None,
        options: ClientOptions | None = None,
        **overrides: Any,
    ) -> None:
        options = ClientOptions.take(overrides, base=options)
        if overrides:
            unknown = ", ".join(sorted(overrides))
            raise TypeError(f"{type(self).__name__}() got unknown options: {unknown}")
        if credentials is None:
            credentials = resolve_credentials(api_key, email, password, profile)
        self._setup(resolve_url(url, credentials), credentials, options)

    def _setup(self, url: str, credentials: Credentials, options: ClientOptions) -> None:
        self.url = url
        self._credentials = credentials
        self.options = options
        self.limiter = RateLimiter(options.budgets, enabled=options.rate_limit)
        self._transport = Transport(url, credentials, options, self.limiter)
        self._user_id: str | None = None

    # Pickling carries the URL, the credentials (obfuscated by Secret) and the options; the
    # HTTP session, the login and the limiter's window are rebuilt in the new process.
    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "credentials": self._credentials, "options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["url"], state["credentials"], state["options"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, {self._credentials!r})"

    @property
    def credentials(self) -> Credentials:
        """The credentials as resolved (their secrets print as stars and pickle masked)."""
        return self._credentials

    def close(self) -> None:
        """Closes the pooled connections."""
        self._transport.close()

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def max_retries(self) -> int:
        return self.options.max_retries

    @property
    def health(self) -> ServiceHealth:
        """Whether the service answers, as this client's requests found it."""
        return self._transport.health

    def account_digest(self) -> str:
        """A name for this account's local state: the same for the same URL and credentials,
        and telling nothing of them (a hash, never the key)."""
        credentials = self._credentials
        secret = credentials.api_key.reveal() if credentials.api_key else credentials.email or ""
        return hashlib.sha256(f"{self.url}\0{secret}".encode()).hexdigest()[:24]

    # -- requests -----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, operation: str, kind: str = FAST, **kwargs: Any
    ) -> Any:
        """One request whose answer is JSON (or empty); returns the decoded body."""
        response = self._transport.request(method, path, operation=operation, kind=kind, **kwargs)
        if response.status_code == 404 or not response.content:
            return None  # a retried DELETE whose first attempt had done the work
        return self._transport.parse_json(response, operation)

    @staticmethod
    def _parse(parse: Callable[[Any], T], data: Any, operation: str) -> T:
        """A record from JSON; a malformed answer is EIO, not a crash in the caller."""
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise invalid_response(operation, exc) from exc

    def _paginate(
        self,
        path: str,
        params: Mapping[str, Any],
        limit: int,
        parse: Callable[[Any], T],
        operation: str,
    ) -> Iterator[T]:
        """All items of a paged list, fetched lazily with the largest page allowed.

        Stops on the page that reaches `pagination.count`, so n items cost ceil(n/limit)
        requests (one for none). Items seen twice (offsets shift when others are created
        meanwhile) are yielded once.
        """
        offset = 0
        seen: set[str] = set()
        while True:
            page = self._call(
                "GET",
                path,
                operation=operation,
                params={**params, "limit": limit, "offset": offset},
            )
            items = page.get("list") if isinstance(page, dict) else page
            if not isinstance(items, list):
                raise invalid_response(operation, ValueError("no list in the answer"))
            for item in items:
                record = self._parse(parse, item, operation)
                key = str(getattr(record, "id", id(record)))
                if key not in seen:
                    seen.add(key)
                    yield record
            offset += len(items)
            pagination = page.get("pagination") if isinstance(page, dict) else None
            count = pagination.get("count") if isinstance(pagination, dict) else None
            if len(items) < limit or not items or (isinstance(count, int) and offset >= count):
                return

    def _create(
        self,
        operation: str,
        send: Callable[[], T],
        find: Callable[[float | None], T | None],
    ) -> T:
        """Runs a non-idempotent create exactly once.

        After an ambiguous failure (dropped connection, timeout, 5xx) `find` looks for the
        object the attempt may have created (created at or after the attempt's start, in the
        service's clock); only when it is absent is the request sent again.
        """
        attempt = 0
        while True:
            attempt += 1
            started = time.time()
            try:
                record = send()
            except AmbiguousOutcomeError as exc:
                # a service gone silent (offline) would only keep the caller waiting again
                offline = self._transport.health.state.availability == Availability.OFFLINE
                if attempt > self.max_retries or offline:
                    raise self._gave_up(exc, operation, attempt) from exc
                self._transport.sleep_backoff(attempt)  # let the service finish first
                try:
                    found = find(self._transport.server_time_floor(started))
                except ServiceUnavailableError as lookup:
                    raise self._gave_up(lookup, operation, attempt, checking=True) from exc
                if found is not None:
                    log.info("%s: answer lost, but it was done; not repeating it", operation)
                    return found
                log.info("%s: answer lost and not done; sending it again", operation)
                continue
            created = getattr(record, "created_at", None)
            if isinstance(created, datetime):
                self._transport.observe_creation(created.timestamp(), time.time())
            return record

    @staticmethod
    def _gave_up(
        exc: ServiceUnavailableError, operation: str, attempts: int, *, checking: bool = False
    ) -> OutcomeUnknownError:
        """The error of a create whose outcome stayed unknown; `checking` when it was the
        look for the attempt's result that failed."""
        reason = exc.strerror or str(exc)
        if exc.operation:
            reason = reason.removeprefix(f"{exc.operation}: ")
        if checking:
            reason = f"no answer, and the check for what it did failed too: {reason}"
        return OutcomeUnknownError(
            exc.errno or errno.EIO,
            f"{operation}: {reason} (outcome unknown after {attempts} attempts; "
            f"{OutcomeUnknownError.HINT})",
            status=exc.status,
            detail=exc.detail,
            operation=operation,
        )

    def open_url(self, url: str, *, operation: str | None = None, kind: str = FAST) -> StreamedFile:
        """An open streamed GET of `url` (exports: file name, size and chunks)."""
        response = self._transport.request(
            "GET",
            url,
            operation=operation or f"download {url}",
            stream=True,
            kind=kind,
            headers={"Accept-Encoding": "identity"},
        )
        return StreamedFile(response)

    @staticmethod
    def _check_name(name: str, operation: str) -> None:
        """Names and labels over the service's limit fail here, before any request."""
        if len(name) > NAME_MAX:
            raise name_too_long(operation, name, NAME_MAX)

    def user_id(self) -> str:
        """The account's user id (project owner): from the login, else POST /api/auth."""
        if self._user_id is None:
            self._user_id = str(self._user_json().get("id") or "")
        return self._user_id

    def whoami(self) -> User:
        """The logged-in user, with email and username: from the login, else POST /api/auth."""
        return self._parse(User.from_json, self._user_json(), "identify the account")

    def _user_json(self) -> JSON:
        user = self._transport.user_json
        if not user:
            user = self._call("POST", "/api/auth", operation="identify the account")
        return user if isinstance(user, dict) else {}
