"""The board's day by technician row: each row's visits in time order, the version of every
visit placed, what each technician's truck lacks for them, the hours the timeline spans,
and the lanes the painter draws. No Qt.

The view keeps one ``RowIndex`` and tells it what the item models report (a new day, a
visit placed, moved or gone); the view's hit-testing, the move planner and the painter
all read it, so there is one copy of "who has what when". A change answers with the
rows it touched, so only those are repainted.
"""

from __future__ import annotations

import datetime as dt
from bisect import insort
from collections.abc import Iterable, Mapping, Sequence

from dispatch_app.domain.statuses import VISIT_FINISHED, TechnicianStatus, technician_status
from dispatch_app.domain.truck_stock import TruckCheck, TruckStock
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.ui.board.lanes import Lane

DEFAULT_FIRST_HOUR = 7
DEFAULT_LAST_HOUR = 18
SHORTEST_DAY_HOURS = 6  # a nearly empty day still reads as a day


def start_order(visit: VisitBlock) -> tuple[float, int]:
    """A row's visits in time order (as instants: right across a daylight-saving change)."""
    return visit.starts.timestamp(), visit.id


class RowIndex:
    def __init__(self) -> None:
        self._technicians: list[TechnicianRow] = []  # every one, filtered or not
        self._by_id: dict[int, TechnicianRow] = {}
        self._visits_by_row: dict[int, list[VisitBlock]] = {}  # technician id → visits
        self._placed: dict[int, VisitBlock] = {}  # visit id → the version indexed above
        self._lanes: dict[int, Lane] = {}  # technician id → their visits, ready to draw
        self._day: dt.date | None = None
        self._days = 1
        self._timezone: dt.tzinfo | None = None
        self._hours: tuple[int, int] | None = None  # worked out when asked, kept till a change
        self._truck_stock = TruckStock()

    # -- what the models say ----------------------------------------------------------
    def set_technicians(self, technicians: Iterable[TechnicianRow]) -> None:
        self._technicians = list(technicians)
        self._by_id = {t.id: t for t in self._technicians}
        self._hours = None

    def set_day(self, day: dt.date, timezone: dt.tzinfo, days: int = 1) -> None:
        self._day, self._timezone, self._days = day, timezone, days
        self._hours = None

    def set_truck_stock(self, stock: TruckStock) -> set[int]:
        """What the trucks carry now; returns the rows whose visits' markers change."""
        old, self._truck_stock = self._truck_stock, stock
        touched = set()
        for tech, visits in self._visits_by_row.items():
            if any(_shortage(old, tech, v) != _shortage(stock, tech, v) for v in visits):
                touched.add(tech)
                self._lanes.pop(tech, None)
        return touched

    def reset(self, visits: Iterable[VisitBlock]) -> None:
        """A whole new set of visits (a new day, or the model was reset)."""
        self._hours = None
        self._visits_by_row, self._placed, self._lanes = {}, {}, {}
        for visit in visits:
            self._placed[visit.id] = visit
            for tech in visit.technician_ids:
                self._visits_by_row.setdefault(tech, []).append(visit)
        for row in self._visits_by_row.values():  # one sort per row, not one per visit
            row.sort(key=start_order)

    def place(self, visit: VisitBlock) -> set[int]:
        """Index a new version of ``visit`` (the old one must be gone); returns the rows
        it is now in."""
        self._placed[visit.id] = visit
        if self._hours is not None and self._outside_hours(visit):
            self._hours = None
        for tech in visit.technician_ids:
            insort(self._visits_by_row.setdefault(tech, []), visit, key=start_order)
            self._lanes.pop(tech, None)
        return set(visit.technician_ids)

    def unplace(self, visit_id: int) -> set[int]:
        """Forget a visit; returns the rows it was in."""
        old = self._placed.pop(visit_id, None)
        if old is None:
            return set()
        for tech in old.technician_ids:
            self._visits_by_row[tech] = [
                v for v in self._visits_by_row.get(tech, []) if v.id != visit_id
            ]
            self._lanes.pop(tech, None)
        return set(old.technician_ids)

    # -- reading ----------------------------------------------------------------------
    @property
    def technicians(self) -> list[TechnicianRow]:
        """Every technician of the day, whatever the filters show."""
        return self._technicians

    @property
    def technicians_by_id(self) -> Mapping[int, TechnicianRow]:
        return self._by_id

    @property
    def visits_by_row(self) -> Mapping[int, Sequence[VisitBlock]]:
        return self._visits_by_row

    def technician(self, technician_id: int) -> TechnicianRow | None:
        return self._by_id.get(technician_id)

    def visit(self, visit_id: int) -> VisitBlock | None:
        """The version of the visit the board shows, None when it is not on the board."""
        return self._placed.get(visit_id)

    def __contains__(self, visit_id: object) -> bool:
        return visit_id in self._placed

    def visits_of(self, technician_id: int) -> Sequence[VisitBlock]:
        """The technician's visits, in time order."""
        return self._visits_by_row.get(technician_id, ())

    def lane(self, technician_id: int) -> Lane:
        """The technician's visits as the painter draws them, built once per change."""
        lane = self._lanes.get(technician_id)
        if lane is None:
            visits = self.visits_of(technician_id)
            stock = self._truck_stock
            shortages = [_shortage(stock, technician_id, v) for v in visits] if stock.kept else None
            lane = self._lanes[technician_id] = Lane(visits, shortages)
        return lane

    @property
    def truck_stock(self) -> TruckStock:
        return self._truck_stock

    def shortage(self, technician_id: int, visit: VisitBlock) -> TruckCheck | None:
        """What the technician's truck lacks for the visit, as their row marks it (None:
        nothing, or the work is finished)."""
        return _shortage(self._truck_stock, technician_id, visit)

    def status_of(self, technician_id: int, now: dt.datetime) -> TechnicianStatus | None:
        """What the technician is doing at ``now``, as their row says it."""
        row = self._by_id.get(technician_id)
        if row is None:
            return None
        return row_status(row, self.visits_of(technician_id), now, self.dates())

    def dates(self) -> tuple[dt.date, dt.date] | None:
        """The first and last day shown (None before a day is set)."""
        if self._day is None:
            return None
        return self._day, self._day + dt.timedelta(days=self._days - 1)

    # -- the hours shown --------------------------------------------------------------
    @property
    def hours_known(self) -> bool:
        """Whether ``hour_range`` has an answer kept (a change outside it drops it)."""
        return self._hours is not None

    def hour_range(self) -> tuple[int, int]:
        """From an hour before the first shift or visit to an hour after the last one, in
        local hours of the day (the same for every day shown)."""
        if self._hours is not None:
            return self._hours
        if self._day is None or self._timezone is None:
            return DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
        tz, day = self._timezone, self._day
        spans = [(v.starts, v.ends) for v in self._placed.values()]
        for row in self._technicians:
            # A night shift that began the evening before says nothing about this morning.
            spans += [(s.start, s.end) for s in row.working if s.start.astimezone(tz).date() >= day]
        if not spans:
            self._hours = (DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR)
            return self._hours
        first, last = 24, 0
        for start, end in spans:
            local_start, local_end = start.astimezone(tz), end.astimezone(tz)
            if local_start.date() < day:
                continue  # running since the night before: it shows from the edge
            first = min(first, local_start.hour)
            # Hours past the start day's midnight: work running into the night stretches
            # that day's piece (to 25:00 for a shift ending at 00:30) rather than making
            # every day start at midnight.
            end_hour = (local_end.date() - local_start.date()).days * 24 + local_end.hour
            last = max(last, end_hour + (1 if local_end.minute or local_end.second else 0))
        if first > last:  # only work from the night before
            first, last = DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
        first = max(0, first - 1)
        last = min(first + 24, max(last, first + 1) + 1)  # one day's piece: at most 24 h
        if last - first < SHORTEST_DAY_HOURS:
            last = first + SHORTEST_DAY_HOURS
        self._hours = (first, last)
        return self._hours

    def _outside_hours(self, visit: VisitBlock) -> bool:
        assert self._hours is not None
        if self._day is None or self._timezone is None:
            return False
        first, last = self._hours
        local_start = visit.starts.astimezone(self._timezone)
        local_end = visit.ends.astimezone(self._timezone)
        return local_start.hour < first or (
            local_end.hour + (1 if local_end.minute else 0) > last
            and local_end.date() == local_start.date()
        )


def _shortage(stock: TruckStock, technician_id: int, visit: VisitBlock) -> TruckCheck | None:
    """What the row's truck lacks for a visit still to be done (finished work needs no part)."""
    if visit.status in VISIT_FINISHED:
        return None
    return stock.shortage(technician_id, visit.job_type_id)


def row_status(
    row: TechnicianRow,
    visits: Sequence[VisitBlock],
    now: dt.datetime,
    dates: tuple[dt.date, dt.date] | None,
) -> TechnicianStatus:
    """The status a row's name column shows: the domain's, over the days shown."""
    first, last = dates if dates is not None else (None, None)
    return technician_status(row.working, visits, now, first_day=first, last_day=last)
