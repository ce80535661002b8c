"""The arrival windows to offer a caller, read from the database: the company's
technicians, their shifts and booked visits over the next days, the job type's skills
and length, and where the site is.

Threading contract: coroutines for the app's event loop; no Qt here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import JobType, JobTypeSkill, ServiceSite, Skill
from dispatch_app.domain.availability import ArrivalWindow, WindowPlan, arrival_windows
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, local_now
from dispatch_app.domain.dispatch_rules import BookedVisit
from dispatch_app.domain.ids import is_row_id, require_row_id
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_board import (
    board_settings,
    day_window,
    fetch_technicians,
    fetch_visit_rows,
)
from dispatch_app.services.placement import NOT_BLOCKING, booked_of, drive_estimate, profile_of

MAX_DAYS = 14


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
        window = await day_window(session, first_day, days, clock=clock)
        settings = await board_settings(session)
        technicians = await fetch_technicians(session, window)
        rows = await fetch_visit_rows(await session.connection(), window)
    booked: dict[int, list[BookedVisit]] = {t.id: [] for t in technicians}
    for visit in rows.on_board:
        if visit.status in NOT_BLOCKING:
            continue
        for tech_id in visit.technician_ids:
            booked.setdefault(tech_id, []).append(booked_of(visit))
    current = local_now(clock, window.timezone)
    return arrival_windows(
        days=window.dates,
        tz=window.timezone,
        duration=dt.timedelta(minutes=job_type.default_duration_min),
        required_skills=required,
        place=place,
        technicians=[(profile_of(t), booked[t.id]) for t in technicians],
        drive=drive_estimate(settings),
        plan=plan,
        not_before=current,
    )
