"""`voicefs login`, `logout` and `status`: the key in the profile, and how things stand."""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from voicefs.api import VoiceClient
from voicefs.api.auth import (
    DEFAULT_PROFILE,
    DEFAULT_URL,
    config_path,
    read_profile,
    remove_profile,
    store_profile,
)
from voicefs.api.errors import AccessDeniedError
from voicefs.cli.common import Account, account_command, describe, verbosity_option
from voicefs.mount.runner import voicefs_mounts

RECENT_ERRORS = 5

profile_option = click.option(
    "--profile",
    default=lambda: os.environ.get("VOICEFS_PROFILE", DEFAULT_PROFILE),
    show_default="default",
    metavar="NAME",
    help="The profile of the config file (VOICEFS_PROFILE).",
)


def login_and_store_key(
    url: str, email: str, password: str, profile: str = DEFAULT_PROFILE
) -> Path:
    """Logs in, creates an API key, stores it in `profile`; returns the config file.

    Creating a key replaces the account's previous one (the service keeps one per account).
    """
    with VoiceClient(url=url, email=email, password=password) as client:
        key = client.create_api_key()
        with contextlib.suppress(OSError):  # the session expires by itself anyway
            client.logout()
    return store_profile(profile, {"url": url.rstrip("/"), "api_key": key})


@click.command("login")
@click.option("--url", metavar="URL", help=f"The service (default: VOICEFS_URL or {DEFAULT_URL}).")
@click.option("--email", help="Asked for when not given.")
@profile_option
@verbosity_option
def login(url: str | None, email: str | None, profile: str) -> None:
    """Log in with email and password, create an API key and keep it in a profile.

    The key goes to ~/.config/voicefs/config.toml (mode 0600); the password is not kept.
    Creating a key replaces the account's previous key.

    \b
    Examples:
      voicefs login
      voicefs login --profile work --email me@example.com
    """
    url = url or os.environ.get("VOICEFS_URL") or DEFAULT_URL
    email = email or input("Email: ").strip()
    password = getpass.getpass("Password: ")
    path = login_and_store_key(url, email, password, profile=profile)
    click.echo(f"Logged in as {email}; the API key is stored in {path} (profile {profile!r}).")


@click.command("logout")
@profile_option
@verbosity_option
def logout(profile: str) -> None:
    """Delete the profile's API key on the service, then remove the profile.

    A key the service no longer accepts is removed from the profile all the same; when the
    service cannot be reached, the profile is kept so that logout can be tried again.

    \b
    Example:
      voicefs logout --profile work
    """
    path = config_path()
    table = read_profile(profile, path)
    if table is None:
        raise FileNotFoundError(f"{path}: no profile {profile!r} (nothing to log out of)")
    stale = False
    # the profile's own service, never VOICEFS_URL: the key must not go to another host
    with VoiceClient(url=table.get("url") or DEFAULT_URL, profile=profile) as client:
        try:
            client.delete_api_key()
        except AccessDeniedError:
            stale = True  # the service refuses the key: it is of no use to anyone any more
    remove_profile(profile, path)
    if stale:
        click.echo(f"The service no longer accepted the key; profile {profile!r} is removed.")
    else:
        click.echo(f"The API key is deleted on the service and profile {profile!r} is removed.")


@dataclass
class MountStatus:
    """A mounted drive as its `/.voicefs` tells it."""

    mountpoint: str
    status: dict[str, Any] = field(default_factory=dict)
    recent_errors: list[str] = field(default_factory=list)
    problem: str | None = None


def mount_status(mountpoint: str) -> MountStatus:
    account_dir = Path(mountpoint) / ".voicefs"
    found = MountStatus(mountpoint)
    try:
        found.status = json.loads((account_dir / "status.json").read_text())
        errors = (account_dir / "errors.log").read_text().splitlines()
        found.recent_errors = errors[-RECENT_ERRORS:]
    except (OSError, ValueError) as error:
        found.problem = describe(error)
    return found


def own_mounts(account: str | None) -> list[MountStatus]:
    """The mounted drives of this account (`account_digest`; None when it cannot be told):
    a drive whose status.json names another account is left out. A drive that cannot tell
    (its process died, or it predates the field) is shown, so that a dead one is noticed."""
    found = [mount_status(mountpoint) for mountpoint in voicefs_mounts()]
    return [
        drive
        for drive in found
        if account is None or drive.status.get("account", account) == account
    ]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
@account_command
def status(account: Account, as_json: bool) -> None:
    """Show the account, its credits, and each mounted drive's state, pending uploads and
    recent errors. Exits 1 when the service cannot be asked (the drives are still shown).

    \b
    Examples:
      voicefs status
      voicefs status --json
    """
    failure: Exception | None = None
    mounts: list[MountStatus] | None = None
    report: dict[str, Any] = {}
    try:
        client = account.filesystem.client
        mounts = own_mounts(client.account_digest())
        user = client.whoami()
        credits = client.credits()
        report["account"] = {"email": user.email, "id": user.id, "url": client.url}
        report["credits"] = {"left": credits.credits, "initial": credits.initial_credits}
    except (OSError, ValueError) as error:
        failure = error
        report["problem"] = describe(error)
    if mounts is None:  # no credentials to tell the account by: every drive
        mounts = own_mounts(None)
    report["mounts"] = [vars(m) for m in mounts]
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        for line in _status_lines(report, mounts):
            click.echo(line)
    if failure is not None:
        raise failure
    dead = [drive for drive in mounts if drive.problem]
    if dead:  # a drive whose process died answers ENOTCONN: say so in the exit status
        raise OSError(errno.ENOTCONN, f"{dead[0].mountpoint}: {dead[0].problem}")


def _status_lines(report: dict[str, Any], mounts: list[MountStatus]) -> Iterator[str]:
    if "account" in report:
        who = report["account"]
        yield f"account  {who['email'] or who['id']} at {who['url']}"
        money = report["credits"]
        yield f"credits  {money['left']:g} left of {money['initial']:g}"
    if not mounts:
        yield "mounts   none"
    for drive in mounts:
        state = drive.status.get("state", "unknown")
        since = drive.status.get("since")
        pending = drive.status.get("pending_uploads", [])
        yield (
            f"mount    {drive.mountpoint}: {state}"
            + (f" since {since}" if since and state != "online" else "")
            + f", {len(pending)} pending upload{'s' if len(pending) != 1 else ''}"
        )
        if drive.problem:
            yield f"         cannot read its status: {drive.problem}"
        for path in pending:
            yield f"         pending  {path}"
        for line in drive.recent_errors:
            yield f"         error    {line}"
