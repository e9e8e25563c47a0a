"""`voicefs serve webdav`: the drive over WebDAV, WsgiDAV's protocol served by cheroot.

Secure by default: every request is authenticated (Basic or Digest) as one user with a
password from `VOICEFS_WEBDAV_PASSWORD`, else the profile's (generated at first start, kept in
the 0600 config); loopback only unless `--host` says otherwise, and a non-loopback address
only with TLS (or `--insecure`); wrong passwords answered slowly.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from wsgidav import util as wsgidav_util
from wsgidav.wsgidav_app import WsgiDAVApp

from voicefs.api.auth import DEFAULT_PROFILE, config_path, read_profile, store_profile
from voicefs.drive import Drive
from voicefs.drive.options import CredentialsError, DriveOptions
from voicefs.drive.session import DriveSession
from voicefs.private import private_directory
from voicefs.webdav.middleware import RequestLog, SlowRefusals, TreePaths
from voicefs.webdav.provider import DriveProvider

log = logging.getLogger("voicefs.webdav")

PASSWORD_VARIABLE = "VOICEFS_WEBDAV_PASSWORD"
PASSWORD_KEY = "webdav_password"  # in the profile's table of the config file
DEFAULT_USER = "voicefs"
DEFAULT_PORT = 8080
THREADS = 16  # requests served at once: a Finder window opens several connections
BLOCK = 1 << 20  # bytes read and written per step of a GET or a PUT


class ServeError(Exception):
    """A server that cannot start, with a message for one line on stderr."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions(DriveOptions):
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    user: str = DEFAULT_USER
    certfile: Path | None = None
    keyfile: Path | None = None
    insecure: bool = False

    @property
    def uses_tls(self) -> bool:
        return self.certfile is not None

    def address(self, port: int) -> str:
        scheme = "https" if self.uses_tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{port}/"


def is_loopback(host: str) -> bool:
    """Whether every address host names is this machine's own."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_address(options: ServeOptions) -> None:
    if (options.certfile is None) != (options.keyfile is None):
        raise ServeError("--certfile and --keyfile go together")
    if is_loopback(options.host) or options.uses_tls or options.insecure:
        return
    raise ServeError(
        f"{options.host}: not a loopback address, and no TLS: passwords and audio would "
        "cross the network readable by anyone on the way; give --certfile and --keyfile "
        "(or --insecure on a network you trust)"
    )


@dataclass(frozen=True)
class Password:
    value: str
    generated: bool  # made now and kept in the profile: shown once
    kept_in: Path | None = None


def webdav_password(profile: str | None) -> Password:
    """`VOICEFS_WEBDAV_PASSWORD`, else the profile's, else a new one kept in the profile."""
    given = os.environ.get(PASSWORD_VARIABLE)
    if given:
        return Password(given, generated=False)
    name = profile or os.environ.get("VOICEFS_PROFILE") or DEFAULT_PROFILE
    path = config_path()
    table = dict(read_profile(name, path) or {})
    if table.get(PASSWORD_KEY):
        return Password(str(table[PASSWORD_KEY]), generated=False)
    table[PASSWORD_KEY] = secrets.token_urlsafe(18)
    store_profile(name, table, path)  # mode 0600, written atomically
    return Password(str(table[PASSWORD_KEY]), generated=True, kept_in=path)


MALLOC_ARENAS = 2  # glibc's M_ARENA_MAX for the server's threads
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def fewer_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own arena and keeps what it freed there:
    with a pool of request threads each passing megabytes of uploads, the process grows with
    every upload. Two arenas keep it flat (measured in benchmarks/bench_webdav.py). Nothing
    happens on a C library without `mallopt`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def quiet_versions() -> None:
    """Error pages name no software version (the config's `suppress_version_info` is applied
    only by WsgiDAV's own command line)."""
    wsgidav_util.public_wsgidav_info = "WsgiDAV"


def mode(options: ServeOptions) -> str:
    return "read-only" if options.read_only else "writable"


def wsgidav_config(provider: DriveProvider, user: str, password: str) -> dict[str, Any]:
    return {
        "provider_mapping": {"/": provider},
        "http_authenticator": {
            "domain_controller": None,  # WsgiDAV's SimpleDomainController, with the mapping:
            "accept_basic": True,
            "accept_digest": True,
            "default_to_digest": True,
        },
        "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
        "lock_storage": True,  # class 2 locks, in memory: Finder mounts read-write with them
        "property_manager": True,  # dead properties (Windows' Win32 times), in memory
        "mutable_live_props": ["{DAV:}getlastmodified"],
        "hotfixes": {"emulate_win32_lastmod": True},
        "block_size": BLOCK,
        "dir_browser": {"enable": True, "response_trailer": False, "davmount": False},
        "logging": {"enable": False},  # the voicefs.webdav logger says what happens
        "verbose": 1,
    }


def serve(
    options: ServeOptions,
    on_ready: Callable[[str, Password], None],
    stop: threading.Event | None = None,
) -> None:
    """Serves until SIGINT or SIGTERM (or `stop`). `on_ready` gets the address clients
    connect to once the port is open."""
    check_address(options)
    try:
        options.check_credentials()
    except CredentialsError as exc:
        raise ServeError(str(exc)) from exc
    password = webdav_password(options.profile)
    private_directory(options.cache_dir)
    session = DriveSession(Drive(options.filesystem()), options.cache_dir, options.cache_size)
    provider = DriveProvider(session, read_only=options.read_only)
    quiet_versions()
    fewer_malloc_arenas()  # before the server's threads exist
    dav = WsgiDAVApp(wsgidav_config(provider, options.user, password.value))
    app = RequestLog(TreePaths(SlowRefusals(dav)))
    server = wsgi.Server(
        (options.host, options.port), app, numthreads=THREADS, server_name="voicefs"
    )
    if options.certfile is not None and options.keyfile is not None:
        server.ssl_adapter = BuiltinSSLAdapter(str(options.certfile), str(options.keyfile))
    try:
        server.prepare()
    except OSError as exc:
        session.close()
        raise ServeError(f"{options.host}:{options.port}: {exc.strerror or exc}") from exc
    port = server.bind_addr[1]
    stopping = stop or threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    serving = threading.Thread(target=server.serve, name="voicefs-webdav", daemon=True)
    serving.start()
    session.start()
    on_ready(options.address(port), password)
    log.info("serving at %s (%s)", options.address(port), mode(options))
    try:
        stopping.wait()
    finally:
        log.info("stopping: the requests under way finish first")
        server.stop()
        serving.join(timeout=10)
        session.close()
