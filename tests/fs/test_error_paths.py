"""Every error names the path the caller used (CONTRACT §7): writes while the service fails,
mkdir of what exists, and uploads whose outcome cannot be known, whose message says they may
have happened. Internal ids of the service are not what a user can act on."""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.fs.defect_helpers import ORDER_ROUTE, UUID, conversions, file_names
from tests.fs.helpers import (
    FOLDER,
    PROJECT,
    UPLOAD,
    counted,
    folder_id,
    make_fs,
    raises_errno,
)
from voicefs.filesystem import VoiceFileSystem

TAKE = f"{FOLDER}/take.wav"
OTHER = f"{FOLDER}/other.wav"
SIDECAR = f"{TAKE}.conversions"
# Give up soon: with every request failing, each call ends after a retry or two.
IMPATIENT = {"max_retries": 1, "backoff": 0.01}
# The phrase an error about an upload or order of unknown outcome carries.
MAY_HAVE = "may have"


@pytest.fixture
def sick(fs: VoiceFileSystem, api: Api, account: Account, folder: str) -> VoiceFileSystem:
    """A filesystem that gives up soon, with take.wav and other.wav in Project/Takes, and
    everything the writes below need already listed (so the faults hit the writes)."""
    fs.pipe_file(TAKE, tone("wav"))
    fs.pipe_file(OTHER, tone("wav"))
    sick = make_fs(account, **IMPATIENT)
    for path in ("", PROJECT, FOLDER, SIDECAR):
        sick.ls(path)
    sick.cat_file(f"{SIDECAR}/order.txt")  # the voice catalogue
    sick.ls(".voicefs/calibrations")  # what an order's `calibration=` may name
    return sick


@pytest.fixture
def failing(emulator: EmulatorProcess) -> Iterator[Callable[[str], None]]:
    """Makes every request of the service fail (`error`: a 500; `drop`: the connection is
    closed), half of them after they were carried out; cleared again afterwards."""

    def fail(mode: str) -> None:
        emulator.set_faults(fail_rate=1.0, fail_mode=mode, seed=7)

    yield fail
    emulator.clear_faults()


def assert_nothing_doubled(api: Api, account: Account) -> None:
    """The service holds each thing at most once (originals, conversions, folders) and
    take.wav is still there."""
    takes = folder_id(make_fs(account))
    names = file_names(api, takes)
    assert len(names) == len(set(names)) and "take.wav" in names, names
    voices = [c["model_name"] for c in conversions(api, takes)]
    assert len(voices) == len(set(voices)), voices
    project = next(p for p in api.ok("GET", "/api/projects")["list"] if p["name"] == PROJECT)
    found = api.ok("GET", "/api/folders", params={"project_id": project["id"]})["list"]
    folders = [f["name"] for f in found]
    assert len(folders) == len(set(folders)), folders


Write = Callable[[VoiceFileSystem], Any]
# what the caller does, and the path the caller used
WRITES: dict[str, tuple[Write, str]] = {
    "upload": (lambda fs: fs.pipe_file(f"{FOLDER}/new.wav", tone("wav")), f"{FOLDER}/new.wav"),
    "order": (lambda fs: fs.pipe_file(f"{SIDECAR}/order.txt", b"Alice\n"), f"{SIDECAR}/order.txt"),
    "note": (lambda fs: fs.pipe_file(f"{TAKE}.note.txt", b"Too loud"), f"{TAKE}.note.txt"),
    "star": (lambda fs: fs.pipe_file(f"{TAKE}.star", b""), f"{TAKE}.star"),
    "mkdir": (lambda fs: fs.mkdir(f"{PROJECT}/New"), f"{PROJECT}/New"),
    "rm": (lambda fs: fs.rm(OTHER), OTHER),
    "rename": (lambda fs: fs.mv(TAKE, f"{FOLDER}/renamed.wav"), TAKE),
}


@pytest.mark.parametrize(("write", "path"), WRITES.values(), ids=WRITES.keys())
def test_a_write_while_the_service_fails_names_the_path_not_an_id(
    sick: VoiceFileSystem,
    api: Api,
    account: Account,
    failing: Callable[[str], None],
    emulator: EmulatorProcess,
    write: Write,
    path: str,
) -> None:
    """When the service answers 500 to everything, the error names the path written and the
    service's reason, and no internal id."""
    failing("error")
    with raises_errno(OSError, errno.EIO, path) as caught:
        write(sick)
    emulator.clear_faults()
    message = str(caught.value)
    assert not UUID.search(message), message
    assert "injected fault" in message, message  # the service's own detail
    assert_nothing_doubled(api, account)


@pytest.mark.parametrize("path", [PROJECT, FOLDER])
def test_mkdir_of_an_existing_directory_names_it(
    fs: VoiceFileSystem, api: Api, folder: str, path: str
) -> None:
    """mkdir of a project or folder that exists fails with EEXIST naming it."""
    with raises_errno(FileExistsError, errno.EEXIST, path):
        fs.mkdir(path)
    assert [p["name"] for p in api.ok("GET", "/api/projects")["list"]] == [PROJECT]


@pytest.mark.parametrize("path", [f"{PROJECT}/..", f"{FOLDER}/.."])
def test_mkdir_of_a_dot_dot_path_names_the_path_given(
    fs: VoiceFileSystem, api: Api, folder: str, path: str
) -> None:
    """mkdir of "Project/.." (a directory that exists) fails with a message that contains
    "Project/..", not an empty name."""
    with pytest.raises(OSError) as caught:
        fs.mkdir(path)
    assert caught.value.errno in (errno.EEXIST, errno.EPERM), repr(caught.value)
    assert path in str(caught.value), repr(caught.value)
    project = api.ok("GET", "/api/projects")["list"]
    assert [p["name"] for p in project] == [PROJECT]
    found = api.ok("GET", "/api/folders", params={"project_id": project[0]["id"]})["list"]
    assert [f["name"] for f in found] == ["Takes"]


# the two creates, and the route of the request whose answer is lost
UNKNOWN = {"upload": (*WRITES["upload"], UPLOAD), "order": (*WRITES["order"], ORDER_ROUTE)}


@pytest.mark.parametrize(("write", "path", "route"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_a_create_of_unknown_outcome_says_it_may_have_happened(
    sick: VoiceFileSystem,
    api: Api,
    account: Account,
    failing: Callable[[str], None],
    emulator: EmulatorProcess,
    write: Write,
    path: str,
    route: str,
) -> None:
    """When every connection drops after the request was sent, the error names the path and
    says the upload (or order) may have happened; nothing is doubled."""
    failing("drop")
    with counted(emulator) as requests, raises_errno(OSError, errno.EIO, path) as caught:
        write(sick)
    emulator.clear_faults()
    assert requests[route] >= 1, requests  # it was sent: only the answer is missing
    message = str(caught.value)
    assert MAY_HAVE in message.lower(), message
    assert not UUID.search(message), message
    assert_nothing_doubled(api, account)
