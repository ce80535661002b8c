"""The unassigned queue's dock: a sortable table, emergencies first."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QTableView, QWidget

from dispatch_app.ui.queue.model import SortRole, UnassignedModel


class UnassignedDock(QDockWidget):
    workOrderRequested = Signal(int)  # work order id: double-click or Enter on a row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Unassigned"), parent)
        self.setObjectName("unassignedDock")
        self.model = UnassignedModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
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
