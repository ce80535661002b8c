"""The Tasks tab: the open and snoozed follow-ups by due time, overdue ones in red, and
what a CSR does with one — Done; Recovered or Lost… for a cancellation or a no-show;
Snooze… until a time, saying why; Assign to… or Take it; Open work order.

"Mine" lists the tasks assigned to the login signed in here; "Show finished" adds the
finished ones, greyed. Every role reads the list; a role below CSR finds the actions
disabled and the reason said. A write refused because a colleague changed the task
first says so, and the list is read again.

Threading contract: GUI thread only; reads and writes run as tasks on the qasync loop
through the workspace, and only their answers touch widgets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.follow_ups import FollowUpOutcome, FollowUpState
from dispatch_app.domain.roles import Action, refusal
from dispatch_app.errors import UserFacingError
from dispatch_app.services.follow_ups import tasks
from dispatch_app.services.follow_ups.tasks import FollowUpRow
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.follow_ups.dialogs import ReasonDialog, SnoozeDialog, lost_dialog
from dispatch_app.ui.follow_ups.model import (
    DETAIL_COLUMN,
    KIND_COLUMN,
    TITLE_COLUMN,
    FollowUpsModel,
    task_html,
)
from dispatch_app.ui.forms import (
    DONE_STYLE,
    command,
    command_button,
    error_label,
    muted,
    show_error,
)
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.office.common import CARD_BORDER, headline, records_view
from dispatch_app.ui.tasks import WindowTasks

MINE_KEY = "followUps/mine"
FINISHED_KEY = "followUps/finished"
# Pixels: the first widths of the kind's and the detail's columns.
KIND_WIDTH = 210
DETAIL_WIDTH = 230

Wanted = tuple[str | None, bool]  # whose tasks (None: everyone's), finished ones too
Answer = tuple[dt.tzinfo, list[FollowUpRow]]


class TasksTab(QWidget):
    listed = Signal()  # the list was read and is shown (tests wait for it)
    workOrderRequested = Signal(int)  # work order id: open it in the editor
    overdueChanged = Signal(int)  # how many listed tasks are overdue

    def __init__(self, workspace: Workspace, window_tasks: WindowTasks) -> None:
        super().__init__()
        self.workspace = workspace
        self.tasks = window_tasks
        self.may_act = workspace.may(Action.BOOK_CALLS)
        self.busy = False  # a write is under way: one at a time
        self.stale = True
        self.read_failed = False  # the error shown is the list's, not a write's
        self.question: ReasonDialog | SnoozeDialog | QInputDialog | None = None

        self.title = headline("followUpsTitle")
        self.title.setText(self.tr("Follow-ups"))
        self.summary = muted()
        self.summary.setObjectName("followUpsSummary")

        # -- what a CSR does -------------------------------------------------------------
        self.done_action = self._action("doneTask", self.tr("Done"), self.mark_done)
        self.done_action.setToolTip(self.tr("The call was made or the job looked after"))
        self.recovered_action = self._action(
            "recoveredTask", self.tr("Recovered"), self.mark_recovered
        )
        self.recovered_action.setToolTip(self.tr("The customer booked again"))
        self.lost_action = self._action("lostTask", self.tr("Lost…"), self.mark_lost)
        self.lost_action.setToolTip(self.tr("The customer is not coming back: say why"))
        self.snooze_action = self._action("snoozeTask", self.tr("Snooze…"), self.snooze)
        self.snooze_action.setToolTip(self.tr("Put it off until a later time, saying why"))
        self.assign_action = self._action("assignTask", self.tr("Assign to…"), self.assign)
        self.take_action = self._action("takeTask", self.tr("Take it"), self.take)
        self.take_action.setToolTip(self.tr("Assign the task to yourself"))
        self.open_action = self._action(
            "openTaskWorkOrder", self.tr("Open work order"), self.open_work_order
        )
        self.whose = QComboBox()
        self.whose.setObjectName("whoseTasks")
        self.whose.addItem(self.tr("Everyone's"), False)
        self.whose.addItem(self.tr("Mine"), True)
        self.finished = QCheckBox(self.tr("Show finished"))
        self.finished.setObjectName("showFinished")
        settings = QSettings()
        if settings.value(MINE_KEY) in (True, "true"):
            self.whose.setCurrentIndex(1)
        self.finished.setChecked(settings.value(FINISHED_KEY) in (True, "true"))

        self.buttons: dict[str, QToolButton] = {}
        actions_row = QHBoxLayout()
        actions_row.setSpacing(6)
        for action in self.row_actions[:-1]:
            actions_row.addWidget(self._button(action))
        actions_row.addSpacing(12)
        actions_row.addWidget(self._button(self.open_action))
        actions_row.addStretch()
        actions_row.addWidget(QLabel(self.tr("Show")))
        actions_row.addWidget(self.whose)
        actions_row.addWidget(self.finished)

        # -- the list --------------------------------------------------------------------
        self.model = FollowUpsModel(workspace.clock, self)
        self.table = records_view("followUpsTable", self.model, stretch=TITLE_COLUMN)
        # The kind and the detail can be long: columns the user widens; the selected
        # task is in full under the list, and the task's title gets the room left.
        header = self.table.horizontalHeader()
        for column, width in ((KIND_COLUMN, KIND_WIDTH), (DETAIL_COLUMN, DETAIL_WIDTH)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._offer())
        for changed in (self.model.modelReset, self.model.rowsRemoved, self.model.dataChanged):
            changed.connect(self._offer)
        self.empty = muted()
        self.empty.setObjectName("noFollowUps")
        self.empty.hide()
        # The selected task in full: a long detail or a snooze's reason is cut in the list.
        self.details = QLabel()
        self.details.setObjectName("followUpDetails")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setMinimumHeight(self.fontMetrics().height() * 3 + 16)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setStyleSheet(
            f"QLabel#followUpDetails {{ background: #ffffff; border: 1px solid {CARD_BORDER};"
            " border-radius: 4px; padding: 8px; }"
        )

        self.error = error_label("followUpsError")
        self.done = QLabel()
        self.done.setObjectName("followUpsDone")
        self.done.setWordWrap(True)
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.role_note = muted()
        self.role_note.setObjectName("followUpsRoleNote")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(12)
        top.addWidget(self.summary, 1, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(top)
        layout.addSpacing(4)
        layout.addLayout(actions_row)
        layout.addWidget(self.error)
        layout.addWidget(self.done)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.details)
        layout.addWidget(self.role_note)

        self.lists: LatestRequest[Hashable, Answer] = LatestRequest(
            self._fetch, show=self._show, fail=self._failed, spawn=self.tasks.spawn
        )
        self.whose.currentIndexChanged.connect(self._filter_chosen)
        self.finished.toggled.connect(self._filter_chosen)
        self._offer()

    @property
    def row_actions(self) -> tuple[QAction, ...]:
        return (
            self.done_action,
            self.recovered_action,
            self.lost_action,
            self.snooze_action,
            self.assign_action,
            self.take_action,
            self.open_action,
        )

    @property
    def win_back_actions(self) -> tuple[QAction, ...]:
        """Only for a cancellation or a no-show: was the customer won back?"""
        return (self.recovered_action, self.lost_action)

    def _action(self, name: str, text: str, slot: Callable[[], None]) -> QAction:
        return command(self, name, text, slot)

    def _button(self, action: QAction) -> QToolButton:
        button = command_button(action)
        self.buttons[action.objectName()] = button
        return button

    # -- reading ------------------------------------------------------------------------
    @property
    def me(self) -> str:
        """Whose tasks "Mine" lists and "Take it" assigns: the login signed in here."""
        return self.workspace.login

    @property
    def mine_only(self) -> bool:
        return bool(self.whose.currentData())

    def wanted(self) -> Wanted:
        return (self.me if self.mine_only else None, self.finished.isChecked())

    def reload(self) -> None:
        if self.tasks.closed:
            return
        self.stale = False
        self.lists.ask(self.wanted())

    @property
    def reading(self) -> bool:
        return self.lists.running

    async def _fetch(self, wanted: Any) -> Answer:
        whose, finished = wanted
        zone = await self.workspace.read(tasks.follow_ups_zone)
        rows = await self.workspace.read(
            tasks.list_follow_ups, assigned_to=whose, include_done=finished
        )
        return zone, rows

    def _show(self, _wanted: Hashable, answer: Answer) -> None:
        zone, rows = answer
        if self.read_failed:  # a write's refusal stays said; a failed read is over
            self.read_failed = False
            show_error(self.error, None)
        chosen = self.selected()
        if self.model.zone != zone:
            self.model.zone = zone
            self.model.layoutChanged.emit()  # every due time in the company's zone
        self.model.set_records(rows)
        if chosen is not None and self.model.row_of(chosen.id) >= 0:
            self.select(chosen.id)
        elif self.selected() is None and rows:
            self.table.selectRow(0)
        self._summarise(rows)
        self._offer()
        self.listed.emit()

    def _summarise(self, rows: list[FollowUpRow]) -> None:
        now = self.workspace.clock.now()
        overdue = sum(1 for task in rows if task.overdue(now))
        waiting = sum(1 for task in rows if task.state is not FollowUpState.DONE)
        snoozed = sum(1 for task in rows if task.state is FollowUpState.SNOOZED)
        words = [self.tr("{0} to do").format(waiting)]
        if overdue:
            words.insert(0, self.tr("{0} overdue").format(overdue))
        if snoozed:
            words.append(self.tr("{0} snoozed").format(snoozed))
        self.summary.setText(" · ".join(words))
        self.empty.setText(
            self.tr("Nothing to follow up: no task is assigned to you.")
            if self.mine_only
            else self.tr("Nothing to follow up: the rules have made no task that is still open.")
        )
        self.empty.setVisible(not rows)
        self.overdueChanged.emit(overdue)

    def _failed(self, _wanted: Hashable, error: UserFacingError) -> None:
        show_error(self.error, str(error))
        self.read_failed = True
        self.stale = True  # read again on the next change

    def _filter_chosen(self) -> None:
        settings = QSettings()
        settings.setValue(MINE_KEY, self.mine_only)
        settings.setValue(FINISHED_KEY, self.finished.isChecked())
        self.reload()

    # -- the selected task --------------------------------------------------------------
    def selected(self) -> FollowUpRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.task(rows[0].row()) if rows else None

    def select(self, task_id: int) -> None:
        row = self.model.row_of(task_id)
        if row >= 0:
            self.table.selectRow(row)

    def _offer(self) -> None:
        """Enable what may be done with the selected task by this role."""
        task = self.selected()
        self.details.setText(task_html(task) if task is not None else "")
        self.details.setVisible(task is not None)
        workable = (
            self.may_act
            and not self.busy
            and task is not None
            and task.state is not FollowUpState.DONE
        )
        wins_back = workable and task is not None and task.wins_back
        self.done_action.setEnabled(workable)
        self.recovered_action.setEnabled(wins_back)
        self.lost_action.setEnabled(wins_back)
        self.snooze_action.setEnabled(workable)
        self.assign_action.setEnabled(workable)
        self.take_action.setEnabled(
            workable and task is not None and bool(self.me) and task.assigned_to != self.me
        )
        self.open_action.setEnabled(task is not None and task.work_order_id is not None)
        self.role_note.setText(
            "" if self.may_act else refusal(self.workspace.role, Action.BOOK_CALLS)
        )
        self.role_note.setVisible(not self.may_act)

    def _context_menu(self, at: QPoint) -> None:
        index = self.table.indexAt(at)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.setObjectName("followUpMenu")
        task = self.selected()
        for action in self.row_actions[:-1]:
            if task is not None and (task.wins_back or action not in self.win_back_actions):
                menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.open_action)
        menu.popup(self.table.viewport().mapToGlobal(at))

    def _activated(self, index: QModelIndex) -> None:
        """Enter or a double-click: open the task's work order, if it has one."""
        if index.isValid():
            self.open_work_order()

    # -- what a CSR does ----------------------------------------------------------------
    def open_work_order(self) -> None:
        task = self.selected()
        if task is not None and task.work_order_id is not None:
            self.workOrderRequested.emit(task.work_order_id)

    def mark_done(self) -> None:
        if self.done_action.isEnabled():
            self._finish(FollowUpOutcome.DONE)

    def mark_recovered(self) -> None:
        if self.recovered_action.isEnabled():
            self._finish(FollowUpOutcome.RECOVERED)

    def mark_lost(self) -> None:
        """Ask why the customer was lost, then write it."""
        task = self.selected()
        if task is None or not self.lost_action.isEnabled():
            return
        dialog = lost_dialog(self, task)
        dialog.answered.connect(lambda reason: self._finish(FollowUpOutcome.LOST, reason, task))
        self.question = dialog
        dialog.open()

    def _finish(
        self, outcome: FollowUpOutcome, reason: str | None = None, task: FollowUpRow | None = None
    ) -> None:
        task = task or self.selected()
        if task is None or not self.may_act:
            return
        said = {
            FollowUpOutcome.DONE: self.tr("“{0}” done."),
            FollowUpOutcome.RECOVERED: self.tr("“{0}”: recovered."),
            FollowUpOutcome.LOST: self.tr("“{0}”: lost."),
        }[outcome].format(task.title)
        self._write(
            task,
            lambda: self.workspace.run(
                tasks.finish_follow_up, task.id, task.version, outcome=outcome, reason=reason
            ),
            said,
        )

    def snooze(self) -> None:
        task = self.selected()
        if task is None or not self.snooze_action.isEnabled():
            return
        dialog = SnoozeDialog(self, task, self.workspace.clock.now(), self.model.zone)
        dialog.answered.connect(lambda until, reason: self._snooze(task, until, reason))
        self.question = dialog
        dialog.open()

    def _snooze(self, task: FollowUpRow, until: dt.datetime, reason: str) -> None:
        clock = self.workspace.clock
        self._write(
            task,
            lambda: self.workspace.run(
                tasks.snooze_follow_up,
                task.id,
                task.version,
                until=until,
                reason=reason,
                clock=clock,
            ),
            None,
        )

    def assign(self) -> None:
        """Ask for a login name (the ones already in use offered), then assign."""
        task = self.selected()
        if task is None or not self.assign_action.isEnabled():
            return
        known = {t.assigned_to for t in self.model.records() if t.assigned_to}
        if self.me:
            known.add(self.me)
        question = QInputDialog(self)
        question.setObjectName("assignQuestion")
        question.setWindowTitle(self.tr("Assign to"))
        question.setLabelText(
            self.tr("Whose is “{0}”? A login name; leave it empty for anyone.").format(task.title)
        )
        question.setComboBoxEditable(True)
        question.setComboBoxItems(sorted(known))
        question.setTextValue(task.assigned_to or "")
        question.textValueSelected.connect(lambda who: self.assign_to(task, who))
        self.question = question
        question.open()

    def take(self) -> None:
        task = self.selected()
        if task is not None and self.take_action.isEnabled():
            self.assign_to(task, self.me)

    def assign_to(self, task: FollowUpRow, who: str) -> None:
        if not self.may_act:
            return
        self._write(
            task,
            lambda: self.workspace.run(tasks.assign_follow_up, task.id, task.version, to=who),
            None,
        )

    def _write(
        self, task: FollowUpRow, operation: Callable[[], Awaitable[Any]], said: str | None
    ) -> None:
        if self.busy or self.tasks.closed:
            return
        self.busy = True
        self._offer()
        self.tasks.spawn(self._run_write(task, operation, said))

    async def _run_write(
        self, task: FollowUpRow, operation: Callable[[], Awaitable[Any]], said: str | None
    ) -> None:
        show_error(self.error, None)
        self.done.hide()
        try:
            await operation()
        except UserFacingError as error:
            # Refused (a colleague finished it first, a reason missing): the sentence,
            # and the list as it is now.
            show_error(self.error, str(error))
        else:
            if said:
                self.done.setText(said)
                self.done.show()
        finally:
            self.busy = False
            self._offer()
        # Shown at once; the feed's hint for the same change then finds nothing new.
        self.reload()
        self.select(task.id)
