"""Every row of CONTRACT §7, through the mount (the errno a real process sees) and through
fsspec (the exception type): the message names the path and carries the reason (the
service's `detail` where the service refused; through the mount, in /.voicefs/errors.log),
and the service holds what it held before."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.helpers import make_fs
from tests.mount.mounting import mounted, run
from voicefs.filesystem import VoiceFileSystem

TAKES = "Project/Takes"
TAKE = f"{TAKES}/take.wav"
ORDER = f"{TAKE}.conversions/order.txt"
LONG = f"Project/{'n' * 41}"  # a folder: the service's names and labels hold 40
ROOT_FILE = "take.wav"
CREDITS = ".voicefs/credits.json"


@dataclass(frozen=True)
class Row:
    """One row of the table: how to cause it, and what the caller must see."""

    code: int
    exception: type[BaseException]
    path: str  # the tree path the message must name
    fsspec: Callable[[VoiceFileSystem, Path], object]
    shell: Callable[[Path, Path], list[str]]  # (mount point, a local file) -> a command
    reason: str = ""  # words of the reason the message must carry ("" for "not found")
    logged: bool = True  # through the mount, in errors.log (not what the kernel answers)
    during: Callable[[EmulatorProcess, Api], object] = lambda emulator, api: None
    credits: float | None = None  # the account's credits, when the row needs few
    mount_options: tuple[str, ...] = ()
    stdin: str | None = None
    local: bytes = field(default_factory=lambda: tone("wav"))


def _write(path: str) -> Callable[[VoiceFileSystem, Path], object]:
    return lambda fs, local: fs.put_file(str(local), path)


def _cp(path: str) -> Callable[[Path, Path], list[str]]:
    return lambda mount, local: ["cp", str(local), str(mount / path)]


ROWS: dict[str, Row] = {
    "no such path": Row(
        errno.ENOENT,
        FileNotFoundError,
        f"{TAKES}/nothing.wav",
        lambda fs, local: fs.cat_file(f"{TAKES}/nothing.wav"),
        lambda mount, local: ["cat", str(mount / TAKES / "nothing.wav")],
        logged=False,
    ),
    "bad credentials": Row(
        errno.EACCES,
        PermissionError,
        CREDITS,
        lambda fs, local: fs.cat_file(CREDITS),
        lambda mount, local: ["cat", str(mount / CREDITS)],
        reason="401",
        during=lambda emulator, api: api.ok("DELETE", "/api/api-key"),
    ),
    "not possible here": Row(
        errno.EPERM,
        PermissionError,
        ROOT_FILE,
        _write(ROOT_FILE),
        _cp(ROOT_FILE),
        reason="make a directory to create a project",
    ),
    "name too long": Row(
        errno.ENAMETOOLONG,
        OSError,
        LONG,
        lambda fs, local: fs.mkdir(LONG, create_parents=False),
        lambda mount, local: ["mkdir", str(mount / LONG)],
        reason="name too long",
    ),
    "invalid content": Row(
        errno.EINVAL,
        ValueError,
        f"{TAKES}/notes.wav",
        _write(f"{TAKES}/notes.wav"),
        _cp(f"{TAKES}/notes.wav"),
        reason="not",
        local=b"these are notes, not audio\n" * 20,
    ),
    "exists already": Row(
        errno.EEXIST,
        FileExistsError,
        TAKES,
        lambda fs, local: fs.mkdir(TAKES, create_parents=False),
        lambda mount, local: ["mkdir", str(mount / TAKES)],
        reason="exists",
        logged=False,  # the kernel knows the directory is there and answers itself
    ),
    "directory not empty": Row(
        errno.ENOTEMPTY,
        OSError,
        TAKES,
        lambda fs, local: fs.rmdir(TAKES),
        lambda mount, local: ["rmdir", str(mount / TAKES)],
        reason="not empty",
    ),
    "not enough credits": Row(
        errno.EDQUOT,
        OSError,
        ORDER,
        lambda fs, local: fs.pipe_file(ORDER, b"Alice\n"),
        lambda mount, local: ["tee", str(mount / ORDER)],
        reason="credits",
        credits=0.5,
        stdin="Alice\n",
    ),
    "too large": Row(
        errno.EFBIG,
        OSError,
        f"{TAKES}/long take.wav",
        _write(f"{TAKES}/long take.wav"),
        _cp(f"{TAKES}/long take.wav"),
        reason="too large",
        during=lambda emulator, api: emulator.set_faults(max_upload_bytes=1000),
    ),
    "service failing": Row(
        errno.EIO,
        ConnectionError,
        f"{TAKES}/take.wav.conversions",
        lambda fs, local: fs.ls(f"{TAKES}/take.wav.conversions"),
        lambda mount, local: ["ls", str(mount / TAKES / "take.wav.conversions")],
        reason="injected fault",
        during=lambda emulator, api: emulator.set_faults(fail_rate=1.0, fail_mode="error"),
        mount_options=("--timeout", "60"),
    ),
}


def service_state(api: Api) -> Any:
    """What the account holds, as the service says: projects, folders, recordings, credits."""
    projects = api.ok("GET", "/api/projects", params={"limit": 100})["list"]
    state = [api.ok("GET", "/api/credits")["credits"]]
    for project in sorted(projects, key=lambda p: p["id"]):
        state.append((project["id"], project["name"]))
        folders = api.ok("GET", "/api/folders", params={"project_id": project["id"]})["list"]
        for folder in sorted(folders, key=lambda f: f["id"]):
            state.append((folder["id"], folder["name"]))
            for r in sorted(api.recordings(folder["id"]), key=lambda r: r["id"]):
                state.append(
                    (r["id"], r.get("file_name"), r.get("label"), r["starred"], r.get("note"))
                )
    return state


def prepared(emulator: EmulatorProcess, row: Row) -> tuple[Account, Api]:
    """A new account holding Project/Takes/take.wav (2 s, so an order costs 2 credits)."""
    options = {} if row.credits is None else {"credits": row.credits}
    account = emulator.new_account(**options)
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    api.upload(folder["id"], tone("wav", seconds=2.0), "take.wav").raise_for_status()
    return account, api


def check_message(message: str, row: Row) -> None:
    assert row.path in message, message
    assert row.reason.casefold() in message.casefold(), message


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_through_fsspec(emulator: EmulatorProcess, row: Row, tmp_path: Path) -> None:
    account, api = prepared(emulator, row)
    local = tmp_path / "local.wav"
    local.write_bytes(row.local)
    fs = make_fs(account)
    before = service_state(api)
    row.during(emulator, api)
    try:
        with pytest.raises(row.exception) as caught:
            row.fsspec(fs, local)
    finally:
        emulator.clear_faults()
    assert isinstance(caught.value, OSError) and caught.value.errno == row.code, caught.value
    check_message(str(caught.value), row)
    if row.code != errno.EACCES:  # with its key revoked, the account cannot be looked at
        assert service_state(api) == before


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_through_the_mount(emulator: EmulatorProcess, row: Row, tmp_path: Path) -> None:
    account, api = prepared(emulator, row)
    local = tmp_path / "local.wav"
    local.write_bytes(row.local)
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache", *row.mount_options):
        run("ls", str(mountpoint / TAKES))  # the folder is listed, as a user would have it
        before = service_state(api) if row.code != errno.EACCES else None
        row.during(emulator, api)
        try:
            result = run(*row.shell(mountpoint, local), check=False, input=row.stdin)
        finally:
            emulator.clear_faults()
        if row.shell(mountpoint, local)[0] == "cp":  # a refused new file is not left showing
            assert not os.path.lexists(mountpoint / row.path)
        log = (mountpoint / ".voicefs/errors.log").read_text()
    assert result.returncode != 0
    assert os.strerror(row.code) in result.stderr, result.stderr
    if row.logged:
        (line,) = [line for line in log.splitlines() if row.path in line] or [log]
        assert errno.errorcode[row.code] in line, log
        check_message(line, row)
    if before is not None:
        assert service_state(api) == before
