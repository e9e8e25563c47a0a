"""The code blocks of README.md and docs/*.md run, so the docs cannot drift from the code.

Each Markdown file is one test: a fresh `voicefs demo` (a real process: the emulator with the
demo account, mounted), then every ```python and ```sh block of the file in document order,
as a new user would type them after starting the demo. tests/docs_runner.py has the rules.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from tests.docs_runner import ROOT, blocks_of, run_python, run_shell, running_demo
from tests.mount.mounting import require_fuse
from voicefs import VoiceFileSystem

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FOREIGN_VARIABLES = ("VOICEFS_EMAIL", "VOICEFS_PASSWORD", "VOICEFS_PROFILE")


def test_every_doc_is_collected() -> None:
    """The glob finds the docs (a moved directory must not leave nothing to test)."""
    names = {path.name for path in DOCUMENTS}
    assert {"README.md", "semantics.md", "mount.md"} <= names


def test_blocks_are_found_as_a_reader_sees_them(tmp_path: Path) -> None:
    """Fences of either kind, indented in a list, with options; a misspelled language or
    option is a problem, not a block skipped in silence."""
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```sh\nls\n```\n\n- item\n\n  ```python no-run\n  x = 1\n  ```\n\n"
        "~~~text\n```\n~~~\n\n```bash\necho\n```\n\n```sh norun\nls\n```\n"
    )
    blocks = blocks_of(page)
    assert [(b.line, b.words, b.code) for b in blocks] == [
        (3, ("sh",), "ls\n"),
        (9, ("python", "no-run"), "x = 1\n"),
        (13, ("text",), "```\n"),
        (17, ("bash",), "echo\n"),
        (21, ("sh", "norun"), "ls\n"),
    ]
    assert [b.runs for b in blocks] == [True, False, False, False, True]
    assert [b.problem() is not None for b in blocks] == [False, False, False, True, True]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_code_blocks_run(document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every runnable block of the file succeeds against the demo, in order; a file with none
    (only illustrations and `no-run` blocks) has nothing to prove."""
    blocks = blocks_of(document)
    problems = [f"{block.where}: {block.problem()}" for block in blocks if block.problem()]
    assert not problems, "\n".join(problems)
    runnable = [block for block in blocks if block.runs]
    if not runnable:
        return
    require_fuse()
    with running_demo(tmp_path) as demo, monkeypatch.context() as patch:
        for name, value in demo.environment().items():
            patch.setenv(name, value)
        for name in FOREIGN_VARIABLES:
            patch.delenv(name, raising=False)
        patch.chdir(demo.directory)
        VoiceFileSystem.clear_instance_cache()  # fsspec.filesystem("voicefs") finds this demo
        namespace: dict[str, Any] = {"__name__": "__main__"}
        try:
            for block in runnable:
                if block.language == "sh":
                    failure = run_shell(block, demo)
                else:
                    failure = run_python(block, namespace)
                if failure is not None:
                    pytest.fail(failure, pytrace=False)
        finally:
            namespace.clear()  # open files and filesystems go before the drive is unmounted
            gc.collect()
            VoiceFileSystem.clear_instance_cache()
