"""The office's lists as item models: rows of plain records (the services' dataclasses)
shown through a few named columns, updated row by row when a list is read again.

A re-read after a colleague's change usually moves one row in a list of hundreds: the
model removes what went, inserts what came and repaints what changed, so the selection
and the scroll position stay where the user left them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

KeyRole = Qt.ItemDataRole.UserRole  # what identifies the row (an invoice id, a part id)
RecordRole = Qt.ItemDataRole.UserRole + 1  # the record the row shows
SearchRole = Qt.ItemDataRole.UserRole + 2  # the words a search box matches

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
AnyIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its title and how a record is written in it."""

    title: str
    text: Callable[[Any], str]
    numeric: bool = False  # amounts and counts line up on the right
    colour: Callable[[Any], QColor | None] | None = None
    bold: Callable[[Any], bool] | None = None


class RecordsModel(QAbstractTableModel):
    def __init__(
        self,
        columns: Sequence[Column],
        key: Callable[[Any], Hashable],
        *,
        search: Callable[[Any], str] | None = None,
        muted: Callable[[Any], bool] | None = None,
        muted_colour: QColor | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self._search = search
        self._muted = muted
        self._muted_colour = muted_colour
        self._records: list[Any] = []
        self._keys: list[Hashable] = []

    # -- reading ------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column.numeric else _LEFT
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(record)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column.numeric else _LEFT
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = column.colour(record) if column.colour else None
            if colour is None and self._muted is not None and self._muted(record):
                colour = self._muted_colour
            return colour
        if role == Qt.ItemDataRole.FontRole and column.bold is not None and column.bold(record):
            font = QFont()
            font.setBold(True)
            return font
        if role == KeyRole:
            return self._keys[index.row()]
        if role == RecordRole:
            return record
        if role == SearchRole and self._search is not None:
            return self._search(record)
        return None

    def record(self, row: int) -> Any:
        return self._records[row]

    def records(self) -> list[Any]:
        return list(self._records)

    def row_of(self, key: Hashable) -> int:
        """The row showing ``key``, or -1."""
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    # -- updating -----------------------------------------------------------------------
    def set_records(self, records: Sequence[Any]) -> None:
        """Show ``records`` (in their order): rows that went are removed, new ones
        inserted where they belong, changed ones repainted; the rest are left alone."""
        keys = [self._key(record) for record in records]
        if len(set(keys)) != len(keys):
            raise ValueError("two records with one key")
        wanted = set(keys)
        self._remove_unwanted(wanted)
        place = {key: n for n, key in enumerate(keys)}
        kept = [place[key] for key in self._keys]
        if kept != sorted(kept):
            # Rows changed places (rare: a date corrected); lay the list out afresh.
            self.beginResetModel()
            self._records, self._keys = list(records), keys
            self.endResetModel()
            return
        held = set(self._keys)
        n = 0
        while n < len(keys):
            if n < len(self._keys) and self._keys[n] == keys[n]:
                if self._records[n] != records[n]:
                    self._records[n] = records[n]
                    self.dataChanged.emit(self.index(n, 0), self.index(n, len(self.columns) - 1))
                n += 1
                continue
            end = n
            while end < len(keys) and keys[end] not in held:
                end += 1
            self.beginInsertRows(QModelIndex(), n, end - 1)
            self._records[n:n] = records[n:end]
            self._keys[n:n] = keys[n:end]
            self.endInsertRows()
            n = end

    def _remove_unwanted(self, wanted: set[Hashable]) -> None:
        last = len(self._keys) - 1
        while last >= 0:
            if self._keys[last] in wanted:
                last -= 1
                continue
            first = last
            while first > 0 and self._keys[first - 1] not in wanted:
                first -= 1
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._records[first : last + 1]
            del self._keys[first : last + 1]
            self.endRemoveRows()
            last = first - 1
