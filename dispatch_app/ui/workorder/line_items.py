"""The Line items tab: labour and materials, their totals, and adding more.

Materials are picked from the parts list (searched as you type, off the GUI thread).
Quantity, price and description are edited in the table; a refused edit stays on
screen in red with its sentence below, until it is fixed or the record is reloaded.
"""

from __future__ import annotations

import decimal
import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.vocabulary import LineItemKind
from dispatch_app.domain.work_order_record import money, quantity_text
from dispatch_app.errors import ShortStock
from dispatch_app.services.work_order.charges import (
    add_labour,
    add_material,
    remove_line_item,
    search_parts,
    update_line_item,
)
from dispatch_app.services.work_order.rows import LineItemRow, PartChoice, WorkOrderRecord
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.workorder.common import (
    ERROR_COLOUR,
    RecordHost,
    error_label,
    muted,
    section_title,
    show_error,
    side_card,
)

_Index = QModelIndex | QPersistentModelIndex
ItemRole = Qt.ItemDataRole.UserRole  # the LineItemRow of a row

COLUMNS = ("kind", "sku", "description", "quantity", "unit_price", "total")
EDITABLE = {"description", "quantity", "unit_price"}
# What the adding forms offer before anything is typed.
LABOUR_HOURS = "1"
LABOUR_RATE = "95.00"
MATERIAL_QUANTITY = "1"
NUMERIC = {"quantity", "unit_price", "total"}

log = logging.getLogger(__name__)


class LineItemModel(QAbstractTableModel):
    """Line items as table rows; typed edits go to ``on_edit`` and show until saved."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.items: list[LineItemRow] = []
        self.pending: dict[tuple[int, str], str] = {}  # (item id, field) → text typed
        self.on_edit: Any = None  # callable(item, field, text)
        self._headers = (
            self.tr("Type"),
            self.tr("SKU"),
            self.tr("Description"),
            self.tr("Qty"),
            self.tr("Unit price"),
            self.tr("Total"),
        )

    def set_items(self, items: tuple[LineItemRow, ...]) -> None:
        if [i.id for i in items] == [i.id for i in self.items]:
            # Same rows: repaint only those that changed.
            old, self.items = self.items, list(items)
            for row, (before, after) in enumerate(zip(old, items, strict=True)):
                if before != after:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.items = list(items)
        live = {i.id for i in items}
        self.pending = {key: text for key, text in self.pending.items() if key[0] in live}
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[section] in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if COLUMNS[index.column()] in EDITABLE:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        column = COLUMNS[index.column()]
        typed = self.pending.get((item.id, column))
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if typed is not None:
                return typed
            if column == "kind":
                return (
                    self.tr("Labour") if item.kind == LineItemKind.LABOUR else self.tr("Material")
                )
            if column == "sku":
                return item.sku or ""
            if column == "description":
                return item.description
            if column == "quantity":
                return quantity_text(item.quantity)
            if column == "unit_price":
                return (
                    money(item.unit_price)
                    if role == Qt.ItemDataRole.DisplayRole
                    else str(item.unit_price)
                )
            return money(item.total)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and typed is not None:
            return QColor(ERROR_COLOUR)
        if role == Qt.ItemDataRole.FontRole and column == "total":
            font = QFont()
            font.setBold(True)
            return font
        if role == ItemRole:
            return item
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        item = self.items[index.row()]
        column = COLUMNS[index.column()]
        text = str(value)
        if text == self.data(index, Qt.ItemDataRole.EditRole):
            return False
        self.pending[(item.id, column)] = text
        self.dataChanged.emit(index, index)
        if self.on_edit is not None:
            self.on_edit(item, column, text)
        return True

    def settle(self, item_id: int, column: str) -> None:
        """The edit was saved (or dropped): show the record's value again."""
        self.pending.pop((item_id, column), None)
        for row, item in enumerate(self.items):
            if item.id == item_id:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


class LineItemsTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.confirmation: QMessageBox | None = None  # the open 'Remove …?' question
        self.short_question: QMessageBox | None = None  # 'Take it anyway?' (a short truck)
        self.host = host
        self._parts: list[PartChoice] = []
        self.part_searches: LatestRequest[str, list[PartChoice]] = LatestRequest(
            lambda text: self.host.workspace.read(search_parts, text),
            show=self._show_parts,
            # A failed search is simply not shown; typing again retries.
            fail=lambda text, error: log.info("part search %r failed: %s", text, error),
            spawn=host.spawn,
        )

        self.model = LineItemModel(self)
        self.model.on_edit = self._edited
        self.table = QTableView()
        self.table.setObjectName("lineItems")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("description"), QHeaderView.ResizeMode.Stretch)
        self.table_error = error_label("lineItemError")
        self.remove_button = QPushButton(self.tr("Remove selected"))
        self.remove_button.setObjectName("removeLineItem")
        self.empty = muted(self.tr("No labour or materials yet. Add them on the right."))
        self.labour_total = QLabel()
        self.material_total = QLabel()
        self.total = QLabel()
        self.total.setObjectName("grandTotal")
        font = self.total.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 3)
        self.total.setFont(font)
        totals = QHBoxLayout()
        totals.addWidget(self.remove_button)
        totals.addStretch()
        totals.addWidget(self.labour_total)
        totals.addSpacing(18)
        totals.addWidget(self.material_total)
        totals.addSpacing(18)
        totals.addWidget(self.total)

        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addWidget(self.empty)
        left.addWidget(self.table_error)
        left.addLayout(totals)

        # Adding labour
        self.labour_description = QLineEdit()
        self.labour_description.setObjectName("labourDescription")
        self.labour_description.setPlaceholderText(self.tr("e.g. Diagnose and repair"))
        self.labour_hours = QLineEdit(LABOUR_HOURS)
        self.labour_hours.setObjectName("labourHours")
        self.labour_rate = QLineEdit(LABOUR_RATE)
        self.labour_rate.setObjectName("labourRate")
        self.add_labour_button = QPushButton(self.tr("Add labour"))
        self.add_labour_button.setObjectName("addLabour")
        self.labour_errors = {
            "description": error_label(),
            "quantity": error_label(),
            "unit_price": error_label(),
            "other": error_label(),
        }
        labour_form = QFormLayout()
        labour_form.addRow(self.tr("Work"), self.labour_description)
        labour_form.addRow("", self.labour_errors["description"])
        labour_form.addRow(self.tr("Hours"), self.labour_hours)
        labour_form.addRow("", self.labour_errors["quantity"])
        labour_form.addRow(self.tr("Rate / h"), self.labour_rate)
        labour_form.addRow("", self.labour_errors["unit_price"])

        # Adding material
        self.part_search = QLineEdit()
        self.part_search.setObjectName("partSearch")
        self.part_search.setPlaceholderText(self.tr("Search the price book by name or code"))
        self.part_search.setClearButtonEnabled(True)
        self.part_list = QListWidget()
        self.part_list.setObjectName("partList")
        self.part_list.setMinimumHeight(150)
        self.part_list.setAlternatingRowColors(True)
        self.part_list.setStyleSheet("QListWidget#partList::item { padding: 4px 2px; }")
        self.material_quantity = QLineEdit(MATERIAL_QUANTITY)
        self.material_quantity.setObjectName("materialQuantity")
        self.material_price = QLineEdit()
        self.material_price.setObjectName("materialPrice")
        self.material_price.setPlaceholderText(self.tr("list price"))
        self.add_material_button = QPushButton(self.tr("Add material"))
        self.add_material_button.setObjectName("addMaterial")
        self.material_errors = {
            "part": error_label(),
            "quantity": error_label(),
            "unit_price": error_label(),
            "other": error_label(),
        }
        material_form = QFormLayout()
        material_form.addRow(self.tr("Quantity"), self.material_quantity)
        material_form.addRow("", self.material_errors["quantity"])
        material_form.addRow(self.tr("Unit price"), self.material_price)
        material_form.addRow("", self.material_errors["unit_price"])

        side, side_layout = side_card("lineItemsSide", 360)
        side_layout.addWidget(section_title(self.tr("Add labour")))
        side_layout.addLayout(labour_form)
        side_layout.addWidget(self.labour_errors["other"])
        side_layout.addWidget(self.add_labour_button, 0, Qt.AlignmentFlag.AlignRight)
        side_layout.addSpacing(10)
        side_layout.addWidget(section_title(self.tr("Add material")))
        side_layout.addWidget(self.part_search)
        side_layout.addWidget(self.part_list, 1)
        side_layout.addWidget(self.material_errors["part"])
        side_layout.addLayout(material_form)
        side_layout.addWidget(self.material_errors["other"])
        side_layout.addWidget(self.add_material_button, 0, Qt.AlignmentFlag.AlignRight)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(16)
        layout.addLayout(left, 1)
        layout.addWidget(side)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self.search_now)
        self.part_search.textChanged.connect(self._search_timer.start)
        self.part_list.currentRowChanged.connect(self._part_chosen)
        self.add_labour_button.clicked.connect(self.add_labour)
        self.add_material_button.clicked.connect(self.add_material)
        self.labour_rate.returnPressed.connect(self.add_labour)
        self.remove_button.clicked.connect(self.remove_selected)
        self._searched = False
        self.show_items((), None)

    # -- showing ---------------------------------------------------------------------------
    def show_record(self, record: WorkOrderRecord) -> None:
        self.show_items(record.line_items, record)
        if not self._searched:
            self._searched = True
            self.search_now()

    def show_items(self, items: tuple[LineItemRow, ...], record: WorkOrderRecord | None) -> None:
        self.model.set_items(items)
        self.empty.setVisible(not items)
        labour = record.labour_total if record else decimal.Decimal(0)
        material = record.material_total if record else decimal.Decimal(0)
        total = record.total if record else decimal.Decimal(0)
        self.labour_total.setText(self.tr("Labour {0}").format(money(labour)))
        self.material_total.setText(self.tr("Materials {0}").format(money(material)))
        self.total.setText(self.tr("Total {0}").format(money(total)))

    def typed_input(self) -> list[str]:
        """What is typed here and not saved yet, in a few words each."""
        found = []
        if (
            self.labour_description.text().strip()
            or self.labour_hours.text().strip() != LABOUR_HOURS
            or self.labour_rate.text().strip() != LABOUR_RATE
        ):
            found.append(self.tr("labour being entered"))
        if (
            self.material_price.text().strip()
            or self.material_quantity.text().strip() != MATERIAL_QUANTITY
        ):
            found.append(self.tr("a material being entered"))
        if self.table.state() == QAbstractItemView.State.EditingState:
            found.append(self.tr("a line item being edited"))
        edited = {item_id for item_id, _column in self.model.pending}
        for item in self.model.items:
            if item.id in edited:
                found.append(self.tr("a change to “{0}” not saved").format(item.description))
        return found

    # -- the parts list ----------------------------------------------------------------------
    def search_now(self) -> None:
        self.part_searches.ask(self.part_search.text())

    def _show_parts(self, text: str, parts: list[PartChoice]) -> None:
        self._parts = parts
        self.part_list.clear()
        for part in parts:
            item = QListWidgetItem(
                f"{part.name}  ·  {part.sku}  ·  {money(part.unit_price)}/{part.unit}"
            )
            item.setToolTip(f"{part.sku}: {part.name}")
            item.setData(Qt.ItemDataRole.UserRole, part.id)
            self.part_list.addItem(item)
        if not parts:
            item = QListWidgetItem(
                self.tr("No part matches “{0}”.").format(text)
                if text.strip()
                else self.tr("The parts list is empty.")
            )
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.part_list.addItem(item)

    def _part_chosen(self, row: int) -> None:
        if 0 <= row < len(self._parts):
            self.material_price.setPlaceholderText(money(self._parts[row].unit_price))
            show_error(self.material_errors["part"], None)

    def shown_parts(self) -> list[PartChoice]:
        """The parts the list offers now (the last search's answer)."""
        return list(self._parts)

    def chosen_part(self) -> PartChoice | None:
        row = self.part_list.currentRow()
        return self._parts[row] if 0 <= row < len(self._parts) else None

    # -- writing -----------------------------------------------------------------------------
    def add_labour(self) -> None:
        self.host.spawn(self._add_labour())

    async def _add_labour(self) -> None:
        self.add_labour_button.setEnabled(False)
        self._show_errors(self.labour_errors, {})
        try:
            done = await self.host.attempt(
                self.host.workspace.run(
                    add_labour,
                    work_order_id=self.host.work_order_id,
                    description=self.labour_description.text(),
                    quantity=self.labour_hours.text(),
                    unit_price=self.labour_rate.text(),
                ),
                show_errors=lambda errors: self._show_errors(self.labour_errors, errors),
                parts=(RecordPart.CHARGES,),
            )
            if done:
                self.labour_description.clear()
                self.labour_hours.setText(LABOUR_HOURS)
        finally:
            self.add_labour_button.setEnabled(True)

    def add_material(self) -> None:
        self.host.spawn(self._add_material())

    async def _add_material(self, *, confirm_short: bool = False) -> None:
        part = self.chosen_part()
        self._show_errors(self.material_errors, {})
        if part is None:
            show_error(self.material_errors["part"], self.tr("Choose a part from the list."))
            return
        self.add_material_button.setEnabled(False)
        short: list[ShortStock] = []

        async def adding() -> None:
            try:
                await self.host.workspace.run(
                    add_material,
                    work_order_id=self.host.work_order_id,
                    part_id=part.id,
                    quantity=self.material_quantity.text(),
                    unit_price=self.material_price.text() or None,
                    confirm_short=confirm_short,
                )
            except ShortStock as error:
                short.append(error)  # nothing was written: ask, and keep what was typed

        try:
            done = await self.host.attempt(
                adding(),
                show_errors=lambda errors: self._show_errors(self.material_errors, errors),
                parts=(RecordPart.CHARGES,),
            )
            if short:
                self.short_question = confirm(
                    self,
                    str(short[0]),
                    self.tr("Take it anyway"),
                    lambda: self.host.spawn(self._add_material(confirm_short=True)),
                    name="confirmShortStock",
                    details=self.tr(
                        "Take it only if the part is really there: the truck's count is "
                        "then wrong, and it goes below zero until someone counts it."
                    ),
                )
            elif done:
                self.material_quantity.setText(MATERIAL_QUANTITY)
                self.material_price.clear()
        finally:
            self.add_material_button.setEnabled(True)

    def _edited(self, item: LineItemRow, column: str, text: str) -> None:
        self.host.spawn(self._save_edit(item, column, text))

    async def _save_edit(self, item: LineItemRow, column: str, text: str) -> None:
        show_error(self.table_error, None)

        def refused(errors: dict[str, str]) -> None:
            sentence = errors.get(column) or " ".join(errors.values())
            show_error(self.table_error, f"{item.description}: {sentence}")

        edit: dict[str, Any] = {column: text}
        done = await self.host.attempt(
            self.host.workspace.run(
                update_line_item,
                line_item_id=item.id,
                seen_version=item.version,
                **edit,
            ),
            show_errors=refused,
            parts=(RecordPart.CHARGES,),
        )
        if done:
            self.model.settle(item.id, column)

    def remove_selected(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        items = [self.model.items[row] for row in sorted(rows)]
        if not items:
            return
        text = (
            self.tr("Remove “{0}” from this work order?").format(items[0].description)
            if len(items) == 1
            else self.tr("Remove these {0} line items from this work order?").format(len(items))
        )

        def remove() -> None:
            for item in items:
                self.host.spawn(self._remove(item.id))

        self.confirmation = confirm(self, text, self.tr("Remove"), remove)

    async def _remove(self, item_id: int) -> None:
        await self.host.attempt(
            self.host.workspace.run(remove_line_item, line_item_id=item_id),
            show_errors=lambda errors: show_error(self.table_error, " ".join(errors.values())),
            parts=(RecordPart.CHARGES,),
        )

    @staticmethod
    def _show_errors(labels: dict[str, Any], errors: dict[str, str]) -> None:
        shown = set()
        for name, label in labels.items():
            if name in errors:
                show_error(label, errors[name])
                shown.add(name)
            elif name != "other":
                show_error(label, None)
        rest = [sentence for name, sentence in errors.items() if name not in shown]
        show_error(labels["other"], " ".join(rest) or None)
