"""`voicefs mount --read-only`: browsing and reading work, every write is refused (EROFS)."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.helpers import Api, tone
from tests.emulator_process import Account, EmulatorProcess
from tests.mount.mounting import mounted, run


def test_a_read_only_mount_reads_and_refuses_writes(
    account: Account, api: Api, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    folder = api.folder(api.project("Project")["id"], "Takes")
    take = api.upload(folder["id"], tone("wav"), "take.wav").json()
    local = tmp_path / "new.wav"
    local.write_bytes(tone("wav"))
    mountpoint = tmp_path / "mnt"
    with mounted(account, mountpoint, tmp_path / "cache", "--read-only"):
        takes = mountpoint / "Project/Takes"
        assert (takes / "take.wav").read_bytes() == api.download(take).content
        emulator.reset_request_counts()
        for command in (
            ("cp", str(local), str(takes)),
            ("touch", str(takes / "take.wav.star")),
            ("rm", str(takes / "take.wav")),
            ("mkdir", str(mountpoint / "Other")),
        ):
            result = run(*command, check=False)
            assert result.returncode != 0 and "Read-only file system" in result.stderr, command
        assert not [route for route in emulator.request_counts() if not route.startswith("GET")]
    assert [r["file_name"] for r in api.recordings(folder["id"])] == ["take.wav"]
