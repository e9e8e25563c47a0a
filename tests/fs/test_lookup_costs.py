"""Costs that do not grow with the folder (CONTRACT §6): a lookup, a `stat` and the listing of
a sidecar cost the same in a folder of 100 recordings as in one of 2,000. Counted as the
entries the tree indexes (`Tree.entries_indexed`) and the recordings it looks at (calls of
`Recording.is_original`, which every pass over a listing makes), never as time."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.emulator.helpers import Api
from tests.emulator_process import Account, EmulatorProcess, running_emulator
from tests.fs.helpers import make_fs
from voicefs.api.records import Recording
from voicefs.emulator.seed_large import LARGE_API_KEY, LARGE_EMAIL, LARGE_PASSWORD

FOLDER = "Project 01/Folder 01"
PAGE = 200


@contextlib.contextmanager
def folder_of_scale(scale: str, data: Path) -> Iterator[EmulatorProcess]:
    """An account of the large seed at `scale` (PxFxR)."""
    yield from running_emulator(
        "--seed", "large", "--seed-scale", scale, "--conversion-seconds", "0.2", data_dir=data
    )


def folder_of(recordings: int, data: Path) -> contextlib.AbstractContextManager[EmulatorProcess]:
    """An account of one project with one folder of `recordings` takes."""
    return folder_of_scale(f"1x1x{recordings}", data)


class Looks:
    """Counts the recordings looked at (`Recording.is_original` asked) in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        asked = Recording.is_original.fget
        assert asked is not None

        def counted(recording: Recording) -> bool:
            self.count += 1
            return bool(asked(recording))

        monkeypatch.setattr(Recording, "is_original", property(counted))


def work_in_a_folder_of(
    recordings: int, data: Path, looks: Looks, *, converted: bool
) -> dict[str, int]:
    """The entries indexed and recordings looked at by each step, once the folder was
    listed; `converted`: one take has a conversion (an account with none is listed the same
    way, but its sidecars are told empty otherwise)."""
    with folder_of(recordings, data) as emulator:
        account = Account(emulator.url, "", LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)
        api = Api.of(account)
        (project,) = api.ok("GET", "/api/projects", params={"limit": 100})["list"]
        params = {"project_id": project["id"], "limit": 100}
        (folder,) = api.ok("GET", "/api/folders", params=params)["list"]
        take, other = api.recordings(folder["id"])[:2]  # the newest: on the first page
        if converted:
            api.convert(take["id"], "Alice")
        fs = make_fs(account)
        sidecar = f"{FOLDER}/{take['file_name']}.conversions"
        steps: dict[str, Callable[[], object]] = {
            "ls of a sidecar": lambda: fs.ls(sidecar),
            "ls of the sidecar again": lambda: fs.ls(sidecar),
            "stat of a conversion": lambda: converted and fs.info(f"{sidecar}/Alice.wav"),
            "stat of order.txt": lambda: fs.info(f"{sidecar}/order.txt"),
            "stat of a take": lambda: fs.info(f"{FOLDER}/{other['file_name']}"),
            "stat of recordings.csv": lambda: fs.info(f"{FOLDER}/recordings.csv"),
            "a name not there": lambda: fs.exists(f"{FOLDER}/nothing.wav"),
        }
        fs.ls(FOLDER)  # the folder's listing, indexed once
        work = {}
        for step, call in steps.items():
            before = fs.tree.entries_indexed + looks.count
            call()
            work[step] = fs.tree.entries_indexed + looks.count - before
        return work


@pytest.mark.slow
@pytest.mark.parametrize("converted", [True, False], ids=["with a conversion", "with none"])
def test_a_lookup_and_a_sidecar_listing_cost_the_same_in_folders_of_100_and_2000(
    converted: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks = Looks(monkeypatch)
    small = work_in_a_folder_of(100, tmp_path / "small", looks, converted=converted)
    large = work_in_a_folder_of(2000, tmp_path / "large", looks, converted=converted)
    assert small == large, (small, large)
    assert small["ls of a sidecar"] <= 10  # the sidecar's own few entries, not the folder's
    if converted:  # sidecars told from the listing are indexed once
        assert all(work == 0 for step, work in small.items() if step != "ls of a sidecar")


def listings(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k.split()[1].split("?")[0] in LISTING_ROUTES)


LISTING_ROUTES = {"/api/projects", "/api/folders", "/api/recordings"}


@pytest.mark.slow
def test_a_walk_costs_the_minimum_and_one_folder_costs_its_pages(tmp_path: Path) -> None:
    """A walk folder by folder (as `find` through the mount walks) lists each project's
    recordings in one paged listing once two folders have been listed close together:
    1 + P + sum(ceil(R_p / 200)), plus the first folder's own pages. Opening one folder of a
    fresh drive costs its parents' listings and its own pages, never its project's."""
    projects, folders, per_folder = 3, 4, 250
    with folder_of_scale(f"{projects}x{folders}x{per_folder}", tmp_path) as emulator:
        account = Account(emulator.url, "", LARGE_EMAIL, LARGE_PASSWORD, LARGE_API_KEY)
        emulator.reset_request_counts()
        make_fs(account).ls("Project 02/Folder 03")
        one_folder = emulator.request_counts()
        assert listings(one_folder) == 1 + 1 + math.ceil(per_folder / PAGE), one_folder

        fs = make_fs(account)
        emulator.reset_request_counts()
        for p in range(1, projects + 1):
            for f in range(1, folders + 1):
                fs.ls(f"Project {p:02}/Folder {f:02}")
        walked = emulator.request_counts()
    minimum = 1 + projects + projects * math.ceil(folders * per_folder / PAGE)
    assert listings(walked) == minimum + math.ceil(per_folder / PAGE), walked
