"""The file objects `VoiceFileSystem.open` returns.

- `AudioFile` reads a finished recording through fsspec's block caches; every block it
  fetches is one HTTP Range request (`_fetch_range`), so partial reads cost what they read.
- `StagedWrite` collects what is written in a temporary file on disk (never whole in memory)
  and hands it to an action when the file is closed; `close()` raises what the action raised.
- `VirtualFile` is the content of a generated file (status lines, manifests, templates).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsspec.spec import AbstractBufferedFile

if TYPE_CHECKING:
    from voicefs.filesystem import VoiceFileSystem

# Sequential audio reads: big enough that a player or decoder costs few requests, small
# enough that a seek near the start does not fetch the whole file (benchmarks/bench_fs.py).
DEFAULT_BLOCK_SIZE = 4 << 20


class AudioFile(AbstractBufferedFile):
    def __init__(self, fs: VoiceFileSystem, path: str, url: str, size: int, **kwargs: Any) -> None:
        self.url = url
        kwargs.setdefault("cache_type", "readahead")
        super().__init__(fs, path, mode="rb", size=size, **kwargs)

    def _fetch_range(self, start: int, end: int) -> bytes:
        fs: VoiceFileSystem = self.fs
        with fs.errors_at(self.path):
            return fs.client.download(self.url, start, end)


class StagedWrite(AbstractBufferedFile):
    """Written bytes go to a temporary file; on close, `commit(path_of_temp_file)` runs."""

    def __init__(
        self,
        fs: VoiceFileSystem,
        path: str,
        commit: Callable[[Path], None],
        block_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.commit = commit
        self._staged: tempfile._TemporaryFileWrapper[bytes] | None = None
        super().__init__(fs, path, mode="wb", block_size=block_size or (1 << 20), **kwargs)

    def _initiate_upload(self) -> None:
        # closed, committed and removed in _upload_chunk(final=True)
        self._staged = tempfile.NamedTemporaryFile(prefix="voicefs-", delete=False)  # noqa: SIM115

    def _upload_chunk(self, final: bool = False) -> bool:
        assert self._staged is not None
        self._staged.write(self.buffer.getbuffer())
        if final:
            self._staged.close()
            staged = Path(self._staged.name)
            try:
                self.commit(staged)
            finally:
                staged.unlink(missing_ok=True)
        return True


class VirtualFile(io.BytesIO):
    """Generated content, read-only; `name` is its path, as fsspec files have."""

    def __init__(self, path: str, content: bytes) -> None:
        super().__init__(content)
        self.name = path
        self.path = path
        self.size = len(content)

    def writable(self) -> bool:
        return False
