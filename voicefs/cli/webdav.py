"""`voicefs serve webdav`: the drive for Finder, Explorer, GNOME Files, davfs2 and rclone."""

from __future__ import annotations

from pathlib import Path

import click

from voicefs.cli.common import VERBOSITY_KEY, Verbosity, configure_logging, verbosity_option
from voicefs.cli.service import DriveSettings, drive_options


@click.group("serve")
def serve() -> None:
    """Serve the account to other programs (WebDAV).

    \b
    Examples:
      voicefs serve webdav
    """


@serve.command("webdav")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The port (0 picks a free one; the address printed says which).",
)
@click.option("--user", default="voicefs", show_default=True, help="The user clients log in as.")
@drive_options
@click.option(
    "--certfile",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve HTTPS with this certificate (PEM).",
)
@click.option(
    "--keyfile",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The TLS certificate's private key.",
)
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address without TLS.")
@verbosity_option
def webdav(
    host: str,
    port: int,
    user: str,
    drive: DriveSettings,
    certfile: Path | None,
    keyfile: Path | None,
    insecure: bool,
) -> None:
    """Serve the account over WebDAV, in the foreground until Ctrl-C.

    The password is VOICEFS_WEBDAV_PASSWORD, else the profile's (made and shown at the
    first start, kept in the config file).

    \b
    Examples:
      voicefs serve webdav                      http://127.0.0.1:8080/ for this machine
      voicefs serve webdav --host 0.0.0.0 --certfile cert.pem --keyfile key.pem
    """
    from voicefs.webdav.server import Password, ServeError, ServeOptions, serve

    options = ServeOptions(
        host=host,
        port=port,
        user=user,
        certfile=certfile,
        keyfile=keyfile,
        insecure=insecure,
        **drive,
    )
    meta = click.get_current_context().find_root().meta
    configure_logging(Verbosity(meta.get(VERBOSITY_KEY, Verbosity.QUIET)))

    def ready(address: str, password: Password) -> None:
        click.echo(f"Serving the account over WebDAV at {address}", err=False)
        click.echo(f"  user: {options.user}")
        if password.generated:
            click.echo(f"  password: {password.value}")
            click.echo(f"  (made now and kept in {password.kept_in}; shown only this once)")
        else:
            click.echo("  password: from VOICEFS_WEBDAV_PASSWORD or the profile")
        click.echo(f"{'read-only; ' if options.read_only else ''}Ctrl-C stops.")

    try:
        serve(options, ready)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from exc
