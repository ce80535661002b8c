"""The leak, measured: a period's missed calls, how many were called back and booked,
and the revenue they stand for.

- **Missed**: leads received in the period that were a missed call or a voicemail,
  spam left out (a robocall is no lost job).
- **Called back**: of those, the ones somebody tried (a callback attempt) or reached
  (booked, or told us they were not interested).
- **Booked**: of those, the ones that became a work order.
- **Average job value**: what a job brought in, over the work orders with an invoice
  posted in the period: each work order's posted invoices (void ones and credit notes
  left out, less what was credited on them), averaged per work order. A period with
  nothing invoiced (this morning, a slow week) takes the year before its end instead,
  so its missed calls are not worth nothing.
- **At risk** = missed × average job value; **recovered** = what the booked ones'
  work orders were actually invoiced (the same way), whenever that was.
"""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.leads import Leak

Sessions = async_sessionmaker[AsyncSession]

# Which leads are missed calls, and which of those were called back; the reports'
# missed-calls table (services/reports) counts with the same words.
MISSED = "l.source IN ('missed_call', 'voicemail') AND l.outcome <> 'spam'"
CALLED_BACK = "l.attempts > 0 OR l.outcome IN ('booked', 'not_interested')"


# The average value of the jobs with an invoice posted from :since to :until (the
# moments named): each one's posted invoices all together, whenever posted, which
# ``posted_revenue`` carries beside each of its postings (``job_billed``); a work order
# is counted at its first posting in the period (the one whose previous posting is not).
def _average(since: str, until: str) -> str:
    first = f"r.previous_posted_at IS NULL OR r.previous_posted_at < {since}"
    return f"""(SELECT sum(r.job_billed) FILTER (WHERE {first})
                / nullif(count(*) FILTER (WHERE {first}), 0)
        FROM posted_revenue r WHERE r.posted_at >= {since} AND r.posted_at < {until})"""


# COALESCE stops at the first figure it has: the year before is read only when nothing
# was invoiced in the period.
AVERAGE = f"""SELECT coalesce(
        {_average(":since", ":until")},
        {_average("CAST(:until AS timestamptz) - interval '365 days'", ":until")},
        0)"""

_LEAK = f"""
WITH missed AS (
    SELECT count(*) AS missed,
           count(*) FILTER (WHERE {CALLED_BACK}) AS called_back,
           count(*) FILTER (WHERE l.outcome = 'booked') AS booked,
           -- Looked up for the booked ones alone (a join would read every work order).
           coalesce(sum(CASE WHEN l.outcome = 'booked' THEN
               (SELECT o.billed FROM work_order_outcomes o
                WHERE o.work_order_id = l.work_order_id) END), 0) AS recovered
    FROM leads l
    WHERE {MISSED}
      AND l.received_at >= :since AND l.received_at < :until
)
SELECT m.missed, m.called_back, m.booked, m.recovered, ({AVERAGE}) AS average
FROM missed m
"""

_CENT = decimal.Decimal("0.01")


async def average_job_value(
    session: AsyncSession, *, since: dt.datetime, until: dt.datetime
) -> decimal.Decimal:
    """The leak's average job value for the period from ``since`` up to ``until``."""
    value = (await session.execute(text(AVERAGE), {"since": since, "until": until})).scalar_one()
    return decimal.Decimal(value).quantize(_CENT)


async def leak_figures(sessions: Sessions, *, since: dt.datetime, until: dt.datetime) -> Leak:
    """The leak of the calls received from ``since`` up to (not including) ``until``."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("a period is two moments with a time zone")
    async with sessions() as session:
        row = (await session.execute(text(_LEAK), {"since": since, "until": until})).one()
    return Leak(
        since=since,
        until=until,
        missed=int(row.missed),
        called_back=int(row.called_back),
        booked=int(row.booked),
        average_job_value=decimal.Decimal(row.average).quantize(_CENT),
        recovered=decimal.Decimal(row.recovered).quantize(_CENT),
    )
