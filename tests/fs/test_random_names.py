"""Random names and random bytes, written through fsspec and through the mount: each write is
either refused cleanly (an OSError with an errno, the service unchanged) or the service
holds exactly those bytes under exactly that name, once."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from tests.fs.helpers import make_fs
from tests.mount.mounting import mounted

CLEAN_ERRNOS = {
    errno.EINVAL,
    errno.ENAMETOOLONG,
    errno.EPERM,
    errno.ENOENT,
    errno.EEXIST,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.EILSEQ,
}
AWKWARD = ["/", "\x00", "..", ".", "\\", '"', "\n", "\r", "\t", " ", "~", "é", "Ω", "😀", "%2F"]

pieces = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
    st.text(alphabet="abcXYZ019-_", min_size=1, max_size=8),
)
stems = st.one_of(
    st.lists(pieces, min_size=1, max_size=6).map("".join),
    st.sampled_from(["n" * 41, "n" * 300, "..", ".", "Take", "take"]),
)
extensions = st.sampled_from([".wav", ".flac", ".WAV", ".txt", "", ".wav.conversions"])
contents = st.one_of(
    st.binary(max_size=2048),
    st.integers(min_value=100, max_value=900).map(lambda hz: tone("wav", seconds=0.2, hz=hz)),
)


TONE = tone("wav", seconds=0.2)


def holdings(api: Api, folder_id: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for recording in api.recordings(folder_id):
        found.setdefault(recording.get("file_name") or "", []).append(recording)
    return found


def assert_clean(error: BaseException) -> None:
    assert isinstance(error, OSError) and error.errno in CLEAN_ERRNOS, repr(error)


@pytest.fixture
def place(account: Account, api: Api) -> dict[str, Any]:
    project = api.project("Project")
    return {"folder": api.folder(project["id"], "Takes")}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stem=stems, extension=extensions, data=contents, twin=st.booleans())
@example(stem='say "hi"', extension=".wav", data=TONE, twin=False)  # names the upload's
@example(stem="C:\\takes\\one", extension=".wav", data=TONE, twin=False)  # form encoding
@example(stem="two\nlines", extension=".wav", data=TONE, twin=False)  # would change
@example(stem="Take", extension=".wav", data=TONE, twin=True)
def test_random_names_through_fsspec(
    account: Account,
    api: Api,
    place: dict[str, Any],
    stem: str,
    extension: str,
    data: bytes,
    twin: bool,
) -> None:
    fs = make_fs(account)
    folder = place["folder"]
    names = [stem + extension] + ([(stem + extension).swapcase()] if twin else [])
    for name in dict.fromkeys(names):
        before = holdings(api, folder["id"])
        try:
            fs.pipe_file(f"Project/Takes/{name}", data)
        except Exception as error:
            assert_clean(error)
            assert holdings(api, folder["id"]) == before, name
            continue
        stored = name.lstrip("/")  # "Takes//x.wav" is "Takes/x.wav", as in every path
        after = holdings(api, folder["id"])
        added = [r for r in after.get(stored, []) if r not in before.get(stored, [])]
        assert len(added) == 1, (name, after.get(stored))
        assert api.download(added[0]).content == data
        assert fs.cat_file(f"Project/Takes/{name}") == data
        api.ok("DELETE", f"/api/recordings/{added[0]['id']}")  # the next example starts clean


@pytest.fixture
def mount(account: Account, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("mount")
    with mounted(account, tmp / "mnt", tmp / "cache"):
        yield tmp / "mnt"


byte_stems = st.one_of(
    stems.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=20),  # not UTF-8, often
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stem=byte_stems, extension=extensions, data=contents)
def test_random_names_through_the_mount(
    emulator: EmulatorProcess,
    api: Api,
    place: dict[str, Any],
    mount: Path,
    stem: bytes,
    extension: str,
    data: bytes,
) -> None:
    """The test process itself writes, as any program would: open, write, close. Nothing
    lands beside the mount or outside its cache directory, whatever the name."""
    folder = place["folder"]
    assert set(os.listdir(mount.parent)) == {"mnt", "cache"}
    name = stem + extension.encode()
    assume(b"\x00" not in name)  # no program can pass a NUL in a path to the kernel
    target = os.fsencode(mount / "Project/Takes") + b"/" + name
    before = holdings(api, folder["id"])
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(descriptor, data)
        finally:
            os.close(descriptor)
    except OSError as error:
        assert_clean(error)
        assert holdings(api, folder["id"]) == before, name
        assert not os.path.lexists(target) or b"/" in name or name in (b".", b"..")
        return
    if not data:  # a close with nothing written is not the end: refused at the release
        wait_until(lambda: not os.path.lexists(target), timeout=10)
        assert holdings(api, folder["id"]) == before, name
        return
    text = name.decode()  # accepted: it was a UTF-8 name
    after = holdings(api, folder["id"])
    added = [r for r in after.get(text, []) if r not in before.get(text, [])]
    assert len(added) == 1, (name, after.get(text))
    assert api.download(added[0]).content == data
    with open(target, "rb") as readback:
        assert readback.read() == data
    os.unlink(target)
    cache = (mount.parent / "cache").resolve()
    assert all(path.resolve().is_relative_to(cache) for path in cache.rglob("*"))
