"""The listings store and the cache over it, on their own: what they keep when loads and
writes cross, what the store's unpickler refuses, and that a store that cannot be opened
is done without rather than failing."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import pytest

from voicefs.api import records
from voicefs.tree.cache import ListingCache
from voicefs.tree.store import Store, _loads

KEY = ("recordings", "folder")


def test_a_load_that_began_before_a_write_does_not_undo_it(tmp_path: Path) -> None:
    cache = ListingCache(30.0, store=Store(tmp_path / "store.sqlite"))
    cache.put(KEY, ["a"])
    cache.invalidate(KEY)  # out of date: the next look loads
    loading, release = threading.Event(), threading.Event()

    def slow_load() -> list[str]:
        loading.set()
        release.wait(10)
        return ["a"]  # what the service said before the write below

    reader = threading.Thread(target=lambda: cache.get(KEY, slow_load))
    reader.start()
    loading.wait(10)
    cache.put(KEY, ["a", "b"])  # the write's answer, while the load is under way
    cache.update(KEY, lambda listing: [*listing, "c"])
    release.set()
    reader.join(10)
    assert cache.get(KEY, lambda: ["never asked"]) == ["a", "b", "c"]
    again = ListingCache(30.0, store=Store(tmp_path / "store.sqlite"))
    assert again.get(KEY, lambda: ["never asked"]) == ["a", "b", "c"]


def test_the_unpickler_makes_records_and_nothing_else() -> None:
    recording = records.Recording.from_json(
        {"id": "r1", "type": "original", "state": "done", "created_at": "2026-01-02T03:04:05Z"}
    )
    assert _loads(pickle.dumps([recording])) == [recording]
    for refused in (records.parse_time, print, Path):
        with pytest.raises(pickle.UnpicklingError):
            _loads(pickle.dumps(refused))
    dotted = b"cvoicefs.api.records\nparse_time.__globals__\n."  # an attribute path
    with pytest.raises(pickle.UnpicklingError):
        _loads(dotted)


def test_a_store_that_cannot_be_opened_is_done_without(tmp_path: Path) -> None:
    blocked = tmp_path / "store.sqlite"
    blocked.mkdir()  # a directory where the file should be
    store = Store(blocked)
    cache = ListingCache(30.0, store=store)
    assert cache.get(KEY, lambda: ["a"]) == ["a"]
    assert store.load(KEY) is None and store.settings() == {}


def test_two_mounts_writing_one_folder_leave_it_to_be_asked_again(tmp_path: Path) -> None:
    """Each mount adds its own upload to its listing; the second one's must not replace the
    first one's on disk (a remount would miss a file and `rsync` send it twice)."""
    path = tmp_path / "store.sqlite"
    first, second = ListingCache(30.0, store=Store(path)), ListingCache(30.0, store=Store(path))
    first.put(KEY, ["a"])
    assert second.get(KEY, lambda: ["never asked"]) == ["a"]
    first.update(KEY, lambda listing: [*listing, "first's upload"])
    second.update(KEY, lambda listing: [*listing, "second's upload"])
    asked = []
    later = ListingCache(30.0, store=Store(path))
    listing = later.get(KEY, lambda: asked.append(True) or ["the service's"])
    assert asked and listing == ["the service's"]
