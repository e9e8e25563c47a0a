"""The naming rules of CONTRACT §2, as properties over generated listings."""

from __future__ import annotations

import errno
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from voicefs.tree import names
from voicefs.tree.errors import is_control, printable

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Rec:
    id: str
    type: str = "original"
    label: str | None = None
    file_name: str | None = None
    url: str | None = None
    model_name: str | None = None
    created_at: datetime | None = None


texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
)
extensions = st.sampled_from(names.AUDIO_EXTENSIONS)


@st.composite
def recordings(draw: st.DrawFn) -> Rec:
    number = draw(st.integers(min_value=0, max_value=10**6))
    kind = draw(st.sampled_from(["label", "file_name", "id", "voice"]))
    extension = draw(extensions)
    return Rec(
        id=str(uuid.UUID(int=draw(st.integers(min_value=0, max_value=2**128 - 1)))),
        type="converted" if kind == "voice" else "original",
        label=draw(texts) if kind == "label" else None,
        file_name=draw(texts) + extension if kind in ("file_name", "label") else None,
        url=f"/api/files/x{extension}",
        model_name=draw(st.sampled_from(["Alice", "Bob", "a/b", ".."]))
        if kind == "voice"
        else None,
        created_at=EPOCH + timedelta(seconds=number),
    )


listings = st.lists(recordings(), max_size=12, unique_by=lambda r: r.id)


def named(listing: list[Rec], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    return names.assign_names(
        [names.Named(names.base_name(r), r.id, r.created_at) for r in listing], reserved
    )


@given(texts)
def test_escape_round_trips_and_makes_a_path_component(name: str) -> None:
    shown = names.escape(name)
    assert "/" not in shown
    assert shown not in (".", "..", "")
    assert names.unescape(shown) == name


@given(texts, extensions)
def test_a_name_written_through_voicefs_comes_back_unchanged(stem: str, extension: str) -> None:
    written = names.escape(stem) + extension
    uploaded = Rec(id=str(uuid.uuid4()), file_name=written, url=f"/api/files/u{extension}")
    assert names.base_name(uploaded) == written


def test_label_gets_the_file_names_extension_once() -> None:
    assert names.base_name(Rec("1", label="Take", file_name="x.WAV")) == "Take.wav"
    assert names.base_name(Rec("1", label="Take.wav", file_name="x.wav")) == "Take.wav"
    assert names.base_name(Rec("1", label="a/b", file_name="x.mp3")) == "a／b.mp3"
    assert names.base_name(Rec("1", file_name="dir/take 2.flac")) == "take 2.flac"
    assert names.base_name(Rec("abc", url="/api/files/u/abc.ogg")) == "abc.ogg"
    assert names.base_name(Rec("abc")) == "abc.wav"
    assert names.base_name(Rec("2", type="converted", model_name="Alice", file_name="o-a.mp3")) == (
        "Alice.mp3"
    )


def test_first_created_keeps_a_contested_name() -> None:
    first = Rec("1a2b3c4d-0000-0000-0000-000000000001", label="take", created_at=EPOCH)
    later = Rec(
        "9f8e7d6c-0000-0000-0000-000000000002", label="take", created_at=EPOCH + timedelta(1)
    )
    assert named([later, first]) == {first.id: "take.wav", later.id: "take ~9f8e7d6c.wav"}
    reserved = Rec(
        "5555aaaa-0000-0000-0000-000000000003", label="recordings.csv", file_name="x.csv"
    )
    assert named([reserved], ("recordings.csv",)) == {reserved.id: "recordings ~5555aaaa.csv"}


@given(listings, st.sampled_from([(), ("recordings.csv",), ("order.txt", "recordings.csv")]))
def test_names_are_unique_and_avoid_reserved_names(
    listing: list[Rec], reserved: tuple[str, ...]
) -> None:
    assigned = named(listing, reserved)
    assert len(set(assigned.values())) == len(listing)
    assert not set(assigned.values()) & set(reserved)
    assert all("/" not in name and name not in (".", "..") for name in assigned.values())


@given(listings, st.randoms())
def test_names_do_not_depend_on_listing_order(listing: list[Rec], rng: object) -> None:
    shuffled = list(listing)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert named(shuffled) == named(listing)


@given(listings, recordings())
def test_an_unrelated_entry_changes_no_other_name(listing: list[Rec], newcomer: Rec) -> None:
    before = named(listing)
    if newcomer.id in before or names.base_name(newcomer) in {names.base_name(r) for r in listing}:
        return  # not unrelated
    after = named([*listing, newcomer])
    assert {k: v for k, v in after.items() if k != newcomer.id} == before
    without_first = named(listing[1:])
    if listing and names.base_name(listing[0]) not in {names.base_name(r) for r in listing[1:]}:
        assert without_first == {k: v for k, v in before.items() if k != listing[0].id}


def test_state_names() -> None:
    assert names.state_name("a.wav", "done") == "a.wav"
    assert names.state_name("a.wav", "processing") == "a.wav.processing"
    assert names.state_name("a.wav", "error") == "a.wav.error"


def test_directories_with_the_same_name() -> None:
    older = names.Named("Takes", "aaaaaaaa-1", EPOCH)
    newer = names.Named("Takes", "bbbbbbbb-2", EPOCH + timedelta(1))
    assigned = names.assign_names([newer, older], keep_extension=False)
    assert assigned == {"aaaaaaaa-1": "Takes", "bbbbbbbb-2": "Takes ~bbbbbbbb"}
    assert names.directory_name("", "id-1") == "id-1"
    assert names.directory_name("..", "id-1") == "．．"


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("take.wav", ("take", ".wav")),
        ("..wav", (".", ".wav")),
        ("...wav", ("..", ".wav")),
        ("..flac", (".", ".flac")),
        (".wav", (".wav", "")),  # a hidden file with no extension, as in posixpath
        ("a.b.wav", ("a.b", ".wav")),
        ("take", ("take", "")),
    ],
)
def test_split_extension_keeps_leading_dots_in_the_stem(name: str, split: tuple[str, str]) -> None:
    assert names.split_extension(name) == split


def test_names_of_dots_keep_their_extension() -> None:
    assert names.extension_of("..ogg") == ".ogg"
    assert names.with_id_suffix("..wav", "1a2b3c4d-9", keep_extension=True) == ". ~1a2b3c4d.wav"


@given(st.text(min_size=1, max_size=30), extensions)
def test_a_name_ending_in_an_audio_extension_has_it(stem: str, extension: str) -> None:
    assume(stem.strip("."))  # a stem of dots only is no different, but "" is a hidden file
    assert names.split_extension(stem.lstrip(".") + extension)[1] == extension
    assert names.split_extension("." * len(stem) + extension)[1] == extension


@pytest.mark.parametrize("name", ["x" * 255, "é" * 127 + "x", "😀" * 63 + "abc"])
def test_a_name_of_255_bytes_is_allowed(name: str) -> None:
    assert len(name.encode()) == 255
    names.check_new_name(f"P/{name}", name)


@pytest.mark.parametrize("name", ["x" * 256, "é" * 128, "😀" * 64])
def test_a_name_over_255_bytes_is_too_long(name: str) -> None:
    with pytest.raises(OSError) as caught:
        names.check_new_name(f"P/F/{name}", name)
    assert caught.value.errno == errno.ENAMETOOLONG
    assert f"P/F/{name}" in str(caught.value) and "255 bytes" in str(caught.value)


@given(
    st.text(max_size=5),
    st.characters(min_codepoint=0, max_codepoint=0x9F).filter(
        lambda c: ord(c) < 0x20 or ord(c) >= 0x7F
    ),
    st.text(max_size=5),
)
def test_a_control_character_is_refused_and_shown_escaped(
    before: str, control: str, after: str
) -> None:
    name = before + control + after
    with pytest.raises(ValueError) as caught:
        names.check_new_name(f"P/{name}", name)
    error = caught.value
    assert isinstance(error, OSError) and error.errno == errno.EINVAL
    assert printable(f"P/{name}") in str(error)
    assert not any(is_control(c) for c in str(error))


@given(st.text(alphabet=st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40))
def test_printable_names_pass(name: str) -> None:
    names.check_new_name(f"P/{name}", name)
