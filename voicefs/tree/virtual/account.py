"""`/.voicefs/` files generated from the account (CONTRACT §2): voices.csv, credits.json,
stats.json, errors.log and status.json on read; calibration.txt names the enabled calibration
(or `auto`) and writing a name enables that one."""

from __future__ import annotations

import dataclasses
import errno
import json
from pathlib import Path
from typing import Any

from voicefs.api.errors import InvalidRequestError
from voicefs.tree import formats
from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile, read_text
from voicefs.tree.voice_formats import voices_csv


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode()


class VoicesFile(GeneratedFile):
    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        return voices_csv(self.tree.voices())


class CreditsFile(GeneratedFile):
    """Read afresh each time (credits change with every conversion); its size in a listing
    comes from the last known credits, so `ls -l` and `find` of /.voicefs cost nothing."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        with self.tree.errors_at(node.path):
            return json_bytes(self.tree.credits(fresh=True).raw)

    def size(self, node: Node) -> int:
        with self.tree.errors_at(node.path):
            return len(json_bytes(self.tree.credits().raw))


class StatsFile(GeneratedFile):
    """As credits.json: read afresh, sized from the last known statistics."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        with self.tree.errors_at(node.path):
            return json_bytes(self.tree.stats(fresh=True))

    def size(self, node: Node) -> int:
        with self.tree.errors_at(node.path):
            return len(json_bytes(self.tree.stats()))


class ErrorsFile(GeneratedFile):
    """Recent errors of this filesystem (or mount), with their paths and reasons."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        return self.tree.errors.text().encode()


class StatusFile(GeneratedFile):
    """Whether the service answers (online, offline since …, rate limited until …), the last
    error, the uploads written but not yet confirmed by the service, and (in the mount) the
    room left for audio in the cache directory; which account it is (the service's URL and
    `account_digest`, a hash telling nothing of the credentials), so `voicefs status` shows
    only its own account's drives. Costs no request."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        status = self.tree.client.health.state.as_json()
        status["url"], status["account"] = self.tree.client.url, self.tree.client.account_digest()
        status["pending_uploads"] = sorted(self.tree.pending_uploads())
        space = self.tree.cache_space()
        if space is not None:
            status["cache"] = dataclasses.asdict(space)
        return json_bytes(status)


class CalibrationChoiceFile(GeneratedFile):
    """calibration.txt: the enabled calibration's name, or `auto`."""

    writable = True

    def __init__(self, tree: Tree) -> None:
        self.tree = tree

    def read(self, node: Node) -> bytes:
        enabled = next((c for c in self.tree.calibrations() if c.enabled), None)
        return f"{enabled.name if enabled else formats.AUTO}\n".encode()

    def write(self, node: Node, staged: Path) -> None:
        wanted = read_text(node.path, staged).strip()
        calibrations = self.tree.calibrations()
        with self.tree.errors_at(node.path):
            if wanted.casefold() == formats.AUTO:
                self.tree.client.use_auto_calibration()
            else:
                match = [c for c in calibrations if wanted in (c.id, c.name)]
                if not match:
                    known = ", ".join(c.name for c in calibrations) or "none"
                    raise InvalidRequestError(
                        errno.EINVAL,
                        f"{node.path}: no calibration named {wanted!r} (calibrations: {known}; "
                        "or write auto)",
                    )
                self.tree.client.enable_calibration(match[0].id)
        self.tree.cache.invalidate(("calibrations",))
