"""The follow-up tasks as an item model: one task a row, due time first in the words
the office uses ("Today 9:00 AM", red once overdue; "Snoozed until Fri 9:00 AM"), then
what it is about and whose it is. A finished task (shown on request) is greyed.

Rows are the services' ``FollowUpRow``; a re-read inserts, removes and repaints rows one
by one (``RecordsModel``), so the selection stays on the task being worked.

Threading contract: GUI thread only.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.follow_ups import FollowUpOutcome, FollowUpState
from dispatch_app.services.follow_ups.tasks import FollowUpRow
from dispatch_app.ui import theme
from dispatch_app.ui.leads.model import OVERDUE, when_text
from dispatch_app.ui.office.rows import AnyIndex, Column, RecordsModel

DUE_COLUMN, KIND_COLUMN, TITLE_COLUMN, DETAIL_COLUMN = 0, 1, 2, 3
DETAIL_SHOWN = 80  # characters of the detail in its cell; all of it in the tooltip


def due_text(task: FollowUpRow, now: dt.datetime, zone: dt.tzinfo) -> str:
    """When the task is due, or how it ended."""
    if task.state is FollowUpState.DONE:
        finished = when_text(task.done_at, now, zone) if task.done_at else ""
        outcome = task.outcome.label if task.outcome else FollowUpState.DONE.label
        return f"{outcome} {finished}".strip()
    when = when_text(task.due_at, now, zone)
    if task.state is FollowUpState.SNOOZED:
        return f"Snoozed until {when}"
    return f"{when} — overdue" if task.overdue(now) else when


def detail_text(task: FollowUpRow) -> str:
    line = " ".join(task.detail.split())
    return line if len(line) <= DETAIL_SHOWN else line[: DETAIL_SHOWN - 1] + "…"


def task_tooltip(task: FollowUpRow) -> str:
    """Everything about the task, for the pointer resting on its row."""
    lines = [task.title]
    if task.detail:
        lines.append(task.detail)
    if task.state is FollowUpState.SNOOZED and task.reason:
        lines.append(f"Snoozed: {task.reason}")
    if task.state is FollowUpState.DONE:
        said = task.outcome.label if task.outcome else "Done"
        if task.done_by:
            said += f" by {task.done_by}"
        if task.outcome is FollowUpOutcome.LOST and task.reason:
            said += f": {task.reason}"
        lines.append(said)
    return "\n".join(lines)


def task_html(task: FollowUpRow) -> str:
    """The selected task in full, under the list: its title, then everything else."""
    title, *rest = task_tooltip(task).split("\n")
    lines = [f"<b>{escape(title)}</b>", *(escape(line) for line in rest)]
    return "<br>".join(lines)


class FollowUpsModel(RecordsModel):
    """The tasks; ``clock`` and ``zone`` say what "today" and "overdue" are."""

    def __init__(self, clock: Clock, parent: QObject | None = None) -> None:
        super().__init__(
            [],
            key=lambda r: r.id,
            muted=lambda r: r.state is not FollowUpState.OPEN,
            muted_colour=theme.MUTED_TEXT,
            parent=parent,
        )
        self.clock = clock
        self.zone: dt.tzinfo = dt.UTC  # the company's, once read
        tr = self.tr
        self.columns = [
            Column(
                tr("Due"),
                lambda r: due_text(r, self.now(), self.zone),
                colour=lambda r: OVERDUE if r.overdue(self.now()) else None,
                bold=lambda r: r.overdue(self.now()),
            ),
            Column(tr("Follow-up"), lambda r: tr(r.kind.label)),
            Column(tr("Task"), lambda r: r.title),
            Column(tr("Detail"), detail_text),
            Column(tr("Customer"), lambda r: r.customer_name or ""),
            Column(tr("Work order"), lambda r: r.work_order_number or ""),
            Column(
                tr("Assigned to"),
                lambda r: r.assigned_to or tr("anyone"),
                colour=lambda r: None if r.assigned_to else theme.MUTED_TEXT,
            ),
        ]

    def now(self) -> dt.datetime:
        return self.clock.now()

    def task(self, row: int) -> FollowUpRow:
        record = self.record(row)
        assert isinstance(record, FollowUpRow)
        return record

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return task_tooltip(self.task(index.row()))
        if role == Qt.ItemDataRole.FontRole and index.column() == TITLE_COLUMN:
            task = self.task(index.row())
            if task.state is FollowUpState.OPEN:
                font = QFont()
                font.setWeight(QFont.Weight.DemiBold)
                return font
        return super().data(index, role)
