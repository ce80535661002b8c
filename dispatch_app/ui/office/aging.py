"""The Unpaid by age tab: posted invoices not yet paid, in four tiles by days since the
invoice date (0–30, 31–60, 61–90, 90+) and listed oldest first, with Record payment…
for the chosen invoice. The payment form keeps what was typed when the database
refuses it (a payment above the balance, say) and shows the database's sentence."""

from __future__ import annotations

import decimal
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from dispatch_app.domain.billing import AGING_BUCKETS
from dispatch_app.domain.roles import Action
from dispatch_app.domain.vocabulary import PaymentMethod, Priority, VisitStatus
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import UserFacingError
from dispatch_app.services import billing
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.office.common import (
    CARD_BORDER,
    OfficeTab,
    headline,
    records_view,
    selected_record,
)
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.payment_dialog import MoneyDialog
from dispatch_app.ui.tasks import WindowTasks

LISTED = 500
# From fine to overdue: the board's own greens, ambers and reds.
BUCKET_COLOUR: dict[str, QColor] = {
    "0–30": theme.STATUS_EDGE[VisitStatus.ON_SITE],
    "31–60": theme.STATUS_EDGE[VisitStatus.EN_ROUTE],
    "61–90": theme.PRIORITY_COLOUR[Priority.URGENT],
    "90+": theme.PRIORITY_COLOUR[Priority.EMERGENCY],
}


class AgeTile(QFrame):
    """One bucket: its balance large, how many invoices small, its colour at the side."""

    def __init__(self, label: str, position: int) -> None:
        super().__init__()
        name = f"ageTile{position}"  # "90+" cannot name a style sheet's selector
        self.setObjectName(name)
        colour = BUCKET_COLOUR[label].name()
        self.setStyleSheet(
            f"QFrame#{name} {{ background: #ffffff; border: 1px solid {CARD_BORDER};"
            f" border-left: 5px solid {colour}; border-top-right-radius: 6px;"
            " border-bottom-right-radius: 6px; }"
        )
        self.title = QLabel(self.tr("{0} days").format(label))
        self.title.setStyleSheet(f"color: {theme.MUTED_TEXT.name()}; font-weight: 600;")
        self.balance = QLabel()
        self.balance.setObjectName("balance")
        font = self.balance.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.balance.setFont(font)
        self.balance.setStyleSheet(f"color: {theme.TEXT.name()};")
        self.count = QLabel()
        self.count.setObjectName("count")
        self.count.setStyleSheet(f"color: {theme.MUTED_TEXT.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.balance)
        layout.addWidget(self.count)

    def show_bucket(self, invoices: int, balance: decimal.Decimal) -> None:
        self.balance.setText(money(balance))
        self.count.setText(
            self.tr("1 invoice") if invoices == 1 else self.tr("{0:,} invoices").format(invoices)
        )

    def text(self) -> str:
        return f"{self.balance.text()} · {self.count.text()}"


class AgingTab(OfficeTab):
    tables = frozenset({"invoices", "payments", "customers"})

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__(workspace, tasks)
        self.dialog: MoneyDialog | None = None  # the open payment form, if any
        self.summary = headline("agingSummary")
        self.tiles = {label: AgeTile(label, n) for n, (label, _most) in enumerate(AGING_BUCKETS)}
        tiles = QHBoxLayout()
        tiles.setSpacing(12)
        for tile in self.tiles.values():
            tiles.addWidget(tile, 1)
        self.model = RecordsModel(
            [
                Column(self.tr("Invoice"), lambda r: r.number),
                Column(self.tr("Customer"), lambda r: r.customer),
                Column(self.tr("Work order"), lambda r: r.work_order),
                Column(self.tr("Invoice date"), lambda r: r.issued_on.strftime("%a %d %b %Y")),
                Column(self.tr("Total"), lambda r: money(r.total), numeric=True),
                Column(
                    self.tr("Balance"),
                    lambda r: money(r.balance),
                    numeric=True,
                    bold=lambda _r: True,
                ),
                Column(
                    self.tr("Age (days)"),
                    lambda r: r.bucket,
                    numeric=True,
                    colour=lambda r: BUCKET_COLOUR.get(r.bucket),
                ),
            ],
            key=lambda r: r.invoice_id,
            parent=self,
        )
        self.table = records_view("unpaid", self.model, stretch=1)
        self.pay_button = QPushButton(self.tr("Record &payment…"))
        self.pay_button.setObjectName("recordPayment")
        self.pay_button.clicked.connect(self.ask_payment)
        self.pay_button.setVisible(workspace.may(Action.BILL))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.pay_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.summary)
        layout.addLayout(tiles)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- the list -----------------------------------------------------------------------
    async def fetch(self, _wanted: object) -> billing.AgingList:
        return await self.workspace.read(billing.aging, clock=self.workspace.clock, limit=LISTED)

    def show_answer(self, _wanted: object, aged: billing.AgingList) -> None:
        invoices = sum(count for count, _balance in aged.buckets.values())
        owed = sum((balance for _count, balance in aged.buckets.values()), decimal.Decimal(0))
        if invoices:
            words = (
                self.tr("1 invoice is unpaid: {1}")
                if invoices == 1
                else self.tr("{0:,} invoices are unpaid: {1} in all")
            )
            self.summary.setText(words.format(invoices, money(owed)))
        else:
            self.summary.setText(self.tr("Every posted invoice is paid."))
        for label, (count, balance) in aged.buckets.items():
            self.tiles[label].show_bucket(count, balance)
        self.model.set_records(aged.rows)
        self._update_buttons()

    def selected(self) -> billing.Unpaid | None:
        return selected_record(self.table)

    def _update_buttons(self) -> None:
        self.pay_button.setEnabled(self.selected() is not None)

    # -- a payment ----------------------------------------------------------------------
    def ask_payment(self) -> MoneyDialog | None:
        """The payment form for the chosen invoice, its balance filled in."""
        row = self.selected()
        if row is None or not self.pay_button.isVisible():
            return None
        dialog = MoneyDialog(
            self.tr("Payment on {0}").format(row.number),
            self.tr("Record payment"),
            intro=self.tr("{0} · {1} · {2} · balance {3}").format(
                row.number, row.customer, row.work_order, money(row.balance)
            ),
            amount=row.balance,
            ask_method=True,
            parent=self,
        )
        dialog.choose_method(PaymentMethod.CHECK)  # what comes in the office's mail

        async def record(values: dict[str, Any]) -> None:
            try:
                await self.workspace.run(
                    billing.record_payment,
                    invoice_id=row.invoice_id,
                    clock=self.workspace.clock,
                    **values,
                )
            except UserFacingError as refused:
                dialog.refuse(str(refused))
                return
            dialog.finish()
            self.reload()  # the feed says so too; this shows it without waiting

        dialog.submitted.connect(lambda values: self.tasks.spawn(record(values)))
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget(self, dialog: MoneyDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
