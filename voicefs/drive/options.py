"""What every front-end of the drive is given (the service, the cache and its limits), and
the filesystem it makes of them: the same for the FUSE mount and the WebDAV server, so that
both treat the service, the cache directory and a slow answer the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from voicefs.api import ServiceError
from voicefs.filesystem import VoiceFileSystem
from voicefs.tree.cache import DEFAULT_MAX_ENTRIES

DEFAULT_CACHE_SIZE = 10 << 30
DEFAULT_CACHE_ENTRIES = DEFAULT_MAX_ENTRIES  # listed recordings, folders, projects in memory
DEFAULT_CACHE_TTL = 30.0
DEFAULT_TIMEOUT = 5.0  # seconds: a live service answers a listing in well under a second


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voicefs"


class CredentialsError(Exception):
    """The service refused the credentials or could not be reached: one line on stderr."""


@dataclass(frozen=True)
class DriveOptions:
    url: str | None = None
    profile: str | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_size: int = DEFAULT_CACHE_SIZE
    cache_entries: int = DEFAULT_CACHE_ENTRIES
    timeout: float = DEFAULT_TIMEOUT
    read_only: bool = False

    def filesystem(self, *, remembering: bool = True) -> VoiceFileSystem:
        """A new filesystem for the front-end (never a cached instance: a mount makes it after
        the fork). Its listings are kept in the cache directory's store (`remembering`), and
        no call waits longer than `timeout` for one; a request that hears nothing for
        `timeout` seconds (a stalled download, an upload's answer too) fails, and the service
        counts as away; a request that would wait longer than `timeout` for the request
        budget, or for a 429 to pass, fails at once."""
        return VoiceFileSystem(
            url=self.url,
            profile=self.profile,
            listings_expiry_time=self.cache_ttl,
            missing_expiry_time=self.cache_ttl,  # a name not found costs no request either
            max_listed_entries=self.cache_entries,  # in memory; the store keeps them all
            cache_storage=str(self.cache_dir / "state") if remembering else None,
            listings_wait=self.timeout,
            timeout=(self.timeout, self.timeout),
            slow_timeout=(self.timeout, self.timeout),
            budget_patience=self.timeout,
            rate_limit_patience=self.timeout,
            skip_instance_cache=True,
        )

    def check_credentials(self) -> str:
        """One request before serving: a bad key or an unreachable service fails here,
        clearly (CredentialsError). Returns the service's URL, wherever it came from (the
        option, the environment, the profile)."""
        try:
            filesystem = self.filesystem(remembering=False)  # no store opened before a fork
            try:
                filesystem.client.user_id()
                return filesystem.client.url
            finally:
                filesystem.client.close()
        except (ServiceError, OSError) as exc:
            reason = exc.strerror or exc
            raise CredentialsError(f"{self.url or 'the service'}: {reason}") from exc
