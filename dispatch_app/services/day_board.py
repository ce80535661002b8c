"""Reading one day of the dispatch board: technicians, their visits, unassigned work.

The result is plain frozen dataclasses, so the UI never holds a database object and a
snapshot can be handed between threads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, exists, func, or_, select
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


@dataclass(frozen=True, slots=True)
class DaySnapshot:
    day: dt.date
    timezone: ZoneInfo
    technicians: tuple[TechnicianRow, ...]
    visits: tuple[VisitBlock, ...]
    unassigned: tuple[UnassignedJob, ...]

    def visits_of(self, technician_id: int) -> list[VisitBlock]:
        return [v for v in self.visits if technician_id in v.technician_ids]


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


async def load_day(session: AsyncSession, day: dt.date | None = None) -> DaySnapshot:
    """Everything the board shows for ``day`` (default: today in the business zone)."""
    tz = await business_timezone(session)
    if day is None:
        day = dt.datetime.now(tz).date()
    day_start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)

    technicians = (
        await session.scalars(
            select(Technician)
            .where(Technician.active)
            .options(
                selectinload(Technician.shifts),
                selectinload(Technician.skills).selectinload(TechnicianSkill.skill),
            )
            .order_by(Technician.trade, Technician.name)
        )
    ).all()
    rows = []
    for tech in technicians:
        shift = next((s for s in tech.shifts if s.weekday == day.weekday()), None)
        rows.append(
            TechnicianRow(
                id=tech.id,
                name=tech.name,
                trade=tech.trade,
                colour=tech.colour,
                skills=tuple(sorted(ts.skill.code for ts in tech.skills)),
                shift=Shift(shift.weekday, shift.starts, shift.ends).span_on(day, tz)
                if shift
                else None,
                version=tech.version,
            )
        )

    crew = func.array_agg(VisitTechnician.technician_id).label("crew")
    visit_rows = (
        await session.execute(
            select(Visit, WorkOrder, JobType.name, Customer.name, ServiceSite, crew)
            .join(WorkOrder, Visit.work_order_id == WorkOrder.id)
            .join(JobType, WorkOrder.job_type_id == JobType.id)
            .join(Customer, WorkOrder.customer_id == Customer.id)
            .join(ServiceSite, WorkOrder.site_id == ServiceSite.id)
            .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
            .where(Visit.starts < day_end, Visit.ends > day_start)
            .group_by(Visit.id, WorkOrder.id, JobType.name, Customer.name, ServiceSite.id)
            .order_by(Visit.starts, Visit.id)
        )
    ).all()
    visits = tuple(
        VisitBlock(  # the query only returns scheduled visits: starts/ends are set
            id=visit.id,
            work_order_id=order.id,
            number=order.number,
            technician_ids=tuple(sorted(crew_ids)),
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
        )
        for visit, order, job_type, customer, site, crew_ids in visit_rows
    )

    has_crew = exists().where(VisitTechnician.visit_id == Visit.id)
    waiting = (
        await session.execute(
            select(Visit, WorkOrder, JobType, Customer.name, ServiceSite)
            .join(WorkOrder, Visit.work_order_id == WorkOrder.id)
            .join(JobType, WorkOrder.job_type_id == JobType.id)
            .join(Customer, WorkOrder.customer_id == Customer.id)
            .join(ServiceSite, WorkOrder.site_id == ServiceSite.id)
            .where(
                WorkOrder.status.not_in([s.value for s in CLOSED_WORK_ORDER_STATUSES]),
                Visit.status.not_in([VisitStatus.CANCELLED.value, VisitStatus.NO_SHOW.value,
                                     VisitStatus.COMPLETED.value]),
                ~has_crew,
                or_(Visit.starts.is_(None), and_(Visit.starts < day_end)),
            )
        )
    ).all()
    unassigned = sorted(
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
            )
            for visit, order, job_type, customer, site in waiting
        ),
        key=lambda job: (PRIORITY_RANK.get(Priority(job.priority), 9), job.created_at),
    )
    return DaySnapshot(
        day=day,
        timezone=tz,
        technicians=tuple(rows),
        visits=visits,
        unassigned=tuple(unassigned),
    )
