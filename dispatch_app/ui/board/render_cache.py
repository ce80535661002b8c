"""Rendered pieces of the board kept for reuse: one image per owner, least recently used
out first once the byte budget is spent.

A piece (a lane of visit blocks, a technician's name column) costs text layout and many
draw calls to render and one blit to reuse. Each entry remembers the key it was drawn
for (everything the pixels depend on) and is redrawn when the key differs, so a change
invalidates by itself and there is no separate bookkeeping to forget.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from PySide6.QtGui import QImage


class RenderCache:
    def __init__(self, budget_bytes: int) -> None:
        self._budget = budget_bytes
        self._used = 0
        # owner → (key, image, bytes); keys are compared, never hashed, so they may hold
        # unhashable or costly-to-hash values (a tuple compares its items by identity first).
        self._entries: OrderedDict[Hashable, tuple[object, QImage, int]] = OrderedDict()

    def get(self, owner: Hashable, key: object) -> QImage | None:
        entry = self._entries.get(owner)
        if entry is None or entry[0] != key:
            return None
        self._entries.move_to_end(owner)
        return entry[1]

    def put(self, owner: Hashable, key: object, image: QImage) -> None:
        cost = image.sizeInBytes()
        old = self._entries.pop(owner, None)
        if old is not None:
            self._used -= old[2]
        self._entries[owner] = (key, image, cost)
        self._used += cost
        while self._used > self._budget and len(self._entries) > 1:
            _owner, (_key, _image, freed) = self._entries.popitem(last=False)
            self._used -= freed

    def clear(self) -> None:
        self._entries.clear()
        self._used = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def used_bytes(self) -> int:
        return self._used
