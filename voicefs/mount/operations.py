"""`VoiceOperations`: the FUSE operations, a thin layer over the `Drive` (`voicefs.drive`).

Paths come from the kernel as `/project/folder/name` and go to the drive as
`project/folder/name`. Every error is an OSError with an errno (mfusepy hands it to the
kernel); anything else is a bug, logged and answered with EIO. No thread and no HTTP session
exists before `init_with_config`, which runs after the daemon forked.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import posixpath
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import mfusepy
from cachetools import LRUCache, TTLCache

from voicefs.drive import ALWAYS_THERE, Drive
from voicefs.drive.audio_cache import AudioCache
from voicefs.drive.handles import AudioHandle, ContentHandle, Handle, LocalHandle, StagedWrite
from voicefs.drive.scratch import ScratchFiles
from voicefs.drive.session import DriveSession
from voicefs.drive.settings import UserSettings
from voicefs.drive.writes import Writes
from voicefs.mount import attributes as attrs
from voicefs.mount.callers import calling_process, interrupted
from voicefs.mount.failures import not_news, recorded, translated
from voicefs.mount.glue import DirectoryListing, Entry, forget_in_kernel, kernel_stat
from voicefs.mount.xattrs import ATTRIBUTE_NAMES, attribute_value, is_system_name
from voicefs.tree import names
from voicefs.tree.errors import ErrorLog
from voicefs.tree.local_names import is_local_name, is_trash_name
from voicefs.tree.nodes import Node, NodeKind

log = logging.getLogger("voicefs.mount")

# Kernel caching, chosen by measurement (docs/mount.md): entries and attributes for a few
# seconds spare most round trips of `ls -l` and `find`, while voicefs's own listing cache
# decides what is fresh; a short negative timeout keeps a new upload or a finished conversion
# from being hidden.
ENTRY_TIMEOUT = 5.0
ATTR_TIMEOUT = 5.0
NEGATIVE_TIMEOUT = 1.0
READAHEAD = 1 << 20
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
# libfuse's high-level mknod of a regular file is a create with exactly these flags (lib/fuse.c,
# fuse_lib_mknod); a create(2) from the kernel also carries O_LARGEFILE.
LIBFUSE_MKNOD_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY
INTERRUPT_POLL = 0.1  # seconds between looks at whether a waiting caller was interrupted
FETCHED_KEPT = 4  # generated files a stat fetched, kept for the open that follows ...
FETCHED_SECONDS = 10.0  # ... for this long
DIRECTORY_READS = 64  # listings being read, for the readdir calls that go on reading them
MAX_TOKEN = 1 << 30  # the offsets libfuse passes on are signed 64-bit: token << 32 fits
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


T = TypeVar("T")


def _made(part: T | None) -> T:
    if part is None:
        raise mfusepy.FuseOSError(errno.EIO)
    return part


def tree_path(path: str) -> str:
    return path.strip("/")


class VoiceOperations(mfusepy.Operations):
    use_ns = True

    def __init__(
        self,
        make_drive: Callable[[], Drive],
        cache_dir: Path,
        cache_size: int,
        *,
        read_only: bool = False,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self._make_drive = make_drive
        self.cache_dir = cache_dir
        self.cache_size = cache_size
        self.read_only = read_only
        self._on_ready = on_ready
        self.settings = UserSettings()
        self._handles: dict[int, Handle] = {}
        # listings being read, by the token their offsets carry (see readdir_plus)
        self._reads: LRUCache[int, DirectoryListing] = LRUCache(DIRECTORY_READS)
        # generated files a stat fetched to tell their size, for the open that follows
        self._fetched_by_stat: TTLCache[str, bytes] = TTLCache(FETCHED_KEPT, FETCHED_SECONDS)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._session: DriveSession | None = None

    # ------------------------------------------------------------------ lifecycle

    def init_with_config(self, conn: Any, config: Any) -> None:
        if config is not None:
            config.entry_timeout = ENTRY_TIMEOUT
            config.attr_timeout = ATTR_TIMEOUT
            config.negative_timeout = NEGATIVE_TIMEOUT
            config.use_ino = 1
        if conn is not None:
            conn.max_readahead = READAHEAD
        self._session = DriveSession(
            self._make_drive(),
            self.cache_dir,
            self.cache_size,
            settings=self.settings,
            forget_in_front=forget_in_kernel,
            on_ready=self._on_ready,
        )
        self._session.start()

    def destroy(self, path: str) -> None:
        if self._session is None:
            return
        self._session.upkeep.stop()
        with self._lock:
            open_handles = list(self._handles.values())
            self._handles.clear()
        for handle in open_handles:  # files still open at unmount: finish what they hold
            try:
                handle.release()
            except OSError as exc:
                log.error("%s: %s", handle.path, exc)
        self._session.close()

    # Made in init_with_config, after the daemon forked; a call before that is EIO.
    @property
    def session(self) -> DriveSession:
        return _made(self._session)

    @property
    def drive(self) -> Drive:
        return self.session.drive

    @property
    def error_log(self) -> ErrorLog | None:
        return None if self._session is None else self._session.drive.errors

    @property
    def scratch(self) -> ScratchFiles:
        return self.session.scratch

    @property
    def writes(self) -> Writes:
        return self.session.writes

    @property
    def audio(self) -> AudioCache:
        return self.session.audio

    # ------------------------------------------------------------------ metadata

    def _node(self, path: str) -> Node:
        return self.drive.lookup(tree_path(path))

    def _attributes(self, node: Node, size: int | None = None) -> dict[str, Any]:
        writable = not self.read_only and self._writable(node)
        if size is None:  # 0 for what only a request would tell, until it is opened
            size = 0 if node.is_directory else (self.drive.size_of(node) or 0)
        return attrs.attributes(
            node,
            size,
            self.drive.account_time,  # only for what has no time of its own
            writable=writable,
            user=self.settings.get(node.path),
        )

    def _writable(self, node: Node) -> bool:
        return self.drive.writable(node)  # audio too: deletable, though its bytes never change

    @translated
    def getattr(self, path: str, fh: Any = None) -> dict[str, Any]:
        local = self._local_file(tree_path(path))
        if local is not None:
            inode = hash(("local", tree_path(path))) & ((1 << 62) - 1) | 2
            return attrs.local_attributes(str(local), inode, self.settings.get(tree_path(path)))
        node = self._node(path)
        return self._attributes(node, self._size_for_stat(node))

    def _size_for_stat(self, node: Node) -> int | None:
        """A stat of a file whose size only a download tells (an export, a sample, a table)
        fetches it, so that `unzip` and `zipfile`, which size the file before they open it,
        see its real size; the content is kept for the open that follows. A listing shows
        such files with size 0, so `ls -l` and walks fetch nothing."""
        if node.is_directory or self.drive.size_of(node) is not None:
            return None
        content = self.drive.content_of(node)
        with self._lock:
            self._fetched_by_stat[node.path] = content
        return len(content)

    def _local_file(self, path: str) -> Path | None:
        return self.session.local_file(path)

    @translated
    def readdir(self, path: str, fh: int) -> list[str]:
        return [name for name, _, _ in self.readdir_plus(path, 0)]

    # No opendir and no releasedir: libfuse answers them itself, with no call into Python,
    # so a directory costs two calls (its entries, and "no more"), not four.

    @translated
    def readdir_plus(self, path: str, offset: int) -> Iterator[tuple[str, Any, int]]:
        """The entries from `offset` on, each with the offset that goes on after it.

        The kernel reads a listing in several calls (until one comes back empty), and each
        must see the same entries, or an entry removed meanwhile would make the next call
        skip one. So the first call's listing is kept under a token that the offsets carry
        (`token << 32 | position`), and the calls that go on read that one; a listing no
        longer kept (a reader paused over `DIRECTORY_READS` other listings) goes on from the
        current one."""
        token, position = divmod(offset, 1 << 32)
        with self._lock:
            listing = self._reads.get(token) if token else None
        if listing is None:
            listing = self._listing(path)
            token = next(self._counter) % MAX_TOKEN or next(self._counter)  # as handles
            with self._lock:
                self._reads[token] = listing
        return (
            (name, attributes, token << 32 | after)
            for after, (name, attributes) in enumerate(listing.since(position), position + 1)
        )

    def _listing(self, path: str) -> DirectoryListing:
        """Each entry with its attributes, so `ls -l` and `find` need no getattr round trip;
        worked out once per listing of the directory (and again when a user set a mode or
        a time), so reading a directory costs what the kernel reads, not a pass over the
        folder."""
        node = self._node(path)
        if not node.is_directory:
            raise mfusepy.FuseOSError(errno.ENOTDIR)
        index = self.drive.directory(node)
        entries = index.derived(
            "mount entries", lambda: self._entries(index.by_name), self.settings.generation
        )
        local = [(name, None) for name in self.scratch.names_in(node.path)]
        return DirectoryListing(entries, local)

    def _entries(self, children: Mapping[str, Node]) -> list[Entry]:
        """The entries by name, each name kept once in memory (the index's)."""
        # Sidecars first: `rm -r` of a folder empties `X.conversions/` before it deletes X
        # (which takes the sidecar with it).
        ordered = sorted(children.items(), key=lambda item: item[1].kind != NodeKind.SIDECAR)
        entries: list[Entry] = []
        for name, child in ordered:  # a size only a request tells shows as 0 (_size_for_stat)
            size = 0 if child.is_directory else self.drive.size_of(child)
            entries.append((name, kernel_stat(self._attributes(child, size or 0))))
        return entries

    @translated
    def statfs(self, path: str) -> dict[str, int]:
        """Ample free space: file managers refuse to copy into a drive that reports none.
        No inode is used up (the service has no such limit), so `df -i` shows 0 used rather
        than a half-full table that would alarm a monitoring script."""
        block = 1 << 20
        total = 1 << 24  # 16 TiB in 1 MiB blocks
        inodes = 1 << 32
        return {
            "f_bsize": block,
            "f_frsize": block,
            "f_blocks": total,
            "f_bfree": total,
            "f_bavail": total,
            "f_files": inodes,
            "f_ffree": inodes,
            "f_favail": inodes,
            "f_namemax": 255,
        }

    @translated
    def getxattr(self, path: str, name: str, position: int = 0) -> bytes:
        if is_system_name(name):
            raise mfusepy.FuseOSError(errno.EOPNOTSUPP)
        if self._local_file(tree_path(path)) is not None:
            raise mfusepy.FuseOSError(mfusepy.ENOATTR)
        value = attribute_value(self._node(path), name)
        if value is None:
            raise mfusepy.FuseOSError(mfusepy.ENOATTR)
        return value

    @translated
    def listxattr(self, path: str) -> list[str]:
        if self._local_file(tree_path(path)) is not None:
            return []
        node = self._node(path)
        return [name for name in ATTRIBUTE_NAMES if attribute_value(node, name) is not None]

    # -------------------------------------------------------------- set by users

    @translated
    def chmod(self, path: str, mode: int) -> None:
        self._exists(path)
        self.settings.set(tree_path(path), mode=mode)

    @translated
    def chown(self, path: str, uid: int, gid: int) -> None:
        self._exists(path)
        unchanged = (1 << 32) - 1
        values = {k: v for k, v in (("uid", uid), ("gid", gid)) if v not in (-1, unchanged)}
        self.settings.set(tree_path(path), **values)

    @translated
    def utimens(self, path: str, times: tuple[int, int] | None = None) -> None:
        self._exists(path)
        now = time.time_ns()
        atime, mtime = times if times is not None else (now, now)
        values = {}
        for key, value in (("atime", atime), ("mtime", mtime)):
            if value != UTIME_OMIT:
                values[key] = now if value == UTIME_NOW else value
        self.settings.set(tree_path(path), **values)

    def _exists(self, path: str) -> None:
        if self._local_file(tree_path(path)) is None:
            self._node(path)

    # ------------------------------------------------------------------- handles

    def _add(self, handle: Handle) -> int:
        number = next(self._counter)
        with self._lock:
            self._handles[number] = handle
        return number

    def _handle(self, fi: Any) -> Handle:
        with self._lock:
            handle = self._handles.get(fi.fh)
        if handle is None:
            raise mfusepy.FuseOSError(errno.EBADF)
        return handle

    def _refuse_writes(self, target: str | None = None) -> None:
        """EROFS on a read-only mount; EIO at once, saying why, while the service is away
        (a write would only fail later, or wait in a queue nobody sees)."""
        if self.read_only:
            raise mfusepy.FuseOSError(errno.EROFS)
        if target is not None:
            self.session.refuse_while_away(target)

    @translated
    @recorded
    def open(self, path: str, fi: Any) -> int:
        target = tree_path(path)
        writing = fi.flags & os.O_ACCMODE != os.O_RDONLY
        truncate = bool(fi.flags & os.O_TRUNC)
        scratch = self.scratch.get(target)
        if scratch is not None:
            fi.fh = self._add(LocalHandle(target, scratch, truncate=truncate))
            return 0
        if writing:
            self._refuse_writes(target)
            try:
                staged = self.writes.staged(target, truncate=truncate, opener=calling_process())
            except PermissionError as exc:
                if not truncate and self._is_audio(target):
                    raise not_news(exc) from exc  # touch's probe: it sets the times instead
                raise
            fi.fh = self._add(staged)
            fi.direct_io = 1
            return 0
        node = self._node(path)
        if node.is_settled_audio:
            url, size = self.drive.audio_url(node), self.drive.size_of(node) or 0
            reader = self.audio.reader(node.recording_of().id, url, size)
            fi.fh = self._add(AudioHandle(target, reader))
            fi.keep_cache = 1  # finished audio never changes
            return 0
        with self._lock:
            fetched = self._fetched_by_stat.pop(target, None)
        listed = self.drive.size_of(node)
        content = fetched if fetched is not None else self.drive.content_of(node)
        fi.fh = self._add(ContentHandle(target, content))
        fi.direct_io = 1  # generated: never served stale by the kernel
        if listed != len(content):  # a sample or table known only now: fstat must see it
            forget_in_kernel(target, at_once=True)
        return 0

    def _is_audio(self, target: str) -> bool:
        try:
            return self.drive.lookup(target).is_audio
        except FileNotFoundError:
            return False

    @translated
    @recorded
    def create(self, path: str, mode: int, fi: Any) -> int:
        self._refuse_writes()
        target = tree_path(path)
        if fi.flags == LIBFUSE_MKNOD_FLAGS:  # mknod(2), which libfuse turns into a create
            self._make_file(target, mode)
            fi.fh = self._add(Handle())  # released by libfuse at once; the file is made
            return 0
        if is_local_name(posixpath.basename(target)):
            local = self._create_scratch(target, mode)
            fi.fh = self._add(LocalHandle(target, local, truncate=True, mode=stat.S_IMODE(mode)))
            return 0
        self._refuse_writes(target)
        staged = self.writes.staged(
            target, truncate=True, new=True, opener=calling_process(), mode=stat.S_IMODE(mode)
        )
        fi.fh = self._add(staged)
        fi.direct_io = 1
        return 0

    def _create_scratch(self, target: str, mode: int) -> Path:
        return self.session.create_scratch(target, stat.S_IMODE(mode))

    @translated
    @recorded
    def mknod(self, path: str, mode: int, dev: int) -> None:
        self._refuse_writes()
        if not stat.S_ISREG(mode):
            raise mfusepy.FuseOSError(errno.EPERM)  # no devices, pipes or sockets here
        self._make_file(tree_path(path), mode)

    def _make_file(self, target: str, mode: int) -> None:
        """A regular file made and closed at once (mknod): what a create and a close would
        do, its error returned to the caller (an empty take is refused, `X.star` stars)."""
        self._refuse_writes()
        if is_local_name(posixpath.basename(target)):
            self._create_scratch(target, mode)
            return
        self._refuse_writes(target)
        staged = self.writes.staged(
            target, truncate=True, new=True, opener=calling_process(), mode=stat.S_IMODE(mode)
        )
        try:  # the kernel learns of the file only if this succeeds: nothing to forget
            self._until_done_or_interrupted(target, staged.finish)
        finally:
            staged.release()

    @translated
    def read(self, path: str, size: int, offset: int, fi: Any) -> bytes:
        return self._handle(fi).read(size, offset)

    @translated
    def write(self, path: str, data: bytes, offset: int, fi: Any) -> int:
        return self._handle(fi).write(data, offset)

    @translated
    @recorded
    def truncate(self, path: str, length: int, fi: Any = None) -> None:
        if fi is not None:
            self._handle(fi).truncate(length)
            return
        target = tree_path(path)
        local = self._local_file(target)
        if local is not None:
            os.truncate(local, length)
            return
        node = self._node(path)
        if self.read_only or not (node.role is not None and self._writable(node)):
            raise mfusepy.FuseOSError(errno.EPERM)
        # A control file: the open that follows starts from what is left (truncate(2), or the
        # kernel's setattr before an open without O_TRUNC, as vim's save does).
        self.writes.truncated(target, length)

    @translated
    @recorded
    def flush(self, path: str, fi: Any) -> None:
        """A close(): it ends a staged write when its writer is done (`StagedWrite`)."""
        handle = self._handle(fi)
        if not isinstance(handle, StagedWrite):
            return
        caller = calling_process()
        try:
            self._until_done_or_interrupted(tree_path(path), lambda: handle.flush(caller))
        except InterruptedError:
            raise
        except OSError:
            if self.writes.refused(handle):  # a new file: it never came to be
                forget_in_kernel(path, at_once=True)  # before close() returns, not later
            raise

    def _until_done_or_interrupted(self, target: str, work: Callable[[], None]) -> None:
        """Runs work, returning EINTR at once if the caller is interrupted (Ctrl-C of a
        `cp` whose close() waits for the service). The work goes on to its end, bounded by
        `--timeout`; errors.log says if it then fails."""
        outcome: list[BaseException | None] = []
        finished = threading.Event()

        def run() -> None:
            try:
                work()
                outcome.append(None)
            except BaseException as exc:  # handed to the waiting caller
                outcome.append(exc)
            finally:
                finished.set()
                if abandoned.is_set() and outcome[0] is not None:
                    self._log_unseen(outcome[0])

        abandoned = threading.Event()
        threading.Thread(target=run, name=f"write {target}", daemon=True).start()
        while not finished.wait(INTERRUPT_POLL):
            if interrupted():
                abandoned.set()
                if not finished.is_set():
                    raise InterruptedError(
                        errno.EINTR,
                        f"{target}: interrupted; the request under way ends within "
                        "--timeout, and /.voicefs/errors.log says if it failed",
                    )
        if outcome[0] is not None:
            raise outcome[0]

    def _log_unseen(self, error: BaseException) -> None:
        if isinstance(error, OSError) and self.error_log is not None:
            self.error_log.record(error)
        elif not isinstance(error, OSError):
            log.error("a write failed", exc_info=error)

    @translated
    def fsync(self, path: str, datasync: int, fi: Any) -> None:
        self._handle(fi).sync()

    @translated
    def release(self, path: str, fi: Any) -> None:
        with self._lock:
            handle = self._handles.pop(fi.fh, None)
        if handle is not None:
            handle.release()

    # -------------------------------------------------------------- the tree itself

    @translated
    @recorded
    def mkdir(self, path: str, mode: int) -> None:
        self._refuse_writes()
        if is_trash_name(posixpath.basename(tree_path(path))):
            # `.Trash-1000` and the like: no trash here, so a file manager deletes for good
            raise mfusepy.FuseOSError(errno.EPERM)
        self._refuse_writes(tree_path(path))
        self.drive.make_directory(tree_path(path))

    @translated
    @recorded
    def rmdir(self, path: str) -> None:
        """Removes an empty project or folder. A sidecar comes and goes with its original:
        removing one with no conversions left does nothing, so `rm -r` of a folder works."""
        self._refuse_writes()
        node = self._node(path)
        if node.kind == NodeKind.SIDECAR:
            if any(child.is_audio for child in self.drive.directory(node).entries):
                raise mfusepy.FuseOSError(errno.ENOTEMPTY)
            return
        self._refuse_writes(tree_path(path))
        self.drive.remove_directory(tree_path(path))
        self.settings.forget(tree_path(path))

    @translated
    @recorded
    def unlink(self, path: str) -> None:
        self._refuse_writes()
        target = tree_path(path)
        if self.scratch.remove(target):
            self.settings.forget(target)
            return
        node = self._node(path)
        if node.role in ALWAYS_THERE:
            return  # recordings.csv, order.txt, folders.csv are made on read: `rm -r` passes them
        self._refuse_writes(target)
        self.drive.remove_file(target)
        self.settings.forget(target)

    @translated
    @recorded
    def rename(self, old: str, new: str, flags: int = 0) -> None:
        self._refuse_writes()
        if flags & RENAME_EXCHANGE:
            raise mfusepy.FuseOSError(errno.EINVAL)
        source, target = tree_path(old), tree_path(new)
        if flags & RENAME_NOREPLACE and self.session.present(target):
            raise mfusepy.FuseOSError(errno.EEXIST)
        local = self.scratch.get(source)
        if local is not None and is_local_name(posixpath.basename(target)):
            names.check_new_name(target, posixpath.basename(target))
            self.scratch.move(source, target)
        elif local is not None:  # a scratch file renamed onto a meaningful name: that write
            self._refuse_writes(target)
            self._until_done_or_interrupted(target, lambda: self.writes.send(target, local))
            self.scratch.remove(source)
        elif is_local_name(posixpath.basename(target)):
            raise mfusepy.FuseOSError(errno.EPERM)  # what is on the service stays there
        else:
            self._refuse_writes(source)
            self.drive.rename(source, target)
        self.settings.move(source, target)
