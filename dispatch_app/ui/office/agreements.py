"""The Agreements tab: the maintenance plans the company sells, and every agreement
with its next visit — booked as a work order (the worker books them ahead) or still to
come. Managers add and change plans, sell a plan to a customer, move an agreement to
another plan, and can book the due visits at once instead of waiting for the worker.
Double-clicking an agreement whose next visit is booked opens that work order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from dispatch_app.domain.roles import Action
from dispatch_app.domain.work_order_record import money
from dispatch_app.errors import UserFacingError
from dispatch_app.services.customers import find_customers
from dispatch_app.services.follow_ups import agreements
from dispatch_app.services.follow_ups.agreements import AgreementRow, AgreementsBook, PlanRow
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import DONE_STYLE, muted, show_error
from dispatch_app.ui.office.agreement_forms import PlanForm, SellForm
from dispatch_app.ui.office.common import OfficeTab, headline, records_view, selected_record
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.tasks import WindowTasks


def _day(day: dt.date | None) -> str:
    return f"{day:%a %d %b %Y}" if day else ""


class AgreementsTab(OfficeTab):
    openWorkOrder = Signal(int)  # work order id
    tables = frozenset({"agreements", "maintenance_plans", "work_orders", "customers", "job_types"})

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__(workspace, tasks)
        self.book: AgreementsBook | None = None
        self.dialog: PlanForm | SellForm | None = None
        self.summary = headline("agreementsSummary")
        yes, no = self.tr("Yes"), self.tr("No")
        self.plans = RecordsModel(
            [
                Column(self.tr("Plan"), lambda p: p.name),
                Column(self.tr("Price a year"), lambda p: money(p.price), numeric=True),
                Column(self.tr("Visits a year"), lambda p: str(p.visits_per_year), numeric=True),
                Column(self.tr("Runs for"), lambda p: self.tr("{0} months").format(p.term_months)),
                Column(self.tr("Visits booked as"), lambda p: p.job_type),
                Column(self.tr("Covers"), lambda p: p.covered_equipment),
                Column(self.tr("Customers"), lambda p: str(p.customers), numeric=True),
                Column(self.tr("Sold"), lambda p: yes if p.active else no),
            ],
            key=lambda p: p.id,
            muted=lambda p: not p.active,
            muted_colour=theme.MUTED_TEXT,
            parent=self,
        )
        self.plan_table = records_view("plans", self.plans, stretch=5)
        self.plan_table.setMaximumHeight(170)
        self.agreements = RecordsModel(
            [
                Column(self.tr("Customer"), lambda a: a.customer),
                Column(self.tr("Plan"), lambda a: a.name),
                Column(self.tr("Started"), lambda a: _day(a.starts_on)),
                Column(
                    self.tr("Ends"),
                    lambda a: _day(a.ends_on),
                    colour=lambda a: theme.NOW_LINE if not a.running else None,
                ),
                Column(
                    self.tr("Next visit due"),
                    lambda a: _day(a.next_due),
                    colour=lambda a: (
                        theme.NOW_LINE
                        if self.book and a.next_due and a.next_due < self.book.today
                        else None
                    ),
                    bold=lambda a: bool(self.book and a.next_due and a.next_due < self.book.today),
                ),
                Column(self.tr("Booked as"), lambda a: a.next_booked or ""),
                Column(self.tr("Price"), lambda a: money(a.price), numeric=True),
            ],
            key=lambda a: a.id,
            search=lambda a: f"{a.customer} {a.name}".casefold(),
            muted=lambda a: not a.running,
            muted_colour=theme.MUTED_TEXT,
            parent=self,
        )
        self.agreement_table = records_view("agreements", self.agreements, stretch=0)
        self.agreement_table.activated.connect(self._open)
        self.done = QLabel()
        self.done.setObjectName("agreementsDone")
        self.done.setWordWrap(True)
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.note = muted()
        self.note.setObjectName("agreementsNote")

        def button(text: str, name: str) -> QPushButton:
            made = QPushButton(text)
            made.setObjectName(name)
            return made

        self.add_plan = button(self.tr("&New plan…"), "addPlan")
        self.edit_plan = button(self.tr("&Change plan…"), "editPlan")
        self.sell = button(self.tr("&Sell a plan…"), "sellPlan")
        self.move_plan = button(self.tr("&Move to another plan…"), "movePlan")
        self.book_now = button(self.tr("&Book due visits now"), "bookDueVisits")
        # The plans and who is on them are a manager's (the database says so too).
        allowed = workspace.may(Action.PRICE_BOOK)
        for control in (self.add_plan, self.edit_plan, self.sell, self.move_plan, self.book_now):
            control.setVisible(allowed)
        plan_buttons = QHBoxLayout()
        plan_buttons.addWidget(QLabel(self.tr("<b>Plans</b>")), 1)
        plan_buttons.addWidget(self.add_plan)
        plan_buttons.addWidget(self.edit_plan)
        agreement_buttons = QHBoxLayout()
        agreement_buttons.addWidget(self.note, 1)
        agreement_buttons.addWidget(self.sell)
        agreement_buttons.addWidget(self.move_plan)
        agreement_buttons.addWidget(self.book_now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.summary)
        layout.addLayout(plan_buttons)
        layout.addWidget(self.plan_table)
        layout.addWidget(QLabel(self.tr("<b>Agreements</b>")))
        layout.addWidget(self.agreement_table, 1)
        layout.addWidget(self.done)
        layout.addWidget(self.problem)
        layout.addLayout(agreement_buttons)
        self.add_plan.clicked.connect(lambda: self.open_plan(None))
        self.edit_plan.clicked.connect(lambda: self.open_plan(selected_record(self.plan_table)))
        self.plan_table.activated.connect(
            lambda index: self.open_plan(self.plans.record(index.row())) if allowed else None
        )
        self.sell.clicked.connect(lambda: self.tasks.spawn(self.open_sale(None)))
        self.move_plan.clicked.connect(
            lambda: self.tasks.spawn(self.open_sale(selected_record(self.agreement_table)))
        )
        self.book_now.clicked.connect(lambda: self.tasks.spawn(self.book_due()))

    # -- the list -----------------------------------------------------------------------
    async def fetch(self, _wanted: object) -> AgreementsBook:
        return await self.workspace.read(agreements.agreements_book, clock=self.workspace.clock)

    def show_answer(self, _wanted: object, book: AgreementsBook) -> None:
        self.book = book
        if book.running:
            running = (
                self.tr("1 agreement running, worth {0} a year")
                if book.running == 1
                else self.tr("{1} agreements running, worth {0} a year")
            )
            due = (
                self.tr("1 visit due in {0} days")
                if book.due_soon == 1
                else self.tr("{1} visits due in {0} days")
            )
            self.summary.setText(
                running.format(money(book.yearly_value), book.running)
                + " · "
                + due.format(book.ahead_days, book.due_soon)
            )
        else:
            self.summary.setText(self.tr("No maintenance agreement is running."))
        self.note.setText(
            self.tr("The worker books each visit {0} days before it is due.").format(
                book.ahead_days
            )
        )
        self.plans.set_records(book.plans)
        self.agreements.set_records(book.agreements)

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            row: AgreementRow = self.agreements.record(index.row())
            if row.next_work_order_id is not None:
                self.openWorkOrder.emit(row.next_work_order_id)

    def _say(self, done: str | None) -> None:
        self.done.setText(done or "")
        self.done.setVisible(bool(done))

    # -- plans --------------------------------------------------------------------------
    def open_plan(self, plan: PlanRow | None) -> None:
        self.tasks.spawn(self._open_plan(plan))

    async def _open_plan(self, plan: PlanRow | None) -> None:
        try:
            job_types = await self.workspace.read(agreements.job_type_choices)
        except UserFacingError as failure:
            self.refuse(str(failure))
            return
        form = PlanForm(job_types, plan, parent=self)
        form.submitted.connect(lambda values: self.tasks.spawn(self._save_plan(form, values)))
        form.finished.connect(lambda _result: self._forget(form))
        self.dialog = form
        form.open()

    async def _save_plan(self, form: PlanForm, values: dict[str, Any]) -> None:
        plan = form.plan
        try:
            await self.workspace.run(
                agreements.save_plan,
                plan.id if plan else None,
                plan.version if plan else None,
                **values,
            )
        except UserFacingError as refused:
            form.refuse(str(refused))
            return
        form.finish()
        self._say(self.tr("{0} saved.").format(" ".join(values["name"].split())))
        self.reload()

    # -- agreements ---------------------------------------------------------------------
    async def open_sale(self, moving: AgreementRow | None) -> None:
        if self.book is None:
            return
        if moving is not None and not moving.running:
            self.refuse(self.tr("That agreement has ended: sell a new one instead."))
            return

        async def find(typed: str) -> list[Any]:
            return list(await self.workspace.read(find_customers, typed, limit=8))

        form = SellForm(
            self.book.plans,
            today=self.book.today,
            find=find if moving is None else None,
            spawn=self.tasks.spawn,
            customer=moving.customer if moving else None,
            plan_id=moving.plan_id if moving else None,
            parent=self,
        )
        form.submitted.connect(lambda values: self.tasks.spawn(self._sell(form, values, moving)))
        form.finished.connect(lambda _result: self._forget(form))
        self.dialog = form
        form.open()

    async def _sell(
        self, form: SellForm, values: dict[str, Any], moving: AgreementRow | None
    ) -> None:
        clock = self.workspace.clock
        try:
            if moving is None:
                await self.workspace.run(
                    agreements.sell_agreement,
                    customer_id=values["customer_id"],
                    plan_id=values["plan_id"],
                    starts_on=values["starts_on"],
                    clock=clock,
                )
            else:
                await self.workspace.run(
                    agreements.change_plan,
                    moving.id,
                    moving.version,
                    plan_id=values["plan_id"],
                    clock=clock,
                )
        except UserFacingError as refused:
            form.refuse(str(refused))
            return
        form.finish()
        self._say(self.tr("Sold.") if moving is None else self.tr("Plan changed from today."))
        self.reload()

    async def book_due(self) -> None:
        try:
            made = await self.workspace.run(agreements.book_due_visits, clock=self.workspace.clock)
        except UserFacingError as refused:
            self.refuse(str(refused))
            return
        self._say(
            self.tr("{0} visit(s) booked into the unassigned queue.").format(made)
            if made
            else self.tr("Every visit due is already booked.")
        )
        self.reload()

    def refuse(self, sentence: str) -> None:
        show_error(self.problem, sentence)

    def _forget(self, form: Any) -> None:
        if self.dialog is form:
            self.dialog = None
