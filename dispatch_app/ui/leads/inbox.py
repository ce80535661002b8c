"""The Leads window (File ▸ Leads…): every inbound contact, the missed callers to call
back on top (soonest due first, shaded; red once overdue), then the other open leads,
newest first — and over them what the missed calls cost this week and this month.

A CSR (and every role above) works a lead from the buttons or the list's context menu:
Book call… opens the call intake filled in from the lead and the booking marks it
booked; "Called — no answer" counts a try (the third closes it as no answer); "Not
interested…" asks for a reason; Spam; Take it makes the signed-in person its owner.
Import call log… reads a phone system's CSV. Every role reads the list; what a role
may not do is disabled and the window says why.

Nobody presses refresh: a lead or callback changed on any workstation (the import, the
web endpoint, a colleague) is a hint from the change feed, and the list is read again
a moment after the burst, row by row.

Threading contract: GUI thread only; reads and writes run as tasks on the qasync loop
through the workspace, and only their answers touch widgets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.leads import LeadOutcome
from dispatch_app.domain.roles import Action, refusal
from dispatch_app.errors import UserFacingError, ValidationError
from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.leads import call_log, inbox
from dispatch_app.services.leads.inbox import LeadRow, LeakHeader
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import (
    DONE_STYLE,
    command,
    command_button,
    error_label,
    muted,
    show_error,
)
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.leads.model import CALLER_COLUMN, REQUEST_COLUMN, LeadsModel
from dispatch_app.ui.office.common import headline, records_view
from dispatch_app.ui.tasks import WindowTasks

GEOMETRY_KEY = "leadsWindow/geometry"
FILTER_KEY = "leadsWindow/filter"
# A lead arriving changes the lead and adds its callback: one read after the burst.
BURST_MS = 100
# "Overdue" and "Today" move with the clock even when nothing changes.
CLOCK_TICK_MS = 60_000
CLOSED_DAYS = 30  # "All" lists the closed leads of this many days back
CALLER_CHARACTERS = 50  # the caller's column is at most about this wide
WATCHED = ("leads", "follow_ups")


class LeadsWindow(QWidget):
    bookRequested = Signal(object, object)  # LeadRow, the company's tzinfo: book its call
    workOrderRequested = Signal(int)  # work order id: open the one a lead was booked as
    listed = Signal()  # the list was read and is shown (tests wait for it)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("leadsWindow")
        self.setWindowTitle(self.tr("Leads — {0}").format(workspace.label))
        self.workspace = workspace
        self.tasks = WindowTasks("leads window")
        self.may_act = workspace.may(Action.BOOK_CALLS)
        self.busy = False  # a write is under way: one at a time
        self.stale = True
        self.note_question: QInputDialog | None = None
        self.import_report: QMessageBox | None = None

        # -- header: the leak ------------------------------------------------------------
        title = headline("leadsTitle")
        title.setText(self.tr("Leads"))
        self.week = QLabel()
        self.week.setObjectName("leakWeek")
        self.month = QLabel()
        self.month.setObjectName("leakMonth")
        for label in (self.week, self.month):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setStyleSheet(f"color: {theme.TEXT.name()};")
        self.leak_problem = muted()
        self.leak_problem.setObjectName("leakProblem")
        self.leak_problem.hide()

        # -- what a CSR does -------------------------------------------------------------
        self.book_action = self._action("bookLead", self.tr("Book call…"), self.book)
        self.book_action.setToolTip(self.tr("Open the call intake filled in from this lead"))
        self.no_answer_action = self._action(
            "noAnswer", self.tr("Called — no answer"), self.called_no_answer
        )
        self.no_answer_action.setToolTip(
            self.tr("Count a callback try; after the third the lead closes as no answer")
        )
        self.not_interested_action = self._action(
            "notInterested", self.tr("Not interested…"), self.not_interested
        )
        self.spam_action = self._action("spam", self.tr("Spam"), self.spam)
        self.take_action = self._action("takeLead", self.tr("Take it"), self.take)
        self.take_action.setToolTip(self.tr("Make yourself the lead's owner"))
        self.reopen_action = self._action("reopenLead", self.tr("Reopen"), self.reopen)
        self.open_work_order_action = self._action(
            "openLeadWorkOrder", self.tr("Open work order"), self.open_work_order
        )
        self.import_action = self._action(
            "importCallLog", self.tr("Import call log…"), self.choose_call_log
        )
        self.import_action.setToolTip(
            self.tr("Add the calls of a phone system's call log (CSV): all rows or none")
        )
        self.filter = QComboBox()
        self.filter.setObjectName("leadsFilter")
        self.filter.addItem(self.tr("Open leads"), False)
        self.filter.addItem(self.tr("All, last {0} days").format(CLOSED_DAYS), True)
        if QSettings().value(FILTER_KEY) in (True, "true"):
            self.filter.setCurrentIndex(1)
        self.buttons: dict[str, QToolButton] = {}
        actions_row = QHBoxLayout()
        actions_row.setSpacing(6)
        for action in (
            self.book_action,
            self.no_answer_action,
            self.not_interested_action,
            self.spam_action,
            self.take_action,
        ):
            actions_row.addWidget(self._button(action))
        actions_row.addStretch()
        actions_row.addWidget(QLabel(self.tr("Show")))
        actions_row.addWidget(self.filter)
        actions_row.addSpacing(12)
        actions_row.addWidget(self._button(self.import_action))

        # -- the list --------------------------------------------------------------------
        self.model = LeadsModel(workspace.clock, self)
        self.table = records_view("leadsTable", self.model, stretch=REQUEST_COLUMN)
        # A long name with its number and customer must not squeeze what they asked for
        # out of sight: the caller's column fits its contents up to a limit.
        self.table.horizontalHeader().setSectionResizeMode(
            CALLER_COLUMN, QHeaderView.ResizeMode.Interactive
        )
        self._fit_caller = QTimer(self)
        self._fit_caller.setSingleShot(True)
        self._fit_caller.setInterval(0)
        self._fit_caller.timeout.connect(self._fit_caller_column)
        for changed in (self.model.rowsInserted, self.model.modelReset, self.model.dataChanged):
            changed.connect(lambda *_args: self._fit_caller.start())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._offer())
        self.model.modelReset.connect(self._offer)
        self.model.rowsRemoved.connect(self._offer)
        self.model.dataChanged.connect(self._offer)
        self.count = muted()
        self.count.setObjectName("leadsCount")
        self.count.setWordWrap(False)

        self.error = error_label("leadsError")
        self.done = QLabel()
        self.done.setObjectName("leadsDone")
        self.done.setWordWrap(True)
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.role_note = muted()
        self.role_note.setObjectName("leadsRoleNote")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.addWidget(title)
        layout.addWidget(self.week)
        layout.addWidget(self.month)
        layout.addWidget(self.leak_problem)
        layout.addSpacing(6)
        layout.addLayout(actions_row)
        layout.addWidget(self.error)
        layout.addWidget(self.done)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count)
        bottom.addStretch()
        bottom.addWidget(self.role_note)
        layout.addLayout(bottom)

        # -- reading -----------------------------------------------------------------------
        # The list, then the leak: one read at a time (a workstation holds few
        # connections), and only the answer to what was asked last is shown.
        self.lists: LatestRequest[Hashable, tuple[list[LeadRow], LeakHeader | str]] = LatestRequest(
            self._fetch, show=self._show, fail=self._failed, spawn=self.tasks.spawn
        )
        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(BURST_MS)
        self._reread.timeout.connect(self._read_if_seen)
        self._tick = QTimer(self)
        self._tick.setInterval(CLOCK_TICK_MS)
        self._tick.timeout.connect(self.reload)
        self.filter.currentIndexChanged.connect(self._filter_chosen)
        self._unsubscribe = workspace.changes.watch_tables(WATCHED, self._changed)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        self._offer()

        geometry = QSettings().value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1280, 720)

    def _fit_caller_column(self) -> None:
        most = round(self.table.fontMetrics().averageCharWidth() * CALLER_CHARACTERS)
        wanted = max(
            self.table.sizeHintForColumn(CALLER_COLUMN),
            self.table.horizontalHeader().sectionSizeHint(CALLER_COLUMN),
        )
        self.table.setColumnWidth(CALLER_COLUMN, min(wanted, most))

    def _action(self, name: str, text: str, slot: Callable[[], None]) -> QAction:
        return command(self, name, text, slot)

    def _button(self, action: QAction) -> QToolButton:
        button = command_button(action)
        self.buttons[action.objectName()] = button
        return button

    # -- reading ------------------------------------------------------------------------
    @property
    def include_closed(self) -> bool:
        return bool(self.filter.currentData())

    def reload(self) -> None:
        """Read the list and the leak again (the window is opened, or a colleague changed
        something, or a minute passed)."""
        if self.tasks.closed:
            return
        self.stale = False
        self.lists.ask(self.include_closed)

    @property
    def reading(self) -> bool:
        return self.lists.running

    async def _fetch(self, include_closed: Hashable) -> tuple[list[LeadRow], LeakHeader | str]:
        clock = self.workspace.clock
        since = clock.now() - dt.timedelta(days=CLOSED_DAYS)
        leads = await self.workspace.read(
            inbox.list_leads, since=since, include_closed=bool(include_closed)
        )
        try:
            header: LeakHeader | str = await self.workspace.read(inbox.leak_header, clock=clock)
        except UserFacingError as error:  # the list is worth showing without the figures
            header = str(error)
        return leads, header

    def _show(
        self, _include_closed: Hashable, answer: tuple[list[LeadRow], LeakHeader | str]
    ) -> None:
        leads, header = answer
        show_error(self.error, None)
        if isinstance(header, str):
            self._leak_failed(header)
        else:
            self._show_leak(header)
        self.model.set_records(leads)
        if self.selected() is None and leads:
            self.table.selectRow(0)  # the first callback due, ready for a button or Enter
        callbacks = sum(1 for lead in leads if lead.callback_open)
        overdue = sum(1 for lead in leads if lead.overdue(self.workspace.clock.now()))
        if not leads:
            self.count.setText(
                self.tr("No open leads: nobody is waiting for a call back.")
                if not self.include_closed
                else self.tr("No leads in the last {0} days.").format(CLOSED_DAYS)
            )
            self._offer()
            self.listed.emit()
            return
        words = [self.tr("{0} listed").format(len(leads))]
        if callbacks:
            words.append(self.tr("{0} to call back").format(callbacks))
        if overdue:
            words.append(self.tr("{0} overdue").format(overdue))
        self.count.setText(" · ".join(words))
        self._offer()
        self.listed.emit()

    def _failed(self, _include_closed: Hashable, error: UserFacingError) -> None:
        show_error(self.error, str(error))
        self.stale = True  # read again on the next change

    def _show_leak(self, header: LeakHeader) -> None:
        if self.model.zone != header.zone:
            self.model.zone = header.zone
            rows, columns = self.model.rowCount(), self.model.columnCount()
            if rows:  # every "Today 9:41 AM" in the company's zone
                self.model.dataChanged.emit(
                    self.model.index(0, 0), self.model.index(rows - 1, columns - 1)
                )
        self.leak_problem.hide()
        for label, period, leak in (
            (self.week, self.tr("This week"), header.week),
            (self.month, self.tr("This month"), header.month),
        ):
            label.setText(f"<b>{period}:</b> {leak.headline}")
            label.setToolTip(
                self.tr(
                    "Missed calls and voicemails received (spam left out), how many were "
                    "called back and booked; at risk = missed × the average job "
                    "({0}); recovered = what the booked ones were invoiced."
                ).format(f"${leak.average_job_value:,.2f}")
            )

    def _leak_failed(self, error: str) -> None:
        self.leak_problem.setText(self.tr("The leak figures could not be read: {0}").format(error))
        self.leak_problem.show()

    def _changed(self, hints: list[ChangeHint]) -> None:
        del hints  # a hint is a reason to look again, never the truth itself
        if not self.tasks.closed:
            self.stale = True
            self._reread.start()

    def _read_if_seen(self) -> None:
        if self.isVisible() and self.stale:
            self.reload()

    def _filter_chosen(self) -> None:
        QSettings().setValue(FILTER_KEY, self.include_closed)
        self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._tick.start()
        self._read_if_seen()

    # -- the selected lead ---------------------------------------------------------------
    @property
    def me(self) -> str:
        """Who "Take it" makes the owner: the login signed in here."""
        return self.workspace.login or "owner"

    def selected(self) -> LeadRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.lead(rows[0].row()) if rows else None

    def select(self, lead_id: int) -> None:
        row = self.model.row_of(lead_id)
        if row >= 0:
            self.table.selectRow(row)

    def _offer(self) -> None:
        """Enable what may be done with the selected lead by this role."""
        lead = self.selected()
        act = self.may_act and not self.busy
        chosen = act and lead is not None
        is_open = chosen and lead is not None and lead.is_open
        booked = lead is not None and lead.outcome is LeadOutcome.BOOKED
        self.book_action.setEnabled(chosen and not booked)
        self.no_answer_action.setEnabled(is_open)
        self.not_interested_action.setEnabled(chosen and not booked)
        self.spam_action.setEnabled(chosen and not booked)
        self.take_action.setEnabled(chosen and lead is not None and lead.owner != self.me)
        self.reopen_action.setEnabled(chosen and not is_open and not booked)
        self.open_work_order_action.setEnabled(lead is not None and lead.work_order_id is not None)
        self.import_action.setEnabled(act)
        self.role_note.setText(
            "" if self.may_act else refusal(self.workspace.role, Action.BOOK_CALLS)
        )

    def _context_menu(self, at: QPoint) -> None:
        index = self.table.indexAt(at)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.setObjectName("leadMenu")
        for action in (
            self.book_action,
            self.no_answer_action,
            self.not_interested_action,
            self.spam_action,
            self.take_action,
            self.reopen_action,
        ):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.open_work_order_action)
        menu.popup(self.table.viewport().mapToGlobal(at))

    def _activated(self, index: QModelIndex) -> None:
        """Enter or a double-click: book an open lead, open a booked one's work order."""
        if not index.isValid():
            return
        lead = self.model.lead(index.row())
        if lead.work_order_id is not None:
            self.workOrderRequested.emit(lead.work_order_id)
        elif self.book_action.isEnabled():
            self.book()

    # -- what a CSR does ----------------------------------------------------------------
    def book(self) -> None:
        lead = self.selected()
        if lead is not None and self.book_action.isEnabled():
            self.bookRequested.emit(lead, self.model.zone)

    def open_work_order(self) -> None:
        lead = self.selected()
        if lead is not None and lead.work_order_id is not None:
            self.workOrderRequested.emit(lead.work_order_id)

    def called_no_answer(self) -> None:
        lead = self.selected()
        if lead is not None and self.no_answer_action.isEnabled():
            self._write(
                lead,
                lambda: self.workspace.run(
                    inbox.record_attempt, lead.id, lead.version, reached=False
                ),
            )

    def spam(self) -> None:
        self._set_outcome(LeadOutcome.SPAM, None)

    def reopen(self) -> None:
        self._set_outcome(LeadOutcome.OPEN, None)

    def not_interested(self) -> None:
        """Ask why (optional), then close the lead as not interested."""
        lead = self.selected()
        if lead is None or not self.not_interested_action.isEnabled():
            return
        question = QInputDialog(self)
        question.setObjectName("notInterestedQuestion")
        question.setWindowTitle(self.tr("Not interested"))
        question.setLabelText(
            self.tr("Why is {0} not interested? (optional: too expensive, fixed it…)").format(
                lead.caller
            )
        )
        question.setTextValue(lead.outcome_note or "")
        question.textValueSelected.connect(
            lambda note: self._set_outcome(LeadOutcome.NOT_INTERESTED, note, lead)
        )
        self.note_question = question
        question.open()

    def take(self) -> None:
        lead = self.selected()
        if lead is not None and self.take_action.isEnabled():
            me = self.me
            self._write(
                lead, lambda: self.workspace.run(inbox.assign_owner, lead.id, lead.version, me)
            )

    def _set_outcome(
        self, outcome: LeadOutcome, note: str | None, lead: LeadRow | None = None
    ) -> None:
        lead = lead or self.selected()
        if lead is None or not self.may_act:
            return
        self._write(
            lead,
            lambda: self.workspace.run(inbox.set_outcome, lead.id, lead.version, outcome, note),
        )

    def _write(self, lead: LeadRow, operation: Callable[[], Awaitable[LeadRow]]) -> None:
        if self.busy or self.tasks.closed:
            return
        self.busy = True
        self._offer()
        self.tasks.spawn(self._run_write(lead, operation))

    async def _run_write(self, lead: LeadRow, operation: Callable[[], Awaitable[LeadRow]]) -> None:
        show_error(self.error, None)
        self.done.hide()
        try:
            await operation()
        except UserFacingError as error:
            show_error(self.error, str(error))
        finally:
            self.busy = False
            self._offer()
        # Shown at once; the feed's hint for the same change then finds nothing new.
        self.reload()
        self.select(lead.id)

    # -- importing a call log -------------------------------------------------------------
    def choose_call_log(self) -> None:
        if not self.import_action.isEnabled():
            return
        path, _filter = QFileDialog.getOpenFileName(
            self,
            self.tr("Import a call log"),
            "",
            self.tr("Call logs (*.csv);;All files (*)"),
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        """Add the calls of the call log at ``path`` (all its rows, or none)."""
        if self.busy or self.tasks.closed:
            return
        self.busy = True
        self._offer()
        self.tasks.spawn(self._import(path))

    async def _import(self, path: Path) -> None:
        show_error(self.error, None)
        self.done.hide()
        try:
            data = path.read_bytes()
        except OSError as error:
            self.busy = False
            self._offer()
            show_error(self.error, self.tr("Could not read {0}: {1}").format(path.name, error))
            return
        try:
            imported = await self.workspace.run(
                call_log.import_call_log, data, clock=self.workspace.clock
            )
        except ValidationError as invalid:
            self._report(invalid.fields.get("file") or str(invalid))
        except UserFacingError as error:
            show_error(self.error, str(error))
        else:
            self.done.setText(imported.sentence())
            self.done.show()
            self.reload()
        finally:
            self.busy = False
            self._offer()

    def _report(self, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Call log not imported"),
            self.tr("Nothing was imported: the call log has rows that cannot be read."),
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setObjectName("importProblems")
        box.setDetailedText(text)
        box.setInformativeText(text if len(text) < 600 else text[:600] + "…")
        self.import_report = box
        box.open()

    # -- the end ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue(GEOMETRY_KEY, self.saveGeometry())
        self._reread.stop()
        self._tick.stop()
        self.stale = True  # read afresh when opened again
        super().closeEvent(event)

    async def aclose(self) -> None:
        self._unsubscribe()
        self._reread.stop()
        self._tick.stop()
        await self.tasks.aclose()
