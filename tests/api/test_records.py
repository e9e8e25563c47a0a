"""Records parse the service's JSON leniently: unknown fields ignored, optional ones defaulted."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from voicefs.api.records import (
    Calibration,
    ConversionRequest,
    Folder,
    Order,
    Project,
    Recording,
    Voice,
    parse_time,
)

VOICE = {
    "id": "v1",
    "owner_id": "o1",
    "name": "Alice",
    "slug": "alice",
    "visibility": "public",
    "rating": 80,
    "active": True,
    "created_at": "2024-02-28T11:21:32.401Z",
    "accents": [
        {
            "id": "a1",
            "is_default": True,
            "native": True,
            "info": {"name": "American", "short_name": "US", "locale": "en-US"},
            "tiers": [{"name": "basic"}],
            "available": True,
            "settings": {"favorite": True, "semitones_correction": 2},
        }
    ],
    "narration_styles": [{"id": "s1", "is_default": True, "info": {"name": "Warm"}}],
    "tiers": [{"name": "basic"}],
    "brand_new_field": {"nested": 1},
}


def test_voice_with_accents_and_styles() -> None:
    voice = Voice.from_json(VOICE)
    assert voice.name == "Alice"
    assert voice.accents[0].name == "American"
    assert voice.accents[0].locale == "en-US"
    assert voice.accents[0].favorite is True
    assert voice.accents[0].semitones_correction == 2.0
    assert voice.narration_styles[0].name == "Warm"
    assert voice.narration_styles[0].favorite is False  # settings missing: default
    assert voice.tiers == ("basic",)
    assert voice.created_at == datetime(2024, 2, 28, 11, 21, 32, 401000, tzinfo=timezone.utc)
    assert voice.raw["brand_new_field"] == {"nested": 1}


def test_recording_minimal_and_full() -> None:
    minimal = Recording.from_json({"id": "r1", "project_id": "p1"})
    assert minimal.type == "original" and minimal.state == "done"
    assert minimal.note is None and minimal.size is None and minimal.starred is False
    full = Recording.from_json(
        {
            "id": "r2",
            "project_id": "p1",
            "type": "converted",
            "state": "processing",
            "duration": 1.5,
            "size": 1234,
            "starred": True,
            "note": {"id": "n1", "text": "hello", "active": True},
            "params": [],
            "unknown": "ignored",
            "created_at": "2023-10-08T16:12:55.753+00:00",
        }
    )
    assert full.note is not None and full.note.text == "hello" and full.note.recording_id == "r2"
    assert not full.is_original and not full.is_done
    assert full.duration == 1.5 and full.size == 1234


def test_null_optionals_and_wrong_types_default() -> None:
    rec = Recording.from_json({"id": "r", "project_id": "p", "size": None, "duration": "x"})
    assert rec.size is None and rec.duration == 0.0
    project = Project.from_json({"id": "p", "name": "n", "created_at": "not a date"})
    assert project.created_at is None


def test_required_id_missing_raises() -> None:
    with pytest.raises(KeyError):
        Folder.from_json({"name": "x"})


def test_other_records() -> None:
    cal = Calibration.from_json({"id": "c", "name": "mine", "state": "calibrated", "f0": 120})
    assert cal.f0 == 120.0 and cal.enabled is False
    order = Order.from_json({"id": "o", "conversion_id": "c", "original_id": "r", "state": "new"})
    assert order.conversion_id == "c"
    assert parse_time("2024-01-01T00:00:00") == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_records_are_hashable_values() -> None:
    a = Recording.from_json({"id": "r", "project_id": "p", "note": {"id": "n", "text": "t"}})
    b = Recording.from_json({"id": "r", "project_id": "p", "note": {"id": "n", "text": "t"}})
    assert a == b and hash(a) == hash(b)


def test_conversion_request_json_omits_unset() -> None:
    body = ConversionRequest("v", accent_id="a", semitones_correction=0).to_json()
    assert body == {"voice_id": "v", "accent_id": "a", "semitones_correction": 0}
