"""The WebDAV server is secure by default: every request authenticated, wrong passwords
slowed down, nothing outside the tree reachable, no plain HTTP off this machine, a generated
password kept private, and the API key in no response and no log line."""

from __future__ import annotations

import http.client
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import tomllib

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.webdav.conftest import Served, changes, serve_webdav
from voicefs.webdav import middleware


@pytest.fixture
def folder(api: Api) -> dict[str, Any]:
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav"), "take.wav")
    return folder


def test_every_request_needs_the_password(folder: dict[str, Any], webdav: Served) -> None:
    for method in ("GET", "PROPFIND", "PUT", "DELETE", "OPTIONS"):
        anonymous = requests.request(method, webdav.href("Project/Takes/take.wav"), timeout=30)
        assert anonymous.status_code == 401, method
        assert "WWW-Authenticate" in anonymous.headers
    wrong = requests.get(webdav.href("Project/Takes/take.wav"), auth=("voicefs", "guess"))
    assert wrong.status_code == 401
    other_user = requests.get(webdav.href(""), auth=("root", webdav.password))
    assert other_user.status_code == 401
    assert requests.get(webdav.href(""), auth=(webdav.user, webdav.password)).ok  # Basic too
    assert webdav.session().get(webdav.href("")).ok  # and Digest


def test_wrong_passwords_are_answered_ever_more_slowly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The middleware in front of WsgiDAV: each refusal of offered credentials waits twice as
    long as the one before (to a ceiling), a first challenge none, a success resets."""
    waited: list[float] = []
    monkeypatch.setattr(middleware.time, "sleep", waited.append)
    answers = iter(["401 Unauthorized"] * 6 + ["200 OK", "401 Unauthorized"])

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(next(answers), [])
        return [b""]

    guarded = middleware.SlowRefusals(app)
    offered = {"REMOTE_ADDR": "192.0.2.1", "HTTP_AUTHORIZATION": "Basic x"}
    guarded({"REMOTE_ADDR": "192.0.2.1"}, lambda *args: None)  # a first challenge
    for _ in range(6):
        guarded(dict(offered), lambda *args: None)
    guarded(dict(offered), lambda *args: None)
    first, most = middleware.REFUSAL_DELAY, middleware.REFUSAL_DELAY_MOST
    assert waited == [first, 2 * first, 4 * first, min(8 * first, most), most, first]


def raw_request(webdav: Served, method: str, path: str, body: bytes = b"") -> int:
    """A request whose path is sent exactly as given (requests would normalise `..`)."""
    host, port = webdav.url.split("//")[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    auth = requests.Request("GET", webdav.url, auth=(webdav.user, webdav.password)).prepare()
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.putheader("Authorization", auth.headers["Authorization"])
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.parametrize(
    "path",
    [
        "/Project/../Project/Takes/escape.wav",
        "/Project/Takes/../../escape.wav",
        "/Project%2FTakes/escape.wav",
        "/Project/Takes%2F..%2F..%2Fescape.wav",
        "/Project/./Takes/escape.wav",
    ],
)
def test_paths_that_leave_or_bend_the_tree_are_refused(
    folder: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess, path: str
) -> None:
    emulator.reset_request_counts()
    for method, body in (("PUT", tone("wav", 0.2)), ("DELETE", b""), ("MKCOL", b"")):
        status = raw_request(webdav, method, path, body)
        assert 400 <= status < 500, (method, path, status)
    assert changes(emulator) == {}
    names = [r["file_name"] for r in api.recordings(folder["id"])]
    assert names == ["take.wav"]


def test_a_network_address_without_tls_is_refused(account: Account, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicefs",
            "serve",
            "webdav",
            "--host",
            "0.0.0.0",
            "--url",
            account.url,
            "--port",
            "0",
            "--cache-dir",
            str(tmp_path),
        ],
        env={"VOICEFS_API_KEY": account.api_key, "VOICEFS_WEBDAV_PASSWORD": "x", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "0.0.0.0" in result.stderr and "--certfile" in result.stderr
    assert "Traceback" not in result.stderr and "Serving" not in result.stdout


def test_tls_serves_https(account: Account, tmp_path: Path, api: Api) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    served = serve_webdav(account, tmp_path, "--certfile", str(certificate), "--keyfile", str(key))
    try:
        assert served.url.startswith("https://")
        client = served.session()
        response = client.request(
            "PROPFIND", served.url, headers={"Depth": "1"}, verify=str(certificate)
        )
        assert response.status_code == 207
        with pytest.raises(requests.ConnectionError):
            requests.get(served.url.replace("https", "http"), timeout=10)
    finally:
        served.stop()


def test_a_generated_password_is_kept_private_and_shown_once(
    account: Account, tmp_path: Path, isolated_config: Path
) -> None:
    environ = {"VOICEFS_API_KEY": account.api_key}
    first = serve_webdav(account, tmp_path, environ=environ)
    try:
        assert first.password and first.password in first.banner
        assert first.session().get(first.url).ok
    finally:
        first.stop()
    config = isolated_config / "voicefs" / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    kept = tomllib.loads(config.read_text())["profiles"]["default"]["webdav_password"]
    assert kept == first.password
    second = serve_webdav(account, tmp_path, environ=environ, password=kept)
    try:
        assert kept not in second.banner  # shown once, at the start that made it
        assert second.session().get(second.url).ok
    finally:
        second.stop()


def test_the_api_key_is_in_no_response_and_no_log_line(
    folder: dict[str, Any], webdav: Served, emulator: EmulatorProcess
) -> None:
    key = emulator_key = webdav_key(webdav)
    client = webdav.session()
    seen: list[str] = []
    for method, path, body in (
        ("PROPFIND", "", b""),
        ("PROPFIND", "Project/Takes/", b""),
        ("GET", "Project/Takes/take.wav", b""),
        ("GET", ".voicefs/status.json", b""),
        ("PUT", "Project/Takes/bad.wav", b"not audio"),
        ("PUT", "Project/Takes/x.txt", b"text"),
        ("GET", "Nowhere/x.wav", b""),
        ("OPTIONS", "", b""),
    ):
        response = client.request(method, webdav.href(path), data=body, headers={"Depth": "1"})
        seen.append(str(response.headers) + response.content.decode("latin-1"))
    assert len(seen) == 8
    assert not [text for text in seen if key in text]
    assert not [text for text in seen if "WsgiDAV/" in text]  # nor the server's version
    webdav.stop()
    logged = webdav.log.read_text()
    assert "PROPFIND /Project/Takes/ 207" in logged  # what was asked is logged (-v) ...
    assert emulator_key not in logged and webdav.password not in logged  # ... and no secret
    assert emulator_key not in webdav.banner


def webdav_key(webdav: Served) -> str:
    """The API key the server was started with (from its own environment)."""
    environ = Path(f"/proc/{webdav.process.pid}/environ").read_bytes().split(b"\0")
    (key,) = [v.split(b"=", 1)[1] for v in environ if v.startswith(b"VOICEFS_API_KEY=")]
    return key.decode()
