"""Contact preferences: what a customer agreed to be sent, and whether they asked to hear
nothing more (a call, a letter — a STOP reply is recorded by the worker itself). A
CSR's; the database stamps who recorded it and when, and an opt-out cancels whatever
still waits to be sent to them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.messages import Consent
from dispatch_app.services.customer_history import CustomerHistory
from dispatch_app.ui.forms import error_label, muted, section_title, show_error

CHOICES = (
    (Consent.NONE, "No texts"),
    (Consent.INFORMATIONAL, "Texts about their visits"),
    (Consent.PROMOTIONAL, "Texts about their visits, review requests and offers"),
)


class ContactPreferencesDialog(QDialog):
    submitted = Signal(object, object)  # Consent, the opt-out note or None

    def __init__(self, customer: CustomerHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contactPreferences")
        self.setWindowTitle(self.tr("Contact preferences — {0}").format(customer.name))
        self.customer = customer
        self.choice = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(section_title(self.tr("What {0} agreed to").format(customer.name)))
        for index, (consent, label) in enumerate(CHOICES):
            button = QRadioButton(self.tr(label))
            button.setObjectName(f"consent_{consent.value}")
            button.setChecked(consent.value == customer.message_consent)
            self.choice.addButton(button, index)
            layout.addWidget(button)
        self.opted_out = QCheckBox(self.tr("Asked not to be contacted at all"))
        self.opted_out.setObjectName("optedOut")
        self.opted_out.setChecked(customer.opt_out_note is not None)
        self.note = QLineEdit(customer.opt_out_note or "")
        self.note.setObjectName("optOutNote")
        self.note.setMaxLength(500)
        self.note.setPlaceholderText(self.tr("How they said so: “Asked on the phone, Dec 5”"))
        self.note.setEnabled(self.opted_out.isChecked())
        layout.addSpacing(8)
        layout.addWidget(self.opted_out)
        layout.addWidget(self.note)
        layout.addWidget(
            muted(self.tr("Nothing is sent to them while this is ticked, on any channel."))
        )
        self.error = error_label("contactPreferencesError")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        layout.addWidget(self.buttons)
        self.opted_out.toggled.connect(self._opted_out_toggled)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.setMinimumWidth(460)

    def _opted_out_toggled(self, opted_out: bool) -> None:
        self.note.setEnabled(opted_out)
        if opted_out:
            self.note.setFocus()

    def values(self) -> tuple[Consent, str | None]:
        consent = CHOICES[max(self.choice.checkedId(), 0)][0]
        return consent, self.note.text() if self.opted_out.isChecked() else None

    def _submit(self) -> None:
        consent, note = self.values()
        if note is not None and not note.strip():
            show_error(self.error, self.tr("Say how the customer asked not to be contacted."))
            return
        show_error(self.error, None)
        self.buttons.setEnabled(False)
        self.submitted.emit(consent, note)

    def refuse(self, sentence: str) -> None:
        """Written: no. The choices stay as ticked for another try."""
        show_error(self.error, sentence)
        self.buttons.setEnabled(True)
