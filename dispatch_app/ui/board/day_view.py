"""The dispatch board: one row per technician, visits as blocks in time, drag to plan.

The view is the Qt side of the board: it follows the technician and visit models into
its ``RowIndex`` (who has what when), asks ``RowLayout`` where rows are, the
``TimeGrid`` where times are and ``BlockLayout`` where blocks are, hands drawing to
``BoardPainter`` and turns the pointer and keys into times and rows for the
``MovePlanner``, whose verdict it shows while the user moves. The view never writes: it
emits ``movesRequested`` / ``unassignRequested`` and the board's actions do the rest.
Only the rows in view are painted, so hundreds of technicians cost a screenful.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Callable, Iterable
from typing import cast
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QRubberBand, QToolTip, QWidget

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, local_now
from dispatch_app.domain.statuses import TechnicianStatus
from dispatch_app.domain.truck_stock import TruckStock
from dispatch_app.services.day_board import (
    BoardSettings,
    TechnicianRow,
    UnassignedJob,
    VisitBlock,
)
from dispatch_app.services.placement import PlannedMove, drive_estimate
from dispatch_app.ui import theme
from dispatch_app.ui.board.fitting import FittingRows
from dispatch_app.ui.board.grid import TimeGrid
from dispatch_app.ui.board.layout import BLOCK_HEIGHT, BLOCK_TOP, BlockLayout, BlockPart, Box
from dispatch_app.ui.board.models import TechnicianModel, VisitModel
from dispatch_app.ui.board.painter import BoardPainter, Ghost, PaintState
from dispatch_app.ui.board.planner import Edge, MovePlanner, Verdict, block_of_job
from dispatch_app.ui.board.row_index import DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR, RowIndex
from dispatch_app.ui.board.rows import GUTTER_WIDTH, HEADER_HEIGHT, ROW_HEIGHT, RowLayout
from dispatch_app.ui.queue.model import VISIT_MIME

MIN_HOUR_WIDTH = {1: 100.0, 3: 12.0, 7: 5.0}  # per zoom (days shown): readable blocks


class Gesture(enum.Enum):
    NONE = enum.auto()
    PRESSED = enum.auto()  # button down on a block, not yet moved far enough to drag
    MOVE = enum.auto()
    RESIZE_START = enum.auto()
    RESIZE_END = enum.auto()
    RUBBER_BAND = enum.auto()
    QUEUE_DROP = enum.auto()  # a job from the queue hovers over the board


_GESTURE_OF = {
    BlockPart.BODY: Gesture.MOVE,
    BlockPart.START: Gesture.RESIZE_START,
    BlockPart.END: Gesture.RESIZE_END,
}


@dataclasses.dataclass(slots=True)
class _Drag:
    gesture: Gesture
    press: QPointF
    visit: VisitBlock | None = None  # the block grabbed
    row_technician: int = 0  # the row it was grabbed in
    grab_time: dt.datetime | None = None
    verdict: Verdict | None = None
    job: UnassignedJob | None = None  # a job dragged in from the queue
    over_queue: bool = False
    # The blocks as they were when the drag began: their versions go with the drop, so a
    # visit someone else changes mid-drag meets the conflict path instead of being
    # silently overwritten.
    selection: tuple[VisitBlock, ...] = ()
    last: QPointF | None = None  # where the pointer was last seen, in viewport pixels


class DayBoardView(QAbstractScrollArea):
    visitSelected = Signal(int)  # visit id of the current block, 0 for none
    selectionChanged = Signal()  # the set of selected visits changed
    workOrderRequested = Signal(int)  # work order id: open it (double-click or Enter)
    movesRequested = Signal(object)  # Verdict: the user dropped (or keyed) these moves
    unassignRequested = Signal(object)  # list[VisitBlock]: back to the queue
    contextMenuRequested = Signal(object, QPoint)  # VisitBlock, global position
    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock: Clock = SYSTEM_CLOCK  # where the now-line is
        self._day: dt.date | None = None
        self._days = 1
        self._timezone: ZoneInfo | None = None
        self._settings = BoardSettings()
        self._technicians: TechnicianModel | None = None
        self._visit_model: VisitModel | None = None
        self.rows = RowLayout()
        self.index = RowIndex()
        self._selected: list[int] = []  # in selection order; the last one is current
        # The row the current visit was picked in (a crew's block is in several): arrow
        # keys move it out of that row. None: the crew's lead's row.
        self._current_row: int | None = None
        self.current_technician = 0  # the row last asked for by show_technician
        self._anchor = 0  # where a Shift-click range starts
        self._matches: frozenset[int] | None = None
        self._saving: frozenset[int] = frozenset()
        self._drag: _Drag | None = None
        self._drag_kind = Gesture.MOVE
        # Whether the person may move, resize and assign visits here (their role): if
        # not, a press only selects, and the queue's jobs are not taken.
        self.schedules = True
        self._rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.viewport())
        self.queue_job: Callable[[int], UnassignedJob | None] = lambda _visit_id: None
        self.queue_area: Callable[[QPoint], bool] = lambda _global: False
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setAutoFillBackground(False)
        # paintEvent covers every pixel it is asked for; Qt may then scroll the
        # viewport by copying pixels and ask only for the strip that came into view.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._scrolled_to: tuple[dt.date, int] | None = None
        self.painter = BoardPainter(self.font())
        # Worked out for painting and kept until what they come from changes.
        self._grid_key: tuple[object, ...] | None = None
        self._grid_base: TimeGrid | None = None  # the scale, unscrolled
        self._grid: TimeGrid | None = None  # the scale at the current scroll
        self._fits = FittingRows()
        self._fitting: tuple[list[TechnicianRow], object, frozenset[int]] | None = None
        # What the last paint drew for the drag in progress: (drag, lifted visits,
        # fitting rows, where its ghosts, target frame and message are).
        self._drag_drawn: tuple[_Drag | None, frozenset[int], object, QRegion] | None = None
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

    def set_day(self, day: dt.date, timezone: ZoneInfo, days: int = 1) -> None:
        if (day, timezone, days) != (self._day, self._timezone, self._days):
            self._day, self._timezone, self._days = day, timezone, days
            self.index.set_day(day, timezone, days)
            self._update_scrollbars()
            self.viewport().update()

    def set_settings(self, settings: BoardSettings) -> None:
        self._settings = settings
        self.viewport().update()

    def set_truck_stock(self, stock: TruckStock) -> None:
        """What the trucks carry now: the blocks whose marker changes are redrawn, and a
        drag in progress hears what the target's truck lacks now."""
        self._update_rows(self.index.set_truck_stock(stock))
        if self._drag is not None and self._drag.verdict is not None:
            self._refresh_drag()

    def shortage_shown(self, visit_id: int, technician_id: int) -> str:
        """What the block of ``visit_id`` in ``technician_id``'s row says the truck lacks
        ("" when it shows no parts marker, or is not on the board)."""
        lane = self.index.lane(technician_id)
        for face in lane.faces:
            if face.visit_id == visit_id:
                return face.short_of
        return ""

    def day(self) -> dt.date | None:
        return self._day

    def days_shown(self) -> int:
        return self._days

    def technician_rows(self) -> list[TechnicianRow]:
        return list(self.rows.rows)

    def visits_in_row(self, technician_id: int) -> list[VisitBlock]:
        return list(self.index.visits_of(technician_id))

    def technician_status(self, technician_id: int) -> TechnicianStatus | None:
        """What the technician's row says they are doing now (None: not on the board)."""
        now = local_now(self.clock, self._timezone or ZoneInfo("UTC"))
        return self.index.status_of(technician_id, now)

    def set_row_filter(self, keep: Callable[[TechnicianRow], bool] | None) -> None:
        """Show only the technicians ``keep`` accepts (trade, skill)."""
        self.rows.set_filter(keep)
        self._update_scrollbars()
        self.viewport().update()

    def set_matches(self, visit_ids: frozenset[int] | None) -> None:
        """Fade every visit not in ``visit_ids`` (a search); None shows all plainly."""
        if visit_ids != self._matches:
            self._matches = visit_ids
            self.viewport().update()

    def set_saving(self, visit_ids: frozenset[int]) -> None:
        """Visits written and waiting for the database to confirm (drawn dashed)."""
        self._saving = visit_ids
        self.viewport().update()

    def _technicians_changed(self, *_args: object) -> None:
        assert self._technicians is not None
        self.rows.set_technicians(self._technicians.technicians())
        self.index.set_technicians(self.rows.all_technicians())
        self._update_scrollbars()
        self.viewport().update()

    def _visits_reset(self) -> None:
        assert self._visit_model is not None
        self.index.reset(self._visit_model.visits())
        self._update_scrollbars()
        kept = [v for v in self._selected if v in self.index]
        if kept != self._selected:
            self._set_selection(kept)
        self.viewport().update()

    def _visits_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        assert self._visit_model is not None
        for row in range(first, last + 1):
            self._update_rows(self._place(self._visit_model.visit(row)))

    def _visits_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        assert self._visit_model is not None
        gone = set()
        for row in range(first, last + 1):
            visit = self._visit_model.visit(row)
            self._update_rows(self._unplace(visit.id))
            gone.add(visit.id)
        if gone & set(self._selected):
            self._set_selection([v for v in self._selected if v not in gone])

    def _visits_changed(self, top: QModelIndex, bottom: QModelIndex, *_roles: object) -> None:
        assert self._visit_model is not None
        for row in range(top.row(), bottom.row() + 1):
            visit = self._visit_model.visit(row)
            touched = self._unplace(visit.id) | self._place(visit)
            self._update_rows(touched)
            if self._selected and visit.id == self._selected[-1]:
                self.visitSelected.emit(visit.id)  # the details follow the new state
        if self._drag is not None and self._drag.verdict is not None:
            self._refresh_drag()  # the rules may say something else now

    def _place(self, visit: VisitBlock) -> set[int]:
        hours_known = self.index.hours_known
        touched = self.index.place(visit)
        if hours_known and not self.index.hours_known:
            # Outside the hours shown: the scale changes and everything moves.
            self._update_scrollbars()
            self.viewport().update()
        return touched

    def _unplace(self, visit_id: int) -> set[int]:
        return self.index.unplace(visit_id)

    def _update_rows(self, technician_ids: set[int]) -> None:
        """Repaint only the rows of these technicians."""
        scroll = self.verticalScrollBar().value()
        width = self.viewport().width()
        for tech in technician_ids:
            row = self.rows.index_of(tech)
            if row is not None:
                top = self.rows.top_of(row, scroll)
                self.viewport().update(QRect(0, top, width, ROW_HEIGHT))

    # -- selection ----------------------------------------------------------------------
    def selected_visits(self) -> list[VisitBlock]:
        found = (self.index.visit(v) for v in self._selected)
        return [visit for visit in found if visit is not None]

    def current_visit(self) -> VisitBlock | None:
        return self.index.visit(self._selected[-1]) if self._selected else None

    def select_visit(self, visit_id: int, row: int | None = None) -> None:
        """Make ``visit_id`` the only selected visit (0: none), as picked in ``row``."""
        self._set_selection([visit_id] if visit_id else [], row)
        self._anchor = visit_id

    def select_visits(self, visit_ids: list[int]) -> None:
        self._set_selection([v for v in visit_ids if v in self.index])

    def _set_selection(self, visit_ids: list[int], row: int | None = None) -> None:
        current = self._selected[-1] if self._selected else 0
        now_current = visit_ids[-1] if visit_ids else 0
        if row is not None and now_current:
            self._current_row = row
        elif now_current != current:
            self._current_row = None
        if visit_ids == self._selected:
            return
        self._selected = visit_ids
        self.viewport().update()
        self.selectionChanged.emit()
        if now_current != current:
            self.visitSelected.emit(now_current)

    def show_technician(self, technician_id: int) -> bool:
        """Scroll the technician's row into view and remember it as current (a map click
        on someone with nothing to select); False when a filter hides them."""
        row = self.rows.index_of(technician_id)
        if row is None:
            return False
        self.select_visit(0)
        bar = self.verticalScrollBar()
        top = row * ROW_HEIGHT
        visible = self.viewport().height() - HEADER_HEIGHT
        if top < bar.value() or top + ROW_HEIGHT > bar.value() + visible:
            bar.setValue(max(0, top - visible // 3))
        self.current_technician = technician_id
        self.viewport().update()
        return True

    def ensure_visible(self, visit_id: int) -> None:
        visit = self.index.visit(visit_id)
        if visit is None:
            return
        row = self.rows.index_of(visit.technician_ids[0]) if visit.technician_ids else None
        if row is not None:
            bar = self.verticalScrollBar()
            top = row * ROW_HEIGHT
            if (
                top < bar.value()
                or top + ROW_HEIGHT > bar.value() + self.viewport().height() - HEADER_HEIGHT
            ):
                bar.setValue(max(0, top - self.viewport().height() // 3))
        grid = self.grid()
        x = grid.x_of(visit.starts)
        if x < GUTTER_WIDTH or x > self.viewport().width() - 40:
            bar = self.horizontalScrollBar()
            bar.setValue(int(bar.value() + x - GUTTER_WIDTH - 80))

    # -- geometry ---------------------------------------------------------------------
    def _hour_width(self, hours: float) -> float:
        timeline = max(1, self.viewport().width() - GUTTER_WIDTH)
        floor = MIN_HOUR_WIDTH.get(self._days, MIN_HOUR_WIDTH[7])
        # Fit the days to the window, but never so tight that a short visit is unreadable.
        return max(floor, timeline / max(1.0, hours))

    def grid(self) -> TimeGrid:
        if self._day is None or self._timezone is None:
            moment = self.clock.now().astimezone()
            day, tz = moment.date(), moment.tzinfo
            assert tz is not None
            first, last, days = DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR, [day]
        else:
            first, last = self.index.hour_range()
            tz = self._timezone
            days = [self._day + dt.timedelta(days=n) for n in range(self._days)]
        width = self._hour_width((last - first) * len(days))
        # Asked for on every paint and mouse move: build the scale only when it changes.
        key = (days[0], len(days), tz, first, last, width)
        if self._grid_base is None or key != self._grid_key:
            self._grid_key, self._grid_base = key, TimeGrid.build(days, first, last, tz, width)
        left = GUTTER_WIDTH - self.horizontalScrollBar().value()
        grid = self._grid
        if grid is None or grid.pieces is not self._grid_base.pieces or grid.left != left:
            grid = self._grid = self._grid_base.scrolled(left)
        return grid

    def sizeHint(self) -> QSize:
        return QSize(1200, HEADER_HEIGHT + ROW_HEIGHT * 12)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_scrollbars()

    def _update_scrollbars(self) -> None:
        bar = self.verticalScrollBar()
        height = self.viewport().height()
        bar.setRange(0, max(0, self.rows.content_height() - height))
        bar.setPageStep(height)
        bar.setSingleStep(ROW_HEIGHT // 2)
        if self._day is None:
            return
        grid = self.grid()
        timeline = self.viewport().width() - GUTTER_WIDTH
        sideways = self.horizontalScrollBar()
        sideways.setRange(0, max(0, int(grid.content_width - timeline)))
        sideways.setPageStep(max(1, timeline))
        sideways.setSingleStep(max(4, int(grid.hour_width / 4)))
        if self._scrolled_to != (self._day, self._days) and sideways.maximum() > 0:
            self._scrolled_to = (self._day, self._days)
            self._scroll_to_start_of_work(grid)

    def _scroll_to_start_of_work(self, grid: TimeGrid) -> None:
        """Open the day where work is: an hour before now today, else the first shift."""
        assert self._day is not None and self._timezone is not None
        now = local_now(self.clock, self._timezone)
        starts = [
            s.start
            for r in self.rows.all_technicians()
            for s in r.working
            if s.start.astimezone(self._timezone).date() >= self._day
        ]
        target = (
            now - dt.timedelta(hours=1)
            if grid.piece_of(now) is not None
            else (
                min(starts, key=dt.datetime.timestamp) - dt.timedelta(minutes=30)
                if starts
                else None
            )
        )
        if target is not None:
            self.horizontalScrollBar().setValue(int(max(0.0, grid.x_of(target) - grid.left)))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        viewport = self.viewport()
        # A drag's ghosts and messages follow the pointer, the empty board's message the
        # viewport: those do not move with the content.
        if self._drag is not None or not self.rows.rows or (dx and dy):
            viewport.update()
            return
        rect = viewport.rect()
        if dx:  # the names stay put while the timeline and its hours slide under them
            moving = QRect(GUTTER_WIDTH, 0, rect.width() - GUTTER_WIDTH, rect.height())
        else:  # the hours stay put while the rows slide under them
            moving = QRect(0, HEADER_HEIGHT, rect.width(), rect.height() - HEADER_HEIGHT)
        viewport.scroll(dx, dy, moving)
        if dy and self._timezone is not None:
            # The now-line's knob hangs from the header: it must not travel with the rows.
            now = local_now(self.clock, self._timezone)
            grid = self.grid()
            if grid.piece_of(now) is not None:
                # Where it is drawn, and where the scroll just copied it to.
                x = round(grid.x_of(now))
                viewport.update(QRect(x - 6, HEADER_HEIGHT, 13, 6 + max(0, dy)))

    def block_layout(self) -> BlockLayout:
        """Where blocks are at the current scale and scroll (what is drawn is what is hit)."""
        return BlockLayout(self.grid(), drive_estimate(self._settings))

    def block_box(self, visit_id: int, technician_id: int | None = None) -> Box | None:
        """Where a visit's block is drawn in the viewport (in the given technician's row,
        else its first row shown), without its outline; None when it is not drawn."""
        visit = self.index.visit(visit_id)
        if visit is None:
            return None
        techs = [technician_id] if technician_id is not None else list(visit.technician_ids)
        layout = self.block_layout()
        scroll = self.verticalScrollBar().value()
        for tech in techs:
            row = self.rows.index_of(tech)
            if row is None or tech not in visit.technician_ids:
                continue
            return layout.box_of(self.index.lane(tech), visit_id, self.rows.top_of(row, scroll))
        return None

    def block_rect(self, visit_id: int, technician_id: int | None = None) -> QRectF | None:
        """``block_box`` as a ``QRectF``."""
        box = self.block_box(visit_id, technician_id)
        return QRectF(box.left, box.top, box.width, box.height) if box is not None else None

    def visit_at(self, position: QPointF) -> VisitBlock | None:
        """The visit whose block is drawn at ``position`` (None: no block there)."""
        hit = self._hit(position)
        return hit[0] if hit is not None else None

    def _hit(self, position: QPointF) -> tuple[VisitBlock, int, Gesture] | None:
        """The block under ``position``, the row's technician, and what a drag there does."""
        if position.x() < GUTTER_WIDTH:
            return None
        scroll = self.verticalScrollBar().value()
        row = self.rows.row_at(position.y(), scroll)
        if row is None:
            return None
        tech = self.rows.rows[row].id
        lane = self.index.lane(tech)
        found = self.block_layout().hit(
            lane,
            self.rows.top_of(row, scroll),
            position.x(),
            position.y(),
            frozenset(self._selected),
        )
        if found is None:
            return None
        index, part = found
        return lane.visits[index], tech, _GESTURE_OF[part]

    def technician_at(self, position: QPointF) -> TechnicianRow | None:
        row = self.rows.row_at(position.y(), self.verticalScrollBar().value())
        return self.rows.rows[row] if row is not None else None

    # -- painting ---------------------------------------------------------------------
    def _paint_state(self) -> PaintState:
        tz = self._timezone or ZoneInfo("UTC")
        state = PaintState(
            now=local_now(self.clock, tz),
            selected=frozenset(self._selected),
            matches=self._matches,
            saving=self._saving,
            drive=drive_estimate(self._settings),
        )
        drag = self._drag
        if drag is not None and drag.verdict is not None:
            ghosts = []
            for move in drag.verdict.moves:
                visit = self.index.visit(move.visit_id) or (
                    block_of_job(drag.job, move) if drag.job else None
                )
                if visit is None:
                    continue
                for tech in move.technician_ids:
                    ghosts.append(Ghost(visit, tech, move.starts, move.ends, drag.verdict.level))
            state.ghosts = tuple(ghosts)
            state.lifted = frozenset(m.visit_id for m in drag.verdict.moves)
            state.ghost_message = drag.verdict.message()
            state.fitting_rows = (
                self._fitting_rows(drag.verdict.moves[0]) if drag.verdict.moves else None
            )
            state.target_row = (
                drag.verdict.moves[0].technician_ids[0]
                if drag.verdict.moves and drag.verdict.moves[0].technician_ids
                else None
            )
        return state

    def _fitting_rows(self, move: PlannedMove) -> frozenset[int]:
        # Asked on every paint and pointer move: answer again only for a new span.
        key = (move.starts.timestamp(), move.ends.timestamp(), move.required_skills)
        rows = self.rows.rows  # a new list whenever the technicians or the filter change
        if self._fitting is not None and self._fitting[0] is rows and self._fitting[1] == key:
            return self._fitting[2]
        fitting = self._fits.of(rows, move.required_skills, move.starts, move.ends)
        self._fitting = (rows, key, fitting)
        return fitting

    def _message(self, state: PaintState, grid: TimeGrid) -> tuple[QPointF, str, str, int] | None:
        """Where the drag's message goes, what it says, the verdict's level, and how many
        of its last lines are notes on the truck."""
        drag = self._drag
        if state.ghosts and state.ghost_message:
            first = state.ghosts[0]
            ghost_row = self.rows.index_of(first.technician_id)
            if ghost_row is None:
                return None
            top = self.rows.top_of(ghost_row, self.verticalScrollBar().value())
            level = drag.verdict.level if drag and drag.verdict else "ok"
            notes = len(drag.verdict.notes) if drag and drag.verdict else 0
            anchor = QPointF(grid.x_of(first.starts), top + ROW_HEIGHT - 6)
            return anchor, state.ghost_message, level, notes
        if drag is not None and drag.verdict is not None and drag.verdict.problem:
            pos = drag.last or drag.press
            return QPointF(pos.x() + 12, pos.y() + 12), drag.verdict.problem, "refuse", 0
        return None

    def _drag_region(self, state: PaintState, grid: TimeGrid) -> QRegion:
        """Where the drag's ghosts, drop-target frame and message are drawn."""
        region = QRegion()
        scroll = self.verticalScrollBar().value()
        width = self.viewport().width()
        rows = {ghost.technician_id for ghost in state.ghosts}
        if state.target_row is not None:
            rows.add(state.target_row)
        for tech in rows:
            index = self.rows.index_of(tech)
            if index is not None:
                top = self.rows.top_of(index, scroll)
                region += QRect(GUTTER_WIDTH, top, width - GUTTER_WIDTH, ROW_HEIGHT)
        message = self._message(state, grid)
        if message is not None:
            box = self.painter.message_box(message[0], message[1], width, message[3])
            region += box.toAlignedRect().adjusted(-2, -2, 2, 2)
        return region

    def _repaint_drag(self) -> None:
        """Repaint what the pointer's move changed: the rows the ghosts and the frame
        leave and enter, and the message; everything when the dimmed rows or the lifted
        blocks change."""
        state = self._paint_state()
        drawn = self._drag_drawn
        if (
            drawn is None
            or drawn[0] is not self._drag
            or drawn[1] != state.lifted
            or drawn[2] != state.fitting_rows
        ):
            self.viewport().update()
            return
        self.viewport().update(drawn[3] | self._drag_region(state, self.grid()))

    def paintEvent(self, event: QPaintEvent) -> None:
        viewport = self.viewport()
        painter = QPainter(viewport)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        grid = self.grid()
        state = self._paint_state()
        # A scroll asks for the strip that came into view, a drag for the rows its ghost
        # left and entered: paint each piece of such a region on its own rather than
        # everything between them.
        region = event.region()
        parts = (
            list(cast("Iterable[QRect]", region))  # the stubs do not know QRegion iterates
            if 1 < region.rectCount() <= 8
            else [region.boundingRect()]
        )
        for part in parts:
            painter.setClipRect(part)
            self._paint_part(painter, part, grid, state)
        painter.end()
        self._drag_drawn = (
            (self._drag, state.lifted, state.fitting_rows, self._drag_region(state, grid))
            if self._drag is not None
            else None
        )
        self.painted.emit()

    def _paint_part(
        self, painter: QPainter, dirty: QRect, grid: TimeGrid, state: PaintState
    ) -> None:
        rect = self.viewport().rect()
        width, height = rect.width(), rect.height()
        low, high = dirty.left(), dirty.right() + 1  # the screen x range asked for
        scroll = self.verticalScrollBar().value()
        artist = self.painter
        visible = []
        for index in self.rows.visible(scroll, height):
            top = self.rows.top_of(index, scroll)
            if top + ROW_HEIGHT > dirty.top() and top <= dirty.bottom():
                visible.append((self.rows.rows[index], top))
        # Rows, names and the header paint their own background; white for the rest.
        below = self.rows.top_of(len(self.rows), scroll)
        if dirty.bottom() >= below:
            painter.fillRect(dirty.intersected(QRect(0, below, width, height)), theme.ON_SHIFT)
        after = math.floor(grid.right)
        if high > after:
            painter.fillRect(
                dirty.intersected(QRect(after, HEADER_HEIGHT, width, height)), theme.ON_SHIFT
            )
        if high > GUTTER_WIDTH:
            # The timeline scrolls sideways under the technicians' names, which stay put.
            painter.save()
            painter.setClipRect(
                QRect(GUTTER_WIDTH, HEADER_HEIGHT, width - GUTTER_WIDTH, height),
                Qt.ClipOperation.IntersectClip,
            )
            for row, top in visible:
                lane = self.index.lane(row.id)
                artist.lane_background(painter, grid, row, top, state)
                artist.lane(painter, grid, lane, top, state)
                artist.lane_overlay(painter, grid, row, top, state)
            if state.ghosts:
                ghosts_by_row: dict[int, list[Ghost]] = {}
                for ghost in state.ghosts:
                    ghosts_by_row.setdefault(ghost.technician_id, []).append(ghost)
                for row, top in visible:
                    for ghost in ghosts_by_row.get(row.id, ()):
                        artist.ghost(painter, grid, ghost, top)
            artist.now_line(painter, grid, state.now, height)
            message = self._message(state, grid)
            if message is not None:
                anchor, text, level, notes = message
                artist.ghost_message(painter, anchor, text, level, width, notes)
            painter.restore()
        if low < GUTTER_WIDTH:
            for row, top in visible:
                artist.gutter(painter, row, top, self.index.lane(row.id), state.now, grid)
        if dirty.top() < HEADER_HEIGHT:
            artist.header(painter, grid, width, self._title(), low, high)
        if not self.rows.rows:
            painter.setPen(theme.MUTED_TEXT)
            painter.setFont(artist.font)
            if self._day is None:
                message_text = self.tr("Loading the day…")
            elif self.rows.all_technicians():
                message_text = self.tr("No technician matches the filters.")
            else:
                message_text = self.tr("No technicians yet.")
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, message_text)

    def _title(self) -> str:
        if self._day is None:
            return ""
        if self._days == 1:
            return self._day.strftime("%a %d %b %Y")
        last = self._day + dt.timedelta(days=self._days - 1)
        return f"{self._day:%d %b} – {last:%d %b %Y}"

    # -- planning moves -----------------------------------------------------------------
    def planner(self) -> MovePlanner:
        """Plans gestures against the board as it stands now."""
        return MovePlanner(self.index, self._settings, self._timezone)

    def _plan_drag(self, position: QPointF) -> Verdict:
        drag = self._drag
        assert drag is not None and drag.visit is not None and drag.grab_time is not None
        pointer_at = self.grid().time_at(position.x())
        if drag.gesture == Gesture.RESIZE_END:
            return self.planner().resize(drag.visit, Edge.END, pointer_at)
        if drag.gesture == Gesture.RESIZE_START:
            return self.planner().resize(drag.visit, Edge.START, pointer_at)
        return self.planner().move(
            drag.selection,
            grabbed=drag.visit,
            from_row=drag.row_technician,
            grabbed_at=drag.grab_time,
            pointer_at=pointer_at,
            target=self.technician_at(position),
        )

    def _plan_queue_drop(self, position: QPointF) -> Verdict:
        drag = self._drag
        assert drag is not None and drag.job is not None
        over_names = position.x() < GUTTER_WIDTH
        return self.planner().queue_drop(
            drag.job,
            pointer_at=self.grid().time_at(position.x()),
            target=None if over_names else self.technician_at(position),
        )

    def _refresh_drag(self) -> None:
        drag = self._drag
        if drag is None:
            return
        position = drag.last or drag.press
        if drag.gesture == Gesture.QUEUE_DROP:
            drag.verdict = self._plan_queue_drop(position)
        elif drag.gesture in (Gesture.MOVE, Gesture.RESIZE_START, Gesture.RESIZE_END):
            drag.verdict = self._plan_drag(position)
        self.viewport().update()

    def drag_verdict(self) -> Verdict | None:
        """The rules' verdict for the drag in progress (None when nothing is dragged)."""
        return self._drag.verdict if self._drag is not None else None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            tip = self.tooltip_at(QPointF(event.pos()))
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def tooltip_at(self, position: QPointF) -> str:
        """What hovering at ``position`` explains: what the truck lacks for the block
        there, part by part when several ("" for none)."""
        hit = self._hit(position)
        if hit is None:
            return ""
        visit, tech, _gesture = hit
        shortage = self.index.shortage(tech, visit)
        if shortage is None:
            return ""
        lines = [shortage.sentence]
        if len(shortage.missing) > 1:
            lines += [f"• {words}" for words in shortage.details()]
        return "\n".join(lines)

    # -- mouse --------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        if event.button() != Qt.MouseButton.LeftButton:
            if event.button() == Qt.MouseButton.RightButton:
                hit = self._hit(position)
                if hit is not None and hit[0].id not in self._selected:
                    self.select_visit(hit[0].id, hit[1])
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        hit = self._hit(position)
        modifiers = event.modifiers()
        if hit is None:
            if position.x() >= GUTTER_WIDTH and position.y() >= HEADER_HEIGHT:
                self._drag = _Drag(Gesture.RUBBER_BAND, position)
                self._rubber.setGeometry(QRect(position.toPoint(), QSize()))
                self._rubber.show()
            if not modifiers & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            ):
                self.select_visit(0)
            return
        visit, tech, gesture = hit
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            chosen = list(self._selected)
            if visit.id in chosen:
                chosen.remove(visit.id)
            else:
                chosen.append(visit.id)
            self._set_selection(chosen, tech if chosen and chosen[-1] == visit.id else None)
            return
        if modifiers & Qt.KeyboardModifier.ShiftModifier and self._anchor in self.index:
            self._select_range(self._anchor, visit.id, tech)
            return
        if visit.id not in self._selected:
            self.select_visit(visit.id, tech)
        else:  # keep the group, make this one current
            self._set_selection([v for v in self._selected if v != visit.id] + [visit.id], tech)
        if not self.schedules:
            return
        self._drag = _Drag(
            Gesture.PRESSED,
            position,
            visit=visit,
            row_technician=tech,
            grab_time=self.grid().time_at(position.x()),
            selection=tuple(self.selected_visits()),
        )
        self._drag_kind = gesture

    def _select_range(self, first_id: int, last_id: int, tech: int) -> None:
        """Shift-click: every visit of the row between the anchor and the clicked one."""
        ids = [v.id for v in self.index.visits_of(tech)]
        if first_id not in ids:
            self._set_selection([last_id], tech)
            return
        a, b = sorted((ids.index(first_id), ids.index(last_id)))
        chosen = ids[a : b + 1]
        chosen.remove(last_id)
        self._set_selection([*chosen, last_id], tech)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        drag = self._drag
        if drag is None:
            hit = self._hit(position)
            shape = Qt.CursorShape.ArrowCursor
            if hit is not None:
                shape = (
                    Qt.CursorShape.SizeHorCursor
                    if hit[2] in (Gesture.RESIZE_START, Gesture.RESIZE_END)
                    else Qt.CursorShape.OpenHandCursor
                )
            self.viewport().setCursor(shape)
            return
        if drag.gesture == Gesture.RUBBER_BAND:
            band = QRectF(drag.press, position).normalized()
            self._rubber.setGeometry(band.toRect())
            self._select_in(band)
            return
        if drag.gesture == Gesture.PRESSED:
            if (position - drag.press).manhattanLength() < QApplication.startDragDistance():
                return
            drag.gesture = self._drag_kind
            self.viewport().setCursor(
                Qt.CursorShape.ClosedHandCursor
                if drag.gesture == Gesture.MOVE
                else Qt.CursorShape.SizeHorCursor
            )
        drag.last = position
        global_pos = self.viewport().mapToGlobal(position.toPoint())
        drag.over_queue = drag.gesture == Gesture.MOVE and self.queue_area(global_pos)
        if drag.over_queue:
            drag.verdict = Verdict((), (), self.tr("Release to send back to the unassigned queue."))
        else:
            drag.verdict = self._plan_drag(position)
        self._repaint_drag()

    def _select_in(self, band: QRectF) -> None:
        scroll = self.verticalScrollBar().value()
        area = Box(band.left(), band.top(), band.width(), band.height())
        layout = self.block_layout()
        chosen = []
        for index in self.rows.visible(scroll, self.viewport().height()):
            top = self.rows.top_of(index, scroll)
            blocks_top = top + BLOCK_TOP
            if max(blocks_top, band.top()) >= min(blocks_top + BLOCK_HEIGHT, band.bottom()):
                continue  # the band does not reach this row's blocks
            lane = self.index.lane(self.rows.rows[index].id)
            for number, visit in enumerate(lane.visits):
                box = layout.box(lane, number, top)
                if box is not None and box.intersects(area) and visit.id not in chosen:
                    chosen.append(visit.id)
        self._set_selection(chosen)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        self.viewport().unsetCursor()
        if drag is None:
            return
        if drag.gesture == Gesture.RUBBER_BAND:
            self._rubber.hide()
            return
        self.viewport().update()
        if drag.gesture == Gesture.PRESSED:
            return
        if drag.over_queue:
            self.unassignRequested.emit(list(drag.selection) or [drag.visit])
            return
        verdict = drag.verdict
        if verdict is None or not verdict.moves:
            return
        if verdict.changes():  # dropped where it was: a click, not a change
            self._follow(drag.row_technician, self.technician_at(drag.last or drag.press), verdict)
            self.movesRequested.emit(verdict)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position())
        if hit is not None:
            self.select_visit(hit[0].id, hit[1])
            self._open_selected()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        hit = self._hit(QPointF(event.pos()))
        if hit is None:
            return
        if hit[0].id not in self._selected:
            self.select_visit(hit[0].id, hit[1])
        self.contextMenuRequested.emit(hit[0], event.globalPos())

    # -- the queue drags jobs in ----------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        job = self._job_of(event.mimeData())
        if job is None or not self.schedules:
            event.ignore()
            return
        self._drag = _Drag(Gesture.QUEUE_DROP, event.position(), job=job)
        event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        drag = self._drag
        if drag is None or drag.gesture != Gesture.QUEUE_DROP:
            event.ignore()
            return
        drag.last = event.position()
        drag.verdict = self._plan_queue_drop(event.position())
        self.viewport().update()
        if drag.verdict.moves:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._drag = None
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        drag = self._drag
        if drag is None or drag.job is None:
            event.ignore()
            return
        verdict = self._plan_queue_drop(event.position())
        self._drag = None
        self.viewport().update()
        if not verdict.moves:
            event.ignore()
            return
        event.acceptProposedAction()
        self.movesRequested.emit(verdict)

    def _job_of(self, mime: QMimeData) -> UnassignedJob | None:
        if not mime.hasFormat(VISIT_MIME):
            return None
        try:
            visit_id = int(bytes(mime.data(VISIT_MIME).data()).decode())
        except ValueError:
            return None
        return self.queue_job(visit_id)

    # -- keyboard -----------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._rubber.hide()
                self._drag = None
                self.viewport().unsetCursor()
                self.viewport().update()
            else:
                self.select_visit(0)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._open_selected()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self._selected:
                self.unassignRequested.emit(self.selected_visits())
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self._selected:
            step = dt.timedelta(minutes=self._settings.snap_minutes)
            self._key_move(step if key == Qt.Key.Key_Right else -step, 0)
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self._selected:
            self._key_move(dt.timedelta(0), -1 if key == Qt.Key.Key_Up else 1)
            return
        super().keyPressEvent(event)

    def _key_move(self, by: dt.timedelta, rows: int) -> None:
        selection = self.selected_visits()
        if not selection:
            return
        current = selection[-1]
        crew = current.technician_ids
        from_row = self._current_row if self._current_row in crew else crew[0]
        target = None
        if rows:
            index = self.rows.index_of(from_row)
            if index is None or not 0 <= index + rows < len(self.rows):
                return  # already the first or last row
            target = self.rows.rows[index + rows]
        verdict = self.planner().keys(selection, by=by, from_row=from_row, target=target)
        self._follow(from_row, target, verdict)
        self.movesRequested.emit(verdict)

    def _follow(self, from_row: int, target: TechnicianRow | None, verdict: Verdict) -> None:
        """The current visit goes to ``target``'s row: the next arrow key moves it from
        there (a refused move leaves it where it was)."""
        if target is not None and target.id != from_row and verdict.level != "refuse":
            self._current_row = target.id

    def _open_selected(self) -> None:
        visit = self.current_visit()
        if visit is not None:
            self.workOrderRequested.emit(visit.work_order_id)


__all__ = ["VISIT_MIME", "DayBoardView"]
