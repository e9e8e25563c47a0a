"""litmus, the WebDAV server test suite (Debian's 0.13), against `voicefs serve webdav` at the
root, in a project and in a folder.

litmus works in a `litmus/` collection it makes under the URL it is given, with files named
`res`, `lockme`, `copysrc`, … and subcollections `coll/`, `ccsrc/`, `lockcoll/`. The tree has
two levels of directories only (projects, then their folders) and a folder takes only audio
and control names (CONTRACT §2, §3), so:
- at the root, `litmus/` is a project: its subcollections are folders, and no file can be
  written in it (403): every test that needs a file fails or is skipped;
- in a project, `litmus/` is a folder: no subcollection can be made in it (403) and its files'
  names are not audio (403);
- in a folder, `litmus/` itself cannot be made (403): every suite stops at `begin`.

What must pass is what the tree allows: OPTIONS claiming classes 1 and 2, MKCOL and DELETE of
collections where directories may be made, the statuses of requests on missing resources and
of malformed requests, PROPFIND of the collection, and LOCK, refresh and UNLOCK of a folder.
The other tests' results are recorded (in the test's properties and in the litmus output kept
under tmp_path), not asserted. Whatever litmus does, nothing it writes reaches the service but
its collections.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.webdav.conftest import Served, changes

LITMUS = Path("/usr/bin/litmus")
SUITES = ("basic", "copymove", "props", "locks", "http")

SUITE = re.compile(r"-> running `(\w+)':")
TEST = re.compile(r"\r\s*(\d+)\. (\w+)")  # each test's line starts with a carriage return
RESULT = re.compile(r"[.\w] (pass|FAIL|SKIPPED)\b( \(with \d+ warnings?\))?(?: \((.*))?")


@dataclass(frozen=True)
class Outcome:
    result: str  # pass, FAIL or SKIPPED
    warned: bool
    detail: str

    def __str__(self) -> str:
        warned = " (with warnings)" if self.warned else ""
        return f"{self.result}{warned}{': ' + self.detail if self.detail else ''}"


def parse(output: str) -> dict[str, Outcome]:
    """litmus's results by `suite/NN name` (names repeat within a suite: `propget`, `unlock`).
    Each test prints its name, then (after any warnings) its result."""
    outcomes = {}
    parts = SUITE.split(output)
    for suite, body in zip(parts[1::2], parts[2::2], strict=True):
        starts: list[tuple[int, int, str]] = []
        for found in TEST.finditer(body):
            number = int(found.group(1))
            if not starts or starts[-1][1] != number:  # the name is printed twice
                starts.append((found.start(), number, found.group(2)))
        ends = [start for start, _, _ in starts[1:]] + [len(body)]
        for (start, number, name), end in zip(starts, ends, strict=True):
            found_result = RESULT.search(body, start, end)
            key = f"{suite}/{number:02d} {name}"
            if found_result is None:
                outcomes[key] = Outcome("?", False, body[start:end].strip())
                continue
            detail = (found_result.group(3) or "").strip().removesuffix(")")
            # litmus 0.13 prints some paths from freed memory: keep what is readable
            detail = "".join(c if c.isprintable() else "?" for c in detail)
            outcomes[key] = Outcome(found_result.group(1), bool(found_result.group(2)), detail)
    return outcomes


def run_litmus(served: Served, url: str, directory: Path) -> dict[str, Outcome]:
    """All five suites, each going on after a failure; litmus's debug.log (every request and
    response) stays in directory."""
    if not LITMUS.exists():
        if os.environ.get("VOICEFS_REQUIRE_FUSE") == "1":
            pytest.fail(f"{LITMUS} is required here (Debian's litmus)")
        pytest.skip(f"no {LITMUS}")
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(LITMUS), "--keep-going", url, served.user, served.password],
        cwd=directory,
        env={**os.environ, "TESTS": " ".join(SUITES)},
        capture_output=True,
        timeout=300,
        check=False,
    )
    output = result.stdout.decode("utf-8", "replace")
    (directory / "litmus.out").write_text(output)
    outcomes = parse(output)
    ran = {key.split("/")[0] for key in outcomes}
    assert ran == set(SUITES), f"litmus exited with {result.returncode}: {output[-2000:]}"
    return outcomes


def check(outcomes: dict[str, Outcome], must_pass: set[str], clean: set[str]) -> None:
    """The tests in must_pass pass (warnings allowed), those in clean without a warning."""
    for key in must_pass | clean:
        assert key in outcomes, f"litmus ran no {key}: {sorted(outcomes)}"
    not_passing = {
        k: str(outcomes[k]) for k in sorted(must_pass | clean) if outcomes[k].result != "pass"
    }
    assert not_passing == {}
    warned = {k: str(outcomes[k]) for k in sorted(clean) if outcomes[k].warned}
    assert warned == {}


def record(
    record_property: Callable[[str, object], None], directory: Path, outcomes: dict[str, Outcome]
) -> None:
    """What did not pass cleanly, for whoever reads the run (junit properties, a file)."""
    rest = {key: str(outcome) for key, outcome in outcomes.items() if outcome.result != "pass"}
    warned = {key: str(outcome) for key, outcome in outcomes.items() if outcome.warned}
    lines = [f"{key}: {text}" for key, text in {**rest, **warned}.items()]
    (directory / "not-passing.txt").write_text("\n".join(lines) + "\n")
    record_property("litmus_not_passing", lines)


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with one original, take.wav."""
    project = api.project("Project")
    folder = api.folder(project["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    return {"project": project, "folder": folder, "take": take}


def project_names(api: Api) -> list[str]:
    return sorted(p["name"] for p in api.ok("GET", "/api/projects", params={"limit": 100})["list"])


def folder_names(api: Api, project_id: str) -> list[str]:
    page = api.ok("GET", "/api/folders", params={"project_id": project_id, "limit": 100})
    return sorted(f["name"] for f in page["list"])


# Requests on missing resources and malformed ones, answered as RFC 4918 says wherever litmus
# runs: MKCOL under a missing parent 409 (litmus 0.13's put_no_parent sends a MKCOL too),
# DELETE of nothing 404, MKCOL with a body 415.
STATUSES = {
    "basic/05 put_no_parent",
    "basic/08 delete_null",
    "basic/13 mkcol_no_parent",
    "basic/14 mkcol_with_body",
}
# `litmus/` made (and removed first) by every suite; PROPFIND of it, and bad PROPFIND bodies.
COLLECTION = {
    *(f"{suite}/01 begin" for suite in SUITES),
    "props/02 propfind_invalid",
    "props/03 propfind_invalid2",
    "props/04 propfind_d0",
    "http/02 expect100",
}
# OPTIONS claims classes 1 and 2: without class 2, options passes with a warning and the
# locks suite's precond skips all its tests; without class 1, options fails.
CLASSES = {"basic/02 options", "locks/02 options", "locks/03 precond"}


def test_litmus_at_the_root(
    takes: dict[str, Any],
    webdav: Served,
    api: Api,
    emulator: EmulatorProcess,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """`litmus/` is a project: collections in it are folders, so MKCOL, DELETE of a folder
    and a folder's LOCK, refresh and UNLOCK work; a PUT into a folder locked by another is 423
    (notowner_modify). No file name litmus uses can be written, so nothing is uploaded."""
    emulator.reset_request_counts()
    outcomes = run_litmus(webdav, webdav.url, tmp_path / "root")
    record(record_property, tmp_path / "root", outcomes)
    check(
        outcomes,
        must_pass=STATUSES
        | COLLECTION
        | {
            "basic/09 delete_fragment",
            "basic/10 mkcol",
            "basic/11 mkcol_again",
            "basic/12 delete_coll",
            "locks/31 prep_collection",
            "locks/34 notowner_modify",
            "locks/35 refresh",
            "locks/37 unlock",
        },
        clean=CLASSES,
    )
    assert "POST /api/recordings" not in changes(emulator)
    assert project_names(api) == ["Project", "litmus"]  # litmus leaves its collection
    assert [r["file_name"] for r in api.recordings(takes["folder"]["id"])] == ["take.wav"]


def test_litmus_in_a_project(
    takes: dict[str, Any],
    webdav: Served,
    api: Api,
    emulator: EmulatorProcess,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """`litmus/` is a folder: it is made and removed, listed and its OPTIONS answered; nothing
    can be made in it (no third level, no file that is not audio), so nothing is uploaded."""
    emulator.reset_request_counts()
    outcomes = run_litmus(webdav, webdav.href("Project/"), tmp_path / "project")
    record(record_property, tmp_path / "project", outcomes)
    check(outcomes, must_pass=STATUSES | COLLECTION, clean=CLASSES)
    assert "POST /api/recordings" not in changes(emulator)
    assert folder_names(api, takes["project"]["id"]) == ["Takes", "litmus"]
    assert [r["file_name"] for r in api.recordings(takes["folder"]["id"])] == ["take.wav"]


def test_litmus_in_a_folder(
    takes: dict[str, Any],
    webdav: Served,
    api: Api,
    emulator: EmulatorProcess,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """A folder takes no directory: litmus cannot make `litmus/`, every suite stops at its
    begin, and the service sees no change at all."""
    emulator.reset_request_counts()
    outcomes = run_litmus(webdav, webdav.href("Project/Takes/"), tmp_path / "folder")
    record(record_property, tmp_path / "folder", outcomes)
    check(outcomes, must_pass={f"{suite}/00 init" for suite in SUITES}, clean=set())
    assert changes(emulator) == {}
    # Refused changes are told in errors.log (CONTRACT §2), with the path and the reason.
    errors = webdav.session().get(webdav.href(".voicefs/errors.log"), timeout=30)
    assert "EPERM Project/Takes/litmus: " in errors.text, errors.text
    assert [r["file_name"] for r in api.recordings(takes["folder"]["id"])] == ["take.wav"]
