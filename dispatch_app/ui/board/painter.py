"""Painting the board: lanes, visit blocks, drive gaps, the gutter, the header, ghosts.

The view decides what is where (rows, grid, drag state); this object only draws, so a
new look is a change here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen

from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.vocabulary import Priority, VisitStatus
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.ui import theme
from dispatch_app.ui.board.grid import TimeGrid
from dispatch_app.ui.board.rows import HEADER_HEIGHT, ROW_HEIGHT

GUTTER_WIDTH = 250
EDGE_GRIP = 6  # pixels at each end of a block that resize it instead of moving it

# A visit still waiting for its technician this long after its window closed is late.
LATE_GRACE = dt.timedelta(minutes=15)
WAITING_STATUSES = frozenset({VisitStatus.SCHEDULED.value, VisitStatus.DISPATCHED.value})
FINISHED = frozenset(
    {VisitStatus.COMPLETED.value, VisitStatus.CANCELLED.value, VisitStatus.NO_SHOW.value}
)

OK_COLOUR = QColor("#2e9d57")
ASK_COLOUR = QColor("#d9960b")
REFUSE_COLOUR = QColor("#c0504d")
DIMMED = QColor(241, 243, 245, 170)
HIGHLIGHT = QColor(46, 157, 87, 28)
DRIVE = QColor("#8a94a0")
DRIVE_SHORT = QColor("#c0504d")
FADED = QColor(255, 255, 255, 165)


def is_late(visit: VisitBlock, now: dt.datetime) -> bool:
    if visit.status not in WAITING_STATUSES:
        return False
    due = visit.arrival_window.end if visit.arrival_window else visit.starts
    return now > due + LATE_GRACE


@dataclass(frozen=True, slots=True)
class Ghost:
    """Where a dragged visit would land, and what the rules say about it there."""

    visit: VisitBlock
    technician_id: int
    starts: dt.datetime
    ends: dt.datetime
    verdict: str  # "ok", "ask" or "refuse"


@dataclass(slots=True)
class PaintState:
    """What the view wants drawn besides the stored data."""

    now: dt.datetime
    selected: frozenset[int] = frozenset()
    lifted: frozenset[int] = frozenset()  # visits being dragged: drawn faint in place
    ghosts: tuple[Ghost, ...] = ()
    ghost_message: str = ""
    fitting_rows: frozenset[int] | None = None  # while dragging: rows that can take it
    target_row: int | None = None
    matches: frozenset[int] | None = None  # visits a search matched (None: no search)
    saving: frozenset[int] = field(default_factory=frozenset)  # written, not yet confirmed
    drive: DriveEstimate = field(default_factory=DriveEstimate)


class BoardPainter:
    def __init__(self, base: QFont) -> None:
        self.font = QFont(base)
        self.bold = QFont(base)
        self.bold.setBold(True)
        self.small = QFont(base)
        self.small.setPointSizeF(max(7.0, base.pointSizeF() - 1.5))
        self.tiny = QFont(base)
        self.tiny.setPointSizeF(max(6.5, base.pointSizeF() - 2.5))
        self.bold_metrics = QFontMetrics(self.bold)
        self.small_metrics = QFontMetrics(self.small)
        self.tiny_metrics = QFontMetrics(self.tiny)

    # -- header -------------------------------------------------------------------------
    def header(self, painter: QPainter, grid: TimeGrid, width: int, title: str) -> None:
        painter.fillRect(QRectF(0, 0, width, HEADER_HEIGHT), theme.HEADER_BG)
        painter.setPen(theme.GRID)
        painter.drawLine(QPointF(0, HEADER_HEIGHT - 0.5), QPointF(width, HEADER_HEIGHT - 0.5))
        painter.setFont(self.bold)
        painter.setPen(theme.TEXT)
        painter.drawText(
            QRectF(12, 0, GUTTER_WIDTH - 12, HEADER_HEIGHT), Qt.AlignmentFlag.AlignVCenter, title
        )
        painter.save()
        painter.setClipRect(QRectF(GUTTER_WIDTH, 0, width - GUTTER_WIDTH, HEADER_HEIGHT))
        several = len(grid.pieces) > 1
        if several:
            painter.setFont(self.small)
            for piece in grid.pieces:
                x = grid.left + piece.x
                painter.setPen(theme.TEXT)
                painter.drawText(
                    QRectF(x + 4, 1, piece.hours * grid.hour_width - 4, 18),
                    Qt.AlignmentFlag.AlignVCenter,
                    piece.day.strftime("%a %d %b"),
                )
        every = 1 if grid.hour_width >= 45 else 2 if grid.hour_width >= 24 else 4
        painter.setFont(self.tiny if several else self.small)
        painter.setPen(theme.MUTED_TEXT)
        top = 18 if several else 0
        for moment, x in grid.hour_marks(every):
            painter.drawText(
                QRectF(x + 3, top, grid.hour_width * every, HEADER_HEIGHT - top),
                Qt.AlignmentFlag.AlignVCenter,
                moment.strftime("%H:%M" if grid.hour_width >= 45 else "%H"),
            )
        painter.restore()

    # -- a technician's lane ------------------------------------------------------------
    def lane_background(
        self, painter: QPainter, grid: TimeGrid, row: TechnicianRow, top: int, state: PaintState
    ) -> None:
        band = QRectF(grid.left, top, grid.right - grid.left, ROW_HEIGHT)
        painter.fillRect(band, theme.OFF_SHIFT)
        for shift in row.shifts or ((row.shift,) if row.shift else ()):
            x0 = max(grid.left, grid.x_of(shift.start))
            x1 = min(grid.right, grid.x_of(shift.end))
            if x1 > x0:
                painter.fillRect(QRectF(x0, top, x1 - x0, ROW_HEIGHT), theme.ON_SHIFT)
        if state.fitting_rows is not None and row.id in state.fitting_rows:
            painter.fillRect(band, HIGHLIGHT)
        painter.setPen(QPen(theme.GRID, 1))
        every = 1 if grid.hour_width >= 24 else 4
        for _moment, x in grid.hour_marks(every):
            line_x = round(x) + 0.5
            painter.drawLine(QPointF(line_x, top), QPointF(line_x, top + ROW_HEIGHT))
        painter.drawLine(
            QPointF(grid.left, top + ROW_HEIGHT - 0.5), QPointF(grid.right, top + ROW_HEIGHT - 0.5)
        )
        for piece in grid.pieces[1:]:  # the night between two days
            x = grid.left + piece.x
            painter.fillRect(QRectF(x - 8, top, 8, ROW_HEIGHT), theme.GRID)

    def lane_overlay(
        self, painter: QPainter, grid: TimeGrid, row: TechnicianRow, top: int, state: PaintState
    ) -> None:
        """Dim a row that cannot take the dragged visit; frame the row under the cursor."""
        band = QRectF(grid.left, top, grid.right - grid.left, ROW_HEIGHT)
        if state.fitting_rows is not None and row.id not in state.fitting_rows:
            painter.fillRect(band, DIMMED)
        if state.target_row == row.id:
            painter.setPen(QPen(theme.SELECTION, 1.5, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(band.adjusted(1, 1, -1, -2))

    def drive_gaps(
        self,
        painter: QPainter,
        grid: TimeGrid,
        visits: list[VisitBlock],
        top: int,
        drive: DriveEstimate,
    ) -> None:
        """Before each visit, the drive from the one before it: grey, red when it cannot fit."""
        y = top + ROW_HEIGHT - 8
        previous: VisitBlock | None = None
        for visit in visits:
            if visit.status in (VisitStatus.CANCELLED.value, VisitStatus.NO_SHOW.value):
                continue
            if (
                previous is not None
                and previous.lat is not None
                and previous.lon is not None
                and visit.lat is not None
                and visit.lon is not None
                and previous.ends <= visit.starts
            ):
                minutes = drive.minutes((previous.lat, previous.lon), (visit.lat, visit.lon))
                gap = (visit.starts.timestamp() - previous.ends.timestamp()) / 60
                x1 = grid.x_of(visit.starts)
                x0 = x1 - minutes / 60 * grid.hour_width
                short = minutes > gap + 0.5
                colour = DRIVE_SHORT if short else DRIVE
                painter.setPen(QPen(colour, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
                painter.drawLine(QPointF(x0, y), QPointF(x1 - 2, y))
                painter.drawLine(QPointF(x0, y - 3), QPointF(x0, y + 3))
                label = f"{math.ceil(minutes)} min"
                width = self.tiny_metrics.horizontalAdvance(label) + 4
                free = grid.x_of(visit.starts) - grid.x_of(previous.ends)
                if free >= width + 6:
                    painter.setFont(self.tiny)
                    painter.setPen(colour)
                    painter.drawText(
                        QRectF(x1 - width - 3, y - 13, width, 12),
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                        label,
                    )
            if previous is None or visit.ends > previous.ends:
                previous = visit

    def visit(
        self,
        painter: QPainter,
        grid: TimeGrid,
        visit: VisitBlock,
        top: int,
        state: PaintState,
        *,
        starts: dt.datetime | None = None,
        ends: dt.datetime | None = None,
    ) -> None:
        x0 = max(grid.left, grid.x_of(starts or visit.starts))
        x1 = min(grid.right, grid.x_of(ends or visit.ends))
        if x1 - x0 < 1:
            return
        block = QRectF(x0 + 1.5, top + 4, max(2.0, x1 - x0 - 3), ROW_HEIGHT - 14)
        emergency = visit.priority == Priority.EMERGENCY
        late = is_late(visit, state.now)
        edge = (
            theme.PRIORITY_COLOUR[Priority.EMERGENCY]
            if emergency or late
            else theme.status_edge(visit.status)
        )
        selected = visit.id in state.selected
        painter.setBrush(QBrush(theme.status_fill(visit.status)))
        pen = QPen(theme.SELECTION if selected else edge, 2.5 if selected or emergency else 1)
        if visit.id in state.saving:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(block, 4, 4)
        painter.fillRect(QRectF(block.left(), block.top() + 2, 4, block.height() - 4), edge)
        if visit.status in FINISHED:  # done work steps back
            painter.fillRect(block, FADED)

        inner = block.adjusted(8, 2, -4, -2)
        if inner.width() >= 14:
            self._visit_text(painter, visit, inner, emergency, late)
        if visit.id in state.lifted or (
            state.matches is not None and visit.id not in state.matches
        ):
            painter.fillRect(block.adjusted(-1, -1, 1, 1), FADED)

    def _visit_text(
        self, painter: QPainter, visit: VisitBlock, inner: QRectF, emergency: bool, late: bool
    ) -> None:
        painter.save()
        painter.setClipRect(inner)
        width = int(inner.width())
        badge = "EMERGENCY " if emergency else ""
        if late:
            badge += "LATE "
        if badge:
            painter.setFont(self.tiny)
            badge_width = self.tiny_metrics.horizontalAdvance(badge) + 6
            if badge_width < width - 30:
                painter.fillRect(
                    QRectF(inner.right() - badge_width, inner.top() + 1, badge_width, 13),
                    theme.PRIORITY_COLOUR[Priority.EMERGENCY],
                )
                painter.setPen(Qt.GlobalColor.white)
                painter.drawText(
                    QRectF(inner.right() - badge_width, inner.top() + 1, badge_width, 13),
                    Qt.AlignmentFlag.AlignCenter,
                    badge.strip(),
                )
                width -= badge_width + 2
        painter.setPen(theme.TEXT)
        painter.setFont(self.bold)
        painter.drawText(
            QRectF(inner.left(), inner.top(), width, 16),
            Qt.AlignmentFlag.AlignVCenter,
            self.bold_metrics.elidedText(visit.job_type, Qt.TextElideMode.ElideRight, width),
        )
        width = int(inner.width())
        painter.setFont(self.small)
        painter.setPen(theme.MUTED_TEXT)
        painter.drawText(
            QRectF(inner.left(), inner.top() + 15, width, 14),
            Qt.AlignmentFlag.AlignVCenter,
            self.small_metrics.elidedText(
                f"{visit.customer} · {visit.city}", Qt.TextElideMode.ElideRight, width
            ),
        )
        window = visit.arrival_window
        tz = visit.starts.tzinfo
        when = (
            f"arrive {window.start.astimezone(tz):%H:%M}–{window.end.astimezone(tz):%H:%M}"
            if window
            else f"{visit.starts:%H:%M}–{visit.ends:%H:%M}"
        )
        painter.drawText(
            QRectF(inner.left(), inner.top() + 28, width, 14),
            Qt.AlignmentFlag.AlignVCenter,
            self.small_metrics.elidedText(
                f"{visit.number} · {when}", Qt.TextElideMode.ElideRight, width
            ),
        )
        painter.restore()

    def ghost(self, painter: QPainter, grid: TimeGrid, ghost: Ghost, top: int) -> None:
        x0 = grid.x_of(ghost.starts)
        x1 = grid.x_of(ghost.ends)
        block = QRectF(x0 + 1.5, top + 4, max(4.0, x1 - x0 - 3), ROW_HEIGHT - 14)
        colour = {"ok": OK_COLOUR, "ask": ASK_COLOUR}.get(ghost.verdict, REFUSE_COLOUR)
        fill = QColor(colour)
        fill.setAlpha(40)
        painter.setBrush(fill)
        painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(block, 4, 4)
        painter.setFont(self.bold)
        painter.setPen(theme.TEXT)
        inner = block.adjusted(8, 2, -4, -2)
        label = f"{ghost.starts:%H:%M}–{ghost.ends:%H:%M}  {ghost.visit.job_type}"
        painter.drawText(
            inner,
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
            self.bold_metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(inner.width())),
        )

    def ghost_message(
        self, painter: QPainter, anchor: QPointF, message: str, verdict: str, limit: float
    ) -> None:
        """The rules' verdict next to the dragged block, so the eye need not leave it."""
        if not message:
            return
        colour = {"ok": OK_COLOUR, "ask": ASK_COLOUR}.get(verdict, REFUSE_COLOUR)
        painter.setFont(self.small)
        lines = message.split("\n")
        width = min(420, max(self.small_metrics.horizontalAdvance(line) for line in lines) + 16)
        height = 16 * len(lines) + 8
        x = min(anchor.x(), limit - width - 4)
        box = QRectF(max(GUTTER_WIDTH + 2, x), anchor.y(), width, height)
        painter.setPen(QPen(colour, 1))
        painter.setBrush(QColor(255, 255, 255, 240))
        painter.drawRoundedRect(box, 4, 4)
        painter.fillRect(QRectF(box.left(), box.top(), 4, box.height()), colour)
        painter.setPen(theme.TEXT)
        for index, line in enumerate(lines):
            painter.drawText(
                QRectF(box.left() + 10, box.top() + 4 + 16 * index, width - 14, 16),
                Qt.AlignmentFlag.AlignVCenter,
                self.small_metrics.elidedText(line, Qt.TextElideMode.ElideRight, int(width - 14)),
            )

    def now_line(self, painter: QPainter, grid: TimeGrid, now: dt.datetime, height: int) -> None:
        if grid.piece_of(now) is None:
            return
        x = grid.x_of(now)
        painter.setPen(QPen(theme.NOW_LINE, 2))
        painter.drawLine(QPointF(x, HEADER_HEIGHT), QPointF(x, height))
        painter.setBrush(theme.NOW_LINE)
        painter.drawEllipse(QPointF(x, HEADER_HEIGHT), 4, 4)

    # -- the technician's name column ---------------------------------------------------
    def gutter(
        self,
        painter: QPainter,
        row: TechnicianRow,
        top: int,
        visits: list[VisitBlock],
        now: dt.datetime,
        grid: TimeGrid,
    ) -> None:
        painter.fillRect(QRectF(0, top, GUTTER_WIDTH, ROW_HEIGHT - 1), theme.HEADER_BG)
        painter.setPen(QPen(theme.GRID, 1))
        painter.drawLine(
            QPointF(0, top + ROW_HEIGHT - 0.5), QPointF(GUTTER_WIDTH, top + ROW_HEIGHT - 0.5)
        )
        painter.drawLine(
            QPointF(GUTTER_WIDTH - 0.5, top), QPointF(GUTTER_WIDTH - 0.5, top + ROW_HEIGHT)
        )
        painter.fillRect(QRectF(0, top + 6, 5, ROW_HEIGHT - 13), QColor(row.colour))

        status, colour = technician_status(
            row,
            visits,
            now,
            showing_now=grid.pieces[0].start.date() <= now.date() <= grid.pieces[-1].day,
            grid_start=dt.datetime.combine(
                grid.pieces[0].day, dt.time(0), grid.origin.tzinfo
            ).timestamp(),
        )
        painter.setPen(theme.TEXT)
        painter.setFont(self.bold)
        name_width = GUTTER_WIDTH - 100
        painter.drawText(
            QRectF(14, top + 4, name_width, 18),
            Qt.AlignmentFlag.AlignVCenter,
            self.bold_metrics.elidedText(row.name, Qt.TextElideMode.ElideRight, name_width),
        )
        # Booked hours against the shift hours on the days shown, as text and a filling bar.
        shifts = row.shifts or ((row.shift,) if row.shift else ())
        first = dt.datetime.combine(grid.pieces[0].day, dt.time(0), grid.origin.tzinfo)
        last = first + dt.timedelta(days=len(grid.pieces))  # whole days; DST is noise here
        capacity = (
            sum(
                max(
                    0.0,
                    min(s.end.timestamp(), last.timestamp())
                    - max(s.start.timestamp(), first.timestamp()),
                )
                for s in shifts
            )
            / 3600
        )
        booked = (
            sum(
                (v.ends.timestamp() - v.starts.timestamp())
                for v in visits
                if v.status not in (VisitStatus.CANCELLED.value, VisitStatus.NO_SHOW.value)
            )
            / 3600
        )
        painter.setFont(self.small)
        painter.setPen(theme.MUTED_TEXT)
        hours = f"{booked:.1f} / {capacity:.0f} h" if capacity else "off"
        painter.drawText(
            QRectF(GUTTER_WIDTH - 90, top + 4, 80, 18),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            hours,
        )
        if capacity:
            bar = QRectF(GUTTER_WIDTH - 90, top + 23, 80, 3)
            painter.fillRect(bar, theme.GRID)
            share = min(1.0, booked / capacity)
            painter.fillRect(
                QRectF(bar.left(), bar.top(), bar.width() * share, 3),
                REFUSE_COLOUR if booked > capacity else QColor(row.colour),
            )
        # Status dot and word.
        painter.setBrush(colour)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(18, top + 30), 3.5, 3.5)
        painter.setPen(theme.MUTED_TEXT)
        painter.setFont(self.small)
        painter.drawText(
            QRectF(26, top + 22, GUTTER_WIDTH - 120, 16), Qt.AlignmentFlag.AlignVCenter, status
        )
        # Skill badges.
        x = 14.0
        painter.setFont(self.tiny)
        for code in (row.trade.upper(), *row.skills):
            width = self.tiny_metrics.horizontalAdvance(code) + 8
            if x + width > GUTTER_WIDTH - 8:
                painter.setPen(theme.MUTED_TEXT)
                painter.drawText(QRectF(x, top + 41, 20, 14), Qt.AlignmentFlag.AlignVCenter, "…")
                break
            badge = QRectF(x, top + 41, width, 14)
            is_trade = code == row.trade.upper()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(row.colour) if is_trade else QColor("#e8ecf1"))
            painter.drawRoundedRect(badge, 3, 3)
            painter.setPen(Qt.GlobalColor.white if is_trade else theme.TEXT)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, code)
            x += width + 3


def technician_status(
    row: TechnicianRow,
    visits: list[VisitBlock],
    now: dt.datetime,
    *,
    showing_now: bool = True,
    grid_start: float = 0.0,
) -> tuple[str, QColor]:
    """What the technician is doing now, in a word, from their visits and shift."""
    for visit in visits:
        if visit.status == VisitStatus.ON_SITE.value:
            return f"On site · {visit.number}", theme.status_edge(visit.status)
    for visit in visits:
        if visit.status == VisitStatus.EN_ROUTE.value:
            return f"En route · {visit.number}", theme.status_edge(visit.status)
    shifts = row.shifts or ((row.shift,) if row.shift else ())
    stamp = now.timestamp()
    if not showing_now:  # another day: what matters is when they work
        own = [s for s in shifts if s.start.timestamp() >= grid_start]
        if not own:
            return "Off", theme.MUTED_TEXT
        first = own[0]
        tz = first.start.tzinfo
        return f"Shift {first.start:%H:%M}–{first.end.astimezone(tz):%H:%M}", theme.MUTED_TEXT
    if any(s.start.timestamp() <= stamp < s.end.timestamp() for s in shifts):
        upcoming = [
            v for v in visits if v.starts.timestamp() > stamp and v.status in WAITING_STATUSES
        ]
        if upcoming:
            return f"Available · next {upcoming[0].starts:%H:%M}", OK_COLOUR
        return "Available", OK_COLOUR
    if not shifts:
        return "Off today", theme.MUTED_TEXT
    return "Off shift", theme.MUTED_TEXT
