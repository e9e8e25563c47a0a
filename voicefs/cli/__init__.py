"""The `voicefs` command: one click group, its subcommands in modules by what they touch.

Exit status: 0 done, 1 refused (one line on stderr naming the path and the service's reason;
the traceback only with -v), 2 a usage mistake. Shell completion comes from click:
`eval "$(_VOICEFS_COMPLETE=bash_source voicefs)"` (zsh_source, fish_source likewise).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from voicefs.cli.account import login, login_and_store_key, logout, status
from voicefs.cli.browse import cp, ls, tree
from voicefs.cli.common import VoiceGroup, verbosity_option
from voicefs.cli.controls import note, order, star, unstar, wait
from voicefs.cli.service import demo, emulator, mount, unmount
from voicefs.cli.webdav import serve

__all__ = ["login_and_store_key", "main", "voicefs"]


@click.group(cls=VoiceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="voicefs")
@verbosity_option
def voicefs() -> None:
    """The Respeecher Voice Marketplace API as a filesystem.

    Paths name places in the account: "Audiobook/Chapter 1/opening.wav", with or without a
    leading voicefs://. The account comes from --url/--profile, else VOICEFS_URL and
    VOICEFS_API_KEY, else the default profile written by `voicefs login`.

    \b
    Start here:
      voicefs demo                  the emulator's demo account, mounted at ./voicefs-demo
      voicefs login                 keep an API key for your own account
      voicefs mount ~/voices        mount it
      voicefs ls -l "Audiobook/Chapter 1"
    """


for command in (
    login,
    logout,
    status,
    ls,
    tree,
    cp,
    order,
    wait,
    star,
    unstar,
    note,
    mount,
    unmount,
    demo,
    emulator,
    serve,
):
    voicefs.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns its exit status (click's standalone mode exits by itself)."""
    try:
        voicefs.main(args=list(argv) if argv is not None else None, prog_name="voicefs")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
