"""The office's Billing & stock window: what is done and not invoiced, what is owed by
age, what each location holds, and the price book (imported and exported as CSV).

Every list is read off the GUI thread and read again when its rows change on any
workstation (the change feed's hints for invoices, payments, work orders, line items
and stock). Payments and stock movements are entered in small forms that keep what was
typed when the database refuses them; a transfer a location cannot cover asks whether
the books are wrong before it is made anyway.
"""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.billing import AGING_BUCKETS
from dispatch_app.domain.price_book_csv import PriceBookRow
from dispatch_app.domain.roles import Action
from dispatch_app.domain.vocabulary import PaymentMethod
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import ShortStock, UserFacingError, ValidationError
from dispatch_app.services import billing, stock
from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.price_book import (
    export_price_book_file,
    import_price_book_file,
    price_book,
    read_price_book_file,
    write_price_book_file,
)
from dispatch_app.services.work_order.charges import search_parts
from dispatch_app.services.work_order.rows import PartChoice
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.forms import (
    DONE_STYLE,
    confirm,
    error_label,
    muted,
    section_title,
    show_error,
)
from dispatch_app.ui.payment_dialog import MoneyDialog
from dispatch_app.ui.tasks import WindowTasks

BOOK_ROWS_SHOWN = 500  # a price book of thousands is searched, not scrolled
WATCHED = ("invoices", "payments", "work_orders", "line_items", "stock_levels", "parts")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TILE_STYLE = "background: #ffffff; border: 1px solid #dde2e8; border-radius: 6px; padding: 8px;"


def table(name: str, headers: list[str]) -> QTableWidget:
    widget = QTableWidget(0, len(headers))
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(headers)
    widget.verticalHeader().hide()
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setAlternatingRowColors(True)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the names
    return widget


def fill(widget: QTableWidget, rows: list[tuple[str, ...]], right_from: int) -> None:
    widget.setRowCount(len(rows))
    for index, cells in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column >= right_from:
                item.setTextAlignment(_RIGHT)
            widget.setItem(index, column, item)


def amount_text(value: decimal.Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


class StockDialog(QDialog):
    """Receive, transfer or count one part: the fields that movement needs."""

    submitted = Signal(dict)

    def __init__(
        self,
        title: str,
        action: str,
        parts: list[PartChoice],
        locations: list[stock.Location],
        *,
        at: int | None,
        ask_cost: bool = False,
        ask_destination: bool = False,
        ask_reason: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("stockDialog")
        self.setMinimumWidth(420)
        form = QFormLayout()
        self.location = QComboBox()
        self.location.setObjectName("location")
        for place in locations:
            self.location.addItem(place.name, place.id)
        if at is not None:
            self.location.setCurrentIndex(max(0, self.location.findData(at)))
        form.addRow(self.tr("From") if ask_destination else self.tr("Location"), self.location)
        self.destination = QComboBox()
        self.destination.setObjectName("destination")
        if ask_destination:
            for place in locations:
                self.destination.addItem(place.name, place.id)
            self.destination.setCurrentIndex(min(1, len(locations) - 1))
            form.addRow(self.tr("To"), self.destination)
        self.part = QComboBox()
        self.part.setObjectName("part")
        self.part.setEditable(True)  # type to find it
        self.part.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for choice in parts:
            self.part.addItem(f"{choice.sku} — {choice.name}", choice.id)
        form.addRow(self.tr("Part"), self.part)
        self.quantity = QLineEdit()
        self.quantity.setObjectName("quantity")
        form.addRow(self.tr("Counted") if ask_reason else self.tr("Quantity"), self.quantity)
        self.cost = QLineEdit()
        self.cost.setObjectName("unitCost")
        self.cost.setPlaceholderText(self.tr("the price book's cost"))
        if ask_cost:
            form.addRow(self.tr("Unit cost ($)"), self.cost)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        if ask_reason:
            self.reason.setPlaceholderText(self.tr("Required: why the number changed"))
            form.addRow(self.tr("Reason"), self.reason)
        self.error = error_label("stockError")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("submit")
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "location_id": self.location.currentData(),
            "destination_id": self.destination.currentData(),
            "part_id": self.part.currentData(),
            "quantity": self.quantity.text(),
            "unit_cost": self.cost.text(),
            "reason": self.reason.text(),
        }

    def _submit(self) -> None:
        show_error(self.error, None)
        self.go.setEnabled(False)
        self.submitted.emit(self.values())

    def refuse(self, sentence: str) -> None:
        show_error(self.error, sentence)
        self.go.setEnabled(True)

    def finish(self) -> None:
        self.go.setEnabled(True)
        self.accept()

    def sentence(self) -> str:
        return self.error.text() if self.error.isVisible() else ""


class BillingWindow(QWidget):
    openWorkOrder = Signal(int)  # the user double-clicked a work order
    shown = Signal()  # the lists were read again (tests wait for it)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("billingWindow")
        self.setWindowTitle(self.tr("Billing & stock — {0}").format(workspace.label))
        self.workspace = workspace
        self.tasks = WindowTasks("billing window")
        self.dialog: QDialog | None = None
        self.unbilled: list[billing.NotInvoiced] = []
        self.unpaid: list[billing.Unpaid] = []
        self.stock_lines: list[stock.StockLine] = []
        self.book: list[PriceBookRow] = []
        self.places: list[stock.Location] = []
        self.tabs = QTabWidget()
        self.tabs.setObjectName("billingTabs")
        self.tabs.addTab(self._not_invoiced_tab(), self.tr("Not invoiced"))
        self.tabs.addTab(self._aging_tab(), self.tr("Unpaid by age"))
        self.tabs.addTab(self._stock_tab(), self.tr("Stock"))
        self.tabs.addTab(self._price_book_tab(), self.tr("Price book"))
        self.problem = error_label("billingProblem")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.problem)
        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(150)  # hints come in bursts: one read after the burst
        self._reread.timeout.connect(self.reload)
        self._unsubscribe = workspace.changes.watch_tables(WATCHED, self._changed)
        self.resize(980, 600)
        self.reload()

    # -- building ---------------------------------------------------------------------
    def _not_invoiced_tab(self) -> QWidget:
        page = QWidget()
        self.unbilled_summary = section_title("")
        self.unbilled_summary.setObjectName("notInvoicedSummary")
        self.unbilled_table = table(
            "notInvoiced",
            [
                self.tr("Work order"),
                self.tr("Customer"),
                self.tr("Completed"),
                self.tr("Value"),
                self.tr("Invoice"),
            ],
        )
        self.unbilled_table.doubleClicked.connect(
            lambda index: self.openWorkOrder.emit(self.unbilled[index.row()].work_order_id)
        )
        layout = QVBoxLayout(page)
        layout.addWidget(self.unbilled_summary)
        layout.addWidget(muted(self.tr("Oldest first. Double-click a work order to invoice it.")))
        layout.addWidget(self.unbilled_table)
        return page

    def _aging_tab(self) -> QWidget:
        page = QWidget()
        tiles = QHBoxLayout()
        self.tiles: dict[str, QLabel] = {}
        for label, _most in AGING_BUCKETS:
            tile = QLabel()
            tile.setObjectName(f"bucket{label}")
            tile.setTextFormat(Qt.TextFormat.RichText)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setFrameShape(QFrame.Shape.NoFrame)
            tile.setStyleSheet(TILE_STYLE)
            self.tiles[label] = tile
            tiles.addWidget(tile)
        self.unpaid_table = table(
            "unpaid",
            [
                self.tr("Invoice"),
                self.tr("Customer"),
                self.tr("Work order"),
                self.tr("Date"),
                self.tr("Total"),
                self.tr("Balance"),
                self.tr("Days"),
            ],
        )
        self.pay_button = QPushButton(self.tr("Record payment…"))
        self.pay_button.setObjectName("recordPayment")
        self.pay_button.clicked.connect(self.ask_payment)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.pay_button)
        layout = QVBoxLayout(page)
        layout.addLayout(tiles)
        layout.addWidget(self.unpaid_table)
        layout.addLayout(row)
        return page

    def _stock_tab(self) -> QWidget:
        page = QWidget()
        self.place = QComboBox()
        self.place.setObjectName("stockLocation")
        self.low_only = QCheckBox(self.tr("Low stock only"))
        self.low_only.setObjectName("lowOnly")
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Location")))
        top.addWidget(self.place, 1)
        top.addWidget(self.low_only)
        self.stock_table = table(
            "stock",
            [
                self.tr("Code"),
                self.tr("Part"),
                self.tr("On hand"),
                self.tr("Average cost"),
                self.tr("Value"),
                self.tr("Reorder at"),
            ],
        )
        self.receive_button = QPushButton(self.tr("Receive…"))
        self.receive_button.setObjectName("receive")
        self.transfer_button = QPushButton(self.tr("Transfer…"))
        self.transfer_button.setObjectName("transfer")
        self.count_button = QPushButton(self.tr("Count…"))
        self.count_button.setObjectName("count")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.receive_button, self.transfer_button, self.count_button):
            buttons.addWidget(button)
        self.stock_note = muted()
        self.stock_note.setObjectName("stockNote")
        layout = QVBoxLayout(page)
        layout.addLayout(top)
        layout.addWidget(self.stock_table)
        layout.addWidget(self.stock_note)
        layout.addLayout(buttons)
        self.place.currentIndexChanged.connect(lambda _i: self._show_stock())
        self.low_only.toggled.connect(lambda _on: self._show_stock())
        self.receive_button.clicked.connect(lambda: self.ask_stock("receive"))
        self.transfer_button.clicked.connect(lambda: self.ask_stock("transfer"))
        self.count_button.clicked.connect(lambda: self.ask_stock("count"))
        may_move = self.workspace.may(Action.BILL)
        for button in (self.receive_button, self.transfer_button, self.count_button):
            button.setVisible(may_move)
        self.pay_button_visible = may_move
        return page

    def _price_book_tab(self) -> QWidget:
        page = QWidget()
        self.book_search = QLineEdit()
        self.book_search.setObjectName("bookSearch")
        self.book_search.setPlaceholderText(self.tr("Find by code or name"))
        self.book_search.setClearButtonEnabled(True)
        self.book_table = table(
            "priceBook",
            [
                self.tr("Code"),
                self.tr("Name"),
                self.tr("Kind"),
                self.tr("Trade"),
                self.tr("Unit"),
                self.tr("Cost"),
                self.tr("Price"),
                self.tr("Taxable"),
                self.tr("Active"),
            ],
        )
        self.book_note = muted()
        self.book_note.setObjectName("bookNote")
        self.book_done = QLabel()
        self.book_done.setObjectName("bookDone")
        self.book_done.setStyleSheet(DONE_STYLE)
        self.book_done.hide()
        self.book_error = error_label("bookError")
        self.import_button = QPushButton(self.tr("Import CSV…"))
        self.import_button.setObjectName("importBook")
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.export_button.setObjectName("exportBook")
        self.import_button.setVisible(self.workspace.may(Action.PRICE_BOOK))
        buttons = QHBoxLayout()
        buttons.addWidget(self.book_note, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.book_search)
        layout.addWidget(self.book_table)
        layout.addWidget(self.book_done)
        layout.addWidget(self.book_error)
        layout.addLayout(buttons)
        self.book_search.textChanged.connect(lambda _text: self._show_book())
        self.import_button.clicked.connect(self.ask_import)
        self.export_button.clicked.connect(self.ask_export)
        return page

    # -- reading ----------------------------------------------------------------------
    def _changed(self, _hints: list[ChangeHint]) -> None:
        if not self.tasks.closed:
            self._reread.start()

    def reload(self) -> None:
        self.tasks.spawn(self._read())

    async def _read(self) -> None:
        clock = self.workspace.clock
        try:
            unbilled = await self.workspace.read(billing.not_invoiced)
            aged = await self.workspace.read(billing.aging, clock=clock)
            places = await self.workspace.read(stock.locations)
            lines = await self.workspace.read(stock.stock_at)
            book = await self.workspace.read(price_book)
        except UserFacingError as error:
            show_error(self.problem, str(error))
            return
        show_error(self.problem, None)
        self._show_unbilled(unbilled)
        self._show_aging(aged)
        self._show_places(places)
        self.stock_lines = lines
        self._show_stock()
        self.book = book
        self._show_book()
        self.shown.emit()

    def _show_unbilled(self, listed: billing.NotInvoicedList) -> None:
        self.unbilled = listed.rows
        if listed.count:
            words = (
                self.tr("1 completed work order worth {1} is not invoiced")
                if listed.count == 1
                else self.tr("{0} completed work orders worth {1} are not invoiced")
            )
            self.unbilled_summary.setText(words.format(f"{listed.count:,}", money(listed.value)))
        else:
            self.unbilled_summary.setText(self.tr("All completed work is invoiced."))
        fill(
            self.unbilled_table,
            [
                (
                    row.number,
                    row.customer,
                    row.completed_at.strftime("%a %d %b %Y") if row.completed_at else "",
                    money(row.value),
                    self.tr("Draft") if row.draft else "",
                )
                for row in listed.rows
            ],
            right_from=3,
        )

    def _show_aging(self, aged: billing.AgingList) -> None:
        self.unpaid = aged.rows
        for label, (count, balance) in aged.buckets.items():
            self.tiles[label].setText(
                f"<div style='font-size:11pt;color:#5b6673'>{label} days</div>"
                f"<div style='font-size:18pt;font-weight:600'>{money(balance or 0)}</div>"
                f"<div style='color:#5b6673'>{count} invoice{'s' if count != 1 else ''}</div>"
            )
        fill(
            self.unpaid_table,
            [
                (
                    row.number,
                    row.customer,
                    row.work_order,
                    row.issued_on.strftime("%d %b %Y"),
                    money(row.total),
                    money(row.balance),
                    row.bucket,
                )
                for row in aged.rows
            ],
            right_from=4,
        )
        self.pay_button.setVisible(self.pay_button_visible and bool(aged.rows))

    def _show_places(self, places: list[stock.Location]) -> None:
        if [p.id for p in places] == [p.id for p in self.places]:
            return
        chosen = self.place.currentData()
        self.places = places
        self.place.blockSignals(True)
        self.place.clear()
        for place in places:
            self.place.addItem(place.name, place.id)
        found = self.place.findData(chosen)
        self.place.setCurrentIndex(found if found >= 0 else 0)
        self.place.blockSignals(False)

    def shown_stock(self) -> list[stock.StockLine]:
        at = self.place.currentData()
        return [
            line
            for line in self.stock_lines
            if line.location_id == at
            and (
                not self.low_only.isChecked()
                or (line.reorder_point > 0 and line.on_hand <= line.reorder_point)
            )
        ]

    def _show_stock(self) -> None:
        lines = self.shown_stock()
        fill(
            self.stock_table,
            [
                (
                    line.sku,
                    line.part,
                    amount_text(line.on_hand),
                    money(line.average_cost.quantize(decimal.Decimal("0.01"))),
                    money(line.value),
                    amount_text(line.reorder_point),
                )
                for line in lines
            ],
            right_from=2,
        )
        low = sum(
            1 for line in lines if line.reorder_point > 0 and line.on_hand <= line.reorder_point
        )
        self.stock_note.setText(
            self.tr("{0} parts at or below their reorder point.").format(low) if low else ""
        )

    def shown_book(self) -> list[PriceBookRow]:
        words = self.book_search.text().casefold().split()
        return [
            row
            for row in self.book
            if all(word in f"{row.code} {row.name}".casefold() for word in words)
        ]

    def _show_book(self) -> None:
        found = self.shown_book()
        fill(
            self.book_table,
            [
                (
                    row.code,
                    row.name,
                    row.kind,
                    row.trade or self.tr("all"),
                    row.unit,
                    money(row.cost),
                    money(row.price),
                    self.tr("yes") if row.taxable else self.tr("no"),
                    self.tr("yes") if row.active else self.tr("no"),
                )
                for row in found[:BOOK_ROWS_SHOWN]
            ],
            right_from=5,
        )
        more = len(found) - BOOK_ROWS_SHOWN
        self.book_note.setText(
            self.tr("{0:,} more: narrow the search to see them.").format(more)
            if more > 0
            else self.tr("{0:,} parts and services.").format(len(found))
        )

    def ask_import(self) -> None:
        chooser = QFileDialog(self, self.tr("Import a price book"))
        chooser.setObjectName("importChooser")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setNameFilter(self.tr("CSV files (*.csv)"))
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.import_file(Path(path))))
        chooser.open()

    async def import_file(self, path: Path) -> None:
        """Check and import a CSV file; the result or every problem is shown below."""
        self.book_done.hide()
        show_error(self.book_error, None)
        try:
            data = await asyncio.to_thread(read_price_book_file, path)
            result = await self.workspace.run(import_price_book_file, data)
        except ValidationError as refused:
            show_error(self.book_error, " ".join(refused.fields.values()))
            return
        except UserFacingError as error:
            show_error(self.book_error, str(error))
            return
        self.book_done.setText(result.sentence(path.name))
        self.book_done.show()
        self.reload()

    def ask_export(self) -> None:
        chooser = QFileDialog(self, self.tr("Export the price book"))
        chooser.setObjectName("exportChooser")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setNameFilter(self.tr("CSV files (*.csv)"))
        chooser.setDefaultSuffix("csv")
        chooser.selectFile("price-book.csv")
        # The chooser has asked about an existing file already.
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.export_file(Path(path))))
        chooser.open()

    async def export_file(self, path: Path) -> None:
        self.book_done.hide()
        show_error(self.book_error, None)
        try:
            data = await self.workspace.run(export_price_book_file)
            await asyncio.to_thread(write_price_book_file, path, data, replace=True)
        except UserFacingError as error:
            show_error(self.book_error, str(error))
            return
        self.book_done.setText(self.tr("Wrote the price book to {0}.").format(path))
        self.book_done.show()

    # -- writing ----------------------------------------------------------------------
    def _run_form(
        self,
        dialog: MoneyDialog | StockDialog,
        write: Callable[[dict[str, Any]], Awaitable[Any]],
        *,
        short_ok: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
    ) -> None:
        async def submit(values: dict[str, Any]) -> None:
            try:
                await self.workspace.run_plain(write(values))
            except ShortStock as short:
                if short_ok is None:
                    dialog.refuse(str(short))
                    return
                dialog.refuse(str(short))
                confirm(
                    dialog,
                    str(short),
                    self.tr("Move it anyway"),
                    lambda: self.tasks.spawn(anyway(values)),
                    name="confirmShortStock",
                    details=self.tr("Only if the parts are really there: the count is wrong."),
                )
                return
            except ValidationError as invalid:
                dialog.refuse(" ".join(invalid.fields.values()))
                return
            except UserFacingError as error:
                dialog.refuse(str(error))
                return
            dialog.finish()
            self.reload()

        async def anyway(values: dict[str, Any]) -> None:
            assert short_ok is not None
            try:
                await self.workspace.run_plain(short_ok(values))
            except UserFacingError as error:
                dialog.refuse(str(error))
                return
            dialog.finish()
            self.reload()

        dialog.submitted.connect(lambda values: self.tasks.spawn(submit(values)))
        self.dialog = dialog
        dialog.open()

    def selected_unpaid(self) -> billing.Unpaid | None:
        rows = self.unpaid_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.unpaid):
            return None
        return self.unpaid[rows[0].row()]

    def ask_payment(self) -> MoneyDialog | None:
        row = self.selected_unpaid()
        if row is None:
            show_error(self.problem, self.tr("Choose the invoice the payment is for."))
            return None
        dialog = MoneyDialog(
            self.tr("Payment on {0}").format(row.number),
            self.tr("Record payment"),
            intro=self.tr("{0} · balance {1}").format(row.customer, money(row.balance)),
            amount=row.balance,
            ask_method=True,
            parent=self,
        )
        dialog.choose_method(PaymentMethod.CHECK)
        sessions = self.workspace.database.sessions

        async def write(values: dict[str, Any]) -> None:
            await billing.record_payment(
                sessions, invoice_id=row.invoice_id, clock=self.workspace.clock, **values
            )

        self._run_form(dialog, write)
        return dialog

    def ask_stock(self, kind: str) -> None:
        self.tasks.spawn(self.open_stock_form(kind))

    async def open_stock_form(self, kind: str) -> None:
        """Receive, transfer or count: the form, with the price book's parts to choose."""
        try:
            parts = await self.workspace.read(search_parts, "", limit=2000)
        except UserFacingError as error:
            show_error(self.problem, str(error))
            return
        at = self.place.currentData()
        sessions = self.workspace.database.sessions
        titles = {
            "receive": (self.tr("Receive parts"), self.tr("Receive")),
            "transfer": (self.tr("Transfer parts"), self.tr("Transfer")),
            "count": (self.tr("Count a part"), self.tr("Set count")),
        }
        title, action = titles[kind]
        dialog = StockDialog(
            title,
            action,
            parts,
            self.places,
            at=at,
            ask_cost=kind == "receive",
            ask_destination=kind == "transfer",
            ask_reason=kind == "count",
            parent=self,
        )

        async def write(values: dict[str, Any], *, confirm_short: bool = False) -> None:
            if kind == "receive":
                await stock.receive(
                    sessions,
                    location_id=values["location_id"],
                    part_id=values["part_id"],
                    quantity=values["quantity"],
                    unit_cost=values["unit_cost"] or None,
                )
            elif kind == "transfer":
                await stock.transfer(
                    sessions,
                    from_location_id=values["location_id"],
                    to_location_id=values["destination_id"],
                    part_id=values["part_id"],
                    quantity=values["quantity"],
                    confirm_short=confirm_short,
                )
            else:
                await stock.count(
                    sessions,
                    location_id=values["location_id"],
                    part_id=values["part_id"],
                    counted=values["quantity"],
                    reason=values["reason"],
                )

        async def anyway(values: dict[str, Any]) -> None:
            await write(values, confirm_short=True)

        self._run_form(dialog, write, short_ok=anyway if kind == "transfer" else None)

    # -- the end ----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._reread.stop()
        super().closeEvent(event)

    async def aclose(self) -> None:
        self._unsubscribe()
        self._reread.stop()
        await self.tasks.aclose()
