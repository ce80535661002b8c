"""Arrival windows a CSR can promise a caller: "between 10 and 12 on Tuesday".

A window is offered when at least one technician with the job's skills could arrive in
it and do the whole job without breaking a dispatch rule: inside their shift, clear of
their other visits, with time to drive from the visit before and to the one after. The
rules are the board's own (``dispatch_rules.check_placement``), so what the phone
promises, the board accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch_app.domain.dispatch_rules import (
    BookedVisit,
    Placement,
    TechnicianProfile,
    check_placement,
)
from dispatch_app.domain.geo import DriveEstimate, Place
from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.domain.truck_stock import TruckCheck

UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """How a company slices its days into promises (local wall-clock hours)."""

    first_hour: int = 8
    last_hour: int = 18
    window_hours: int = 2
    step_minutes: int = 15  # arrival times tried inside a window

    def __post_init__(self) -> None:
        if not 0 <= self.first_hour < self.last_hour <= 24:
            raise ValueError("the windows must start before they end, within one day")
        if not 1 <= self.window_hours <= self.last_hour - self.first_hour:
            raise ValueError("a window must be at least an hour and fit in the day")
        if not 1 <= self.step_minutes <= 60:
            raise ValueError("arrival times are tried every 1 to 60 minutes")


@dataclass(frozen=True, slots=True)
class ArrivalWindow:
    span: TimeSpan  # the promise: arrive between span.start and span.end
    technician_ids: tuple[int, ...]  # who could take it, earliest possible arrival first
    earliest: dt.datetime  # the first arrival that works, for booking the visit


def arrival_windows(
    *,
    days: Sequence[dt.date],
    tz: dt.tzinfo,
    duration: dt.timedelta,
    required_skills: Mapping[str, int],
    place: Place | None,
    technicians: Sequence[tuple[TechnicianProfile, Sequence[BookedVisit]]],
    drive: DriveEstimate,
    plan: WindowPlan = WindowPlan(),
    not_before: dt.datetime | None = None,
    wanted: int | None = None,
) -> list[ArrivalWindow]:
    """Every window on ``days`` that someone can keep, in time order (the first
    ``wanted`` of them when given)."""
    if duration <= dt.timedelta(0):
        raise ValueError("a job must take some time")
    if not_before is not None and not_before.tzinfo is None:
        raise ValueError("'not before' must carry a time zone")
    offered = []
    for day in days:
        for hour in range(plan.first_hour, plan.last_hour, plan.window_hours):
            end_hour = min(hour + plan.window_hours, plan.last_hour)
            window = TimeSpan(_local(day, hour, tz), _local(day, end_hour, tz))
            found = _who_can_arrive(
                window, duration, required_skills, place, technicians, drive, plan, tz, not_before
            )
            if found:
                found.sort(key=lambda pair: (pair[1].timestamp(), pair[0]))
                offered.append(ArrivalWindow(window, tuple(tech for tech, _ in found), found[0][1]))
                if wanted is not None and len(offered) >= wanted:
                    return offered
    return offered


@dataclass(frozen=True, slots=True)
class WindowSearch:
    """What a look ahead found, and which days it looked at (for the CSR's note)."""

    windows: tuple[ArrivalWindow, ...]
    first_day: dt.date  # the first day looked at
    last_day: dt.date  # where the search stopped: enough windows, or the horizon
    working_days: tuple[dt.date, ...]  # the days on which someone with the skills works
    # The offered technicians' trucks against the job's parts, by technician id; empty
    # when the job needs no part (or no stock is kept). A CSR may prefer a window whose
    # technician carries them.
    trucks: Mapping[int, TruckCheck] = field(default_factory=dict)


def search_windows(
    *,
    first_day: dt.date,
    tz: dt.tzinfo,
    duration: dt.timedelta,
    required_skills: Mapping[str, int],
    place: Place | None,
    technicians: Sequence[tuple[TechnicianProfile, Sequence[BookedVisit]]],
    drive: DriveEstimate,
    plan: WindowPlan = WindowPlan(),
    not_before: dt.datetime | None = None,
    wanted: int = 9,
    max_days: int = 14,
) -> WindowSearch:
    """Day by day from ``first_day``, over the days on which someone with the skills has
    a shift, until ``wanted`` windows are found or ``max_days`` calendar days are covered.

    A Friday-afternoon caller is offered Monday and Tuesday, not an empty weekend.
    """
    if wanted < 1 or max_days < 1:
        raise ValueError("look for at least one window over at least one day")
    able = [
        (technician, booked)
        for technician, booked in technicians
        if all(technician.skills.get(code, 0) >= level for code, level in required_skills.items())
    ]
    found: list[ArrivalWindow] = []
    worked: list[dt.date] = []
    day = first_day
    for offset in range(max_days):
        day = first_day + dt.timedelta(days=offset)
        hours = TimeSpan(_local(day, plan.first_hour, tz), _local(day, plan.last_hour, tz))
        if not_before is not None and hours.end <= not_before:
            continue  # the day's windows are all behind us
        working = [
            (technician, booked)
            for technician, booked in able
            if any(shift.overlaps(hours) for shift in technician.shifts)
        ]
        if not working:
            continue
        worked.append(day)
        found += arrival_windows(
            days=[day],
            tz=tz,
            duration=duration,
            required_skills=required_skills,
            place=place,
            technicians=working,
            drive=drive,
            plan=plan,
            not_before=not_before,
            wanted=wanted - len(found),
        )
        if len(found) >= wanted:
            break
    return WindowSearch(tuple(found), first_day, day, tuple(worked))


def _who_can_arrive(
    window: TimeSpan,
    duration: dt.timedelta,
    required: Mapping[str, int],
    place: Place | None,
    technicians: Sequence[tuple[TechnicianProfile, Sequence[BookedVisit]]],
    drive: DriveEstimate,
    plan: WindowPlan,
    tz: dt.tzinfo,
    not_before: dt.datetime | None,
) -> list[tuple[int, dt.datetime]]:
    found = []
    step = dt.timedelta(minutes=plan.step_minutes)
    for technician, booked in technicians:
        if any(technician.skills.get(code, 0) < level for code, level in required.items()):
            continue
        arrival = window.start.astimezone(UTC)
        end = window.end.astimezone(UTC)
        while arrival < end:
            if not_before is None or arrival >= not_before.astimezone(UTC):
                start = arrival.astimezone(tz)
                span = TimeSpan(start, (arrival + duration).astimezone(tz))
                placement = Placement(0, "the new job", span, dict(required), place)
                if not check_placement(placement, [(technician, booked)], drive, tz):
                    found.append((technician.id, start))
                    break
            arrival += step  # elapsed time: a daylight-saving change moves nothing
    return found


def _local(day: dt.date, hour: int, tz: dt.tzinfo) -> dt.datetime:
    if hour == 24:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
