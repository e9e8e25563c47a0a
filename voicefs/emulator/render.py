"""Store rows and catalogue entries rendered as the service's JSON response bodies.

Optional fields that have no value are left out, as the service's schemas declare them
optional and not nullable.
"""

from __future__ import annotations

import json
from typing import Any

from voicefs.emulator.catalog import CATALOG_CREATED_AT, CATALOG_OWNER_ID, TTSVoice, Voice


def compact(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def page(items: list[dict[str, Any]], count: int, limit: int, offset: int) -> dict[str, Any]:
    return {"list": items, "pagination": {"count": count, "limit": limit, "offset": offset}}


def file_url(key: str | None) -> str | None:
    return f"/api/files/{key}" if key else None


def user(row: dict[str, Any], calibration_f0: float | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rate_limits": {
            "fast": {"times": 500, "seconds": 300},
            "slow": {"times": 100, "seconds": 300},
        },
        "permissions": {"download": True, "can_read": True, "can_write": True},
    }
    if row["calibration_id"]:
        data["calibration"] = {"calibration_id": row["calibration_id"], "f0": calibration_f0 or 0}
    return {
        "id": row["id"],
        "email": row["email"],
        "verified": True,
        "username": row["username"],
        "roles": ["user"],
        "groups": [],
        "data": data,
    }


def project(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "slug": row["slug"],
        "owner": row["owner"],
        "url": row["url"],
        "models": json.loads(row["models"]),
        "id": row["id"],
        "active": True,
        "created_at": row["created_at"],
        "last_recording_at": row["last_recording_at"],
    }


def folder(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "project_id": row["project_id"],
        "id": row["id"],
        "active": True,
        "created_at": row["created_at"],
    }


def note(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "recording_id": row["recording_id"],
        "text": row["text"],
        "id": row["id"],
        "active": True,
    }


def recording(row: dict[str, Any], note_row: dict[str, Any] | None = None) -> dict[str, Any]:
    return compact(
        {
            "id": row["id"],
            "project_id": row["project_id"],
            "parent_folder_id": row["folder_id"],
            "type": row["type"],
            "url": file_url(row["file_key"]) if row["state"] == "done" else None,
            "file_name": row["file_name"],
            "label": row["label"],
            "state": row["state"],
            "original_id": row["original_id"],
            "model_id": row["model_id"],
            "model_name": row["model_name"],
            "calibration_id": row["calibration_id"],
            "calibration_value": row["calibration_value"],
            "calibration_name": row["calibration_name"],
            "microphone": row["microphone"],
            "size": row["size"],
            "duration": row["duration"],
            "starred": bool(row["starred"]),
            "tts": bool(row["tts"]),
            "tts_voice": row["tts_voice"],
            "tts_voice_id": row["tts_voice_id"],
            "text": row["text"],
            "params": json.loads(row["params"]),
            "error": row["error"],
            "active": True,
            "created_at": row["created_at"],
            "converted_at": row["converted_at"],
            "listen_count": row["listen_count"],
            "process_stage": row["process_stage"],
            "note": (
                {"id": note_row["id"], "text": note_row["text"], "active": True}
                if note_row
                else None
            ),
        }
    )


def calibration(row: dict[str, Any], enabled: bool) -> dict[str, Any]:
    return compact(
        {
            "id": row["id"],
            "name": row["name"],
            "user_id": row["user_id"],
            "f0": row["f0"],
            "algorithm": "autocorrelation",
            "bucket": "emulator",
            "key": f"files/{row['file_key']}",  # its audio is GET /api/{key}
            "state": row["state"],
            "error": row["error"],
            "created_at": row["created_at"],
            "calibrated_at": row["calibrated_at"],
            "enabled": enabled,
        }
    )


def order(row: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "id": row["id"],
            "user_id": row["user_id"],
            "original_id": row["original_id"],
            "conversion_id": row["conversion_id"],
            "calibration_id": row["calibration_id"],
            "tracking_id": row["tracking_id"],
            "f0": row["f0"],
            "state": row["state"],
            "created_at": row["created_at"],
            "closed_at": row["closed_at"],
            "error": row["error"],
        }
    )


def voice(entry: Voice, settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A catalogue voice with the user's favorites and semitone settings folded in."""

    def setting(item_id: str) -> dict[str, Any]:
        return settings.get(item_id, {"favorite": False, "semitones_correction": 0.0})

    return {
        "id": entry.id,
        "owner_id": CATALOG_OWNER_ID,
        "name": entry.name,
        "slug": entry.slug,
        "visibility": entry.visibility,
        "species": entry.species,
        "artist": entry.name,
        "verified_artist": True,
        "gender": entry.gender,
        "pitch": entry.pitch,
        "age_group": entry.age_group,
        "pitch_group": entry.pitch_group,
        "nationality": entry.nationality,
        "description": entry.description,
        "rating": entry.rating,
        "active": True,
        "created_at": CATALOG_CREATED_AT,
        "favorite": bool(setting(entry.id)["favorite"]),
        "available": entry.available,
        "accents": [
            {
                "id": accent.id,
                "is_default": accent.is_default,
                "native": accent.native,
                "info": {
                    "name": accent.name,
                    "short_name": accent.short_name,
                    "locale": accent.locale,
                },
                "tiers": [{"name": tier} for tier in entry.tiers],
                "available": entry.available,
                "settings": {
                    "favorite": bool(setting(accent.id)["favorite"]),
                    "semitones_correction": setting(accent.id)["semitones_correction"],
                },
            }
            for accent in entry.accents
        ],
        "narration_styles": [
            {
                "id": style.id,
                "is_default": style.is_default,
                "info": {"name": style.name},
                "settings": {"favorite": bool(setting(style.id)["favorite"])},
            }
            for style in entry.narration_styles
        ],
        "tiers": [{"name": tier} for tier in entry.tiers],
    }


def model(entry: Voice) -> dict[str, Any]:
    """A voice as the legacy `/api/models` list shows it."""
    return {
        "id": entry.id,
        "name": entry.name,
        "owner": CATALOG_OWNER_ID,
        "visibility": "private" if entry.visibility == "private" else "public",
        "m2o": False,
        "default_model": entry.name == "Alice",
        "date_created": CATALOG_CREATED_AT,
        "pipeline": [],
        "params": [],
        "user_can_use_model": entry.available,
    }


def tts_voice(entry: TTSVoice) -> dict[str, Any]:
    return {
        "id": entry.id,
        "visibility": entry.visibility,
        "name": entry.name,
        "f0": entry.f0,
        "is_default": entry.is_default,
    }
