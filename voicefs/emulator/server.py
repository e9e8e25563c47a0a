"""Runs the emulator: builds its state, binds the socket, serves with uvicorn."""

from __future__ import annotations

import json
import logging
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from voicefs.emulator.app import create_app
from voicefs.emulator.faults import Faults, InjectedDisconnect
from voicefs.emulator.seed import DEMO_EMAIL, DEMO_PASSWORD, apply_seed
from voicefs.emulator.seed_large import DEFAULT_SCALE, LARGE_EMAIL
from voicefs.emulator.state import EmulatorState
from voicefs.emulator.store import Settings, Store


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    data: Path | None = None
    seed: str | None = None
    seed_scale: tuple[int, int, int] = DEFAULT_SCALE
    api_key: str | None = None
    conversion_seconds: float = 2.0
    fail_rate: float = 0.0
    fail_mode: str = "error"
    latency_ms: float = 0.0
    rate_limit: bool = False
    extra_voices: int = 0
    ready_json: bool = False
    log_level: str = "warning"


class _HideInjectedDisconnects(logging.Filter):
    """Uvicorn logs a traceback for every dropped response; injected drops are expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedDisconnect))


def serve(options: ServerOptions) -> None:
    data_dir = options.data or Path(tempfile.mkdtemp(prefix="voicefs-emulator-"))
    settings = Settings(
        conversion_seconds=options.conversion_seconds, extra_voices=options.extra_voices
    )
    faults = Faults(
        fail_rate=options.fail_rate,
        fail_mode=options.fail_mode,
        latency_ms=options.latency_ms,
        rate_limit=options.rate_limit,
    )
    store = Store(data_dir, settings)
    state = EmulatorState(store, faults, seed=options.seed, primary_api_key=options.api_key)
    apply_seed(store, options.seed, options.api_key, options.seed_scale)

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every keep-alive response waits ~40 ms for delayed ACKs.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((options.host, options.port))
    listener.listen(2048)  # before the ready line: early clients queue instead of being refused
    port = listener.getsockname()[1]
    url = f"http://{options.host}:{port}"

    logging.getLogger("uvicorn.error").addFilter(_HideInjectedDisconnects())
    config = uvicorn.Config(
        create_app(state),
        log_level=options.log_level,
        timeout_keep_alive=30,
        limit_concurrency=256,
    )
    server = uvicorn.Server(config)
    state.worker.start()
    _announce(options, url, port, data_dir, state)
    try:
        server.run(sockets=[listener])
    finally:
        state.worker.stop()
        store.db.close()


def _announce(
    options: ServerOptions, url: str, port: int, data_dir: Path, state: EmulatorState
) -> None:
    if options.ready_json:
        print(json.dumps({"url": url, "port": port, "data": str(data_dir)}), flush=True)
        return
    print(f"voicefs emulator serving the Voice Marketplace API at {url}")
    print(f"  data: {data_dir}")
    if options.seed == "demo":
        user = state.store.user_by_email(DEMO_EMAIL)
        print(f"  demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        print(f"  API key: {user['api_key'] if user else '?'}")
        print(f"  try: curl -H 'api-key: {user['api_key'] if user else ''}' {url}/api/projects")
    elif options.seed == "large":
        user = state.store.user_by_email(LARGE_EMAIL)
        print(f"  large account: {LARGE_EMAIL}, API key {user['api_key'] if user else '?'}")
    elif options.api_key:
        print("  API key: the one given with --api-key")
    print("  test hooks under /_emulator/ (requests, reset, users, faults); Ctrl-C stops")
    sys.stdout.flush()
