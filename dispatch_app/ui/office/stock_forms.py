"""The small forms stock is moved in: receive parts, transfer them between locations,
count them, or set a part's reorder point at a location.

A form does not write by itself: ``submitted`` carries the typed values, and whoever
opened it answers with ``refuse(sentence)`` (everything typed stays) or ``finish()``.
"""

from __future__ import annotations

import decimal
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.work_order_record import money
from dispatch_app.services.stock import Location, StockedPart
from dispatch_app.ui.forms import error_label, muted, show_error
from dispatch_app.ui.office.common import amount_text


class Movement(StrEnum):
    RECEIVE = "receive"
    TRANSFER = "transfer"
    COUNT = "count"
    REORDER = "reorder"


class StockForm(QDialog):
    """The fields one kind of movement needs, and nothing else."""

    submitted = Signal(dict)  # the typed values, by field name

    def __init__(
        self,
        movement: Movement,
        parts: list[StockedPart],
        places: list[Location],
        *,
        at: int | None,
        part_id: int | None = None,
        held: dict[int, tuple[decimal.Decimal, decimal.Decimal]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``held``: what the books say is on hand and the reorder point, by part, at
        location ``at`` (shown as a hint, and a reorder point's starting value)."""
        super().__init__(parent)
        self.movement = movement
        self._at = at
        self._held = held or {}
        self._parts = {part.id: part for part in parts}
        titles = {
            Movement.RECEIVE: (self.tr("Receive parts"), self.tr("Receive")),
            Movement.TRANSFER: (self.tr("Transfer parts"), self.tr("Transfer")),
            Movement.COUNT: (self.tr("Count a part"), self.tr("Set the count")),
            Movement.REORDER: (self.tr("Set a reorder point"), self.tr("Set")),
        }
        title, action = titles[movement]
        self.setWindowTitle(title)
        self.setObjectName(f"stockForm-{movement.value}")
        self.setMinimumWidth(460)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.location = self._places("location", places, at)
        transfer = movement is Movement.TRANSFER
        form.addRow(self.tr("&From") if transfer else self.tr("&Location"), self.location)
        self.destination = self._places("destination", places, None)
        if transfer:
            others = [p.id for p in places if p.id != at]
            if others:
                self.destination.setCurrentIndex(self.destination.findData(others[0]))
            form.addRow(self.tr("&To"), self.destination)
        self.part = QComboBox()
        self.part.setObjectName("part")
        self.part.setEditable(True)  # type a code or a word of the name to find it
        self.part.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for part in parts:
            self.part.addItem(f"{part.sku} — {part.name}", part.id)
        completer = QCompleter(self.part.model(), self.part)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.part.setCompleter(completer)
        if part_id is not None and self.part.findData(part_id) >= 0:
            self.part.setCurrentIndex(self.part.findData(part_id))
        form.addRow(self.tr("&Part"), self.part)
        self.quantity = QLineEdit()
        self.quantity.setObjectName("quantity")
        self.quantity.setPlaceholderText("0")
        labels = {
            Movement.RECEIVE: self.tr("&Quantity"),
            Movement.TRANSFER: self.tr("&Quantity"),
            Movement.COUNT: self.tr("&Counted"),
            Movement.REORDER: self.tr("&Reorder at"),
        }
        form.addRow(labels[movement], self.quantity)
        self.cost = QLineEdit()
        self.cost.setObjectName("unitCost")
        self.note = QLineEdit()
        self.note.setObjectName("note")
        if movement is Movement.RECEIVE:
            form.addRow(self.tr("Unit &cost ($)"), self.cost)
            self.note.setPlaceholderText(self.tr("Supplier, packing slip…"))
            form.addRow(self.tr("&Note"), self.note)
        if movement is Movement.COUNT:
            self.note.setPlaceholderText(self.tr("Required: why the number changed"))
            form.addRow(self.tr("&Reason"), self.note)
        self.books = muted()
        self.books.setObjectName("books")
        self.error = error_label("stockError")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("submit")
        self.go.setDefault(True)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.books)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.part.currentIndexChanged.connect(self._part_chosen)
        self.location.currentIndexChanged.connect(self._part_chosen)
        self._part_chosen()
        self.quantity.setFocus()

    def _places(self, name: str, places: list[Location], at: int | None) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        for place in places:
            combo.addItem(place.name, place.id)
        if at is not None and combo.findData(at) >= 0:
            combo.setCurrentIndex(combo.findData(at))
        return combo

    def chosen_part(self) -> int | None:
        """The part named in the box — picked, or typed far enough (a code, a few
        words) to name one part only — or None."""
        typed = self.part.currentText().strip()
        found = self.part.findText(typed)
        if found < 0 and typed:
            words = typed.casefold()
            hits = [
                row
                for row in range(self.part.count())
                if words in self.part.itemText(row).casefold()
            ]
            found = hits[0] if len(hits) == 1 else -1
        return self.part.itemData(found) if found >= 0 else None

    def _part_chosen(self) -> None:
        part = self._parts.get(self.chosen_part() or 0)
        self.cost.setPlaceholderText(
            self.tr("price book: {0}").format(money(part.cost)) if part else ""
        )
        held = self._held.get(part.id) if part and self.location.currentData() == self._at else None
        if held is None:
            self.books.setText("")
            self.books.hide()
            return
        on_hand, reorder_point = held
        said = self.tr("The books say {0} on hand here.").format(amount_text(on_hand))
        if reorder_point:
            said += " " + self.tr("Reorder at {0}.").format(amount_text(reorder_point))
        self.books.setText(said)
        self.books.show()
        if self.movement is Movement.REORDER and not self.quantity.text():
            self.quantity.setText(amount_text(reorder_point))

    def values(self) -> dict[str, Any]:
        return {
            "location_id": self.location.currentData(),
            "destination_id": self.destination.currentData(),
            "part_id": self.chosen_part(),
            "quantity": self.quantity.text(),
            "unit_cost": self.cost.text(),
            "note": self.note.text(),
        }

    def _submit(self) -> None:
        if self.chosen_part() is None:
            show_error(self.error, self.tr("Choose a part from the price book."))
            return
        show_error(self.error, None)
        self.go.setEnabled(False)
        self.submitted.emit(self.values())

    def refuse(self, sentence: str) -> None:
        """The write was refused: say why, keep everything typed, let the user retry."""
        show_error(self.error, sentence)
        self.go.setEnabled(True)

    def finish(self) -> None:
        self.go.setEnabled(True)
        self.accept()

    def sentence(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""
