"""The call intake's arrival windows: what can be promised the caller, and Later….

Each window names the technician it would go to and, when the job needs parts, whether
their truck carries them ("no Run capacitor 45/5 µF on Truck 7"), so the CSR can offer
first a window whose technician will not need a trip to the warehouse.

The panel is told what is wanted (job type and place, from ``want``) and looks for
windows itself, one search at a time for what was asked last; the intake reads the
chosen window when it books. Keys: a digit (or Alt+digit, from the intake) picks a
window, 0 leaves the call for dispatch, Enter books, Alt+L opens the date chooser,
where Enter looks from that date and Esc goes back.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.availability import ArrivalWindow, WindowSearch
from dispatch_app.domain.clock import Clock
from dispatch_app.errors import UserFacingError
from dispatch_app.services.availability import WANTED_WINDOWS, find_windows
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import error_label, section_title
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.tasks import WindowTasks

log = logging.getLogger(__name__)

WINDOW_ROLE = Qt.ItemDataRole.UserRole
TRUCK_ROLE = Qt.ItemDataRole.UserRole + 1  # the technician's truck against the job's parts
LATER = "later"  # the row after the windows: look from another date
MAX_WINDOWS_OFFERED = WANTED_WINDOWS  # one key each: Alt+1 … Alt+9


class WindowsWanted(NamedTuple):
    """What the arrival windows are asked for."""

    job_type_id: int
    site_id: int | None
    place: tuple[float, float] | None
    from_day: dt.date | None


class ArrivalWindowsPanel(QWidget):
    bookRequested = Signal()  # Enter or a double-click on a window (or on "dispatch")

    def __init__(
        self,
        workspace: Workspace,
        tasks: WindowTasks,
        *,
        clock: Clock,
        first_day: dt.date | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.clock = clock
        self.first_day = first_day  # a board opened on another day offers from that day
        self.technician_names: dict[int, str] = {}
        self.windows: list[ArrivalWindow] = []
        self.search: WindowSearch | None = None
        self.looking_from: dt.date | None = None  # Later…: the date the CSR chose
        # The job type, site and place last asked for (what Later… looks again for).
        self._for: tuple[int | None, int | None, tuple[float, float] | None] = (None, None, None)
        self.searches: LatestRequest[WindowsWanted, WindowSearch] = LatestRequest(
            self._find,
            show=lambda _wanted, search: self._show_search(search),
            fail=self._failed,
            spawn=tasks.spawn,
        )

        self.list = QListWidget()
        self.list.setObjectName("arrivalWindows")
        self.list.setMinimumHeight(200)
        self.list.setSpacing(2)
        bigger = self.list.font()
        bigger.setPointSizeF(bigger.pointSizeF() + 1)
        self.list.setFont(bigger)
        self.note = QLabel()
        self.note.setObjectName("windowsNote")
        self.note.setStyleSheet(f"color: {theme.MUTED_TEXT.name()};")
        # Later…: the caller wants another week. Typed or picked, Enter looks from there.
        self.later_date = QDateEdit()
        self.later_date.setObjectName("laterDate")
        self.later_date.setCalendarPopup(True)
        self.later_date.setDisplayFormat("ddd d MMM yyyy")
        self.later_row = QWidget()
        later_layout = QHBoxLayout(self.later_row)
        later_layout.setContentsMargins(0, 0, 0, 0)
        later_layout.addWidget(QLabel(self.tr("Windows from")))
        later_layout.addWidget(self.later_date)
        later_layout.addWidget(QLabel(self.tr("Enter: look · Esc: back to the windows")), 1)
        self.later_row.hide()
        self.error = error_label("appointment")

        title = QHBoxLayout()
        title.addWidget(section_title(self.tr("Arrival window")))
        title.addStretch()
        title.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.later_row)
        layout.addWidget(self.error)

        self.list.installEventFilter(self)
        self.later_date.installEventFilter(self)
        self.list.itemDoubleClicked.connect(self._activated)

    # -- what is wanted -------------------------------------------------------------------
    def reset(self) -> None:
        self.searches.forget()
        self.windows = []
        self.search = None
        self.looking_from = None
        self._for = (None, None, None)
        self.later_row.hide()
        self._show(note=self.tr("Choose the caller and the job to see windows"))

    def want(
        self, job_type_id: int | None, site_id: int | None, place: tuple[float, float] | None
    ) -> None:
        """Look for windows for this job at this site (or place); None: nothing yet."""
        self._for = (job_type_id, site_id, place)
        if job_type_id is None or (site_id is None and place is None):
            self.searches.forget()
            self.windows = []
            self.search = None
            self._show(note=self.tr("Choose the caller and the job to see windows"))
            return
        self._show(note=self.tr("Finding windows…"))
        from_day = self.looking_from or self.first_day
        self.searches.ask(WindowsWanted(job_type_id, site_id, place, from_day))

    async def _find(self, wanted: WindowsWanted) -> WindowSearch:
        return await self.workspace.read(
            find_windows,
            job_type_id=wanted.job_type_id,
            site_id=wanted.site_id,
            place=wanted.place,
            from_day=wanted.from_day,
            clock=self.clock,
        )

    def _failed(self, _wanted: WindowsWanted, error: UserFacingError) -> None:
        log.warning("arrival windows failed: %s", error)
        self.windows = []
        self.search = None
        self._show(note=self.tr("No windows: the database did not answer. Book for dispatch."))

    def _show_search(self, search: WindowSearch) -> None:
        self.search = search
        self.windows = list(search.windows[:MAX_WINDOWS_OFFERED])
        days = day_span(search.first_day, search.last_day)
        if search.windows:
            note = self.tr("{0} windows, {1}").format(len(self.windows), days)
        else:
            note = self.tr("Nobody with these skills is free {0}: Alt+L for a later date").format(
                days
            )
        self._show(note=note)

    def _show(self, *, note: str) -> None:
        chosen = self.chosen()
        self.list.clear()
        names = self.technician_names
        trucks = self.search.trucks if self.search is not None else {}
        for number, window in enumerate(self.windows, start=1):
            start, end = window.span.start, window.span.end
            who = names.get(window.technician_ids[0], "")
            others = len(window.technician_ids) - 1
            crew = who + (f"  (+{others})" if others else "")
            text = f"Alt+{number}    {start:%a %d %b}    {start:%H:%M}–{end:%H:%M}    {crew}"
            truck = trucks.get(window.technician_ids[0])
            if truck is not None:
                text += f"    · {truck.note}"
            item = QListWidgetItem(text)
            item.setData(WINDOW_ROLE, window)
            if truck is not None:
                item.setData(TRUCK_ROLE, truck)
                if truck.short:
                    item.setForeground(theme.PARTS_SHORT)
                    item.setToolTip("\n".join([truck.sentence, *truck.details()]))
            self.list.addItem(item)
        if self.search is not None:
            later = QListWidgetItem(self.tr("Alt+L    Later…  look from another date"))
            later.setData(WINDOW_ROLE, LATER)
            self.list.addItem(later)
        dispatch = QListWidgetItem(self.tr("Alt+0    Leave unscheduled — dispatch will book it"))
        dispatch.setData(WINDOW_ROLE, None)
        self.list.addItem(dispatch)
        row = self.windows.index(chosen) if chosen in self.windows else self.list.count() - 1
        self.list.setCurrentRow(row)
        self.note.setText(note)

    # -- choosing -------------------------------------------------------------------------
    def chosen(self) -> ArrivalWindow | None:
        item = self.list.currentItem()
        window = item.data(WINDOW_ROLE) if item is not None else None
        return window if isinstance(window, ArrivalWindow) else None

    def choose(self, number: int) -> None:
        """The Nth window offered (0: leave it for dispatch)."""
        if number == 0:
            self.list.setCurrentRow(self.list.count() - 1)  # the last row
        elif number <= len(self.windows):
            self.list.setCurrentRow(number - 1)
        else:
            return
        self.error.hide()
        self.list.setFocus()

    def choose_later_date(self) -> None:
        """Alt+L: the date chooser, starting the day after the last one searched."""
        if self.search is None:
            return
        # A date before today is looked at from today (the service never offers the past).
        start = self.search.last_day + dt.timedelta(days=1)
        self.later_date.setDate(QDate(start.year, start.month, start.day))
        self.later_row.show()
        self.later_date.setFocus()

    def look_from(self, day: dt.date) -> None:
        """Windows from ``day`` on (Enter in the date chooser)."""
        self.looking_from = day
        self.want(*self._for)
        self.list.setFocus()

    def _activated(self, item: QListWidgetItem) -> None:
        """A double-click (or Enter) on a row: book it, or, on Later…, choose the date."""
        if item.data(WINDOW_ROLE) == LATER:
            self.choose_later_date()
        else:
            self.bookRequested.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if watched is self.list and enter:
                item = self.list.currentItem()
                if item is not None:
                    self._activated(item)
                return True
            if watched is self.later_date and enter:
                chosen = self.later_date.date()
                self.look_from(dt.date(chosen.year(), chosen.month(), chosen.day()))
                return True
            if watched is self.later_date and key == Qt.Key.Key_Escape:
                self.later_row.hide()
                self.list.setFocus()
                return True
            if watched is self.list and Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
                self.choose(key - Qt.Key.Key_0)
                return True
        return super().eventFilter(watched, event)


def day_span(first: dt.date, last: dt.date) -> str:
    """'Mon 7 – Tue 8 Dec', 'Mon 30 Nov – Tue 1 Dec', or one day: 'Mon 7 Dec'."""
    if first == last:
        return f"{first:%a} {first.day} {first:%b}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%a} {first.day} – {last:%a} {last.day} {last:%b}"
    return f"{first:%a} {first.day} {first:%b} – {last:%a} {last.day} {last:%b}"
