"""What the statuses mean: which ones are open, under way, finished or billed, the words a
person reads for each, and what a technician is doing now.

Every screen and operation asks here rather than listing statuses of its own, so a new
status (or a changed rule, say "a no-show still holds the technician's time") is one
edit, and the board, the map, the queue and the database queries cannot drift apart.
The state machines that say which status may follow which are ``visit_status`` and
``work_order_status``; they take their sets and labels from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.domain.vocabulary import VisitStatus, WorkOrderStatus

_V = VisitStatus
_W = WorkOrderStatus

# -- visits ---------------------------------------------------------------------------
# Work still ahead of the visit.
VISIT_OPEN = frozenset({_V.UNSCHEDULED, _V.SCHEDULED, _V.DISPATCHED, _V.EN_ROUTE, _V.ON_SITE})
# Booked, and the technician has not set out yet: such a visit can be late, and it is
# the one a technician is "next" at.
VISIT_WAITING = frozenset({_V.SCHEDULED, _V.DISPATCHED})
# The work order takes these over from its visit as they happen.
VISIT_UNDER_WAY = frozenset({_V.DISPATCHED, _V.EN_ROUTE, _V.ON_SITE})
# Ended without the work done (the office calls the customer back).
VISIT_ENDED_EARLY = frozenset({_V.CANCELLED, _V.NO_SHOW})
# A visit that ended early no longer holds its technicians' time, nor is it driven to.
VISIT_NOT_BLOCKING = VISIT_ENDED_EARLY
# Its place in the day is history: it happened (or will not) where it is.
VISIT_FINISHED = frozenset({_V.COMPLETED}) | VISIT_ENDED_EARLY
# A waiting visit is late this long after its arrival window closed (without a window,
# after its start): the board marks it, the wall display counts it.
LATE_GRACE = dt.timedelta(minutes=15)

VISIT_LABELS: dict[str, str] = {
    _V.UNSCHEDULED: "Unscheduled",
    _V.SCHEDULED: "Scheduled",
    _V.DISPATCHED: "Dispatched",
    _V.EN_ROUTE: "En route",
    _V.ON_SITE: "On site",
    _V.COMPLETED: "Completed",
    _V.CANCELLED: "Cancelled",
    _V.NO_SHOW: "No-show",
}

# -- work orders ----------------------------------------------------------------------
WORK_ORDER_OPEN = frozenset({_W.NEW, _W.SCHEDULED, _W.DISPATCHED, _W.EN_ROUTE, _W.ON_SITE})
# The work was done (and perhaps invoiced and paid).
WORK_ORDER_DONE = frozenset({_W.COMPLETED, _W.INVOICED, _W.CLOSED})
WORK_ORDER_ENDED_EARLY = frozenset({_W.CANCELLED, _W.NO_SHOW})
# Nothing more will happen on it: done or ended early.
WORK_ORDER_FINISHED = WORK_ORDER_DONE | WORK_ORDER_ENDED_EARLY
# Billing has started: what was done and charged is history, no longer a plan.
WORK_ORDER_BILLED = frozenset({_W.INVOICED, _W.CLOSED})

WORK_ORDER_LABELS: dict[str, str] = {
    _W.NEW: "New",
    _W.SCHEDULED: "Scheduled",
    _W.DISPATCHED: "Dispatched",
    _W.EN_ROUTE: "En route",
    _W.ON_SITE: "On site",
    _W.COMPLETED: "Completed",
    _W.INVOICED: "Invoiced",
    _W.CLOSED: "Closed",
    _W.CANCELLED: "Cancelled",
    _W.NO_SHOW: "No-show",
}


def sql_values(statuses: frozenset[VisitStatus] | frozenset[WorkOrderStatus]) -> list[str]:
    """The statuses as the database stores them, in a fixed order (for ``IN`` lists)."""
    return sorted(status.value for status in statuses)


# -- technicians ----------------------------------------------------------------------
class Activity(StrEnum):
    """What a technician is doing, as the board's name column and the map say it."""

    ON_SITE = "on_site"
    EN_ROUTE = "en_route"
    NEXT = "next"  # on shift, a visit still waiting later today
    AVAILABLE = "available"  # on shift, nothing waiting
    OFF_SHIFT = "off_shift"  # works today, but not now
    OFF_TODAY = "off_today"  # no shift on the days shown
    # Another day is shown, so what matters is when they work that day.
    SHIFT = "shift"
    OFF = "off"


TECHNICIAN_STATUS_LABELS: dict[Activity, str] = {
    Activity.ON_SITE: "On site · {number}",
    Activity.EN_ROUTE: "En route · {number}",
    Activity.NEXT: "Available · next {at}",
    Activity.AVAILABLE: "Available",
    Activity.OFF_SHIFT: "Off shift",
    Activity.OFF_TODAY: "Off today",
    Activity.SHIFT: "Shift {at}–{until}",
    Activity.OFF: "Off",
}


class TechniciansVisit(Protocol):
    """What the status needs of a visit (the board's and the map's visits both are one)."""

    @property
    def id(self) -> int: ...

    @property
    def number(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def starts(self) -> dt.datetime: ...


def clock_text(moment: dt.datetime) -> str:
    """``HH:MM`` of ``moment`` on its own wall clock (f"{t:%H:%M}" goes through strftime,
    which is slow enough to show when a screenful of rows is drawn)."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


@dataclass(frozen=True, slots=True)
class TechnicianStatus:
    """What a technician is doing at one moment, and the visit or times it is about."""

    activity: Activity
    visit_id: int = 0  # on site at, en route to, or next at (0: none)
    number: str = ""  # that visit's work order number
    at: dt.datetime | None = None  # when the next visit starts, or the shift does
    until: dt.datetime | None = None  # when the shift ends (another day shown)

    @property
    def text(self) -> str:
        """The status in the words the board and the map show."""
        return TECHNICIAN_STATUS_LABELS[self.activity].format(
            number=self.number,
            at=clock_text(self.at) if self.at is not None else "",
            until=clock_text(self.until) if self.until is not None else "",
        )


def technician_status(
    shifts: Sequence[TimeSpan],
    visits: Sequence[TechniciansVisit],
    now: dt.datetime,
    *,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> TechnicianStatus:
    """What the technician is doing at ``now`` (on the business zone's wall clock).

    ``shifts`` and ``visits`` are theirs on the days shown (``first_day`` to
    ``last_day``; both None: now's day), each in time order. The visits' statuses
    decide first (on site, else en route); then, when those days include today, the
    shift: available (and when the next waiting visit starts) or off; on another day,
    when they work.
    """
    for visit in visits:
        if visit.status == _V.ON_SITE:
            return TechnicianStatus(Activity.ON_SITE, visit.id, visit.number)
    for visit in visits:
        if visit.status == _V.EN_ROUTE:
            return TechnicianStatus(Activity.EN_ROUTE, visit.id, visit.number)
    first = first_day if first_day is not None else now.date()
    last = last_day if last_day is not None else first
    if not first <= now.date() <= last:
        # Another day: a shift that began the evening before says nothing about it.
        shown_from = dt.datetime.combine(first, dt.time(0), now.tzinfo).timestamp()
        own = [s for s in shifts if s.start.timestamp() >= shown_from]
        if not own:
            return TechnicianStatus(Activity.OFF)
        shift = own[0]
        return TechnicianStatus(
            Activity.SHIFT, at=shift.start, until=shift.end.astimezone(shift.start.tzinfo)
        )
    stamp = now.timestamp()
    if any(s.start.timestamp() <= stamp < s.end.timestamp() for s in shifts):
        for visit in visits:
            if visit.starts.timestamp() > stamp and visit.status in VISIT_WAITING:
                return TechnicianStatus(Activity.NEXT, visit.id, visit.number, visit.starts)
        return TechnicianStatus(Activity.AVAILABLE)
    if not shifts:
        return TechnicianStatus(Activity.OFF_TODAY)
    return TechnicianStatus(Activity.OFF_SHIFT)


def status_changes(shifts: Sequence[TimeSpan], visits: Sequence[TechniciansVisit]) -> list[float]:
    """The instants (POSIX seconds, ascending) at which ``technician_status`` can change
    with the clock alone: the shifts' edges and the starts of waiting visits. Between
    two of them only a change to the data changes the answer."""
    moments = {stamp for s in shifts for stamp in (s.start.timestamp(), s.end.timestamp())}
    moments.update(v.starts.timestamp() for v in visits if v.status in VISIT_WAITING)
    return sorted(moments)
