"""How the service's objects are named in the tree (CONTRACT §2): a pure function of a listing.

The same listing always gives the same names; an entry keeps its name when unrelated entries
come and go; within one directory every name is unique. Writes map names back with
`unescape` (labels, project and folder names) so that names round-trip.
"""

from __future__ import annotations

import errno
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from voicefs.api.errors import InvalidRequestError, NameTooLongError
from voicefs.api.records import RecordingState, RecordingType
from voicefs.tree.errors import is_control, printable, shown

AUDIO_EXTENSIONS = (".wav", ".ogg", ".mp3", ".flac")
DEFAULT_EXTENSION = ".wav"
SLASH = "\uff0f"  # FULLWIDTH SOLIDUS: how "/" inside a name is shown
DOT = "\uff0e"  # FULLWIDTH FULL STOP: a name that is exactly "." or ".." is shown with these
PROCESSING_SUFFIX = ".processing"
ERROR_SUFFIX = ".error"
SIDECAR_SUFFIX = ".conversions"
STAR_SUFFIX = ".star"
NOTE_SUFFIX = ".note.txt"
TTS_SUFFIX = ".tts.txt"
NAME_MAX_BYTES = 255  # a path component, in UTF-8: what the mount's statfs reports as namelen

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def escape(name: str) -> str:
    """A service name as a path component: no "/" and never "." or ".."."""
    if name in (".", ".."):
        return DOT * len(name)
    return name.replace("/", SLASH)


def unescape(component: str) -> str:
    """The service name a path component stands for (the inverse of `escape`)."""
    if component in (DOT, DOT * 2):
        return "." * len(component)
    return component.replace(SLASH, "/")


def split_extension(name: str) -> tuple[str, str]:
    """`take.wav` -> ("take", ".wav"): a name's stem and extension (from its last dot).

    Unlike `posixpath.splitext`, leading dots belong to the stem, so `..wav` is (".", ".wav")
    and `...wav` is ("..", ".wav"): names that end in `.wav` are WAV names. A name with
    nothing before its only dot (`.wav`, a hidden file) has no extension, as in splitext.
    """
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def check_new_name(path: str, component: str) -> None:
    """Refuses, before anything is sent, a name the drive would create (a project, folder,
    upload, companion or new label) that no file system could hold or show safely:
    over `NAME_MAX_BYTES` bytes of UTF-8 (ENAMETOOLONG) or with a control character,
    U+0000-U+001F, U+007F or U+0080-U+009F (EINVAL, a ValueError). `path` is what the
    message names, `component` the new name in it."""
    size = len(component.encode("utf-8", "surrogatepass"))
    if size > NAME_MAX_BYTES:
        detail = f"a name is at most {NAME_MAX_BYTES} bytes (UTF-8), this one has {size}"
        raise NameTooLongError(
            errno.ENAMETOOLONG, f"{shown(path)}: File name too long: {detail}", detail=detail
        )
    control = next((c for c in component if is_control(c)), None)
    if control is not None:
        detail = f"names cannot hold control characters, this one has {printable(control)}"
        raise InvalidRequestError(errno.EINVAL, f"{shown(path)}: {detail}", detail=detail)


def extension_of(file_name: str | None, url: str | None = None) -> str:
    """The lower-case extension of the file name, else of the URL's path, else ".wav"."""
    for candidate in (file_name, (url or "").split("?", 1)[0]):
        if candidate:
            extension = split_extension(posixpath.basename(candidate))[1].lower()
            if extension and extension != ".":
                return extension
    return DEFAULT_EXTENSION


class Nameable(Protocol):
    """What naming needs to know of a recording (voicefs.api.Recording has it)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def label(self) -> str | None: ...
    @property
    def file_name(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def model_name(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...


def base_name(recording: Nameable) -> str:
    """The audio name before de-duplication: label, else file name, else id (CONTRACT §2)."""
    extension = extension_of(recording.file_name, recording.url)
    label = recording.label
    if not label and recording.type != RecordingType.ORIGINAL and recording.model_name:
        label = recording.model_name  # a conversion without a label is named after its voice
    if label:
        return escape(label if label.lower().endswith(extension) else label + extension)
    if recording.file_name:
        file_name = posixpath.basename(recording.file_name)
        if file_name:
            return escape(file_name)
    return escape(recording.id + extension)


def with_id_suffix(name: str, entry_id: str, *, keep_extension: bool, digits: int = 8) -> str:
    """`take.wav` -> `take ~1a2b3c4d.wav`: the name of a later entry that would collide."""
    tag = entry_id.replace("-", "")[:digits]
    stem, extension = split_extension(name) if keep_extension else (name, "")
    if not stem:  # ".wav" alone: the extension is the whole name
        stem, extension = name, ""
    return f"{stem} ~{tag}{extension}"


@dataclass(frozen=True)
class Named:
    """Something to name in one directory: its preferred name, id and creation time."""

    name: str
    id: str
    created_at: datetime | None


def assign_names(
    entries: Iterable[Named], reserved: Sequence[str] = (), *, keep_extension: bool = True
) -> dict[str, str]:
    """Unique names for one directory: {entry id: name}.

    The entry created first keeps a contested name; each other gets ` ~<id8>` before its
    extension (longer id prefixes in the unlikely case that collides too). Reserved names
    (the directory's virtual files) are taken before any entry.
    """
    ordered = sorted(entries, key=lambda e: (e.created_at or _EPOCH, e.id))
    taken = set(reserved)
    names: dict[str, str] = {}
    for entry in ordered:
        name = entry.name
        if name in taken:
            name = _free_variant(entry, taken, keep_extension)
        taken.add(name)
        names[entry.id] = name
    return names


def _free_variant(entry: Named, taken: set[str], keep_extension: bool) -> str:
    for digits in (8, 32):
        name = with_id_suffix(entry.name, entry.id, keep_extension=keep_extension, digits=digits)
        if name not in taken:
            return name
    number = 2
    while f"{name} {number}" in taken:
        number += 1
    return f"{name} {number}"


def state_name(audio_name: str, state: str) -> str:
    """What a recording shows as: its audio name when done, else `<name>.processing|.error`."""
    if state == RecordingState.DONE:
        return audio_name
    if state == RecordingState.ERROR:
        return audio_name + ERROR_SUFFIX
    return audio_name + PROCESSING_SUFFIX


def directory_name(name: str, entry_id: str) -> str:
    """A project or folder directory's preferred name (its escaped name, else its id)."""
    return escape(name) if name else entry_id
