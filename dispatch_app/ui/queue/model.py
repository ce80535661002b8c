"""Item model over the unassigned jobs of a ``DaySnapshot``.

Updates row by row: a refreshed snapshot inserts, removes and changes only the rows
that differ, so the view keeps its selection and scroll position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.services.day_board import UnassignedJob
from dispatch_app.ui import theme

# The board accepts a job dragged with this type; the data is the visit id as text.
VISIT_MIME = "application/x-dispatch-visit"

JobRole = Qt.ItemDataRole.UserRole
SortRole = Qt.ItemDataRole.UserRole + 1

COLUMNS = ("Priority", "Work order", "Job", "Customer", "City", "Wanted", "Waiting")

Index = QModelIndex | QPersistentModelIndex


def waiting_text(created_at: dt.datetime, now: dt.datetime) -> str:
    minutes = max(0, int((now - created_at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d}"
    return f"{minutes // (24 * 60)} days"


def wanted_at(job: UnassignedJob) -> float:
    """When the customer wants us, for sorting: soonest first, "any time" last."""
    if job.requested is not None:
        return job.requested.start.timestamp()
    if job.starts is not None:
        return job.starts.timestamp()
    return float("inf")


def wanted_text(job: UnassignedJob) -> str:
    if job.requested is not None:
        start, end = job.requested.start, job.requested.end
        return f"{start:%a %H:%M}–{end:%H:%M}"
    if job.starts is not None:
        return f"{job.starts:%a %H:%M}"
    return "any time"


class UnassignedModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._jobs: list[UnassignedJob] = []
        self.clock: Clock = SYSTEM_CLOCK  # how long a job has waited

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def job(self, row: int) -> UnassignedJob:
        return self._jobs[row]

    def job_of_visit(self, visit_id: int) -> UnassignedJob | None:
        return next((job for job in self._jobs if job.visit_id == visit_id), None)

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else flags

    def mimeTypes(self) -> list[str]:
        return [VISIT_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The job dragged onto the board: its visit id (the board looks up the rest)."""
        mime = QMimeData()
        rows = sorted({index.row() for index in indexes if index.isValid()})
        if rows:
            job = self._jobs[rows[0]]
            mime.setData(VISIT_MIME, QByteArray(str(job.visit_id).encode()))
            mime.setText(f"{job.number} {job.job_type}")
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        job = self._jobs[index.row()]
        column = index.column()
        if role == JobRole:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            now = self.clock.now()
            return (
                theme.PRIORITY_LABEL[Priority(job.priority)],
                job.number,
                job.job_type,
                job.customer,
                job.city,
                wanted_text(job),
                waiting_text(job.created_at, now),
            )[column]
        if role == SortRole:
            rank = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.NORMAL: 2}
            return (
                rank[Priority(job.priority)],
                job.number,
                job.job_type,
                job.customer,
                job.city,
                wanted_at(job),
                job.created_at.timestamp(),
            )[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return theme.PRIORITY_COLOUR[Priority(job.priority)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.description or None
        return None

    def set_jobs(self, jobs: tuple[UnassignedJob, ...] | list[UnassignedJob]) -> None:
        """Bring the rows in line with ``jobs`` with the fewest row operations."""
        wanted = {job.visit_id: job for job in jobs}
        row = len(self._jobs) - 1
        while row >= 0:
            if self._jobs[row].visit_id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._jobs[row]
                self.endRemoveRows()
            row -= 1
        present = {job.visit_id: i for i, job in enumerate(self._jobs)}
        for visit_id, i in present.items():
            if self._jobs[i] != wanted[visit_id]:
                self._jobs[i] = wanted[visit_id]
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
        new = [job for job in jobs if job.visit_id not in present]
        if new:
            first = len(self._jobs)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._jobs.extend(new)
            self.endInsertRows()
