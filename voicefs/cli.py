"""The `voicefs` command."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
            seed_scale=args.seed_scale,
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


def _mount(args: argparse.Namespace) -> int:
    """Mounts the account (CONTRACT §6); returns once the mount is ready."""
    from voicefs.mount.runner import MountError, MountOptions, default_cache_dir, mount

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    options = MountOptions(
        mountpoint=args.mountpoint,
        url=args.url,
        profile=args.profile,
        foreground=args.foreground,
        cache_dir=args.cache_dir or default_cache_dir(),
        cache_ttl=args.cache_ttl,
        cache_size=args.cache_size,
        timeout=args.timeout,
        read_only=args.read_only,
        allow_other=args.allow_other,
    )
    try:
        mount(options)
    except MountError as exc:
        print(f"voicefs mount: {exc}", file=sys.stderr)
        return 1
    return 0


def _unmount(args: argparse.Namespace) -> int:
    from voicefs.mount.runner import MountError, unmount

    try:
        unmount(args.mountpoint)
    except MountError as exc:
        print(f"voicefs unmount: {exc}", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from voicefs.mount.demo import run_demo

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    return run_demo(args.mountpoint, args.cache_dir)


def _add_mount_commands(commands: Any) -> None:
    from voicefs.mount.runner import DEFAULT_CACHE_SIZE, DEFAULT_CACHE_TTL, DEFAULT_TIMEOUT

    mount = commands.add_parser("mount", help="mount the account as a local drive")
    mount.add_argument("mountpoint", type=Path)
    mount.add_argument("--url", help="the service (default: the profile's, or VOICEFS_URL)")
    mount.add_argument("--profile", help="the profile of the config file to use")
    mount.add_argument("--foreground", action="store_true", help="stay in the foreground")
    mount.add_argument("--cache-dir", type=Path, help="default: ~/.cache/voicefs")
    mount.add_argument("--cache-ttl", type=float, default=DEFAULT_CACHE_TTL, metavar="SECONDS")
    mount.add_argument("--cache-size", type=int, default=DEFAULT_CACHE_SIZE, metavar="BYTES")
    mount.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")
    mount.add_argument("--read-only", action="store_true")
    mount.add_argument("--allow-other", action="store_true", help="let other users in")
    mount.add_argument("-v", "--verbose", action="store_true")
    mount.set_defaults(run=_mount)

    unmount = commands.add_parser("unmount", help="unmount a mounted account")
    unmount.add_argument("mountpoint", type=Path)
    unmount.set_defaults(run=_unmount)

    demo = commands.add_parser(
        "demo", help="serve the emulator with the demo account and mount it until Ctrl-C"
    )
    demo.add_argument("mountpoint", type=Path, nargs="?", default=Path("voicefs-demo"))
    demo.add_argument("--cache-dir", type=Path, help="default: a temporary directory")
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(run=_demo)


def _parser() -> argparse.ArgumentParser:
    from voicefs.emulator.seed_large import DEFAULT_SCALE, parse_scale

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
    emulator.add_argument(
        "--seed",
        choices=["demo", "large", "none"],
        help="create the demo account, or a large one (20 projects x 10 folders x 500 recordings)",
    )
    emulator.add_argument(
        "--seed-scale",
        type=parse_scale,
        default=DEFAULT_SCALE,
        metavar="PxFxR",
        help="the large seed's projects, folders per project and recordings per folder",
    )
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
    _add_mount_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result: int = args.run(args)
    return result
