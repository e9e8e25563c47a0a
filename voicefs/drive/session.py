"""`DriveSession`: the drive's machinery for the life of one front-end (a mount, a WebDAV
server), made once the process is ready for threads and HTTP pools (after a mount's fork).

Both front-ends keep their files the same way under the cache directory
(docs/architecture.md): finished audio in the audio cache, uploads journaled until the service
has them, writes staged, scratch files that are never sent; and both run the same upkeep.
"""

from __future__ import annotations

import errno
import os
import posixpath
import uuid
from collections.abc import Callable
from pathlib import Path

from voicefs.api.errors import ServiceUnavailableError
from voicefs.drive.audio_cache import AudioCache
from voicefs.drive.door import Drive
from voicefs.drive.journal import Journal
from voicefs.drive.scratch import ScratchFiles
from voicefs.drive.settings import UserSettings
from voicefs.drive.upkeep import Upkeep
from voicefs.drive.writes import Writes
from voicefs.tree import names
from voicefs.tree.local_names import is_local_name


class DriveSession:
    def __init__(
        self,
        drive: Drive,
        cache_dir: Path,
        cache_size: int,
        *,
        settings: UserSettings | None = None,
        forget_in_front: Callable[[str], None] = lambda path: None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """`forget_in_front` is told of every path whose listing the front-end may have kept
        (the kernel's, for the mount), once a write changed it."""
        self.drive = drive
        self.settings = settings if settings is not None else UserSettings()
        self.settings.keep_in(drive.store)
        self.audio = AudioCache(
            cache_dir / "audio",
            cache_size,
            drive.downloader,
            on_uncached=lambda key, error: drive.errors.record(error),
        )
        drive.show_cache_space(self.audio.space)
        session = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.scratch = ScratchFiles(cache_dir / "scratch" / session)
        journal = Journal(cache_dir / "journal" / drive.account_digest())
        self.writes = Writes(
            drive,
            cache_dir / "staging" / session,
            journal,
            self.settings,
            forget_in_front,
            on_sent=lambda path: self.upkeep.soon(),  # a conversion ordered shows soon
        )
        drive.show_pending_uploads(journal.paths)
        self.upkeep = Upkeep(drive, self.writes, on_ready=on_ready)

    def start(self) -> None:
        """Starts the upkeep: the ready action, a dead front-end's journal, then its rounds."""
        self.upkeep.start()

    def close(self) -> None:
        """Stops the upkeep, drops the scratch files and closes the store; the caller
        finishes its open files first."""
        self.upkeep.stop()
        self.audio.close()
        self.scratch.clear()
        self.drive.close()

    def local_file(self, path: str) -> Path | None:
        """The local file standing at path: a write being staged, or a scratch file."""
        return self.writes.pending(path) or self.scratch.get(path)

    def present(self, path: str) -> bool:
        """Whether anything stands at path, local or on the service."""
        if self.local_file(path) is not None:
            return True
        try:
            self.drive.lookup(path)
        except FileNotFoundError:
            return False
        return True

    def refuse_while_away(self, target: str) -> None:
        """EIO at once, saying why, while the service is away: a write would only fail
        later, or wait in a queue nobody sees."""
        state = self.drive.health.state
        if not state.usable:
            raise ServiceUnavailableError(
                errno.EIO, f"{target}: not written: the service is {state.describe()}"
            )

    def create_scratch(self, target: str, mode: int = 0o644) -> Path:
        """A new scratch file at target, whose directory must exist."""
        names.check_new_name(target, posixpath.basename(target))
        self.drive.lookup(posixpath.dirname(target))
        return self.scratch.create(target, mode)

    @staticmethod
    def is_scratch_name(path: str) -> bool:
        return is_local_name(posixpath.basename(path))
