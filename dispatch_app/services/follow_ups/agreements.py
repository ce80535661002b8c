"""Maintenance agreements: selling a plan to a customer, changing it, and booking the
visits it falls due for.

When the visits fall due is the database's to say (``dispatch_agreement_due_dates``:
the plan's visits spread over each agreement year from its start), and booking them is
its too (``dispatch_generate_agreement_visits``, run by the worker with the company's
"today"): each due visit becomes a work order with one unscheduled visit, in the
dispatcher's unassigned queue, ``agreement_visits_ahead_days`` days ahead (30 unless
the setting says otherwise), once.

A plan changed mid-year keeps the visits already booked; from the day of the change the
new plan's dates apply (``schedule_from``).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    Agreement,
    Customer,
    JobType,
    MaintenancePlan,
    ServiceSite,
    WorkOrder,
)
from dispatch_app.domain.clock import Clock
from dispatch_app.domain.ids import require_row_id
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.outbox.queue import company_settings, company_zone

Sessions = async_sessionmaker[AsyncSession]

DEFAULT_AHEAD_DAYS = 30
# A booked visit that is done (or called off) is no longer the next one.
_FINISHED = ("completed", "invoiced", "closed", "cancelled", "no_show")


async def company_today(session: AsyncSession, clock: Clock) -> dt.date:
    """Today where the company is."""
    return clock.now().astimezone(company_zone(await company_settings(session))).date()


async def ahead_days(session: AsyncSession) -> int:
    value = (await company_settings(session)).get("agreement_visits_ahead_days")
    try:
        days = int(value) if value is not None else DEFAULT_AHEAD_DAYS
    except (TypeError, ValueError):
        return DEFAULT_AHEAD_DAYS
    return min(max(days, 0), 366)


async def book_due_visits(sessions: Sessions, *, clock: Clock) -> int:
    """Book every agreement visit due within the days ahead; returns how many were new."""
    async with sessions() as session, session.begin():
        today = await company_today(session, clock)
        made = await session.scalar(
            text("SELECT dispatch_generate_agreement_visits(:today, :ahead)"),
            {"today": today, "ahead": await ahead_days(session)},
        )
    return int(made or 0)


async def due_dates(sessions: Sessions, agreement_id: int, *, through: dt.date) -> list[dt.date]:
    """When the agreement's visits fall due, up to ``through``."""
    require_row_id(agreement_id, "agreement")
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    text("SELECT d FROM dispatch_agreement_due_dates(:id, :through) AS d"),
                    {"id": agreement_id, "through": through},
                )
            ).all()
        )


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` so many months on, on the month's last day when it has no such day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


async def sell_agreement(
    sessions: Sessions,
    *,
    customer_id: int,
    plan_id: int,
    starts_on: dt.date,
    clock: Clock,
    site_id: int | None = None,
) -> int:
    """Put a customer on a plan from ``starts_on`` for the plan's term; returns its id.

    An agreement entered after it started (a contract signed on paper last spring)
    books no visits for the days already gone: its visits are due from today.
    """
    require_row_id(customer_id, "customer")
    require_row_id(plan_id, "plan")
    async with sessions() as session, session.begin():
        plan = await session.get(MaintenancePlan, plan_id)
        if plan is None or not plan.active:
            raise ValidationError({"plan": "That plan is no longer sold."})
        if await session.get(Customer, customer_id) is None:
            raise ValidationError({"customer": "That customer no longer exists."})
        if site_id is not None:
            site = await session.get(ServiceSite, site_id)
            if site is None or site.customer_id != customer_id:
                raise ValidationError({"site": "That site is not the customer's."})
        today = await company_today(session, clock)
        ends_on = _add_months(starts_on, plan.term_months)
        if ends_on <= today:
            raise ValidationError(
                {"starts_on": "An agreement that has already ended sells nothing."}
            )
        agreement = Agreement(
            customer_id=customer_id,
            name=plan.name,
            starts_on=starts_on,
            ends_on=ends_on,
            visits_per_year=plan.visits_per_year,
            price=plan.price,
            plan_id=plan.id,
            site_id=site_id,
            schedule_from=today if today > starts_on else None,
        )
        session.add(agreement)
        await session.flush()
        return agreement.id


async def change_plan(
    sessions: Sessions, agreement_id: int, seen_version: int, *, plan_id: int, clock: Clock
) -> None:
    """Move an agreement to another plan from today: the visits already booked stay,
    the new plan's dates apply from today to the agreement's end."""
    require_row_id(agreement_id, "agreement")
    async with sessions() as session, session.begin():
        agreement = await session.get(Agreement, agreement_id, with_for_update=True)
        if agreement is None:
            raise ConflictError("That agreement was removed by someone else.")
        if agreement.version != seen_version:
            raise ConflictError(
                f"{agreement.name} was changed by someone else meanwhile — look again."
            )
        plan = await session.get(MaintenancePlan, plan_id)
        if plan is None or not plan.active:
            raise ValidationError({"plan": "That plan is no longer sold."})
        today = await company_today(session, clock)
        if today >= agreement.ends_on:
            raise ValidationError({"plan": "The agreement has ended: sell a new one instead."})
        agreement.plan_id = plan.id
        agreement.name = plan.name
        agreement.visits_per_year = plan.visits_per_year
        agreement.price = plan.price
        agreement.schedule_from = max(today, agreement.starts_on)


@dataclass(frozen=True, slots=True)
class AgreementNext:
    """An agreement as the intake's history card shows it."""

    id: int
    name: str
    ends_on: dt.date
    visits_per_year: int
    price: decimal.Decimal
    next_due: dt.date | None  # the next visit due, booked or not
    next_booked: str | None  # the work order number, when it is already booked


async def next_due_visit(
    session: AsyncSession, agreement: Agreement, *, today: dt.date
) -> tuple[dt.date | None, str | None]:
    """The agreement's next visit: the earliest booked one not yet done (overdue ones
    first), else the next day one falls due; with its work order number when booked."""
    booked = (
        await session.execute(
            select(WorkOrder.number, WorkOrder.agreement_due_on)
            .where(
                WorkOrder.agreement_id == agreement.id,
                WorkOrder.status.not_in(_FINISHED),
            )
            .order_by(WorkOrder.agreement_due_on)
            .limit(1)
        )
    ).first()
    if booked is not None:
        return booked.agreement_due_on, booked.number
    coming = await session.scalar(
        text(
            "SELECT d FROM dispatch_agreement_due_dates(:id, :through) AS d "
            "WHERE d >= :today AND NOT EXISTS (SELECT 1 FROM work_orders w "
            "WHERE w.agreement_id = :id AND w.agreement_due_on = d) ORDER BY d LIMIT 1"
        ),
        {"id": agreement.id, "through": agreement.ends_on, "today": today},
    )
    return coming, None


async def agreements_of_customer(
    session: AsyncSession, customer_id: int, *, today: dt.date
) -> list[AgreementNext]:
    """The customer's agreements, newest first, each with its next due visit."""
    rows = (
        await session.scalars(
            select(Agreement)
            .where(Agreement.customer_id == customer_id)
            .order_by(Agreement.ends_on.desc())
        )
    ).all()
    found = []
    for agreement in rows:
        next_due, number = await next_due_visit(session, agreement, today=today)
        found.append(
            AgreementNext(
                agreement.id,
                agreement.name,
                agreement.ends_on,
                agreement.visits_per_year,
                agreement.price,
                next_due,
                number,
            )
        )
    return found


# -- the office's Agreements tab ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanRow:
    id: int
    version: int
    name: str
    price: decimal.Decimal
    visits_per_year: int
    term_months: int
    job_type_id: int
    job_type: str
    covered_equipment: str
    active: bool
    customers: int  # agreements on it that have not ended


@dataclass(frozen=True, slots=True)
class AgreementRow:
    id: int
    version: int
    customer_id: int
    customer: str
    plan_id: int | None
    name: str
    starts_on: dt.date
    ends_on: dt.date
    price: decimal.Decimal
    running: bool  # not ended (one sold to start later counts)
    next_due: dt.date | None
    next_booked: str | None
    next_work_order_id: int | None


@dataclass(frozen=True, slots=True)
class AgreementsBook:
    plans: list[PlanRow]
    agreements: list[AgreementRow]
    running: int
    yearly_value: decimal.Decimal  # what the running agreements bring in a year
    due_soon: int  # visits due within the days ahead, booked or not
    ahead_days: int
    today: dt.date


_PLANS = """
SELECT p.id, p.version, p.name, p.price, p.visits_per_year, p.term_months, p.job_type_id,
       j.name AS job_type, p.covered_equipment, p.active,
       (SELECT count(*) FROM agreements a WHERE a.plan_id = p.id
        AND a.ends_on > :today) AS customers
FROM maintenance_plans p JOIN job_types j ON j.id = p.job_type_id
ORDER BY p.active DESC, p.name
"""

_AGREEMENTS = f"""
SELECT a.id, a.version, a.customer_id, c.name AS customer, a.plan_id, a.name, a.starts_on,
       a.ends_on, a.price, a.ends_on > :today AS running,
       b.id AS booked_id, b.number AS booked, b.agreement_due_on AS booked_due,
       CASE WHEN b.id IS NULL AND a.ends_on > :today THEN
           (SELECT d FROM dispatch_agreement_due_dates(a.id, a.ends_on) AS d
            WHERE d >= :today AND NOT EXISTS (SELECT 1 FROM work_orders w
                WHERE w.agreement_id = a.id AND w.agreement_due_on = d)
            ORDER BY d LIMIT 1)
       END AS coming
FROM agreements a JOIN customers c ON c.id = a.customer_id
LEFT JOIN LATERAL (SELECT w.id, w.number, w.agreement_due_on FROM work_orders w
                   WHERE w.agreement_id = a.id AND w.status NOT IN {_FINISHED!r}
                   ORDER BY w.agreement_due_on LIMIT 1) b ON true
ORDER BY (a.ends_on > :today) DESC, coalesce(b.agreement_due_on, a.ends_on), c.name
LIMIT :limit
"""


async def agreements_book(sessions: Sessions, *, clock: Clock, limit: int = 1000) -> AgreementsBook:
    """The plans sold, and the agreements (running first, by their next visit)."""
    async with sessions() as session:
        today = await company_today(session, clock)
        ahead = await ahead_days(session)
        plans = [
            PlanRow(**row._mapping) for row in await session.execute(text(_PLANS), {"today": today})
        ]
        agreements = [
            AgreementRow(
                id=r.id,
                version=r.version,
                customer_id=r.customer_id,
                customer=r.customer,
                plan_id=r.plan_id,
                name=r.name,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                price=r.price,
                running=r.running,
                next_due=r.booked_due if r.booked_id is not None else r.coming,
                next_booked=r.booked,
                next_work_order_id=r.booked_id,
            )
            for r in await session.execute(text(_AGREEMENTS), {"today": today, "limit": limit})
        ]
    running = [a for a in agreements if a.running]
    horizon = today + dt.timedelta(days=ahead)
    return AgreementsBook(
        plans=plans,
        agreements=agreements,
        running=len(running),
        yearly_value=sum((a.price for a in running), decimal.Decimal(0)),
        due_soon=sum(1 for a in running if a.next_due is not None and a.next_due <= horizon),
        ahead_days=ahead,
        today=today,
    )


@dataclass(frozen=True, slots=True)
class JobTypeChoice:
    id: int
    name: str


async def job_type_choices(sessions: Sessions) -> list[JobTypeChoice]:
    async with sessions() as session:
        rows = await session.execute(select(JobType.id, JobType.name).order_by(JobType.name))
        return [JobTypeChoice(r.id, r.name) for r in rows]


async def save_plan(
    sessions: Sessions,
    plan_id: int | None,
    seen_version: int | None,
    *,
    name: str,
    price: decimal.Decimal,
    visits_per_year: int,
    term_months: int,
    job_type_id: int,
    covered_equipment: str,
    active: bool,
) -> int:
    """Add a plan (``plan_id`` None) or change one; returns its id. Agreements already
    sold keep what they were sold (their visits and price); a change is for new sales."""
    name = " ".join(name.split())
    covered = " ".join(covered_equipment.split())
    problems: dict[str, str] = {}
    if not 1 <= len(name) <= 100:
        problems["name"] = "Name the plan (at most 100 characters)."
    if not decimal.Decimal(0) <= price <= decimal.Decimal("99999.99"):
        problems["price"] = "The price is 0 to 99,999.99."
    if not 1 <= visits_per_year <= 12:
        problems["visits_per_year"] = "A plan has 1 to 12 visits a year."
    if not 1 <= term_months <= 120:
        problems["term_months"] = "A plan runs 1 to 120 months."
    if len(covered) > 500:
        problems["covered_equipment"] = "Say what it covers in at most 500 characters."
    if "\x00" in name + covered:
        problems["name"] = "The plan has a character that cannot be stored."
    if problems:
        raise ValidationError(problems)
    async with sessions() as session, session.begin():
        clash = await session.scalar(
            select(MaintenancePlan.id).where(
                MaintenancePlan.name == name, MaintenancePlan.id != (plan_id or 0)
            )
        )
        if clash is not None:
            raise ValidationError({"name": f"There is already a plan called {name}."})
        values = {
            "name": name,
            "price": price.quantize(decimal.Decimal("0.01")),
            "visits_per_year": visits_per_year,
            "term_months": term_months,
            "job_type_id": job_type_id,
            "covered_equipment": covered,
            "active": active,
        }
        if plan_id is None:
            plan = MaintenancePlan(**values)
            session.add(plan)
            await session.flush()
            return plan.id
        current = await session.get(MaintenancePlan, plan_id)
        if current is None:
            raise ConflictError("That plan was removed by someone else.")
        if current.version != seen_version:
            raise ConflictError(
                f"{current.name} was changed by someone else meanwhile — look again."
            )
        for key, value in values.items():
            setattr(current, key, value)
        return plan_id
