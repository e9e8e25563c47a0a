"""What fsspec users and tools expect (CONTRACT §1–§3, §5): the class at the package's top,
names that round-trip, globs and lists in rm, modification times and sizes of generated files,
fsspec's listings-cache switch, progress callbacks, and renames that do what they say."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from pathlib import Path

import fsspec
import pytest
from fsspec.callbacks import Callback, TqdmCallback

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import (
    EXPORT_ROUTE,
    Progress,
    file_names,
    fresh_cat,
    fresh_names,
    names_in,
)
from tests.fs.helpers import FOLDER, UPLOAD, counted, folder_id, make_fs, upload
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"


def test_the_filesystem_class_is_importable_from_the_package() -> None:
    """`voicefs.VoiceFileSystem` is the filesystem class, as the contract names it."""
    import voicefs
    import voicefs.filesystem

    assert voicefs.VoiceFileSystem is voicefs.filesystem.VoiceFileSystem
    assert fsspec.get_filesystem_class("voicefs") is voicefs.VoiceFileSystem


# ---------------------------------------------------------------------- names


NAMES = {
    "double-quote": 'say "hi".wav',
    "carriage-return": "line\rbreak.wav",
    "line-feed": "line\nbreak.wav",
    "backslash": "back\\slash.wav",
    "percent-22": "%22quoted%22.wav",
    "percent": "100% take.wav",
    "semicolon": "a;b.wav",
    "e-acute": "café.wav",
    "e-acute-decomposed": unicodedata.normalize("NFD", "café") + " NFD.wav",
    "japanese": "日本.wav",
    "emoji": "🎤 take.wav",
    "leading-space": " leading space.wav",
    "fullwidth-slash": "AC／DC.wav",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_name_round_trips_or_is_refused_before_sending(
    fs: VoiceFileSystem,
    api: Api,
    emulator: EmulatorProcess,
    account: Account,
    folder: str,
    name: str,
) -> None:
    """Writing a name twice never makes two recordings: either ls shows exactly that name and
    the second write fails as an overwrite, or both writes fail with ValueError before any
    upload."""
    takes = folder_id(fs)
    path = f"{FOLDER}/{name}"
    data = tone("wav", seconds=0.2)
    with counted(emulator) as first:
        try:
            fs.pipe_file(path, data)
        except ValueError:
            refused = True
        else:
            refused = False
    if refused:
        assert first[UPLOAD] == 0, first
        with counted(emulator) as second, pytest.raises(ValueError):
            fs.pipe_file(path, data)
        assert second[UPLOAD] == 0, second
        assert file_names(api, takes) == []
        return
    again: BaseException | None = None
    try:
        fs.pipe_file(path, data)
    except Exception as error:
        again = error
    assert len(file_names(api, takes)) == 1, file_names(api, takes)
    assert isinstance(again, PermissionError), repr(again)
    assert fresh_names(account) == [name, f"{name}.conversions", "recordings.csv"]
    assert fresh_cat(account, path) == data


# ------------------------------------------------------------------------- rm


@pytest.fixture
def takes(fs: VoiceFileSystem, api: Api, folder: str) -> str:
    """t0.wav, t1.wav, t2.wav and keep.wav in Project/Takes (through the HTTP API); the
    folder's id."""
    takes = folder_id(fs)
    for name in ("t0.wav", "t1.wav", "t2.wav", "keep.wav"):
        upload(api, takes, name)
    return takes


def test_rm_of_a_glob_pattern_deletes_every_match(
    fs: VoiceFileSystem, api: Api, account: Account, takes: str
) -> None:
    """`fs.rm("Project/Takes/t*.wav")` deletes t0.wav, t1.wav and t2.wav, and nothing else."""
    fs.rm(f"{FOLDER}/t*.wav")
    assert file_names(api, takes) == ["keep.wav"]
    assert fresh_names(account) == ["keep.wav", "keep.wav.conversions", "recordings.csv"]


def test_rm_of_a_globbed_list_with_sidecars_deletes_every_original(
    fs: VoiceFileSystem, api: Api, account: Account, takes: str
) -> None:
    """`fs.rm(fs.glob("Project/Takes/t*"))` deletes all three originals, though each sidecar
    in the list goes away with its original."""
    matched = fs.glob(f"{FOLDER}/t*")
    assert f"{FOLDER}/t0.wav.conversions" in matched
    fs.rm(matched)
    assert file_names(api, takes) == ["keep.wav"]
    assert fresh_names(account) == ["keep.wav", "keep.wav.conversions", "recordings.csv"]


def test_rm_of_a_list_finishes_the_list(
    fs: VoiceFileSystem, api: Api, account: Account, takes: str
) -> None:
    """A missing path in the middle of a list does not stop the deletes after it; if rm
    reports it, it is FileNotFoundError naming that path."""
    missing = f"{FOLDER}/missing.wav"
    try:
        fs.rm([f"{FOLDER}/t0.wav", missing, f"{FOLDER}/t2.wav"])
    except FileNotFoundError as error:
        assert missing in str(error), repr(error)
    assert file_names(api, takes) == ["keep.wav", "t1.wav"]
    assert "t2.wav" not in fresh_names(account)


# ------------------------------------------------------------- generated files


@pytest.mark.parametrize(
    "path",
    [
        f"{FOLDER}/recordings.csv",
        f"{TAKE}.conversions/order.txt",
        f"{TAKE}.conversions/recordings.csv",
        ".voicefs/credits.json",
        ".voicefs/stats.json",
    ],
)
def test_modified_of_a_generated_file_is_a_time(
    fs: VoiceFileSystem, api: Api, folder: str, path: str
) -> None:
    """`fs.modified(p)` of a generated file that exists gives a datetime, not
    FileNotFoundError."""
    upload(api, folder_id(fs), "take.wav")
    assert fs.exists(path)
    assert isinstance(fs.modified(path), datetime)


def test_du_of_the_account_directory_totals_the_sizes_it_knows(
    fs: VoiceFileSystem, folder: str
) -> None:
    """`fs.du(".voicefs")` gives a total although the project export's size is not known."""
    assert fs.exists(".voicefs/exports/Project.zip")
    known = fs.size(".voicefs/credits.json") + fs.size(".voicefs/stats.json")
    total = fs.du(".voicefs")
    assert isinstance(total, int)
    assert total >= known > 0


def test_du_of_the_account_directory_starts_no_export(
    fs: VoiceFileSystem, emulator: EmulatorProcess, folder: str
) -> None:
    """`fs.du(".voicefs")` does not have the service export a project to learn its size."""
    assert fs.exists(".voicefs/exports/Project.zip")
    with counted(emulator) as requests:
        fs.du(".voicefs")
    assert requests[EXPORT_ROUTE] == 0, requests


# ------------------------------------------------------------------ listings


def test_without_the_listings_cache_an_upload_elsewhere_shows_at_once(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    """With use_listings_cache=False, ls shows a recording another client just uploaded."""
    uncached = make_fs(account, use_listings_cache=False)
    assert names_in(uncached) == ["recordings.csv"]
    upload(api, folder_id(fs), "elsewhere.wav")
    assert names_in(uncached) == ["elsewhere.wav", "elsewhere.wav.conversions", "recordings.csv"]


# ------------------------------------------------------------------ progress


def test_put_file_reports_its_progress_to_a_callback(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path
) -> None:
    """put_file tells the callback the file's size, then progress adding up to it."""
    local = tmp_path / "take.wav"
    local.write_bytes(tone("wav", seconds=5.0))
    size = local.stat().st_size
    progress = Progress()
    fs.put_file(str(local), TAKE, callback=progress)
    assert progress.sizes and progress.sizes[-1] == size, progress.sizes
    assert sum(progress.steps) == size, progress.steps
    (stored,) = api.recordings(folder_id(fs))
    assert stored["file_name"] == "take.wav" and stored["size"] == size


def test_get_file_reports_its_progress_to_a_callback(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path
) -> None:
    """get_file tells the callback the file's size, then progress adding up to it."""
    data = tone("wav", seconds=5.0)
    response = api.upload(folder_id(fs), data, "take.wav")
    assert response.status_code == 200, response.text
    local = tmp_path / "take.wav"
    progress = Progress()
    fs.get_file(TAKE, str(local), callback=progress)
    assert local.read_bytes() == data
    assert progress.sizes and progress.sizes[-1] == len(data), progress.sizes
    assert sum(progress.steps) == len(data), progress.steps


def test_get_makes_the_local_directories_and_get_file_writes_to_an_open_file(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path
) -> None:
    """As fsspec's own get/get_file: a target directory that does not exist yet is made, and
    a file-like target is written to."""
    for name in ("a.wav", "b.wav"):
        assert api.upload(folder_id(fs), tone("wav"), name).status_code == 200
    fs.get([f"{folder}/a.wav", f"{folder}/b.wav"], str(tmp_path / "new" / "dir") + "/")
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == ["a.wav", "b.wav"]
    buffer = io.BytesIO()
    fs.get_file(f"{folder}/a.wav", buffer)
    assert buffer.getvalue() == tone("wav")


def test_an_interrupted_get_file_leaves_nothing_behind(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path
) -> None:
    """Ctrl-C mid-download: no file cut short under the final name, no partial file."""
    assert api.upload(folder_id(fs), tone("wav", seconds=5.0), "a.wav").status_code == 200

    class Interrupting(Callback):
        def call(self, *args: object, **kwargs: object) -> None:
            if self.value:
                raise KeyboardInterrupt

    target = tmp_path / "out" / "a.wav"
    with pytest.raises(KeyboardInterrupt):
        fs.get_file(f"{folder}/a.wav", str(target), callback=Interrupting())
    assert list(target.parent.iterdir()) == []
    fs.get_file(f"{folder}/a.wav", str(target))
    assert target.read_bytes() == tone("wav", seconds=5.0)


def test_tqdm_bars_follow_put_and_get_as_fsspec_users_write_them(
    fs: VoiceFileSystem, api: Api, folder: str, tmp_path: Path
) -> None:
    """`fs.put(..., callback=TqdmCallback())` counts the files, `get_file` the bytes."""
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(tone("wav"))
    files_bar, bytes_bar = io.StringIO(), io.StringIO()
    with TqdmCallback(tqdm_kwargs={"file": files_bar, "ascii": True}) as callback:
        fs.put([str(tmp_path / "a.wav"), str(tmp_path / "b.wav")], folder + "/", callback=callback)
    assert "2/2" in files_bar.getvalue()
    kwargs = {"file": bytes_bar, "ascii": True, "unit": "B"}
    with TqdmCallback(tqdm_kwargs=kwargs) as callback:
        fs.get_file(folder + "/a.wav", str(tmp_path / "back.wav"), callback=callback)
    assert "100%" in bytes_bar.getvalue()
    assert (tmp_path / "back.wav").read_bytes() == tone("wav")
    assert sorted(r["file_name"] for r in api.recordings(folder_id(fs))) == ["a.wav", "b.wav"]


# -------------------------------------------------------------------- renames


def test_renaming_to_an_upper_case_extension_renames_or_refuses(
    fs: VoiceFileSystem, api: Api, account: Account, folder: str
) -> None:
    """`mv a.wav a.WAV` either leaves a.WAV (and no a.wav) or raises; it never reports
    success while the file is still a.wav."""
    source, target = f"{FOLDER}/a.wav", f"{FOLDER}/a.WAV"
    fs.pipe_file(source, tone("wav"))
    try:
        fs.mv(source, target)
    except (OSError, ValueError) as error:
        assert source in str(error) or target in str(error), repr(error)
        assert fresh_names(account) == ["a.wav", "a.wav.conversions", "recordings.csv"]
    else:
        assert fresh_names(account) == ["a.WAV", "a.WAV.conversions", "recordings.csv"]
    assert len(file_names(api, folder_id(fs))) == 1
