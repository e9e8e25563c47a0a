"""`<rec>.conversions/order.txt` (CONTRACT §4): ordering conversions by writing a file.

Reading it gives a commented template that lists the voices; everything written in one
open-write-close is one order (`POST /api/v2/orders`) plus the `retry` lines. A bad line
refuses the whole write and places no order. `fs.order` goes through the same `Orders`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path

from voicefs.api.records import ConversionRequest, Order, Recording, Voice
from voicefs.tree import formats, names
from voicefs.tree.layout import ORDER
from voicefs.tree.nodes import Node
from voicefs.tree.tree import Tree
from voicefs.tree.virtual.base import GeneratedFile, control_error, read_text


class Orders:
    """Parsing and placing orders for the original of a sidecar directory."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.client = tree.client

    def parse(self, sidecar: Node, text: str) -> formats.OrderPlan:
        """The order that text asks for; ValueError (EINVAL) naming order.txt and the line."""
        children = self.tree.children(sidecar)
        names_to_ids: dict[str, str] = {}
        for child in children:
            if child.audio is not None:
                names_to_ids[child.name] = child.audio.id
                if child.audio.is_failed:  # `retry X.wav` for `X.wav.error` too
                    names_to_ids[child.name.removesuffix(names.ERROR_SUFFIX)] = child.audio.id
        try:
            return formats.parse_order(
                text, self.tree.voices(), self.tree.calibrations(), names_to_ids
            )
        except formats.ControlTextError as exc:
            raise control_error(posixpath.join(sidecar.path, ORDER), exc) from exc

    def place(self, sidecar: Node, plan: formats.OrderPlan) -> list[Order]:
        """Places one order (and the retries) for the sidecar's original."""
        original, folder = sidecar.original_of(), sidecar.folder_of()
        orders: list[Order] = []
        # an order is a write of order.txt (fs.order too): its errors name that file
        with self.tree.errors_at(posixpath.join(sidecar.path, ORDER)):
            if plan.conversions:
                known = [r.id for r in self.tree.conversions(folder, original)]
                calibration = plan.calibration
                orders += self.client.order(
                    original.id,
                    self._with_styles(original, plan),
                    calibration_id=None if calibration in (None, formats.AUTO) else calibration,
                    use_calibration=calibration not in (None, formats.AUTO),
                    known_conversions=known,
                )
            orders += [self.client.retry_conversion(rid) for rid in plan.retries]
        # the service answers with ids, not recordings: the next read lists the folder
        self.tree.forget_recordings(folder.id, original.id)
        return orders

    def _with_styles(self, original: Recording, plan: formats.OrderPlan) -> list[ConversionRequest]:
        """A text-to-speech original needs a narration style: the voice's default if none."""
        if not original.tts:
            return list(plan.conversions)
        voices = {v.id: v for v in self.tree.voices()}
        requests = []
        for request in plan.conversions:
            voice = voices.get(request.voice_id)
            if request.narration_style_id is None and voice and voice.narration_styles:
                styles = voice.narration_styles
                default = next((s for s in styles if s.is_default), styles[0])
                request = dataclasses.replace(request, narration_style_id=default.id)
            requests.append(request)
        return requests


class OrderFile(GeneratedFile):
    writable = True

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def read(self, node: Node) -> bytes:
        return self._render(node, self.orders.tree.voices())

    def size(self, node: Node) -> int:
        """Kept with the sidecar's index while the voices it lists are the same."""
        tree = self.orders.tree
        voices = tree.voices()
        index = tree.index_of(tree.resolve(node.parent_path))
        return index.derived("order size", lambda: len(self._render(node, voices)), voices)

    def _render(self, node: Node, voices: list[Voice]) -> bytes:
        original = node.original_of()
        audio = posixpath.basename(node.parent_path).removesuffix(names.SIDECAR_SUFFIX)
        return formats.order_template(audio or original.id, voices).encode()

    def write(self, node: Node, staged: Path) -> None:
        sidecar = self.orders.tree.resolve(node.parent_path)
        plan = self.orders.parse(sidecar, read_text(node.path, staged))
        if not plan.is_empty:
            self.orders.place(sidecar, plan)
