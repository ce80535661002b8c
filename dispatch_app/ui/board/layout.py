"""Where a visit's block is on the screen, to the fraction of a pixel it is drawn at. No Qt.

The painter draws blocks where this module puts them and the view hit-tests against the
same boxes, so a click lands on what is drawn under the pointer: on a block's outermost
drawn pixel it takes that block, one pixel further out it does not. A pixel counts as
drawn when at least half of it is covered (the outline included), the same rule the
eye uses on an antialiased edge.

Positions are in two frames: content pixels (0 at the first hour shown, as
``TimeGrid.content_x`` gives them; a lane's geometry is kept in these) and the
viewport's pixels, where a lane lands at ``LaneFrame``: a whole-pixel origin plus a
phase kept to 1/``SUBPIXEL`` of a pixel, so a lane drawn once can be copied at any
scroll. Within a lane, a block's outline is drawn at its left edge to the nearest
1/``SHAPE_PHASES`` of a pixel (outlines of one size are drawn once per phase and
copied), and ``placed`` is where that puts it.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass

from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.ui.board.grid import TimeGrid
from dispatch_app.ui.board.lanes import Lane
from dispatch_app.ui.board.rows import ROW_HEIGHT

BLOCK_TOP = 4  # a block's top edge below its row's
BLOCK_HEIGHT = ROW_HEIGHT - 14  # room under the blocks for the drive lines
# A block begins this far after its start time and ends as far before its end, so two
# visits back to back read as two blocks.
BLOCK_INSET = 1.5
NARROWEST_BLOCK = 2.0  # a very short visit still shows as a sliver
NARROWEST_GHOST = 4.0
OUTLINE = 1.0
BOLD_OUTLINE = 2.5  # a selected or emergency block
EDGE_GRIP = 6  # pixels at each end of a block that resize it instead of moving it
# A lane's phase is kept to this fraction of a pixel (fine enough that text lands on
# the same pixels wherever the lane is copied to)...
SUBPIXEL = 1024
SHAPE_PHASES = 8  # ... a block's outline to this one


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in viewport pixels, as floats (``left`` may fall between pixels)."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.left + self.width / 2, self.top + self.height / 2

    def grown(self, by: float) -> Box:
        return Box(self.left - by, self.top - by, self.width + 2 * by, self.height + 2 * by)

    def covers_pixel(self, x: float, y: float) -> bool:
        """Whether at least half of the pixel holding point (x, y) lies inside."""
        cx, cy = math.floor(x) + 0.5, math.floor(y) + 0.5
        return self.left <= cx <= self.right and self.top <= cy <= self.bottom

    def intersects(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


class BlockPart(enum.Enum):
    """What a press on a block grabs."""

    BODY = enum.auto()  # moves it
    START = enum.auto()  # its left edge: changes when it starts
    END = enum.auto()  # its right edge: changes when it ends


@dataclass(frozen=True, slots=True)
class LaneFrame:
    """Where content x 0 is drawn: at viewport x ``origin + phase``."""

    origin: int
    phase_steps: int  # the phase in 1/SUBPIXEL of a pixel (a whole number: a cache key)

    @staticmethod
    def of(grid: TimeGrid) -> LaneFrame:
        origin = math.floor(grid.left)
        return LaneFrame(origin, round((grid.left - origin) * SUBPIXEL))

    @property
    def phase(self) -> float:
        return self.phase_steps / SUBPIXEL


def block_extent(x0: float, x1: float) -> tuple[float, float] | None:
    """The block of a visit from content x ``x0`` to ``x1`` (clamped to the days shown):
    its left edge and width; None when too little of it is shown to draw."""
    if x1 - x0 < 1:
        return None
    return x0 + BLOCK_INSET, max(NARROWEST_BLOCK, x1 - x0 - 2 * BLOCK_INSET)


def placed(x: float) -> float:
    """Where a block outline meant for x is drawn: x to the nearest 1/SHAPE_PHASES."""
    whole = math.floor(x)
    return whole + round((x - whole) * SHAPE_PHASES) / SHAPE_PHASES


def outline_width(*, selected: bool, emergency: bool) -> float:
    return BOLD_OUTLINE if selected or emergency else OUTLINE


class BlockLayout:
    """Blocks of lanes at one grid: where each is drawn, and which one a point is on."""

    def __init__(self, grid: TimeGrid, drive: DriveEstimate) -> None:
        self.grid = grid
        self.drive = drive
        self.frame = LaneFrame.of(grid)

    def box(self, lane: Lane, index: int, top: float) -> Box | None:
        """The ``index``-th block of ``lane`` in a row whose top is at ``top`` (without its
        outline); None when it is not drawn."""
        geo = lane.geometry(self.grid, self.drive)
        extent = block_extent(geo.lefts[index], geo.rights[index])
        if extent is None:
            return None
        left, width = extent
        frame = self.frame
        return Box(frame.origin + placed(frame.phase + left), top + BLOCK_TOP, width, BLOCK_HEIGHT)

    def box_of(self, lane: Lane, visit_id: int, top: float) -> Box | None:
        for index, visit in enumerate(lane.visits):
            if visit.id == visit_id:
                return self.box(lane, index, top)
        return None

    def hit(
        self, lane: Lane, top: float, x: float, y: float, selected: frozenset[int]
    ) -> tuple[int, BlockPart] | None:
        """The block drawn on the pixel at (x, y), the topmost where blocks overlap (the
        later ones are drawn over the earlier), as an index into the lane, and the part
        of it there."""
        for index in range(len(lane.visits) - 1, -1, -1):
            box = self.box(lane, index, top)
            if box is None:
                continue
            outline = outline_width(
                selected=lane.visits[index].id in selected, emergency=lane.faces[index].emergency
            )
            drawn = box.grown(outline / 2)  # the outline is centred on the box's edge
            if not drawn.covers_pixel(x, y):
                continue
            centre = math.floor(x) + 0.5
            if box.width > 3 * EDGE_GRIP:
                if centre <= box.left + EDGE_GRIP:
                    return index, BlockPart.START
                if centre >= box.right - EDGE_GRIP:
                    return index, BlockPart.END
            return index, BlockPart.BODY
        return None


def ghost_box(grid: TimeGrid, starts: dt.datetime, ends: dt.datetime, top: float) -> Box:
    """Where a block dragged to ``starts``–``ends`` is shown, in a row at ``top``."""
    x0, x1 = grid.x_of(starts), grid.x_of(ends)
    return Box(
        x0 + BLOCK_INSET,
        top + BLOCK_TOP,
        max(NARROWEST_GHOST, x1 - x0 - 2 * BLOCK_INSET),
        BLOCK_HEIGHT,
    )
