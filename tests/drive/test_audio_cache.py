"""The audio cache against the emulator over HTTP: one streaming GET per cold file however it is
read, none for a cached file (also after a remount), ranged GETs only for far reads, a bounded
directory that keeps open files readable, download failures as EIO that a later read
recovers from, and a full disk (a real tmpfs) that only stops the audio being kept."""

from __future__ import annotations

import errno
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api import VoiceClient
from voicefs.drive.audio_cache import MIN_FREE, AudioCache, CachedAudio
from voicefs.tree.tree import CacheSpace

KiB, MiB = 1 << 10, 1 << 20
AUDIO_ROUTE = "GET /api/{file_url:path}"


@dataclass
class Audio:
    """An uploaded recording: what the cache is given, and the bytes it must return."""

    key: str
    url: str
    size: int
    data: bytes


@pytest.fixture
def client(account: Account) -> Iterator[VoiceClient]:
    with VoiceClient(url=account.url, api_key=account.api_key, rate_limit=False) as api:
        yield api


def upload(account: Account, client: VoiceClient, seconds: float) -> Audio:
    """A WAV tone (about 44 KiB a second) uploaded to a new folder."""
    api = Api.of(account)
    response = api.upload(api.new_folder()["id"], tone("wav", seconds), "tone.wav")
    assert response.status_code == 200, response.text
    recording = client.get_recording(response.json()["id"])
    assert recording.url is not None and recording.size is not None
    data = api.download(response.json()).content
    assert len(data) == recording.size
    return Audio(recording.id, recording.url, recording.size, data)


@pytest.fixture
def audio(account: Account, client: VoiceClient) -> Audio:
    return upload(account, client, 80.0)  # 3.4 MiB


def downloads(emulator: EmulatorProcess) -> int:
    return emulator.request_counts().get(AUDIO_ROUTE, 0)


def read_all(reader: CachedAudio, block: int = 128 * KiB) -> bytes:
    parts = []
    while part := reader.read(sum(map(len, parts)), block):
        parts.append(part)
    return b"".join(parts)


def parts(directory: Path) -> list[str]:
    return [name for name in os.listdir(directory) if ".part-" in name]


def test_cold_read_is_one_download_and_then_none(
    emulator: EmulatorProcess, client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    emulator.reset_request_counts()
    cache = AudioCache(tmp_path, 1 << 30, client.iter_download)
    reader = cache.reader(audio.key, audio.url, audio.size)
    assert downloads(emulator) == 0 and parts(tmp_path) == []  # nothing until a read
    assert not any(thread.name.startswith("audio ") for thread in threading.enumerate())
    assert read_all(reader) == audio.data
    assert reader.read(audio.size, 10) == b"" and reader.read(audio.size + 5, 10) == b""
    reader.close()
    second = cache.reader(audio.key, audio.url, audio.size)
    assert second.read(1000, 5000) == audio.data[1000:6000]
    assert read_all(second, 60 * KiB) == audio.data
    second.close()
    cache.close()
    assert downloads(emulator) == 1
    assert (tmp_path / audio.key).read_bytes() == audio.data and parts(tmp_path) == []

    remounted = AudioCache(tmp_path, 1 << 30, client.iter_download)
    with_another_client = remounted.reader(audio.key, "/api/nowhere", audio.size)
    assert read_all(with_another_client) == audio.data
    with_another_client.close()
    remounted.close()
    assert downloads(emulator) == 1


def test_concurrent_random_reads_share_one_download(
    emulator: EmulatorProcess, client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    calls: list[tuple[int, int | None]] = []

    def fetch(url: str, start: int, end: int | None) -> Iterator[bytes]:
        calls.append((start, end))
        return client.iter_download(url, start, end)

    emulator.reset_request_counts()
    cache = AudioCache(tmp_path, 1 << 30, fetch, far_seek=512 * KiB)
    shared = cache.reader(audio.key, audio.url, audio.size)
    start = threading.Barrier(8)
    wrong: list[tuple[int, int]] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        reader = shared if seed % 2 else cache.reader(audio.key, audio.url, audio.size)
        start.wait()
        for _ in range(40):
            offset, size = rng.randrange(audio.size + 100), rng.randrange(1, 256 * KiB)
            if reader.read(offset, size) != audio.data[offset : offset + size]:
                wrong.append((offset, size))
        if reader is not shared:
            reader.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.close()
    cache.close()
    assert wrong == []
    assert calls.count((0, None)) == 1
    ranged = [(start, end) for start, end in calls if (start, end) != (0, None)]
    assert all(end is not None and start < end <= audio.size for start, end in ranged)
    assert downloads(emulator) == len(calls)
    assert (tmp_path / audio.key).read_bytes() == audio.data and parts(tmp_path) == []


def test_far_read_is_ranged_while_the_download_goes_on(
    emulator: EmulatorProcess, client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    received, release = threading.Event(), threading.Event()
    ranges: list[tuple[int, int | None]] = []

    def fetch(url: str, start: int, end: int | None) -> Iterator[bytes]:
        """The whole-file GET stops after its first chunk until released."""
        if (start, end) != (0, None):
            ranges.append((start, end))
            yield from client.iter_download(url, start, end)
            return
        for number, chunk in enumerate(client.iter_download(url, start, end)):
            if number == 1:
                received.set()
                assert release.wait(60)
            yield chunk

    emulator.reset_request_counts()
    cache = AudioCache(tmp_path, 1 << 30, fetch, far_seek=128 * KiB)
    reader = cache.reader(audio.key, audio.url, audio.size)
    try:
        far = audio.size - 2 * MiB  # past the first chunk (1 MiB) by more than far_seek
        assert reader.read(far, 128 * KiB) == audio.data[far : far + 128 * KiB]
        assert reader.read(far + 128 * KiB, 64 * KiB) == audio.data[far + 128 * KiB :][: 64 * KiB]
        assert ranges == [(far, far + MiB)]  # the second read came from the same block
        tail = reader.read(audio.size - 1000, 4096)  # a tag reader at the end
        assert tail == audio.data[-1000:]
        assert ranges == [(far, far + MiB), (audio.size - 1000, audio.size)]
        assert not (tmp_path / audio.key).exists() and len(parts(tmp_path)) == 1
        assert received.wait(60) and downloads(emulator) == 3  # the whole file is coming
        release.set()
        assert read_all(reader) == audio.data
    finally:
        release.set()
        reader.close()
        cache.close()
    assert downloads(emulator) == 3
    assert (tmp_path / audio.key).read_bytes() == audio.data and parts(tmp_path) == []


def test_eviction_keeps_the_bound_and_open_files_readable(
    account: Account, client: VoiceClient, tmp_path: Path
) -> None:
    first, second, third = (upload(account, client, seconds) for seconds in (10, 11, 12))
    limit = first.size + second.size + third.size // 2
    cache = AudioCache(tmp_path, limit, client.iter_download)

    def cached() -> set[str]:
        return {name for name in os.listdir(tmp_path) if ".part-" not in name}

    for audio in (first, second):
        reader = cache.reader(audio.key, audio.url, audio.size)
        assert read_all(reader) == audio.data
        reader.close()
    cache.close()
    assert cached() == {first.key, second.key}
    cache = AudioCache(tmp_path, limit, client.iter_download)
    kept_open = cache.reader(first.key, first.url, first.size)  # used later than `second`
    reader = cache.reader(third.key, third.url, third.size)
    assert read_all(reader) == third.data
    reader.close()
    cache.close()  # waits for the download, which evicts when it completes
    assert cached() == {first.key, third.key}
    assert sum((tmp_path / key).stat().st_size for key in cached()) <= limit

    other_mount = AudioCache(tmp_path, 0, client.iter_download)  # evicts all it does not use
    assert cached() == set()
    assert read_all(kept_open) == first.data
    kept_open.close()
    other_mount.close()

    cache = AudioCache(tmp_path, 0, client.iter_download)
    reader = cache.reader(second.key, second.url, second.size)
    assert read_all(reader) == second.data
    cache.close()  # joins the download; its evict, as this one, keeps what is open
    cache.evict()
    assert cached() == {second.key}  # open in this process: kept past the bound
    reader.close()
    cache.evict()
    assert cached() == set()


def test_download_failure_is_eio_and_a_later_read_retries(
    emulator: EmulatorProcess, account: Account, audio: Audio, tmp_path: Path
) -> None:
    client = VoiceClient(url=account.url, api_key=account.api_key, rate_limit=False, max_retries=0)
    cache = AudioCache(tmp_path, 1 << 30, client.iter_download, far_seek=256 * KiB)
    reader = cache.reader(audio.key, audio.url, audio.size)
    emulator.set_faults(fail_rate=1.0, fail_mode="drop", seed=1)
    for offset in (0, audio.size - 100):  # waiting for the download, and a ranged read
        with pytest.raises(OSError) as failure:
            reader.read(offset, 4096)
        assert failure.value.errno == errno.EIO
        assert f"{audio.key}: download failed" in str(failure.value)
    cache.close()  # joins the download threads
    assert os.listdir(tmp_path) == []

    cache = AudioCache(tmp_path, 1 << 30, client.iter_download)
    reader = cache.reader(audio.key, audio.url, audio.size)
    with pytest.raises(OSError) as failure:
        reader.read(0, 4096)
    assert failure.value.errno == errno.EIO
    emulator.clear_faults()
    assert reader.read(0, 4096) == audio.data[:4096]
    assert read_all(reader) == audio.data
    reader.close()
    cache.close()
    client.close()
    assert os.listdir(tmp_path) == [audio.key]


def test_a_file_of_another_size_is_an_error_and_not_kept(
    client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    cache = AudioCache(tmp_path, 1 << 30, client.iter_download)
    for size in (audio.size + 10, audio.size - 10):
        reader = cache.reader(audio.key, audio.url, size)
        with pytest.raises(OSError) as failure:
            read_all(reader, MiB)
        assert failure.value.errno == errno.EIO and "bytes" in str(failure.value)
        reader.close()
    cache.close()
    assert os.listdir(tmp_path) == []


def test_two_mounts_download_into_their_own_files(
    emulator: EmulatorProcess, client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    emulator.reset_request_counts()
    caches = [AudioCache(tmp_path, 1 << 30, client.iter_download) for _ in range(2)]
    readers = [cache.reader(audio.key, audio.url, audio.size) for cache in caches]
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda r=r: results.append(read_all(r))) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for reader, cache in zip(readers, caches, strict=True):
        reader.close()
        cache.close()
    assert results == [audio.data, audio.data]
    assert 1 <= downloads(emulator) <= 2
    assert os.listdir(tmp_path) == [audio.key]
    assert (tmp_path / audio.key).read_bytes() == audio.data


def test_start_removes_stale_parts_of_dead_processes_only(tmp_path: Path) -> None:
    def fetch(url: str, start: int, end: int | None) -> Iterator[bytes]:
        raise AssertionError("no request expected")

    dead = subprocess.Popen(["true"])
    dead.wait()
    key = "2b5f3f9e-8f52-4a43-9b1e-0c6f9b1f4e7a"
    old = time.time() - 2 * 3600
    names = {
        "dead_old": f"{key}.part-{dead.pid}-abc123",
        "dead_new": f"{key}.part-{dead.pid}-def456",
        "alive_old": f"{key}.part-{os.getpid()}-0a0b0c",
    }
    for label, name in names.items():
        (tmp_path / name).write_bytes(b"partial")
        if label.endswith("old"):
            os.utime(tmp_path / name, (old, old))
    cache = AudioCache(tmp_path, 1 << 30, fetch)
    assert sorted(os.listdir(tmp_path)) == sorted([names["dead_new"], names["alive_old"]])
    for bad in ("../escape", "a/b", "", ".hidden", f"{key}.part-1-ab"):
        with pytest.raises(OSError) as failure:
            cache.reader(bad, "/api/x", 10)
        assert failure.value.errno == errno.EINVAL
    cache.close()


@contextmanager
def small_disk(directory: Path, size: int) -> Iterator[Path]:
    """A tmpfs of `size` bytes at directory, unmounted afterwards (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.fail("mounting a tmpfs needs root, as CI runs the tests")
    directory.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], check=True
    )
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def free_bytes(directory: Path) -> int:
    info = os.statvfs(directory)
    return info.f_bavail * info.f_frsize


def test_a_recording_larger_than_the_free_space_is_read_uncached(
    emulator: EmulatorProcess, client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    told: list[tuple[str, OSError]] = []
    with small_disk(tmp_path / "disk", 2 * MiB) as disk:
        cache = AudioCache(
            disk / "audio",
            1 << 30,
            client.iter_download,
            on_uncached=lambda key, error: told.append((key, error)),
        )
        emulator.reset_request_counts()
        reader = cache.reader(audio.key, audio.url, audio.size)
        try:
            assert read_all(reader) == audio.data
            assert downloads(emulator) == -(-audio.size // MiB)  # one ranged GET per MiB
            again = cache.reader(audio.key, audio.url, audio.size)
            tail = audio.size - 5000
            assert again.read(tail, 9000) == audio.data[tail:]
            again.close()
            space = cache.space()
        finally:
            reader.close()
            cache.close()
        assert os.listdir(disk / "audio") == []
    assert [key for key, _ in told] == [audio.key]  # once, however often it is read
    error = told[0][1]
    assert error.errno == errno.ENOSPC
    assert str(error) == (
        f"[Errno 28] {audio.key}: not kept in the audio cache: no space left in "
        f"{disk / 'audio'}; read from the service"
    )
    assert space is not None and space.full and space.directory == str(disk / "audio")
    assert 0 < space.free_bytes <= 2 * MiB


def test_a_disk_that_fills_during_the_download_goes_on_from_the_service(
    client: VoiceClient, audio: Audio, tmp_path: Path
) -> None:
    """Another program fills the disk while the recording is being kept: the partial file
    goes (and its space with it, although a reader still holds it) and reads go on."""
    told: list[str] = []
    with small_disk(tmp_path / "disk", 8 * MiB) as disk:
        filler, filled = disk / "filler", list[bool]()

        def fetch(url: str, start: int, end: int | None) -> Iterator[bytes]:
            for number, chunk in enumerate(client.iter_download(url, start, end)):
                if (start, end) == (0, None) and number == 1 and not filled:  # one chunk kept
                    filled.append(True)
                    left = str(free_bytes(disk) - 64 * KiB)
                    subprocess.run(["fallocate", "-l", left, str(filler)], check=True)
                yield chunk

        cache = AudioCache(
            disk / "audio", 1 << 30, fetch, on_uncached=lambda key, _: told.append(key)
        )
        assert cache.space() == CacheSpace(str(disk / "audio"), 8 * MiB, False)
        assert 8 * MiB - MIN_FREE > audio.size  # room for it: the download starts
        reader = cache.reader(audio.key, audio.url, audio.size)
        try:
            assert read_all(reader, 64 * KiB) == audio.data
            assert parts(disk / "audio") == [] and told == [audio.key]
            after = cache.space()
            assert after is not None and after.full
            assert after.free_bytes >= 64 * KiB + MiB  # the first chunk's space is free again
            second = cache.reader(audio.key, audio.url, audio.size)
            assert read_all(second) == audio.data  # not kept (no room), and not told again
            second.close()
            assert told == [audio.key] and os.listdir(disk / "audio") == []
            filler.unlink()
            assert cache.space() == CacheSpace(str(disk / "audio"), 8 * MiB, False)
            third = cache.reader(audio.key, audio.url, audio.size)
            assert read_all(third) == audio.data  # room again: kept
            third.close()
        finally:
            reader.close()
            cache.close()
        assert os.listdir(disk / "audio") == [audio.key]
        assert (disk / "audio" / audio.key).read_bytes() == audio.data
