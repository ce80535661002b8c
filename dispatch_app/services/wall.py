"""Today's figures for the wall display: what the board holds, counted, and the money.

The counts (scheduled, in progress, completed, unassigned, running late, cancelled or
no-show) come from the live day store, which the change feed keeps current, so they
cost no query; the money (revenue booked on today's work orders, revenue invoiced today)
is one SQL aggregate, ``day_money``, re-read when a hint names a table it sums.

What the words mean, here and in the README:

- **Scheduled**: a visit on today's board that is booked and not under way yet
  (scheduled or dispatched). **In progress**: en route or on site. **Completed**,
  **cancelled or no-show**: the visit's own status.
- **Unassigned**: open work waiting for a technician (the board's queue).
- **Running late**: a scheduled or dispatched visit whose arrival window (or, without
  one, its start) ended more than ``LATE_GRACE`` ago (``domain/statuses``) — the
  board's red "late" mark.
- **Booked**: the line items (quantity × unit price, before tax) of the work orders with
  a visit today, leaving out work orders and visits that were cancelled or a no-show.
- **Invoiced**: what invoices posted today bill, as the reports count revenue: their
  totals less what credit notes took off; drafts, void invoices and the credit notes
  themselves left out.

Only reads: a viewer's login is enough. Threading contract: plain functions and
coroutines for the app's event loop; no Qt.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.statuses import (
    LATE_GRACE,
    VISIT_ENDED_EARLY,
    VISIT_UNDER_WAY,
    VISIT_WAITING,
    WORK_ORDER_ENDED_EARLY,
    sql_values,
)
from dispatch_app.domain.time_bounds import LONGEST_VISIT
from dispatch_app.domain.vocabulary import InvoiceKind, InvoiceStatus, VisitStatus
from dispatch_app.services.day_board import UnassignedJob, VisitBlock

# The tables whose changes can change the money: charges, invoices, and which work
# orders have a visit today (a visit moved, a job cancelled).
MONEY_TABLES = ("line_items", "invoices", "invoice_lines", "work_orders", "visits")

_NOTHING = decimal.Decimal("0.00")
_UNDER_WAY_ON_SITE = VISIT_UNDER_WAY - VISIT_WAITING  # en route, on site
_BILLED = sorted(
    status.value for status in (InvoiceStatus.POSTED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID)
)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """Today's visits by what is happening to them."""

    scheduled: int = 0
    in_progress: int = 0
    completed: int = 0
    unassigned: int = 0
    running_late: int = 0
    ended_early: int = 0  # cancelled or a no-show


@dataclass(frozen=True, slots=True)
class DayMoney:
    """Today's revenue: booked on today's work, and invoiced today (dollars)."""

    booked: decimal.Decimal = _NOTHING
    invoiced: decimal.Decimal = _NOTHING


@dataclass(frozen=True, slots=True)
class DayFigures:
    counts: DayCounts = DayCounts()
    money: DayMoney | None = None  # None until read (or while it cannot be)


def late_after(visit: VisitBlock) -> dt.datetime | None:
    """When ``visit`` turns late if nobody has set out for it; None for a visit that
    cannot be late (under way, finished)."""
    if visit.status not in VISIT_WAITING:
        return None
    window = visit.arrival_window
    return (window.end if window is not None else visit.starts) + LATE_GRACE


def is_running_late(visit: VisitBlock, now: dt.datetime) -> bool:
    turns_late = late_after(visit)
    return turns_late is not None and now > turns_late


def day_counts(
    visits: Iterable[VisitBlock], unassigned: Iterable[UnassignedJob], now: dt.datetime
) -> DayCounts:
    """The counts for the visits on the board and the jobs waiting, at ``now``."""
    scheduled = in_progress = completed = late = ended_early = 0
    for visit in visits:
        status = visit.status
        if status in VISIT_WAITING:
            scheduled += 1
            late += is_running_late(visit, now)
        elif status in _UNDER_WAY_ON_SITE:
            in_progress += 1
        elif status == VisitStatus.COMPLETED:
            completed += 1
        elif status in VISIT_ENDED_EARLY:
            ended_early += 1
    return DayCounts(
        scheduled=scheduled,
        in_progress=in_progress,
        completed=completed,
        unassigned=sum(1 for _job in unassigned),
        running_late=late,
        ended_early=ended_early,
    )


# Visits are at most a week long (a constraint), so the start index bounds the search.
_MONEY_SQL = text(
    """
    SELECT
      (SELECT coalesce(sum(li.quantity * li.unit_price), 0)
         FROM line_items li
        WHERE li.work_order_id IN (
              SELECT v.work_order_id
                FROM visits v
                JOIN work_orders w ON w.id = v.work_order_id
               WHERE v.starts < :ends AND v.ends > :starts
                 AND v.starts > :earliest
                 AND v.status <> ALL(:visit_ended)
                 AND w.status <> ALL(:order_ended))) AS booked,
      (SELECT coalesce(sum(i.total - i.credited), 0)
         FROM invoices i
        WHERE i.posted_at >= :starts AND i.posted_at < :ends
          AND i.kind <> :credit
          AND i.status = ANY(:billed)) AS invoiced
    """
)


async def day_money(
    sessions: async_sessionmaker[AsyncSession], day: dt.date, zone: dt.tzinfo
) -> DayMoney:
    """Revenue booked on ``day``'s work orders and invoiced on ``day`` (the company's
    calendar day in ``zone``), in one round trip."""
    starts = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    ends = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    async with sessions() as session:
        row = (
            await session.execute(
                _MONEY_SQL,
                {
                    "starts": starts,
                    "ends": ends,
                    "earliest": starts - LONGEST_VISIT,
                    "visit_ended": sql_values(VISIT_ENDED_EARLY),
                    "order_ended": sql_values(WORK_ORDER_ENDED_EARLY),
                    "credit": InvoiceKind.CREDIT.value,
                    "billed": _BILLED,
                },
            )
        ).one()
    return DayMoney(
        booked=decimal.Decimal(row.booked).quantize(_NOTHING),
        invoiced=decimal.Decimal(row.invoiced).quantize(_NOTHING),
    )


def touches_money(tables: Iterable[str]) -> bool:
    """Whether changes to ``tables`` can change ``day_money``."""
    return any(table in MONEY_TABLES for table in tables)


__all__ = [
    "LATE_GRACE",
    "MONEY_TABLES",
    "DayCounts",
    "DayFigures",
    "DayMoney",
    "day_counts",
    "day_money",
    "is_running_late",
    "late_after",
    "touches_money",
]
