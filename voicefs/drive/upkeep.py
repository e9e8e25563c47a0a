"""The mount's background thread: what happens without anyone asking.

Once mounted: the caller's ready action, then the journal a dead mount left; then every few
seconds a look at folders with something still processing (so a finished conversion shows by
itself) or, while the service is away, whether it is back — and then the journal again, so
what waited for it is sent with no remount. Right after the drive sent something (an order,
an upload) the looks come sooner, then back off (`poll_intervals`, within the budget).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator

from voicefs.api.health import Availability, HealthState
from voicefs.api.limiter import poll_intervals
from voicefs.drive import Drive
from voicefs.drive.writes import Writes

log = logging.getLogger("voicefs.mount")

RECHECK = 3.0  # seconds between looks at what is processing, or at an absent service


class Upkeep:
    def __init__(
        self, drive: Drive, writes: Writes, on_ready: Callable[[], None] | None = None
    ) -> None:
        self.drive = drive
        self.writes = writes
        self._on_ready = on_ready
        self._stopping = threading.Event()
        self._sent = threading.Event()  # the drive just sent something: look sooner
        self._back = threading.Event()  # the service answered again after an absence
        drive.health.add_listener(self._health_changed)

    def _health_changed(self, before: HealthState, after: HealthState) -> None:
        if after.availability == Availability.ONLINE:
            self._back.set()

    def start(self) -> None:
        threading.Thread(target=self._run, name="voicefs-upkeep", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        self._sent.set()  # ends the wait at once

    def soon(self) -> None:
        """Something was just sent whose result will show: look soon, then back off."""
        self._sent.set()

    def _steady(self) -> Iterator[float]:
        return itertools.repeat(RECHECK)

    def _run(self) -> None:
        if self._on_ready is not None:
            self._on_ready()
        self._finish_journal()
        pace = self._steady()
        while True:
            sent = self._sent.wait(next(pace))
            if self._stopping.is_set():
                return
            if sent:  # the first look only after a first interval: nothing is done at once
                self._sent.clear()
                pace = poll_intervals(self.drive.budget_used, RECHECK)
                continue
            if not self._round():
                pace = self._steady()

    def _round(self) -> int:
        """One look; returns how many folders still showed something processing."""
        try:
            if self._back.is_set():  # send what waited for the service
                self._back.clear()
                self._finish_journal()
            if self.drive.health.state.usable:
                return self.drive.refresh_processing()
            self._look_for_service()
        except OSError as exc:  # the service is away for now; the next round looks again
            log.info("background look at the service: %s", exc)
        except Exception:  # a bug here must not take the mount down
            log.exception("background look at the service failed")
        return 0

    def _finish_journal(self) -> None:
        try:
            self.writes.finish_journal()
        except Exception:
            log.exception("finishing the journal failed")

    def _look_for_service(self) -> None:
        """One small request while the service is away; none while a rate limit runs (it
        ends by itself at the time the service gave)."""
        if self.drive.health.state.until is None:
            self.drive.look_for_service()
