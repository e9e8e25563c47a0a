"""Memory bounded by what is in use, with the rest in the store; and a listing fetched again
that says the same keeps what was worked out from it. Counted as the entries the tree holds
and indexes (`Tree.entries_indexed`) and the requests the service receives, never as time."""

from __future__ import annotations

import time
from pathlib import Path

from tests.emulator.helpers import Api
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import counted, make_fs
from tests.fs.test_lookup_costs import folder_of_scale, listings
from voicefs import VoiceFileSystem
from voicefs.emulator.seed_large import LARGE_API_KEY, LARGE_EMAIL, LARGE_PASSWORD
from voicefs.tree.cache import weight

PROJECTS, FOLDERS, PER_FOLDER = 1, 6, 100
BOUND = 250  # entries in memory: two folders of 100 and what leads to them


def large_account(emulator: EmulatorProcess) -> Account:
    return Account(emulator.url, "", LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)


def folders() -> list[str]:
    return [f"Project 01/Folder {f:02}" for f in range(1, FOLDERS + 1)]


def takes(fs: VoiceFileSystem, folder: str) -> int:
    return len([p for p in fs.ls(folder, detail=False) if p.endswith(".wav")])


def held(fs: VoiceFileSystem) -> int:
    """The entries of the listings the filesystem holds in memory."""
    cache = fs.tree.cache
    return sum(weight(cache.peek(key), cache.max_entries) for key in cache.cached_keys())


def test_a_walk_holds_no_more_than_the_bound_and_walks_again_from_the_store(
    tmp_path: Path,
) -> None:
    with folder_of_scale(f"{PROJECTS}x{FOLDERS}x{PER_FOLDER}", tmp_path / "service") as emulator:
        fs = make_fs(
            large_account(emulator),
            cache_storage=str(tmp_path / "store"),
            max_listed_entries=BOUND,
            listings_expiry_time=600,
        )
        with counted(emulator) as first:
            for folder in folders():
                assert takes(fs, folder) == PER_FOLDER
        assert listings(first) > 0
        assert held(fs) <= BOUND  # six folders of 100 walked, at most 250 entries kept
        indexed = fs.tree._indexes  # what the tree keeps indexed is bounded the same way
        assert indexed.currsize <= BOUND, indexed.currsize

        with counted(emulator) as again:  # what memory let go of comes back from the store
            for folder in folders():
                assert takes(fs, folder) == PER_FOLDER
        assert listings(again) == 0, again


def test_without_a_bound_reached_every_listing_stays_in_memory(tmp_path: Path) -> None:
    """The bound is what it says: under it, nothing is let go (the test above is no
    accident of a cache that keeps nothing)."""
    with folder_of_scale(f"{PROJECTS}x{FOLDERS}x{PER_FOLDER}", tmp_path / "service") as emulator:
        fs = make_fs(large_account(emulator), max_listed_entries=10_000)
        for folder in folders():
            fs.ls(folder, detail=False)
        assert held(fs) >= FOLDERS * PER_FOLDER


def test_a_listing_fetched_again_unchanged_is_not_indexed_again(tmp_path: Path) -> None:
    """A walk longer than the TTL lists folders again; what did not change keeps its index.
    What did change is indexed again, and shows."""
    with folder_of_scale("1x1x300", tmp_path / "service") as emulator:
        account = large_account(emulator)
        ttl = 1.0
        fs = make_fs(account, listings_expiry_time=ttl)
        folder = "Project 01/Folder 01"
        sidecars = [p for p in fs.ls(folder, detail=False) if p.endswith(".conversions")][:20]
        for sidecar in sidecars:
            fs.ls(sidecar, detail=False)
        indexed = fs.tree.entries_indexed

        time.sleep(ttl + 0.2)
        with counted(emulator) as relisted:
            fs.ls(folder, detail=False)
            for sidecar in sidecars:
                fs.ls(sidecar, detail=False)
        assert listings(relisted) >= 1, relisted  # the TTL holds: it was asked again
        assert fs.tree.entries_indexed == indexed  # and nothing was worked out again

        api = Api.of(account)
        (project,) = api.ok("GET", "/api/projects", params={"limit": 10})["list"]
        params = {"project_id": project["id"], "limit": 10}
        (folder_record,) = api.ok("GET", "/api/folders", params=params)["list"]
        take = next(t for t in api.recordings(folder_record["id"]) if not t.get("starred"))
        api.ok("PATCH", f"/api/recordings/{take['id']}", json={"starred": True})
        time.sleep(ttl + 0.2)
        names = fs.ls(folder, detail=False)
        assert f"{folder}/{take['file_name']}.star" in names
        assert fs.tree.entries_indexed > indexed
