"""The service's own limits, in one place: what it refuses, how much it lists, how fast.

Checking them before sending turns a refusal into a clear local error without a request.
Sources, in ../shared/reference/: `endpoints-reference.txt` (the authority) names the
endpoints and fields; the numbers come from the service's API overview (`README.md` there)
and the `maxLength` of the OpenAPI schemas (`openapi-0.6.0.yml`).
"""

from __future__ import annotations

# Names of projects, folders and calibrations, and recording labels (the endpoint reference's
# `name` / `label` fields; OpenAPI ProjectCreate.name, FolderCreate.name, CalibrationRename.name).
NAME_MAX = 40

# A recording's note (the reference's POST / PUT /api/notes `text`; OpenAPI NoteCreate.text).
NOTE_MAX = 2000

# Text-to-speech text, 1 to this many characters (the reference's POST /api/v2/recordings/tts
# `text`; OpenAPI RecordingCreateTTS.text, minLength 1).
TTS_TEXT_MAX = 1000

# Largest page (`limit`) each list endpoint allows (the reference's list endpoints' `limit`):
# every listing asks for it, to spend few requests.
PAGE_LIMITS = {
    "projects": 100,
    "folders": 200,
    "recordings": 200,
    "voices": 100,
    "voice_search": 10,
    "calibrations": 200,
}

# Requests per account per window (times, seconds), by kind: "slow" are uploads, orders,
# exports and text-to-speech, "fast" all others (the service's overview; answered by 429).
FAST_BUDGET = (500, 300.0)
SLOW_BUDGET = (100, 300.0)
