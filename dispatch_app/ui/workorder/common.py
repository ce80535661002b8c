"""What the work-order editor's tabs share: how they reach the database through the
editor, inline error labels, and the look of cards and section titles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from PySide6.QtWidgets import QDateTimeEdit, QFrame, QVBoxLayout, QWidget

from dispatch_app.domain.tables import RecordPart
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.forms import (  # noqa: F401 - the tabs take them from here
    BANNER_STYLE,
    ERROR_COLOUR,
    ERROR_STYLE,
    MUTED_STYLE,
    error_label,
    muted,
    section_title,
    show_error,
)

CARD_STYLE = "background: #ffffff; border: 1px solid #dde2e8; border-radius: 6px;"


def side_card(name: str, width: int) -> tuple[QFrame, QVBoxLayout]:
    """The white panel beside a tab's table or form, and the layout to fill it."""
    card = QFrame()
    card.setObjectName(name)
    # Selector by name: a bare style would box every label inside the card too.
    card.setStyleSheet(f"QFrame#{name} {{ {CARD_STYLE} }}")
    card.setFixedWidth(width)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(14, 12, 14, 12)
    return card, layout


DATE_TIME_FORMAT = "ddd d MMM yyyy  HH:mm"


class ShowsRecord(Protocol):
    """A tab: it shows its part of the record."""

    def show_record(self, record: WorkOrderRecord) -> None: ...


class RecordHost(Protocol):
    """The editor, as its tabs see it: where to write, and how a write is run."""

    workspace: Workspace
    work_order_id: int

    def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...

    def refresh_soon(self, parts: Collection[RecordPart] | None = None) -> None: ...

    async def attempt(
        self,
        work: Awaitable[Any],
        *,
        show_errors: Callable[[dict[str, str]], None],
        parts: Collection[RecordPart] | None = None,
    ) -> bool: ...


# -- times in the business time zone -----------------------------------------------------
# Date-time editors show wall time in the company's zone, whatever the workstation's own
# zone is: they hold it as UTC-less "UTC" so no local DST rule moves a typed time.
_PLAIN = QTimeZone(QTimeZone.Initialization.UTC)


def date_time_edit(name: str = "") -> QDateTimeEdit:
    edit = QDateTimeEdit()
    if name:
        edit.setObjectName(name)
    edit.setTimeZone(_PLAIN)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DATE_TIME_FORMAT)
    return edit


def set_wall_time(edit: QDateTimeEdit, moment: dt.datetime, tz: ZoneInfo) -> None:
    local = moment.astimezone(tz)
    edit.setDateTime(
        QDateTime(
            QDate(local.year, local.month, local.day), QTime(local.hour, local.minute), _PLAIN
        )
    )


def wall_time(edit: QDateTimeEdit, tz: ZoneInfo) -> dt.datetime:
    shown = edit.dateTime()
    day, time = shown.date(), shown.time()
    return dt.datetime(day.year(), day.month(), day.day(), time.hour(), time.minute(), tzinfo=tz)


def clock(moment: dt.datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%a %d %b %H:%M")


def span_text(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return "—"
    if start.date() == end.date():
        return f"{start:%a %d %b  %H:%M}–{end:%H:%M}"
    return f"{clock(start)} – {clock(end)}"


def hide_when_empty(widget: QWidget, empty: bool) -> None:
    widget.setVisible(not empty)
