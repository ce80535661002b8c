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

from dispatch_app.db.models import Agreement, Customer, MaintenancePlan, ServiceSite, WorkOrder
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
