"""`VoiceClient`: the one typed door to the Voice Marketplace API.

Everything voicefs does goes through it. It knows nothing about paths: the filesystem layers
name things, the client talks to the service.
"""

from __future__ import annotations

from voicefs.api.account import AccountMixin
from voicefs.api.content import ContentMixin


class VoiceClient(ContentMixin, AccountMixin):
    """A client of one service URL for one account; thread-safe and picklable.

    Parameters (all optional): `url` (else VOICEFS_URL, the profile's URL, or the public
    gateway); credentials `api_key`, `email` + `password` or `profile` (resolved as CONTRACT §1
    says, see `voicefs.api.auth`); `rate_limit=False` switches the client-side limiter off
    (an emulator without limits) and `budgets={"fast": (times, seconds), "slow": (...)}`
    changes it; `timeout` / `slow_timeout` are (connect, read) seconds for ordinary and for
    slow requests; `max_retries` and `backoff` bound the retries; `rate_limit_patience` is
    how long 429s may delay one request before it fails with EIO; `pool_size` sizes the
    connection pool for parallel use; `session_duration` asks the login for a session of that
    many seconds (tests).
    """
