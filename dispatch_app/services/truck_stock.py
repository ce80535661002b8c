"""Reading what the trucks carry of the parts jobs need, for the board and the intake.

A handful of set-based statements for the whole company, whatever the day holds: the
job types' parts, each technician's truck, and where a truck holds fewer of those parts
than a job needs.
After a change to a stock level only the levels named are read again (``truck_levels``):
every material put on a work order moves one, on every workstation's feed.

Threading contract: coroutines for the app's event loop; no Qt here.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from dispatch_app.domain.truck_stock import NeededPart, TruckStock

# The company setting ``services.stock`` keeps the ledger by (not imported from there:
# the books import the day's reads).
STOCK_TRACKING = "stock_tracking"

_KEPT = text("SELECT value FROM app_settings WHERE key = :key")

# Active price-book entries only: a part taken off the price book is not asked for.
_NEEDS = """
    SELECT n.job_type_id, p.id, p.name, p.kind, n.quantity
    FROM job_type_parts n
    JOIN parts p ON p.id = n.part_id AND p.active
    {where}
    ORDER BY n.job_type_id, n.id
"""

_TRUCKS = """
    SELECT technician_id, name FROM stock_locations
    WHERE kind = 'truck' AND active AND technician_id IS NOT NULL
"""

# Where a truck holds less of a part than the most some job needs of it: what can be
# short. A truck that carries enough of everything adds no row.
_LOW = """
    WITH most AS (
        SELECT n.part_id, max(n.quantity) AS quantity
        FROM job_type_parts n
        JOIN parts p ON p.id = n.part_id AND p.active AND p.kind = 'part'
        {where}
        GROUP BY n.part_id
    )
    SELECT l.technician_id, most.part_id, coalesce(s.on_hand, 0) AS on_hand
    FROM stock_locations l
    CROSS JOIN most
    LEFT JOIN stock_levels s ON s.location_id = l.id AND s.part_id = most.part_id
    WHERE l.kind = 'truck' AND l.active AND l.technician_id IS NOT NULL
      AND coalesce(s.on_hand, 0) < most.quantity
"""

# Levels a change hint named, where they are a truck's.
_LEVELS = """
    SELECT l.technician_id, s.part_id, s.on_hand
    FROM stock_levels s
    JOIN stock_locations l ON l.id = s.location_id
    WHERE s.id = ANY(%(ids)s)
      AND l.kind = 'truck' AND l.active AND l.technician_id IS NOT NULL
"""

_FOR_JOB_TYPES = "WHERE n.job_type_id = ANY(%(job_types)s)"


@functools.cache
def _sql(statement: str, narrowed: bool) -> str:
    return statement.format(where=_FOR_JOB_TYPES if narrowed else "")


async def fetch_truck_stock(
    connection: AsyncConnection, job_type_ids: Collection[int] | None = None
) -> TruckStock:
    """Whose truck is which, what the job types need (only ``job_type_ids``', when given:
    the intake asks about one job), and which trucks hold too few of those parts."""
    kept = (await connection.execute(_KEPT, {"key": STOCK_TRACKING})).scalar()
    if kept is not True:
        return TruckStock()  # nothing is counted, so nothing is short
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    narrowed = job_type_ids is not None
    wanted = {"job_types": list(job_type_ids or ())} if narrowed else None
    needs: dict[int, list[NeededPart]] = {}
    async with driver.cursor() as cursor:
        await cursor.execute(_sql(_NEEDS, narrowed), wanted)
        for job_type_id, part_id, name, kind, quantity in await cursor.fetchall():
            needs.setdefault(job_type_id, []).append(NeededPart(part_id, name, quantity, kind))
        await cursor.execute(_TRUCKS)
        trucks = dict(await cursor.fetchall())
        await cursor.execute(_sql(_LOW, narrowed), wanted)
        low = {(tech, part): on_hand for tech, part, on_hand in await cursor.fetchall()}
    return TruckStock(
        kept=True,
        trucks=trucks,
        needs={job_type: tuple(listed) for job_type, listed in needs.items()},
        low=low,
    )


async def truck_levels(
    connection: AsyncConnection, level_ids: Collection[int]
) -> list[tuple[int, int, decimal.Decimal]]:
    """The named stock levels that are trucks', as (technician, part, on hand)."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    async with driver.cursor() as cursor:
        await cursor.execute(_LEVELS, {"ids": list(level_ids)}, prepare=True)
        rows = await cursor.fetchall()
    return [(tech, part, held) for tech, part, held in rows]
