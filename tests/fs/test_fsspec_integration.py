"""voicefs as the fsspec ecosystem sees it: the entry point, URLs, caching layers, pickling,
instance caching, and a Dask cluster of worker processes reading `voicefs://` paths."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
import soundfile as sf

from tests.emulator.helpers import tone
from tests.emulator_process import Account, EmulatorProcess
from voicefs.filesystem import VoiceFileSystem


def options(account: Account) -> dict[str, Any]:
    return {"url": account.url, "api_key": account.api_key, "rate_limit": False}


@pytest.fixture
def library(account: Account) -> Iterator[VoiceFileSystem]:
    """An account with one project, two folders and four originals in different formats."""
    fs = VoiceFileSystem(**options(account), skip_instance_cache=True)
    fs.makedirs("Show/Takes", exist_ok=True)
    fs.makedirs("Show/Extras", exist_ok=True)
    for name, ext in [("one", "wav"), ("two", "flac"), ("three", "ogg")]:
        fs.pipe(f"Show/Takes/{name}.{ext}", tone(ext))
    fs.pipe("Show/Extras/four.mp3", tone("mp3"))
    yield fs


def test_entry_point_works_without_importing_voicefs(
    library: VoiceFileSystem, account: Account
) -> None:
    script = (
        "import fsspec, sys\n"
        "fs = fsspec.filesystem('voicefs', rate_limit=False)\n"
        "print(sorted(fs.ls('Show/Takes', detail=False)))\n"
        "print('voicefs' in sys.modules)\n"
    )
    env = {**os.environ, "VOICEFS_URL": account.url, "VOICEFS_API_KEY": account.api_key}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    listed, imported = result.stdout.strip().splitlines()
    assert "Show/Takes/one.wav" in listed
    assert imported == "True"  # fsspec imported it through the entry point


def test_strip_protocol() -> None:
    strip = VoiceFileSystem._strip_protocol
    assert strip("voicefs://Show/Takes/one.wav") == "Show/Takes/one.wav"
    assert strip("voicefs:///Show/Takes/") == "Show/Takes"
    assert strip("/Show//Takes/./one.wav") == "Show/Takes/one.wav"
    assert strip("voicefs://") == ""
    assert strip(["voicefs://a", "b/"]) == ["a", "b"]


def test_fsspec_open_and_open_files(library: VoiceFileSystem, account: Account) -> None:
    with fsspec.open("voicefs://Show/Takes/one.wav", "rb", **options(account)) as handle:
        assert handle.read() == tone("wav")
    files = fsspec.open_files("voicefs://Show/Takes/*.*", "rb", **options(account))
    assert sorted(f.path for f in files) == [
        "Show/Takes/one.wav",
        "Show/Takes/recordings.csv",
        "Show/Takes/three.ogg",
        "Show/Takes/two.flac",
    ]
    with fsspec.open("voicefs://Show/Extras/four.mp3", "rb", **options(account)) as handle:
        info = sf.info(io.BytesIO(handle.read()))
    assert info.format == "MP3"


def test_simplecache_reads_each_file_once(
    library: VoiceFileSystem, account: Account, emulator: EmulatorProcess, tmp_path: Any
) -> None:
    url = "simplecache::voicefs://Show/Takes/two.flac"
    storage = {"voicefs": options(account), "simplecache": {"cache_storage": str(tmp_path)}}
    with fsspec.open(url, "rb", **storage) as handle:
        first = handle.read()
    emulator.reset_request_counts()
    with fsspec.open(url, "rb", **storage) as handle:
        second = handle.read()
    assert first == second == tone("flac")
    assert "GET /api/{file_url:path}" not in emulator.request_counts()


def test_pickled_filesystem_works_in_another_process(
    library: VoiceFileSystem, account: Account
) -> None:
    fs = VoiceFileSystem(**options(account))
    data = pickle.dumps(fs)
    assert account.api_key not in repr(pickle.loads(data))
    assert account.api_key not in repr(fs)
    script = (
        "import pickle, sys\n"
        "fs = pickle.loads(sys.stdin.buffer.read())\n"
        "print(len(fs.cat('Show/Takes/one.wav')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], input=data, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    assert int(result.stdout) == len(tone("wav"))


@pytest.mark.parametrize("made_from", ["arguments", "environment"])
def test_a_pickle_carries_the_credentials_masked_to_a_process_without_them(
    library: VoiceFileSystem,
    account: Account,
    made_from: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """CONTRACT §5: credentials included, wherever they came from; never the key verbatim."""
    if made_from == "environment":
        monkeypatch.setenv("VOICEFS_URL", account.url)
        monkeypatch.setenv("VOICEFS_API_KEY", account.api_key)
        fs = VoiceFileSystem(rate_limit=False, skip_instance_cache=True)
    else:
        fs = VoiceFileSystem(**options(account), skip_instance_cache=True)
    data = pickle.dumps(fs)
    assert account.api_key.encode() not in data
    script = (
        "import pickle, sys\n"
        "fs = pickle.loads(sys.stdin.buffer.read())\n"
        "print(len(fs.cat('Show/Takes/one.wav')))\n"
    )
    bare = {k: v for k, v in os.environ.items() if not k.startswith("VOICEFS_")}
    bare["XDG_CONFIG_HOME"] = str(tmp_path)  # no profile there either
    result = subprocess.run(
        [sys.executable, "-c", script], input=data, capture_output=True, timeout=60, env=bare
    )
    assert result.returncode == 0, result.stderr.decode()
    assert int(result.stdout) == len(tone("wav"))


def test_unpickling_again_gives_the_same_instance_per_account(
    library: VoiceFileSystem, account: Account, emulator: EmulatorProcess
) -> None:
    """A worker that unpickles the filesystem for each task keeps one instance (and its
    cached listings), and two accounts never share one."""
    mine = pickle.dumps(VoiceFileSystem(**options(account), skip_instance_cache=True))
    theirs = pickle.dumps(VoiceFileSystem(**options(emulator.new_account())))
    first, again, other = pickle.loads(mine), pickle.loads(mine), pickle.loads(theirs)
    assert first is again
    assert other is not first
    assert first.ls("", detail=False) == ["Show", "projects.csv", ".voicefs"]
    assert other.ls("", detail=False) == ["projects.csv", ".voicefs"]


def test_instances_are_cached_per_credentials(
    library: VoiceFileSystem, account: Account, emulator: EmulatorProcess
) -> None:
    other = emulator.new_account()
    mine = fsspec.filesystem("voicefs", **options(account))
    again = fsspec.filesystem("voicefs", **options(account))
    theirs = fsspec.filesystem("voicefs", **options(other))
    assert mine is again
    assert theirs is not mine
    assert mine.ls("", detail=False) == ["Show", "projects.csv", ".voicefs"]
    assert theirs.ls("", detail=False) == ["projects.csv", ".voicefs"]


def _duration_of(path: str, storage: dict[str, Any]) -> float:
    with fsspec.open(f"voicefs://{path}", "rb", **storage) as handle:
        info = sf.info(io.BytesIO(handle.read()))
    return float(info.frames / info.samplerate)


def test_dask_workers_read_voicefs_paths(library: VoiceFileSystem, account: Account) -> None:
    distributed = pytest.importorskip("dask.distributed")
    originals = [
        entry
        for entry in library.find("Show", detail=True).values()
        if entry.get("kind") == "original"
    ]
    assert len(originals) == 4
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = client.map(_duration_of, [e["name"] for e in originals], storage=options(account))
        durations = client.gather(futures)
    assert sum(durations) == pytest.approx(sum(e["duration"] for e in originals), abs=0.05)
