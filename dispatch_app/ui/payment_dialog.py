"""The small forms money is entered in: a payment or refund, a deposit, a credit note,
a void. Each keeps what was typed when the database refuses it, and shows the refusal
as its sentence under the fields; it closes only once the write went through.

A form does not write by itself: ``submitted`` carries the typed values, and whoever
opened it answers with ``refuse(sentence)`` or ``finish()``.
"""

from __future__ import annotations

import decimal
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.billing import METHOD_LABELS
from dispatch_app.domain.money import format_amount
from dispatch_app.domain.vocabulary import PaymentMethod
from dispatch_app.ui.forms import error_label, muted, show_error


class MoneyDialog(QDialog):
    """A form with the fields a money action needs, and nothing else."""

    submitted = Signal(dict)  # the typed values, by field name

    def __init__(
        self,
        title: str,
        action: str,
        *,
        intro: str = "",
        amount: decimal.Decimal | None = None,
        ask_amount: bool = True,
        ask_method: bool = False,
        reason_label: str = "",
        reason_required: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("moneyDialog")
        self.setMinimumWidth(380)
        form = QFormLayout()
        self.amount: QLineEdit | None = None
        self.method: QComboBox | None = None
        self.check_number = QLineEdit()
        self.check_number.setObjectName("checkNumber")
        self.card_last4 = QLineEdit()
        self.card_last4.setObjectName("cardLast4")
        self.card_last4.setMaxLength(4)
        self.card_last4.setPlaceholderText("4242")
        self.reference = QLineEdit()
        self.reference.setObjectName("reference")
        self.reason: QLineEdit | None = None
        if ask_method:
            self.method = QComboBox()
            self.method.setObjectName("method")
            for method in PaymentMethod:
                self.method.addItem(METHOD_LABELS[method], method.value)
            form.addRow(self.tr("Paid by"), self.method)
        if ask_amount:
            self.amount = QLineEdit(format_amount(amount) if amount is not None else "")
            self.amount.setObjectName("amount")
            self.amount.setPlaceholderText("0.00")
            form.addRow(self.tr("Amount ($)"), self.amount)
        if ask_method:
            form.addRow(self.tr("Check number"), self.check_number)
            form.addRow(self.tr("Card, last four digits"), self.card_last4)
            form.addRow(self.tr("Reference"), self.reference)
        if reason_label:
            self.reason = QLineEdit()
            self.reason.setObjectName("reason")
            if reason_required:
                self.reason.setPlaceholderText(self.tr("Required"))
            form.addRow(reason_label, self.reason)
        self._form = form
        self.error = error_label("moneyError")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("submit")
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if intro:
            layout.addWidget(muted(intro))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        if self.method is not None:
            self.method.currentIndexChanged.connect(self._show_method_fields)
            self._show_method_fields()

    def _show_method_fields(self) -> None:
        chosen = self.method.currentData() if self.method is not None else None
        for field, method in (
            (self.check_number, PaymentMethod.CHECK),
            (self.card_last4, PaymentMethod.CARD),
        ):
            self._form.setRowVisible(field, chosen == method.value)

    def values(self) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        if self.amount is not None:
            typed["amount"] = self.amount.text()
        if self.method is not None:
            typed["method"] = self.method.currentData()
            typed["check_number"] = self.check_number.text()
            typed["card_last4"] = self.card_last4.text()
            typed["reference"] = self.reference.text()
        if self.reason is not None:
            typed["reason"] = self.reason.text()
        return typed

    def choose_method(self, method: PaymentMethod) -> None:
        if self.method is not None:
            self.method.setCurrentIndex(self.method.findData(method.value))

    def _submit(self) -> None:
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
        return self.error.text() if self.error.isVisible() else ""
