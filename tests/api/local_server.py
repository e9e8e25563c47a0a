"""A tiny HTTP server on loopback, in a thread, for what the emulator does not play: another
origin, a server that ignores Range, a body cut off mid-transfer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import TypeVar

S = TypeVar("S", bound=ThreadingHTTPServer)


def serving(server: S) -> Iterator[S]:
    """Serves until the generator is closed (use with `yield from` in a fixture)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
