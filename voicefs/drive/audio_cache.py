"""An on-disk cache of finished recordings' audio, so that reading a file costs one request.

The service allows 500 requests per 300 s, so a kernel read cannot be a request. The first read
of a recording starts one streaming GET into `<key>.part-<pid>-<random>`, reads are served from
that file as it fills, and it becomes `<key>` when complete (finished audio never changes).
Only a read far beyond what has arrived (a player jumping ahead, a tag reader at the tail)
fetches its own range. Complete files go least recently used first, by mtime, so a new process
knows the order; each process writes its own partial files, so two mounts can share the
directory.

When the directory's disk has no room for a recording (less free than its size, or ENOSPC or
EDQUOT while its partial file fills), the partial file goes and the recording is read from the
service instead, a ranged GET per RANGE_BLOCK: readable, only not kept. Whoever made the cache
is told once per recording (`on_uncached`), and `space()` says whether the directory is full.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from voicefs.drive import CacheSpace
from voicefs.private import private_directory

log = logging.getLogger("voicefs.mount")

Fetch = Callable[[str, int, int | None], Iterator[bytes]]
"""fetch(url, start, end_exclusive_or_None) -> chunks: `VoiceClient.iter_download`."""
Uncached = Callable[[str, OSError], None]
"""on_uncached(key, error): the recording `key` is read without being kept, for `error`."""

KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # no dot: never a partial file's name
PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.part-(?P<pid>\d+)-[0-9a-f]+")
RANGE_BLOCK = 1 << 20  # a far read fetches at least this much, for the reads that follow it
STALE_SECONDS = 3600.0
CLOSE_WAIT = 10.0  # a download blocked in a socket read stops at its next chunk or timeout
MIN_FREE = 1 << 20  # a recording is kept only if this much stays free; less is a full disk
NO_SPACE = {errno.ENOSPC: "no space left", errno.EDQUOT: "disk quota exceeded"}


def _failed(key: str, reason: str) -> OSError:
    return OSError(errno.EIO, f"{key}: download failed: {reason}")


class _NoSpace(OSError):
    """The cache directory's disk had no room for a recording: a local ENOSPC or EDQUOT (the
    client's EDQUOT, credits, is another matter)."""


@contextlib.contextmanager
def _room() -> Iterator[None]:
    """Local writes into the cache directory: running out of space is `_NoSpace`."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise _NoSpace(exc.errno, exc.strerror, exc.filename) from exc
        raise


def _free_bytes(directory: Path) -> int:
    info = os.statvfs(directory)
    return info.f_bavail * info.f_frsize


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _touch(fd: int) -> None:
    """Marks a file as just used: its mtime, to the nanosecond (the kernel's own file times
    are a clock tick coarse, which would tie files used in quick succession)."""
    now = time.time_ns()
    with contextlib.suppress(OSError):
        os.utime(fd, ns=(now, now))


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return True


class _Download:
    """One whole-file GET into a partial file, shared by every reader of the key in this
    process. Readers wait on `changed` until the prefix they need has arrived."""

    def __init__(self, directory: Path, key: str, url: str, size: int) -> None:
        self.key, self.url, self.size = key, url, size
        self.part = directory / f"{key}.part-{os.getpid()}-{secrets.token_hex(6)}"
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with _room():
            self.fd = os.open(self.part, flags, 0o600)  # closed by `finish`, after leaving the map
        self.filled = 0
        self.complete = False
        self.error: str | None = None
        self.no_space: _NoSpace | None = None  # set before `error`: read from the service
        self.changed = threading.Condition()

    def append(self, chunk: bytes) -> None:
        if self.error is not None:  # stopped
            raise InterruptedError(self.error)
        if self.filled + len(chunk) > self.size:
            raise ValueError(f"more than the expected {self.size} bytes")
        view = memoryview(chunk)
        with _room():
            while view:
                view = view[os.write(self.fd, view) :]
        with self.changed:
            self.filled += len(chunk)
            self.changed.notify_all()

    def wait(self, offset: int, end: int, far_seek: int) -> bool:
        """True once [offset, end) has arrived; False at once when `offset` is more than
        `far_seek` beyond it, or when the download stopped for lack of space. Raises EIO when
        it failed otherwise."""
        with self.changed:
            while self.filled < end:
                if self.no_space is not None:
                    return False
                if self.error is not None:
                    raise _failed(self.key, self.error)
                if offset > self.filled + far_seek:
                    return False
                self.changed.wait()
            return True

    def stop(self) -> None:
        with self.changed:
            if not self.complete and self.error is None:
                self.error = "the cache was closed"
            self.changed.notify_all()

    def finish(self, reason: str | None) -> None:
        with self.changed:
            if reason is None:
                self.complete = True
            elif self.error is None:
                self.error = reason
            os.close(self.fd)
            self.changed.notify_all()


class AudioCache:
    """Complete recordings at `<directory>/<key>`, at most `max_bytes` of them (LRU by mtime).

    Thread-safe. Nothing happens until a read: no thread starts before the daemon forks.
    A recording the directory has no room for is read from the service, and `on_uncached`
    told so once (until a recording is kept again)."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        fetch: Fetch,
        *,
        far_seek: int = 8 << 20,
        on_uncached: Uncached | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.far_seek = far_seek
        self._fetch = fetch
        self._on_uncached = on_uncached
        self._lock = threading.Lock()
        self._downloads: dict[str, _Download] = {}
        self._threads: set[threading.Thread] = set()
        self._open: Counter[str] = Counter()
        self._closed = False
        self._told: set[str] = set()  # recordings not kept since the last one kept
        self._wanted: int | None = None  # the size of the last one, while none was kept since
        private_directory(self.directory)
        self._remove_stale_parts()
        self.evict()  # --cache-size may have shrunk since the last mount

    def reader(self, key: str, url: str, size: int) -> CachedAudio:
        """A reader of recording `key` (`size` bytes at `url`); a cached file is marked used."""
        if not KEY.fullmatch(key):
            raise OSError(errno.EINVAL, f"{key!r}: not a recording id")
        if size < 0:
            raise OSError(errno.EINVAL, f"{key}: negative size {size}")
        with self._lock:
            fd = self._open_complete(key, size)
            self._open[key] += 1
        return CachedAudio(self, key, url, size, fd)

    def space(self) -> CacheSpace | None:
        """The directory's free space, `full` below MIN_FREE or while the last recording that
        did not fit still would not; None when it cannot be measured."""
        try:
            free = _free_bytes(self.directory)
        except OSError:
            return None
        with self._lock:
            wanted = self._wanted
        full = free < MIN_FREE or (wanted is not None and free < wanted + MIN_FREE)
        return CacheSpace(str(self.directory), free, full)

    def evict(self) -> None:
        """Removes least recently used complete files until they total at most `max_bytes`,
        except those open or downloading in this process."""
        with self._lock:
            busy = set(self._open) | set(self._downloads)
            files = []
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if not KEY.fullmatch(entry.name):
                        continue
                    with contextlib.suppress(FileNotFoundError):
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode):
                            files.append((info.st_mtime_ns, entry.name, info.st_size))
            total = sum(size for _, _, size in files)
            for _, name, size in sorted(files):
                if total <= self.max_bytes:
                    break
                if name not in busy:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.directory / name)
                    total -= size

    def close(self) -> None:
        """Stops downloads in progress (their partial files are removed) and joins them."""
        with self._lock:
            self._closed = True
            downloads = list(self._downloads.values())
            threads = list(self._threads)
        for download in downloads:
            download.stop()
        deadline = time.monotonic() + CLOSE_WAIT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _open_complete(self, key: str, size: int) -> int | None:
        """The complete file, marked as just used; None when absent or of another size (cut
        short by a crash, say: then a download replaces it)."""
        try:
            fd = os.open(self.directory / key, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        if os.fstat(fd).st_size != size:
            os.close(fd)
            return None
        _touch(fd)
        return fd

    def _attach(self, key: str, url: str, size: int) -> tuple[int, _Download | None] | None:
        """A descriptor for a reader of its own: the complete file, or the partial file of the
        key's download (started here when none is running) with that download; None when
        there is no room to keep the recording, which is then read from the service."""
        with self._lock:
            if self._closed:
                raise _failed(key, "the cache was closed")
            download = self._downloads.get(key)
            if download is None:
                fd = self._open_complete(key, size)
                if fd is not None:
                    return fd, None
                try:
                    if not self._room_for(size):
                        raise _NoSpace(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    download = _Download(self.directory, key, url, size)
                except _NoSpace as exc:
                    no_space = exc
                else:
                    thread = threading.Thread(
                        target=self._download, args=(download,), name=f"audio {key}", daemon=True
                    )
                    self._downloads[key] = download
                    self._threads.add(thread)
                    thread.start()
                    return os.dup(download.fd), download  # open: it is still in the map
            else:
                return os.dup(download.fd), download
        self._not_kept(key, size, no_space)
        return None

    def _room_for(self, size: int) -> bool:
        """Whether `size` more bytes leave MIN_FREE free (a disk that cannot say may try)."""
        try:
            return _free_bytes(self.directory) >= size + MIN_FREE
        except OSError:
            return True

    def _not_kept(self, key: str, size: int, cause: OSError) -> None:
        """Records that `key` is read without being kept, and tells `on_uncached` once."""
        with self._lock:
            self._wanted = size
            told = key in self._told
            self._told.add(key)
        if told or self._on_uncached is None:
            return
        what = NO_SPACE.get(cause.errno or errno.ENOSPC, NO_SPACE[errno.ENOSPC])
        error = OSError(
            errno.ENOSPC,
            f"{key}: not kept in the audio cache: {what} in {self.directory}; "
            "read from the service",
        )
        try:
            self._on_uncached(key, error)
        except Exception:
            log.exception("%s: telling that it is not kept failed", key)

    def _download(self, download: _Download) -> None:
        try:
            reason = self._receive(download)
            with self._lock:
                if self._downloads.get(download.key) is download:
                    del self._downloads[download.key]  # before waking readers, so they retry
            download.finish(reason)
            if download.no_space is not None:
                self._not_kept(download.key, download.size, download.no_space)
            elif reason is None:
                with self._lock:  # there was room again
                    self._told.clear()
                    self._wanted = None
                with contextlib.suppress(OSError):  # no one to tell; the next download evicts
                    self.evict()
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _receive(self, download: _Download) -> str | None:
        """Streams the whole file into the partial file and renames it complete; returns why
        that failed, or None. Out of space, the partial file goes and is emptied at once (its
        readers hold it open): they read from the service."""
        try:
            chunks = self._fetch(download.url, 0, None)
            try:
                for chunk in chunks:
                    download.append(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            if download.filled != download.size:
                raise ValueError(f"received {download.filled} of {download.size} bytes")
            _touch(download.fd)
            with _room():
                os.replace(download.part, self.directory / download.key)
            return None
        except Exception as exc:
            with contextlib.suppress(OSError):
                os.unlink(download.part)
            if isinstance(exc, _NoSpace):
                with contextlib.suppress(OSError):
                    os.ftruncate(download.fd, 0)
                with download.changed:
                    download.no_space = exc
            return _reason(exc)

    def _release(self, key: str) -> None:
        with self._lock:
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]

    def _remove_stale_parts(self) -> None:
        """Partial files left by processes that died (ours are rewritten as they grow)."""
        old = time.time() - STALE_SECONDS
        with os.scandir(self.directory) as entries:
            for entry in entries:
                match = PART.fullmatch(entry.name)
                if match is None or _alive(int(match["pid"])):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if entry.stat(follow_symlinks=False).st_mtime < old:
                        os.unlink(entry.path)


class CachedAudio:
    """One open recording: reads come from the complete file, or from the partial file as the
    download fills it, or, far beyond what has arrived or when there is no room to keep it,
    from ranged GETs. Thread-safe."""

    def __init__(self, cache: AudioCache, key: str, url: str, size: int, fd: int | None) -> None:
        self.key, self.url, self.size = key, url, size
        self._cache = cache
        self._lock = threading.Lock()
        self._fd = fd  # the complete file
        self._partial: int | None = None
        self._download: _Download | None = None
        self._retired: list[int] = []  # failed downloads' files: other reads may still use them
        self._block: tuple[int, bytes] = (0, b"")  # the last ranged GET's bytes
        self._uncached = False  # no room to keep it: every read is ranged
        self._closed = False

    def read(self, offset: int, size: int) -> bytes:
        """Exactly bytes [offset, min(offset + size, file size)); b"" at or after the end."""
        if offset < 0 or size < 0:
            raise OSError(errno.EINVAL, f"{self.key}: negative offset or size")
        end = min(offset + size, self.size)
        if offset >= end:
            return b""
        source = self._source()
        if source is None:
            return self._ranged(offset, end)
        fd, download = source
        if download is None:
            return os.pread(fd, end - offset, offset)  # a regular file: all of it
        start, block = self._block
        if start <= offset and end <= start + len(block):
            return block[offset - start : end - start]
        if download.wait(offset, end, self._cache.far_seek):
            data = os.pread(fd, end - offset, offset)  # a regular file: all of it,
            if len(data) == end - offset:  # unless emptied for lack of space
                return data
        return self._fetch_range(offset, end)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            fds = [fd for fd in (self._fd, self._partial) if fd is not None] + self._retired
        for fd in fds:
            os.close(fd)
        self._cache._release(self.key)

    def _source(self) -> tuple[int, _Download | None] | None:
        """Where to read: the complete file, or the partial one with its download (joined or
        started here on the first read, and again after a failure); None for the service,
        when there is no room to keep the recording."""
        with self._lock:
            if self._closed:
                raise OSError(errno.EBADF, f"{self.key}: read after close")
            if self._fd is None and self._download is not None and self._download.complete:
                self._fd, self._partial, self._download = self._partial, None, None
                self._block = (0, b"")
            if self._fd is not None:
                return self._fd, None
            if self._download is not None and self._download.no_space is not None:
                self._uncached = True
            if self._uncached:
                if self._partial is not None:
                    self._retired.append(self._partial)  # emptied: it holds no space
                self._partial = self._download = None
                return None
            if self._partial is None or self._download is None or self._download.error:
                if self._partial is not None:
                    self._retired.append(self._partial)
                self._partial = self._download = None
                attached = self._cache._attach(self.key, self.url, self.size)
                if attached is None:
                    self._uncached = True
                    return None
                fd, download = attached
                if download is None:
                    self._fd = fd
                    return fd, None
                self._partial, self._download = fd, download
            return self._partial, self._download

    def _ranged(self, offset: int, end: int) -> bytes:
        """[offset, end) from the last ranged GET's block, or from a new one."""
        start, block = self._block
        if start <= offset and end <= start + len(block):
            return block[offset - start : end - start]
        return self._fetch_range(offset, end)

    def _fetch_range(self, offset: int, end: int) -> bytes:
        """One ranged GET from `offset`, at least RANGE_BLOCK long, kept for the next reads."""
        stop = min(self.size, offset + max(end - offset, RANGE_BLOCK))
        try:
            data = b"".join(self._cache._fetch(self.url, offset, stop))
        except Exception as exc:
            raise _failed(self.key, _reason(exc)) from exc
        if len(data) != stop - offset:
            raise _failed(self.key, f"received {len(data)} of bytes [{offset}, {stop})")
        self._block = (offset, data)
        return data[: end - offset]
