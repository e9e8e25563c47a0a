"""One mapping from HTTP status and `detail` to OSError subclasses with errno (CONTRACT §7)."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

from tests.api.conftest import WavFactory, make_client
from tests.emulator_process import Account, EmulatorProcess
from voicefs.api import (
    AccessDeniedError,
    Folder,
    InvalidRequestError,
    NameTooLongError,
    NotEnoughCreditsError,
    NotFoundError,
    TooLargeError,
    VoiceClient,
)
from voicefs.api.errors import (
    AlreadyExistsError,
    RateLimitedError,
    ServiceUnavailableError,
    error_for_status,
)
from voicefs.api.limits import NAME_MAX, NOTE_MAX

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("status", "cls", "code", "builtin"),
    [
        (400, InvalidRequestError, errno.EINVAL, ValueError),
        (401, AccessDeniedError, errno.EACCES, PermissionError),
        (402, NotEnoughCreditsError, errno.EDQUOT, OSError),
        (403, AccessDeniedError, errno.EACCES, PermissionError),
        (404, NotFoundError, errno.ENOENT, FileNotFoundError),
        (409, AlreadyExistsError, errno.EEXIST, FileExistsError),
        (413, TooLargeError, errno.EFBIG, OSError),
        (422, InvalidRequestError, errno.EINVAL, ValueError),
        (429, RateLimitedError, errno.EIO, ConnectionError),
        (500, ServiceUnavailableError, errno.EIO, ConnectionError),
        (503, ServiceUnavailableError, errno.EIO, ConnectionError),
    ],
)
def test_status_mapping(status: int, cls: type, code: int, builtin: type) -> None:
    exc = error_for_status(status, {"detail": "the detail"}, "do something to /x")
    assert type(exc) is cls
    assert isinstance(exc, OSError) and isinstance(exc, builtin)
    assert exc.errno == code
    assert "do something to /x" in str(exc) and "the detail" in str(exc)
    assert exc.status == status and exc.detail == "the detail"


def test_invalid_is_both_oserror_and_valueerror_and_pickles() -> None:
    exc = error_for_status(400, {"detail": "bad"}, "op")
    assert isinstance(exc, OSError) and isinstance(exc, ValueError)
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is InvalidRequestError
    assert copy.errno == errno.EINVAL and copy.detail == "bad" and copy.status == 400


def test_422_summary_and_name_too_long() -> None:
    detail = [
        {
            "loc": ["body", "name"],
            "msg": "String should have at most 40 characters",
            "type": "string_too_long",
        },
    ]
    exc = error_for_status(422, {"detail": detail}, "rename")
    assert isinstance(exc, NameTooLongError) and exc.errno == errno.ENAMETOOLONG
    assert "name: String should have at most 40 characters" in str(exc)
    text = [
        {"loc": ["body", "text"], "msg": "too long", "type": "string_too_long"},
        {"loc": ["query", "limit"], "msg": "less than or equal to 200", "type": "x"},
    ]
    exc = error_for_status(422, {"detail": text}, "note")
    assert type(exc) is InvalidRequestError
    assert "text: too long; limit: less than or equal to 200" in str(exc)


def test_not_found_against_the_service(client: VoiceClient) -> None:
    with pytest.raises(FileNotFoundError) as info:
        client.get_recording(MISSING)
    assert info.value.errno == errno.ENOENT
    assert MISSING in str(info.value) and "not found" in str(info.value).lower()


def test_other_users_objects_are_not_found(
    emulator: EmulatorProcess, client: VoiceClient, folder: Folder
) -> None:
    with make_client(emulator.new_account()) as other, pytest.raises(FileNotFoundError):
        other.get_folder(folder.id)


def test_bad_key_is_permission_error_never_not_found(account: Account) -> None:
    with VoiceClient(account.url, api_key="wrong-key") as bad:
        with pytest.raises(PermissionError) as info:
            bad.get_recording(MISSING)
        assert not isinstance(info.value, FileNotFoundError)
        assert info.value.errno == errno.EACCES
        assert "wrong-key" not in str(info.value)


def test_unavailable_voice_is_permission_error(
    client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    rec = client.upload_recording(folder.id, wav())
    vault = next(v for v in client.list_voices() if v.name == "Vault")
    with pytest.raises(PermissionError) as info:
        client.order(rec.id, [{"voice_id": vault.id}])
    assert "not available" in str(info.value)


def test_bad_uuid_and_label_pattern_are_value_errors(
    client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    with pytest.raises(ValueError) as info:
        client.get_folder("not-a-uuid")
    assert info.value.errno == errno.EINVAL  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="label"):
        client.upload_recording(folder.id, wav(), label="bad/label!")


def test_non_audio_upload_is_value_error(
    client: VoiceClient, folder: Folder, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.wav"
    junk.write_bytes(b"this is not audio" * 100)
    with pytest.raises(ValueError) as info:
        client.upload_recording(folder.id, junk)
    assert info.value.errno == errno.EINVAL  # type: ignore[attr-defined]
    assert "notes.wav" in str(info.value)


def test_names_too_long(client: VoiceClient, folder: Folder) -> None:
    with pytest.raises(NameTooLongError) as info:
        client.create_folder(folder.project_id, "x" * (NAME_MAX + 1))
    assert info.value.errno == errno.ENAMETOOLONG
    # the service's own answer maps the same way (the client's check skipped)
    client._check_name = lambda name, operation: None  # type: ignore[method-assign]
    with pytest.raises(OSError) as info2:
        client.rename_folder(folder.id, "y" * (NAME_MAX + 1))
    assert info2.value.errno == errno.ENAMETOOLONG


def test_note_too_long_is_value_error(client: VoiceClient, folder: Folder, wav: WavFactory) -> None:
    rec = client.upload_recording(folder.id, wav())
    with pytest.raises(ValueError):
        client.create_note(rec.id, "n" * (NOTE_MAX + 1))


def test_not_enough_credits(emulator: EmulatorProcess, wav: WavFactory) -> None:
    with make_client(emulator.new_account(credits=0.01)) as poor:
        project = poor.create_project("P")
        folder = poor.create_folder(project.id, "F")
        rec = poor.upload_recording(folder.id, wav(seconds=1.0))
        alice = next(v for v in poor.list_voices() if v.name == "Alice")
        with pytest.raises(OSError) as info:
            poor.order(rec.id, [{"voice_id": alice.id}])
        assert info.value.errno == errno.EDQUOT
        assert "credits" in str(info.value).lower()


def test_upload_too_large(
    emulator: EmulatorProcess, client: VoiceClient, folder: Folder, wav: WavFactory
) -> None:
    emulator.set_faults(max_upload_bytes=1000)
    with pytest.raises(OSError) as info:
        client.upload_recording(folder.id, wav(seconds=0.5))
    assert info.value.errno == errno.EFBIG


def test_unreachable_service_is_eio() -> None:
    dead = VoiceClient("http://127.0.0.1:9", api_key="k", max_retries=1, backoff=0.01)
    with dead, pytest.raises(ConnectionError) as info:
        dead.credits()
    assert info.value.errno == errno.EIO
    assert "read credits" in str(info.value)
