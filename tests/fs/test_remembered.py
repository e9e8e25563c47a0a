"""Listings remembered on disk (`cache_storage=`): a filesystem made again lists nothing
again within the expiry time, each account keeps its own, the last known listings answer
while the service is away, and a damaged or foreign store is set aside and rebuilt."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import FOLDER, PROJECT, counted, make_fs, upload
from voicefs.filesystem import VoiceFileSystem

STATUS = ".voicefs/status.json"


def remembering(account: Account, storage: Path, **options: object) -> VoiceFileSystem:
    return make_fs(account, cache_storage=str(storage), **options)


@pytest.fixture
def takes(api: Api, fs: VoiceFileSystem) -> list[str]:
    fs.makedirs(FOLDER)
    folder = fs.info(FOLDER)["id"]
    return [upload(api, folder, f"take {n}.wav")["id"] for n in range(3)]


def test_a_filesystem_made_again_lists_nothing_again(
    account: Account, emulator: EmulatorProcess, takes: list[str], tmp_path: Path
) -> None:
    first = remembering(account, tmp_path).find(PROJECT, detail=True)
    with counted(emulator) as requests:
        again = remembering(account, tmp_path).find(PROJECT, detail=True)
    assert sum(requests.values()) == 0, requests
    assert again == first and f"{FOLDER}/take 2.wav" in again


def test_each_account_keeps_its_own_listings(
    account: Account, emulator: EmulatorProcess, takes: list[str], tmp_path: Path
) -> None:
    remembering(account, tmp_path).find(PROJECT)
    other = emulator.new_account()
    assert remembering(other, tmp_path).ls("", detail=False) == ["projects.csv", ".voicefs"]
    assert len(list(tmp_path.glob("*.sqlite"))) == 2
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in tmp_path.glob("*.sqlite"))


def test_a_refreshed_listing_is_asked_again(
    account: Account, api: Api, takes: list[str], tmp_path: Path
) -> None:
    """What `invalidate_cache` (or `refresh=True`) forgets is not taken from the disk."""
    fs = remembering(account, tmp_path)
    fs.ls(FOLDER)
    upload(api, fs.info(FOLDER)["id"], "made elsewhere.wav")
    fs.invalidate_cache(FOLDER)
    assert f"{FOLDER}/made elsewhere.wav" in remembering(account, tmp_path).ls(FOLDER, detail=False)


def test_a_new_filesystem_can_refresh_what_an_earlier_one_remembered(
    account: Account, api: Api, takes: list[str], tmp_path: Path
) -> None:
    remembering(account, tmp_path).ls(FOLDER)
    upload(api, remembering(account, tmp_path).info(FOLDER)["id"], "made elsewhere.wav")
    fs = remembering(account, tmp_path)
    fs.invalidate_cache(FOLDER)
    assert f"{FOLDER}/made elsewhere.wav" in fs.ls(FOLDER, detail=False)


def test_the_last_known_listings_answer_while_the_service_is_away(
    own_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    account = own_emulator.new_account()
    fs = remembering(account, tmp_path / "state", listings_expiry_time=0.2, max_retries=0)
    fs.makedirs(FOLDER)
    fs.pipe_file(f"{FOLDER}/take.wav", tone("wav"))
    listed = fs.ls(FOLDER, detail=False)
    own_emulator.stop()
    time.sleep(0.3)  # the listings expire
    try:
        assert fs.ls(FOLDER, detail=False) == listed  # from the disk: the service is gone
        status = json.loads(fs.cat_file(STATUS))
        assert status["state"] == "offline" and "unreachable" in status["last_error"]
        with pytest.raises(ConnectionError):
            fs.pipe_file(f"{FOLDER}/new.wav", tone("wav"))
        assert "service offline since" in fs.cat_file(".voicefs/errors.log").decode()
    finally:
        own_emulator.start()
    fs.pipe_file(f"{FOLDER}/new.wav", tone("wav"))
    assert f"{FOLDER}/new.wav" in fs.ls(FOLDER, detail=False)
    assert json.loads(fs.cat_file(STATUS))["state"] == "online"


def test_without_a_listing_and_without_the_service_the_error_is_eio(
    own_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    account = own_emulator.new_account()
    fs = remembering(account, tmp_path / "state", max_retries=0)
    own_emulator.stop()
    try:
        with pytest.raises(ConnectionError) as refused:
            fs.ls(PROJECT)
        assert refused.value.errno == 5 and PROJECT in str(refused.value)
    finally:
        own_emulator.start()


@pytest.mark.parametrize("damage", ["garbage", "another version"])
def test_a_damaged_store_is_set_aside_and_made_anew(
    account: Account, takes: list[str], tmp_path: Path, damage: str
) -> None:
    remembering(account, tmp_path).find(PROJECT)
    (store,) = tmp_path.glob("*.sqlite")
    if damage == "garbage":
        for suffix in ("-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        store.write_bytes(b"this is not a database" * 100)
    else:
        with sqlite3.connect(store) as db:
            db.execute("PRAGMA user_version=99")
    fs = remembering(account, tmp_path)
    assert f"{FOLDER}/take 0.wav" in fs.find(PROJECT)
    assert len(list(tmp_path.glob("*.sqlite.broken-*[0-9]"))) == 1
    assert remembering(account, tmp_path).exists(f"{FOLDER}/take 1.wav")


def test_a_spent_budget_is_rate_limited_and_listings_answer_without_waiting(
    account: Account, takes: list[str], tmp_path: Path
) -> None:
    """With the client's budget spent, a listing waits no longer than `listings_wait` and the
    last known one answers; status.json says until when."""
    fs = remembering(
        account,
        tmp_path,
        rate_limit=True,
        budgets={"fast": (4, 10)},
        listings_expiry_time=0.2,
        listings_wait=1.0,
    )
    listed = fs.ls(FOLDER, detail=False)  # projects, folders, recordings: 3 of the 4
    time.sleep(0.3)
    started = time.monotonic()
    assert fs.ls(FOLDER, detail=False) == listed
    assert time.monotonic() - started < 5.0  # not the budget's 10 s
    status = json.loads(fs.cat_file(STATUS))
    assert status["state"] == "rate limited" and status["until"], status
    assert "budget" in status["last_error"]
