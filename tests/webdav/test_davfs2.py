"""davfs2, Linux's WebDAV filesystem, mounting `voicefs serve webdav` as a user mounts it
(`mount -t davfs`), then `cp`, `ls` and `rm` through it. Every effect is checked through the
service's API: a take copied in is uploaded exactly once, a take removed is deleted, and what
davfs2 makes for itself (the empty resource its LOCK of a new name announces, its local
`lost+found`) and the scratch files editors leave never reach the service.

How davfs2 talks to the server (seen on the wire): `cp` makes davfs2 LOCK the new name (the
server answers 201 with an empty placeholder), PUT the whole file, then UNLOCK; `rm` is one
DELETE. A file written through davfs2 is uploaded `delay_upload` seconds (10 by default) after
its last close, or when the filesystem is unmounted: `umount` runs umount.davfs, which waits
for the mount.davfs daemon to finish its uploads and exit. So the tests unmount before they
look at the service, and then nothing is left for davfs2 to send.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import Api, tone
from tests.emulator_process import EmulatorProcess
from tests.mount.mounting import require_fuse, run
from tests.webdav.conftest import Served, changes

MOUNT_DAVFS = Path("/usr/sbin/mount.davfs")
DAVFS_GROUP = "davfs2"  # mount.davfs, started by root, drops to this user and group


def escaped(value: str) -> str:
    """A value as davfs2.conf and its secrets file read it: space, tab, #, \\, " and ' each
    escaped with a backslash (davfs2.conf(5))."""
    return "".join(f"\\{c}" if c in " \t#\\\"'" else c for c in value)


def require_davfs2() -> None:
    """davfs2 needs FUSE and root (mount(8) runs mount.davfs for root only, without an fstab
    entry); with VOICEFS_REQUIRE_FUSE=1 a machine without them fails instead of skipping."""
    require_fuse()
    missing = []
    if not MOUNT_DAVFS.exists():
        missing.append(f"{MOUNT_DAVFS} (Debian's davfs2)")
    if os.geteuid() != 0:
        missing.append("root")
    try:
        grp.getgrnam(DAVFS_GROUP)
    except KeyError:
        missing.append(f"the {DAVFS_GROUP} group")
    if not missing:
        return
    if os.environ.get("VOICEFS_REQUIRE_FUSE") == "1":
        pytest.fail(f"davfs2 is required here (VOICEFS_REQUIRE_FUSE=1): missing {missing}")
    pytest.skip(f"davfs2 cannot mount here: missing {missing}")


class Davfs2:
    """One davfs2 mount of a served account, with its own configuration, credentials and
    cache, so nothing in /etc/davfs2 or ~/.davfs2 is read or changed."""

    def __init__(self, served: Served, directory: Path) -> None:
        self.served = served
        self.path = directory / "mnt"
        self.path.mkdir(parents=True)
        self.secrets = directory / "secrets"
        self.config = directory / "davfs2.conf"
        # The cache directory cannot be under tmp_path: mount.davfs creates its cache as the
        # davfs2 user, which cannot pass /tmp/pytest-of-root (mode 0700). So it is a private
        # directory of its own in /tmp: root's, writable by the davfs2 group only, as
        # mount.davfs requires of a cache directory that is not its system one.
        self.cache = Path(tempfile.mkdtemp(prefix="voicefs-davfs2-cache-"))
        os.chown(self.cache, 0, grp.getgrnam(DAVFS_GROUP).gr_gid)
        self.cache.chmod(0o770)
        # The credentials, given non-interactively: davfs2 refuses a secrets file that others
        # could read.
        self.secrets.write_text(
            f"{escaped(served.url)} {escaped(served.user)} {escaped(served.password)}\n"
        )
        self.secrets.chmod(0o600)
        self.config.write_text(
            "\n".join(
                [
                    f"secrets {escaped(str(self.secrets))}",
                    f"cache_dir {escaped(str(self.cache))}",
                    "ask_auth 0",  # never prompt: fail if the secrets do not log in
                    # Linux 6.16 and later ask FUSE_READDIR for as much as the caller's
                    # buffer (32 KiB for ls); davfs2 1.6 answers EINVAL to any request larger
                    # than its message buffer (16 KiB by default), so every `ls` fails with
                    # "Invalid argument". A 64 KiB buffer holds what the kernel asks.
                    "buf_size 64",
                    # Locks on, as davfs2 is used: a new file is LOCKed before its content
                    # comes, which the server answers with a placeholder that must never be
                    # sent, and the PUT that follows must upload once. Without locks that path
                    # would go untested.
                    "use_locks 1",
                    "",
                ]
            )
        )
        self.mounted = False

    def mount(self) -> None:
        result = subprocess.run(
            ["mount", "-t", "davfs", self.served.url, str(self.path), "-o", f"conf={self.config}"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode != 0 or not os.path.ismount(self.path):
            pytest.fail(f"mount -t davfs exited with {result.returncode}: {result.stderr}")
        self.mounted = True

    def unmount(self) -> None:
        """`umount`, which returns once davfs2 has uploaded what is still to be sent."""
        if not self.mounted:
            return
        self.mounted = False
        result = subprocess.run(
            ["umount", str(self.path)], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0 or os.path.ismount(self.path):
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True, check=False)
            pytest.fail(f"umount of davfs2 exited with {result.returncode}: {result.stderr}")

    def close(self) -> None:
        try:
            self.unmount()
        finally:
            shutil.rmtree(self.cache, ignore_errors=True)


@pytest.fixture
def davfs2(webdav: Served, tmp_path: Path) -> Iterator[Davfs2]:
    """The served account mounted with davfs2; unmounted (uploads finished) at the end."""
    require_davfs2()
    mount = Davfs2(webdav, tmp_path / "davfs2")
    try:
        mount.mount()
        yield mount
    finally:
        mount.close()


@pytest.fixture
def takes(api: Api) -> dict[str, Any]:
    """Project/Takes with two originals, take.wav and take.flac."""
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    flac = api.upload(folder["id"], tone("flac", hz=330), "take.flac").json()
    return {"folder": folder, "take": take, "flac": flac}


def originals(api: Api, folder_id: str) -> list[str]:
    return sorted(r["file_name"] for r in api.recordings(folder_id) if r["type"] == "original")


def test_cp_of_two_takes_uploads_each_exactly_once(
    takes: dict[str, Any],
    davfs2: Davfs2,
    api: Api,
    emulator: EmulatorProcess,
    tmp_path: Path,
) -> None:
    """Each take is LOCKed, PUT and UNLOCKed by davfs2: one upload each, with its bytes, and
    nothing else changes (the placeholders the LOCKs made are never sent)."""
    local = tmp_path / "session"
    local.mkdir()
    sent = {
        "take 1.wav": tone("wav", seconds=0.5, hz=300),
        "take 2.wav": tone("wav", seconds=0.7, hz=400),
    }
    for name, data in sent.items():
        (local / name).write_bytes(data)
    emulator.reset_request_counts()
    run("cp", *(str(local / name) for name in sent), str(davfs2.path / "Project/Takes/"))
    davfs2.unmount()
    assert changes(emulator) == {"POST /api/recordings": 2}
    recordings = api.recordings(takes["folder"]["id"])
    names = sorted(r["file_name"] for r in recordings)
    assert names == ["take 1.wav", "take 2.wav", "take.flac", "take.wav"]  # each one once
    uploaded = {r["file_name"]: r for r in recordings}
    for name, data in sent.items():
        assert api.download(uploaded[name]).content == data


def test_ls_shows_the_folders_recordings(
    takes: dict[str, Any], davfs2: Davfs2, emulator: EmulatorProcess
) -> None:
    """A folder lists its recordings, their sidecars and recordings.csv, with the service's
    sizes; the root lists the project. Listing changes nothing."""
    emulator.reset_request_counts()
    folder = davfs2.path / "Project/Takes"
    assert sorted(run("ls", "-1", str(folder)).stdout.splitlines()) == [
        "recordings.csv",
        "take.flac",
        "take.flac.conversions",
        "take.wav",
        "take.wav.conversions",
    ]
    assert (folder / "take.wav").stat().st_size == takes["take"]["size"]
    assert (folder / "take.flac").stat().st_size == takes["flac"]["size"]
    root = run("ls", "-1", str(davfs2.path)).stdout.splitlines()
    assert {"Project", "projects.csv"} <= set(root), root
    assert changes(emulator) == {}


def test_rm_deletes_the_take_on_the_service(
    takes: dict[str, Any], davfs2: Davfs2, api: Api, emulator: EmulatorProcess
) -> None:
    """`rm` is one DELETE, which deletes the recording at once; the other stays."""
    emulator.reset_request_counts()
    run("rm", str(davfs2.path / "Project/Takes/take.wav"))
    assert originals(api, takes["folder"]["id"]) == ["take.flac"]
    assert changes(emulator) == {"DELETE /api/recordings/{recording_id}": 1}
    assert "take.wav" not in os.listdir(davfs2.path / "Project/Takes")
    davfs2.unmount()
    assert changes(emulator) == {"DELETE /api/recordings/{recording_id}": 1}


def test_davfs2s_own_files_and_scratch_names_never_reach_the_service(
    takes: dict[str, Any], davfs2: Davfs2, api: Api, emulator: EmulatorProcess
) -> None:
    """A `touch`ed new take (davfs2 LOCKs it and PUTs it empty: an announcement, not a
    recording), an editor's swap file, a backup, macOS and Office companions: all written
    through davfs2, shown while mounted, and none of them sent. davfs2's `lost+found` (its
    local backup directory) shows at the root and is no project."""
    folder = davfs2.path / "Project/Takes"
    scratch = {
        ".take.wav.swp": b"vim swap",
        "take.wav.tmp": b"half a download",
        "._take.wav": b"AppleDouble",
        ".DS_Store": b"Finder",
        "~$notes.docx": b"Office lock",
    }
    emulator.reset_request_counts()
    run("touch", str(folder / "announced.wav"))
    for name, data in scratch.items():
        (folder / name).write_bytes(data)
    listed = set(os.listdir(folder))
    assert {"announced.wav", *scratch} <= listed, listed
    assert "lost+found" in os.listdir(davfs2.path)
    davfs2.unmount()
    assert changes(emulator) == {}
    assert originals(api, takes["folder"]["id"]) == ["take.flac", "take.wav"]
    projects = api.ok("GET", "/api/projects", params={"limit": 100})["list"]
    assert [p["name"] for p in projects] == ["Project"]
