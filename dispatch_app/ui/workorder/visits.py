"""The Visits tab: each trip to the site, its status, booked time, promise and crew."""

from __future__ import annotations

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.ui import theme
from dispatch_app.ui.workorder.common import muted, span_text


class VisitsTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("visitTable")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Visit"),
                self.tr("Status"),
                self.tr("Booked"),
                self.tr("Arrival promised"),
                self.tr("Crew"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        hint = muted(
            self.tr("Visits are booked and moved on the board; their status changes there too.")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)

    def show_record(self, record: WorkOrderRecord) -> None:
        self.table.setRowCount(len(record.visits))
        for row, visit in enumerate(record.visits):
            crew = ", ".join(
                f"{m.name} ({self.tr('lead')})" if m.is_lead and len(visit.crew) > 1 else m.name
                for m in visit.crew
            )
            status = QTableWidgetItem(
                self.tr(theme.STATUS_LABEL.get(VisitStatus(visit.status), visit.status))
            )
            status.setBackground(QBrush(theme.status_fill(visit.status)))
            cells = [
                QTableWidgetItem(f"#{visit.sequence}"),
                status,
                QTableWidgetItem(span_text(visit.starts, visit.ends)),
                QTableWidgetItem(span_text(visit.arrival_window_start, visit.arrival_window_end)),
                QTableWidgetItem(crew or self.tr("Unassigned")),
            ]
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
