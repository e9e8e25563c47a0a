"""WSGI middleware in front of WsgiDAV: what must hold before any request reaches the drive,
and the log of what was asked.

- `TreePaths`: a path names one place of the tree, one way. Servers and WsgiDAV resolve `.`
  and `..` and decode `%2F` before the provider sees a path, so a request is judged by what the
  client sent (its raw URI, and its Destination): dot segments and encoded separators are
  refused with 400, and nothing is touched.
- `SlowRefusals`: wrong passwords are answered ever more slowly.
- `RequestLog`: each request's method, path, status and time at `-v` (never its headers: no
  password or credential reaches the log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger("voicefs.webdav")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

REFUSAL_DELAY = 1.0  # seconds before a wrong password is answered ...
REFUSAL_DELAY_MOST = 8.0  # ... doubling with each one from the same address, up to this
ENCODED_SEPARATORS = ("%2f", "%5c")  # a slash or a backslash inside a name


def bends_the_tree(path: str) -> bool:
    """Whether a raw (still encoded) path has a `.` or `..` segment or an encoded separator."""
    if any(separator in path.lower() for separator in ENCODED_SEPARATORS):
        return True
    return any(unquote(segment) in (".", "..") for segment in path.split("/"))


class TreePaths:
    def __init__(self, app: WSGIApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = str(environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")).split("?", 1)[0]
        destination = urlsplit(str(environ.get("HTTP_DESTINATION", ""))).path
        for path in (raw, destination):
            if bends_the_tree(path):
                body = f"{unquote(path)}: not a path of the drive (no . or .. or encoded /)\n"
                start_response(
                    "400 Bad Request",
                    [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body.encode()))),
                    ],
                )
                return [body.encode()]
        return self._app(environ, start_response)


class SlowRefusals:
    """WSGI middleware: a request refused for its credentials (401 to a request that gave
    some) is answered after a delay that doubles with each refusal from the same address, so
    guessing a password takes years; a right one resets it. The first challenge (no
    credentials yet, as every client starts) is answered at once."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._refusals: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        address = str(environ.get("REMOTE_ADDR", ""))
        offered = "HTTP_AUTHORIZATION" in environ

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("401") and offered:
                with self._lock:
                    count = self._refusals[address] = self._refusals.get(address, 0) + 1
                time.sleep(min(REFUSAL_DELAY * 2 ** (count - 1), REFUSAL_DELAY_MOST))
            elif offered and not status.startswith("401"):
                with self._lock:
                    self._refusals.pop(address, None)
            return start_response(status, headers, exc_info)

        return self._app(environ, respond)


class RequestLog:
    def __init__(self, app: WSGIApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.monotonic()
        answered: list[str] = []

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            yield from self._app(environ, respond)
        finally:
            log.info(
                "%s %s %s %.0f ms",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                answered[0] if answered else "-",
                (time.monotonic() - started) * 1000,
            )
