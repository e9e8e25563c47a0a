"""The client-side limiter and 429 handling.

The service allows 500 fast / 100 slow requests per 300 s. To keep these tests to seconds the
budgets are scaled down, the same on both sides: the emulator's through its faults hook
(`rate_limits`) and the client's through `budgets=`.
"""

from __future__ import annotations

import errno
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.api.conftest import WavFactory, make_client
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api.limiter import BudgetSpent, RateLimiter, poll_intervals


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


@pytest.mark.parametrize("client_limiter", [False, True], ids=["sleep", "limiter-pause"])
def test_429_waits_at_least_retry_after(
    emulator: EmulatorProcess, account: Account, client_limiter: bool
) -> None:
    """After a 429 the next attempt comes no sooner than the Retry-After the server sent.

    The emulator's window (0.3 s) frees long before its Retry-After (at least 1 s), so a
    client that retried at once would get through early: the gaps below would show it.
    """
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [1, 0.3], "slow": [1, 0.3]})
    emulator.reset_request_counts()
    generous = {"fast": [1000, 1.0], "slow": [1000, 1.0]}  # the client's limiter never waits
    answers: list[tuple[float, int, str | None]] = []  # (arrival, status, Retry-After)

    def note(response: requests.Response, *args: object, **kwargs: object) -> None:
        answers.append(
            (time.monotonic(), response.status_code, response.headers.get("Retry-After"))
        )

    with make_client(account, rate_limit=client_limiter, budgets=generous) as api:
        api._transport.session.hooks["response"].append(note)
        for _ in range(3):
            assert api.credits().credits > 0
    refused = [
        (n, float(after or 0)) for n, (_, status, after) in enumerate(answers) if status == 429
    ]
    assert refused, "the emulator refused nothing: the test would prove nothing"
    for n, retry_after in refused:
        assert retry_after >= 1.0
        waited = answers[n + 1][0] - answers[n][0]
        assert waited >= retry_after, f"retried {waited:.2f} s after a {retry_after:g} s 429"
    # Each 429 cost one extra request only: nothing was sent during the wait.
    assert emulator.request_counts() == {"GET /api/credits": 3 + len(refused)}


def test_429_beyond_patience_is_eio(emulator: EmulatorProcess, account: Account) -> None:
    emulator.set_faults(rate_limit=True, rate_limits={"fast": [2, 60.0], "slow": [1, 60.0]})
    with make_client(account, rate_limit=False, rate_limit_patience=0.5) as api:
        api.credits()
        api.credits()
        with pytest.raises(ConnectionError) as info:
            api.credits()
    assert info.value.errno == errno.EIO
    assert "rate limit" in str(info.value).lower() and "read credits" in str(info.value)


def test_a_spent_budget_beyond_patience_fails_at_once_and_sends_nothing(
    emulator: EmulatorProcess, account: Account, wav: WavFactory
) -> None:
    """With `budget_patience`, a request that would wait longer for a slot of the client's
    own budget fails with EIO at once (a drive's write must not block for minutes), and the
    service counts as rate limited until a slot frees."""
    budgets = {"fast": [100, 300.0], "slow": [1, 300.0]}
    with make_client(account, budgets=budgets, budget_patience=0.5) as api:
        folder = api.create_folder(api.create_project("P").id, "F")
        api.upload_recording(folder.id, wav("first.wav", seconds=0.02))
        emulator.reset_request_counts()
        started = time.monotonic()
        with pytest.raises(ConnectionError) as info:
            api.upload_recording(folder.id, wav("second.wav", seconds=0.02))
        took = time.monotonic() - started
        assert api.health.state.availability.value == "rate limited"
    assert info.value.errno == errno.EIO
    assert "budget (slow) is spent" in str(info.value), info.value
    assert took < 0.5 + 5.0  # the patience, not the 300 s window
    assert emulator.request_counts() == {}


def test_limiter_with_patience_raises_when_no_slot_frees_in_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"slow": (1, 10.0)}, clock=clock)
    with limiter.slot("slow", patience=1.0):
        pass
    with pytest.raises(BudgetSpent) as spent, limiter.slot("slow", patience=1.0):
        pass
    assert spent.value.wait == pytest.approx(10.0)
    clock.now = 10.0
    with limiter.slot("slow", patience=1.0):  # the window has passed: a slot again
        pass


def test_limiter_tells_the_share_of_its_budget_in_use() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"fast": (4, 10.0)}, clock=clock)
    assert limiter.used("fast") == 0.0
    for _ in range(3):
        with limiter.slot("fast"):
            pass
    assert limiter.used("fast") == pytest.approx(0.75)
    clock.now = 11.0  # out of the window
    assert limiter.used("fast") == 0.0
    assert RateLimiter(enabled=False).used() == 0.0


def test_polls_start_soon_and_back_off_unless_the_budget_is_busy() -> None:
    """After an order: a look after half a second, then each later by half again, up to the
    longest interval; at once the longest while more than half the budget is in use."""
    share = [0.0]
    pace = poll_intervals(lambda: share[0], longest=3.0)
    assert [next(pace) for _ in range(6)] == [0.5, 0.75, 1.125, 1.6875, 2.53125, 3.0]
    share[0] = 0.6
    assert next(pace) == 3.0
    busy = poll_intervals(lambda: 0.9, longest=2.0)
    assert [next(busy) for _ in range(3)] == [2.0, 2.0, 2.0]
