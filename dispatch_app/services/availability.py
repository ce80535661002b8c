"""The arrival windows to offer a caller, read from the database: the company's
technicians, their shifts and booked visits over the next days, the job type's skills
and length, and where the site is. ``find_windows`` looks ahead over the days someone
with the skills works, so a Friday-afternoon caller is offered Monday, and says whether
each offered technician's truck carries the parts the job needs.

Threading contract: coroutines for the app's event loop; no Qt here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import JobType, JobTypeSkill, ServiceSite, Skill
from dispatch_app.domain.availability import (
    ArrivalWindow,
    WindowPlan,
    WindowSearch,
    arrival_windows,
    search_windows,
)
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, local_now, today
from dispatch_app.domain.dispatch_rules import BookedVisit, TechnicianProfile
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.ids import is_row_id, require_row_id
from dispatch_app.domain.statuses import VISIT_NOT_BLOCKING
from dispatch_app.domain.truck_stock import TruckStock
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_board import (
    DayWindow,
    board_settings,
    business_timezone,
    fetch_technicians,
    fetch_visit_rows,
)
from dispatch_app.services.placement import booked_of, drive_estimate, profile_of
from dispatch_app.services.truck_stock import fetch_truck_stock

MAX_DAYS = 14  # how far ahead a CSR is offered windows
WANTED_WINDOWS = 9  # one key each in the intake: Alt+1 … Alt+9


@dataclass(frozen=True, slots=True)
class _CallFacts:
    """Everything the windows for one call depend on, read in one go."""

    window: DayWindow
    duration: dt.timedelta
    required: dict[str, int]
    place: tuple[float, float] | None
    technicians: list[tuple[TechnicianProfile, list[BookedVisit]]]
    drive: DriveEstimate
    truck_stock: TruckStock


async def _read_call_facts(
    sessions: async_sessionmaker[AsyncSession],
    *,
    job_type_id: int,
    site_id: int | None,
    place: tuple[float, float] | None,
    first_day: dt.date | None,
    days: int,
    clock: Clock,
    not_before_today: bool = False,
) -> _CallFacts:
    """The job type, the site and every technician's shifts and visits over ``days``
    days, in one session: a fortnight costs the same few queries as a day."""
    if not is_row_id(job_type_id):
        raise ValidationError({"job_type": "Choose a job type from the list."})
    if site_id is not None:
        require_row_id(site_id, "site")
    async with sessions() as session:
        job_type = await session.get(JobType, job_type_id)
        if job_type is None:
            raise ValidationError({"job_type": "Choose a job type from the list."})
        required = {
            code: level
            for code, level in await session.execute(
                select(Skill.code, JobTypeSkill.min_level)
                .join(JobTypeSkill, JobTypeSkill.skill_id == Skill.id)
                .where(JobTypeSkill.job_type_id == job_type_id)
            )
        }
        if site_id is not None:
            site = await session.get(ServiceSite, site_id)
            if site is not None and site.lat is not None and site.lon is not None:
                place = (site.lat, site.lon)
        tz = await business_timezone(session)
        first = first_day or today(clock, tz)
        if not_before_today:
            first = max(first, today(clock, tz))
        window = DayWindow(first, tz, days)
        settings = await board_settings(session)
        technicians = await fetch_technicians(session, window)
        connection = await session.connection()
        rows = await fetch_visit_rows(connection, window)
        truck_stock = await fetch_truck_stock(connection, [job_type_id])
    booked: dict[int, list[BookedVisit]] = {t.id: [] for t in technicians}
    for visit in rows.on_board:
        if visit.status in VISIT_NOT_BLOCKING:
            continue
        for tech_id in visit.technician_ids:
            booked.setdefault(tech_id, []).append(booked_of(visit))
    return _CallFacts(
        window=window,
        duration=dt.timedelta(minutes=job_type.default_duration_min),
        required=required,
        place=place,
        technicians=[(profile_of(t), booked[t.id]) for t in technicians],
        drive=drive_estimate(settings),
        truck_stock=truck_stock,
    )


async def windows_for_call(
    sessions: async_sessionmaker[AsyncSession],
    *,
    job_type_id: int,
    site_id: int | None = None,
    place: tuple[float, float] | None = None,
    first_day: dt.date | None = None,
    days: int = 3,
    plan: WindowPlan = WindowPlan(),  # noqa: B008 - frozen, safe to share
    clock: Clock = SYSTEM_CLOCK,
) -> list[ArrivalWindow]:
    """Windows someone can keep on ``days`` days from ``first_day`` (default the clock's
    today), never before the clock's now. The site gives the place (or ``place`` for a
    caller not yet saved)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"windows are offered for 1 to {MAX_DAYS} days")
    facts = await _read_call_facts(
        sessions,
        job_type_id=job_type_id,
        site_id=site_id,
        place=place,
        first_day=first_day,
        days=days,
        clock=clock,
    )
    return arrival_windows(
        days=facts.window.dates,
        tz=facts.window.timezone,
        duration=facts.duration,
        required_skills=facts.required,
        place=facts.place,
        technicians=facts.technicians,
        drive=facts.drive,
        plan=plan,
        not_before=local_now(clock, facts.window.timezone),
    )


async def find_windows(
    sessions: async_sessionmaker[AsyncSession],
    *,
    job_type_id: int,
    site_id: int | None = None,
    place: tuple[float, float] | None = None,
    from_day: dt.date | None = None,
    wanted: int = WANTED_WINDOWS,
    max_days: int = MAX_DAYS,
    plan: WindowPlan = WindowPlan(),  # noqa: B008 - frozen, safe to share
    clock: Clock = SYSTEM_CLOCK,
) -> WindowSearch:
    """The first ``wanted`` windows from ``from_day`` (never before the clock's today),
    over the days on which someone with the job's skills works, at most ``max_days``
    calendar days ahead, with each offered technician's truck against the job's parts.
    One read of the database for the whole span."""
    if not 1 <= max_days <= MAX_DAYS:
        raise ValueError(f"windows are looked for over 1 to {MAX_DAYS} days")
    facts = await _read_call_facts(
        sessions,
        job_type_id=job_type_id,
        site_id=site_id,
        place=place,
        first_day=from_day,
        days=max_days,
        clock=clock,
        not_before_today=True,
    )
    search = search_windows(
        first_day=facts.window.day,
        tz=facts.window.timezone,
        duration=facts.duration,
        required_skills=facts.required,
        place=facts.place,
        technicians=facts.technicians,
        drive=facts.drive,
        plan=plan,
        not_before=local_now(clock, facts.window.timezone),
        wanted=wanted,
        max_days=max_days,
    )
    offered = {tech for window in search.windows for tech in window.technician_ids}
    trucks = {
        tech: check
        for tech in sorted(offered)
        if (check := facts.truck_stock.check(tech, job_type_id)) is not None
    }
    return dataclasses.replace(search, trucks=trucks)
