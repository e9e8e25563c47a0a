"""`voicefs ls`, `voicefs tree` and `voicefs cp`, each as a real process, with what the
service holds compared, and a failing case each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.conftest import FOLDER, TAKE, Run, done, refused
from tests.emulator.helpers import Api, tone
from tests.fs.helpers import convert, star


def test_ls_lists_names_and_ls_l_is_a_table_of_the_service_state(
    voicefs: Run, api: Api, take: dict[str, Any]
) -> None:
    [alice] = convert(api, take["id"], "Alice")
    star(api, alice)
    assert done(voicefs("ls")) == ["Project/", "projects.csv"]
    assert done(voicefs("ls", "voicefs://Project/Takes")) == [
        "take.wav",
        "take.wav.conversions/",
        "recordings.csv",
    ]
    header, *rows = done(voicefs("ls", "-l", f"{FOLDER}/take.wav.conversions"))
    assert header.split() == ["name", "state", "duration", "size", "starred", "voice"]
    [row] = [r.split() for r in rows if r.startswith("Alice.wav ")]
    size = len(api.download(api.ok("GET", f"/api/recordings/{alice}")).content)
    assert row == ["Alice.wav", "done", "1.00", str(size), "*", "Alice"]


def test_ls_hides_dot_names_unless_asked(voicefs: Run, take: dict[str, Any]) -> None:
    assert ".voicefs/" not in done(voicefs("ls"))
    assert ".voicefs/" in done(voicefs("ls", "-a"))


def test_ls_l_marks_a_size_only_a_download_would_tell(voicefs: Run) -> None:
    rows = [line.split() for line in done(voicefs("ls", "-l", ".voicefs/voices/Alice"))]
    assert ["British.wav", "?"] in rows  # a sample is not fetched to be listed


def test_ls_of_a_missing_path_is_one_line_with_exit_status_1(voicefs: Run) -> None:
    refused(voicefs("ls", "Project/Nope"), "Project/Nope", "No such file")


def test_tree_draws_the_account_and_stops_at_the_level(voicefs: Run, take: dict[str, Any]) -> None:
    assert done(voicefs("tree", "Project")) == [
        "Project",
        "├── Takes/",
        "│   ├── take.wav",
        "│   ├── take.wav.conversions/",
        "│   │   ├── order.txt",
        "│   │   └── recordings.csv",
        "│   └── recordings.csv",
        "└── folders.csv",
    ]
    assert done(voicefs("tree", "-L", "1")) == ["/", "├── Project/", "└── projects.csv"]


def test_tree_of_a_missing_path_fails(voicefs: Run) -> None:
    refused(voicefs("tree", "Nope"), "Nope", "No such file")


def test_cp_uploads_into_a_folder_with_a_progress_bar_and_downloads_the_same_bytes(
    voicefs: Run, api: Api, take: dict[str, Any], tmp_path: Path
) -> None:
    local = tmp_path / "new take.wav"
    local.write_bytes(tone("wav", hz=330))
    result = voicefs("cp", "--progress", local.name, f"voicefs://{FOLDER}/")
    assert done(result) == [f"{FOLDER}/new take.wav"]
    assert "100%" in result.stderr  # tqdm's bar, through fsspec's callback protocol
    uploaded = [r for r in api.recordings(take["folder_id"]) if r["file_name"] == "new take.wav"]
    assert len(uploaded) == 1

    assert done(voicefs("cp", f"voicefs://{FOLDER}/new take.wav", "back.wav")) == ["back.wav"]
    assert (tmp_path / "back.wav").read_bytes() == api.download(uploaded[0]).content


def test_cp_r_brings_a_directory_each_way(
    voicefs: Run, api: Api, take: dict[str, Any], tmp_path: Path
) -> None:
    convert(api, take["id"], "Alice")
    session = tmp_path / "Session 2"
    session.mkdir()
    for name in ("a.wav", "b.flac"):
        (session / name).write_bytes(tone(name.rsplit(".")[-1]))
    assert done(voicefs("cp", "-r", "Session 2", "voicefs://Project/")) == [
        "Project/Session 2/a.wav",
        "Project/Session 2/b.flac",
    ]
    listed = done(voicefs("ls", "Project/Session 2"))
    assert {"a.wav", "b.flac"} <= set(listed)

    def copied(directory: Path) -> list[str]:
        return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())

    # as cp -r: a new target is the copy itself, an existing directory receives one
    done(voicefs("cp", "-r", f"voicefs://{FOLDER}", "copy"))
    assert copied(tmp_path / "copy") == ["take.wav", "take.wav.conversions/Alice.wav"]
    done(voicefs("cp", "-r", f"voicefs://{FOLDER}", "copy"))
    assert copied(tmp_path / "copy") == [
        "Takes/take.wav",
        "Takes/take.wav.conversions/Alice.wav",
        "take.wav",
        "take.wav.conversions/Alice.wav",
    ]


def test_cp_r_of_a_directory_makes_the_folder_it_is_told_or_changes_nothing(
    voicefs: Run, api: Api, take: dict[str, Any], tmp_path: Path
) -> None:
    session = tmp_path / "session"
    session.mkdir()
    (session / "a.wav").write_bytes(tone("wav"))
    assert done(voicefs("cp", "-r", "session", "voicefs://Project/Renamed")) == [
        "Project/Renamed/a.wav"
    ]
    (session / "deeper").mkdir()
    refused(voicefs("cp", "-r", "session", "voicefs://Project/"), "session", "not directories")
    refused(voicefs("cp", "-r", "session", "voicefs://"), "into a project")
    assert done(voicefs("ls", "Project")) == ["Takes/", "Renamed/", "folders.csv"]
    assert [p["name"] for p in api.ok("GET", "/api/projects")["list"]] == ["Project"]
    refused(
        voicefs("cp", "-r", "voicefs://Project/Takes/take.wav.conversions", "here"), "no finished"
    )


def test_cp_refuses_what_is_not_audio_and_uploads_nothing(
    voicefs: Run, api: Api, take: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "notes.wav").write_text("not audio at all")
    refused(voicefs("cp", "notes.wav", f"voicefs://{FOLDER}/"), f"{FOLDER}/notes.wav")
    assert [r["file_name"] for r in api.recordings(take["folder_id"])] == ["take.wav"]


def test_cp_needs_one_side_in_the_account_and_says_so_as_usage(voicefs: Run) -> None:
    result = voicefs("cp", "a.wav", "b.wav")
    assert result.returncode == 2
    assert "voicefs://" in result.stderr


def test_cp_of_an_existing_recording_is_refused(
    voicefs: Run, take: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "take.wav").write_bytes(tone("wav", hz=440))
    refused(voicefs("cp", "take.wav", f"voicefs://{TAKE}"), TAKE, "cannot be replaced")
