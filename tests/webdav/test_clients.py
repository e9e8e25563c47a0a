"""What real WebDAV clients do, replayed against a real server: macOS Finder's and Windows
Explorer's request sequences, rclone (Debian's) and webdav4's fsspec client. Each ends with
exactly one upload of the complete file, and their scratch files are never sent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.webdav.conftest import Served, changes

LOCK_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner><D:href>{owner}</D:href></D:owner></D:lockinfo>"
)
WIN32_TIMES = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
    "<Z:Win32CreationTime>Tue, 01 Dec 2026 10:00:00 GMT</Z:Win32CreationTime>"
    "<Z:Win32LastAccessTime>Tue, 01 Dec 2026 10:00:00 GMT</Z:Win32LastAccessTime>"
    "<Z:Win32LastModifiedTime>Tue, 01 Dec 2026 10:00:00 GMT</Z:Win32LastModifiedTime>"
    "<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>"
    "</D:prop></D:set></D:propertyupdate>"
)


@pytest.fixture
def folder(api: Api) -> dict[str, Any]:
    return api.folder(api.project("Project")["id"], "Takes")


def originals(api: Api, folder_id: str) -> dict[str, dict[str, Any]]:
    return {r["file_name"]: r for r in api.recordings(folder_id) if r["type"] == "original"}


def lock(client: requests.Session, url: str, owner: str) -> str:
    response = client.request(
        "LOCK",
        url,
        data=LOCK_BODY.format(owner=owner),
        headers={"Timeout": "Second-600", "Content-Type": "text/xml"},
    )
    assert response.status_code in (200, 201), response.text
    return response.headers["Lock-Token"]


def test_finder_copies_a_take_as_finder_does(
    folder: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    """Finder: LOCK of the new name, an empty PUT, `._name` AppleDouble and `.DS_Store`,
    the PUT with the content under the lock, UNLOCK."""
    client = webdav.session()
    client.headers["User-Agent"] = "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (x86_64)"
    take = tone("wav", 1.0)
    url = webdav.href("Project/Takes/take.wav")
    emulator.reset_request_counts()
    token = lock(client, url, "finder")
    assert client.request("PROPFIND", url, headers={"Depth": "0"}).status_code == 207
    empty = client.put(url, data=b"", headers={"If": f"({token})"})
    assert empty.status_code in (200, 201, 204), empty.text
    assert changes(emulator) == {}  # an announced name: nothing sent yet
    for scratch in ("._take.wav", ".DS_Store"):
        assert client.put(webdav.href(f"Project/Takes/{scratch}"), data=b"\0\5\26\7").ok
    full = client.put(url, data=take, headers={"If": f"({token})"})
    assert full.status_code in (200, 201, 204), full.text
    assert client.request("UNLOCK", url, headers={"Lock-Token": token}).status_code == 204
    assert changes(emulator) == {"POST /api/recordings": 1}
    (uploaded,) = originals(api, folder["id"]).values()
    assert uploaded["file_name"] == "take.wav" and uploaded["size"] == len(take)
    # The scratch files are there for Finder, and only for Finder.
    assert client.get(webdav.href("Project/Takes/._take.wav")).content == b"\0\5\26\7"
    assert client.get(url).content == api.download(uploaded).content


def test_explorer_copies_a_take_as_explorer_does(
    folder: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    """Windows' WebClient: PUT of nothing, LOCK, PUT of the content, PROPPATCH of the Win32
    times, UNLOCK; `desktop.ini` probed, `Thumbs.db` written, Office's `~$` owner file."""
    client = webdav.session()
    client.headers["User-Agent"] = "Microsoft-WebDAV-MiniRedir/10.0.19045"
    take = tone("wav", 1.0)
    url = webdav.href("Project/Takes/take.wav")
    emulator.reset_request_counts()
    assert client.get(webdav.href("Project/Takes/desktop.ini")).status_code == 404
    assert client.put(url, data=b"").status_code in (200, 201, 204)
    token = lock(client, url, "explorer")
    full = client.put(url, data=take, headers={"If": f"({token})"})
    assert full.status_code in (200, 201, 204), full.text
    patched = client.request("PROPPATCH", url, data=WIN32_TIMES, headers={"If": f"({token})"})
    assert patched.status_code == 207, patched.text
    assert client.request("UNLOCK", url, headers={"Lock-Token": token}).status_code == 204
    for scratch in ("Thumbs.db", "~$take.docx", "desktop.ini"):
        assert client.put(webdav.href(f"Project/Takes/{scratch}"), data=b"local").ok
    assert changes(emulator) == {"POST /api/recordings": 1}
    (uploaded,) = originals(api, folder["id"]).values()
    assert uploaded["size"] == len(take)
    listing = client.request("PROPFIND", url, headers={"Depth": "0"}).text
    assert "01 Dec 2026 10:00:00" in listing  # the time Explorer set, kept locally


@pytest.fixture
def rclone_remote(webdav: Served, tmp_path: Path) -> dict[str, str]:
    """An rclone remote `v:` for the server, in the environment as rclone reads it."""
    obscured = subprocess.run(
        ["rclone", "obscure", webdav.password], capture_output=True, text=True, check=True
    ).stdout.strip()
    return {
        **os.environ,
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
        "RCLONE_CONFIG_V_TYPE": "webdav",
        "RCLONE_CONFIG_V_URL": webdav.url,
        "RCLONE_CONFIG_V_VENDOR": "other",
        "RCLONE_CONFIG_V_USER": webdav.user,
        "RCLONE_CONFIG_V_PASS": obscured,
    }


def rclone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["rclone", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_rclone_copies_syncs_and_cats(
    folder: dict[str, Any],
    webdav: Served,
    api: Api,
    emulator: EmulatorProcess,
    rclone_remote: dict[str, str],
    tmp_path: Path,
) -> None:
    session = tmp_path / "session"
    session.mkdir()
    for n, ext in enumerate(("wav", "flac", "ogg")):
        (session / f"take {n}.{ext}").write_bytes(tone(ext, seconds=0.5, hz=200 + 50 * n))
    emulator.reset_request_counts()
    rclone(rclone_remote, "copy", str(session), "v:Project/Takes")
    assert changes(emulator) == {"POST /api/recordings": 3}
    assert sorted(originals(api, folder["id"])) == ["take 0.wav", "take 1.flac", "take 2.ogg"]
    # A sync sends nothing the service has; what the drive makes (tables, sidecars) is
    # deleted by rclone as extra, and such a delete changes nothing there.
    for _ in range(2):
        emulator.reset_request_counts()
        rclone(rclone_remote, "sync", str(session), "v:Project/Takes")
        assert changes(emulator) == {}
    assert len(originals(api, folder["id"])) == 3
    heard = subprocess.run(
        ["rclone", "cat", "v:Project/Takes/take 0.wav"],
        env=rclone_remote,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    assert heard == api.download(originals(api, folder["id"])["take 0.wav"]).content


def test_webdav4_reads_and_writes_through_fsspec(
    folder: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    from webdav4.fsspec import WebdavFileSystem

    fs = WebdavFileSystem(webdav.url, auth=(webdav.user, webdav.password))
    take = tone("flac", 0.5)
    emulator.reset_request_counts()
    with fs.open("Project/Takes/from fsspec.flac", "wb") as handle:
        handle.write(take)
    assert changes(emulator) == {"POST /api/recordings": 1}
    names = {posix.rsplit("/", 1)[-1] for posix in fs.ls("Project/Takes", detail=False)}
    assert {"from fsspec.flac", "recordings.csv"} <= names
    (uploaded,) = originals(api, folder["id"]).values()
    stored = api.download(uploaded).content
    assert fs.cat_file("Project/Takes/from fsspec.flac") == stored
    assert fs.cat_file("Project/Takes/from fsspec.flac", start=10, end=20) == stored[10:20]
