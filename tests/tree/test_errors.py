"""errors.log and error messages show names with their control characters escaped (CONTRACT
§7): reading the log cannot move a terminal's cursor, colour or clear it."""

from __future__ import annotations

import errno
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicefs.api.errors import NotFoundError
from voicefs.api.health import Availability, HealthState
from voicefs.tree.errors import ErrorLog, errors_at, is_control, path_error, printable


def test_printable_escapes_control_characters_only() -> None:
    assert printable("take\x1b[31m\tred\n\x00\x7f\x9b.wav") == (
        "take\\x1b[31m\\tred\\n\\x00\\x7f\\x9b.wav"
    )
    assert printable("Ünïcode 😀 \\ / ok") == "Ünïcode 😀 \\ / ok"


@given(st.text(max_size=30))
def test_printable_leaves_no_control_character(text: str) -> None:
    assert not any(is_control(c) for c in printable(text))


def test_an_error_naming_a_control_character_is_logged_escaped() -> None:
    log = ErrorLog()
    log.record(path_error(errno.EPERM, "refused", "P/F/a\x1b]0;owned\x07b.wav"))
    log.record(OSError(errno.EIO, "P/\x9b2J: the service said\nno\tway \x1bc"))
    lines = log.text().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(" EPERM P/F/a\\x1b]0;owned\\x07b.wav: refused"), lines[0]
    assert lines[1].endswith(" EIO P/\\x9b2J: the service said no way \\x1bc"), lines[1]
    assert not any(is_control(c) for c in log.text().replace("\n", ""))


def test_a_health_line_is_escaped() -> None:
    log = ErrorLog()
    before = HealthState(Availability.ONLINE, time.time())
    after = HealthState(Availability.OFFLINE, time.time(), last_error="boom \x1b[5m\nagain")
    log.health_changed(before, after)
    line = log.text()
    assert line.count("\n") == 1 and "boom \\x1b[5m again)" in line, line


def test_errors_at_names_the_path_escaped_once() -> None:
    """A service error raised with the raw path first gets the escaped path, not both."""
    path = "P/a\x1bb.wav"
    for message in (f"{path}: gone", "get recording 1: gone"):
        with pytest.raises(NotFoundError) as caught, errors_at(path):
            raise NotFoundError(errno.ENOENT, message, operation="get recording 1")
        assert str(caught.value).endswith("] P/a\\x1bb.wav: gone"), str(caught.value)
