"""The small forms of the Agreements tab: a maintenance plan (add or change), and a
plan sold to a customer (a new agreement, or another plan for a running one).

As the stock forms do, a form does not write by itself: ``submitted`` carries the typed
values, and whoever opened it answers with ``refuse(sentence)`` (everything typed stays)
or ``finish()``. Finding the customer is the form's own: it asks ``find`` (the call
intake's lookup) as the user types.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.work_order_record import money
from dispatch_app.services.customers import CustomerMatch
from dispatch_app.services.follow_ups.agreements import JobTypeChoice, PlanRow
from dispatch_app.ui.forms import error_label, muted, show_error

# Typing pauses this long before the customer lookup runs.
LOOKUP_PAUSE_MS = 200


class _Form(QDialog):
    submitted = Signal(dict)

    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.error = error_label(f"{type(self).__name__}Error")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.go = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def problem(self) -> str | None:
        """What must be put right before anything is sent, if anything."""
        return None

    def _submit(self) -> None:
        problem = self.problem()
        show_error(self.error, problem)
        if problem is None:
            self.go.setEnabled(False)
            self.submitted.emit(self.values())

    def refuse(self, sentence: str) -> None:
        show_error(self.error, sentence)
        self.go.setEnabled(True)

    def finish(self) -> None:
        self.go.setEnabled(True)
        self.accept()

    def sentence(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""


class PlanForm(_Form):
    """A maintenance plan as sold: name, price, visits a year, term, the job type its
    visits are booked as, what it covers, and whether it is still sold."""

    def __init__(
        self,
        job_types: list[JobTypeChoice],
        plan: PlanRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Maintenance plan") if plan else self.tr("New plan"), parent)
        self.setObjectName("planForm")
        self.plan = plan
        self.name = QLineEdit(plan.name if plan else "")
        self.name.setObjectName("planName")
        self.name.setMaxLength(100)
        self.price = QLineEdit(f"{plan.price:.2f}" if plan else "")
        self.price.setObjectName("planPrice")
        self.price.setPlaceholderText("189.00")
        self.visits = QSpinBox()
        self.visits.setObjectName("planVisits")
        self.visits.setRange(1, 12)
        self.visits.setValue(plan.visits_per_year if plan else 2)
        self.term = QSpinBox()
        self.term.setObjectName("planTerm")
        self.term.setRange(1, 120)
        self.term.setSuffix(self.tr(" months"))
        self.term.setValue(plan.term_months if plan else 12)
        self.job_type = QComboBox()
        self.job_type.setObjectName("planJobType")
        for choice in job_types:
            self.job_type.addItem(choice.name, choice.id)
        if plan is not None:
            self.job_type.setCurrentIndex(max(self.job_type.findData(plan.job_type_id), 0))
        self.covers = QLineEdit(plan.covered_equipment if plan else "")
        self.covers.setObjectName("planCovers")
        self.covers.setPlaceholderText(self.tr("Furnace and central AC"))
        self.covers.setMaxLength(500)
        self.active = QCheckBox(self.tr("Sold to new customers"))
        self.active.setObjectName("planActive")
        self.active.setChecked(plan.active if plan else True)
        self.form.addRow(self.tr("Name"), self.name)
        self.form.addRow(self.tr("Price a year"), self.price)
        self.form.addRow(self.tr("Visits a year"), self.visits)
        self.form.addRow(self.tr("Runs for"), self.term)
        self.form.addRow(self.tr("Visits booked as"), self.job_type)
        self.form.addRow(self.tr("Covers"), self.covers)
        self.form.addRow("", self.active)
        if plan is not None:
            self.form.addRow(
                "", muted(self.tr("Agreements already sold keep their visits and price."))
            )

    def problem(self) -> str | None:
        try:
            decimal.Decimal(self.price.text().strip().replace(",", "").lstrip("$") or "x")
        except decimal.InvalidOperation:
            return self.tr("Type the price as a number, like 189.00.")
        if self.job_type.currentData() is None:
            return self.tr("Add a job type for the visits first.")
        return None

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "price": decimal.Decimal(self.price.text().strip().replace(",", "").lstrip("$")),
            "visits_per_year": self.visits.value(),
            "term_months": self.term.value(),
            "job_type_id": self.job_type.currentData(),
            "covered_equipment": self.covers.text(),
            "active": self.active.isChecked(),
        }


class SellForm(_Form):
    """A plan sold to a customer from a day (a new agreement), or, for a running
    agreement, the plan it moves to from today."""

    def __init__(
        self,
        plans: list[PlanRow],
        *,
        today: dt.date,
        find: Callable[[str], Awaitable[list[CustomerMatch]]] | None,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        customer: str | None = None,
        plan_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``find`` None: the customer is given (``customer`` names them) and the plan
        is what changes."""
        super().__init__(
            self.tr("Sell a maintenance plan") if find else self.tr("Change the plan"), parent
        )
        self.setObjectName("sellForm")
        self._find = find
        self._spawn = spawn
        self._asked = ""
        self.customer_id: int | None = None
        self.search = QLineEdit()
        self.search.setObjectName("sellCustomerSearch")
        self.search.setPlaceholderText(self.tr("Phone, name or street"))
        self.matches = QListWidget()
        self.matches.setObjectName("sellCustomerMatches")
        self.matches.setMaximumHeight(120)
        self.plan = QComboBox()
        self.plan.setObjectName("sellPlan")
        for plan in plans:
            if plan.active and plan.id != plan_id:
                label = self.tr("{0} — {1} a year, {2} visit(s)").format(
                    plan.name, money(plan.price), plan.visits_per_year
                )
                self.plan.addItem(label, plan.id)
        self.starts = QDateEdit(QDate(today.year, today.month, today.day))
        self.starts.setObjectName("sellStarts")
        self.starts.setCalendarPopup(True)
        self.starts.setDisplayFormat("ddd d MMM yyyy")
        if find is not None:
            self.form.addRow(self.tr("Customer"), self.search)
            self.form.addRow("", self.matches)
            self.form.addRow(self.tr("Plan"), self.plan)
            self.form.addRow(self.tr("Starts"), self.starts)
            self._pause = QTimer(self)
            self._pause.setSingleShot(True)
            self._pause.setInterval(LOOKUP_PAUSE_MS)
            self._pause.timeout.connect(self._look_up)
            self.search.textChanged.connect(lambda _t: self._pause.start())
            self.matches.currentItemChanged.connect(self._chosen)
        else:
            self.form.addRow(self.tr("Customer"), muted(customer or ""))
            self.form.addRow(self.tr("New plan"), self.plan)
            self.form.addRow(
                "",
                muted(
                    self.tr("Visits already booked stay; the new plan's dates apply from today.")
                ),
            )
        self.resize(480, self.sizeHint().height())

    def _look_up(self) -> None:
        typed = self.search.text().strip()
        if self._find is None or typed == self._asked:
            return
        self._asked = typed
        self._spawn(self._show_matches(typed))

    async def _show_matches(self, typed: str) -> None:
        assert self._find is not None
        found = await self._find(typed) if typed else []
        if typed != self._asked:
            return  # typed on meanwhile: a later lookup answers
        self.matches.clear()
        for match in found:
            phones = ", ".join(display_phone(p) for p in match.phones[:2])
            item = QListWidgetItem(f"{match.name} · {phones} · {match.address}")
            item.setData(Qt.ItemDataRole.UserRole, match.id)
            self.matches.addItem(item)
        if len(found) == 1:
            self.matches.setCurrentRow(0)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        self.customer_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def problem(self) -> str | None:
        if self._find is not None and self.customer_id is None:
            return self.tr("Find the customer and choose them in the list.")
        if self.plan.currentData() is None:
            return self.tr("There is no other plan for sale: add one first.")
        return None

    def values(self) -> dict[str, Any]:
        day = self.starts.date()
        return {
            "customer_id": self.customer_id,
            "plan_id": self.plan.currentData(),
            "starts_on": dt.date(day.year(), day.month(), day.day()),
        }
