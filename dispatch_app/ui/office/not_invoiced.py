"""The Not invoiced tab: completed work no posted invoice bills yet, oldest first, with
what it is worth — the money the office has not asked for. Double-click (or Enter) opens
the work order, whose Invoices tab makes the invoice."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QVBoxLayout

from dispatch_app.domain.work_order_record import money
from dispatch_app.services import billing
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import muted
from dispatch_app.ui.office.common import OfficeTab, headline, records_view
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.tasks import WindowTasks

LISTED = 500  # the oldest this many are listed; the headline counts them all


class NotInvoicedTab(OfficeTab):
    openWorkOrder = Signal(int)  # work order id
    tables = frozenset({"work_orders", "line_items", "invoices", "customers"})

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__(workspace, tasks)
        self.summary = headline("notInvoicedSummary")
        self.model = RecordsModel(
            [
                Column(self.tr("Work order"), lambda r: r.number),
                Column(self.tr("Customer"), lambda r: r.customer),
                Column(
                    self.tr("Completed"),
                    lambda r: r.completed_at.strftime("%a %d %b %Y") if r.completed_at else "",
                ),
                Column(self.tr("Value"), lambda r: money(r.value), numeric=True),
                Column(
                    self.tr("Invoice"),
                    lambda r: self.tr("Draft exists") if r.draft else "",
                    colour=lambda r: theme.SELECTION if r.draft else None,
                    bold=lambda r: r.draft,
                ),
            ],
            key=lambda r: r.work_order_id,
            parent=self,
        )
        self.table = records_view("notInvoiced", self.model, stretch=1)
        self.table.activated.connect(self._open)
        self.note = muted()
        self.note.setObjectName("notInvoicedNote")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)

    async def fetch(self, _wanted: object) -> billing.NotInvoicedList:
        return await self.workspace.read(billing.not_invoiced, limit=LISTED)

    def show_answer(self, _wanted: object, listed: billing.NotInvoicedList) -> None:
        if listed.count:
            words = (
                self.tr("1 completed work order worth {1} is not invoiced")
                if listed.count == 1
                else self.tr("{0} completed work orders worth {1} are not invoiced")
            )
            self.summary.setText(words.format(f"{listed.count:,}", money(listed.value)))
        else:
            self.summary.setText(self.tr("All completed work is invoiced."))
        hint = self.tr("Oldest first. Double-click a work order to invoice it.")
        if listed.count > len(listed.rows):
            hint = self.tr("The oldest {0:,} are listed. Double-click a work order to invoice it.")
            hint = hint.format(len(listed.rows))
        self.note.setText(hint if listed.count else "")
        self.model.set_records(listed.rows)

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.openWorkOrder.emit(self.model.record(index.row()).work_order_id)
