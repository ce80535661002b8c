"""Item models over the day store: technicians (the board's rows) and visits (its blocks).

Each ``StoreChange`` becomes row-level model updates — ``dataChanged`` for a moved visit,
``beginInsertRows``/``beginRemoveRows`` for new or vanished ones. Only a different day
resets a model. Times live here (``StartTimeRole``/``EndTimeRole``), never in the view.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.services.day_store import StoreChange

Index = QModelIndex | QPersistentModelIndex

VisitRole = Qt.ItemDataRole.UserRole
StartTimeRole = Qt.ItemDataRole.UserRole + 1
EndTimeRole = Qt.ItemDataRole.UserRole + 2
TechnicianIdsRole = Qt.ItemDataRole.UserRole + 3
StatusRole = Qt.ItemDataRole.UserRole + 4
VersionRole = Qt.ItemDataRole.UserRole + 5

TechnicianRole = Qt.ItemDataRole.UserRole


class VisitModel(QAbstractListModel):
    """The day's assigned visits, in the order they first arrived."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._visits: list[VisitBlock] = []
        self._row_of: dict[int, int] = {}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._visits)

    def visit(self, row: int) -> VisitBlock:
        return self._visits[row]

    def row_of(self, visit_id: int) -> int | None:
        return self._row_of.get(visit_id)

    def visits(self) -> list[VisitBlock]:
        return list(self._visits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        visit = self._visits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{visit.number} · {visit.job_type}"
        return {
            VisitRole: visit,
            StartTimeRole: visit.starts,
            EndTimeRole: visit.ends,
            TechnicianIdsRole: visit.technician_ids,
            StatusRole: visit.status,
            VersionRole: visit.version,
        }.get(role)

    def apply(self, change: StoreChange, visits: list[VisitBlock]) -> None:
        """Follow one store change; ``visits`` is the store's full list, for a new day."""
        if change.day_changed:
            self.beginResetModel()
            self._visits = list(visits)
            self._reindex()
            self.endResetModel()
            return
        for gone in change.visits_removed:
            row = self._row_of.get(gone.id)
            if row is None:
                continue
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._visits[row]
            self._reindex(row)
            self.endRemoveRows()
        for visit in change.visits_upserted:
            row = self._row_of.get(visit.id)
            if row is not None:
                self._visits[row] = visit
                self.dataChanged.emit(self.index(row), self.index(row))
            else:
                row = len(self._visits)
                self.beginInsertRows(QModelIndex(), row, row)
                self._visits.append(visit)
                self._row_of[visit.id] = row
                self.endInsertRows()

    def _reindex(self, start: int = 0) -> None:
        if start == 0:
            self._row_of = {}
        for row in range(start, len(self._visits)):
            self._row_of[self._visits[row].id] = row


class TechnicianModel(QAbstractListModel):
    """The board's rows: active technicians in the store's order (trade, then name)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[TechnicianRow] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def technician(self, row: int) -> TechnicianRow:
        return self._rows[row]

    def technicians(self) -> list[TechnicianRow]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        tech = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return tech.name
        if role == TechnicianRole:
            return tech
        return None

    def set_technicians(
        self, technicians: tuple[TechnicianRow, ...] | list[TechnicianRow], *, new_day: bool = False
    ) -> None:
        """Bring the rows in line with ``technicians`` row by row (reset only for a new day)."""
        if new_day:
            self.beginResetModel()
            self._rows = list(technicians)
            self.endResetModel()
            return
        wanted = {tech.id for tech in technicians}
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        for target, tech in enumerate(technicians):
            current = next(
                (r for r in range(target, len(self._rows)) if self._rows[r].id == tech.id), None
            )
            if current is None:
                self.beginInsertRows(QModelIndex(), target, target)
                self._rows.insert(target, tech)
                self.endInsertRows()
                continue
            if current != target:
                self.beginMoveRows(QModelIndex(), current, current, QModelIndex(), target)
                self._rows.insert(target, self._rows.pop(current))
                self.endMoveRows()
            if self._rows[target] != tech:
                self._rows[target] = tech
                self.dataChanged.emit(self.index(target), self.index(target))
