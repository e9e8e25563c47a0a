"""`ClientOptions`: one value for the client's options, given whole or as keyword overrides,
and carried by a pickled client."""

from __future__ import annotations

import errno
import pickle

import pytest

from tests.emulator_process import Account, EmulatorProcess
from voicefs.api import ClientOptions, VoiceClient
from voicefs.api.limiter import DEFAULT_BUDGETS, Budget


def test_take_pops_only_the_client_options() -> None:
    kwargs = {"rate_limit": False, "max_retries": 2, "block_size": 4096, "listings_expiry_time": 1}
    options = ClientOptions.take(kwargs)
    assert options == ClientOptions(rate_limit=False, max_retries=2)
    assert kwargs == {"block_size": 4096, "listings_expiry_time": 1}
    base = ClientOptions(backoff=0.01, max_retries=9)
    assert ClientOptions.take({"max_retries": 1}, base=base) == ClientOptions(
        backoff=0.01, max_retries=1
    )
    assert ClientOptions.take({}) == ClientOptions()


def test_values_from_config_or_json_are_normalised() -> None:
    options = ClientOptions(budgets={"fast": [150, 1]}, timeout=[1, 2])  # type: ignore[arg-type]
    assert options.budgets == {"fast": Budget(150, 1.0), "slow": DEFAULT_BUDGETS["slow"]}
    assert options.timeout == (1.0, 2.0)
    same = ClientOptions(budgets={"fast": (150, 1.0)}, timeout=(1.0, 2.0))
    assert options == same and hash(options) == hash(same)
    assert ClientOptions().budgets == DEFAULT_BUDGETS
    with pytest.raises(AttributeError):
        options.max_retries = 1  # type: ignore[misc]


def test_keywords_override_the_options_value() -> None:
    base = ClientOptions(max_retries=9, backoff=0.01)
    with VoiceClient("http://127.0.0.1:9", api_key="k", options=base, max_retries=1) as api:
        assert api.options == ClientOptions(max_retries=1, backoff=0.01)
    with VoiceClient("http://127.0.0.1:9", api_key="k", rate_limit=False) as api:
        assert api.options == ClientOptions(rate_limit=False)
        assert not api.limiter.enabled
    with pytest.raises(TypeError, match="max_retry"):
        VoiceClient("http://127.0.0.1:9", api_key="k", max_retry=1)


def test_options_reach_the_requests_and_travel_with_a_pickle(
    emulator: EmulatorProcess, account: Account
) -> None:
    options = ClientOptions(rate_limit=False, max_retries=1, backoff=0.01)
    with VoiceClient(account.url, api_key=account.api_key, options=options) as api:
        copy = pickle.loads(pickle.dumps(api))
    assert copy.options == options
    emulator.reset_request_counts()
    emulator.set_faults(fail_rate=1.0, fail_mode="error")
    with copy, pytest.raises(ConnectionError) as info:
        copy.credits()
    assert info.value.errno == errno.EIO
    assert emulator.request_counts() == {"GET /api/credits": 2}  # one try, one retry


def test_read_timeout_comes_from_the_options(emulator: EmulatorProcess, account: Account) -> None:
    emulator.set_faults(latency_ms=500)
    impatient = ClientOptions(timeout=(5.0, 0.1), max_retries=0, rate_limit=False)
    api = VoiceClient(account.url, api_key=account.api_key, options=impatient)
    with api, pytest.raises(ConnectionError) as info:
        api.credits()
    assert info.value.errno == errno.EIO and "Timeout" in str(info.value)
