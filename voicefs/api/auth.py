"""Credentials: where they come from (CONTRACT §1), how they are kept secret, the profiles.

Resolution, first found wins: explicit arguments (`api_key=`, then `email=` + `password=`,
then `profile=`), then the environment (`VOICEFS_API_KEY`, then `VOICEFS_EMAIL` +
`VOICEFS_PASSWORD`, then `VOICEFS_PROFILE`), then the `default` profile of
`$XDG_CONFIG_HOME/voicefs/config.toml` (`~/.config/voicefs/config.toml`).
Explicit arguments beat the environment so a stray variable never overrides what a caller passed.

The config file holds one table per profile:

    [profiles.default]
    url = "https://gateway.respeecher.com"
    api_key = "..."

It must not be readable by other users (mode 0600); voicefs refuses to read it otherwise.
"""

from __future__ import annotations

import base64
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from voicefs.api.errors import AccessDeniedError, InvalidRequestError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_URL = "https://gateway.respeecher.com"
DEFAULT_PROFILE = "default"
_MASK = b"voicefs"


def _mask(value: str) -> str:
    data = value.encode()
    return base64.b64encode(bytes(b ^ _MASK[i % len(_MASK)] for i, b in enumerate(data))).decode()


def _unmask(masked: str) -> Secret:
    data = base64.b64decode(masked)
    return Secret(bytes(b ^ _MASK[i % len(_MASK)] for i, b in enumerate(data)).decode())


class Secret:
    """A string that never shows itself: not in repr/str, logs, tracebacks or a pickle's bytes.

    Pickles carry it obfuscated (not encrypted) so the fsspec filesystem can travel to Dask
    workers while a dumped pickle never shows the key verbatim; treat pickles like the key.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_unmask, (_mask(self._value),))


@dataclass(frozen=True, repr=False)
class Credentials:
    """An API key, or an email and password for session login; `source` says where from."""

    api_key: Secret | None = None
    email: str | None = None
    password: Secret | None = None
    source: str = "argument"
    url: str | None = None  # the service URL stored with a profile, if any

    @property
    def uses_session(self) -> bool:
        return self.api_key is None

    def __repr__(self) -> str:
        kind = "api-key" if self.api_key is not None else f"login {self.email}"
        return f"Credentials({kind} from {self.source})"


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/voicefs/config.toml`, else `~/.config/voicefs/config.toml`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voicefs" / "config.toml"


def _check_private(path: Path) -> None:
    """Refuses a key file other users can read or write, saying how to fix it."""
    if os.name != "posix":
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AccessDeniedError(
            errno.EACCES,
            f"{path} holds API keys but other users can access it "
            f"(mode {stat.filemode(mode)}); fix it with: chmod 600 {path}",
            operation=f"read {path}",
        )


def read_config(path: Path) -> dict[str, Any]:
    """The parsed config file ({} when it does not exist); refuses a file others can read."""
    if not path.exists():
        return {}
    _check_private(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidRequestError(
            errno.EINVAL, f"{path} is not valid TOML: {exc}", operation=f"read {path}"
        ) from exc


def read_profile(name: str, path: Path) -> dict[str, Any] | None:
    """The profile's table, or None when the file or the profile does not exist."""
    profiles = read_config(path).get("profiles", {})
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    return profile if isinstance(profile, dict) else None


def resolve_credentials(
    api_key: str | None = None,
    email: str | None = None,
    password: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials to use (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    if api_key:
        return Credentials(api_key=Secret(api_key), source="argument api_key")
    if email and password:
        return Credentials(email=email, password=Secret(password), source="arguments")
    if profile:
        return _from_profile(profile, config_path(env), "argument profile")
    if env.get("VOICEFS_API_KEY"):
        return Credentials(api_key=Secret(env["VOICEFS_API_KEY"]), source="VOICEFS_API_KEY")
    if env.get("VOICEFS_EMAIL") and env.get("VOICEFS_PASSWORD"):
        return Credentials(
            email=env["VOICEFS_EMAIL"],
            password=Secret(env["VOICEFS_PASSWORD"]),
            source="VOICEFS_EMAIL/VOICEFS_PASSWORD",
        )
    if env.get("VOICEFS_PROFILE"):
        return _from_profile(env["VOICEFS_PROFILE"], config_path(env), "VOICEFS_PROFILE")
    return _from_profile(DEFAULT_PROFILE, config_path(env), "default profile")


def _from_profile(name: str, path: Path, how: str) -> Credentials:
    table = read_profile(name, path)
    source = f"profile {name!r} of {path}"
    if table is None:
        raise AccessDeniedError(
            errno.EACCES,
            f"no credentials: no profile {name!r} in {path} ({how}); run `voicefs login`, "
            "or pass api_key= / set VOICEFS_API_KEY",
            operation="resolve credentials",
        )
    url = str(table["url"]) if table.get("url") else None
    if table.get("api_key"):
        return Credentials(api_key=Secret(str(table["api_key"])), source=source, url=url)
    if table.get("email") and table.get("password"):
        return Credentials(
            email=str(table["email"]),
            password=Secret(str(table["password"])),
            source=source,
            url=url,
        )
    raise AccessDeniedError(
        errno.EACCES,
        f"profile {name!r} in {path} has no api_key; run `voicefs login`",
        operation="resolve credentials",
    )


def resolve_url(
    url: str | None, credentials: Credentials, environ: Mapping[str, str] | None = None
) -> str:
    """`url=`, else `VOICEFS_URL`, else the URL stored with the profile, else the default."""
    env = os.environ if environ is None else environ
    chosen = url or env.get("VOICEFS_URL") or credentials.url or DEFAULT_URL
    return chosen.rstrip("/")


def store_profile(name: str, values: Mapping[str, Any], path: Path | None = None) -> Path:
    """Writes (or replaces) one profile, keeping the others; the file is created mode 0600."""
    path = path or config_path()
    config = read_config(path) if path.exists() else {}
    config.setdefault("profiles", {})[name] = dict(values)
    _write_config(config, path)
    return path


def remove_profile(name: str, path: Path | None = None) -> Path:
    """Deletes one profile (and with it its key), keeping the others."""
    path = path or config_path()
    config = read_config(path) if path.exists() else {}
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict) or name not in profiles:
        raise FileNotFoundError(errno.ENOENT, f"{path}: no profile {name!r}")
    del profiles[name]
    _write_config(config, path)
    return path


def _write_config(config: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates a new file only its owner can read (0600, O_EXCL): the key is never
    # readable by others, not even for a moment; the rename replaces the old file at once.
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(config, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
