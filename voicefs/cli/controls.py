"""`voicefs order`, `wait`, `star`, `unstar` and `note`: the control files as commands.

Each goes through the filesystem's script methods, which write the same control files a
mount user writes (`order.txt`, `X.star`, `X.note.txt`), so the checks and errors are the same.
"""

from __future__ import annotations

import errno
import time

import click

from voicefs.cli.common import Account, account_command, account_path, complete_account_path
from voicefs.filesystem import VoiceFileSystem

DEFAULT_WAIT = 600.0
RECORDING_KINDS = {"original", "conversion"}


@click.command("order")
@click.option("--accent", metavar="NAME|ID", help="The accent, for every voice given.")
@click.option("--style", metavar="NAME|ID", help="The narration style, for every voice given.")
@click.option("--semitones", type=float, help="Pitch correction in semitones.")
@click.option("--label", help="A label for the conversion (its name).")
@click.option("--wait", "wait_done", is_flag=True, help="Wait until each conversion is done.")
@click.option("--timeout", type=float, default=DEFAULT_WAIT, show_default=True, metavar="SECONDS")
@click.argument("path", shell_complete=complete_account_path)
@click.argument("voices", nargs=-1, required=True)
@account_command
def order(
    account: Account,
    path: str,
    voices: tuple[str, ...],
    accent: str | None,
    style: str | None,
    semitones: float | None,
    label: str | None,
    wait_done: bool,
    timeout: float,
) -> None:
    """Order conversions of an original recording into one or more voices.

    Prints the path of each new conversion (…processing until it is done; with --wait, its
    final path once done). A voice, accent or style that does not exist refuses the whole
    order and nothing is ordered.

    \b
    Examples:
      voicefs order "Audiobook/Chapter 1/opening.wav" Alice Bob
      voicefs order "Audiobook/Chapter 1/opening.wav" Carmen --accent Spanish --wait
    """
    fs = account.filesystem
    ordered = fs.order(
        account_path(path), voices, accent=accent, style=style, semitones=semitones, label=label
    )
    if wait_done:
        wait_for(fs, ordered, timeout)
        return
    for conversion in ordered:
        click.echo(conversion)


@click.command("wait")
@click.option("--timeout", type=float, default=DEFAULT_WAIT, show_default=True, metavar="SECONDS")
@click.argument("paths", nargs=-1, required=True, shell_complete=complete_account_path)
@account_command
def wait(account: Account, paths: tuple[str, ...], timeout: float) -> None:
    """Wait until recordings are done; print each one's final path.

    Exits 1 with the service's reason when a conversion failed, or when --timeout passes.

    \b
    Example:
      voicefs wait "Audiobook/Chapter 1/opening.wav.conversions/Alice.wav.processing"
    """
    wait_for(account.filesystem, [account_path(path) for path in paths], timeout)


def wait_for(fs: VoiceFileSystem, paths: list[str], timeout: float) -> None:
    """Waits for each recording within one `timeout` in all, printing each final path as it
    is done; a failure is raised once every other one has been waited for."""
    deadline = time.monotonic() + timeout
    failures: list[OSError] = []
    for path in paths:
        try:
            click.echo(fs.wait(path, timeout=max(deadline - time.monotonic(), 0.0)))
        except OSError as failure:  # TimeoutError too
            failures.append(failure)
    if failures:
        raise failures[0]


@click.command("star")
@click.argument("paths", nargs=-1, required=True, shell_complete=complete_account_path)
@account_command
def star(account: Account, paths: tuple[str, ...]) -> None:
    """Star recordings (as creating X.star does).

    \b
    Example:
      voicefs star "Audiobook/Chapter 1/opening.wav"
    """
    for path in paths:
        account.filesystem.star(account_path(path), True)


@click.command("unstar")
@click.argument("paths", nargs=-1, required=True, shell_complete=complete_account_path)
@account_command
def unstar(account: Account, paths: tuple[str, ...]) -> None:
    """Unstar recordings (as deleting X.star does).

    \b
    Example:
      voicefs unstar "Audiobook/Chapter 1/opening.wav"
    """
    for path in paths:
        account.filesystem.star(account_path(path), False)


@click.command("note")
@click.option("--delete", is_flag=True, help="Delete the note.")
@click.argument("path", shell_complete=complete_account_path)
@click.argument("text", required=False)
@account_command
def note(account: Account, path: str, text: str | None, delete: bool) -> None:
    """Print a recording's note, or write it (TEXT, at most 2000 characters).

    \b
    Examples:
      voicefs note "Audiobook/Chapter 1/opening.wav"
      voicefs note "Audiobook/Chapter 1/opening.wav" "Keep the pause after 'April'."
      voicefs note --delete "Audiobook/Chapter 1/opening.wav"
    """
    fs = account.filesystem
    where = account_path(path)
    if delete and text is not None:
        raise click.UsageError("give TEXT or --delete, not both")
    if delete or text is not None:
        fs.set_note(where, None if delete else text)
        return
    entry = fs.info(where)
    if entry.get("kind") not in RECORDING_KINDS:
        raise OSError(errno.EINVAL, f"{where}: not a recording (notes belong to recordings)")
    if entry.get("note"):
        click.echo(entry["note"])
