"""`voicefs ls`, `voicefs tree` and `voicefs cp`: the account from a shell without a mount."""

from __future__ import annotations

import errno
import os
import posixpath
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import click
from fsspec.callbacks import Callback, NoOpCallback, TqdmCallback

from voicefs.cli.common import (
    Account,
    account_command,
    account_path,
    complete_account_path,
    is_account_path,
)
from voicefs.filesystem import VoiceFileSystem
from voicefs.tree.errors import path_error

LS_COLUMNS = ("name", "state", "duration", "size", "starred", "voice")
AUDIO_KINDS = {"original", "conversion"}


def _cell(entry: dict[str, Any], column: str) -> str:
    value = entry.get(column)
    if column == "name":
        name = posixpath.basename(entry["name"])
        return name + "/" if entry["type"] == "directory" else name
    if column == "size":  # "?": only a download would tell (a sample not fetched yet)
        return "-" if entry["type"] == "directory" else "?" if value is None else str(value)
    if column == "starred":
        return "*" if value else ""
    if column == "duration":
        return f"{value:.2f}" if isinstance(value, float) else ""
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def format_table(entries: list[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[str]:
    rows = [list(columns)] + [[_cell(entry, column) for column in columns] for entry in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    right = {columns.index(c) for c in ("duration", "size") if c in columns}
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        yield "  ".join(cells).rstrip()


@click.command("ls")
@click.option(
    "-l", "long", is_flag=True, help="A table: name, state, duration, size, starred, voice."
)
@click.option("-a", "--all", "show_all", is_flag=True, help="Show names that start with a dot.")
@click.argument("path", default="/", shell_complete=complete_account_path)
@account_command
def ls(account: Account, path: str, long: bool, show_all: bool) -> None:
    """List a directory of the account (or one file).

    \b
    Examples:
      voicefs ls
      voicefs ls -l "Audiobook/Chapter 1"
      voicefs ls -l "voicefs://Audiobook/Chapter 1/opening.wav.conversions"
    """
    fs = account.filesystem
    where = account_path(path)
    entries = fs.ls(where or "/", detail=True)
    if not show_all:
        entries = [e for e in entries if not posixpath.basename(e["name"]).startswith(".")]
    if long:
        for line in format_table(entries, LS_COLUMNS):
            click.echo(line)
    else:
        for entry in entries:
            click.echo(_cell(entry, "name"))


@click.command("tree")
@click.option("-L", "--level", type=click.IntRange(min=1), help="Descend at most this deep.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show names that start with a dot.")
@click.argument("path", default="/", shell_complete=complete_account_path)
@account_command
def tree(account: Account, path: str, level: int | None, show_all: bool) -> None:
    """Show a directory of the account and everything under it, as a tree.

    \b
    Examples:
      voicefs tree Audiobook
      voicefs tree -L 1
    """
    fs = account.filesystem
    root = account_path(path)
    click.echo(root or "/")
    for line in _tree_lines(fs, root, "", level, show_all):
        click.echo(line)


def _tree_lines(
    fs: VoiceFileSystem, path: str, indent: str, level: int | None, show_all: bool
) -> Iterator[str]:
    entries = fs.ls(path or "/", detail=True)
    if not show_all:
        entries = [e for e in entries if not posixpath.basename(e["name"]).startswith(".")]
    for index, entry in enumerate(entries):
        last = index == len(entries) - 1
        yield f"{indent}{'└── ' if last else '├── '}{_cell(entry, 'name')}"
        if entry["type"] == "directory" and (level is None or level > 1):
            deeper = None if level is None else level - 1
            yield from _tree_lines(
                fs, entry["name"], indent + ("    " if last else "│   "), deeper, show_all
            )


class Direction(Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    WITHIN = "within the account"


@dataclass(frozen=True)
class Transfer:
    source: str
    target: str


def _progress(enabled: bool | None, label: str) -> Callback:
    """A tqdm bar on stderr through fsspec's callback protocol; by default only on a terminal."""
    if enabled is False:
        return NoOpCallback()
    return TqdmCallback(
        tqdm_kwargs={
            "desc": label,
            "unit": "B",
            "unit_scale": True,
            "unit_divisor": 1024,
            "file": sys.stderr,
            "disable": None if enabled is None else False,
            "leave": True,
        }
    )


@click.command("cp")
@click.option("-r", "--recursive", is_flag=True, help="Copy directories and what they hold.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars on stderr (default: when stderr is a terminal).",
)
@click.argument("sources", nargs=-1, required=True, shell_complete=complete_account_path)
@click.argument("target", shell_complete=complete_account_path)
@account_command
def cp(
    account: Account,
    sources: tuple[str, ...],
    target: str,
    recursive: bool,
    progress: bool | None,
) -> None:
    """Copy files between this machine and the account (written voicefs://…).

    Copying audio into a folder uploads an original; copying from the account downloads
    recordings. With -r, a local directory copied into a project becomes a folder, and an
    account directory copied here brings its finished audio (conversions in their
    `.conversions/` directories); control files and manifests stay behind.

    \b
    Examples:
      voicefs cp take.wav "voicefs://Audiobook/Chapter 1/"
      voicefs cp -r session/ voicefs://Audiobook/
      voicefs cp "voicefs://Audiobook/Chapter 1/opening.wav.conversions/Alice.wav" .
    """
    direction = _direction(sources, target)
    fs = account.filesystem
    transfers = list(_plan(fs, direction, sources, target, recursive))
    for transfer in transfers:
        label = posixpath.basename(transfer.source.rstrip("/"))
        with _progress(progress, label) as callback:
            if direction is Direction.UPLOAD:
                fs.put_file(transfer.source, transfer.target, callback=callback)
            elif direction is Direction.DOWNLOAD:
                Path(transfer.target).parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(transfer.source, transfer.target, callback=callback)
            else:
                fs.cp_file(transfer.source, transfer.target)
        click.echo(transfer.target)


def _direction(sources: tuple[str, ...], target: str) -> Direction:
    remote_sources = {is_account_path(source) for source in sources}
    if len(remote_sources) > 1:
        raise click.UsageError("the sources are all local or all voicefs://, not a mix")
    from_account = remote_sources.pop()
    to_account = is_account_path(target)
    if not from_account and not to_account:
        raise click.UsageError("one side must be in the account: write it voicefs://PATH")
    if from_account and to_account:
        return Direction.WITHIN
    return Direction.DOWNLOAD if from_account else Direction.UPLOAD


def _plan(
    fs: VoiceFileSystem,
    direction: Direction,
    sources: tuple[str, ...],
    target: str,
    recursive: bool,
) -> Iterator[Transfer]:
    """Each file to copy and where it lands, as `cp` places it: into TARGET when TARGET is a
    directory (or several sources are given), else at TARGET."""
    if direction is Direction.UPLOAD:
        remote = account_path(target)
        into = len(sources) > 1 or target.endswith("/") or fs.isdir(remote)
        for source in sources:
            local = Path(source)
            if local.is_dir():
                if not recursive:
                    raise click.UsageError(f"{source}: is a directory (use -r)")
                folder = posixpath.join(remote, local.resolve().name) if into else remote
                yield from _upload_folder(fs, local, folder)
            else:
                yield Transfer(source, posixpath.join(remote, local.name) if into else remote)
        return
    if direction is Direction.DOWNLOAD:
        into = len(sources) > 1 or target.endswith("/") or Path(target).is_dir()
        for source in sources:
            remote = account_path(source)
            if fs.isdir(remote):
                if not recursive:
                    raise click.UsageError(f"{source}: is a directory (use -r)")
                base = Path(target) / posixpath.basename(remote) if into else Path(target)
                yield from _download_tree(fs, remote, base)
            else:
                name = posixpath.basename(remote)
                yield Transfer(remote, str(Path(target) / name) if into else target)
        return
    for source in sources:
        remote = account_path(source)
        into = len(sources) > 1 or target.endswith("/") or fs.isdir(account_path(target))
        name = posixpath.basename(remote)
        yield Transfer(remote, posixpath.join(account_path(target), name) if into else target)


def _upload_folder(fs: VoiceFileSystem, local: Path, folder: str) -> Iterator[Transfer]:
    """A local directory of takes becomes a folder of a project (made if need be); checked
    before anything is made, so a copy refused here changes nothing."""
    project = posixpath.dirname(folder)
    if not project or "/" in project or not fs.isdir(project):
        reason = "a directory is copied as a folder, into a project: voicefs://<project>/"
        raise path_error(errno.EPERM, reason, folder)
    nested = sorted(entry.name for entry in local.iterdir() if entry.is_dir())
    if nested:
        reason = f"a folder holds recordings, not directories ({nested[0]}/)"
        raise path_error(errno.EPERM, reason, str(local))
    if not fs.exists(folder):
        fs.mkdir(folder)
    for entry in sorted(local.iterdir()):
        yield Transfer(str(entry), posixpath.join(folder, entry.name))


def _download_tree(fs: VoiceFileSystem, remote: str, local: Path) -> Iterator[Transfer]:
    found = False
    for name, entry in sorted(fs.find(remote, detail=True).items()):
        state = entry.get("state")
        if entry.get("kind") in AUDIO_KINDS and getattr(state, "value", state) == "done":
            relative = posixpath.relpath(name, remote)
            found = True
            yield Transfer(name, os.path.join(local, *relative.split("/")))
    if not found:
        raise path_error(errno.ENOENT, "no finished recording here to copy", remote)
