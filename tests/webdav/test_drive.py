"""The drive over WebDAV behaves as through the mount: listings, reads (with ranges), uploads,
orders, stars, notes, renames and deletes, each checked through the service's API; errors as
HTTP statuses whose body names the path and the reason; a listed folder costs no request."""

from __future__ import annotations

import posixpath
import socket
import xml.etree.ElementTree as ElementTree
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess, wait_until
from tests.webdav.conftest import Served, changes, serve_webdav

DAV = "{DAV:}"


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with one original, take.wav."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    return {"folder": folder, "take": take}


def propfind(client: requests.Session, url: str, depth: str = "1") -> dict[str, dict[str, str]]:
    """The members a PROPFIND lists, by decoded path, with their properties' texts."""
    response = client.request("PROPFIND", url, headers={"Depth": depth})
    assert response.status_code == 207, response.text
    found = {}
    for item in ElementTree.fromstring(response.content).iter(f"{DAV}response"):
        href = unquote(item.findtext(f"{DAV}href") or "")
        props = {
            prop.tag.removeprefix(DAV): (prop.text or "")
            for prop in item.iter()
            if prop.tag.startswith(DAV) and prop.tag != f"{DAV}response"
        }
        if item.find(f".//{DAV}collection") is not None:
            props["collection"] = "yes"
        found[href] = props
    return found


def originals(api: Api, folder_id: str) -> list[str]:
    """The folder's originals by the names the tree gives them (CONTRACT §3: the label with
    the file's extension, else the file's name)."""
    return sorted(
        f"{r['label']}{posixpath.splitext(r['file_name'])[1]}" if r.get("label") else r["file_name"]
        for r in api.recordings(folder_id)
        if r["type"] == "original"
    )


def test_a_folder_lists_as_the_mount_shows_it(
    takes: dict[str, Any], webdav: Served, emulator: EmulatorProcess
) -> None:
    client = webdav.session()
    listing = propfind(client, webdav.href("Project/Takes/"))
    assert set(listing) == {
        "/Project/Takes/",
        "/Project/Takes/take.wav",
        "/Project/Takes/take.wav.conversions/",
        "/Project/Takes/recordings.csv",
    }
    take = listing["/Project/Takes/take.wav"]
    assert int(take["getcontentlength"]) == takes["take"]["size"]
    assert take["getcontenttype"] == "audio/x-wav" or take["getcontenttype"].startswith("audio/")
    assert "collection" in listing["/Project/Takes/take.wav.conversions/"]
    # Listed once: a second PROPFIND within --cache-ttl asks the service nothing.
    emulator.reset_request_counts()
    assert propfind(client, webdav.href("Project/Takes/")) == listing
    assert emulator.request_counts() == {}


def test_a_get_reads_the_recording_and_seeks(
    takes: dict[str, Any], webdav: Served, api: Api
) -> None:
    audio = api.download(takes["take"]).content
    client = webdav.session()
    whole = client.get(webdav.href("Project/Takes/take.wav"))
    assert whole.status_code == 200 and whole.content == audio
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["ETag"]
    part = client.get(webdav.href("Project/Takes/take.wav"), headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == audio[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(audio)}"


def test_a_generated_file_is_read_whole_with_its_real_size(
    takes: dict[str, Any], webdav: Served
) -> None:
    """A table whose size only making it tells is listed without one and read complete."""
    client = webdav.session()
    table = client.get(webdav.href("projects.csv"))
    assert table.status_code == 200
    assert int(table.headers["Content-Length"]) == len(table.content) > 0
    assert b"Project" in table.content


def test_a_put_uploads_once_and_a_put_over_a_recording_is_refused(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    client = webdav.session()
    emulator.reset_request_counts()
    put = client.put(webdav.href("Project/Takes/second take.wav"), data=tone("wav", 0.5))
    assert put.status_code == 201, put.text
    assert changes(emulator) == {"POST /api/recordings": 1}
    assert originals(api, takes["folder"]["id"]) == ["second take.wav", "take.wav"]
    again = client.put(webdav.href("Project/Takes/take.wav"), data=tone("wav", 0.5))
    assert again.status_code == 403 and "take.wav" in again.text
    assert changes(emulator) == {"POST /api/recordings": 1}


def test_what_the_service_refuses_is_a_status_naming_the_path_and_reason(
    takes: dict[str, Any], webdav: Served, api: Api
) -> None:
    client = webdav.session()
    not_audio = client.put(webdav.href("Project/Takes/notes.txt"), data=b"hello")
    assert not_audio.status_code == 403 and "notes.txt" in not_audio.text
    broken = client.put(webdav.href("Project/Takes/broken.wav"), data=b"not audio at all")
    assert broken.status_code == 422 and "broken.wav" in broken.text
    missing = client.get(webdav.href("Project/Nowhere/take.wav"))
    assert missing.status_code == 404
    assert originals(api, takes["folder"]["id"]) == ["take.wav"]
    listed = propfind(client, webdav.href("Project/Takes/"))
    assert "/Project/Takes/broken.wav" not in listed  # a refused PUT leaves nothing behind


def test_order_star_and_note_through_puts(takes: dict[str, Any], webdav: Served, api: Api) -> None:
    client = webdav.session()
    take_id = takes["take"]["id"]
    order = client.put(webdav.href("Project/Takes/take.wav.conversions/order.txt"), data=b"Alice\n")
    assert order.status_code == 204, order.text

    def converted() -> list[dict[str, Any]] | None:
        found = [r for r in api.recordings(takes["folder"]["id"]) if r["type"] != "original"]
        return found or None

    (conversion,) = wait_until(converted, timeout=20)
    assert conversion["model_name"] == "Alice"

    star = client.put(webdav.href("Project/Takes/take.wav.star"), data=b"")
    assert star.status_code == 201, star.text
    assert api.ok("GET", f"/api/recordings/{take_id}")["starred"] is True
    assert client.delete(webdav.href("Project/Takes/take.wav.star")).status_code == 204
    assert api.ok("GET", f"/api/recordings/{take_id}")["starred"] is False

    note = client.put(webdav.href("Project/Takes/take.wav.note.txt"), data=b"breathy, keep")
    assert note.status_code in (201, 204), note.text
    assert api.ok("GET", f"/api/recordings/{take_id}")["note"]["text"] == "breathy, keep"


def test_move_renames_and_delete_removes_on_the_service(
    takes: dict[str, Any], webdav: Served, api: Api
) -> None:
    client = webdav.session()
    moved = client.request(
        "MOVE",
        webdav.href("Project/Takes/take.wav"),
        headers={"Destination": webdav.href("Project/Takes/keeper.wav")},
    )
    assert moved.status_code in (201, 204), moved.text
    assert originals(api, takes["folder"]["id"]) == ["keeper.wav"]
    assert client.get(webdav.href("Project/Takes/keeper.wav")).status_code == 200
    assert client.delete(webdav.href("Project/Takes/keeper.wav")).status_code == 204
    assert originals(api, takes["folder"]["id"]) == []


def test_mkcol_makes_a_folder_and_delete_of_it_removes_its_takes(
    takes: dict[str, Any], webdav: Served, api: Api
) -> None:
    client = webdav.session()
    assert client.request("MKCOL", webdav.href("Project/Session 2")).status_code == 201
    assert client.put(webdav.href("Project/Session 2/a.wav"), data=tone("wav", 0.3)).ok
    project = api.ok("GET", "/api/projects")["list"][0]
    folders = api.ok("GET", "/api/folders", params={"project_id": project["id"]})["list"]
    session = next(f for f in folders if f["name"] == "Session 2")
    assert originals(api, session["id"]) == ["a.wav"]
    assert client.delete(webdav.href("Project/Session 2/")).status_code == 204
    folders = api.ok("GET", "/api/folders", params={"project_id": project["id"]})["list"]
    assert [f["name"] for f in folders] == ["Takes"]


def test_copy_of_a_recording_uploads_its_bytes_once(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    client = webdav.session()
    emulator.reset_request_counts()
    copied = client.request(
        "COPY",
        webdav.href("Project/Takes/take.wav"),
        headers={"Destination": webdav.href("Project/Takes/copy.wav")},
    )
    assert copied.status_code in (201, 204), copied.text
    assert changes(emulator) == {"POST /api/recordings": 1}
    assert originals(api, takes["folder"]["id"]) == ["copy.wav", "take.wav"]


def test_an_interrupted_put_sends_nothing(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    """A client that goes away in the middle of a body: what was staged is dropped, and
    nothing reaches the service."""
    host, port = webdav.url.split("//")[1].rstrip("/").split(":")
    whole = tone("ogg", 2.0)  # no header that tells its length: only the PUT's does
    client = webdav.session()
    errors = webdav.href(".voicefs/errors.log")
    emulator.reset_request_counts()
    with socket.create_connection((host, int(port))) as connection:
        request = (
            "PUT /Project/Takes/cut.ogg HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: {basic(webdav)}\r\n"
            f"Content-Length: {len(whole)}\r\n\r\n"
        )
        connection.sendall(request.encode() + whole[: len(whole) // 2])
    # The server tells in errors.log, as it does of every write refused out of sight.
    said = wait_until(lambda: "cut.ogg" in client.get(errors).text and client.get(errors).text)
    assert "nothing was sent" in said
    assert originals(api, takes["folder"]["id"]) == ["take.wav"]
    assert "POST /api/recordings" not in changes(emulator)
    assert "cut.ogg" not in str(propfind(webdav.session(), webdav.href("Project/Takes/")))


def basic(webdav: Served) -> str:
    request = requests.Request("GET", webdav.url, auth=(webdav.user, webdav.password)).prepare()
    return request.headers["Authorization"]


def test_read_only_refuses_every_change(account: Account, tmp_path: Any, api: Api) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    served = serve_webdav(account, tmp_path, "--read-only")
    try:
        client = served.session()
        put = client.put(served.href("Project/Takes/x.wav"), data=tone("wav", 0.3))
        # WsgiDAV answers the methods a read-only provider never allows with 405
        assert put.status_code in (403, 405)
        assert client.request("MKCOL", served.href("Project/New")).status_code in (403, 405)
        assert propfind(client, served.href("Project/Takes/"))  # reading still works
    finally:
        served.stop()
    assert originals(api, folder["id"]) == []


def test_an_absent_service_is_503_with_retry_after(
    own_emulator: EmulatorProcess, tmp_path: Any
) -> None:
    account = own_emulator.new_account()
    api = Api.of(account)
    folder = api.folder(api.project("Project")["id"], "Takes")
    served = serve_webdav(account, tmp_path, "--timeout", "2")
    try:
        client = served.session()
        assert propfind(client, served.href("Project/Takes/"))
        own_emulator.stop()
        put = client.put(served.href("Project/Takes/late.wav"), data=tone("wav", 0.3))
        assert put.status_code == 503, put.text
        assert int(put.headers["Retry-After"]) > 0 and "late.wav" in put.text
        own_emulator.start()
    finally:
        served.stop()
    assert originals(api, folder["id"]) == []


LOCK_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">'
    "<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
)


def test_a_locked_take_or_folder_is_not_deleted_by_another_client(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    """A lock (davfs2 holds one on a file it writes) keeps others' DELETEs off it and off
    the folder that holds it: 423, and the service keeps the take."""
    holder, other = webdav.session(), webdav.session()
    url = webdav.href("Project/Takes/take.wav")
    locked = holder.request("LOCK", url, data=LOCK_BODY, headers={"Timeout": "Second-60"})
    assert locked.status_code == 200, locked.text
    emulator.reset_request_counts()
    assert other.delete(url).status_code == 423
    assert other.delete(webdav.href("Project/Takes/")).status_code == 423
    assert changes(emulator) == {}
    assert originals(api, takes["folder"]["id"]) == ["take.wav"]
    token = locked.headers["Lock-Token"]
    assert holder.delete(url, headers={"If": f"({token})"}).status_code == 204
    assert originals(api, takes["folder"]["id"]) == []


def test_a_conditional_put_of_a_new_name_fails_and_sends_nothing(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    client = webdav.session()
    emulator.reset_request_counts()
    for condition in ({"If-Match": "*"}, {"If": "(<DAV:no-lock>)"}):
        put = client.put(webdav.href("Project/Takes/new.wav"), data=tone(), headers=condition)
        assert put.status_code == 412, (condition, put.text)
    assert changes(emulator) == {}
    assert originals(api, takes["folder"]["id"]) == ["take.wav"]


def test_copy_to_a_scratch_name_stays_local(
    takes: dict[str, Any], webdav: Served, api: Api, emulator: EmulatorProcess
) -> None:
    client = webdav.session()
    emulator.reset_request_counts()
    copied = client.request(
        "COPY",
        webdav.href("Project/Takes/take.wav"),
        headers={"Destination": webdav.href("Project/Takes/take.wav.tmp")},
    )
    assert copied.status_code in (201, 204), copied.text
    assert changes(emulator) == {}
    local = client.get(webdav.href("Project/Takes/take.wav.tmp"))
    assert local.content == api.download(takes["take"]).content


def test_a_bad_time_from_a_client_is_refused_with_words(
    takes: dict[str, Any], webdav: Served
) -> None:
    body = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
        "<D:getlastmodified>yesterday-ish</D:getlastmodified></D:prop></D:set></D:propertyupdate>"
    )
    client = webdav.session()
    url = webdav.href("Project/Takes/take.wav")
    before = propfind(client, url, depth="0")["/Project/Takes/take.wav"]["getlastmodified"]
    patched = client.request("PROPPATCH", url, data=body)
    assert patched.status_code == 207
    assert "Internal" not in patched.text and "403 Forbidden" in patched.text
    after = propfind(client, url, depth="0")["/Project/Takes/take.wav"]["getlastmodified"]
    assert after == before
    assert "Traceback" not in webdav.log.read_text()
