"""The Price book tab: every part and service (code, name, kind, trade, unit, cost,
price, taxable, active), found by code or words of the name; and, for a manager and
up, Import… and Export… as CSV (``services/price_book``: the whole file is checked
before anything is written, and every bad row is named by its number)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from dispatch_app.domain.price_book_csv import PriceBookRow
from dispatch_app.domain.roles import Action
from dispatch_app.domain.vocabulary import PartKind, Trade
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import UserFacingError
from dispatch_app.services.price_book import (
    export_price_book_file,
    import_price_book_file,
    price_book,
    read_price_book_file,
    write_price_book_file,
)
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import DONE_STYLE, muted, show_error
from dispatch_app.ui.intake.job_types import TRADE_LABEL
from dispatch_app.ui.office.common import OfficeTab, records_view
from dispatch_app.ui.office.rows import Column, RecordsModel, SearchRole
from dispatch_app.ui.tasks import WindowTasks

KIND_LABEL = {PartKind.PART.value: "Part", PartKind.SERVICE.value: "Service"}


def trade_text(trade: str | None) -> str:
    return TRADE_LABEL[Trade(trade)] if trade else "All trades"


class BookSearch(QSortFilterProxyModel):
    """Rows whose code and name hold every word typed, in any order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []

    def set_words(self, typed: str) -> None:
        self.beginFilterChange()
        self._words = typed.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        haystack = str(model.data(model.index(source_row, 0, source_parent), SearchRole))
        return all(word in haystack for word in self._words)


class PriceBookTab(OfficeTab):
    tables = frozenset({"parts"})

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__(workspace, tasks)
        self.chooser: QFileDialog | None = None  # the open file chooser, if any
        self.search = QLineEdit()
        self.search.setObjectName("bookSearch")
        self.search.setPlaceholderText(self.tr("Find by code or name"))
        self.search.setClearButtonEnabled(True)
        yes, no = self.tr("Yes"), self.tr("No")
        self.model = RecordsModel(
            [
                Column(self.tr("Code"), lambda r: r.code),
                Column(self.tr("Name"), lambda r: r.name),
                Column(self.tr("Kind"), lambda r: self.tr(KIND_LABEL.get(r.kind, r.kind))),
                Column(self.tr("Trade"), lambda r: self.tr(trade_text(r.trade))),
                Column(self.tr("Unit"), lambda r: r.unit),
                Column(self.tr("Cost"), lambda r: money(r.cost), numeric=True),
                Column(self.tr("Price"), lambda r: money(r.price), numeric=True),
                Column(self.tr("Taxable"), lambda r: yes if r.taxable else no),
                Column(self.tr("Active"), lambda r: yes if r.active else no),
            ],
            key=lambda r: r.code,
            search=lambda r: f"{r.code} {r.name}".casefold(),
            muted=lambda r: not r.active,  # still in the book, no longer offered
            muted_colour=theme.MUTED_TEXT,
            parent=self,
        )
        self.found = BookSearch(self)
        self.found.setSourceModel(self.model)
        self.table = records_view("priceBook", self.found, stretch=1)
        self.note = muted()
        self.note.setObjectName("bookNote")
        self.done = QLabel()
        self.done.setObjectName("bookDone")
        self.done.setWordWrap(True)
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.import_button = QPushButton(self.tr("&Import CSV…"))
        self.import_button.setObjectName("importBook")
        self.export_button = QPushButton(self.tr("&Export CSV…"))
        self.export_button.setObjectName("exportBook")
        # The price book is a manager's to change; its file goes with it.
        allowed = workspace.may(Action.PRICE_BOOK)
        self.import_button.setVisible(allowed)
        self.export_button.setVisible(allowed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.done)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.search.textChanged.connect(self._search)
        self.import_button.clicked.connect(self.ask_import)
        self.export_button.clicked.connect(self.ask_export)

    # -- the list -----------------------------------------------------------------------
    async def fetch(self, _wanted: object) -> list[PriceBookRow]:
        return await self.workspace.read(price_book)

    def show_answer(self, _wanted: object, book: list[PriceBookRow]) -> None:
        self.model.set_records(book)
        self._count()

    def _search(self, typed: str) -> None:
        self.found.set_words(typed)
        self._count()

    def _count(self) -> None:
        every, shown = self.model.rowCount(), self.found.rowCount()
        if shown == every:
            self.note.setText(self.tr("{0:,} parts and services.").format(every))
        else:
            self.note.setText(self.tr("{0:,} of {1:,} match.").format(shown, every))

    def shown_codes(self) -> list[str]:
        return [str(self.found.index(row, 0).data()) for row in range(self.found.rowCount())]

    # -- the file -----------------------------------------------------------------------
    def ask_import(self) -> None:
        chooser = QFileDialog(self, self.tr("Import a price book"))
        chooser.setObjectName("importChooser")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setNameFilter(self.tr("CSV files (*.csv)"))
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.import_file(Path(path))))
        self.chooser = chooser
        chooser.open()

    async def import_file(self, path: Path) -> None:
        """Check and import a CSV file; the result, or every problem, shows below."""
        self._say(None, None)
        try:
            data = await asyncio.to_thread(read_price_book_file, path)
            result = await self.workspace.run(import_price_book_file, data)
        except UserFacingError as error:
            self._say(None, str(error))
            return
        self._say(result.sentence(path.name), None)
        self.reload()

    def ask_export(self) -> None:
        chooser = QFileDialog(self, self.tr("Export the price book"))
        chooser.setObjectName("exportChooser")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setNameFilter(self.tr("CSV files (*.csv)"))
        chooser.setDefaultSuffix("csv")
        chooser.selectFile("price-book.csv")
        # The chooser has asked before replacing a file already.
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.export_file(Path(path))))
        self.chooser = chooser
        chooser.open()

    async def export_file(self, path: Path) -> None:
        self._say(None, None)
        try:
            data = await self.workspace.run(export_price_book_file)
            await asyncio.to_thread(write_price_book_file, path, data, replace=True)
        except UserFacingError as error:
            self._say(None, str(error))
            return
        self._say(self.tr("Wrote the price book to {0}.").format(path), None)

    def _say(self, done: str | None, problem: str | None) -> None:
        self.done.setText(done or "")
        self.done.setVisible(bool(done))
        show_error(self.problem, problem)
