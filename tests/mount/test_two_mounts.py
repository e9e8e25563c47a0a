"""Two mounts of one account sharing one cache directory (CONTRACT §6: the cache is safe with
two mounts at once): both read the right bytes, and an upload through one shows in the other."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, wait_until
from tests.mount.mounting import mounted, run


def test_two_mounts_share_a_cache_directory(account: Account, api: Api, tmp_path: Path) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav", seconds=5.0), "take.wav").json()
    expected = api.download(take).content
    cache = tmp_path / "cache"
    local = tmp_path / "new.flac"
    local.write_bytes(tone("flac"))
    with (
        mounted(account, tmp_path / "one", cache),
        mounted(account, tmp_path / "two", cache, "--cache-ttl", "2"),
    ):
        one, two = tmp_path / "one/Project/Takes", tmp_path / "two/Project/Takes"
        assert (one / "take.wav").read_bytes() == expected
        assert (two / "take.wav").read_bytes() == expected
        # inode numbers come from the service's ids: the same in every mount
        assert (one / "take.wav").stat().st_ino == (two / "take.wav").stat().st_ino
        run("cp", str(local), str(one / "new.flac"))
        names = [r["file_name"] for r in api.recordings(folder["id"])]
        assert sorted(names) == ["new.flac", "take.wav"]
        # the other mount trusts its listing until it is --cache-ttl old (2 s here), then
        # the new upload shows there by itself
        wait_until(lambda: True if (two / "new.flac").exists() else None, timeout=20)
        assert (two / "new.flac").read_bytes() == tone("flac")
    assert (cache / "audio" / take["id"]).read_bytes() == expected  # one cached copy, complete
