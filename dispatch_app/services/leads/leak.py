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
# The invoices that bill: posted, void ones and credit notes left out.
BILLING = "i.status NOT IN ('draft', 'void') AND i.kind <> 'credit'"

# A work order's value: its posted invoices, void ones and credit notes left out.
_JOB_VALUE = f"""
SELECT i.work_order_id, sum(i.total - i.credited) AS value, min(i.posted_at) AS first_posted
FROM invoices i
WHERE {BILLING}
GROUP BY i.work_order_id
"""

_LEAK = f"""
WITH job AS ({_JOB_VALUE}),
missed AS (
    SELECT l.* FROM leads l
    WHERE {MISSED}
      AND l.received_at >= :since AND l.received_at < :until
)
SELECT
    (SELECT count(*) FROM missed) AS missed,
    (SELECT count(*) FROM missed l WHERE {CALLED_BACK}) AS called_back,
    (SELECT count(*) FROM missed WHERE outcome = 'booked') AS booked,
    coalesce(
        (SELECT avg(value) FROM job
         WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.work_order_id = job.work_order_id
                       AND i.status NOT IN ('draft', 'void') AND i.kind <> 'credit'
                       AND i.posted_at >= :since AND i.posted_at < :until)),
        (SELECT avg(value) FROM job
         WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.work_order_id = job.work_order_id
                       AND i.status NOT IN ('draft', 'void') AND i.kind <> 'credit'
                       AND i.posted_at >= CAST(:until AS timestamptz) - interval '365 days'
                       AND i.posted_at < :until)),
        0) AS average,
    (SELECT coalesce(sum(job.value), 0) FROM missed m
     JOIN job ON job.work_order_id = m.work_order_id
     WHERE m.outcome = 'booked') AS recovered
"""

_CENT = decimal.Decimal("0.01")


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
