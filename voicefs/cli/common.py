"""What every `voicefs` command shares: account options, verbosity, logging, and errors as one
line on stderr with an exit status scripts can trust (0 done, 1 refused, 2 usage)."""

from __future__ import annotations

import functools
import logging
import logging.handlers
import posixpath
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from voicefs.filesystem import VoiceFileSystem
from voicefs.private import private_directory

PROTOCOL = "voicefs://"
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
LOG_FILE_BYTES = 5 << 20
VERBOSITY_KEY = "voicefs.verbosity"

F = TypeVar("F", bound=Callable[..., Any])


class Verbosity(IntEnum):
    """`-v` counted: warnings only, then what voicefs does, then every request."""

    QUIET = 0
    INFO = 1
    DEBUG = 2

    @classmethod
    def of(cls, count: int) -> Verbosity:
        return cls(min(count, cls.DEBUG))

    @property
    def level(self) -> int:
        return {self.QUIET: logging.WARNING, self.INFO: logging.INFO, self.DEBUG: logging.DEBUG}[
            self
        ]


def configure_logging(verbosity: Verbosity, log_file: Path | None = None) -> None:
    """stdlib logging to stderr, or to `log_file` (kept 0600 in a 0700 directory) for a process
    that has no terminal any more, such as a daemonized mount. The key is never logged: it
    lives in a `Secret` that prints as stars."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        private_directory(log_file.parent)
        log_file.touch(mode=0o600, exist_ok=True)
        log_file.chmod(0o600)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_FILE_BYTES, backupCount=2, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(verbosity.level)
    # urllib3 tells of every connection at DEBUG: useful only at -vv
    logging.getLogger("urllib3").setLevel(
        logging.DEBUG if verbosity >= Verbosity.DEBUG else logging.WARNING
    )


@dataclass
class Account:
    """The account a command works on: `--url` and `--profile`, else the environment, else the
    default profile (CONTRACT §1). The filesystem is made on first use, so `--help` and usage
    errors never touch the network."""

    url: str | None = None
    profile: str | None = None
    _filesystem: VoiceFileSystem | None = field(default=None, repr=False)

    @property
    def filesystem(self) -> VoiceFileSystem:
        if self._filesystem is None:
            self._filesystem = VoiceFileSystem(
                url=self.url, profile=self.profile, skip_instance_cache=True
            )
        return self._filesystem

    def close(self) -> None:
        if self._filesystem is not None:
            self._filesystem.client.close()


def verbosity_option(command: F) -> F:
    """`-v`/`-vv` on a command, and on `voicefs` itself (`voicefs -v ls`, as git and rclone
    take it); sets up logging before the command runs. Given in both places, the louder
    one counts."""

    def remember(ctx: click.Context, _param: click.Parameter, count: int) -> Verbosity:
        root = ctx.find_root().meta
        verbosity = max(Verbosity.of(count), root.get(VERBOSITY_KEY, Verbosity.QUIET))
        root[VERBOSITY_KEY] = verbosity
        configure_logging(verbosity)
        return verbosity

    return click.option(
        "-v",
        "--verbose",
        "verbosity",
        count=True,
        callback=remember,
        expose_value=False,
        is_eager=True,
        help="Say more: -v what voicefs does (and a refusal's traceback), -vv every request.",
    )(command)


def account_command(command: Callable[..., Any]) -> Callable[..., Any]:
    """A command that works on an account: adds `--url`, `--profile` and `-v`, and passes an
    `Account` as the first argument."""

    @functools.wraps(command)
    def run(url: str | None, profile: str | None, **kwargs: Any) -> Any:
        account = Account(url=url, profile=profile)
        try:
            return command(account, **kwargs)
        finally:
            account.close()

    run = click.option(
        "--profile", metavar="NAME", help="The profile of the config file (voicefs login)."
    )(run)
    run = click.option(
        "--url", metavar="URL", help="The service (default: VOICEFS_URL, else the profile's)."
    )(run)
    return verbosity_option(run)


def describe(error: BaseException) -> str:
    """One line for an error: our errors already name the path and the service's reason."""
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
        if error.filename and str(error.filename) not in text:
            text = f"{error.filename}: {text}"
        return text
    return str(error) or type(error).__name__


class VoiceGroup(click.Group):
    """The `voicefs` group: a refused action is one line on stderr and exit status 1; the
    traceback only with `-v`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # `voicefs tree | head`: click ends quietly
        except KeyboardInterrupt:
            click.echo("voicefs: interrupted", err=True)
            ctx.exit(130)
        except Exception as error:
            if ctx.meta.get(VERBOSITY_KEY, Verbosity.QUIET) >= Verbosity.INFO:
                traceback.print_exc()
            command = ctx.invoked_subcommand or ""
            click.echo(f"voicefs {command}: {describe(error)}".replace("  ", " "), err=True)
            ctx.exit(1)


def is_account_path(text: str) -> bool:
    return text.startswith(PROTOCOL)


def account_path(text: str) -> str:
    """`voicefs://A/B`, `/A/B` and `A/B` all name the same place of the account."""
    return text.removeprefix(PROTOCOL).strip("/")


def complete_account_path(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of account paths: lists the parent directory (one request, or none
    when cached); any failure completes nothing rather than printing an error mid-line."""
    prefix = PROTOCOL if incomplete.startswith(PROTOCOL) else ""
    path = account_path(incomplete)
    parent, _, start = path.rpartition("/")
    try:
        account = Account(url=ctx.params.get("url"), profile=ctx.params.get("profile"))
        entries = account.filesystem.ls(parent or "/", detail=True)
    except Exception:
        return []
    items = []
    for entry in entries:
        name = posixpath.basename(entry["name"])
        if not name.startswith(start) or (name.startswith(".") and not start.startswith(".")):
            continue
        full = prefix + posixpath.join(parent, name)
        items.append(CompletionItem(full + ("/" if entry["type"] == "directory" else "")))
    return items
