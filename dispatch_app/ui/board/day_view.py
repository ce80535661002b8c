"""A day of the board, read-only: one row per technician, visits as blocks in time.

Painting reads the technician and visit models; the ``TimeGrid`` converts times to
pixels. Only the rows in view are painted, so hundreds of technicians cost no more than
a screenful, and a changed visit repaints only the rows it left and entered.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from dispatch_app.domain.vocabulary import Priority, VisitStatus
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.ui import theme
from dispatch_app.ui.board.grid import TimeGrid
from dispatch_app.ui.board.models import TechnicianModel, VisitModel

ROW_HEIGHT = 58
HEADER_HEIGHT = 34
GUTTER_WIDTH = 230
MIN_HOUR_WIDTH = 100
DEFAULT_FIRST_HOUR = 7
DEFAULT_LAST_HOUR = 18


class DayBoardView(QAbstractScrollArea):
    """Emits ``visitSelected(visit_id)`` when a block is clicked (0 clears)."""

    visitSelected = Signal(int)  # visit id, 0 for none
    workOrderRequested = Signal(int)  # work order id: open it (double-click or Enter)
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._day: dt.date | None = None
        self._timezone: ZoneInfo | None = None
        self._technicians: TechnicianModel | None = None
        self._visit_model: VisitModel | None = None
        self._rows: list[TechnicianRow] = []
        self._row_index: dict[int, int] = {}  # technician id → row
        self._visits_by_row: dict[int, list[VisitBlock]] = {}  # technician id → visits
        self._placed: dict[int, VisitBlock] = {}  # visit id → the version indexed above
        self._hours: tuple[int, int] | None = None  # the hours shown, recomputed on change
        self._block_rects: list[tuple[QRectF, int, int]] = []  # rect, visit, row technician
        self._selected = 0
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setAutoFillBackground(False)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._scrolled_to_day: dt.date | None = None
        self._font = QFont(self.font())
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._small = QFont(self._font)
        self._small.setPointSizeF(max(7.0, self._font.pointSizeF() - 1.5))
        self._clock = QTimer(self)
        self._clock.timeout.connect(self.viewport().update)  # keep the now-line moving
        self._clock.start(30_000)

    # -- data -------------------------------------------------------------------------
    def set_models(self, technicians: TechnicianModel, visits: VisitModel) -> None:
        self._technicians, self._visit_model = technicians, visits
        for signal in (
            technicians.rowsInserted,
            technicians.rowsRemoved,
            technicians.rowsMoved,
            technicians.dataChanged,
            technicians.modelReset,
        ):
            signal.connect(self._technicians_changed)
        visits.rowsInserted.connect(self._visits_inserted)
        visits.rowsAboutToBeRemoved.connect(self._visits_removed)
        visits.dataChanged.connect(self._visits_changed)
        visits.modelReset.connect(self._visits_reset)
        self._technicians_changed()
        self._visits_reset()

    def set_day(self, day: dt.date, timezone: ZoneInfo) -> None:
        if (day, timezone) != (self._day, self._timezone):
            self._day, self._timezone = day, timezone
            self._hours = None
            self._update_scrollbar()
            self.viewport().update()

    def day(self) -> dt.date | None:
        return self._day

    def technician_rows(self) -> list[TechnicianRow]:
        return list(self._rows)

    def visits_in_row(self, technician_id: int) -> list[VisitBlock]:
        return list(self._visits_by_row.get(technician_id, []))

    def _technicians_changed(self, *_args: object) -> None:
        assert self._technicians is not None
        self._rows = self._technicians.technicians()
        self._row_index = {tech.id: row for row, tech in enumerate(self._rows)}
        self._hours = None
        self._update_scrollbar()
        self.viewport().update()

    def _visits_reset(self) -> None:
        assert self._visit_model is not None
        self._visits_by_row, self._placed = {}, {}
        for visit in self._visit_model.visits():
            self._place(visit)
        self._hours = None
        self._update_scrollbar()
        if self._selected and self._selected not in self._placed:
            self.select_visit(0)
        self.viewport().update()

    def _visits_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        assert self._visit_model is not None
        for row in range(first, last + 1):
            self._update_rows(self._place(self._visit_model.visit(row)))

    def _visits_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        assert self._visit_model is not None
        for row in range(first, last + 1):
            visit = self._visit_model.visit(row)
            self._update_rows(self._unplace(visit.id))
            if visit.id == self._selected:
                self.select_visit(0)

    def _visits_changed(self, top: QModelIndex, bottom: QModelIndex, *_roles: object) -> None:
        assert self._visit_model is not None
        for row in range(top.row(), bottom.row() + 1):
            visit = self._visit_model.visit(row)
            touched = self._unplace(visit.id) | self._place(visit)
            self._update_rows(touched)
            if visit.id == self._selected:
                self.visitSelected.emit(visit.id)  # the details follow the new state

    def _place(self, visit: VisitBlock) -> set[int]:
        self._placed[visit.id] = visit
        self._forget_hours_if_outside(visit)
        for tech in visit.technician_ids:
            row = self._visits_by_row.setdefault(tech, [])
            row.append(visit)
            row.sort(key=lambda v: (v.starts, v.id))
        return set(visit.technician_ids)

    def _unplace(self, visit_id: int) -> set[int]:
        old = self._placed.pop(visit_id, None)
        if old is None:
            return set()
        for tech in old.technician_ids:
            self._visits_by_row[tech] = [
                v for v in self._visits_by_row.get(tech, []) if v.id != visit_id
            ]
        return set(old.technician_ids)

    def _forget_hours_if_outside(self, visit: VisitBlock) -> None:
        if self._hours is None or self._day is None or self._timezone is None:
            return
        origin = dt.datetime.combine(self._day, dt.time(0), tzinfo=self._timezone)
        first, last = self._hours
        if visit.starts < origin + dt.timedelta(hours=first) or visit.ends > origin + dt.timedelta(
            hours=last
        ):
            self._hours = None
            self._update_scrollbar()
            self.viewport().update()  # the scale changes: everything moves

    def _update_rows(self, technician_ids: set[int]) -> None:
        """Repaint only the rows of these technicians."""
        scroll = self.verticalScrollBar().value()
        width = self.viewport().width()
        for tech in technician_ids:
            row = self._row_index.get(tech)
            if row is not None:
                top = HEADER_HEIGHT + row * ROW_HEIGHT - scroll
                self.viewport().update(QRect(0, top, width, ROW_HEIGHT))

    def select_visit(self, visit_id: int) -> None:
        if visit_id != self._selected:
            self._selected = visit_id
            self.viewport().update()
            self.visitSelected.emit(visit_id)

    # -- geometry ---------------------------------------------------------------------
    def _hour_range(self) -> tuple[int, int]:
        """From an hour before the first shift or visit to an hour after the last one."""
        if self._hours is not None:
            return self._hours
        assert self._day is not None and self._timezone is not None
        day_start = dt.datetime.combine(self._day, dt.time(0), tzinfo=self._timezone)
        spans = [(r.shift.start, r.shift.end) for r in self._rows if r.shift is not None]
        spans += [(v.starts, v.ends) for v in self._placed.values()]
        if not spans:
            self._hours = (DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR)
            return self._hours
        earliest = min(start for start, _ in spans)
        latest = max(end for _, end in spans)
        first = int((earliest - day_start).total_seconds() // 3600) - 1
        last = int(-(-(latest - day_start).total_seconds() // 3600)) + 1
        first, last = max(0, first), min(24, last)
        if last - first < 6:  # a nearly empty day still reads as a day
            last = min(24, first + 6)
        self._hours = (first, last)
        return self._hours

    def grid(self) -> TimeGrid:
        first, last = DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
        if self._day is None or self._timezone is None:
            origin = dt.datetime.combine(dt.date.today(), dt.time(first)).astimezone()
        else:
            first, last = self._hour_range()
            origin = dt.datetime.combine(self._day, dt.time(first), tzinfo=self._timezone)
        hours = last - first
        width = max(1, self.viewport().width() - GUTTER_WIDTH)
        # Fit the day to the window, but never so tight that a short visit is unreadable.
        hour_width = max(MIN_HOUR_WIDTH, width / hours)
        left = GUTTER_WIDTH - self.horizontalScrollBar().value()
        return TimeGrid(origin=origin, hours=hours, left=left, hour_width=hour_width)

    def sizeHint(self) -> QSize:
        return QSize(1200, HEADER_HEIGHT + ROW_HEIGHT * 12)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_scrollbar()

    def _update_scrollbar(self) -> None:
        content = HEADER_HEIGHT + ROW_HEIGHT * len(self._rows)
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, content - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(ROW_HEIGHT // 2)
        if self._day is None:
            return
        first, last = self._hour_range()
        timeline = self.viewport().width() - GUTTER_WIDTH
        sideways = self.horizontalScrollBar()
        sideways.setRange(0, max(0, int((last - first) * MIN_HOUR_WIDTH - timeline)))
        sideways.setPageStep(max(1, timeline))
        sideways.setSingleStep(MIN_HOUR_WIDTH // 4)
        if self._scrolled_to_day != self._day and sideways.maximum() > 0:
            self._scrolled_to_day = self._day
            self._scroll_to_start_of_work(first)

    def _scroll_to_start_of_work(self, first_hour: int) -> None:
        """Open the day where work is: an hour before now today, else the first shift."""
        assert self._day is not None and self._timezone is not None
        now = dt.datetime.now(self._timezone)
        starts = [r.shift.start for r in self._rows if r.shift is not None]
        target = (
            now - dt.timedelta(hours=1)
            if now.date() == self._day
            else (min(starts) - dt.timedelta(minutes=30) if starts else None)
        )
        if target is None:
            return
        origin = dt.datetime.combine(self._day, dt.time(first_hour), tzinfo=self._timezone)
        hours_in = (target - origin).total_seconds() / 3600
        self.horizontalScrollBar().setValue(int(max(0.0, hours_in) * MIN_HOUR_WIDTH))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.viewport().rect()
        painter.fillRect(rect, theme.ON_SHIFT)
        grid = self.grid()
        scroll = self.verticalScrollBar().value()
        self._block_rects = []

        first_row = max(0, scroll // ROW_HEIGHT)
        last_row = min(len(self._rows), (scroll + rect.height()) // ROW_HEIGHT + 1)
        visible = [
            (self._rows[i], HEADER_HEIGHT + i * ROW_HEIGHT - scroll)
            for i in range(first_row, last_row)
        ]
        # The timeline scrolls sideways under the technicians' names, which stay put.
        painter.save()
        painter.setClipRect(QRectF(GUTTER_WIDTH, 0, rect.width() - GUTTER_WIDTH, rect.height()))
        for row, top in visible:
            self._paint_lane(painter, grid, row, top)
        self._paint_now_line(painter, grid, rect.height())
        painter.restore()
        for row, top in visible:
            self._paint_gutter(painter, row, top)
        self._paint_header(painter, grid, rect.width())
        if not self._rows:
            painter.setPen(theme.MUTED_TEXT)
            painter.setFont(self._font)
            message = "Loading the day…" if self._day is None else "No technicians yet."
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, message)
        painter.end()
        self.painted.emit()

    def _paint_header(self, painter: QPainter, grid: TimeGrid, width: int) -> None:
        painter.fillRect(QRectF(0, 0, width, HEADER_HEIGHT), theme.HEADER_BG)
        painter.setPen(theme.GRID)
        painter.drawLine(QPointF(0, HEADER_HEIGHT - 0.5), QPointF(width, HEADER_HEIGHT - 0.5))
        painter.setFont(self._bold)
        painter.setPen(theme.TEXT)
        if self._day is not None:
            title = self._day.strftime("%a %d %b %Y")
            painter.drawText(
                QRectF(12, 0, GUTTER_WIDTH - 12, HEADER_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter,
                title,
            )
        painter.setFont(self._small)
        painter.setPen(theme.MUTED_TEXT)
        painter.save()
        painter.setClipRect(QRectF(GUTTER_WIDTH, 0, width - GUTTER_WIDTH, HEADER_HEIGHT))
        for mark in grid.hour_marks()[:-1]:
            x = grid.x_of(mark)
            painter.drawText(
                QRectF(x + 4, 0, grid.hour_width, HEADER_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter,
                mark.strftime("%H:%M"),
            )
        painter.restore()

    def _paint_lane(self, painter: QPainter, grid: TimeGrid, row: TechnicianRow, top: int) -> None:
        band = QRectF(grid.left, top, grid.right - grid.left, ROW_HEIGHT)
        painter.fillRect(band, theme.OFF_SHIFT)
        if row.shift is not None:
            x0 = max(grid.left, grid.x_of(row.shift.start))
            x1 = min(grid.right, grid.x_of(row.shift.end))
            painter.fillRect(QRectF(x0, top, max(0.0, x1 - x0), ROW_HEIGHT), theme.ON_SHIFT)
        painter.setPen(QPen(theme.GRID, 1))
        for mark in grid.hour_marks():
            x = round(grid.x_of(mark)) + 0.5
            painter.drawLine(QPointF(x, top), QPointF(x, top + ROW_HEIGHT))
        painter.drawLine(
            QPointF(grid.left, top + ROW_HEIGHT - 0.5), QPointF(grid.right, top + ROW_HEIGHT - 0.5)
        )
        for visit in self._visits_by_row.get(row.id, []):
            self._paint_visit(painter, grid, visit, top, row.id)

    def _paint_gutter(self, painter: QPainter, row: TechnicianRow, top: int) -> None:
        painter.fillRect(QRectF(0, top, GUTTER_WIDTH, ROW_HEIGHT - 1), theme.HEADER_BG)
        painter.setPen(QPen(theme.GRID, 1))
        painter.drawLine(
            QPointF(0, top + ROW_HEIGHT - 0.5), QPointF(GUTTER_WIDTH, top + ROW_HEIGHT - 0.5)
        )
        painter.fillRect(QRectF(0, top + 6, 5, ROW_HEIGHT - 13), QColor(row.colour))
        painter.setPen(theme.TEXT)
        painter.setFont(self._bold)
        painter.drawText(
            QRectF(14, top + 5, GUTTER_WIDTH - 20, 20), Qt.AlignmentFlag.AlignVCenter, row.name
        )
        booked = (
            sum(
                (min(v.ends, row.shift.end if row.shift else v.ends) - v.starts).total_seconds()
                for v in self._visits_by_row.get(row.id, [])
                if v.status not in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)
            )
            / 3600
        )
        capacity = row.shift.duration.total_seconds() / 3600 if row.shift else 0.0
        painter.setFont(self._small)
        painter.setPen(theme.MUTED_TEXT)
        hours = f"{booked:.1f} / {capacity:.1f} h" if row.shift else "off today"
        painter.drawText(
            QRectF(14, top + 5, GUTTER_WIDTH - 22, 20),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            hours,
        )
        skills = f"{row.trade.upper()} · " + ", ".join(row.skills)
        metrics = QFontMetrics(self._small)
        painter.drawText(
            QRectF(14, top + 27, GUTTER_WIDTH - 20, 18),
            Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(skills, Qt.TextElideMode.ElideRight, GUTTER_WIDTH - 24),
        )

    def _paint_visit(
        self, painter: QPainter, grid: TimeGrid, visit: VisitBlock, top: int, technician_id: int
    ) -> None:
        x0 = max(grid.left, grid.x_of(visit.starts))
        x1 = min(grid.right, grid.x_of(visit.ends))
        if x1 <= x0:
            return
        block = QRectF(x0 + 1.5, top + 4, x1 - x0 - 3, ROW_HEIGHT - 9)
        self._block_rects.append((block, visit.id, technician_id))
        emergency = visit.priority == Priority.EMERGENCY
        edge = (
            theme.PRIORITY_COLOUR[Priority.EMERGENCY]
            if emergency
            else theme.status_edge(visit.status)
        )
        painter.setBrush(QBrush(theme.status_fill(visit.status)))
        selected = visit.id == self._selected
        painter.setPen(
            QPen(theme.SELECTION if selected else edge, 2.5 if selected or emergency else 1)
        )
        painter.drawRoundedRect(block, 4, 4)
        painter.fillRect(QRectF(block.left(), block.top() + 2, 4, block.height() - 4), edge)

        inner = block.adjusted(8, 2, -4, -2)
        if inner.width() < 14:
            return
        painter.setClipRect(inner)
        painter.setPen(theme.TEXT)
        painter.setFont(self._bold)
        metrics = QFontMetrics(self._bold)
        title = ("⚠ " if emergency else "") + visit.job_type
        painter.drawText(
            QRectF(inner.left(), inner.top(), inner.width(), 17),
            Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(title, Qt.TextElideMode.ElideRight, int(inner.width())),
        )
        painter.setFont(self._small)
        painter.setPen(theme.MUTED_TEXT)
        small = QFontMetrics(self._small)
        line2 = f"{visit.customer} · {visit.city}"
        painter.drawText(
            QRectF(inner.left(), inner.top() + 16, inner.width(), 15),
            Qt.AlignmentFlag.AlignVCenter,
            small.elidedText(line2, Qt.TextElideMode.ElideRight, int(inner.width())),
        )
        window = visit.arrival_window
        when = (
            f"arrive {window.start.astimezone(visit.starts.tzinfo):%H:%M}–"
            f"{window.end.astimezone(visit.starts.tzinfo):%H:%M}"
            if window
            else f"{visit.starts:%H:%M}–{visit.ends:%H:%M}"
        )
        line3 = f"{visit.number} · {when}"
        painter.drawText(
            QRectF(inner.left(), inner.top() + 30, inner.width(), 15),
            Qt.AlignmentFlag.AlignVCenter,
            small.elidedText(line3, Qt.TextElideMode.ElideRight, int(inner.width())),
        )
        painter.setClipping(False)

    def _paint_now_line(self, painter: QPainter, grid: TimeGrid, height: int) -> None:
        if self._timezone is None:
            return
        now = dt.datetime.now(self._timezone)
        if not grid.origin <= now <= grid.end:
            return
        x = grid.x_of(now)
        painter.setPen(QPen(theme.NOW_LINE, 2))
        painter.drawLine(QPointF(x, HEADER_HEIGHT), QPointF(x, height))
        painter.setBrush(theme.NOW_LINE)
        painter.drawEllipse(QPointF(x, HEADER_HEIGHT), 4, 4)

    # -- input ------------------------------------------------------------------------
    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.mousePressEvent(event)
        self._open_selected()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._open_selected()
            return
        super().keyPressEvent(event)

    def _open_selected(self) -> None:
        visit = self._placed.get(self._selected)
        if visit is not None:
            self.workOrderRequested.emit(visit.work_order_id)

    def block_rect(self, visit_id: int, technician_id: int | None = None) -> QRectF | None:
        """Where a visit's block was last painted (in the given technician's row)."""
        rows = {technician_id} if technician_id is not None else None
        for rect, painted_id, row_tech in self._block_rects:
            if painted_id == visit_id and (rows is None or row_tech in rows):
                return rect
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        for rect, visit_id, _tech in reversed(self._block_rects):
            if rect.contains(position):
                self.select_visit(visit_id)
                return
        self.select_visit(0)
        super().mousePressEvent(event)
