"""Download URLs: ranges from servers that ignore them, and credentials kept to the service's
own origin (another origin named in a URL or a redirect never sees the key). A tiny local HTTP
server plays both the service and the other origin."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.local_server import serving
from voicefs.api import VoiceClient

PAYLOAD = bytes(range(256)) * 400  # 100 KiB


class Recorder(ThreadingHTTPServer):
    """Serves PAYLOAD at /file ignoring Range (200), redirects /redirect to `target`, and
    records every request's headers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.target = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.server.target + "/file")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def service() -> Iterator[Recorder]:
    yield from serving(Recorder())


@pytest.fixture
def elsewhere() -> Iterator[Recorder]:
    yield from serving(Recorder())


def test_range_ignored_by_server_is_sliced(service: Recorder) -> None:
    with VoiceClient(service.url, api_key="SECRET-KEY-1") as api:
        assert api.download("/file", 1000, 2000) == PAYLOAD[1000:2000]
        assert api.download("/file", 5) == PAYLOAD[5:]
        assert b"".join(api.iter_download("file", 0, 10)) == PAYLOAD[:10]  # relative URL
    _, headers = service.seen[0]
    assert headers["range"] == "bytes=1000-1999"
    assert headers["api-key"] == "SECRET-KEY-1"  # the service's own origin gets the key


def test_other_origin_never_gets_the_key(service: Recorder, elsewhere: Recorder) -> None:
    service.target = elsewhere.url
    with VoiceClient(service.url, api_key="SECRET-KEY-2") as api:
        assert api.download(elsewhere.url + "/file", 0, 100) == PAYLOAD[:100]
        assert api.download("/redirect") == PAYLOAD  # redirect to another origin
    assert [p for p, _ in elsewhere.seen] == ["/file", "/file"]
    for _, headers in elsewhere.seen:
        assert "api-key" not in headers and "cookie" not in headers
        assert "x-csrf-token" not in headers
    assert service.seen[0][1]["api-key"] == "SECRET-KEY-2"
