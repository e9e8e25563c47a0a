"""Writes of meaningful names through the mount: staged on local disk, sent when the writer
is done with the file (`StagedWrite` says when; the writer's `close()` returns the service's
answer), uploads journaled first so that a crash loses nothing, and the journal of a mount
that died finished exactly once."""

from __future__ import annotations

import errno
import posixpath
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from voicefs.drive import Drive, Writer
from voicefs.drive.handles import Handle, StagedWrite
from voicefs.drive.journal import Journal
from voicefs.drive.settings import UserSettings
from voicefs.files import staging_errors
from voicefs.private import private_directory
from voicefs.tree import names
from voicefs.tree.nodes import NodeKind

JOURNAL_GRACE = 10.0  # seconds after which an upload the service received has been stored


class Writes:
    def __init__(
        self,
        drive: Drive,
        staging: Path,
        journal: Journal,
        settings: UserSettings,
        forget_in_kernel: Callable[[str], None] = lambda path: None,
        on_sent: Callable[[str], None] = lambda path: None,
    ) -> None:
        """`on_sent` is told of every write the service took (an order, an upload): what it
        makes may show soon."""
        self.drive = drive
        self._forget_in_kernel = forget_in_kernel
        self._on_sent = on_sent
        self.staging = staging
        private_directory(self.staging)
        self.journal = journal
        self.settings = settings
        self._pending: dict[str, StagedWrite] = {}  # new files being written, by tree path
        self._truncated: dict[str, int] = {}  # control files truncated by path, until opened
        self._lock = threading.Lock()

    def staged(
        self, target: str, *, truncate: bool, opener: int, new: bool = False, mode: int = 0o644
    ) -> StagedWrite:
        """A staged write of target by process `opener`; refused at once (EPERM) where writing
        means nothing. A new or truncated file counts as written once it is closed (`touch
        X.star` stars; an empty new take is refused at its release)."""
        writer = self.drive.writer(target)

        def commit(staged: Path) -> None:
            self.send(target, staged, writer)
            # What the writer saw stays true: the time of its write, not an older service time
            # (vim refuses to save over a file "changed since reading").
            if "mtime" not in self.settings.get(target):
                written = staged.stat().st_mtime_ns
                self.settings.set(target, mtime=written, atime=written)

        local = self.staging / uuid.uuid4().hex
        with self._lock:
            kept = self._truncated.pop(target, None)
        if not truncate:  # an edit in place: start from what the file shows
            content = self._current_content(target)
            self._stage_copy(target, local, content if kept is None else content[:kept])
        handle = StagedWrite(
            target,
            local,
            commit,
            truncate=truncate,
            mode=mode,
            created=truncate or new,
            opener=opener,
            content_matters=writer.content_matters,
            sends_once=self.is_upload(target),
            on_release=self._released,
        )
        if new:
            with self._lock:
                self._pending[target] = handle
        return handle

    @staticmethod
    def _stage_copy(target: str, local: Path, content: bytes) -> None:
        try:
            with staging_errors(target, local.parent):
                local.write_bytes(content)
        except OSError:
            local.unlink(missing_ok=True)
            raise

    def pending(self, target: str) -> Path | None:
        """The staged file of a new file still being written (it has no node yet)."""
        with self._lock:
            handle = self._pending.get(target)
        return None if handle is None else handle.local

    def refused(self, handle: Handle) -> bool:
        """A new file whose write the service refused stops standing at its path now, not at
        the release that comes later: a `stat` right after `close()` must not find it."""
        with self._lock:
            if self._pending.get(handle.path) is not handle:
                return False
            del self._pending[handle.path]
            return True

    def truncated(self, target: str, length: int) -> None:
        """truncate(2) of a control file by path: the next open starts from what is left
        (the kernel's setattr before an open without O_TRUNC, as some editors save)."""
        with self._lock:
            self._truncated[target] = length

    def send(self, target: str, staged: Path, writer: Writer | None = None) -> None:
        """Runs the write; an upload is journaled first, so a crash does not lose it."""
        writer = writer or self.drive.writer(target)
        if not self.is_upload(target):
            writer(staged)
        else:
            with self.journal.recorded(target, staged) as journaled:
                writer(journaled)
        self._on_sent(target)

    def is_upload(self, target: str) -> bool:
        """Whether writing target uploads an original: audio named in a folder."""
        if posixpath.splitext(target)[1].lower() not in names.AUDIO_EXTENSIONS:
            return False
        try:
            return self.drive.lookup(posixpath.dirname(target)).kind == NodeKind.FOLDER
        except FileNotFoundError:
            return False

    def finish_journal(self) -> None:
        """Completes the uploads a mount that died left in the journal, each at most once:
        the folder is listed afresh and an upload already there is not sent again."""
        for entry, data in self.journal.claim_unfinished():
            try:
                if not self._uploaded(entry.path, entry.size):
                    # The dead mount's request may still be in the service's hands: look
                    # again once that cannot be so any more, before sending it ourselves.
                    time.sleep(max(0.0, entry.started + JOURNAL_GRACE - time.time()))
                if not self._uploaded(entry.path, entry.size):
                    self.drive.writer(entry.path)(data)
            except OSError as exc:
                self.drive.errors.record(exc)
                if exc.errno == errno.EIO:  # the service is away: a later mount tries again
                    self.journal.release(entry)
                    continue
            self.journal.finished(entry)

    def _uploaded(self, target: str, size: int) -> bool:
        """Whether the service has target already, as it says now (never as remembered: a
        wrong "no" would upload it twice)."""
        self.drive.forget_listings(posixpath.dirname(target))
        try:
            with self.drive.fresh_only():
                node = self.drive.lookup(target)
        except FileNotFoundError:
            return False
        if node.audio is None or node.audio.size not in (None, size):
            raise FileExistsError(
                errno.EEXIST,
                f"{target}: an upload interrupted by a crash was not completed: the name is "
                "taken by another recording",
            )
        return True

    def _current_content(self, target: str) -> bytes:
        try:
            node = self.drive.lookup(target)
        except FileNotFoundError:
            return b""
        return b"" if node.is_audio else self.drive.content_of(node)

    def _released(self, handle: StagedWrite) -> None:
        still_new = self.refused(handle)  # a new file still standing at its path goes now
        handle.local.unlink(missing_ok=True)
        if handle.unseen_error is not None:  # sent at the release: no close() returned it
            self.drive.errors.record(handle.unseen_error)
        if still_new and not handle.sent:  # never sent: the name the kernel saw created is gone
            self._forget_in_kernel(handle.path)
