"""A technician's lane as the painter needs it: the visits in time order with their
instants, block texts (with what the truck lacks for each) and drive legs worked out once
when the lane changes, not again in every frame.

The row index keeps one ``Lane`` per technician and drops it when a visit of that row
is placed or removed; the next paint builds a new one. No Qt. Times are POSIX seconds, so the
order and the gaps are right across a daylight-saving change.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.statuses import (
    LATE_GRACE,
    VISIT_FINISHED,
    VISIT_NOT_BLOCKING,
    VISIT_WAITING,
    clock_text,
)
from dispatch_app.domain.truck_stock import TruckCheck
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.services.day_board import VisitBlock
from dispatch_app.ui.board.grid import DayPiece, TimeGrid

# A visit still waiting for its technician this long after its window closed is late.
LATE_GRACE_S = LATE_GRACE.total_seconds()
EMERGENCY = Priority.EMERGENCY.value

# Room left and right of a lane's blocks for what reaches past their edges: the
# selection outline (half of 2.5 px) and the fade over a lifted block (1 px).
MARGIN = 2

_tokens = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Face:
    """Everything a visit's block shows, its words made up once."""

    visit_id: int
    status: str
    emergency: bool
    finished: bool
    title: str  # the job type
    place: str  # customer · city
    detail: str  # work order number · arrival window (or booked times)
    # What the row's technician's truck lacks for the job ("Truck 7 has no …"); "": nothing.
    short_of: str = ""


def face_of(visit: VisitBlock, shortage: TruckCheck | None = None) -> Face:
    window = visit.arrival_window
    if window:
        tz = visit.starts.tzinfo
        start, end = window.start.astimezone(tz), window.end.astimezone(tz)
        when = f"arrive {clock_text(start)}–{clock_text(end)}"
    else:
        when = f"{clock_text(visit.starts)}–{clock_text(visit.ends)}"
    return Face(
        visit.id,
        visit.status,
        visit.priority == EMERGENCY,
        visit.status in VISIT_FINISHED,
        visit.job_type,
        f"{visit.customer} · {visit.city}",
        f"{visit.number} · {when}",
        shortage.sentence if shortage is not None else "",
    )


@dataclass(frozen=True, slots=True)
class DriveLeg:
    """The drive into a visit from the visit before it, at one scale."""

    x: float  # content x where the visit starts (the leg ends here)
    length: float  # the drive in pixels, drawn leftwards from ``x``
    free: float  # pixels between the two visits: room for the label
    short: bool  # the drive does not fit in the gap
    label: str


@dataclass(slots=True)
class LaneGeometry:
    """Where a lane's blocks and drives lie at one scale, in content pixels."""

    pieces: tuple[DayPiece, ...]
    hour_width: float
    drive: DriveEstimate
    lefts: list[float]  # each block's left edge (clamped to the days shown), ascending
    rights: list[float]  # each block's right edge
    legs: tuple[DriveLeg, ...]
    start: int  # from here to ``end`` lies everything the lane draws
    end: int


class Lane:
    """One technician's visits, ordered by start, with what painting them needs."""

    def __init__(
        self, visits: Sequence[VisitBlock], shortages: Sequence[TruckCheck | None] | None = None
    ) -> None:
        """``shortages``: what the row's truck lacks for each visit, in the same order
        (None: the company keeps no stock)."""
        self.token = next(_tokens)  # a new lane is new content for every cache keyed on it
        self.visits = list(visits)
        self.starts = [v.starts.timestamp() for v in visits]
        self.ends = [v.ends.timestamp() for v in visits]
        self.shortages = list(shortages) if shortages is not None else [None] * len(self.visits)
        self.faces = [
            face_of(v, short) for v, short in zip(self.visits, self.shortages, strict=True)
        ]
        self.ids = frozenset(v.id for v in visits)
        # When a waiting visit turns late (never for one that is not waiting).
        self.late_after = [
            (
                (v.arrival_window.end.timestamp() if v.arrival_window else start) + LATE_GRACE_S
                if v.status in VISIT_WAITING
                else math.inf
            )
            for v, start in zip(visits, self.starts, strict=True)
        ]
        self.late_times = sorted(t for t in self.late_after if t != math.inf)
        self.booked_seconds = sum(
            end - start
            for v, start, end in zip(visits, self.starts, self.ends, strict=True)
            if v.status not in VISIT_NOT_BLOCKING
        )
        self._geometry: LaneGeometry | None = None
        self._drives: tuple[DriveEstimate, list[tuple[int, int, float]]] | None = None

    def geometry(self, grid: TimeGrid, drive: DriveEstimate) -> LaneGeometry:
        """Block edges and drive legs in content pixels, kept until the scale changes."""
        geo = self._geometry
        if (
            geo is not None
            and geo.hour_width == grid.hour_width
            and (geo.pieces is grid.pieces or geo.pieces == grid.pieces)
            and geo.drive == drive
        ):
            return geo
        width = grid.content_width
        lefts = [max(0.0, grid.content_x(start)) for start in self.starts]
        rights = [min(width, grid.content_x(end)) for end in self.ends]
        legs = self._legs(grid, drive)
        # A drive's line and tick reach left of its visit by the drive, its label by no
        # more than the gap; a block's outline reaches past its edges by MARGIN at most.
        first = min(
            [*lefts[:1], *(min(leg.x - leg.length - 1, leg.x - leg.free) for leg in legs)],
            default=0.0,
        )
        last = max(rights) if rights else 0.0
        geo = LaneGeometry(
            grid.pieces,
            grid.hour_width,
            drive,
            lefts,
            rights,
            legs,
            math.floor(max(0.0, first - MARGIN)),
            math.ceil(min(width, last) + MARGIN),
        )
        self._geometry = geo
        return geo

    def _legs(self, grid: TimeGrid, drive: DriveEstimate) -> tuple[DriveLeg, ...]:
        legs = []
        for index, previous, minutes in self.drives(drive):
            start, before_end = self.starts[index], self.ends[previous]
            x = grid.content_x(start)
            legs.append(
                DriveLeg(
                    x,
                    minutes / 60 * grid.hour_width,
                    x - grid.content_x(before_end),
                    minutes > (start - before_end) / 60 + 0.5,
                    f"{math.ceil(minutes)} min",
                )
            )
        return tuple(legs)

    def drives(self, drive: DriveEstimate) -> list[tuple[int, int, float]]:
        """Each drive as (visit index, index of the visit driven from, minutes): worked
        out once for the lane, whatever the scale it is shown at."""
        if self._drives is not None and self._drives[0] == drive:
            return self._drives[1]
        drives = []
        previous: int | None = None
        for index, visit in enumerate(self.visits):
            if visit.status in VISIT_NOT_BLOCKING:
                continue
            if previous is not None:
                before = self.visits[previous]
                if (
                    before.lat is not None
                    and before.lon is not None
                    and visit.lat is not None
                    and visit.lon is not None
                    and self.ends[previous] <= self.starts[index]
                ):
                    minutes = drive.minutes((before.lat, before.lon), (visit.lat, visit.lon))
                    drives.append((index, previous, minutes))
            # The drive starts from whichever visit ends last, not the one started last.
            if previous is None or self.ends[index] > self.ends[previous]:
                previous = index
        self._drives = (drive, drives)
        return drives
