"""The work orders behind a figure: the list the Reports window shows beside its table
when a line (or a headline figure) is double-clicked. Double-click one (or Enter) to
open it in the work order editor."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from dispatch_app.domain.reports import WorkOrderLine
from dispatch_app.ui.forms import error_label, muted, section_title, show_error
from dispatch_app.ui.office.common import records_view
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.reports.cells import DASH, date_text, money_text


class WorkOrdersBehind(QWidget):
    workOrderRequested = Signal(int)  # work order id: open it in the editor
    closeRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workOrdersBehind")
        self.title = section_title("")
        self.title.setObjectName("behindTitle")
        self.title.setWordWrap(True)
        hide = QToolButton()
        hide.setObjectName("hideBehind")
        hide.setText("✕")
        hide.setToolTip(self.tr("Hide the work orders"))
        hide.setAutoRaise(True)
        hide.clicked.connect(self.closeRequested)
        self.note = muted()
        self.note.setObjectName("behindNote")
        self.problem = error_label("behindProblem")
        self.model = RecordsModel(
            [
                Column(self.tr("Work order"), lambda r: r.number),
                Column(self.tr("Customer"), lambda r: r.customer),
                Column(self.tr("Job type"), lambda r: r.job_type),
                Column(self.tr("Status"), lambda r: r.status),
                Column(self.tr("Date"), lambda r: date_text(r.when) if r.when else DASH),
                Column(
                    self.tr("Value"),
                    lambda r: money_text(r.value) if r.value is not None else DASH,
                    numeric=True,
                ),
            ],
            key=lambda r: r.id,
            parent=self,
        )
        # The job type gives way first in a narrow list: the customer is what is looked for.
        self.table = records_view("behindList", self.model, stretch=2)
        self.table.activated.connect(self._open)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(hide)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)

    def asking(self, what: str) -> None:
        """A new question: its title at once, its answer when read."""
        self.title.setText(what)
        self.note.setText(self.tr("Reading…"))
        show_error(self.problem, None)

    def show_lines(self, lines: Sequence[WorkOrderLine], limit: int) -> None:
        self.model.set_records(list(lines))
        show_error(self.problem, None)
        if not lines:
            self.note.setText(self.tr("No work order is behind this figure."))
        elif len(lines) >= limit:
            self.note.setText(
                self.tr("The first {0:,} are listed. Double-click one to open it.").format(limit)
            )
        else:
            words = (
                self.tr("1 work order. Double-click it to open it.")
                if len(lines) == 1
                else self.tr("{0:,} work orders. Double-click one to open it.").format(len(lines))
            )
            self.note.setText(words)

    def show_problem(self, sentence: str) -> None:
        self.note.clear()
        show_error(self.problem, sentence)

    def ids(self) -> list[int]:
        return [line.id for line in self.model.records()]

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.workOrderRequested.emit(self.model.record(index.row()).id)
