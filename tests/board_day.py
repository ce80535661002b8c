"""A tiny day on the board, made in memory: technicians and visits as the day store hands
them over, for tests of the board's parts that need no database."""

from __future__ import annotations

import datetime as dt

from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.services.day_board import TechnicianRow, UnassignedJob, VisitBlock
from tests.companies import DAY, TZ


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    """A wall-clock time in Chicago (on the test company's Tuesday unless told)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def technician(
    tech_id: int,
    name: str,
    *,
    shift: tuple[dt.datetime, dt.datetime] | None = (at(7), at(15, 30)),
    skills: tuple[tuple[str, int], ...] = (),
    colour: str = "#2f80ed",
) -> TechnicianRow:
    span = TimeSpan(*shift) if shift is not None else None
    return TechnicianRow(
        id=tech_id,
        name=name,
        trade="hvac",
        colour=colour,
        skills=tuple(code for code, _level in skills),
        shift=span,
        version=1,
        shifts=(span,) if span is not None else (),
        skill_levels=skills,
    )


def visit(
    visit_id: int,
    crew: tuple[int, ...],
    starts: dt.datetime,
    ends: dt.datetime,
    *,
    status: str = "scheduled",
    priority: str = "normal",
    skills: tuple[tuple[str, int], ...] = (),
    version: int = 1,
) -> VisitBlock:
    return VisitBlock(
        id=visit_id,
        work_order_id=visit_id,
        number=f"WO-{10000 + visit_id}",
        technician_ids=crew,
        starts=starts,
        ends=ends,
        status=status,
        priority=priority,
        job_type="No heat call",
        customer="José Núñez",
        city="Chicago",
        arrival_window=None,
        lat=41.94,
        lon=-87.67,
        version=version,
        required_skills=skills,
    )


def job(visit_id: int, *, minutes: int = 90) -> UnassignedJob:
    """A job waiting in the queue."""
    return UnassignedJob(
        work_order_id=visit_id,
        visit_id=visit_id,
        number=f"WO-{10000 + visit_id}",
        priority="emergency",
        job_type="No heat call",
        trade="hvac",
        customer="José Núñez",
        city="Chicago",
        description="",
        created_at=at(6),
        starts=None,
        duration_min=minutes,
        lat=41.94,
        lon=-87.67,
        version=3,
    )
