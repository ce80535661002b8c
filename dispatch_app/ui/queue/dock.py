"""The unassigned queue's dock: a sortable table, emergencies first; drag a job onto a
technician's row to schedule it, or drag a block from the board back here to unassign."""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QTableView, QWidget

from dispatch_app.services.day_board import UnassignedJob
from dispatch_app.ui.queue.model import JobRole, SortRole, UnassignedModel


class QueueFilter(QSortFilterProxyModel):
    """The board's filters applied to the queue: trade, ZIP prefix and free text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trade = ""
        self.zip_prefix = ""
        self.text = ""

    def set_filters(self, *, trade: str, zip_prefix: str, text: str) -> None:
        self.beginFilterChange()
        self.trade, self.zip_prefix, self.text = trade, zip_prefix, text.casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        job = model.data(model.index(source_row, 0, source_parent), JobRole)
        if not isinstance(job, UnassignedJob):
            return True
        return job_matches(job, trade=self.trade, zip_prefix=self.zip_prefix, text=self.text)


def job_matches(job: UnassignedJob, *, trade: str, zip_prefix: str, text: str) -> bool:
    if trade and job.trade != trade:
        return False
    if zip_prefix and not job.zip.startswith(zip_prefix):
        return False
    if text:
        haystack = " ".join(
            (job.number, job.job_type, job.customer, job.city, job.zip, job.description[:500])
        ).casefold()
        return text in haystack
    return True


class UnassignedDock(QDockWidget):
    workOrderRequested = Signal(int)  # work order id: double-click or Enter on a row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Unassigned"), parent)
        self.setObjectName("unassignedDock")
        self.model = UnassignedModel(self)
        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.table = QTableView(self)
        self.table.setObjectName("unassignedTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.activated.connect(self._open)
        self.setWidget(self.table)

    def _open(self, index: QModelIndex) -> None:
        job = self.model.job(self.proxy.mapToSource(index).row())
        self.workOrderRequested.emit(job.work_order_id)

    def row_of(self, visit_id: int) -> int | None:
        """The row (as shown, after sorting and filters) of a job, by its visit id."""
        for row in range(self.proxy.rowCount()):
            job = self.proxy.data(self.proxy.index(row, 0), JobRole)
            if job.visit_id == visit_id:
                return row
        return None

    def contains_global(self, position: QPoint) -> bool:
        """Whether a point on screen lies over the queue (a block dropped here is unassigned)."""
        if not self.isVisible():
            return False
        return self.rect().contains(self.mapFromGlobal(position))
