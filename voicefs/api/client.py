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
    says, see `voicefs.api.auth`); `options`, a `ClientOptions` (rate limit, timeouts,
    retries, pool; each field says what it does and why its default). Any field of
    `ClientOptions` may also be given as a keyword, overriding `options`:
    `VoiceClient(url, api_key=key, rate_limit=False, max_retries=10)`.
    """
