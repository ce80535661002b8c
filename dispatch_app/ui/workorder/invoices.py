"""The Invoices tab: the work order's invoices, from draft to paid.

One button makes the invoice from the completed work's labour and materials; a deposit
or progress invoice bills an amount before the work is done, and the final invoice
takes it off again. A draft is posted (the database numbers and locks it), then paid,
partly paid or — a manager's — voided or corrected with a credit note. Money is entered
in small forms (``ui/payment_dialog``) that keep what was typed when refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.billing import (
    KIND_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    ZERO,
    percent_text,
)
from dispatch_app.domain.roles import Action
from dispatch_app.domain.statuses import WORK_ORDER_DONE
from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.vocabulary import (
    InvoiceKind,
    InvoiceStatus,
    PaymentMethod,
    WorkOrderStatus,
)
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import UserFacingError, ValidationError
from dispatch_app.services import billing
from dispatch_app.services.invoice_print import load_invoice_document
from dispatch_app.services.work_order.rows import InvoiceRow, WorkOrderRecord
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.invoice_pdf import print_invoice, write_invoice_pdf
from dispatch_app.ui.payment_dialog import MoneyDialog
from dispatch_app.ui.workorder.common import (
    RecordHost,
    error_label,
    muted,
    section_title,
    show_error,
    side_card,
)

COLUMNS = ("Invoice", "Kind", "Status", "Date", "Total", "Paid", "Balance")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_OPEN = (InvoiceStatus.POSTED.value, InvoiceStatus.PARTLY_PAID.value)


def invoice_title(row: InvoiceRow) -> str:
    label = KIND_LABELS[InvoiceKind(row.kind)]
    return f"{label} {row.number}" if row.number else f"{label} (draft)"


class InvoicesTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.record: WorkOrderRecord | None = None
        self._shown: tuple[InvoiceRow, ...] | None = None
        self.dialog: MoneyDialog | None = None  # the open money form, if any

        self.create_button = QPushButton(self.tr("Create invoice"))
        self.create_button.setObjectName("createInvoice")
        self.create_button.setToolTip(self.tr("Bill the completed work's labour and materials"))
        self.advance_button = QPushButton(self.tr("Deposit or progress invoice…"))
        self.advance_button.setObjectName("advanceInvoice")
        self.summary = QLabel()
        self.summary.setObjectName("billingSummary")
        top = QHBoxLayout()
        top.addWidget(self.create_button)
        top.addWidget(self.advance_button)
        top.addStretch()
        top.addWidget(self.summary)
        self.note = muted()
        self.note.setObjectName("billingNote")
        self.error = error_label("invoiceError")

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("invoices")
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty = muted(self.tr("No invoices yet."))

        card, side = side_card("invoiceCard", 360)
        self.detail_title = section_title("")
        self.detail = QLabel()
        self.detail.setObjectName("invoiceDetail")
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.post_button = QPushButton(self.tr("Post"))
        self.post_button.setObjectName("postInvoice")
        self.post_button.setToolTip(self.tr("Number and lock the invoice; it can then be paid"))
        self.delete_button = QPushButton(self.tr("Delete draft"))
        self.delete_button.setObjectName("deleteDraft")
        self.pay_button = QPushButton(self.tr("Record payment…"))
        self.pay_button.setObjectName("recordPayment")
        self.refund_button = QPushButton(self.tr("Refund…"))
        self.refund_button.setObjectName("refund")
        self.credit_button = QPushButton(self.tr("Credit note…"))
        self.credit_button.setObjectName("creditNote")
        self.void_button = QPushButton(self.tr("Void…"))
        self.void_button.setObjectName("voidInvoice")
        self.pdf_button = QPushButton(self.tr("Save PDF…"))
        self.pdf_button.setObjectName("savePdf")
        self.print_button = QPushButton(self.tr("Print…"))
        self.print_button.setObjectName("printInvoice")
        side.addWidget(self.detail_title)
        side.addWidget(self.detail, 1)
        for row in (
            (self.post_button, self.delete_button),
            (self.pay_button, self.refund_button),
            (self.credit_button, self.void_button),
            (self.pdf_button, self.print_button),
        ):
            buttons = QHBoxLayout()
            for button in row:
                buttons.addWidget(button)
            side.addLayout(buttons)
        self.card = card

        body = QHBoxLayout()
        listing = QVBoxLayout()
        listing.addWidget(self.table, 1)
        listing.addWidget(self.empty)
        body.addLayout(listing, 1)
        body.addWidget(card)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addLayout(body, 1)

        self.create_button.clicked.connect(self.create_invoice)
        self.advance_button.clicked.connect(self.ask_advance)
        self.post_button.clicked.connect(self.post_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.pay_button.clicked.connect(lambda: self.ask_payment(refund=False))
        self.refund_button.clicked.connect(lambda: self.ask_payment(refund=True))
        self.credit_button.clicked.connect(self.ask_credit_note)
        self.void_button.clicked.connect(self.ask_void)
        self.pdf_button.clicked.connect(self.ask_pdf_path)
        self.print_button.clicked.connect(self.ask_printer)
        self.table.itemSelectionChanged.connect(self._show_selected)

    # -- showing ------------------------------------------------------------------------
    def show_record(self, record: WorkOrderRecord) -> None:
        self.record = record
        if record.invoices != self._shown:
            chosen = self.selected()
            grew = self._shown is not None and len(record.invoices) > len(self._shown)
            self._shown = record.invoices
            # A new invoice is the one to look at; otherwise the selection stays.
            self._fill(record.invoices, None if grew or chosen is None else chosen.id)
        self._offer(record)

    def _fill(self, invoices: tuple[InvoiceRow, ...], keep: int | None) -> None:
        self.table.setRowCount(len(invoices))
        select = len(invoices) - 1
        for index, row in enumerate(invoices):
            cells = (
                row.number or self.tr("Draft"),
                KIND_LABELS[InvoiceKind(row.kind)],
                STATUS_LABELS[InvoiceStatus(row.status)],
                row.issued_on.strftime("%d %b %Y") if row.issued_on else "",
                money(row.total),
                money(row.paid),
                money(row.balance) if row.kind != InvoiceKind.CREDIT.value else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 4:
                    item.setTextAlignment(_RIGHT)
                if row.status == InvoiceStatus.VOID.value:
                    font = item.font()
                    font.setStrikeOut(True)
                    item.setFont(font)
                self.table.setItem(index, column, item)
            if row.id == keep:
                select = index
        self.empty.setVisible(not invoices)
        self.table.setVisible(bool(invoices))
        if invoices:
            self.table.selectRow(select)
        self._show_selected()

    def _offer(self, record: WorkOrderRecord) -> None:
        """The buttons this work order, this invoice and this role allow."""
        may_bill = self.host.workspace.may(Action.BILL)
        billed = [
            i
            for i in record.invoices
            if i.kind in (InvoiceKind.STANDARD.value, InvoiceKind.FINAL.value)
            and i.status != InvoiceStatus.VOID.value
        ]
        done = WorkOrderStatus(record.status) in WORK_ORDER_DONE
        self.create_button.setEnabled(may_bill and done and not billed)
        self.advance_button.setEnabled(may_bill and not billed)
        self.create_button.setVisible(may_bill)
        self.advance_button.setVisible(may_bill)
        if not may_bill:
            self.note.setText(self.tr("Your role may look at invoices; billing is a dispatcher's."))
        elif billed:
            self.note.setText("")
        elif not done:
            self.note.setText(
                self.tr("The work is invoiced once it is completed; a deposit can be billed now.")
            )
        else:
            self.note.setText("")
        self.note.setVisible(bool(self.note.text()))
        billed_total = sum(
            (
                i.total
                for i in record.invoices
                if i.number and i.status != InvoiceStatus.VOID.value and i.kind != "credit"
            ),
            start=ZERO,
        )
        owed = sum((i.balance for i in record.invoices if i.status in _OPEN), start=ZERO)
        self.summary.setText(
            self.tr("Billed {0} · Balance {1}").format(money(billed_total), money(owed))
            if record.invoices
            else ""
        )
        self._show_selected()

    def selected(self) -> InvoiceRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self._shown is None or rows[0].row() >= len(self._shown):
            return None
        return self._shown[rows[0].row()]

    def _show_selected(self) -> None:
        row = self.selected()
        self.card.setVisible(row is not None)
        if row is None:
            return
        self.detail_title.setText(invoice_title(row))
        self.detail.setText(invoice_html(row))
        workspace = self.host.workspace
        may_bill, may_void = workspace.may(Action.BILL), workspace.may(Action.VOID_INVOICES)
        draft = row.status == InvoiceStatus.DRAFT.value
        takes_money = row.kind != InvoiceKind.CREDIT.value
        self.post_button.setVisible(draft and may_bill)
        self.delete_button.setVisible(draft and may_bill)
        self.pay_button.setVisible(row.status in _OPEN and takes_money and may_bill)
        self.refund_button.setVisible(not draft and row.paid > 0 and takes_money and may_bill)
        self.credit_button.setVisible(
            row.number is not None
            and row.status != InvoiceStatus.VOID.value
            and takes_money
            and may_void
        )
        self.pdf_button.setVisible(row.number is not None)
        self.print_button.setVisible(row.number is not None)
        self.void_button.setVisible(
            row.status == InvoiceStatus.POSTED.value
            and row.paid == 0
            and row.credited == 0
            and takes_money
            and may_void
        )

    def typed_input(self) -> list[str]:
        if (
            self.dialog is not None
            and self.dialog.isVisible()
            and any(self.dialog.values().values())
        ):
            return [self.tr("a payment or invoice form being filled in")]
        return []

    # -- writing ------------------------------------------------------------------------
    async def _write(self, work: Awaitable[Any]) -> bool:
        show_error(self.error, None)
        return await self.host.attempt(
            work,
            show_errors=lambda errors: show_error(self.error, " ".join(errors.values())),
            parts=(RecordPart.BILLING, RecordPart.HEADER, RecordPart.HISTORY),
        )

    def create_invoice(self) -> None:
        self.host.spawn(self._create())

    async def _create(self) -> None:
        self.create_button.setEnabled(False)
        try:
            await self._write(
                self.host.workspace.run(
                    billing.create_invoice, work_order_id=self.host.work_order_id
                )
            )
        finally:
            if self.record is not None:
                self._offer(self.record)

    def post_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.host.spawn(self._post(row))

    async def _post(self, row: InvoiceRow) -> None:
        self.post_button.setEnabled(False)
        try:
            await self._write(
                self.host.workspace.run(
                    billing.post_invoice,
                    invoice_id=row.id,
                    seen_version=row.version,
                    clock=self.host.workspace.clock,
                )
            )
        finally:
            self.post_button.setEnabled(True)

    def delete_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        confirm(
            self,
            self.tr("Delete this draft invoice?"),
            self.tr("Delete draft"),
            lambda: self.host.spawn(self._delete(row)),
            name="confirmDeleteDraft",
            details=self.tr("Its lines go with it; the work order's charges stay."),
        )

    async def _delete(self, row: InvoiceRow) -> None:
        await self._write(
            self.host.workspace.run(
                billing.delete_draft, invoice_id=row.id, seen_version=row.version
            )
        )

    # -- money forms --------------------------------------------------------------------
    def _open(
        self, dialog: MoneyDialog, write: Callable[[dict[str, Any]], Awaitable[Any]]
    ) -> MoneyDialog:
        """Show a form; each submit runs ``write``, and a refusal stays in the form."""

        async def submit(values: dict[str, Any]) -> None:
            try:
                await self.host.workspace.run_plain(write(values))
            except ValidationError as invalid:
                dialog.refuse(" ".join(invalid.fields.values()))
                return
            except UserFacingError as error:
                dialog.refuse(str(error))
                return
            dialog.finish()
            self.host.refresh_soon(
                (RecordPart.BILLING, RecordPart.HEADER, RecordPart.HISTORY, RecordPart.AUDIT)
            )

        dialog.submitted.connect(lambda values: self.host.spawn(submit(values)))
        self.dialog = dialog
        dialog.open()
        return dialog

    def ask_payment(self, *, refund: bool) -> MoneyDialog | None:
        row = self.selected()
        if row is None:
            return None
        sessions = self.host.workspace.database.sessions
        title = self.tr("Refund on {0}") if refund else self.tr("Payment on {0}")
        dialog = MoneyDialog(
            title.format(row.number),
            self.tr("Record refund") if refund else self.tr("Record payment"),
            intro=self.tr("Balance {0} · paid so far {1}").format(
                money(row.balance), money(row.paid)
            ),
            amount=None if refund else max(row.balance, ZERO),
            ask_method=True,
            reason_label=self.tr("Reason") if refund else "",
            reason_required=refund,
            parent=self,
        )
        if not refund:
            dialog.choose_method(PaymentMethod.CARD)

        async def write(values: dict[str, Any]) -> None:
            await billing.record_payment(
                sessions,
                invoice_id=row.id,
                clock=self.host.workspace.clock,
                refund=refund,
                **values,
            )

        return self._open(dialog, write)

    def ask_advance(self) -> MoneyDialog:
        sessions = self.host.workspace.database.sessions
        dialog = MoneyDialog(
            self.tr("Deposit or progress invoice"),
            self.tr("Create draft"),
            intro=self.tr(
                "Bills an amount now; the final invoice takes it off again. Not taxed: "
                "tax is charged on the work, on the final invoice."
            ),
            reason_label=self.tr("Description"),
            parent=self,
        )
        kind = (
            InvoiceKind.DEPOSIT
            if not any(
                i.kind == InvoiceKind.DEPOSIT.value and i.status != InvoiceStatus.VOID.value
                for i in (self.record.invoices if self.record else ())
            )
            else InvoiceKind.PROGRESS
        )

        async def write(values: dict[str, Any]) -> None:
            await billing.create_invoice(
                sessions,
                work_order_id=self.host.work_order_id,
                kind=kind.value,
                amount=values["amount"],
                description=values.get("reason", ""),
            )

        return self._open(dialog, write)

    def ask_credit_note(self) -> MoneyDialog | None:
        row = self.selected()
        if row is None:
            return None
        sessions = self.host.workspace.database.sessions
        dialog = MoneyDialog(
            self.tr("Credit note against {0}").format(row.number),
            self.tr("Issue credit note"),
            intro=self.tr(
                "Takes money off the posted invoice with a numbered credit note; the invoice "
                "itself never changes. Refund anything paid above the new balance."
            ),
            reason_label=self.tr("Reason"),
            reason_required=True,
            parent=self,
        )

        async def write(values: dict[str, Any]) -> None:
            await billing.issue_credit_note(
                sessions,
                invoice_id=row.id,
                amount=values["amount"],
                reason=values["reason"],
                clock=self.host.workspace.clock,
            )

        return self._open(dialog, write)

    def ask_void(self) -> MoneyDialog | None:
        row = self.selected()
        if row is None:
            return None
        sessions = self.host.workspace.database.sessions
        dialog = MoneyDialog(
            self.tr("Void {0}").format(row.number),
            self.tr("Void invoice"),
            intro=self.tr(
                "A void invoice keeps its number and stays on file; the work can be invoiced again."
            ),
            ask_amount=False,
            reason_label=self.tr("Reason"),
            reason_required=True,
            parent=self,
        )

        async def write(values: dict[str, Any]) -> None:
            await billing.void_invoice(
                sessions, invoice_id=row.id, seen_version=row.version, reason=values["reason"]
            )

        return self._open(dialog, write)

    # -- paper ------------------------------------------------------------------------
    def ask_pdf_path(self) -> None:
        row = self.selected()
        if row is None or row.number is None:
            return
        number = row.number
        chooser = QFileDialog(self, self.tr("Save {0} as PDF").format(number))
        chooser.setObjectName("pdfChooser")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setNameFilter(self.tr("PDF files (*.pdf)"))
        chooser.setDefaultSuffix("pdf")
        chooser.selectFile(f"{number}.pdf")
        chooser.fileSelected.connect(lambda path: self.host.spawn(self._save(number, Path(path))))
        chooser.open()

    async def _save(self, number: str, path: Path) -> None:
        await self.save_pdf(number, path)

    async def save_pdf(self, number: str, path: Path) -> bool:
        """Write the posted invoice ``number`` to ``path``; True when written."""
        show_error(self.error, None)
        try:
            document = await self.host.workspace.run(load_invoice_document, number)
            write_invoice_pdf(document, path)  # a page of text: quick, and Qt's to draw
        except UserFacingError as error:
            show_error(self.error, str(error))
            return False
        return True

    def ask_printer(self) -> None:
        row = self.selected()
        if row is None or row.number is None:
            return
        number = row.number
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("printDialog")
        dialog.accepted.connect(lambda: self.host.spawn(self._print(number, printer)))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()

    async def _print(self, number: str, printer: QPrinter) -> None:
        show_error(self.error, None)
        try:
            document = await self.host.workspace.run(load_invoice_document, number)
        except UserFacingError as error:
            show_error(self.error, str(error))
            return
        if not print_invoice(document, printer):
            show_error(self.error, self.tr("The printer did not take {0}.").format(number))


def minus(amount: Decimal) -> str:
    """Money taken off the balance: ``−$50.00`` (a refund, negative, adds: ``+$20.00``)."""
    return f"−{money(amount)}" if amount >= 0 else f"+{money(-amount)}"


def invoice_html(row: InvoiceRow) -> str:
    """The selected invoice: its lines, totals and payments, every text escaped."""
    lines = "".join(
        f"<tr><td>{escape(line.description)}</td>"
        f"<td align='right'>{line.quantity.normalize():f}</td>"
        f"<td align='right'>{money(line.amount)}</td></tr>"
        for line in row.lines
    )
    totals = (
        f"<tr><td colspan='2'>Subtotal</td><td align='right'>{money(row.subtotal)}</td></tr>"
        f"<tr><td colspan='2'>Tax {percent_text(row.tax_rate)}</td>"
        f"<td align='right'>{money(row.tax)}</td></tr>"
        f"<tr><td colspan='2'><b>Total</b></td>"
        f"<td align='right'><b>{money(row.total)}</b></td></tr>"
    )
    paid = "".join(
        f"<tr><td colspan='2'>{escape(METHOD_LABELS[PaymentMethod(p.method)])} "
        f"{p.received_on:%d %b}{' · ' + escape(p.detail) if p.detail else ''}</td>"
        f"<td align='right'>{minus(p.amount)}</td></tr>"
        for p in row.payments
    )
    if row.credited:
        paid += (
            f"<tr><td colspan='2'>Credited</td><td align='right'>{minus(row.credited)}</td></tr>"
        )
    balance = ""
    if row.kind != InvoiceKind.CREDIT.value and row.number:
        balance = (
            f"<tr><td colspan='2'><b>Balance</b></td>"
            f"<td align='right'><b>{money(row.balance)}</b></td></tr>"
        )
    notes = []
    if row.credit_of:
        notes.append(f"Corrects {escape(row.credit_of)}.")
    if row.void_reason:
        notes.append(f"Void: {escape(row.void_reason)}")
    if row.due_on and row.status in _OPEN:
        notes.append(f"Due {row.due_on:%d %b %Y}.")
    return (
        "<table width='100%' cellspacing='0' cellpadding='2'>"
        f"{lines}<tr><td colspan='3'><hr></td></tr>{totals}{paid}{balance}</table>"
        + "".join(f"<p>{note}</p>" for note in notes)
    )
