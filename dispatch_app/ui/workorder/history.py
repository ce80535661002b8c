"""The History and Audit tabs: how the status moved, and who changed what and when."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain import visit_status, work_order_status
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.ui.workorder.common import muted


def _table(headers: list[str], stretch: int, name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class HistoryTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(
            [
                self.tr("When"),
                self.tr("Who"),
                self.tr("What"),
                self.tr("Change"),
                self.tr("Reason"),
            ],
            4,
            "historyTable",
        )
        self.empty = muted(self.tr("The status has not changed since the work order was created."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)

    def show_record(self, record: WorkOrderRecord) -> None:
        self.table.setRowCount(len(record.history))
        for row, step in enumerate(record.history):
            if step.visit_sequence is None:
                labels = work_order_status.LABELS
                what = self.tr("Work order")
            else:
                labels = visit_status.LABELS
                what = self.tr("Visit #{0}").format(step.visit_sequence)
            before = labels.get(step.from_status or "", step.from_status or "—")
            after = labels.get(step.to_status, step.to_status)
            for column, text in enumerate(
                (
                    step.changed_at.strftime("%a %d %b %Y %H:%M"),
                    step.changed_by,
                    what,
                    f"{self.tr(before)} → {self.tr(after)}",
                    step.reason or "",
                )
            ):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.empty.setVisible(not record.history)


class AuditTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(
            [self.tr("When"), self.tr("Who"), self.tr("What changed")], 2, "auditTable"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.table, 1)
        layout.addWidget(muted(self.tr("Every change to this work order, newest first.")))

    def show_record(self, record: WorkOrderRecord) -> None:
        self.table.setRowCount(len(record.audit))
        today = record.updated_at.date()
        for row, entry in enumerate(record.audit):
            when = entry.changed_at.strftime(
                "%H:%M" if entry.changed_at.date() == today else "%d %b %Y %H:%M"
            )
            for column, text in enumerate((when, entry.changed_by, entry.text)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{entry.changed_by} · {when} · {entry.text}")
                self.table.setItem(row, column, item)

    def lines(self) -> list[str]:
        """Each entry as one line, ``jsmith · 10:42 · Line item added: …``."""
        lines = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, column) for column in range(3)]
            lines.append(" · ".join(cell.text() if cell else "" for cell in cells))
        return lines
