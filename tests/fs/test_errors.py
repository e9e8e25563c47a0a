"""Errors through fsspec (CONTRACT §7): the right exception and errno, with the path and the
service's reason in the message, for bad credentials, missing paths, limits, and a service
that fails or goes away."""

from __future__ import annotations

import errno
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, running_emulator
from tests.fs.helpers import (
    FOLDER,
    PROJECT,
    UPLOAD,
    carries_detail,
    counted,
    folder_id,
    make_fs,
    raises_errno,
)
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"
SIDECAR = f"{TAKE}.conversions"
# Enough retries that a 30 % fault rate never exhausts them; short backoffs keep it fast.
PATIENT = {"max_retries": 10, "backoff": 0.01}

Call = Callable[[VoiceFileSystem, str], Any]
READS: dict[str, Call] = {
    "ls": lambda fs, path: fs.ls(path),
    "info": lambda fs, path: fs.info(path),
    "cat": lambda fs, path: fs.cat(path),
    "open": lambda fs, path: fs.open(path, "rb"),
    "exists": lambda fs, path: fs.exists(path),
}


@pytest.fixture
def take(fs: VoiceFileSystem, folder: str) -> bytes:
    data = tone("wav", seconds=2.0)
    fs.pipe(TAKE, data)
    return data


@pytest.mark.parametrize("call", READS.values(), ids=READS.keys())
def test_a_wrong_api_key_is_permission_denied_never_not_found(
    account: Account, take: bytes, call: Call
) -> None:
    wrong = make_fs(account, api_key="not-the-key-of-this-account")
    for path in (TAKE, "No such project/take.wav"):
        with raises_errno(PermissionError, errno.EACCES, path) as caught:
            call(wrong, path)
        assert not isinstance(caught.value, FileNotFoundError)
        carries_detail(caught.value)


def test_an_error_at_the_top_names_it_as_slash(account: Account) -> None:
    wrong = make_fs(account, api_key="not-the-key-of-this-account")
    with pytest.raises(PermissionError) as caught:
        wrong.ls("")
    assert str(caught.value.strerror).startswith("/: Invalid or expired API key")


MISSING = ["Nope", f"{PROJECT}/Nope", f"{FOLDER}/nope.wav", f"{SIDECAR}/Nope.wav", f"{TAKE}/x"]
NOT_FOUND: dict[str, Call] = {
    **{name: call for name, call in READS.items() if name != "exists"},  # that is False
    "rm": lambda fs, path: fs.rm(path),
}


@pytest.mark.parametrize("call", NOT_FOUND.values(), ids=NOT_FOUND.keys())
def test_a_missing_path_is_not_found(fs: VoiceFileSystem, take: bytes, call: Call) -> None:
    for path in MISSING:
        with raises_errno(FileNotFoundError, errno.ENOENT, path):
            call(fs, path)


def test_an_upload_larger_than_the_service_allows_is_efbig(
    fs: VoiceFileSystem, emulator: EmulatorProcess, folder: str
) -> None:
    emulator.set_faults(max_upload_bytes=1000)  # the account fixture clears it afterwards
    path = f"{FOLDER}/long take.wav"
    with counted(emulator) as requests, raises_errno(OSError, errno.EFBIG, path) as caught:
        fs.pipe(path, tone("wav"))
    carries_detail(caught.value)
    assert requests[UPLOAD] == 1, requests  # refused by the service, not retried
    assert not fs.exists(path)


def test_not_enough_credits_is_edquot(emulator: EmulatorProcess) -> None:
    account = emulator.new_account(credits=0.5)  # a 2 s original costs 2 credits a voice
    fs = make_fs(account)
    fs.makedirs(FOLDER)
    fs.pipe(TAKE, tone("wav", seconds=2.0))
    with raises_errno(OSError, errno.EDQUOT, TAKE) as caught:
        fs.order(TAKE, "Alice")
    carries_detail(caught.value)
    with raises_errno(OSError, errno.EDQUOT, f"{SIDECAR}/order.txt"):
        fs.pipe(f"{SIDECAR}/order.txt", b"Alice\n")
    assert fs.ls(SIDECAR, detail=False) == [f"{SIDECAR}/order.txt", f"{SIDECAR}/recordings.csv"]


# An emulator of the test's own, which the test may stop; removed with its data afterwards.
private_emulator = contextmanager(running_emulator)


@pytest.mark.timeout(60)  # a hang fails here instead of blocking the suite
def test_a_server_that_dies_mid_read_is_a_connection_error() -> None:
    with private_emulator() as server:
        fs = make_fs(server.new_account(), max_retries=2, backoff=0.01, timeout=(2.0, 5.0))
        fs.makedirs(FOLDER)
        data = tone("wav", seconds=2.0)
        fs.pipe(TAKE, data)
        with fs.open(TAKE, "rb", block_size=4096) as handle:
            assert handle.read(100) == data[:100]
            server.stop()
            handle.seek(60_000)
            with raises_errno(ConnectionError, errno.EIO, TAKE):
                handle.read(100)
        with raises_errno(ConnectionError, errno.EIO, TAKE):
            fs.cat(TAKE)


@pytest.mark.parametrize("mode", ["drop", "error"])
def test_failed_requests_during_listings_are_retried_transparently(
    emulator: EmulatorProcess, account: Account, take: bytes, mode: str
) -> None:
    expected = {
        "": [PROJECT, "projects.csv", ".voicefs"],
        PROJECT: [FOLDER, f"{PROJECT}/folders.csv"],
        FOLDER: [TAKE, SIDECAR, f"{FOLDER}/recordings.csv"],
        SIDECAR: [f"{SIDECAR}/order.txt", f"{SIDECAR}/recordings.csv"],
    }
    rounds = 6
    emulator.set_faults(fail_rate=0.3, fail_mode=mode, seed=5)
    with counted(emulator) as requests:
        for _ in range(rounds):
            fresh = make_fs(account, **PATIENT)  # nothing cached: every listing is a request
            for path, names in expected.items():
                assert fresh.ls(path, detail=False) == names
    emulator.clear_faults()
    listings = requests["GET /api/projects"] + requests["GET /api/folders"]
    listings += requests["GET /api/recordings"]
    assert listings > rounds * 3, requests  # some failed and were sent again


@pytest.mark.parametrize("mode", ["drop", "error"])
def test_writes_under_faults_happen_exactly_once(
    emulator: EmulatorProcess, account: Account, api: Api, mode: str
) -> None:
    """Nothing lost, nothing doubled: every upload and order written through the filesystem
    reaches the service once, though many requests fail (before or after they were
    carried out)."""
    fs = make_fs(account, backoff=0.01)
    fs.makedirs(FOLDER)
    emulator.reset_request_counts()
    emulator.set_faults(fail_rate=0.3, fail_mode=mode, seed=5)
    names = [f"take {n}.wav" for n in range(15)]
    for name in names:
        fs.pipe(f"{FOLDER}/{name}", tone("wav"))
    emulator.set_faults(fail_rate=0.5, seed=11)
    for name in names[:10]:
        fs.pipe(f"{FOLDER}/{name}.conversions/order.txt", b"Alice\nBob\n")
    emulator.clear_faults()
    sent = emulator.request_counts()
    assert sent[UPLOAD] > len(names)  # some uploads were sent again: the faults did bite
    assert sent["POST /api/v2/orders"] > 10

    listed = api.recordings(folder_id(fs))
    originals = sorted(r["file_name"] for r in listed if r["type"] == "original")
    assert originals == sorted(names)
    conversions = sorted(
        (r["original_id"], r["model_name"]) for r in listed if r["type"] == "converted"
    )
    ordered = {r["id"] for r in listed if r["file_name"] in names[:10]}
    assert conversions == sorted((o, v) for o in ordered for v in ("Alice", "Bob"))
