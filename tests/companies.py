"""Small companies written straight into a test database, for tests that need a few rows."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.clock import FixedClock

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
TZ = ZoneInfo("America/Chicago")
DAY = dt.date(2026, 12, 1)  # a Tuesday


def clock_at(hour: int = 6, minute: int = 0, day: dt.date = DAY) -> FixedClock:
    """The company's clock stopped at ``hour:minute`` on ``day`` (Chicago): tests never
    depend on when they run."""
    return FixedClock(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ))


# Moments the suite runs the intake, the board and the demo at: a test must pass
# whatever the day and hour, so it is run at the awkward ones.
MOMENTS = {
    "tuesday-07:00": dt.datetime(2026, 12, 1, 7, 0, tzinfo=TZ),
    "friday-16:00": dt.datetime(2026, 12, 4, 16, 0, tzinfo=TZ),
    "sunday-10:00": dt.datetime(2026, 12, 6, 10, 0, tzinfo=TZ),
    # The autumn change: 01:30 comes twice; this is the first (daylight) one.
    "autumn-change-01:30": dt.datetime(2026, 11, 1, 1, 30, tzinfo=TZ),
    # The spring change: 02:30 does not exist on the wall clock (read as 03:30 CDT).
    "spring-change-02:30": dt.datetime(2027, 3, 14, 2, 30, tzinfo=TZ),
    "tuesday-23:59": dt.datetime(2026, 12, 1, 23, 59, tzinfo=TZ),
}


def clock_at_moment(name: str) -> FixedClock:
    """A fresh clock stopped at one of ``MOMENTS``."""
    return FixedClock(MOMENTS[name])


def small_company(url: str) -> dict[str, int]:
    """Two technicians on shift, one off, three visits today (one a crew), one waiting job."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "UPDATE app_settings SET value = '\"America/Chicago\"' WHERE key = 'business_timezone'"
        )
        ids = {}
        for name, trade, colour in [
            ("Ava Kowalski", "hvac", "#1f77b4"),
            ("Marcus Lee", "plumbing", "#2ca02c"),
            ("Noor Haddad", "electrical", "#ff7f0e"),
        ]:
            ids[name] = db.execute(
                "INSERT INTO technicians (name, trade, colour) VALUES (%s, %s, %s) RETURNING id",
                (name, trade, colour),
            ).fetchone()[0]
        for name in ("Ava Kowalski", "Marcus Lee"):
            db.execute(
                "INSERT INTO technician_shifts (technician_id, weekday, starts, ends) "
                "VALUES (%s, 1, '07:00', '15:30')",
                (ids[name],),
            )
        customer = db.execute(
            "INSERT INTO customers (name) VALUES ('José Núñez') RETURNING id"
        ).fetchone()[0]
        site = db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip, lat, lon) "
            "VALUES (%s, '1432 W Belmont Ave', 'Chicago', 'IL', '60657', 41.94, -87.67) "
            "RETURNING id",
            (customer,),
        ).fetchone()[0]
        job = db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('hvac', 'No heat call', 90) RETURNING id"
        ).fetchone()[0]

        def visit(start: str, end: str, crew: list[str], priority: str = "normal") -> int:
            order = db.execute(
                "INSERT INTO work_orders (customer_id, site_id, job_type_id, priority, status) "
                "VALUES (%s, %s, %s, %s, 'scheduled') RETURNING id",
                (customer, site, job, priority),
            ).fetchone()[0]
            starts = dt.datetime.combine(DAY, dt.time.fromisoformat(start), tzinfo=TZ)
            ends = dt.datetime.combine(DAY, dt.time.fromisoformat(end), tzinfo=TZ)
            visit_id = db.execute(
                "INSERT INTO visits (work_order_id, starts, ends, status) "
                "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
                (order, starts, ends),
            ).fetchone()[0]
            for index, name in enumerate(crew):
                db.execute(
                    "INSERT INTO visit_technicians (visit_id, technician_id, is_lead) "
                    "VALUES (%s, %s, %s)",
                    (visit_id, ids[name], index == 0),
                )
            return visit_id

        visit("08:00", "09:30", ["Ava Kowalski"])
        visit("10:00", "12:00", ["Ava Kowalski", "Marcus Lee"])
        visit("13:00", "14:00", ["Marcus Lee"], priority="urgent")
        waiting = db.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, priority) "
            "VALUES (%s, %s, %s, 'emergency') RETURNING id",
            (customer, site, job),
        ).fetchone()[0]
        db.execute("INSERT INTO visits (work_order_id) VALUES (%s)", (waiting,))
    return ids


def operate(url: str, work: Callable[[Sessions], Awaitable[T]]) -> T:
    """An operation on its own engine and event loop (a test with no loop running)."""

    async def run() -> T:
        engine = make_async_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())
