"""What every `voicefs` command shares: help with an example, exit status 2 for usage,
tracebacks only with -v, shell completion of account paths; and the failing cases of the
commands that serve (emulator, demo)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import FOLDER, Run, done, refused, run_voicefs
from tests.docs_runner import running_demo
from tests.emulator.helpers import Api
from tests.emulator_process import Account
from voicefs.cli import voicefs as command_group

COMMANDS = sorted(command_group.commands)


def test_every_documented_command_is_there() -> None:
    documented = "cp demo emulator login logout ls mount note order serve star status tree unmount"
    assert sorted([*documented.split(), "unstar", "wait"]) == COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_help_of_every_command_shows_an_example(name: str) -> None:
    lines = done(run_voicefs(name, "--help"))
    assert lines[0].startswith(f"Usage: voicefs {name}")
    examples = [i for i, line in enumerate(lines) if line.strip().startswith("Example")]
    assert examples, lines
    assert lines[examples[0] + 1].strip().startswith("voicefs ")


def test_a_usage_mistake_exits_2_with_the_usage() -> None:
    result = run_voicefs("ls", "--no-such-option")
    assert result.returncode == 2
    assert "Usage: voicefs ls" in result.stderr
    assert run_voicefs("no-such-command").returncode == 2
    assert run_voicefs().returncode == 2  # no command: the list of them, as usage


def test_a_refusal_shows_a_traceback_only_with_v(voicefs: Run) -> None:
    quiet = voicefs("ls", "Nope")
    refused(quiet, "Nope")
    loud = voicefs("ls", "-v", "Nope")
    assert loud.returncode == 1
    assert "Traceback" in loud.stderr
    assert loud.stderr.strip().splitlines()[-1] == quiet.stderr.strip()


def test_v_is_taken_before_the_command_too(voicefs: Run) -> None:
    """`voicefs -v ls`, as git and rclone take it: the same as `voicefs ls -v`, and a
    command's own default does not quiet it again."""
    before = voicefs("-v", "ls", "Nope")
    assert before.returncode == 1
    assert "Traceback" in before.stderr
    assert "Traceback" in voicefs("-v", "ls", "-v", "Nope").stderr
    assert voicefs("-vv", "ls").returncode == 0


def test_a_reader_that_stops_early_gets_no_error(account: Account, api: Api) -> None:
    """`voicefs tree | head -1`: the pipe closing is not an error to report."""
    project = api.project("Many")
    for n in range(40):
        api.folder(project["id"], f"Folder {n:02d}")
    env = {**os.environ, "VOICEFS_URL": account.url, "VOICEFS_API_KEY": account.api_key}
    piped = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m voicefs tree | head -1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert piped.stdout == "/\n"
    assert piped.stderr == ""


def test_shell_completion_lists_account_paths(voicefs: Run, take: dict[str, Any]) -> None:
    def complete(words: str) -> list[str]:
        env = {
            "_VOICEFS_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        result = voicefs(env=env)
        assert result.returncode == 0, result.stderr
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert complete("voicefs ls Pro") == ["Project/"]
    assert complete(f"voicefs order {FOLDER}/ta") == [
        f"{FOLDER}/take.wav",
        f"{FOLDER}/take.wav.conversions/",
    ]
    assert complete("voicefs sta") == ["star", "status"]


def test_the_emulator_refuses_a_bad_scale_as_usage() -> None:
    result = run_voicefs("emulator", "--seed", "large", "--seed-scale", "lots")
    assert result.returncode == 2
    assert "--seed-scale" in result.stderr


def test_the_demo_refuses_a_mount_point_that_is_not_empty(tmp_path: Path) -> None:
    occupied = tmp_path / "voicefs-demo"
    occupied.mkdir()
    (occupied / "mine.txt").write_text("keep me")
    result = run_voicefs("demo", str(occupied), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 1
    assert f"{occupied}: not empty" in result.stderr
    assert (occupied / "mine.txt").read_text() == "keep me"


def test_the_demo_names_the_directory_it_was_started_in(tmp_path: Path) -> None:
    """Its hints work from a terminal in the directory `voicefs demo` was started in: that is
    the one it names, not where the drive's process went once it was ready."""
    with running_demo(tmp_path) as demo:
        named = next(line for line in demo.printed if "In another terminal, in " in line)
        hint = next(line for line in demo.printed if line.strip().startswith("ls -l "))
        folder = shlex.split(hint.strip())[-1]  # as the user types it, there
        directory = Path(named.strip().removeprefix("In another terminal, in ").rstrip(":"))
        assert directory == tmp_path
        assert (directory / folder).is_dir()  # the hint works from the directory it names
