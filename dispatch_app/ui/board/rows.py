"""Row geometry of the board: which technicians are rows (after filters) and where. No Qt.

The view asks this object, never computes y itself, so a filter or a different row
height is a change in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dispatch_app.services.day_board import TechnicianRow

ROW_HEIGHT = 62
HEADER_HEIGHT = 40  # the hours over the timeline, the day's title over the names
GUTTER_WIDTH = 250  # the technicians' names, left of the timeline


class RowLayout:
    def __init__(self) -> None:
        self._all: list[TechnicianRow] = []
        self._keep: Callable[[TechnicianRow], bool] | None = None
        self.rows: list[TechnicianRow] = []
        self._index: dict[int, int] = {}

    def set_technicians(self, technicians: Sequence[TechnicianRow]) -> None:
        self._all = list(technicians)
        self._refilter()

    def set_filter(self, keep: Callable[[TechnicianRow], bool] | None) -> None:
        self._keep = keep
        self._refilter()

    def _refilter(self) -> None:
        keep = self._keep
        self.rows = [t for t in self._all if keep is None or keep(t)]
        self._index = {tech.id: row for row, tech in enumerate(self.rows)}

    def __len__(self) -> int:
        return len(self.rows)

    def all_technicians(self) -> list[TechnicianRow]:
        return list(self._all)

    def index_of(self, technician_id: int) -> int | None:
        return self._index.get(technician_id)

    def technician(self, technician_id: int) -> TechnicianRow | None:
        row = self._index.get(technician_id)
        return self.rows[row] if row is not None else None

    def top_of(self, row: int, scroll: int) -> int:
        """Viewport y of a row's top edge."""
        return HEADER_HEIGHT + row * ROW_HEIGHT - scroll

    def row_at(self, y: float, scroll: int) -> int | None:
        if y < HEADER_HEIGHT:
            return None
        row = int((y - HEADER_HEIGHT + scroll) // ROW_HEIGHT)
        return row if 0 <= row < len(self.rows) else None

    def visible(self, scroll: int, height: int) -> range:
        first = max(0, scroll // ROW_HEIGHT)
        last = min(len(self.rows), (scroll + height) // ROW_HEIGHT + 1)
        return range(first, last)

    def content_height(self) -> int:
        return HEADER_HEIGHT + ROW_HEIGHT * len(self.rows)
