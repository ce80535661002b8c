"""Painting the board: lanes, visit blocks, drive gaps, the gutter, the header, ghosts.

The view decides what is where (rows, grid, drag state) and ``layout`` where each
block is, to the fraction of a pixel, for drawing and pointing alike; this object only
draws, so a new look is a change here and nowhere else.

A frame must stay within a few milliseconds with hundreds of blocks on screen, so what
costs text layout or antialiased outlines is drawn once into an image and copied from
there after that: a technician's visit blocks and drives (one image per lane), the
ground under them (one per pattern of shift hours), their name column, the hours over
the timeline, the drop target's outline. Each image is kept with a key of everything
its pixels depend on and drawn again when the key differs, so a change needs no
bookkeeping of its own. Ghosts, dimming and the now-line change with every frame and
are drawn directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPen,
)

from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.statuses import Activity, TechnicianStatus, clock_text, status_changes
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.ui import theme
from dispatch_app.ui.board.grid import TimeGrid
from dispatch_app.ui.board.lanes import MARGIN, DriveLeg, Face, Lane, LaneGeometry
from dispatch_app.ui.board.layout import (
    BLOCK_HEIGHT,
    BLOCK_TOP,
    LaneFrame,
    block_extent,
    ghost_box,
    outline_width,
    placed,
)
from dispatch_app.ui.board.render_cache import RenderCache
from dispatch_app.ui.board.row_index import row_status
from dispatch_app.ui.board.rows import GUTTER_WIDTH, HEADER_HEIGHT, ROW_HEIGHT

OK_COLOUR = QColor("#2e9d57")
ASK_COLOUR = QColor("#d9960b")
REFUSE_COLOUR = QColor("#c0504d")
DIMMED = QColor(241, 243, 245, 170)
HIGHLIGHT = QColor(46, 157, 87, 28)
DRIVE = QColor("#8a94a0")
DRIVE_SHORT = QColor("#c0504d")
FADED = QColor(255, 255, 255, 165)
BADGE = QColor("#e8ecf1")
EMERGENCY_COLOUR = theme.PRIORITY_COLOUR[Priority.EMERGENCY]
PARTS_COLOUR = theme.PARTS_SHORT  # the badge of a truck that lacks a part, white on it
PARTS_WORD = "PARTS"
PARTS_CORNER = 9  # the corner mark on a block too narrow for the badge

# Pens used in every frame, built once.
GRID_PEN = QPen(theme.GRID, 1)
DRIVE_PEN = QPen(DRIVE, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
DRIVE_SHORT_PEN = QPen(DRIVE_SHORT, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
TARGET_PEN = QPen(theme.SELECTION, 1.5, Qt.PenStyle.DashLine)

LANE_BUDGET = 96 * 1024 * 1024  # a screenful of lanes many times over, even at 4K
GUTTER_BUDGET = 24 * 1024 * 1024  # a name column is 250×62: hundreds of technicians
LANE_FORMAT = QImage.Format.Format_ARGB32_Premultiplied  # blocks have rounded corners
SHAPES_KEPT = 512  # outlines by length, look and phase: a board uses a few hundred
NARROW = 40  # below this many pixels inside, a block's words may not fit even elided
BACKGROUNDS_KEPT = 64  # lane backgrounds by shift hours: a company has a handful
HEADER_FORMAT = QImage.Format.Format_RGB32  # opaque: the header, names and lanes' grounds


# Flags used while drawing, looked up once: a PySide enum lookup costs more than the
# call it goes into.
MIDDLE = Qt.AlignmentFlag.AlignVCenter
RIGHT_MIDDLE = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
TOP_LEFT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
CENTRE = Qt.AlignmentFlag.AlignCenter
ELIDE = Qt.TextElideMode.ElideRight
TRANSPARENT = Qt.GlobalColor.transparent
ANTIALIASED = QPainter.RenderHint.Antialiasing


def _over(top: QColor, bottom: QColor) -> QColor:
    """``top`` painted over opaque ``bottom``, as the raster engine blends it."""
    image = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(bottom)
    painter = QPainter(image)
    painter.fillRect(0, 0, 1, 1, top)
    painter.end()
    return image.pixelColor(0, 0)


@functools.lru_cache(maxsize=64)
def _day_label(day: dt.date) -> str:
    return day.strftime("%a %d %b")


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
        self.lane_images = RenderCache(LANE_BUDGET)
        self.gutter_images = RenderCache(GUTTER_BUDGET)
        self._frame: tuple[object, QImage] | None = None  # the drop target's outline
        self._label_widths: dict[str, int] = {}
        self._shapes: OrderedDict[tuple[object, ...], QImage] = OrderedDict()
        # Job types recur, and so do block widths: elide each pair once.
        self._title = functools.lru_cache(maxsize=4096)(self._elide_title)
        # Per technician: their shifts in content pixels at one scale, and the instants
        # at which their status word can change; each kept with what it was made from.
        self._shift_spans: dict[
            int, tuple[TechnicianRow, int, tuple[tuple[float, float], ...]]
        ] = {}
        self._scale: tuple[object, float, int] = (None, 0.0, 0)
        self._backgrounds: OrderedDict[tuple[object, ...], QImage] = OrderedDict()
        self._hours: tuple[object, QImage] | None = None  # the header over the timeline
        self._badges: dict[tuple[str, int, str, float], QImage] = {}
        self._status_moments: dict[int, tuple[TechnicianRow, int, list[float]]] = {}
        # A highlighted lane is the plain lane with HIGHLIGHT over it: blend once.
        self._lit_on = _over(HIGHLIGHT, theme.ON_SHIFT)
        self._lit_off = _over(HIGHLIGHT, theme.OFF_SHIFT)

    # -- header -------------------------------------------------------------------------
    def header(
        self,
        painter: QPainter,
        grid: TimeGrid,
        width: int,
        title: str,
        low: float = -math.inf,
        high: float = math.inf,
    ) -> None:
        """The title over the names and the hours over the timeline (those only when
        screen x ``low``..``high`` reaches them)."""
        painter.fillRect(QRectF(0, 0, width, HEADER_HEIGHT), theme.HEADER_BG)
        painter.setPen(theme.GRID)
        painter.drawLine(QPointF(0, HEADER_HEIGHT - 0.5), QPointF(width, HEADER_HEIGHT - 0.5))
        if low < GUTTER_WIDTH:
            painter.setFont(self.bold)
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(12, 0, GUTTER_WIDTH - 12, HEADER_HEIGHT),
                MIDDLE,
                title,
            )
        if high < GUTTER_WIDTH:
            return
        dpr = painter.device().devicePixelRatioF()
        frame = LaneFrame.of(grid)  # the hours sit where the lanes under them do
        key = (self._scale_of(grid), frame.phase_steps, dpr)
        if self._hours is None or self._hours[0] != key:
            self._hours = (key, self._render_hours(grid, frame.phase, dpr))
        painter.save()
        painter.setClipRect(QRectF(GUTTER_WIDTH, 0, width - GUTTER_WIDTH, HEADER_HEIGHT))
        painter.drawImage(QPointF(frame.origin, 0), self._hours[1])
        painter.restore()

    def _render_hours(self, grid: TimeGrid, phase: float, dpr: float) -> QImage:
        """The header over the whole timeline: the days (when several) and the hours."""
        several = len(grid.pieces) > 1
        wide = grid.hour_width >= 45
        every = 1 if wide else 2 if grid.hour_width >= 24 else 4
        step = grid.hour_width * every
        # The last hour's label begins where the timeline ends.
        image = _image(phase + grid.content_width + step + 3, HEADER_HEIGHT, dpr, HEADER_FORMAT)
        image.fill(theme.HEADER_BG)
        painter = QPainter(image)
        painter.setRenderHint(ANTIALIASED)
        painter.setPen(theme.GRID)
        line = HEADER_HEIGHT - 0.5
        painter.drawLine(QPointF(0, line), QPointF(image.width() / dpr, line))
        if several:
            painter.setFont(self.small)
            painter.setPen(theme.TEXT)
            for piece in grid.pieces:
                x = phase + piece.x
                painter.drawText(
                    QRectF(x + 4, 1, piece.hours * grid.hour_width - 4, 18),
                    MIDDLE,
                    _day_label(piece.day),
                )
        painter.setFont(self.tiny if several else self.small)
        painter.setPen(theme.MUTED_TEXT)
        top = 18 if several else 0
        for mark in grid.marks(every):
            painter.drawText(
                QRectF(phase + mark.x + 3, top, step, HEADER_HEIGHT - top),
                MIDDLE,
                mark.long if wide else mark.short,
            )
        painter.end()
        return image

    # -- the technicians' lanes ---------------------------------------------------------
    def lane_background(
        self, painter: QPainter, grid: TimeGrid, row: TechnicianRow, top: int, state: PaintState
    ) -> None:
        """Under a row's blocks: its shift hours white, the rest grey, the hour lines and
        the row's bottom line. Rows with the same hours share one image of this."""
        lit = state.fitting_rows is not None and row.id in state.fitting_rows
        dpr = painter.device().devicePixelRatioF()
        frame = LaneFrame.of(grid)
        key = (self._shifts_at(row, grid), lit, self._scale_of(grid), frame.phase_steps, dpr)
        image = self._backgrounds.get(key)
        if image is None:
            image = self._render_background(grid, key[0], lit, frame.phase, dpr)
            self._backgrounds[key] = image
            if len(self._backgrounds) > BACKGROUNDS_KEPT:
                self._backgrounds.popitem(last=False)
        else:
            self._backgrounds.move_to_end(key)
        painter.drawImage(QPointF(frame.origin, top), image)

    def _render_background(
        self,
        grid: TimeGrid,
        shifts: tuple[tuple[float, float], ...],
        lit: bool,
        phase: float,
        dpr: float,
    ) -> QImage:
        # Content x c is at image x c + phase; the image begins on a whole screen pixel.
        on, off = (self._lit_on, self._lit_off) if lit else (theme.ON_SHIFT, theme.OFF_SHIFT)
        width = grid.content_width
        image = _image(phase + width, ROW_HEIGHT, dpr, HEADER_FORMAT)
        image.fill(theme.ON_SHIFT)  # what shows through the last, partly covered column
        painter = QPainter(image)
        painter.setRenderHint(ANTIALIASED)
        fill_across(painter, phase, phase + width, 0, ROW_HEIGHT, off)
        for x0, x1 in shifts:
            fill_across(painter, phase + x0, phase + x1, 0, ROW_HEIGHT, on)
        # The hour and row lines are one pixel wide on whole pixels: filled as such, they
        # are the same pixels as drawn lines at a fraction of the cost.
        every = 1 if grid.hour_width >= 24 else 4
        for mark in grid.marks(every):
            painter.fillRect(QRectF(round(phase + mark.x), 0, 1, ROW_HEIGHT), theme.GRID)
        fill_across(painter, phase, phase + width, ROW_HEIGHT - 1, 1, theme.GRID)
        for piece in grid.pieces[1:]:  # the night between two days
            painter.fillRect(QRectF(phase + piece.x - 8, 0, 8, ROW_HEIGHT), theme.GRID)
        painter.end()
        return image

    def _scale_of(self, grid: TimeGrid) -> int:
        """A number for the grid's scale (its days, hours and hour width), new when it
        changes, so caches need not compare the grid itself."""
        if grid.pieces is not self._scale[0] or grid.hour_width != self._scale[1]:
            self._scale = (grid.pieces, grid.hour_width, self._scale[2] + 1)
        return self._scale[2]

    def _shifts_at(self, row: TechnicianRow, grid: TimeGrid) -> tuple[tuple[float, float], ...]:
        """The row's shifts in content pixels, clipped to the days shown, left to right."""
        scale = self._scale_of(grid)
        kept = self._shift_spans.get(row.id)
        if kept is None or kept[0] is not row or kept[1] != scale:
            spans = []
            for shift in row.working:
                x0 = max(0.0, grid.content_x(shift.start.timestamp()))
                x1 = min(grid.content_width, grid.content_x(shift.end.timestamp()))
                if x1 > x0:
                    spans.append((x0, x1))
            kept = (row, scale, tuple(sorted(spans)))
            self._shift_spans[row.id] = kept
        return kept[2]

    def lane_overlay(
        self,
        painter: QPainter,
        grid: TimeGrid,
        row: TechnicianRow,
        top: int,
        state: PaintState,
    ) -> None:
        """Dim a row that cannot take the dragged visit; frame the row under the cursor."""
        if state.fitting_rows is not None and row.id not in state.fitting_rows:
            fill_across(painter, grid.left, grid.right, top, ROW_HEIGHT, DIMMED)
        if state.target_row == row.id:
            self._target_frame(painter, grid, top)

    def _target_frame(self, painter: QPainter, grid: TimeGrid, top: int) -> None:
        # A dashed antialiased outline as long as the day costs milliseconds to stroke:
        # stroke it once, then copy its four edges.
        dpr = painter.device().devicePixelRatioF()
        origin = math.floor(grid.left)
        phase = grid.left - origin
        key = (grid.content_width, phase, dpr)
        if self._frame is None or self._frame[0] != key:
            image = _image(phase + grid.content_width, ROW_HEIGHT, dpr, LANE_FORMAT)
            image.fill(TRANSPARENT)
            frame = QPainter(image)
            frame.setRenderHint(ANTIALIASED)
            frame.setPen(TARGET_PEN)
            frame.setBrush(Qt.BrushStyle.NoBrush)
            frame.drawRect(QRectF(phase, 0, grid.content_width, ROW_HEIGHT).adjusted(1, 1, -1, -2))
            frame.end()
            self._frame = (key, image)
        image = self._frame[1]
        width = image.width() / dpr
        edge = 3.0
        for x, y, w, h in (
            (0.0, 0.0, width, edge),
            (0.0, ROW_HEIGHT - edge - 1, width, edge + 1),
            (0.0, edge, edge, ROW_HEIGHT - 2 * edge - 1),
            (width - edge - 1, edge, edge + 1, ROW_HEIGHT - 2 * edge - 1),
        ):
            painter.drawImage(
                QRectF(origin + x, top + y, w, h),
                image,
                QRectF(x * dpr, y * dpr, w * dpr, h * dpr),
            )

    def lane(
        self,
        painter: QPainter,
        grid: TimeGrid,
        lane: Lane,
        top: int,
        state: PaintState,
    ) -> None:
        """A technician's visit blocks, and before each the drive from the one before it."""
        if not lane.visits:
            return
        geo = lane.geometry(grid, state.drive)
        ids = lane.ids
        faded = ids & state.lifted
        if state.matches is not None:
            faded |= ids - state.matches
        dpr = painter.device().devicePixelRatioF()
        frame = LaneFrame.of(grid)
        key = (
            grid.pieces,
            grid.hour_width,
            state.drive,
            frame.phase_steps,
            dpr,
            ids & state.selected,
            ids & state.saving,
            faded,
            bisect_left(lane.late_times, state.now.timestamp()),  # how many are late now
        )
        image = self.lane_images.get(lane.token, key)
        if image is None:
            image = self._render_lane(lane, geo, frame.phase, key[5], key[6], faded, state, dpr)
            self.lane_images.put(lane.token, key, image)
        painter.drawImage(QPointF(frame.origin + geo.start, top), image)

    def _render_lane(
        self,
        lane: Lane,
        geo: LaneGeometry,
        phase: float,
        selected: frozenset[int],
        saving: frozenset[int],
        faded: frozenset[int],
        state: PaintState,
        dpr: float,
    ) -> QImage:
        # The image begins at content x ``geo.start``; content x c is at image x c + shift.
        shift = phase - geo.start
        image = _image(phase + geo.end - geo.start, ROW_HEIGHT, dpr, LANE_FORMAT)
        image.fill(TRANSPARENT)
        painter = QPainter(image)
        painter.setRenderHint(ANTIALIASED)
        self._draw_drives(painter, geo.legs, shift)
        now = state.now.timestamp()
        for index, face in enumerate(lane.faces):
            extent = block_extent(geo.lefts[index], geo.rights[index])
            if extent is None:
                continue
            left, width = extent
            visit_id = face.visit_id
            self._draw_block(
                painter,
                # The outline where the layout says it is drawn (and hit), the words
                # where the block truly begins.
                placed(phase + left) - geo.start,
                left + shift,
                width,
                face,
                visit_id in selected,
                visit_id in saving,
                visit_id in faded,
                now > lane.late_after[index],
                dpr,
            )
        painter.end()
        return image

    def _draw_drives(self, painter: QPainter, legs: Sequence[DriveLeg], shift: float) -> None:
        """Before each visit, the drive from the one before it: grey, red when it cannot
        fit. ``legs`` are in content pixels, drawn ``shift`` further right, in a row whose
        top is at y 0."""
        y = ROW_HEIGHT - 8
        for leg in legs:
            x1 = leg.x + shift
            x0 = x1 - leg.length
            painter.setPen(DRIVE_SHORT_PEN if leg.short else DRIVE_PEN)
            painter.drawLine(QPointF(x0, y), QPointF(x1 - 2, y))
            painter.drawLine(QPointF(x0, y - 3), QPointF(x0, y + 3))
            width = self._label_width(leg.label)
            if leg.free >= width + 6:
                painter.setFont(self.tiny)
                painter.setPen(DRIVE_SHORT if leg.short else DRIVE)
                painter.drawText(
                    QRectF(x1 - width - 3, y - 13, width, 12),
                    RIGHT_MIDDLE,
                    leg.label,
                )

    def _label_width(self, label: str) -> int:
        width = self._label_widths.get(label)
        if width is None:
            width = self._label_widths[label] = self.tiny_metrics.horizontalAdvance(label) + 4
        return width

    def _draw_block(
        self,
        painter: QPainter,
        outline_left: float,
        left: float,
        width: float,
        face: Face,
        selected: bool,
        saving: bool,
        faded: bool,
        late: bool,
        dpr: float,
    ) -> None:
        """A visit's block from x ``left``, ``width`` wide, in a row whose top is at y 0;
        its outline from ``outline_left`` (``left`` to the nearest 1/SHAPE_PHASES)."""
        emergency = face.emergency
        # Blocks of one length and look recur all over the board: their shapes are drawn
        # once (within 1/SHAPE_PHASES of a pixel of where they belong) and copied.
        origin = math.floor(outline_left)
        phase = outline_left - origin
        key = (width, phase, face.status, emergency, late, selected, saving, face.finished, dpr)
        shape = self._shapes.get(key)
        if shape is None:
            shape = _image(phase + width + 2 * MARGIN, BLOCK_HEIGHT + 2 * MARGIN, dpr, LANE_FORMAT)
            shape.fill(TRANSPARENT)
            outline = QPainter(shape)
            outline.setRenderHint(ANTIALIASED)
            self._draw_shape(
                outline,
                QRectF(MARGIN + phase, MARGIN, width, BLOCK_HEIGHT),
                face,
                EMERGENCY_COLOUR if emergency or late else theme.status_edge(face.status),
                selected,
                emergency,
                saving,
            )
            outline.end()
            self._shapes[key] = shape
            if len(self._shapes) > SHAPES_KEPT:
                self._shapes.popitem(last=False)
        painter.drawImage(QPointF(origin - MARGIN, BLOCK_TOP - MARGIN), shape)
        badged = False
        if width - 12 >= 34:  # room for a word or two: below that, an ellipsis says nothing
            badged = self._visit_text(
                painter, face, QRectF(left + 8, BLOCK_TOP + 2, width - 12, BLOCK_HEIGHT - 4), late
            )
        if face.short_of and not badged and width >= PARTS_CORNER + 4:
            # Too narrow for the badge: a corner in its colour still says "parts".
            right = left + width
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PARTS_COLOUR)
            painter.drawPolygon(
                [
                    QPointF(right - PARTS_CORNER - 1, BLOCK_TOP + 1),
                    QPointF(right - 1, BLOCK_TOP + 1),
                    QPointF(right - 1, BLOCK_TOP + 1 + PARTS_CORNER),
                ]
            )
        if faded:
            fill_across(painter, left - 1, left + width + 1, BLOCK_TOP - 1, BLOCK_HEIGHT + 2, FADED)

    def _draw_shape(
        self,
        painter: QPainter,
        block: QRectF,
        face: Face,
        edge: QColor,
        selected: bool,
        emergency: bool,
        saving: bool,
    ) -> None:
        """A block without its words: the outline, the status edge, a finished one faded."""
        painter.setBrush(QBrush(theme.status_fill(face.status)))
        pen = QPen(
            theme.SELECTION if selected else edge,
            outline_width(selected=selected, emergency=emergency),
        )
        if saving:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(block, 4, 4)
        painter.fillRect(QRectF(block.left(), block.top() + 2, 4, block.height() - 4), edge)
        if face.finished:  # done work steps back
            fill_across(painter, block.left(), block.right(), block.top(), BLOCK_HEIGHT, FADED)

    def _visit_text(self, painter: QPainter, face: Face, inner: QRectF, late: bool) -> bool:
        """The block's words and badges; whether the parts badge found room."""
        x, y, full = inner.left(), inner.top(), int(inner.width())
        # Elided text stays within its width; only a block too narrow for an ellipsis
        # needs the (costly) clip to keep its words inside.
        narrow = full < NARROW
        if narrow:
            painter.save()
            painter.setClipRect(inner)
        width = full
        badge = "EMERGENCY " if face.emergency else ""
        if late:
            badge += "LATE "
        if badge:
            painter.setFont(self.tiny)
            badge_width = self.tiny_metrics.horizontalAdvance(badge) + 6
            if badge_width < width - 30:
                box = QRectF(inner.right() - badge_width, y + 1, badge_width, 13)
                painter.fillRect(box, EMERGENCY_COLOUR)
                painter.setPen(Qt.GlobalColor.white)
                painter.drawText(box, CENTRE, badge.strip())
                width -= badge_width + 2
        badged = False
        if face.short_of:
            parts_width = self._label_width(PARTS_WORD) + 2
            if parts_width < width - 30:
                self._parts_badge(painter, x + width - parts_width, y + 1)
                width -= parts_width + 2
                badged = True
        painter.setPen(theme.TEXT)
        painter.setFont(self.bold)
        painter.drawText(QRectF(x, y, width, 16), MIDDLE, self._title(face.title, width))
        painter.setFont(self.small)
        painter.setPen(theme.MUTED_TEXT)
        metrics = self.small_metrics
        painter.drawText(
            QRectF(x, y + 15, full, 14), MIDDLE, metrics.elidedText(face.place, ELIDE, full)
        )
        painter.drawText(
            QRectF(x, y + 28, full, 14), MIDDLE, metrics.elidedText(face.detail, ELIDE, full)
        )
        if narrow:
            painter.restore()
        return badged

    def _elide_title(self, title: str, width: int) -> str:
        return self.bold_metrics.elidedText(title, ELIDE, width)

    def ghost(self, painter: QPainter, grid: TimeGrid, ghost: Ghost, top: int) -> None:
        box = ghost_box(grid, ghost.starts, ghost.ends, top)
        block = QRectF(box.left, box.top, box.width, box.height)
        colour = _verdict_colour(ghost.verdict)
        fill = QColor(colour)
        fill.setAlpha(40)
        painter.setBrush(fill)
        painter.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(block, 4, 4)
        painter.setFont(self.bold)
        painter.setPen(theme.TEXT)
        inner = block.adjusted(8, 2, -4, -2)
        label = f"{clock_text(ghost.starts)}–{clock_text(ghost.ends)}  {ghost.visit.job_type}"
        painter.drawText(
            inner,
            TOP_LEFT,
            self.bold_metrics.elidedText(label, ELIDE, int(inner.width())),
        )

    def message_box(self, anchor: QPointF, message: str, limit: float, notes: int = 0) -> QRectF:
        """Where ``ghost_message`` draws ``message`` (empty when there is none); its last
        ``notes`` lines carry the parts badge."""
        if not message:
            return QRectF()
        lines = message.split("\n")
        first_note = len(lines) - notes
        badge = self._label_width(PARTS_WORD) + 2
        widest = max(
            self.small_metrics.horizontalAdvance(line) + (badge + 4 if n >= first_note else 0)
            for n, line in enumerate(lines)
        )
        width = min(420, widest + 16)
        height = 16 * len(lines) + 8
        x = min(anchor.x(), limit - width - 4)
        return QRectF(max(GUTTER_WIDTH + 2, x), anchor.y(), width, height)

    def ghost_message(
        self,
        painter: QPainter,
        anchor: QPointF,
        message: str,
        verdict: str,
        limit: float,
        notes: int = 0,
    ) -> None:
        """The rules' verdict next to the dragged block, so the eye need not leave it; the
        last ``notes`` lines are what the truck lacks, badged as on the blocks."""
        if not message:
            return
        colour = _verdict_colour(verdict)
        painter.setFont(self.small)
        box = self.message_box(anchor, message, limit, notes)
        width = box.width()
        painter.setPen(QPen(colour, 1))
        painter.setBrush(QColor(255, 255, 255, 240))
        painter.drawRoundedRect(box, 4, 4)
        painter.fillRect(QRectF(box.left(), box.top(), 4, box.height()), colour)
        lines = message.split("\n")
        first_note = len(lines) - notes
        for index, line in enumerate(lines):
            x, room = box.left() + 10, width - 14
            top = box.top() + 4 + 16 * index
            if index >= first_note:
                badge = self._parts_badge(painter, x, top + 1.5)
                painter.setFont(self.small)
                x, room = x + badge + 4, room - badge - 4
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(x, top, room, 16),
                MIDDLE,
                self.small_metrics.elidedText(line, ELIDE, int(room)),
            )

    def _parts_badge(self, painter: QPainter, x: float, y: float) -> float:
        """The badge of a truck that lacks a part, its top left at (x, y); its width."""
        width = self._label_width(PARTS_WORD) + 2
        box = QRectF(x, y, width, 13)
        painter.fillRect(box, PARTS_COLOUR)
        painter.setFont(self.tiny)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(box, CENTRE, PARTS_WORD)
        return width

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
        lane: Lane,
        now: dt.datetime,
        grid: TimeGrid,
    ) -> None:
        showing_now = grid.pieces[0].start.date() <= now.date() <= grid.pieces[-1].day
        # The status word depends on the time only at shift edges and visit starts.
        moment = bisect_right(self._moments(row, lane), now.timestamp()) if showing_now else -1
        dpr = painter.device().devicePixelRatioF()
        key = (row, lane.token, grid.pieces, showing_now, moment, dpr)
        image = self.gutter_images.get(row.id, key)
        if image is None:
            image = _image(GUTTER_WIDTH, ROW_HEIGHT, dpr, HEADER_FORMAT)
            image.fill(theme.HEADER_BG)
            column = QPainter(image)
            column.setRenderHint(ANTIALIASED)
            self._draw_gutter(column, row, lane, now, grid)
            column.end()
            self.gutter_images.put(row.id, key, image)
        painter.drawImage(QPointF(0, top), image)

    def _moments(self, row: TechnicianRow, lane: Lane) -> list[float]:
        kept = self._status_moments.get(row.id)
        if kept is not None and kept[0] is row and kept[1] == lane.token:
            return kept[2]
        ordered = status_changes(row.working, lane.visits)
        self._status_moments[row.id] = (row, lane.token, ordered)
        return ordered

    def _draw_gutter(
        self,
        painter: QPainter,
        row: TechnicianRow,
        lane: Lane,
        now: dt.datetime,
        grid: TimeGrid,
    ) -> None:
        painter.setPen(GRID_PEN)
        painter.drawLine(QPointF(0, ROW_HEIGHT - 0.5), QPointF(GUTTER_WIDTH, ROW_HEIGHT - 0.5))
        painter.drawLine(QPointF(GUTTER_WIDTH - 0.5, 0), QPointF(GUTTER_WIDTH - 0.5, ROW_HEIGHT))
        painter.fillRect(QRectF(0, 6, 5, ROW_HEIGHT - 13), QColor(row.colour))

        tz = grid.origin.tzinfo
        first = dt.datetime.combine(grid.pieces[0].day, dt.time(0), tz)
        last = dt.datetime.combine(grid.pieces[-1].day + dt.timedelta(days=1), dt.time(0), tz)
        status = row_status(row, lane.visits, now, (grid.pieces[0].day, grid.pieces[-1].day))
        painter.setPen(theme.TEXT)
        painter.setFont(self.bold)
        name_width = GUTTER_WIDTH - 100
        painter.drawText(
            QRectF(14, 4, name_width, 18),
            MIDDLE,
            self.bold_metrics.elidedText(row.name, ELIDE, name_width),
        )
        # Booked hours against the shift hours on the days shown, as text and a filling bar.
        shifts = row.working
        begin, end = first.timestamp(), last.timestamp()
        capacity = (
            sum(
                max(0.0, min(s.end.timestamp(), end) - max(s.start.timestamp(), begin))
                for s in shifts
            )
            / 3600
        )
        booked = lane.booked_seconds / 3600
        painter.setFont(self.small)
        painter.setPen(theme.MUTED_TEXT)
        hours = f"{booked:.1f} / {capacity:.0f} h" if capacity else "off"
        painter.drawText(
            QRectF(GUTTER_WIDTH - 90, 4, 80, 18),
            RIGHT_MIDDLE,
            hours,
        )
        if capacity:
            bar = QRectF(GUTTER_WIDTH - 90, 23, 80, 3)
            painter.fillRect(bar, theme.GRID)
            share = min(1.0, booked / capacity)
            painter.fillRect(
                QRectF(bar.left(), bar.top(), bar.width() * share, 3),
                REFUSE_COLOUR if booked > capacity else QColor(row.colour),
            )
        # Status dot and word.
        painter.setBrush(_status_colour(status))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(18, 30), 3.5, 3.5)
        painter.setPen(theme.MUTED_TEXT)
        painter.setFont(self.small)
        painter.drawText(QRectF(26, 22, GUTTER_WIDTH - 120, 16), MIDDLE, status.text)
        # Skill badges.
        x = 14.0
        painter.setFont(self.tiny)
        trade = row.trade.upper()
        dpr = painter.device().devicePixelRatioF()
        for code in (trade, *row.skills):
            width = self.tiny_metrics.horizontalAdvance(code) + 8
            if x + width > GUTTER_WIDTH - 8:
                painter.setPen(theme.MUTED_TEXT)
                painter.drawText(QRectF(x, 41, 20, 14), MIDDLE, "…")
                break
            badge = self._badge(code, width, row.colour if code == trade else "", dpr)
            painter.drawImage(QPointF(x, 41), badge)
            x += width + 3

    def _badge(self, code: str, width: int, colour: str, dpr: float) -> QImage:
        """A skill badge on the name column's background (the trade's in ``colour``):
        the same few recur on every row."""
        key = (code, width, colour, dpr)
        image = self._badges.get(key)
        if image is None:
            image = _image(width, 14, dpr, HEADER_FORMAT)
            image.fill(theme.HEADER_BG)
            painter = QPainter(image)
            painter.setRenderHint(ANTIALIASED)
            painter.setFont(self.tiny)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour) if colour else BADGE)
            badge = QRectF(0, 0, width, 14)
            painter.drawRoundedRect(badge, 3, 3)
            painter.setPen(Qt.GlobalColor.white if colour else theme.TEXT)
            painter.drawText(badge, CENTRE, code)
            painter.end()
            self._badges[key] = image
        return image


def fill_across(
    painter: QPainter, left: float, right: float, top: float, height: float, colour: QColor
) -> None:
    """``painter.fillRect`` from x ``left`` to ``right`` over whole rows of pixels (``top``
    and ``height`` whole numbers), with the same pixels: antialiased, a rect at fractional
    x takes Qt's slow path over its whole area, so only the two partly covered columns
    go that way."""
    inner_left, inner_right = math.ceil(left), math.floor(right)
    if inner_right - inner_left < 1:
        painter.fillRect(QRectF(left, top, right - left, height), colour)
        return
    if inner_left > left:
        painter.fillRect(QRectF(left, top, inner_left - left, height), colour)
    painter.fillRect(QRectF(inner_left, top, inner_right - inner_left, height), colour)
    if right > inner_right:
        painter.fillRect(QRectF(inner_right, top, right - inner_right, height), colour)


def _image(width: float, height: float, dpr: float, kind: QImage.Format) -> QImage:
    """An image of ``width`` × ``height`` device-independent pixels for a screen of ``dpr``."""
    image = QImage(math.ceil(width * dpr), math.ceil(height * dpr), kind)
    image.setDevicePixelRatio(dpr)
    return image


def _verdict_colour(verdict: str) -> QColor:
    return OK_COLOUR if verdict == "ok" else ASK_COLOUR if verdict == "ask" else REFUSE_COLOUR


def _status_colour(status: TechnicianStatus) -> QColor:
    """The dot before a technician's status: their visit's colour while they are at it
    or on the way, green when they can take work, grey when not."""
    if status.activity in (Activity.ON_SITE, Activity.EN_ROUTE):
        return theme.status_edge(status.activity.value)
    if status.activity in (Activity.NEXT, Activity.AVAILABLE):
        return OK_COLOUR
    return theme.MUTED_TEXT
