"""Requests are the scarce resource: a cold walk of an account costs one paged listing per
project (plus the projects, their folders and the voice catalogue), a warm one nothing."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from voicefs.filesystem import VoiceFileSystem

# project -> folder -> number of originals; "Big" needs two pages of 200
LAYOUT = {"Big": {"A": 150, "B": 60, "C": 0}, "Small": {"Only": 3}, "Empty": {}}


def _fresh(account: Account) -> VoiceFileSystem:
    return VoiceFileSystem(
        url=account.url, api_key=account.api_key, rate_limit=False, skip_instance_cache=True
    )


@pytest.mark.slow
def test_cold_find_costs_one_paged_listing_per_project_and_warm_find_nothing(
    emulator: EmulatorProcess, account: Account
) -> None:
    per_project = Api.of(account).seed_layout(LAYOUT)
    fs = _fresh(account)
    emulator.reset_request_counts()

    found: dict[str, Any] = fs.find("", withdirs=True, detail=True)
    cold = emulator.request_counts()

    originals = [e for e in found.values() if e.get("kind") in ("original", "conversion")]
    assert len(originals) == sum(per_project.values())
    budget = 1 + len(per_project) + sum(math.ceil(r / 200) for r in per_project.values())
    # ...plus one page of the voice catalogue: every order.txt lists it, so its size needs it.
    assert cold.pop("GET /api/v2/voices") == 1
    assert sum(cold.values()) <= budget, cold
    assert cold.get("GET /api/recordings", 0) == sum(
        math.ceil(r / 200) for r in per_project.values()
    )

    emulator.reset_request_counts()
    assert fs.find("", withdirs=True, detail=True) == found
    fs.du("Big")
    fs.ls("Big/A")
    fs.info("Small/Only/take 1.wav")
    assert emulator.request_counts() == {}


def test_without_any_conversion_one_more_request_tells_there_are_none(
    emulator: EmulatorProcess, account: Account
) -> None:
    api = Api.of(account)
    folder = api.folder(api.project("P")["id"], "F")
    for n in range(5):
        api.upload(folder["id"], tone("wav", seconds=0.1), f"t{n}.wav").raise_for_status()
    emulator.reset_request_counts()
    _fresh(account).find("", withdirs=True)
    assert emulator.request_counts() == {
        "GET /api/projects": 1,
        "GET /api/folders": 1,
        "GET /api/recordings": 1,
        "GET /api/stats": 1,
        "GET /api/v2/voices": 1,  # listed by every order.txt
    }


def test_listing_a_folder_is_one_request(emulator: EmulatorProcess, account: Account) -> None:
    api = Api.of(account)
    folder = api.folder(api.project("P")["id"], "F")
    uploads = [
        api.upload(folder["id"], tone("wav", seconds=0.1), f"t{n}.wav").json() for n in range(3)
    ]
    api.convert(uploads[0]["id"])
    fs = _fresh(account)
    fs.ls("")
    fs.ls("P")
    fs.cat("P/F/t0.wav.conversions/order.txt")  # the voice catalogue order.txt lists, cached
    fs.invalidate_cache("P/F/t0.wav")  # forgets the folder listing only
    emulator.reset_request_counts()
    fs.ls("P/F")
    for n in range(3):
        fs.ls(f"P/F/t{n}.wav.conversions")
        fs.info(f"P/F/t{n}.wav")
    assert emulator.request_counts() == {"GET /api/recordings": 1}
