"""Requests are the scarce resource (CONTRACT §5): writes into a listed folder cost their own
request and nothing more, the listing stays usable and shows them, and threads looking up the
same paths at once share the listings instead of each fetching them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import DELETE_ROUTE, file_names, names_in
from tests.fs.helpers import FOLDER, UPLOAD, counted, folder_id, make_fs
from voicefs.filesystem import VoiceFileSystem

EXISTING = [f"old {n}.wav" for n in range(30)]
NEW = [f"new {n}.wav" for n in range(10)]
SHORT = tone("wav", seconds=0.1)


@pytest.fixture
def listed(fs: VoiceFileSystem, api: Api, folder: str) -> str:
    """Project/Takes with 30 originals (uploaded through the HTTP API), listed by `fs`; its
    id."""
    takes = folder_id(fs)
    for name in EXISTING:
        response = api.upload(takes, SHORT, name)
        assert response.status_code == 200, response.text
    assert names_in(fs).count("recordings.csv") == 1  # the folder's listing is cached now
    return takes


def test_uploads_into_a_listed_folder_cost_one_request_each(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, listed: str
) -> None:
    """Ten uploads into a folder just listed send ten uploads and no other request."""
    with counted(emulator) as requests:
        for name in NEW:
            fs.pipe_file(f"{FOLDER}/{name}", SHORT)
    assert dict(requests) == {UPLOAD: len(NEW)}
    assert file_names(api, listed) == sorted(EXISTING + NEW)


def test_a_listed_folder_shows_its_new_uploads_without_a_request(
    fs: VoiceFileSystem, emulator: EmulatorProcess, listed: str
) -> None:
    """After uploading into a listed folder, ls shows every new name at no cost."""
    for name in NEW:
        fs.pipe_file(f"{FOLDER}/{name}", SHORT)
    with counted(emulator) as requests:
        shown = names_in(fs)
    assert dict(requests) == {}
    for name in EXISTING + NEW:
        assert name in shown and f"{name}.conversions" in shown, name


def test_deleting_in_a_listed_folder_costs_one_request(
    fs: VoiceFileSystem, api: Api, emulator: EmulatorProcess, listed: str
) -> None:
    """rm of a recording in a listed folder sends its delete and nothing else."""
    with counted(emulator) as requests:
        fs.rm(f"{FOLDER}/old 7.wav")
    assert dict(requests) == {DELETE_ROUTE: 1}
    assert file_names(api, listed) == sorted(n for n in EXISTING if n != "old 7.wav")


def test_a_listed_folder_stops_showing_a_deleted_recording_without_a_request(
    fs: VoiceFileSystem, emulator: EmulatorProcess, listed: str
) -> None:
    """After rm in a listed folder, ls no longer shows it (nor its sidecar), at no cost."""
    fs.rm(f"{FOLDER}/old 7.wav")
    with counted(emulator) as requests:
        shown = names_in(fs)
    assert dict(requests) == {}
    assert "old 7.wav" not in shown and "old 7.wav.conversions" not in shown
    assert len(shown) == 2 * (len(EXISTING) - 1) + 1  # the rest, their sidecars, the manifest


def test_parallel_lookups_cost_no_more_than_one_thread(
    emulator: EmulatorProcess, account: Account, api: Api
) -> None:
    """16 threads calling info on the same 8 recordings at once, on a cold cache, send no more
    requests than one thread doing the same."""
    project = api.project("Album")
    ids: dict[str, str] = {}
    for folder_name in ("Side A", "Side B"):
        folder = api.folder(project["id"], folder_name)
        for n in range(4):
            response = api.upload(folder["id"], SHORT, f"track {n}.wav")
            assert response.status_code == 200, response.text
            ids[f"Album/{folder_name}/track {n}.wav"] = response.json()["id"]
    paths = list(ids)
    expected = [ids[path] for path in paths] * 2

    alone = make_fs(account)
    with counted(emulator) as one_thread:
        assert [alone.info(path)["id"] for path in paths * 2] == expected

    crowd = make_fs(account)
    start = threading.Barrier(16)

    def look_up() -> list[str]:
        start.wait()
        return [crowd.info(path)["id"] for path in paths * 2]

    with counted(emulator) as sixteen_threads, ThreadPoolExecutor(16) as pool:
        results = [job.result() for job in [pool.submit(look_up) for _ in range(16)]]
    assert all(found == expected for found in results)
    assert sum(sixteen_threads.values()) <= sum(one_thread.values()), (
        dict(sixteen_threads),
        dict(one_thread),
    )
