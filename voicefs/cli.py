"""The `voicefs` command."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from voicefs.api import VoiceClient
from voicefs.api.auth import DEFAULT_PROFILE, DEFAULT_URL, store_profile


def _emulator(args: argparse.Namespace) -> int:
    try:
        from voicefs.emulator.server import ServerOptions, serve
    except ImportError as exc:  # the extra is not installed
        raise SystemExit(
            f"voicefs emulator needs the emulator extra: pip install 'voicefs[emulator]' ({exc})"
        ) from exc
    serve(
        ServerOptions(
            host=args.host,
            port=args.port,
            data=args.data,
            seed=args.seed,
            api_key=args.api_key,
            conversion_seconds=args.conversion_seconds,
            fail_rate=args.fail_rate,
            fail_mode=args.fail_mode,
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
            extra_voices=args.extra_voices,
            ready_json=args.ready_json,
            log_level="info" if args.verbose else "warning",
        )
    )
    return 0


def login_and_store_key(
    url: str, email: str, password: str, profile: str = DEFAULT_PROFILE
) -> Path:
    """`voicefs login`: logs in, creates an API key, stores it in `profile`; returns the file.

    Creating a key replaces the account's previous one (the service keeps one per account).
    """
    with VoiceClient(url=url, email=email, password=password) as client:
        key = client.create_api_key()
        with contextlib.suppress(OSError):  # the session expires by itself anyway
            client.logout()
    return store_profile(profile, {"url": url.rstrip("/"), "api_key": key})


def _login(args: argparse.Namespace) -> int:
    """Asks for email and password, creates an API key and stores it in the profile."""
    url = args.url or os.environ.get("VOICEFS_URL") or DEFAULT_URL
    email = args.email or input("Email: ").strip()
    password = getpass.getpass("Password: ")
    try:
        path = login_and_store_key(url, email, password, profile=args.profile)
    except OSError as exc:
        print(f"voicefs login: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Logged in as {email}; the API key is stored in {path} (profile {args.profile!r}).")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicefs", description="The Respeecher Voice Marketplace API as a filesystem."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="create an API key and store it in a profile")
    login.add_argument("--url", help=f"the service (default: VOICEFS_URL or {DEFAULT_URL})")
    login.add_argument("--email", help="asked for when not given")
    login.add_argument("--profile", default=os.environ.get("VOICEFS_PROFILE", DEFAULT_PROFILE))
    login.set_defaults(run=_login)

    emulator = commands.add_parser(
        "emulator", help="serve a local emulator of the service (for tests and demos)"
    )
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    emulator.add_argument("--data", type=Path, help="directory for its SQLite and audio files")
    emulator.add_argument("--seed", choices=["demo", "none"], help="create the demo account")
    emulator.add_argument("--api-key", help="an API key that the primary user accepts")
    emulator.add_argument("--conversion-seconds", type=float, default=2.0, metavar="S")
    emulator.add_argument("--fail-rate", type=float, default=0.0, metavar="F")
    emulator.add_argument("--fail-mode", choices=["error", "drop"], default="error")
    emulator.add_argument("--latency-ms", type=float, default=0.0, metavar="MS")
    emulator.add_argument(
        "--rate-limit", action="store_true", help="enforce 500 fast / 100 slow requests per 300 s"
    )
    emulator.add_argument("--extra-voices", type=int, default=0, help=argparse.SUPPRESS)
    emulator.add_argument("--ready-json", action="store_true", help=argparse.SUPPRESS)
    emulator.add_argument("-v", "--verbose", action="store_true", help="log every request")
    emulator.set_defaults(run=_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result: int = args.run(args)
    return result
