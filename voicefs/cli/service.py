"""`voicefs mount`, `unmount`, `demo` and `emulator`: the drive, and the local service."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from voicefs.cli.common import VERBOSITY_KEY, Verbosity, configure_logging, verbosity_option
from voicefs.drive.options import (
    DEFAULT_CACHE_ENTRIES,
    DEFAULT_CACHE_SIZE,
    DEFAULT_CACHE_TTL,
    DEFAULT_TIMEOUT,
    DriveOptions,
    default_cache_dir,
)
from voicefs.emulator.seed_large import DEFAULT_SCALE, parse_scale
from voicefs.mount.runner import MountOptions

MOUNT_LOG = Path("logs") / "mount.log"  # under the cache directory

log = logging.getLogger("voicefs.mount")


def _verbosity() -> Verbosity:
    meta = click.get_current_context().find_root().meta
    return Verbosity(meta.get(VERBOSITY_KEY, Verbosity.QUIET))


_DRIVE_OPTIONS = [
    click.option(
        "--url", metavar="URL", help="The service (default: VOICEFS_URL, else the profile's)."
    ),
    click.option(
        "--profile", metavar="NAME", help="The profile of the config file (voicefs login)."
    ),
    click.option(
        "--cache-dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Where listings, audio and the journal are kept (default: ~/.cache/voicefs).",
    ),
    click.option(
        "--cache-ttl",
        type=float,
        default=DEFAULT_CACHE_TTL,
        show_default=True,
        metavar="SECONDS",
        help="How long a listing answers without asking the service.",
    ),
    click.option(
        "--cache-size",
        type=int,
        default=DEFAULT_CACHE_SIZE,
        show_default=True,
        metavar="BYTES",
        help="The most audio kept on disk.",
    ),
    click.option(
        "--cache-entries",
        type=click.IntRange(min=1),
        default=DEFAULT_CACHE_ENTRIES,
        show_default=True,
        metavar="N",
        help="The most listed recordings, folders and projects kept in memory (the rest on disk).",
    ),
    click.option(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="The longest any call waits for a slow or absent service.",
    ),
    click.option("--read-only", is_flag=True, help="Refuse every change."),
]


DriveSettings = dict[str, Any]
"""The values of the drive options, by `DriveOptions` field: what a command passes on."""


def drive_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every front-end of the drive takes, handed to the command together as one
    `drive` argument (`DriveOptions(**drive)`, or a subclass's), the cache directory's
    default filled in."""

    @functools.wraps(command)
    def collected(**values: Any) -> Any:
        drive = {field.name: values.pop(field.name) for field in dataclasses.fields(DriveOptions)}
        drive["cache_dir"] = drive["cache_dir"] or default_cache_dir()
        return command(drive=drive, **values)

    for option in reversed(_DRIVE_OPTIONS):
        collected = option(collected)
    return collected


@click.command("mount")
@click.argument("mountpoint", type=click.Path(path_type=Path, readable=False))
@drive_options
@click.option("--foreground", is_flag=True, help="Stay in the foreground, logging to stderr.")
@click.option("--allow-other", is_flag=True, help="Let other users in (needs user_allow_other).")
@verbosity_option
def mount(mountpoint: Path, drive: DriveSettings, foreground: bool, allow_other: bool) -> None:
    """Mount the account as a local drive; returns once the drive is ready.

    Without --foreground the drive runs in the background and logs to
    <cache-dir>/logs/mount.log (-v, -vv for more).

    \b
    Examples:
      voicefs mount ~/voices
      voicefs mount ~/voices --profile work --read-only
      voicefs unmount ~/voices
    """
    from voicefs.mount.runner import mount as run_mount

    options = MountOptions(
        mountpoint=mountpoint, foreground=foreground, allow_other=allow_other, **drive
    )
    verbosity = _verbosity()

    def when_ready() -> None:
        if not foreground:  # stderr is gone in the background: log to a file of the cache
            configure_logging(verbosity, options.cache_dir / MOUNT_LOG)
        log.info(
            "%s: mounted (%s)", options.mountpoint, "read-only" if options.read_only else "writable"
        )

    run_mount(options, on_ready=when_ready)  # a MountError is one line, as any refusal


@click.command("unmount")
@click.argument("mountpoint", type=click.Path(path_type=Path, readable=False))
@verbosity_option
def unmount(mountpoint: Path) -> None:
    """Unmount a drive (waits for files still being written to it).

    \b
    Example:
      voicefs unmount ~/voices
    """
    from voicefs.mount.runner import unmount as run_unmount

    run_unmount(mountpoint)


@click.command("demo")
@click.argument(
    "mountpoint", type=click.Path(path_type=Path, file_okay=False), default="voicefs-demo"
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Default: a temporary directory.",
)
@verbosity_option
def demo(mountpoint: Path, cache_dir: Path | None) -> None:
    """Serve the emulator with the demo account and mount it, until Ctrl-C.

    \b
    Example:
      voicefs demo            (mounts at ./voicefs-demo)
    """
    from voicefs.mount.demo import run_demo

    if run_demo(mountpoint, cache_dir) != 0:
        raise click.exceptions.Exit(1)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for its SQLite and audio files (default: a temporary one).",
)
@click.option(
    "--seed",
    type=click.Choice(["demo", "large", "none"]),
    help="Create the demo account, or a large one (see --seed-scale).",
)
@click.option(
    "--seed-scale",
    default="x".join(map(str, DEFAULT_SCALE)),
    show_default=True,
    metavar="PxFxR",
    help="The large seed's projects, folders per project and recordings per folder.",
)
@click.option("--api-key", help="An API key the primary user accepts.")
@click.option("--conversion-seconds", type=float, default=2.0, show_default=True, metavar="S")
@click.option(
    "--fail-rate", type=float, default=0.0, metavar="F", help="Fail this share of requests."
)
@click.option(
    "--fail-mode", type=click.Choice(["error", "drop"]), default="error", show_default=True
)
@click.option("--latency-ms", type=float, default=0.0, metavar="MS")
@click.option("--rate-limit", is_flag=True, help="Enforce 500 fast / 100 slow requests per 300 s.")
@click.option("--extra-voices", type=int, default=0, hidden=True)
@click.option("--ready-json", is_flag=True, hidden=True)
@verbosity_option
def emulator(seed_scale: str, **options: object) -> None:
    """Serve a local emulator of the service (for tests, demos and trying things).

    \b
    Examples:
      voicefs emulator --seed demo
      voicefs emulator --seed large --seed-scale 5x10x200 --port 0
      voicefs emulator --seed demo --fail-rate 0.1 --latency-ms 50
    """
    try:
        from voicefs.emulator.server import ServerOptions, serve
    except ImportError as error:  # the extra is not installed
        raise ImportError(
            f"the emulator needs its extra: pip install 'voicefs[emulator]' ({error})"
        ) from error
    try:
        scale = parse_scale(seed_scale)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--seed-scale") from error
    log_level = "info" if _verbosity() >= Verbosity.INFO else "warning"
    serve(ServerOptions(seed_scale=scale, log_level=log_level, **options))  # type: ignore[arg-type]
