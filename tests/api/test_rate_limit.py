"""The client-side limiter and 429 handling.

The service allows 500 fast / 100 slow requests per 300 s. To keep these tests to seconds the
budgets are scaled down, the same on both sides: the emulator's through its faults hook
(`rate_limits`) and the client's through `budgets=`.
"""

from __future__ import annotations

import errno
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.conftest import WavFactory, make_client
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api.limiter import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limiter_counts_a_sliding_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"fast": (3, 10.0)}, clock=clock)
    for _ in range(3):
        with limiter.slot("fast"):
            pass
        clock.now += 1.0
    assert limiter.wait_estimate("fast") == pytest.approx(7.0)  # the first stamp was at 0
    clock.now = 10.0
    assert limiter.wait_estimate("fast") == 0.0
    limiter.pause(5.0)
    assert limiter.wait_estimate("fast") == pytest.approx(5.0)
    assert RateLimiter(enabled=False).wait_estimate("slow") == 0.0


def test_limiter_holds_slots_while_in_flight() -> None:
    limiter = RateLimiter({"slow": (2, 60.0)})
    entered = threading.Barrier(3)
    release = threading.Event()

    def hold() -> None:
        with limiter.slot("slow"):
            entered.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    entered.wait(5)
    assert limiter.wait_estimate("slow") == float("inf")  # both slots held by requests in flight
    release.set()
    for t in threads:
        t.join()
    assert limiter.wait_estimate("slow") == pytest.approx(60.0, abs=1.0)  # counted on return


def test_burst_of_700_gets_completes_without_a_single_429(
    emulator: EmulatorProcess, account: Account
) -> None:
    budgets = {"fast": [150, 1.0], "slow": [20, 1.0]}  # scaled from 500 / 100 per 300 s
    emulator.set_faults(rate_limit=True, rate_limits=budgets)
    emulator.reset_request_counts()
    with make_client(account, budgets=budgets) as api, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: api.credits(), range(700)))
    assert len(results) == 700 and all(r.credits > 0 for r in results)
    # Every request the emulator saw was served: none was refused and sent again.
    assert emulator.request_counts() == {"GET /api/credits": 700}


def test_uploads_use_the_slow_budget(
    emulator: EmulatorProcess, account: Account, wav: WavFactory
) -> None:
    budgets = {"fast": [100, 1.0], "slow": [4, 1.0]}
    with make_client(account, budgets=budgets) as api:
        folder = api.create_folder(api.create_project("P").id, "F")
        paths = [wav(f"t{n}.wav", seconds=0.02) for n in range(10)]
        emulator.set_faults(rate_limit=True, rate_limits=budgets)
        emulator.reset_request_counts()
        with ThreadPoolExecutor(5) as pool:
            done = list(pool.map(lambda p: api.upload_recording(folder.id, p), paths))
    assert len({r.id for r in done}) == 10
    assert emulator.request_counts() == {"POST /api/recordings": 10}


def test_429_honours_retry_after_without_the_client_limiter(
    emulator: EmulatorProcess, account: Account
) -> None:
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [10, 1.0], "slow": [5, 1.0]})
    emulator.reset_request_counts()
    with make_client(account, rate_limit=False) as api:
        for _ in range(25):
            api.credits()
    assert emulator.request_counts()["GET /api/credits"] > 25  # some were refused with 429


def test_429_beyond_patience_is_eio(emulator: EmulatorProcess, account: Account) -> None:
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [2, 60.0], "slow": [1, 60.0]})
    with make_client(account, rate_limit=False, rate_limit_patience=0.5) as api:
        api.credits()
        api.credits()
        with pytest.raises(ConnectionError) as info:
            api.credits()
    assert info.value.errno == errno.EIO
    assert "rate limit" in str(info.value).lower() and "read credits" in str(info.value)
