"""What the CSR sees about a caller before booking: sites and their equipment, open work
orders (a duplicate booking shows here), past jobs with who did them and what they
came to (a repeat problem shows here), and maintenance agreements.

Threading contract: coroutines for the app's event loop; no Qt here.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    Agreement,
    Customer,
    CustomerPhone,
    Equipment,
    JobType,
    LineItem,
    ServiceSite,
    Technician,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.clock import today as clock_today
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.statuses import WORK_ORDER_DONE, WORK_ORDER_FINISHED
from dispatch_app.errors import ConflictError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.follow_ups.agreements import next_due_visit

PAST_JOBS_SHOWN = 15


@dataclass(frozen=True, slots=True)
class EquipmentSummary:
    id: int
    kind: str
    make: str
    model: str
    installed: dt.date | None

    def label(self) -> str:
        made = " ".join(part for part in (self.make, self.model) if part)
        year = f", {self.installed.year}" if self.installed else ""
        return f"{self.kind} ({made}{year})" if made or year else self.kind


@dataclass(frozen=True, slots=True)
class SiteSummary:
    id: int
    label: str
    address: str  # "1432 W Belmont Ave, Chicago IL 60657"
    access_notes: str
    equipment: tuple[EquipmentSummary, ...]


@dataclass(frozen=True, slots=True)
class JobSummary:
    """One work order of the customer's, open or past."""

    id: int
    number: str
    job_type: str
    status: str
    site_id: int
    when: dt.datetime | None  # the visit's booked start (latest visit), else when it was called in
    technicians: tuple[str, ...]
    total: decimal.Decimal  # line items, quantity × unit price


@dataclass(frozen=True, slots=True)
class AgreementSummary:
    name: str
    starts_on: dt.date
    ends_on: dt.date
    visits_per_year: int
    active: bool
    next_due: dt.date | None = None  # its next maintenance visit, booked or not
    next_booked: str | None = None  # that visit's work order, once booked


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    id: int
    name: str
    phones: tuple[str, ...]  # as shown: "(312) 555-0123"
    email: str | None
    notes: str
    customer_since: dt.date
    sites: tuple[SiteSummary, ...]
    open_jobs: tuple[JobSummary, ...]
    past_jobs: tuple[JobSummary, ...]  # newest first, at most PAST_JOBS_SHOWN
    past_job_count: int
    lifetime_total: decimal.Decimal  # finished work, all of it
    agreements: tuple[AgreementSummary, ...]
    version: int = 1
    # What they agreed to be sent (``domain.messages.Consent``), when it was recorded,
    # and how they asked to hear nothing more (a STOP reply, a call), if they did.
    message_consent: str = "none"
    consent_recorded_at: dt.datetime | None = None
    opt_out_note: str | None = None
    opted_out_at: dt.datetime | None = None


async def customer_history(
    sessions: async_sessionmaker[AsyncSession], customer_id: int, *, clock: Clock = SYSTEM_CLOCK
) -> CustomerHistory:
    """Everything the intake shows about one customer, read in one session."""
    require_row_id(customer_id, "customer")
    async with sessions() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise ConflictError("That customer no longer exists.")
        tz = await business_timezone(session)
        phones = (
            await session.scalars(
                select(CustomerPhone.number)
                .where(CustomerPhone.customer_id == customer_id)
                .order_by(CustomerPhone.id)
            )
        ).all()
        sites = await _sites(session, customer_id)
        jobs = await _jobs(session, customer_id, tz)
        agreements = (
            await session.scalars(
                select(Agreement)
                .where(Agreement.customer_id == customer_id)
                .order_by(Agreement.ends_on.desc())
            )
        ).all()
        today = clock_today(clock, tz)
        next_visits = [
            await next_due_visit(session, a, today=today)
            if a.starts_on <= today < a.ends_on
            else (None, None)
            for a in agreements
        ]
    open_jobs = [j for j in jobs if j.status not in WORK_ORDER_FINISHED]
    past = [j for j in jobs if j.status in WORK_ORDER_FINISHED]
    open_jobs.sort(key=lambda j: (j.when is None, j.when or dt.datetime.min.replace(tzinfo=tz)))
    past.sort(key=lambda j: (j.when is not None, j.when), reverse=True)
    return CustomerHistory(
        id=customer.id,
        name=customer.name,
        phones=tuple(display_phone(number) for number in phones),
        email=customer.email,
        notes=customer.notes,
        customer_since=customer.created_at.astimezone(tz).date(),
        sites=sites,
        open_jobs=tuple(open_jobs),
        past_jobs=tuple(past[:PAST_JOBS_SHOWN]),
        past_job_count=len(past),
        lifetime_total=sum(
            (j.total for j in past if j.status in WORK_ORDER_DONE), decimal.Decimal(0)
        ),
        agreements=tuple(
            AgreementSummary(
                a.name,
                a.starts_on,
                a.ends_on,
                a.visits_per_year,
                a.starts_on <= today < a.ends_on,
                next_due,
                next_booked,
            )
            for a, (next_due, next_booked) in zip(agreements, next_visits, strict=True)
        ),
        version=customer.version,
        message_consent=customer.message_consent,
        consent_recorded_at=_local(customer.consent_recorded_at, tz),
        opt_out_note=customer.opt_out_note,
        opted_out_at=_local(customer.opted_out_at, tz),
    )


def _local(moment: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


async def _sites(session: AsyncSession, customer_id: int) -> tuple[SiteSummary, ...]:
    rows = (
        await session.scalars(
            select(ServiceSite)
            .where(ServiceSite.customer_id == customer_id)
            .order_by(ServiceSite.id)
        )
    ).all()
    equipment: dict[int, list[EquipmentSummary]] = {}
    for unit in await session.scalars(
        select(Equipment)
        .where(Equipment.site_id.in_([site.id for site in rows]))
        .order_by(Equipment.id)
    ):
        equipment.setdefault(unit.site_id, []).append(
            EquipmentSummary(unit.id, unit.kind, unit.make, unit.model, unit.install_date)
        )
    return tuple(
        SiteSummary(
            site.id,
            site.label,
            f"{site.street}, {site.city} {site.state} {site.zip}",
            site.access_notes,
            tuple(equipment.get(site.id, ())),
        )
        for site in rows
    )


async def _jobs(session: AsyncSession, customer_id: int, tz: dt.tzinfo) -> list[JobSummary]:
    totals = (
        select(
            LineItem.work_order_id,
            func.sum(LineItem.quantity * LineItem.unit_price).label("total"),
        )
        .group_by(LineItem.work_order_id)
        .subquery()
    )
    last_visit = (
        select(func.max(Visit.starts)).where(Visit.work_order_id == WorkOrder.id).scalar_subquery()
    )
    orders = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.number,
                JobType.name,
                WorkOrder.status,
                WorkOrder.site_id,
                func.coalesce(last_visit, WorkOrder.created_at),
                func.coalesce(totals.c.total, 0),
            )
            .join(JobType, JobType.id == WorkOrder.job_type_id)
            .outerjoin(totals, totals.c.work_order_id == WorkOrder.id)
            .where(WorkOrder.customer_id == customer_id)
        )
    ).all()
    crews: dict[int, list[str]] = {}
    for order_id, name in await session.execute(
        select(Visit.work_order_id, Technician.name)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .join(Technician, Technician.id == VisitTechnician.technician_id)
        .where(Visit.work_order_id.in_([row[0] for row in orders]))
        .order_by(Visit.sequence, VisitTechnician.is_lead.desc(), VisitTechnician.id)
    ):
        names = crews.setdefault(order_id, [])
        if name not in names:
            names.append(name)
    return [
        JobSummary(
            id=row[0],
            number=row[1],
            job_type=row[2],
            status=row[3],
            site_id=row[4],
            when=row[5].astimezone(tz) if row[5] is not None else None,
            technicians=tuple(crews.get(row[0], ())),
            total=decimal.Decimal(row[6]).quantize(decimal.Decimal("0.01")),
        )
        for row in orders
    ]
