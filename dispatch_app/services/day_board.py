"""Reading one day of the dispatch board: technicians, their visits, unassigned work.

The results are plain frozen dataclasses, so the UI never holds a database object and
a snapshot can be handed between threads. Each query can be narrowed to a few visits,
which is how the day store refreshes only what a change hint names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dispatch_app.db.models import (
    AppSetting,
    Customer,
    JobType,
    ServiceSite,
    Technician,
    TechnicianSkill,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain.scheduling import Shift, TimeSpan
from dispatch_app.domain.vocabulary import Priority, VisitStatus, WorkOrderStatus

CLOSED_WORK_ORDER_STATUSES = (
    WorkOrderStatus.COMPLETED,
    WorkOrderStatus.INVOICED,
    WorkOrderStatus.CLOSED,
    WorkOrderStatus.CANCELLED,
    WorkOrderStatus.NO_SHOW,
)
FINISHED_VISIT_STATUSES = (VisitStatus.CANCELLED, VisitStatus.NO_SHOW, VisitStatus.COMPLETED)
PRIORITY_RANK = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.NORMAL: 2}


@dataclass(frozen=True, slots=True)
class TechnicianRow:
    id: int
    name: str
    trade: str
    colour: str
    skills: tuple[str, ...]
    shift: TimeSpan | None  # today's working hours, None when off today
    version: int


@dataclass(frozen=True, slots=True)
class VisitBlock:
    id: int
    work_order_id: int
    number: str
    technician_ids: tuple[int, ...]
    starts: dt.datetime
    ends: dt.datetime
    status: str
    priority: str
    job_type: str
    customer: str
    city: str
    arrival_window: TimeSpan | None
    lat: float | None
    lon: float | None
    version: int
    updated_by: str = ""
    # Ids of the visit_technicians rows that make the crew (to place their change hints).
    crew_links: tuple[int, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class UnassignedJob:
    work_order_id: int
    visit_id: int
    number: str
    priority: str
    job_type: str
    trade: str
    customer: str
    city: str
    description: str
    created_at: dt.datetime
    starts: dt.datetime | None  # booked time still waiting for a technician, if any
    duration_min: int
    lat: float | None
    lon: float | None
    version: int = 0


@dataclass(frozen=True, slots=True)
class DaySnapshot:
    day: dt.date
    timezone: ZoneInfo
    technicians: tuple[TechnicianRow, ...]
    visits: tuple[VisitBlock, ...]
    unassigned: tuple[UnassignedJob, ...]

    def visits_of(self, technician_id: int) -> list[VisitBlock]:
        return [v for v in self.visits if technician_id in v.technician_ids]


@dataclass(frozen=True, slots=True)
class DayWindow:
    """A business day as absolute times."""

    day: dt.date
    timezone: ZoneInfo

    @property
    def starts(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(0), tzinfo=self.timezone)

    @property
    def ends(self) -> dt.datetime:
        return dt.datetime.combine(
            self.day + dt.timedelta(days=1), dt.time(0), tzinfo=self.timezone
        )


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime:
    assert moment is not None
    return moment.astimezone(tz)


async def business_timezone(session: AsyncSession) -> ZoneInfo:
    name = await session.scalar(
        select(AppSetting.value).where(AppSetting.key == "business_timezone")
    )
    try:
        return ZoneInfo(str(name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def day_window(session: AsyncSession, day: dt.date | None = None) -> DayWindow:
    tz = await business_timezone(session)
    return DayWindow(day if day is not None else dt.datetime.now(tz).date(), tz)


async def load_day(session: AsyncSession, day: dt.date | None = None) -> DaySnapshot:
    """Everything the board shows for ``day`` (default: today in the business zone)."""
    window = await day_window(session, day)
    return DaySnapshot(
        day=window.day,
        timezone=window.timezone,
        technicians=await fetch_technicians(session, window),
        visits=await fetch_visits(session, window),
        unassigned=await fetch_unassigned(session, window),
    )


async def fetch_technicians(session: AsyncSession, window: DayWindow) -> tuple[TechnicianRow, ...]:
    technicians = (
        await session.scalars(
            select(Technician)
            .where(Technician.active)
            .options(
                selectinload(Technician.shifts),
                selectinload(Technician.skills).selectinload(TechnicianSkill.skill),
            )
            .order_by(Technician.trade, Technician.name, Technician.id)
        )
    ).all()
    rows = []
    weekday = window.day.weekday()
    for tech in technicians:
        shift = next((s for s in tech.shifts if s.weekday == weekday), None)
        rows.append(
            TechnicianRow(
                id=tech.id,
                name=tech.name,
                trade=tech.trade,
                colour=tech.colour,
                skills=tuple(sorted(ts.skill.code for ts in tech.skills)),
                shift=Shift(shift.weekday, shift.starts, shift.ends).span_on(
                    window.day, window.timezone
                )
                if shift
                else None,
                version=tech.version,
            )
        )
    return tuple(rows)


def _narrowed(query: Select, visit_ids: Collection[int] | None) -> Select:
    return query if visit_ids is None else query.where(Visit.id.in_(list(visit_ids)))


async def fetch_visits(
    session: AsyncSession, window: DayWindow, visit_ids: Collection[int] | None = None
) -> tuple[VisitBlock, ...]:
    """Visits of the day that have a technician (all, or only ``visit_ids``)."""
    tz = window.timezone
    crew = func.array_agg(postgresql.array([VisitTechnician.technician_id, VisitTechnician.id]))
    query = (
        select(Visit, WorkOrder, JobType.name, Customer.name, ServiceSite, crew)
        .join(WorkOrder, Visit.work_order_id == WorkOrder.id)
        .join(JobType, WorkOrder.job_type_id == JobType.id)
        .join(Customer, WorkOrder.customer_id == Customer.id)
        .join(ServiceSite, WorkOrder.site_id == ServiceSite.id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(Visit.starts < window.ends, Visit.ends > window.starts)
        .group_by(Visit.id, WorkOrder.id, JobType.name, Customer.name, ServiceSite.id)
        .order_by(Visit.starts, Visit.id)
    )
    rows = (await session.execute(_narrowed(query, visit_ids))).all()
    return tuple(
        VisitBlock(
            id=visit.id,
            work_order_id=order.id,
            number=order.number,
            technician_ids=tuple(sorted(pair[0] for pair in pairs)),
            starts=_local(visit.starts, tz),
            ends=_local(visit.ends, tz),
            status=visit.status,
            priority=order.priority,
            job_type=job_type,
            customer=customer,
            city=site.city,
            arrival_window=TimeSpan(visit.arrival_window_start, visit.arrival_window_end)
            if visit.arrival_window_start and visit.arrival_window_end
            else None,
            lat=site.lat,
            lon=site.lon,
            version=visit.version,
            updated_by=visit.updated_by,
            crew_links=tuple(sorted(pair[1] for pair in pairs)),
        )
        for visit, order, job_type, customer, site, pairs in rows
    )


async def fetch_unassigned(
    session: AsyncSession, window: DayWindow, visit_ids: Collection[int] | None = None
) -> tuple[UnassignedJob, ...]:
    """Open visits with nobody assigned, undated or due by the end of the day."""
    tz = window.timezone
    has_crew = exists().where(VisitTechnician.visit_id == Visit.id)
    query = (
        select(Visit, WorkOrder, JobType, Customer.name, ServiceSite)
        .join(WorkOrder, Visit.work_order_id == WorkOrder.id)
        .join(JobType, WorkOrder.job_type_id == JobType.id)
        .join(Customer, WorkOrder.customer_id == Customer.id)
        .join(ServiceSite, WorkOrder.site_id == ServiceSite.id)
        .where(
            WorkOrder.status.not_in([s.value for s in CLOSED_WORK_ORDER_STATUSES]),
            Visit.status.not_in([s.value for s in FINISHED_VISIT_STATUSES]),
            ~has_crew,
            or_(Visit.starts.is_(None), Visit.starts < window.ends),
        )
    )
    waiting = (await session.execute(_narrowed(query, visit_ids))).all()
    return tuple(
        sorted(
            (
                UnassignedJob(
                    work_order_id=order.id,
                    visit_id=visit.id,
                    number=order.number,
                    priority=order.priority,
                    job_type=job_type.name,
                    trade=job_type.trade,
                    customer=customer,
                    city=site.city,
                    description=order.description,
                    created_at=order.created_at,
                    starts=visit.starts.astimezone(tz) if visit.starts else None,
                    duration_min=int((visit.ends - visit.starts).total_seconds() // 60)
                    if visit.starts and visit.ends
                    else job_type.default_duration_min,
                    lat=site.lat,
                    lon=site.lon,
                    version=visit.version,
                )
                for visit, order, job_type, customer, site in waiting
            ),
            key=unassigned_order,
        )
    )


def unassigned_order(job: UnassignedJob) -> tuple[int, dt.datetime, int]:
    """Emergencies first, then urgent work, each oldest first."""
    return PRIORITY_RANK.get(Priority(job.priority), 9), job.created_at, job.visit_id


async def visit_ids_of_work_orders(
    session: AsyncSession, work_order_ids: Collection[int]
) -> set[int]:
    rows = await session.scalars(
        select(Visit.id).where(Visit.work_order_id.in_(list(work_order_ids)))
    )
    return set(rows)


async def visit_ids_of_crew_links(session: AsyncSession, link_ids: Collection[int]) -> set[int]:
    rows = await session.scalars(
        select(VisitTechnician.visit_id).where(VisitTechnician.id.in_(list(link_ids)))
    )
    return set(rows)
