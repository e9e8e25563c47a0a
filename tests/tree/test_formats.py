"""The control files' text formats: order.txt, recordings.csv, voices.csv, .tts.txt, notes."""

from __future__ import annotations

import csv
import errno
import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from voicefs.api.records import (
    Accent,
    Calibration,
    ConversionRequest,
    NarrationStyle,
    Recording,
    Voice,
)
from voicefs.tree.formats import (
    AUTO,
    ManifestRow,
    NoteTooLongError,
    OrderError,
    OrderPlan,
    TTSRequest,
    TTSTextError,
    check_note,
    manifest_csv,
    order_line,
    order_template,
    parse_order,
    parse_tts,
)
from voicefs.tree.voice_formats import voices_csv

ALICE = Voice(
    id="v-alice",
    name="Alice",
    available=True,
    accents=(Accent("a-us", "American", is_default=True), Accent("a-gb", "British")),
    narration_styles=(
        NarrationStyle("s-neutral", "Neutral", is_default=True),
        NarrationStyle("s-warm", "Warm"),
    ),
)
OLD_TOM = Voice(id="v-tom", name="Old Tom", available=True)
CAROL = Voice(id="v-carol", name="Carol", available=False)
RETRY_VOICE = Voice(id="v-retry", name="retry", available=True)
VOICES = (ALICE, OLD_TOM, CAROL, RETRY_VOICE)
CALIBRATIONS = (
    Calibration(id="c-studio", name="Studio", state="done"),
    Calibration(id="c-broken", name="Broken", state="error"),
)
NAMES = {"Alice.wav": "r-alice", "Flaky.wav.error": "r-flaky", "My take.wav.error": "r-take"}


def order(text: str) -> OrderPlan:
    return parse_order(text, VOICES, CALIBRATIONS, NAMES)


def refused(text: str) -> OrderError:
    with pytest.raises(OrderError) as info:
        order(text)
    return info.value


# --- order.txt: what is accepted ---------------------------------------------------------


def test_a_full_line_resolves_names_to_ids() -> None:
    plan = order('Alice accent=British style=Warm semitones=-2 label="Take two"')
    assert plan.conversions == (ConversionRequest("v-alice", "a-gb", "s-warm", -2.0, "Take two"),)
    assert plan.calibration is None and plan.retries == ()
    assert not plan.is_empty


def test_names_match_ignoring_case_and_ids_match_too() -> None:
    plan = order("aLiCe ACCENT=british Style=s-warm\nv-alice accent=a-us\n'old tom'")
    assert plan.conversions == (
        ConversionRequest("v-alice", "a-gb", "s-warm"),
        ConversionRequest("v-alice", "a-us"),
        ConversionRequest("v-tom"),
    )


def test_comments_blank_lines_and_crlf_are_ignored() -> None:
    text = '# a comment\r\n\r\n  "Old Tom" label="a # b" # trailing\r\n\t# indented\r\n'
    plan = order(text)
    assert plan.conversions == (ConversionRequest("v-tom", label="a # b"),)


def test_a_hash_outside_quotes_starts_a_comment_even_inside_a_word() -> None:
    assert order("Alice#label=x").conversions == (ConversionRequest("v-alice"),)


def test_the_same_voice_twice_orders_two_conversions() -> None:
    assert len(order("Alice\nAlice label=second").conversions) == 2


@pytest.mark.parametrize(
    ("written", "value"),
    [("-2", -2.0), ("+1.5", 1.5), (".5", 0.5), ("3.", 3.0), ("1e1", 10.0), ("-0", 0.0)],
)
def test_semitones_are_numbers(written: str, value: float) -> None:
    (conversion,) = order(f"Alice semitones={written}").conversions
    assert conversion.semitones_correction == value


def test_a_label_of_exactly_40_characters_is_accepted() -> None:
    (conversion,) = order("Alice label=" + "x" * 40).conversions
    assert conversion.label == "x" * 40


def test_calibration_by_name_id_or_auto() -> None:
    assert order("calibration=studio\nAlice").calibration == "c-studio"
    assert order("Alice\ncalibration=c-studio").calibration == "c-studio"
    assert order("CALIBRATION=Auto\nAlice").calibration == AUTO


def test_retry_accepts_the_audio_name_or_the_error_name_and_asks_once() -> None:
    plan = order('retry Flaky.wav\nretry Flaky.wav.error\nretry "My take.wav"')
    assert plan.retries == ("r-flaky", "r-take")
    assert plan.conversions == () and not plan.is_empty


def test_retry_finds_a_conversion_listed_under_its_audio_name() -> None:
    assert order("retry Alice.wav.error").retries == ("r-alice",)


def test_a_keyword_counts_only_unquoted() -> None:
    """`retry` is the keyword; `"retry"` is the voice of that name."""
    plan = order('"retry" label=x\nretry Flaky.wav')
    assert plan.conversions == (ConversionRequest("v-retry", label="x"),)
    assert plan.retries == ("r-flaky",)


def test_nothing_written_is_an_empty_plan() -> None:
    assert order("").is_empty
    assert order("# only comments\n\n   \n").is_empty


# --- order.txt: what is refused ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line_number", "message", "token"),
    [
        (
            "Alise",
            1,
            "unknown voice 'Alise' (did you mean 'Alice'? voices: Alice, Old Tom,",
            "Alise",
        ),
        (
            "Alice\nAlice accent=French",
            2,
            "accent 'French' is not an accent of Alice (accents: American, British)",
            "French",
        ),
        ("Alice style=Shouty", 1, "style 'Shouty' is not a narration style of Alice", "Shouty"),
        ('"Old Tom" accent=x', 1, "accent 'x' is not an accent of Old Tom (accents: none)", "x"),
        ("\n\n\nAlice semitones=high", 4, "semitones must be a number, not 'high'", "high"),
        ("Alice semitones=nan", 1, "semitones must be a number, not 'nan'", "nan"),
        ("Alice semitones=inf", 1, "semitones must be a number", "inf"),
        ("Alice semitones=1_0", 1, "semitones must be a number", "1_0"),
        ("\n\n\n\nAlice pich=3", 5, "unknown option 'pich=3'", "pich=3"),
        ("Alice Warm", 1, "unknown option 'Warm'", "Warm"),
        ("Alice accent=British accent=American", 1, "accent given twice", "accent=American"),
        ("Alice label=", 1, "label= needs a value", "label="),
        ("Alice accent = British", 1, "write accent=<value> with no spaces", "accent"),
        ("Alice label=" + "x" * 41, 1, "label longer than 40 characters (41)", "x" * 41),
        ('Alice label="Take two', 1, "unbalanced quotes", None),
        ("Alice label=x\\", 1, "unbalanced quotes", None),
        (
            "Carol",
            1,
            "voice 'Carol' is not available to you (voices: Alice, Old Tom, retry)",
            "Carol",
        ),
        (
            "Old Tom label=x",
            1,
            "unknown voice 'Old': quote names with spaces, as in \"Old Tom\"",
            "Old",
        ),
        (
            "calibration=auto\nAlice\ncalibration=Studio",
            3,
            "calibration given twice (first on line 1)",
            "calibration=Studio",
        ),
        (
            "calibration=Nope\nAlice",
            1,
            "unknown calibration 'Nope' (calibrations: Studio, Broken)",
            "Nope",
        ),
        ("calibration=Broken\nAlice", 1, "calibration 'Broken' failed", "Broken"),
        ("calibration=\nAlice", 1, "calibration= needs a name, an id or auto", "calibration="),
        ("calibration=auto Alice", 1, "calibration= goes on a line of its own", "Alice"),
        ("Alice calibration=auto", 1, "calibration= goes on a line of its own", "calibration=auto"),
        (
            "calibration = auto\nAlice",
            1,
            "write calibration=<name|id|auto> with no spaces",
            "calibration",
        ),
        (
            "Alice\nretry x.wav",
            2,
            "retry: no conversion named 'x.wav' here (failed: Flaky.wav.error, My take.wav.error)",
            "x.wav",
        ),
        ("retry", 1, "write retry <conversion name>", None),
        ("retry My take.wav", 1, "write retry <conversion name>", None),
    ],
)
def test_a_bad_line_is_refused_naming_the_line(
    text: str, line_number: int, message: str, token: str | None
) -> None:
    error = refused(text)
    assert str(error).startswith(f"order.txt line {line_number}: {message}")
    assert error.line_number == line_number
    assert error.line == text.split("\n")[line_number - 1]
    assert error.token == token


def test_order_error_is_a_value_error_with_einval() -> None:
    error = refused("Nobody")
    assert isinstance(error, ValueError)
    assert error.errno == errno.EINVAL


def test_the_whole_write_is_refused_when_a_later_line_is_bad() -> None:
    """Good lines before a bad one are not returned: half an order is never placed."""
    error = refused('Alice\n"Old Tom"\nNobody')
    assert error.line_number == 3


def test_a_calibration_with_nothing_to_order_is_refused() -> None:
    error = refused("# just the calibration\ncalibration=auto\nretry Flaky.wav")
    assert error.line_number == 2
    assert "/.voicefs/calibration.txt" in str(error)


def test_an_ambiguous_name_asks_for_the_id() -> None:
    voices = [Voice("v1", "Sam", available=True), Voice("v2", "sam", available=True)]
    assert parse_order("Sam", voices, [], {}).conversions == (ConversionRequest("v1"),)
    assert parse_order("v2", voices, [], {}).conversions == (ConversionRequest("v2"),)
    with pytest.raises(OrderError, match=r"'SAM' names 2 voices; write an id \(v1, v2\)"):
        parse_order("SAM", voices, [], {})


def test_a_long_voice_list_is_cut_short_in_messages() -> None:
    voices = [Voice(f"v{n}", f"Voice{n:02}", available=True) for n in range(30)]
    with pytest.raises(OrderError) as info:
        parse_order("Zed", voices, [], {})
    assert "Voice09, …)" in str(info.value)
    assert "Voice10" not in str(info.value)


def test_unavailable_voices_are_not_offered_when_a_name_is_unknown() -> None:
    assert "Carol" not in str(refused("Nobody"))


# --- order.txt: the template ---------------------------------------------------------------


def test_the_template_lists_available_voices_with_defaults_marked() -> None:
    template = order_template("take.wav", VOICES)
    lines = template.splitlines()
    assert lines[0] == "# Order conversions of take.wav: write one line per conversion and save."
    alice = next(line for line in lines if line.startswith("#   Alice"))
    assert alice.split() == [
        "#",
        "Alice",
        "accents:",
        "American",
        "(default),",
        "British",
        "styles:",
        "Neutral",
        "(default),",
        "Warm",
    ]
    assert any(line.rstrip() == '#   "Old Tom"' for line in lines)
    assert any(line.rstrip() == '#   "retry"' for line in lines)  # quoted: bare it is a keyword
    assert "Carol" not in template
    assert all(line.startswith("#") for line in lines)


def test_the_template_written_back_orders_nothing() -> None:
    assert order(order_template("take.wav", VOICES)) == OrderPlan()


def test_the_templates_examples_work_when_uncommented() -> None:
    lines = order_template("take.wav", VOICES).splitlines()
    start = lines.index("# Examples (delete the leading '# ' to use one):") + 1
    examples = lines[start : lines.index("#", start)]
    plan = order("\n".join(line.removeprefix("# ") for line in examples))
    assert plan.conversions == (
        ConversionRequest("v-alice"),
        ConversionRequest("v-alice", accent_id="a-gb", semitones_correction=-2.0, label="Take two"),
    )
    assert plan.calibration == AUTO


def test_the_template_says_when_no_voice_is_available() -> None:
    template = order_template("take.wav", [CAROL])
    assert "# No voices are available to you.\n" in template
    assert order(template).is_empty


names = st.text(st.characters(blacklist_characters="\n"), min_size=1, max_size=30)
any_text = st.text(max_size=30)  # newlines included: a name must never break the template


@st.composite
def voice_lists(draw: st.DrawFn) -> list[Voice]:
    count = draw(st.integers(0, 4))
    return [
        Voice(
            id=f"v{n}",
            name=draw(any_text),
            available=draw(st.booleans()),
            accents=tuple(
                Accent(f"a{n}{k}", draw(any_text), is_default=k == 0)
                for k in range(draw(st.integers(0, 2)))
            ),
            narration_styles=tuple(
                NarrationStyle(f"s{n}{k}", draw(any_text)) for k in range(draw(st.integers(0, 2)))
            ),
        )
        for n in range(count)
    ]


@given(original=any_text, voices=voice_lists())
def test_any_template_written_back_is_an_empty_plan(original: str, voices: list[Voice]) -> None:
    assert parse_order(order_template(original, voices), voices, [], {}) == OrderPlan()


def test_a_line_is_rendered_as_a_person_would_write_it() -> None:
    line = order_line("Old Tom", accent="British", semitones=-2, label="Take two")
    assert line == '"Old Tom" accent=British semitones=-2 label="Take two"'
    assert order_line("Alice", semitones=1.5, style="s-1") == "Alice style=s-1 semitones=+1.5"


@example(voice="back\\slash\\", accent='say "hi"', style='\\"#', semitones=-0.0, label="'")
@given(
    voice=names,
    accent=names,
    style=names,
    semitones=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    label=st.none() | st.text(st.characters(blacklist_characters="\n"), min_size=1, max_size=40),
)
def test_a_rendered_line_parses_back_to_the_same_request(
    voice: str, accent: str, style: str, semitones: float | None, label: str | None
) -> None:
    """Any names (spaces, quotes, '#', backslashes, keywords) survive quoting and parsing;
    decoys with other ids make sure the right accent and style are picked."""
    ids = {"v-gen", "v-decoy", "decoy", "a-gen", "a-decoy", "s-gen", "s-decoy"}
    assume(not {voice.casefold(), accent.casefold(), style.casefold()} & ids)
    voices = [
        Voice("v-decoy", "Decoy", available=True),
        Voice(
            "v-gen",
            voice,
            available=True,
            accents=(Accent("a-decoy", "Decoy", is_default=True), Accent("a-gen", accent)),
            narration_styles=(NarrationStyle("s-decoy", "Decoy"), NarrationStyle("s-gen", style)),
        ),
    ]
    line = order_line(voice, accent=accent, style=style, semitones=semitones, label=label)
    plan = parse_order(line + "  # a comment", voices, [], {})
    assert plan.conversions == (ConversionRequest("v-gen", "a-gen", "s-gen", semitones, label),)


# --- recordings.csv and voices.csv ----------------------------------------------------------

CREATED = datetime(2024, 2, 28, 13, 21, 32, tzinfo=timezone(timedelta(hours=2)))


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_the_manifest_has_the_contracts_columns_and_plain_cells() -> None:
    data = manifest_csv(
        [
            ManifestRow(
                "Alice.wav",
                "r1",
                "conversion",
                "done",
                duration=12.5,
                size=2048,
                starred=True,
                note='said "hi", then\nleft',
                voice="Alice",
                label="Alice",
                created_at=CREATED,
                original="take.wav",
            ),
            ManifestRow("Flaky.wav.error", "r2", "conversion", "error", error="GPU on fire"),
        ]
    )
    header = data.split(b"\n", 1)[0].decode()
    assert header == (
        "name,id,type,state,duration,size,starred,note,voice,label,created_at,original,error"
    )
    assert b"\r" not in data and data.endswith(b"\n")
    first, second = read_csv(data)
    assert first["duration"] == "12.5" and first["size"] == "2048"
    assert first["starred"] == "true" and second["starred"] == "false"
    assert first["note"] == 'said "hi", then\nleft'
    assert first["created_at"] == "2024-02-28T11:21:32Z"  # converted to UTC
    assert first["original"] == "take.wav"
    assert second["duration"] == second["size"] == second["note"] == second["created_at"] == ""
    assert second["error"] == "GPU on fire"


def test_the_manifest_of_an_empty_directory_is_its_header() -> None:
    assert manifest_csv([]).count(b"\n") == 1


def test_a_naive_time_is_taken_as_utc_and_microseconds_are_kept() -> None:
    row = ManifestRow(
        "a.wav", "r", "original", "done", created_at=datetime(2024, 1, 2, 3, 4, 5, 600)
    )
    assert read_csv(manifest_csv([row]))[0]["created_at"] == "2024-01-02T03:04:05.000600Z"


def test_a_row_from_a_recording() -> None:
    recording = Recording.from_json(
        {
            "id": "r1",
            "project_id": "p",
            "type": "converted",
            "state": "done",
            "duration": 3.0,
            "size": 10,
            "starred": True,
            "model_name": "Alice",
            "label": None,
            "note": {"id": "n1", "text": "keep"},
            "created_at": "2024-02-28T11:21:32Z",
        }
    )
    row = ManifestRow.from_recording(recording, "Alice.wav", original="take.wav")
    assert row == ManifestRow(
        "Alice.wav",
        "r1",
        "conversion",
        "done",
        3.0,
        10,
        True,
        "keep",
        "Alice",
        None,
        datetime(2024, 2, 28, 11, 21, 32, tzinfo=timezone.utc),
        "take.wav",
        None,
    )
    original = Recording.from_json({"id": "r0", "project_id": "p", "type": "original"})
    assert ManifestRow.from_recording(original, "take.wav").type == "original"


cells = st.text(max_size=20)  # any text, "\r" and "\n" included


@given(st.lists(st.tuples(cells, cells, cells), max_size=5))
def test_any_text_survives_the_manifest(values: list[tuple[str, str, str]]) -> None:
    rows = [
        ManifestRow(name, "id", "original", "done", note=note, label=label or None)
        for name, note, label in values
    ]
    read = read_csv(manifest_csv(rows))
    assert [(r["name"], r["note"], r["label"]) for r in read] == [
        (name, note, label) for name, note, label in values
    ]


def test_pandas_reads_the_manifest_with_types() -> None:
    pd = pytest.importorskip("pandas", reason="pandas is not installed in this environment")
    data = manifest_csv(
        [
            ManifestRow(
                "a.wav",
                "r1",
                "original",
                "done",
                duration=1.5,
                size=3,
                starred=True,
                created_at=CREATED,
            ),
            ManifestRow(
                "b.wav",
                "r2",
                "original",
                "done",
                duration=2.0,
                size=4,
                starred=False,
                created_at=CREATED,
            ),
        ]
    )
    frame = pd.read_csv(io.BytesIO(data), parse_dates=["created_at"])
    assert list(frame["starred"]) == [True, False]
    assert list(frame["size"]) == [3, 4]
    assert str(frame["created_at"].dt.tz) == "UTC"


def test_voices_csv_has_one_row_per_voice_default_first() -> None:
    bob = Voice(
        "v-bob",
        "Bob",
        gender="male",
        age_group="adult",
        pitch=-1.5,
        available=True,
        favorite=True,
        accents=(
            Accent("x", "Irish", favorite=True, semitones_correction=-2.0),
            Accent("y", "Scottish", is_default=True, semitones_correction=1.5),
        ),
        narration_styles=(NarrationStyle("z", "Calm", is_default=True),),
    )
    data = voices_csv([bob, CAROL])
    assert data.split(b"\n", 1)[0] == (
        b"name,id,gender,age_group,pitch,available,favorite,accents,styles,"
        b"favorite_accent,favorite_style,semitones"
    )
    bob_row, carol_row = read_csv(data)
    assert bob_row == {
        "name": "Bob",
        "id": "v-bob",
        "gender": "male",
        "age_group": "adult",
        "pitch": "-1.5",
        "available": "true",
        "favorite": "true",
        "accents": "Scottish;Irish",
        "styles": "Calm",
        "favorite_accent": "Irish",
        "favorite_style": "",
        "semitones": "Irish:-2;Scottish:1.5",
    }
    assert carol_row["available"] == "false"
    assert carol_row["pitch"] == carol_row["accents"] == carol_row["gender"] == ""


# --- .tts.txt --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Hello there.\n", TTSRequest("Hello there.")),
        ("lang: uk\nДобрий день!\n", TTSRequest("Добрий день!", "uk")),
        ("LANG:pt-BR\r\n\r\n  Olá  \r\n", TTSRequest("Olá", "pt-BR")),
        ("  Lang : en  \nHi", TTSRequest("Hi", "en")),
        ("\ufefflang: en\nHi", TTSRequest("Hi", "en")),
        ("Hi\nlang: en", TTSRequest("Hi\nlang: en")),  # only the first line sets the language
        ("language: en\nHi", TTSRequest("language: en\nHi")),
    ],
)
def test_tts_text_and_language(written: str, expected: TTSRequest) -> None:
    assert parse_tts(written) == expected


@pytest.mark.parametrize("code", ["english", "e", "en US", "", "12", "en-"])
def test_a_bad_language_code_is_refused(code: str) -> None:
    with pytest.raises(TTSTextError, match="ISO 639"):
        parse_tts(f"lang: {code}\nHello")


@pytest.mark.parametrize(
    ("written", "length"), [("", 0), (" \n\t ", 0), ("lang: en\n\n", 0), ("x" * 1001, 1001)]
)
def test_tts_text_must_be_1_to_1000_characters(written: str, length: int) -> None:
    with pytest.raises(TTSTextError) as info:
        parse_tts(written)
    assert str(info.value) == (
        f"text-to-speech text must be 1 to 1000 characters; this one has {length}"
    )
    assert isinstance(info.value, ValueError) and info.value.errno == errno.EINVAL


def test_tts_text_of_exactly_1000_characters_is_accepted() -> None:
    assert parse_tts("\n" + "é" * 1000 + "\n").text == "é" * 1000


# --- notes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["Keep this take\n", "two lines\nof note\r\n", "blank line kept\n\n", "  spaces kept  ", "\n"],
)
def test_a_note_is_kept_as_written(written: str) -> None:
    """Its trailing newline too: `cat X.note.txt` ends its line, `diff` finds no change."""
    assert check_note(written) == written


def test_an_emptied_note_file_is_a_deleted_note() -> None:
    assert check_note("") == ""


def test_a_note_of_2000_characters_is_kept_and_its_newline_counts() -> None:
    assert check_note("n" * 2000) == "n" * 2000
    with pytest.raises(NoteTooLongError):
        check_note("n" * 2000 + "\n")


def test_a_longer_note_is_refused_not_cut() -> None:
    with pytest.raises(NoteTooLongError) as info:
        check_note("n" * 2001)
    assert str(info.value) == "a note can have at most 2000 characters; this one has 2001"
    assert isinstance(info.value, ValueError)
