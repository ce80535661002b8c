"""Today's board for the wall: one row per technician, visits as blocks, in big type.

A painter of the day store and nothing else: no selection, no drag, no menu, no
keyboard — the dispatcher's board (``ui/board``) carries editing, so none of it is used
here. Rows share the screen's height; when they do not all fit at a readable height,
the board shows a page of them and ``next_page`` (the window's timer) moves on, with
"Page 2 of 3" in the corner. The hours shown run from the day's first shift or visit to
its last, so the blocks are as wide as the screen allows.

Threading contract: GUI thread only; the store calls ``_changed`` on the app's loop.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from dispatch_app.domain.clock import Clock, local_now
from dispatch_app.domain.statuses import (
    VISIT_ENDED_EARLY,
    VISIT_LABELS,
    Activity,
    clock_text,
    technician_status,
)
from dispatch_app.domain.vocabulary import Priority, VisitStatus
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.services.day_store import DayStore, StoreChange
from dispatch_app.services.wall import is_running_late
from dispatch_app.ui import theme as board_theme
from dispatch_app.ui.wall import theme

MIN_ROW_HEIGHT = 108  # three lines of a block: its title and two of details
MAX_ROW_HEIGHT = 180  # a few technicians do not make giant rows
HOURS_HEIGHT = 44
NAME_SHARE = 0.21  # of the board's width, between the limits below
NAME_WIDTH = (280, 380)
SHORTEST_DAY_H = 8  # hours the timeline shows at least
BLOCK_GAP = 5  # between a row's edge and its blocks
TEXT_INSET = 10
STRIP = 10  # the technician's colour beside the name; a block's status edge

ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
ALIGN_CENTRE = Qt.AlignmentFlag.AlignCenter
ELIDE = Qt.TextElideMode.ElideRight

ACTIVITY_COLOUR = {
    Activity.ON_SITE: theme.LIVE,
    Activity.EN_ROUTE: theme.WARNING,
}


@dataclass(frozen=True, slots=True)
class Paging:
    """How many technicians a page holds, how many pages, and each row's height."""

    rows_per_page: int
    pages: int
    row_height: float


def paging(rows: int, height: float) -> Paging:
    """Rows fitted to ``height``: all of them when each can be at least
    ``MIN_ROW_HEIGHT`` high, else pages of as many as fit."""
    room = max(0.0, height - HOURS_HEIGHT)
    fit = max(1, int(room // MIN_ROW_HEIGHT))
    if rows <= fit:
        return Paging(max(rows, 1), 1, min(MAX_ROW_HEIGHT, room / max(rows, 1)))
    return Paging(fit, math.ceil(rows / fit), room / fit)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The hours shown, as instants, and the wall-clock hours marked."""

    starts: dt.datetime
    ends: dt.datetime
    marks: tuple[dt.datetime, ...]

    def share(self, moment: dt.datetime) -> float:
        """Where ``moment`` falls, 0 at the start and 1 at the end (beyond: outside)."""
        first, last = self.starts.timestamp(), self.ends.timestamp()
        return (moment.timestamp() - first) / (last - first)


def timeline(
    day: dt.date,
    zone: dt.tzinfo,
    technicians: list[TechnicianRow],
    visits: list[VisitBlock],
) -> Timeline:
    """Whole hours from the first shift or visit of ``day`` to the last (at least
    ``SHORTEST_DAY_H``, within the day); 07:00–18:00 on a day with neither."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    # A night shift carried over from the evening before would stretch the day back to
    # midnight for an hour of it: only the shifts that start today count.
    spans = [(s.start, s.end) for t in technicians for s in t.working if s.start >= midnight]
    spans += [(v.starts, v.ends) for v in visits]
    if spans:
        first = max(midnight, min(start for start, _end in spans)).astimezone(zone)
        last = min(next_midnight, max(end for _start, end in spans)).astimezone(zone)
        first_hour = first.hour
        last_hour = last.hour + (1 if (last.minute or last.second) else 0)
        if last.date() > day:
            last_hour = 24
    else:
        first_hour, last_hour = 7, 18
    if last_hour - first_hour < SHORTEST_DAY_H:  # widened on both sides, within the day
        first_hour = max(0, first_hour - (SHORTEST_DAY_H - (last_hour - first_hour)) // 2)
        last_hour = min(24, first_hour + SHORTEST_DAY_H)
        first_hour = max(0, last_hour - SHORTEST_DAY_H)

    def at(hour: int) -> dt.datetime:
        if hour >= 24:
            return next_midnight
        return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)

    return Timeline(
        at(first_hour), at(last_hour), tuple(at(h) for h in range(first_hour, last_hour + 1))
    )


class WallBoard(QWidget):
    pageChanged = Signal(int, int)  # the page shown (from 1), the number of pages
    painted = Signal()  # a frame with the day on it was painted

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wallBoard")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clock = clock
        self.title_font = theme.font(theme.TITLE_PX, bold=True)
        self.detail_font = theme.font(theme.DETAIL_PX)
        self.badge_font = theme.font(theme.DETAIL_PX, bold=True)
        self.hours_font = theme.font(theme.HOURS_PX, bold=True)
        self._title_metrics = QFontMetrics(self.title_font)
        self._detail_metrics = QFontMetrics(self.detail_font)
        self._store: DayStore | None = None
        self.technicians: list[TechnicianRow] = []  # the rows, in the board's order
        self._lanes: dict[int, list[VisitBlock]] = {}
        self._timeline: Timeline | None = None
        self._day: dt.date | None = None
        self._zone: dt.tzinfo | None = None
        self.page = 0  # from 0

    # -- the data ---------------------------------------------------------------------
    def bind(self, store: DayStore) -> None:
        self._store = store
        store.subscribe(self._changed)
        self._read()

    def _changed(self, _change: StoreChange) -> None:
        self._read()

    def _read(self) -> None:
        """Take the day from the store again: a few thousand visits cost well under a
        frame, and the wall has nothing else to do."""
        store = self._store
        window = store.window if store is not None else None
        if store is None or window is None:
            return
        visits = store.visits()
        lanes: dict[int, list[VisitBlock]] = defaultdict(list)
        for visit in visits:
            for technician in visit.technician_ids:
                lanes[technician].append(visit)
        # Who works today, or has work today; everyone when nobody does.
        rows = [t for t in store.technicians if t.working or lanes.get(t.id)]
        self.technicians = rows or list(store.technicians)
        self._lanes = dict(lanes)
        self._day, self._zone = window.day, window.timezone
        self._timeline = timeline(window.day, window.timezone, self.technicians, visits)
        self._keep_page()
        self.update()

    def visits_of(self, technician_id: int) -> list[VisitBlock]:
        return list(self._lanes.get(technician_id, ()))

    # -- pages ------------------------------------------------------------------------
    @property
    def paging(self) -> Paging:
        return paging(len(self.technicians), self.height())

    @property
    def pages(self) -> int:
        return self.paging.pages

    @property
    def page_marker(self) -> str:
        """The corner's "Page 2 of 3", or "" when every row fits."""
        pages = self.pages
        return self.tr("Page {0} of {1}").format(self.page + 1, pages) if pages > 1 else ""

    def shown_technicians(self) -> list[TechnicianRow]:
        """The technicians on the page shown."""
        per_page = self.paging.rows_per_page
        return self.technicians[self.page * per_page : (self.page + 1) * per_page]

    def next_page(self) -> None:
        """Show the next page of technicians (the first after the last)."""
        pages = self.pages
        self.page = (self.page + 1) % pages if pages > 1 else 0
        self.pageChanged.emit(self.page + 1, pages)
        self.update()

    def _keep_page(self) -> None:
        pages = self.pages
        if self.page >= pages:
            self.page = 0
        self.pageChanged.emit(self.page + 1, pages)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._keep_page()

    # -- painting ---------------------------------------------------------------------
    def name_width(self) -> int:
        low, high = NAME_WIDTH
        return int(min(high, max(low, self.width() * NAME_SHARE)))

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(self.rect(), theme.BACKGROUND)
        timeline = self._timeline
        if timeline is None or self._zone is None:
            self._centred(painter, self.tr("Reading today's board…"))
            painter.end()
            return
        if not self.technicians:
            self._centred(painter, self.tr("No technicians yet."))
            painter.end()
            self.painted.emit()
            return
        now = local_now(self.clock, self._zone)
        layout = self.paging
        names = self.name_width()
        lane_left, lane_right = names, self.width() - 1.0
        self._hours(painter, timeline, lane_left, lane_right)
        top = float(HOURS_HEIGHT)
        for row in self.shown_technicians():
            self._row(painter, row, timeline, top, layout.row_height, names, lane_right, now)
            top += layout.row_height
        share = timeline.share(now)
        if 0.0 <= share <= 1.0:
            x = lane_left + share * (lane_right - lane_left)
            painter.setPen(QPen(theme.NOW_LINE, 3))
            painter.drawLine(QPointF(x, HOURS_HEIGHT - 8), QPointF(x, top))
        painter.end()
        self.painted.emit()

    def _centred(self, painter: QPainter, text: str) -> None:
        painter.setFont(self.title_font)
        painter.setPen(theme.MUTED)
        painter.drawText(QRectF(self.rect()), ALIGN_CENTRE, text)

    def _hours(self, painter: QPainter, timeline: Timeline, left: float, right: float) -> None:
        painter.setFont(self.hours_font)
        painter.setPen(theme.TEXT)
        marker = self.page_marker
        if marker:
            painter.drawText(QRectF(12, 0, left - 24, HOURS_HEIGHT), ALIGN_LEFT, marker)
        width = right - left
        hour_width = width / max(1, len(timeline.marks) - 1)
        every = 1 if hour_width >= 80 else 2
        painter.setPen(theme.MUTED)
        label_width = QFontMetrics(self.hours_font).horizontalAdvance("00:00") + 6
        for index, mark in enumerate(timeline.marks[:-1]):
            x = left + timeline.share(mark) * width
            if index % every or x + label_width > right:
                continue
            painter.drawText(
                QRectF(x + 6, 0, hour_width * every, HOURS_HEIGHT), ALIGN_LEFT, clock_text(mark)
            )

    def _row(
        self,
        painter: QPainter,
        row: TechnicianRow,
        timeline: Timeline,
        top: float,
        height: float,
        names: float,
        right: float,
        now: dt.datetime,
    ) -> None:
        width = right - names
        painter.fillRect(QRectF(names, top, width, height), theme.OFF_SHIFT)
        for shift in row.working:
            start = max(0.0, min(1.0, timeline.share(shift.start)))
            end = max(0.0, min(1.0, timeline.share(shift.end)))
            if end > start:
                painter.fillRect(
                    QRectF(names + start * width, top, (end - start) * width, height),
                    theme.ON_SHIFT,
                )
        painter.setPen(QPen(theme.GRID, 1))
        for mark in timeline.marks[1:-1]:
            x = names + timeline.share(mark) * width
            painter.drawLine(QPointF(x, top), QPointF(x, top + height))
        painter.drawLine(QPointF(0, top + height - 0.5), QPointF(right, top + height - 0.5))
        visits = self._lanes.get(row.id, [])
        self._name(painter, row, visits, top, height, names, now)
        painter.save()
        painter.setClipRect(QRectF(names, top, width + 1, height))
        for visit in visits:
            self._block(painter, visit, timeline, top, height, names, width, now)
        painter.restore()

    def _name(
        self,
        painter: QPainter,
        row: TechnicianRow,
        visits: list[VisitBlock],
        top: float,
        height: float,
        names: float,
        now: dt.datetime,
    ) -> None:
        painter.fillRect(QRectF(0, top, names, height - 1), theme.PANEL)
        painter.fillRect(QRectF(0, top, STRIP, height - 1), QColor(row.colour))
        status = technician_status(
            row.working, visits, now, first_day=self._day, last_day=self._day
        )
        inner = names - STRIP - 2 * TEXT_INSET
        left = STRIP + TEXT_INSET
        title_h = self._title_metrics.height()
        detail_h = self._detail_metrics.height()
        y = top + max(4.0, (height - title_h - detail_h) / 2)
        painter.setFont(self.title_font)
        painter.setPen(theme.TEXT)
        painter.drawText(
            QRectF(left, y, inner, title_h),
            ALIGN_LEFT,
            self._title_metrics.elidedText(row.name, ELIDE, int(inner)),
        )
        painter.setFont(self.detail_font)
        painter.setPen(ACTIVITY_COLOUR.get(status.activity, theme.MUTED))
        painter.drawText(
            QRectF(left, y + title_h, inner, detail_h),
            ALIGN_LEFT,
            self._detail_metrics.elidedText(status.text, ELIDE, int(inner)),
        )

    def _block(
        self,
        painter: QPainter,
        visit: VisitBlock,
        timeline: Timeline,
        top: float,
        height: float,
        left: float,
        width: float,
        now: dt.datetime,
    ) -> None:
        start = max(-0.01, timeline.share(visit.starts))
        end = min(1.01, timeline.share(visit.ends))
        if end <= 0 or start >= 1:
            return
        box = QRectF(
            left + start * width + 2,
            top + BLOCK_GAP,
            max(6.0, (end - start) * width - 4),
            height - 2 * BLOCK_GAP,
        )
        status = visit.status
        if status == VisitStatus.COMPLETED:
            fill, ink = theme.COMPLETED_FILL, theme.COMPLETED_TEXT
        elif status in VISIT_ENDED_EARLY:
            fill, ink = theme.ENDED_EARLY_FILL, theme.ENDED_EARLY_TEXT
        else:
            fill, ink = board_theme.status_fill(status), theme.DARK_TEXT
        late = is_running_late(visit, now)
        emergency = visit.priority == Priority.EMERGENCY
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(box, 6, 6)
        painter.setBrush(
            board_theme.PRIORITY_COLOUR[Priority.EMERGENCY]
            if emergency
            else board_theme.status_edge(status)
        )
        painter.drawRoundedRect(QRectF(box.left(), box.top(), STRIP, box.height()), 4, 4)
        if late:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(theme.LATE, 4))
            painter.drawRoundedRect(box.adjusted(2, 2, -2, -2), 6, 6)
        inner = box.adjusted(STRIP + TEXT_INSET - 2, 4, -TEXT_INSET, -4)
        if inner.width() < 40:
            return
        badge = ""
        if late:
            badge = self.tr("LATE")
        elif status in VISIT_ENDED_EARLY:
            badge = VISIT_LABELS[status].upper()
        lines = [
            (self.title_font, self._title_metrics, visit.job_type),
            (self.detail_font, self._detail_metrics, f"{visit.customer} · {visit.city}"),
            (self.detail_font, self._detail_metrics, f"{visit.number} · {_when(visit)}"),
        ]
        y = inner.top()
        for index, (font, metrics, text) in enumerate(lines):
            line_h = metrics.height()
            if y + line_h > inner.bottom() + 2:
                break
            room = inner.width()
            if index == 0 and badge:
                room -= self._badge(painter, badge, inner, late) + 8
            painter.setFont(font)
            painter.setPen(ink)
            painter.drawText(
                QRectF(inner.left(), y, max(0.0, room), line_h),
                ALIGN_LEFT,
                metrics.elidedText(text, ELIDE, int(max(0.0, room))),
            )
            y += line_h

    def _badge(self, painter: QPainter, word: str, inner: QRectF, late: bool) -> float:
        """A word in a box at the block's top right; its width."""
        metrics = QFontMetrics(self.badge_font)
        width = metrics.horizontalAdvance(word) + 12
        if width > inner.width() / 2:
            return 0.0
        box = QRectF(inner.right() - width, inner.top(), width, metrics.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.LATE if late else theme.ENDED_EARLY_TEXT)
        painter.drawRoundedRect(box, 4, 4)
        painter.setFont(self.badge_font)
        painter.setPen(theme.TEXT if late else theme.DARK_TEXT)
        painter.drawText(box, ALIGN_CENTRE, word)
        return width

    def block_fonts(self) -> tuple[int, ...]:
        """The pixel sizes of the type on a block (the smallest must read at 4 m)."""
        return (self.title_font.pixelSize(), self.detail_font.pixelSize())


def _when(visit: VisitBlock) -> str:
    window = visit.arrival_window
    if window is not None:
        zone = visit.starts.tzinfo
        start, end = window.start.astimezone(zone), window.end.astimezone(zone)
        return f"arrive {clock_text(start)}–{clock_text(end)}"
    return f"{clock_text(visit.starts)}–{clock_text(visit.ends)}"
