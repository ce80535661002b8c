"""The Leads inbox's list as an item model: one lead a row, in the words a CSR uses
("Today 9:41 AM", "Missed call", "(312) 555-0142 · on file: Dana Whitfield"), open
callbacks shaded and an overdue one's due time in red.

Rows are the services' ``LeadRow``; a re-read moves, inserts and repaints rows one by
one (``RecordsModel``), so the selection stays on the lead the CSR is working.

Threading contract: GUI thread only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.leads import LeadOutcome
from dispatch_app.domain.phones import display_phone
from dispatch_app.services.leads.inbox import LeadRow
from dispatch_app.ui import theme
from dispatch_app.ui.office.rows import AnyIndex, Column, RecordsModel

OVERDUE = QColor("#b42318")
CALLBACK_BG = QColor("#fff7e6")  # an open callback: the work at the top
CLOSED_TEXT = theme.MUTED_TEXT
CALLER_COLUMN, REQUEST_COLUMN, DUE_COLUMN = 2, 3, 5
REQUEST_SHOWN = 90  # characters of the request in its cell; all of it in the tooltip


def clock_text(moment: dt.datetime) -> str:
    """``9:41 AM`` (not strftime's ``%-I``: Windows has none)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def when_text(moment: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> str:
    """A moment as the office says it: "Today 9:41 AM", "Yesterday 4:10 PM",
    "Tomorrow 8:00 AM", "Mon 2:05 PM" within the week around today, else
    "Nov 28, 2:05 PM" (with the year when it is another year's)."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    days = (local.date() - today).days
    named = {0: "Today", -1: "Yesterday", 1: "Tomorrow"}
    if days in named:
        day = named[days]
    elif -6 <= days <= 6:
        day = f"{local:%a}"
    elif local.year == today.year:
        day = f"{local:%b} {local.day},"
    else:
        day = f"{local:%b} {local.day}, {local.year},"
    return f"{day} {clock_text(local)}"


def caller_text(lead: LeadRow) -> str:
    """Who called, and the customer their number matched."""
    parts = [lead.name] if lead.name else []
    if lead.phone:
        parts.append(display_phone(lead.phone))
    elif lead.email:
        parts.append(lead.email)
    if lead.customer_name and lead.customer_name != lead.name:
        parts.append(f"customer {lead.customer_name}")
    elif lead.customer_name:
        parts.append("customer")
    return " · ".join(parts)


def request_text(lead: LeadRow) -> str:
    line = " ".join(lead.request.split())
    return line if len(line) <= REQUEST_SHOWN else line[: REQUEST_SHOWN - 1] + "…"


def outcome_text(lead: LeadRow) -> str:
    text = lead.outcome.label
    if lead.outcome is LeadOutcome.BOOKED and lead.work_order_number:
        text += f" · {lead.work_order_number}"
    if lead.outcome_note:
        text += f" — {lead.outcome_note}"
    return text


class LeadsModel(RecordsModel):
    """The inbox's rows; ``clock`` and ``zone`` say what "today" and "overdue" are."""

    def __init__(self, clock: Clock, parent: QObject | None = None) -> None:
        super().__init__(
            [],
            key=lambda r: r.id,
            muted=lambda r: not r.is_open,
            muted_colour=CLOSED_TEXT,
            parent=parent,
        )
        self.clock = clock
        self.zone: dt.tzinfo = dt.UTC  # the company's, once read
        tr = self.tr
        self.columns = [
            Column(tr("When"), lambda r: when_text(r.received_at, self.now(), self.zone)),
            Column(tr("Source"), lambda r: tr(r.source.label)),
            Column(tr("Caller"), caller_text),
            Column(tr("What they asked for"), request_text),
            Column(tr("Owner"), lambda r: r.owner or ""),
            Column(
                tr("Callback due"),
                self._due_text,
                colour=lambda r: OVERDUE if r.overdue(self.now()) else None,
            ),
            Column(tr("Tries"), lambda r: str(r.attempts) if r.attempts else "", numeric=True),
            Column(tr("Outcome"), outcome_text),
        ]

    def now(self) -> dt.datetime:
        return self.clock.now()

    def _due_text(self, lead: LeadRow) -> str:
        if not lead.callback_open or lead.callback_due_at is None:
            return ""
        text = when_text(lead.callback_due_at, self.now(), self.zone)
        return self.tr("{0} — overdue").format(text) if lead.overdue(self.now()) else text

    def lead(self, row: int) -> LeadRow:
        record = self.record(row)
        assert isinstance(record, LeadRow)
        return record

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(CALLBACK_BG) if self.lead(index.row()).callback_open else None
        if role == Qt.ItemDataRole.ToolTipRole:
            lead = self.lead(index.row())
            if index.column() == CALLER_COLUMN:
                return caller_text(lead)
            return lead.request or None
        if role == Qt.ItemDataRole.FontRole and self.lead(index.row()).callback_open:
            font = QFont()
            font.setBold(index.column() in (CALLER_COLUMN, DUE_COLUMN))
            return font
        return super().data(index, role)
