"""The call intake's caller: who is calling, found as the CSR types, or typed as new.

The lookup finds customers by phone, name or street a keystroke at a time (one search
at a time, for what was typed last); Enter takes the highlighted match and shows their
card: plan, sites, equipment, open and past jobs. A site of theirs is chosen, or another
address added; a caller the company does not know is typed inline (Ctrl+N), the ZIP
filling in city and state. The panel says what happened through its signals; the
intake decides what follows (the job's source, the windows, the duplicate warning).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.messages import Consent
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.roles import Action
from dispatch_app.errors import DatabaseUnreachable, UserFacingError
from dispatch_app.services.customer_history import CustomerHistory, customer_history
from dispatch_app.services.customers import CustomerMatch, find_customers
from dispatch_app.services.map_positions import ZIP_CENTROIDS
from dispatch_app.services.outbox import queue
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.forms import error_label, section_title
from dispatch_app.ui.intake.contact_preferences import ContactPreferencesDialog
from dispatch_app.ui.intake.history import HistoryCard
from dispatch_app.ui.latest import LatestRequest

log = logging.getLogger(__name__)

MATCH_ROLE = Qt.ItemDataRole.UserRole
NEW_CALLER = "new-caller"  # the match list's last row
NEW_SITE = "new-site"  # the site list's last entry
CALLER_FIELDS = ("name", "phone", "street", "city", "state", "zip")


class CallerPanel(QWidget):
    customerChosen = Signal(int)  # a match taken: their card is being read
    customerShown = Signal()  # their card is on screen (``customer`` is set)
    customerForgotten = Signal()  # typing again: another caller
    newCallerOpened = Signal()  # the new caller's form is open
    placeChanged = Signal()  # another site, or a ZIP typed: where the job is changed
    problem = Signal(str)  # a sentence for the intake's banner

    def __init__(
        self,
        workspace: Workspace,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        *,
        clock: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._spawn = spawn
        self._clock = clock
        self.customer: CustomerHistory | None = None
        self.errors: dict[str, QLabel] = {}
        # Each lookup: one request at a time, for what was asked last.
        self.searches: LatestRequest[str, list[CustomerMatch]] = LatestRequest(
            lambda typed: self.workspace.read(find_customers, typed),
            show=self._show_matches,
            fail=self._search_failed,
            spawn=spawn,
        )
        self.histories: LatestRequest[int, CustomerHistory] = LatestRequest(
            lambda customer_id: self.workspace.read(customer_history, customer_id, clock=clock),
            show=lambda _customer_id, history: self._show_history(history),
            fail=self._history_failed,
            spawn=spawn,
        )
        self._build()
        self.lookup.textEdited.connect(self._lookup_typed)
        self.lookup.installEventFilter(self)
        self.matches.itemClicked.connect(lambda _item: self.take_highlighted_match())
        self.site.currentIndexChanged.connect(self._site_changed)
        self.caller_inputs["zip"].editingFinished.connect(
            lambda: self._zip_entered(self.caller_inputs)
        )
        self.site_inputs["zip"].editingFinished.connect(lambda: self._zip_entered(self.site_inputs))
        for line in self.caller_inputs.values():
            line.installEventFilter(self)

    def _build(self) -> None:
        # The caller: lookup, matches, their card, or the new caller's details.
        self.lookup = QLineEdit()
        self.lookup.setObjectName("lookup")
        self.lookup.setPlaceholderText(self.tr("Phone number, name or street"))
        self.lookup.setClearButtonEnabled(True)
        font = self.lookup.font()
        font.setPointSizeF(font.pointSizeF() + 3)
        self.lookup.setFont(font)
        self.lookup.setMaxLength(200)
        self.matches = QListWidget()
        self.matches.setObjectName("matches")
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matches.setMaximumHeight(190)
        self.history = HistoryCard()
        self.site = QComboBox()
        self.site.setObjectName("site")
        self.site_row = QWidget()
        site_layout = QHBoxLayout(self.site_row)
        site_layout.setContentsMargins(0, 0, 0, 0)
        site_layout.addWidget(QLabel(self.tr("Site")))
        site_layout.addWidget(self.site, 1)
        # Another address of a customer on file (a rental, a parent's house).
        self.site_box = QFrame()
        self.site_box.setObjectName("newSite")
        self.site_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.site_inputs: dict[str, QLineEdit] = {}
        site_grid = QGridLayout(self.site_box)
        site_places = {
            "label": (self.tr("What to call it (Rental, Mother's house)"), 0, 0, 3),
            "street": (self.tr("Street"), 2, 0, 3),
            "zip": (self.tr("ZIP"), 4, 0, 1),
            "city": (self.tr("City"), 4, 1, 1),
            "state": (self.tr("State"), 4, 2, 1),
        }
        for name, (label, row, column, span) in site_places.items():
            line = QLineEdit()
            line.setObjectName(f"site_{name}")
            line.setMaxLength(2 if name == "state" else 10 if name == "zip" else 200)
            line.setPlaceholderText(label)
            line.installEventFilter(self)
            self.site_inputs[name] = line
            site_grid.addWidget(line, row, column, 1, span)
            self.errors[f"site_{name}"] = error_label(f"site_{name}")
            site_grid.addWidget(self.errors[f"site_{name}"], row + 1, column, 1, span)
        site_grid.setColumnStretch(1, 2)

        self.caller_box = QFrame()
        self.caller_box.setObjectName("newCaller")
        self.caller_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.caller_inputs: dict[str, QLineEdit] = {}
        grid = QGridLayout(self.caller_box)
        grid.addWidget(section_title(self.tr("New caller")), 0, 0, 1, 4)
        placements = {
            "name": (self.tr("Name"), 1, 0, 3),
            "phone": (self.tr("Phone"), 3, 0, 3),
            "street": (self.tr("Street"), 5, 0, 3),
            "zip": (self.tr("ZIP"), 7, 0, 1),
            "city": (self.tr("City"), 7, 1, 1),
            "state": (self.tr("State"), 7, 2, 1),
        }
        for name in CALLER_FIELDS:
            label, row, column, span = placements[name]
            line = QLineEdit()
            line.setObjectName(f"caller_{name}")
            line.setMaxLength(2 if name == "state" else 10 if name == "zip" else 200)
            line.setPlaceholderText(label)
            self.caller_inputs[name] = line
            grid.addWidget(line, row, column, 1, span)
            self.errors[name] = error_label(name)
            grid.addWidget(self.errors[name], row + 1, column, 1, span)
        grid.setColumnStretch(1, 2)

        # Asked on every call: a text needs the customer's consent, recorded at booking.
        # Alt+T and Alt+F tick them; Tab goes on from the address to the job, as before.
        self.consent_row = QWidget()
        self.consent_row.setObjectName("consentRow")
        # Two lines, so the caller's side never grows wider than the card under it.
        consent_layout = QGridLayout(self.consent_row)
        consent_layout.setContentsMargins(0, 2, 0, 2)
        consent_layout.setVerticalSpacing(2)
        consent_layout.addWidget(QLabel(self.tr("Texts about this visit:")), 0, 0)
        self.consent_texts = QCheckBox(self.tr("OK to text (Alt+T)"))
        self.consent_texts.setObjectName("consentTexts")
        self.consent_offers = QCheckBox(self.tr("also review requests and offers (Alt+F)"))
        self.consent_offers.setObjectName("consentOffers")
        consent_layout.addWidget(self.consent_texts, 0, 1)
        consent_layout.addWidget(self.consent_offers, 1, 1, 1, 2)
        consent_layout.setColumnStretch(2, 1)
        # An opt-out, or consent given outside a booking: saved at once, not with the call.
        self.preferences_button = QPushButton(self.tr("Contact preferences…"))
        self.preferences_button.setObjectName("contactPreferences")
        self.preferences_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.preferences_button.clicked.connect(self.edit_contact_preferences)
        consent_layout.addWidget(self.preferences_button, 0, 2, Qt.AlignmentFlag.AlignRight)
        self.preferences: ContactPreferencesDialog | None = None
        self.consent_texts.toggled.connect(self._consent_toggled)
        for keys, box in (("Alt+T", self.consent_texts), ("Alt+F", self.consent_offers)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(lambda b=box: self._tick(b))
        self.show_consent(None)

        caller_layout = QVBoxLayout(self)
        caller_layout.setContentsMargins(0, 0, 8, 0)
        caller_layout.addWidget(section_title(self.tr("Caller")))
        caller_layout.addWidget(self.lookup)
        caller_layout.addWidget(self.matches)
        self.errors["customer"] = error_label("customer")
        caller_layout.addWidget(self.errors["customer"])
        caller_layout.addWidget(self.caller_box)
        caller_layout.addWidget(self.site_row)
        caller_layout.addWidget(self.site_box)
        self.errors["site"] = error_label("site")
        caller_layout.addWidget(self.errors["site"])
        caller_layout.addWidget(self.consent_row)
        caller_layout.addWidget(self.history, 100)
        # Takes the room when there is no card yet, so the fields stay at the top.
        caller_layout.addStretch(1)

    def _lookup_typed(self, text: str) -> None:
        if self.customer is not None:  # typing again means another caller
            self.forget_customer()
        self.searches.ask(text)

    def _search_failed(self, typed: str, error: UserFacingError) -> None:
        log.warning("customer search failed: %s", error)
        self.problem.emit(
            self.tr("Customer search is not answering; type a new caller if needed.")
            if isinstance(error, DatabaseUnreachable)
            else str(error)
        )
        self._show_matches(typed, [])

    def _show_matches(self, typed: str, found: list[CustomerMatch]) -> None:
        self.matches.clear()
        if not typed.strip():
            self.matches.hide()
            return
        for match in found:
            phones = ", ".join(display_phone(number) for number in match.phones[:2])
            open_note = (
                self.tr("   ⚠ {0} open").format(match.open_work_orders)
                if match.open_work_orders
                else ""
            )
            item = QListWidgetItem(f"{match.name}   {phones}\n    {match.address}{open_note}")
            item.setData(MATCH_ROLE, match)
            self.matches.addItem(item)
        new = QListWidgetItem(self.tr("+ New caller  (Ctrl+N)"))
        new.setData(MATCH_ROLE, NEW_CALLER)
        self.matches.addItem(new)
        self.matches.setCurrentRow(0)
        self.matches.show()

    def take_highlighted_match(self) -> None:
        item = self.matches.currentItem()
        if item is None:
            if self.lookup.text().strip():
                self.new_caller()
            return
        match = item.data(MATCH_ROLE)
        if match == NEW_CALLER:
            self.new_caller()
            return
        self.choose_customer(match.id)

    def choose_customer(self, customer_id: int) -> None:
        self.caller_box.hide()
        self.matches.hide()
        self.errors["customer"].hide()
        self.histories.ask(customer_id)
        self.customerChosen.emit(customer_id)

    def _history_failed(self, customer_id: int, error: UserFacingError) -> None:
        log.warning("reading customer %s failed: %s", customer_id, error)
        self.problem.emit(
            self.tr("Could not read the customer: the database did not answer.")
            if isinstance(error, DatabaseUnreachable)
            else str(error)
        )

    def _show_history(self, history: CustomerHistory) -> None:
        self.customer = history
        self.lookup.setText(history.name)
        self.history.show_history(history)
        self.history.show()
        self.site.blockSignals(True)
        self.site.clear()
        for site in history.sites:
            self.site.addItem(f"{site.label} — {site.address}", site.id)
        self.site.addItem(self.tr("+ Another address…"), NEW_SITE)
        self.site.blockSignals(False)
        self.site_row.show()
        self.show_consent(Consent(history.message_consent))
        self._site_changed()
        self.customerShown.emit()

    def show_consent(self, consent: Consent | None) -> None:
        """The caller's answer as on file (``None``: nobody to ask, the row goes)."""
        self.consent_texts.setChecked(consent in (Consent.INFORMATIONAL, Consent.PROMOTIONAL))
        self.consent_offers.setChecked(consent == Consent.PROMOTIONAL)
        self._consent_toggled(self.consent_texts.isChecked())
        self.consent_row.setVisible(consent is not None)
        self.preferences_button.setVisible(
            self.customer is not None and self.workspace.may(Action.BOOK_CALLS)
        )

    def _tick(self, box: QCheckBox) -> None:
        if box.isVisible() and box.isEnabled():
            box.toggle()

    def _consent_toggled(self, texts: bool) -> None:
        # Offers are texts too: no offers without the texts.
        self.consent_offers.setEnabled(texts)
        if not texts:
            self.consent_offers.setChecked(False)

    def consent(self) -> Consent | None:
        """What the caller agreed to, as ticked; None when the question is not shown."""
        if self.consent_row.isHidden():
            return None
        if self.consent_offers.isChecked():
            return Consent.PROMOTIONAL
        return Consent.INFORMATIONAL if self.consent_texts.isChecked() else Consent.NONE

    def edit_contact_preferences(self) -> ContactPreferencesDialog | None:
        customer = self.customer
        if customer is None:
            return None
        dialog = ContactPreferencesDialog(customer, self)
        dialog.submitted.connect(
            lambda consent, note: self._spawn(
                self._save_preferences(dialog, customer, consent, note)
            )
        )
        self.preferences = dialog
        dialog.open()
        return dialog

    async def _save_preferences(
        self,
        dialog: ContactPreferencesDialog,
        customer: CustomerHistory,
        consent: Consent,
        note: str | None,
    ) -> None:
        try:
            await self.workspace.run(
                queue.set_customer_consent,
                customer.id,
                consent=consent,
                opt_out_note=note,
                seen_version=customer.version,
            )
        except UserFacingError as error:
            dialog.refuse(str(error))
            return
        dialog.accept()
        if self.customer is not None and self.customer.id == customer.id:
            # Only the card and the question follow: the site being chosen stays.
            try:
                history = await self.workspace.read(
                    customer_history, customer.id, clock=self._clock
                )
            except UserFacingError as error:
                self._history_failed(customer.id, error)
                return
            if self.customer is not None and self.customer.id == customer.id:
                self.customer = history
                self.history.show_history(history)
                self.show_consent(Consent(history.message_consent))

    def forget_customer(self) -> None:
        """Another caller: their card, sites and anything asked about them go."""
        self.histories.forget()
        self.customer = None
        self.history.hide()
        self.site.clear()
        self.site_row.hide()
        self.site_box.hide()
        self.show_consent(None)
        self.customerForgotten.emit()

    def new_caller(self) -> None:
        """The inline form for a caller the company does not know yet."""
        typed = self.lookup.text().strip()
        if self.customer is not None:
            self.forget_customer()
        self.matches.hide()
        self.caller_box.show()
        self.show_consent(Consent.NONE)  # asked afresh: nothing is ticked for them
        phone = self.caller_inputs["phone"]
        name = self.caller_inputs["name"]
        if typed and not phone.text() and not name.text():
            digits = sum(char.isdigit() for char in typed)
            (phone if digits >= 3 and digits * 2 >= len(typed) else name).setText(typed)
        self.newCallerOpened.emit()
        self._spawn(self._load_zip_index())
        (phone if name.text() and not phone.text() else name).setFocus()

    async def _load_zip_index(self) -> None:
        await asyncio.to_thread(ZIP_CENTROIDS.load)

    def _zip_entered(self, inputs: dict[str, QLineEdit]) -> None:
        town = ZIP_CENTROIDS.town(inputs["zip"].text())
        if town is not None:
            city, state = town
            if not inputs["city"].text().strip():
                inputs["city"].setText(city)
            if not inputs["state"].text().strip():
                inputs["state"].setText(state)
        self.placeChanged.emit()

    def _site_changed(self) -> None:
        adding = self.customer is not None and self.site.currentData() == NEW_SITE
        self.site_box.setVisible(adding)
        if adding:
            self._spawn(self._load_zip_index())
            self.site_inputs["street"].setFocus()
        self.placeChanged.emit()

    def chosen_site_id(self) -> int | None:
        site_id = self.site.currentData()
        return site_id if isinstance(site_id, int) else None

    def reset(self) -> None:
        self.searches.forget()
        self.histories.forget()
        self.customer = None
        self.lookup.clear()
        self.matches.clear()
        self.matches.hide()
        self.history.show_history(None)
        self.history.hide()
        self.site.clear()
        self.site_row.hide()
        self.site_box.hide()
        for line in self.site_inputs.values():
            line.clear()
        self.caller_box.hide()
        for line in self.caller_inputs.values():
            line.clear()
        self.show_consent(None)

    def has_typing(self) -> bool:
        return bool(
            self.lookup.text().strip()
            or any(line.text().strip() for line in self.caller_inputs.values())
            or any(line.text().strip() for line in self.site_inputs.values())
        )

    def caller_name(self) -> str:
        """Who is calling, as far as is known (for "a call from …")."""
        if self.customer is not None:
            return self.customer.name
        return self.lookup.text().strip() or self.caller_inputs["name"].text().strip()

    def adding_site(self) -> bool:
        return self.customer is not None and self.site.currentData() == NEW_SITE

    def place(self) -> tuple[int | None, tuple[float, float] | None]:
        """Where the job is: a site on file, or a ZIP's centre for an address being typed."""
        if self.adding_site():
            return None, ZIP_CENTROIDS.get(self.site_inputs["zip"].text())
        if self.customer is not None:
            return self.chosen_site_id(), None
        if self.caller_box.isVisible():
            return None, ZIP_CENTROIDS.get(self.caller_inputs["zip"].text())
        return None, None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if watched is self.lookup and enter:
                self.take_highlighted_match()
                return True
            if enter and (
                watched in self.caller_inputs.values() or watched in self.site_inputs.values()
            ):
                self.focusNextChild()
                return True
            if watched is self.lookup and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = self.matches.currentRow() + step
                if 0 <= row < self.matches.count():
                    self.matches.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
