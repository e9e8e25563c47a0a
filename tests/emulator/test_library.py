"""Projects, folders, recordings (uploads, listings, updates, deletion) and notes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.emulator.helpers import Api, assert_detail, assert_validation_error, tone
from tests.emulator_process import Account, EmulatorProcess

UNKNOWN = str(uuid.uuid4())


@pytest.fixture
def api(account: Account) -> Api:
    return Api.of(account)


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["list"]]


def project_count(api: Api) -> int:
    count: int = api.ok("GET", "/api/projects")["pagination"]["count"]
    return count


# --------------------------------------------------------------------------- projects


def test_create_project(api: Api) -> None:
    project = api.project("My Audiobook")
    assert project["name"] == "My Audiobook"
    assert project["owner"] == api.user_id
    assert project["models"] == {}
    assert project["active"] is True
    uuid.UUID(project["id"])
    assert project["slug"] and project["url"] and project["created_at"]
    assert api.ok("GET", "/api/projects")["list"] == [project]


def test_project_owned_by_someone_else_is_403(emulator: EmulatorProcess, api: Api) -> None:
    stranger = emulator.new_account()
    body = {"name": "Gift", "owner": stranger.user_id, "models": {}}
    assert_detail(api.post("/api/projects", json=body), 403)
    assert project_count(api) == 0


def test_project_list_pagination(api: Api) -> None:
    for name in ["one", "two", "three"]:
        api.project(name)
    first = api.ok("GET", "/api/projects", params={"limit": 2, "offset": 0})
    rest = api.ok("GET", "/api/projects", params={"limit": 2, "offset": 2})
    assert first["pagination"] == {"count": 3, "limit": 2, "offset": 0}
    assert rest["pagination"] == {"count": 3, "limit": 2, "offset": 2}
    assert names(first) == ["three", "two"]  # newest first by default
    assert names(rest) == ["one"]
    oldest_first = api.ok("GET", "/api/projects", params={"direction": "asc"})
    assert names(oldest_first) == ["one", "two", "three"]
    assert len(api.ok("GET", "/api/projects", params={"owner": api.user_id})["list"]) == 3
    assert api.ok("GET", "/api/projects", params={"owner": UNKNOWN})["list"] == []


def test_project_list_limit_above_100_is_422(api: Api) -> None:
    assert_validation_error(api.get("/api/projects", params={"limit": 101}), "limit")
    assert_validation_error(api.get("/api/projects", params={"offset": -1}), "offset")
    assert_validation_error(api.get("/api/projects", params={"sort": "size"}), "sort")
    assert api.ok("GET", "/api/projects", params={"limit": 100})["pagination"]["limit"] == 100


def test_project_list_sorted_by_name(api: Api) -> None:
    for name in ["beta", "gamma", "alpha"]:
        api.project(name)
    ascending = api.ok("GET", "/api/projects", params={"sort": "name", "direction": "asc"})
    descending = api.ok("GET", "/api/projects", params={"sort": "name", "direction": "desc"})
    assert names(ascending) == ["alpha", "beta", "gamma"]
    assert names(descending) == ["gamma", "beta", "alpha"]


def test_project_by_url(api: Api) -> None:
    api.project("Other")
    project = api.project("Wanted")
    found = api.ok("GET", "/api/projects/by-url", params={"project_url": project["url"]})
    assert found == project
    missing = api.get("/api/projects/by-url", params={"project_url": "no-such-project"})
    assert_detail(missing, 404)


def test_rename_project(api: Api) -> None:
    project = api.project("Draft")
    renamed = api.ok("PATCH", f"/api/projects/{project['id']}", json={"name": "Final"})
    assert renamed["name"] == "Final"
    assert renamed["id"] == project["id"]
    assert names(api.ok("GET", "/api/projects")) == ["Final"]


@pytest.mark.parametrize(
    ("name", "status"), [("x" * 41, 422), ("", 400), ("   ", 400)], ids=["41", "empty", "blank"]
)
def test_rename_project_to_a_bad_name_changes_nothing(api: Api, name: str, status: int) -> None:
    project = api.project("Keep")
    response = api.request("PATCH", f"/api/projects/{project['id']}", json={"name": name})
    assert_detail(response, status)
    assert names(api.ok("GET", "/api/projects")) == ["Keep"]


def test_put_project_models(api: Api) -> None:
    project = api.project()
    models = {str(uuid.uuid4()): {"param": "value"}}
    updated = api.ok("PUT", f"/api/projects/{project['id']}", json={"models": models})
    assert updated["models"] == models
    assert updated["name"] == project["name"]
    assert api.ok("GET", "/api/projects")["list"][0]["models"] == models


def test_delete_project_cascades(api: Api) -> None:
    project = api.project()
    folder = api.folder(project["id"])
    recording = api.original(folder["id"])
    deleted = api.ok("DELETE", f"/api/projects/{project['id']}")
    assert deleted == {"id": project["id"]}
    assert project_count(api) == 0
    assert_detail(api.get(f"/api/folders/{folder['id']}"), 404)
    assert_detail(api.get(f"/api/recordings/{recording['id']}"), 404)
    assert_detail(api.download(recording), 404)
    assert_detail(api.request("DELETE", f"/api/projects/{project['id']}"), 404)


def test_project_name_of_41_characters_is_422_and_creates_nothing(api: Api) -> None:
    body = {"name": "x" * 41, "owner": api.user_id, "models": {}}
    assert_validation_error(api.post("/api/projects", json=body), "name")
    assert project_count(api) == 0
    assert api.project("x" * 40)["name"] == "x" * 40


def test_empty_project_name_is_400(api: Api) -> None:
    body = {"name": "", "owner": api.user_id, "models": {}}
    assert "empty" in assert_detail(api.post("/api/projects", json=body), 400)
    assert project_count(api) == 0


def test_malformed_or_incomplete_project_body_is_422(api: Api) -> None:
    broken = api.post(
        "/api/projects", data=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert isinstance(assert_detail(broken, 422), list)
    assert_validation_error(api.post("/api/projects", json={"name": "No owner"}), "owner")
    bad_owner = {"name": "x", "owner": "me", "models": {}}
    assert_validation_error(api.post("/api/projects", json=bad_owner), "owner")
    assert project_count(api) == 0


def test_bad_uuid_in_path_is_422_and_unknown_uuid_is_404(api: Api) -> None:
    for method, path, field, body in [
        ("PATCH", "/api/projects/{}", "project_id", {"name": "x"}),
        ("DELETE", "/api/projects/{}", "project_id", None),
        ("GET", "/api/folders/{}", "folder_id", None),
        ("GET", "/api/recordings/{}", "recording_id", None),
    ]:
        bad = api.request(method, path.format("not-a-uuid"), json=body)
        assert_validation_error(bad, field)
        unknown = api.request(method, path.format(UNKNOWN), json=body)
        assert "not found" in assert_detail(unknown, 404)


# ---------------------------------------------------------------------------- folders


def test_create_get_and_list_folders(api: Api) -> None:
    project = api.project()
    first = api.folder(project["id"], "Chapter 1")
    second = api.folder(project["id"], "Chapter 2")
    api.folder(api.project("Elsewhere")["id"], "Not here")
    assert first["project_id"] == project["id"]
    assert first["active"] is True
    assert api.ok("GET", f"/api/folders/{first['id']}") == first
    listed = api.ok("GET", "/api/folders", params={"project_id": project["id"]})
    assert listed["list"] == [second, first]  # newest first by default
    assert listed["pagination"] == {"count": 2, "limit": 50, "offset": 0}
    page = api.ok(
        "GET",
        "/api/folders",
        params={"project_id": project["id"], "direction": "asc", "limit": 1, "offset": 1},
    )
    assert page["list"] == [second]
    assert page["pagination"] == {"count": 2, "limit": 1, "offset": 1}


def test_folder_list_needs_a_project_and_a_sane_limit(api: Api) -> None:
    project = api.project()
    assert_validation_error(api.get("/api/folders"), "project_id")
    too_many = api.get("/api/folders", params={"project_id": project["id"], "limit": 201})
    assert_validation_error(too_many, "limit")
    assert_detail(api.get("/api/folders", params={"project_id": UNKNOWN}), 404)


def test_create_folder_errors_create_nothing(api: Api) -> None:
    project = api.project()
    assert_validation_error(api.post("/api/folders", json={"name": "x"}), "project_id")
    long_name = {"name": "x" * 41, "project_id": project["id"]}
    assert_validation_error(api.post("/api/folders", json=long_name), "name")
    assert_detail(api.post("/api/folders", json={"name": "", "project_id": project["id"]}), 400)
    assert_detail(api.post("/api/folders", json={"name": "x", "project_id": UNKNOWN}), 404)
    listed = api.ok("GET", "/api/folders", params={"project_id": project["id"]})
    assert listed["pagination"]["count"] == 0


def test_rename_folder(api: Api) -> None:
    folder = api.new_folder()
    path = f"/api/folders/{folder['id']}"
    assert api.ok("PATCH", path, json={"name": "Renamed"})["name"] == "Renamed"
    assert api.ok("GET", path)["name"] == "Renamed"
    assert_validation_error(api.request("PATCH", path, json={"name": "x" * 41}), "name")
    assert_detail(api.request("PATCH", path, json={"name": " "}), 400)
    assert api.ok("GET", path)["name"] == "Renamed"


def test_delete_folder_returns_its_id_and_removes_its_recordings(api: Api) -> None:
    project = api.project()
    doomed, kept = api.folder(project["id"], "Doomed"), api.folder(project["id"], "Kept")
    gone = api.original(doomed["id"])
    stays = api.original(kept["id"])
    assert api.ok("DELETE", f"/api/folders/{doomed['id']}") == [{"id": doomed["id"]}]
    assert_detail(api.get(f"/api/folders/{doomed['id']}"), 404)
    assert_detail(api.get(f"/api/recordings/{gone['id']}"), 404)
    assert_detail(api.download(gone), 404)
    everything = api.ok("GET", "/api/recordings", params={"project_id": project["id"]})
    assert [r["id"] for r in everything["list"]] == [stays["id"]]
    assert api.download(stays).status_code == 200


# ------------------------------------------------------------------------- recordings


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_upload_each_supported_format(api: Api, ext: str) -> None:
    folder = api.new_folder()
    data = tone(ext)
    response = api.upload(folder["id"], data, f"voice take.{ext}", label="First take")
    assert response.status_code == 200, response.text
    recording = response.json()
    assert recording["type"] == "original"
    assert recording["state"] == "done"
    assert recording["size"] == len(data)
    assert recording["duration"] == pytest.approx(1.0, abs=0.05)
    assert recording["file_name"] == f"voice take.{ext}"
    assert recording["label"] == "First take"
    assert recording["microphone"] == "file"
    assert recording["parent_folder_id"] == folder["id"]
    assert recording["project_id"] == folder["project_id"]
    assert recording["starred"] is False
    assert recording["url"].startswith("/api/")
    assert api.recordings(folder["id"]) == [recording]


@pytest.mark.parametrize(
    ("filename", "data", "problem"),
    [
        ("hello.wav", b"hello", "not"),
        ("x.wav", b"just some text\nthat is not audio\n", "not"),
        ("empty.wav", b"", "empty"),
    ],
    ids=["hello", "text", "empty"],
)
def test_upload_of_non_audio_is_400_and_creates_nothing(
    api: Api, filename: str, data: bytes, problem: str
) -> None:
    folder = api.new_folder()
    detail = assert_detail(api.upload(folder["id"], data, filename), 400)
    assert filename in detail
    assert problem in detail
    assert api.recordings(folder["id"]) == []


@pytest.mark.parametrize("label", ["bad/label", "x" * 41, "émoji", "tab\tlabel"], ids=str)
def test_upload_with_a_bad_label_is_422_and_creates_nothing(api: Api, label: str) -> None:
    folder = api.new_folder()
    assert_validation_error(api.upload(folder["id"], tone(), label=label), "label")
    assert api.recordings(folder["id"]) == []


def test_upload_needs_a_known_folder_and_the_form_fields(api: Api) -> None:
    folder = api.new_folder()
    assert_detail(api.upload(UNKNOWN, tone()), 404)
    fields = {"parent_folder_id": folder["id"], "microphone": "file"}
    no_file = api.post("/api/recordings", data=fields, files={"other": ("x", b"x")})
    assert_validation_error(no_file, "data")
    no_folder = api.post(
        "/api/recordings", data={"microphone": "file"}, files={"data": ("t.wav", tone())}
    )
    assert_validation_error(no_folder, "parent_folder_id")
    assert api.recordings(folder["id"]) == []


def test_upload_above_the_size_limit_is_413(emulator: EmulatorProcess, api: Api) -> None:
    folder = api.new_folder()
    emulator.set_faults(max_upload_bytes=1000)
    assert "1000" in assert_detail(api.upload(folder["id"], tone()), 413)
    assert api.recordings(folder["id"]) == []
    short = tone("wav", seconds=0.01)
    assert len(short) < 1000
    small = api.upload(folder["id"], short, "short.wav")
    assert small.status_code == 200, small.text  # under the limit still goes through


def test_recording_list_by_folder_and_by_project_with_paging(api: Api) -> None:
    project = api.project()
    folder, other = api.folder(project["id"], "A"), api.folder(project["id"], "B")
    ids = [api.original(folder["id"], label=f"take {i}")["id"] for i in range(3)]
    elsewhere = api.original(other["id"])["id"]

    def listed(**params: Any) -> tuple[list[str], dict[str, int]]:
        page = api.ok("GET", "/api/recordings", params=params)
        return [r["id"] for r in page["list"]], page["pagination"]

    assert listed(folder_id=folder["id"]) == (ids[::-1], {"count": 3, "limit": 50, "offset": 0})
    assert listed(folder_id=folder["id"], direction="asc")[0] == ids
    assert listed(folder_id=folder["id"], direction="asc", limit=2, offset=1) == (
        ids[1:],
        {"count": 3, "limit": 2, "offset": 1},
    )
    assert listed(folder_id=folder["id"], limit=2, offset=2) == (
        [ids[0]],
        {"count": 3, "limit": 2, "offset": 2},
    )
    assert listed(project_id=project["id"], direction="asc") == (
        [*ids, elsewhere],
        {"count": 4, "limit": 50, "offset": 0},
    )
    assert listed(project_id=project["id"], limit=1)[0] == [elsewhere]


def test_recording_list_parameters_are_checked(api: Api) -> None:
    folder = api.new_folder()
    assert "folder_id" in assert_detail(api.get("/api/recordings"), 400)
    too_many = api.get("/api/recordings", params={"folder_id": folder["id"], "limit": 201})
    assert_validation_error(too_many, "limit")
    sideways = api.get("/api/recordings", params={"folder_id": folder["id"], "direction": "up"})
    assert_validation_error(sideways, "direction")
    assert_detail(api.get("/api/recordings", params={"folder_id": UNKNOWN}), 404)
    assert_validation_error(api.get("/api/recordings/originals"), "folder_id")


def test_get_and_update_a_recording(api: Api) -> None:
    recording = api.original(api.new_folder()["id"], label="Old")
    path = f"/api/recordings/{recording['id']}"
    assert api.ok("GET", path) == recording

    labelled = api.ok("PATCH", path, json={"label": "New label"})
    assert (labelled["label"], labelled["starred"]) == ("New label", False)
    starred = api.ok("PATCH", path, json={"starred": True})
    assert (starred["label"], starred["starred"]) == ("New label", True)
    both = api.ok("PUT", path, json={"label": "Put label", "starred": False})
    assert (both["label"], both["starred"]) == ("Put label", False)
    assert api.ok("GET", path) == both

    assert_validation_error(api.request("PUT", path, json={"label": "Only"}), "starred")
    assert_validation_error(api.request("PUT", path, json={"starred": True}), "label")
    assert_validation_error(api.request("PATCH", path, json={"label": "x" * 41}), "label")
    assert_detail(api.request("PATCH", path, json={"label": "  "}), 400)
    assert api.ok("GET", path) == both


def test_delete_a_recording(api: Api) -> None:
    folder = api.new_folder()
    doomed, kept = api.original(folder["id"]), api.original(folder["id"])
    path = f"/api/recordings/{doomed['id']}"
    assert api.ok("DELETE", path) == [{"id": doomed["id"]}]
    assert_detail(api.get(path), 404)
    assert_detail(api.download(doomed), 404)
    assert_detail(api.request("DELETE", path), 404)
    assert api.recordings(folder["id"]) == [kept]


def test_deleting_an_original_deletes_its_conversions(api: Api) -> None:
    folder = api.new_folder()
    original = api.original(folder["id"])
    conversion = api.convert(original["id"])
    assert conversion["type"] == "converted"
    assert conversion["original_id"] == original["id"]
    assert {r["id"] for r in api.recordings(folder["id"])} == {original["id"], conversion["id"]}
    originals = api.ok("GET", "/api/recordings/originals", params={"folder_id": folder["id"]})
    assert [r["id"] for r in originals["list"]] == [original["id"]]
    assert originals["pagination"]["count"] == 1

    deleted = api.ok("DELETE", f"/api/recordings/{original['id']}")
    assert sorted(d["id"] for d in deleted) == sorted([original["id"], conversion["id"]])
    for gone in (original, conversion):
        assert_detail(api.get(f"/api/recordings/{gone['id']}"), 404)
        assert_detail(api.download(gone), 404)
    assert api.recordings(folder["id"]) == []


# ------------------------------------------------------------------------------ notes


def test_note_lifecycle(api: Api) -> None:
    folder = api.new_folder()
    recording, bare = api.original(folder["id"]), api.original(folder["id"])
    rid = recording["id"]
    note = api.ok("POST", "/api/notes", json={"recording_id": rid, "text": "Keep the pause"})
    assert (note["recording_id"], note["text"], note["active"]) == (rid, "Keep the pause", True)
    shown = api.ok("GET", f"/api/recordings/{rid}")["note"]
    assert shown == {"id": note["id"], "text": "Keep the pause", "active": True}
    assert "note" not in api.ok("GET", f"/api/recordings/{bare['id']}")

    second = api.post("/api/notes", json={"recording_id": rid, "text": "Another"})
    assert "already" in assert_detail(second, 400)

    updated = api.ok("PUT", "/api/notes", json={"recording_id": rid, "text": "Trim the end"})
    assert (updated["id"], updated["text"]) == (note["id"], "Trim the end")
    assert api.ok("GET", f"/api/recordings/{rid}")["note"]["text"] == "Trim the end"
    assert api.ok("GET", "/api/notes", params={"folder_id": folder["id"]}) == [updated]

    deleted = api.ok("DELETE", "/api/notes", json={"recording_id": rid})
    assert deleted == updated
    assert "note" not in api.ok("GET", f"/api/recordings/{rid}")
    assert api.ok("GET", "/api/notes", params={"folder_id": folder["id"]}) == []


def test_note_errors(api: Api) -> None:
    folder = api.new_folder()
    rid = api.original(folder["id"])["id"]
    assert_detail(api.request("PUT", "/api/notes", json={"recording_id": rid, "text": "x"}), 404)
    assert_detail(api.request("DELETE", "/api/notes", json={"recording_id": rid}), 404)
    unknown = {"recording_id": UNKNOWN, "text": "x"}
    assert_detail(api.post("/api/notes", json=unknown), 404)

    too_long = {"recording_id": rid, "text": "x" * 2001}
    assert_validation_error(api.post("/api/notes", json=too_long), "text")
    assert "note" not in api.ok("GET", f"/api/recordings/{rid}")
    api.ok("POST", "/api/notes", json={"recording_id": rid, "text": "x" * 2000})
    assert_validation_error(api.request("PUT", "/api/notes", json=too_long), "text")
    assert api.ok("GET", f"/api/recordings/{rid}")["note"]["text"] == "x" * 2000
    assert_validation_error(api.get("/api/notes"), "folder_id")


def test_notes_listed_by_folder(api: Api) -> None:
    project = api.project()
    folder, other = api.folder(project["id"], "A"), api.folder(project["id"], "B")
    first, second = api.original(folder["id"]), api.original(folder["id"])
    outside = api.original(other["id"])
    for recording, text in [(second, "two"), (first, "one"), (outside, "elsewhere")]:
        api.ok("POST", "/api/notes", json={"recording_id": recording["id"], "text": text})
    notes = api.ok("GET", "/api/notes", params={"folder_id": folder["id"]})
    assert [(n["recording_id"], n["text"]) for n in notes] == [
        (first["id"], "one"),
        (second["id"], "two"),
    ]
