"""The text formats of the control files (CONTRACT §3, §4): pure functions, no I/O, no paths.

The filesystem layer decodes what was written and calls these; what they return is what it
sends to the service. Everything is checked here first, so a bad write is refused with a
message naming its line before any request is made (EINVAL / ValueError, CONTRACT §7).
"""

from __future__ import annotations

import csv
import difflib
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timezone
from errno import EINVAL
from typing import Any, Protocol, TypeVar

from voicefs.api.limits import NAME_MAX as LABEL_MAX  # labels share the names' limit
from voicefs.api.limits import NOTE_MAX
from voicefs.api.limits import TTS_TEXT_MAX as TTS_MAX
from voicefs.api.records import Calibration, ConversionRequest, Recording, Voice
from voicefs.tree.names import ERROR_SUFFIX

AUTO = "auto"  # calibration=auto: the service picks the calibration
_OPTIONS = ("accent", "style", "semitones", "label")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# A keyword counts only unquoted at the start of a line, so `"retry"` can still be a voice.
_KEYWORD = re.compile(r"[ \t\r]*(?:retry(?=[ \t\r#]|$)|calibration=)", re.IGNORECASE)
_PLAIN = re.compile(r"[^\s\"'\\#]+")  # a token shlex reads back unchanged without quotes
_LANG_LINE = re.compile(r"[ \t]*lang[ \t]*:(.*)", re.IGNORECASE)
_LANG_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_LISTED = 10  # names shown in an error message before "…"
_OPTION_HELP = "options: accent=, style=, semitones=, label=; quote names with spaces"


class ControlTextError(ValueError):
    """Text written to a control or companion file is invalid. A ValueError for fsspec; the
    mount answers EINVAL (`errno`), as CONTRACT §7 asks for invalid control text."""

    errno = EINVAL


class OrderError(ControlTextError):
    """A line of order.txt (or settings.txt) is wrong; the whole write is refused and nothing
    is sent."""

    def __init__(
        self, reason: str, *, line_number: int, line: str, token: str | None = None, file: str
    ):
        super().__init__(f"{file} line {line_number}: {reason}")
        self.reason, self.line_number, self.line, self.token = reason, line_number, line, token


class TTSTextError(ControlTextError):
    """A `.tts.txt` is empty, too long for the service, or names a bad language."""


class NoteTooLongError(ControlTextError):
    """A note longer than the service allows: refused, never cut, so no text is lost."""


# --- order.txt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPlan:
    """What one write of order.txt asks for: new conversions, a calibration, retries."""

    conversions: tuple[ConversionRequest, ...] = ()
    calibration: str | None = None  # a calibration id, AUTO, or None (the account's default)
    retries: tuple[str, ...] = ()  # recording ids of conversions to order again

    @property
    def is_empty(self) -> bool:
        """True when the write asks for nothing (the template written back): place no order."""
        return not self.conversions and not self.retries


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def is_available(voice: Voice) -> bool:
    """Whether the voice can be ordered; a record without the field offers every voice."""
    return bool(getattr(voice, "available", True))


def _quote(token: str, *, force: bool = False) -> str:
    """`token` as order.txt must spell it: bare when it can be, else in double quotes."""
    if _PLAIN.fullmatch(token) and not force:
        return token
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote_voice(name: str) -> str:
    """A voice name; quoted when bare it would read as a keyword (a voice named `retry`)."""
    quoted = _quote(name)
    return _quote(name, force=True) if _KEYWORD.match(quoted) else quoted


def order_line(
    voice: str,
    *,
    accent: str | None = None,
    style: str | None = None,
    semitones: float | None = None,
    label: str | None = None,
) -> str:
    """One conversion as an order.txt line (for the template's examples and for scripts)."""
    given = option_tokens(accent=accent, style=style, semitones=semitones, label=label)
    return " ".join([_quote_voice(voice), *given])


def option_tokens(**values: str | float | None) -> list[str]:
    """`key=value` options as order.txt (and settings.txt) write them, quoted as needed."""
    shown = {k: _signed(v) if isinstance(v, float | int) else v for k, v in values.items()}
    return [f"{key}={_quote(value)}" for key, value in shown.items() if value is not None]


def _signed(number: float) -> str:
    return format(float(number), "+").removesuffix(".0")


def _with_default(items: Sequence[Any]) -> str:
    return ", ".join(i.name + (" (default)" if i.is_default else "") for i in items)


def order_template(original_name: str, voices: Sequence[Voice]) -> str:
    """What reading order.txt shows: the line format, examples that work when uncommented,
    and the voices one can order. Every line is a comment, so writing it back orders nothing."""
    usable = sorted((v for v in voices if is_available(v)), key=lambda v: not v.favorite)
    examples = ["Alice", 'Alice accent=British semitones=-2 label="Take two"']
    if usable:
        first = usable[0]
        other = next((a.name for a in first.accents if not a.is_default), None)
        examples = [
            order_line(first.name),
            order_line(first.name, accent=other, semitones=-2, label="Take two"),
        ]
    heading = "Voices you can order, your favorites first (default accent and style marked):"
    heading = heading if usable else "No voices are available to you."
    width = min(24, max((len(_quote_voice(v.name)) for v in usable), default=0))
    listing = []
    for voice in usable:
        entry = f"  {_quote_voice(voice.name):<{width}}"
        if voice.accents:
            entry += f"    accents: {_with_default(voice.accents)}"
        if voice.narration_styles:
            entry += f"    styles: {_with_default(voice.narration_styles)}"
        listing.append(entry)
    lines = [
        f"Order conversions of {original_name}: write one line per conversion and save.",
        "Everything saved at once is one order; a line with a mistake refuses the whole order.",
        "'#' starts a comment. Put names with spaces in quotes: \"Voice Name\".",
        "",
        "  <voice> [accent=<name|id>] [style=<narration style name|id>]"
        " [semitones=<number>] [label=<text>]",
        "  calibration=<name|id|auto>   optional, once: the calibration for this order",
        "  retry <conversion name>      orders a failed conversion (X.wav.error) again",
        "",
        "Examples (delete the leading '# ' to use one):",
        *examples,
        "calibration=auto",
        "",
        heading,
        *listing,
    ]
    return "".join(f"# {_one_line(line)}".rstrip() + "\n" for line in lines)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True)
class ControlLine:
    number: int
    text: str
    file: str = "order.txt"

    def error(self, reason: str, token: str | None = None) -> OrderError:
        return OrderError(
            reason, line_number=self.number, line=self.text, token=token, file=self.file
        )

    def tokens(self) -> list[str]:
        lexer = shlex.shlex(self.text, posix=True)  # '#' starts a comment outside quotes
        lexer.whitespace_split = True
        try:
            return list(lexer)
        except ValueError as exc:  # "No closing quotation", "No escaped character"
            raise self.error(f"unbalanced quotes ({str(exc).lower()})") from None


def _listing(names: Iterable[str]) -> str:
    shown = list(names)
    if not shown:
        return "none"
    return ", ".join(shown[:_LISTED]) + (", …" if len(shown) > _LISTED else "")


def _find(token: str, items: Sequence[N]) -> list[N]:
    """Items `token` names: by id, else by exact name, else by name ignoring case."""
    folded = token.casefold()
    found = [i for i in items if i.id.casefold() == folded]
    found = found or [i for i in items if i.name == token]
    return found or [i for i in items if i.name.casefold() == folded]


def pick_named(
    token: str,
    items: Sequence[N],
    line: ControlLine,
    missing: str,
    kind: str,
    shown: Sequence[N] | None = None,
) -> N:
    """The one item `token` names, else an error listing what it could be (`shown`, else all)."""
    found = _find(token, items)
    if len(found) == 1:
        return found[0]
    if found:
        ids = ", ".join(i.id for i in found)
        raise line.error(f"'{token}' names {len(found)} {kind}; write an id ({ids})", token)
    names = [i.name for i in (items if shown is None else shown)]
    close = difflib.get_close_matches(token, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise line.error(f"{missing} ({hint}{kind}: {_listing(names)})", token)


def _conversion(tokens: list[str], voices: Sequence[Voice], line: ControlLine) -> ConversionRequest:
    head = tokens[0]
    if not _find(head, voices):
        for end in range(len(tokens), 1, -1):  # `Old Tom accent=…` with the quotes forgotten
            joined = " ".join(tokens[:end])
            if _find(joined, voices):
                hint = f"quote names with spaces, as in {_quote(joined)}"
                raise line.error(f"unknown voice '{head}': {hint}", head)
    usable = [v for v in voices if is_available(v)]
    voice = pick_named(head, voices, line, f"unknown voice '{head}'", "voices", usable)
    if not is_available(voice):
        others = _listing(v.name for v in usable)
        raise line.error(f"voice '{voice.name}' is not available to you (voices: {others})", head)
    options = _options(tokens[1:], line)
    accent, style = voice_choices(voice, options, line)
    semitones = None
    if (value := options.get("semitones")) is not None:
        if not NUMBER.fullmatch(value):
            raise line.error(f"semitones must be a number, not '{value}'", value)
        semitones = float(value)
    label = options.get("label")
    if label is not None and len(label) > LABEL_MAX:
        raise line.error(f"label longer than {LABEL_MAX} characters ({len(label)})", label)
    return ConversionRequest(voice.id, accent, style, semitones, label)


def voice_choices(
    voice: Voice, options: Mapping[str, str], line: ControlLine
) -> tuple[str | None, str | None]:
    """The ids of the accent and narration style that `accent=` and `style=` name."""
    accent = style = None
    if (value := options.get("accent")) is not None:
        missing = f"accent '{value}' is not an accent of {voice.name}"
        accent = pick_named(value, voice.accents, line, missing, "accents").id
    if (value := options.get("style")) is not None:
        missing = f"style '{value}' is not a narration style of {voice.name}"
        style = pick_named(value, voice.narration_styles, line, missing, "styles").id
    return accent, style


def _options(tokens: list[str], line: ControlLine) -> dict[str, str]:
    """The `key=value` options after a voice."""
    for token in tokens:
        if token.casefold().startswith("calibration="):
            raise line.error("calibration= goes on a line of its own", token)
    return key_values(tokens, line, _OPTIONS, "option '{}' (" + _OPTION_HELP + ")")


def key_values(
    tokens: list[str], line: ControlLine, keys: Sequence[str], unknown: str
) -> dict[str, str]:
    """`key=value` tokens: known keys (case-insensitive), each once, each with a value;
    `unknown` words the error for another token (`{}` takes the token's text)."""
    options: dict[str, str] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        key = key.casefold()
        if key in keys and not equals:
            raise line.error(f"write {key}=<value> with no spaces around '='", token)
        if key not in keys:
            raise line.error(f"unknown {unknown.format(token)}", token)
        if key in options:
            raise line.error(f"{key} given twice", token)
        if not value:
            raise line.error(f"{key}= needs a value", token)
        options[key] = value
    return options


def _calibration(tokens: list[str], calibrations: Sequence[Calibration], line: ControlLine) -> str:
    if len(tokens) > 1:
        raise line.error("calibration= goes on a line of its own", tokens[1])
    value = tokens[0].partition("=")[2]
    if not value:
        raise line.error("calibration= needs a name, an id or auto", tokens[0])
    if value.casefold() == AUTO:
        return AUTO
    calibration = pick_named(
        value, calibrations, line, f"unknown calibration '{value}'", "calibrations"
    )
    if calibration.state == "error":
        raise line.error(f"calibration '{calibration.name}' failed; choose another", value)
    return calibration.id


def _retry(tokens: list[str], names: Mapping[str, str], line: ControlLine) -> str:
    if len(tokens) != 2:
        raise line.error("write retry <conversion name>: one name, quoted if it has spaces")
    name = tokens[1]
    for candidate in (name, name + ERROR_SUFFIX, name.removesuffix(ERROR_SUFFIX)):
        if candidate in names:
            return names[candidate]
    failed = _listing(n for n in names if n.endswith(ERROR_SUFFIX))
    raise line.error(f"retry: no conversion named '{name}' here (failed: {failed})", name)


def parse_order(
    text: str,
    voices: Sequence[Voice],
    calibrations: Sequence[Calibration],
    conversion_names: Mapping[str, str],
) -> OrderPlan:
    """Everything written to order.txt in one write, checked line by line: the first bad
    line raises OrderError and nothing is returned, so a mistake never orders half a list.

    `conversion_names` maps the sidecar's names (`X.wav` or `X.wav.error`) to recording ids;
    `retry` accepts either spelling. Retrying one conversion twice asks for it once.
    """
    conversions: list[ConversionRequest] = []
    retries: list[str] = []
    calibration: str | None = None
    calibration_line: ControlLine | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = ControlLine(number, raw.rstrip("\r"))
        tokens = line.tokens()
        if not tokens:
            continue
        keyword = _KEYWORD.match(line.text)
        if keyword and tokens[0].casefold() == "retry":
            retries.append(_retry(tokens, conversion_names, line))
        elif keyword:
            if calibration_line is not None:
                first = calibration_line.number
                raise line.error(f"calibration given twice (first on line {first})", tokens[0])
            calibration, calibration_line = _calibration(tokens, calibrations, line), line
        elif tokens[0].casefold() == "calibration" and not _find(tokens[0], voices):
            raise line.error("write calibration=<name|id|auto> with no spaces", tokens[0])
        else:
            conversions.append(_conversion(tokens, voices, line))
    if calibration_line is not None and not conversions:
        account = "the account's calibration is /.voicefs/calibration.txt"
        raise calibration_line.error(f"calibration= with no conversion to apply to ({account})")
    return OrderPlan(tuple(conversions), calibration, tuple(dict.fromkeys(retries)))


# --- recordings.csv, voices.csv -------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRow:
    """One row of recordings.csv; the fields are its columns, in order."""

    name: str
    id: str
    type: str  # "original" or "conversion" (the `kind` of fsspec's ls)
    state: str
    duration: float | None = None
    size: int | None = None
    starred: bool = False
    note: str | None = None
    voice: str | None = None
    label: str | None = None
    created_at: datetime | None = None
    original: str = ""  # the original's name, for a conversion
    error: str | None = None

    @classmethod
    def from_recording(cls, recording: Recording, name: str, original: str = "") -> ManifestRow:
        """The row of a recording shown as `name` (the caller names entries, CONTRACT §2)."""
        return cls(
            name=name,
            id=recording.id,
            type="original" if recording.is_original else "conversion",
            state=recording.state,
            duration=recording.duration,
            size=recording.size,
            starred=recording.starred,
            note=recording.note.text if recording.note else None,
            voice=recording.model_name,
            label=recording.label,
            created_at=recording.created_at,
            original=original,
            error=recording.error,
        )


def _cell(value: object) -> str:
    """A CSV cell pandas reads back as the right type: true/false, ISO 8601 UTC, empty=None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        utc = value.astimezone(timezone.utc) if value.tzinfo else value  # naive: already UTC
        return utc.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class _Records(list[str]):
    """Collects csv.writer's records (one `write` per row), each ended by "\\n"."""

    def write(self, record: str) -> None:
        self.append(record.removesuffix("\r\n") + "\n")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    # Written with "\r\n" because the csv module quotes only fields that hold a character of
    # its line terminator: with "\n" alone, a "\r" inside a note would split the row.
    records = _Records()
    writer = csv.writer(records, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return "".join(records).encode("utf-8")


def manifest_csv(rows: Iterable[ManifestRow]) -> bytes:
    """recordings.csv: a header and one row per entry, UTF-8, `\\n` line endings."""
    return csv_bytes([f.name for f in fields(ManifestRow)], (astuple(row) for row in rows))


# --- .tts.txt and notes ---------------------------------------------------------------------


@dataclass(frozen=True)
class TTSRequest:
    """A text-to-speech original to create: its text and, if given, its ISO 639 language."""

    text: str
    language: str | None = None


def parse_tts(text: str) -> TTSRequest:
    """A `.tts.txt`: an optional first line `lang: <code>`, then the text. The text is
    stripped of surrounding whitespace and must be 1–1000 characters (the service's limit)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")  # a BOM would hide `lang:`
    language = None
    first, _, rest = text.partition("\n")
    match = _LANG_LINE.fullmatch(first)
    if match:
        language = match.group(1).strip()
        if not _LANG_CODE.fullmatch(language):
            example = "like en, uk or pt-BR"
            raise TTSTextError(f"lang: '{language}' is not an ISO 639 language code ({example})")
        text = rest
    body = text.strip()
    if not 1 <= len(body) <= TTS_MAX:
        limit = f"text-to-speech text must be 1 to {TTS_MAX} characters"
        raise TTSTextError(f"{limit}; this one has {len(body)}")
    return TTSRequest(body, language)


def check_note(text: str) -> str:
    """The note to store for what was written to `X.note.txt`: the text as written, its
    trailing newline too (so `cat` and `diff` show what was written, and the newline counts
    toward the limit, as the service counts it). "" means delete the note (an emptied file
    is a deleted note)."""
    if len(text) > NOTE_MAX:
        limit = f"a note can have at most {NOTE_MAX} characters"
        raise NoteTooLongError(f"{limit}; this one has {len(text)}")
    return text
