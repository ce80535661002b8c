"""Ids from outside an operation (a caller, a change hint anyone may NOTIFY, a script):
one no row can have — 2**63 and beyond, zero, negative — is "no such work order", never
a database error, and nothing is written."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.change_feed import ChangeHint
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.errors import NoSuchRecord, ValidationError
from dispatch_app.services import work_order as wo
from dispatch_app.services.availability import windows_for_call
from dispatch_app.services.customer_history import customer_history
from dispatch_app.services.intake import Appointment, CallBooking, NewSite, book_call
from dispatch_app.services.visits import (
    VisitMove,
    set_visit_status,
    unassign_visit,
    unschedule_visits,
)
from dispatch_app.services.work_orders import load_work_order, save_work_order
from tests.companies import DAY, TZ, clock_at, small_company

Sessions = async_sessionmaker[AsyncSession]
TOO_BIG = 2**63  # one past PostgreSQL's bigint
OUTSIDE = [TOO_BIG, 2**64 + 5, 0, -1, -(2**63) - 1]


def at(hour: int) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour), tzinfo=TZ)


def run(url: str, operation: Callable[[Sessions], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        engine = make_async_engine(url)
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def written(url: str) -> tuple[int, ...]:
    """Counts of everything an operation here could write, and the newest change."""
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM service_sites), "
            "(SELECT count(*) FROM work_orders), (SELECT count(*) FROM visits), "
            "(SELECT count(*) FROM notes), (SELECT count(*) FROM line_items), "
            "(SELECT count(*) FROM time_entries), (SELECT count(*) FROM status_history), "
            "(SELECT coalesce(max(version), 0) FROM visits), "
            "(SELECT coalesce(max(version), 0) FROM work_orders)"
        ).fetchone()


@pytest.fixture
def company(db_url: str) -> dict[str, Any]:
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        visit, order, version = db.execute(
            "SELECT id, work_order_id, version FROM visits WHERE starts IS NOT NULL LIMIT 1"
        ).fetchone()
        customer = db.execute("SELECT id FROM customers LIMIT 1").fetchone()[0]
        job_type = db.execute("SELECT id FROM job_types LIMIT 1").fetchone()[0]
    return {
        "url": db_url,
        "techs": techs,
        "visit": visit,
        "order": order,
        "version": version,
        "customer": customer,
        "job_type": job_type,
    }


# Each operation with ``bad`` in the place of one id it takes from its caller.
OPERATIONS: dict[str, Callable[[dict[str, Any], int], Callable[[Sessions], Awaitable[Any]]]] = {
    "load a work order": lambda c, bad: lambda s: wo.load_record(s, bad),
    "read its fields": lambda c, bad: lambda s: load_work_order(s, bad),
    "save its fields": lambda c, bad: (
        lambda s: save_work_order(s, work_order_id=bad, seen_version=1, fields={"description": "x"})
    ),
    "add a note": lambda c, bad: lambda s: wo.add_note(s, work_order_id=bad, body="Gate code"),
    "add labour": lambda c, bad: (
        lambda s: wo.add_labour(
            s, work_order_id=bad, description="Diagnosis", quantity="1", unit_price="90"
        )
    ),
    "add a part": lambda c, bad: (
        lambda s: wo.add_material(s, work_order_id=c["order"], part_id=bad, quantity="1")
    ),
    "change a line item": lambda c, bad: (
        lambda s: wo.update_line_item(s, line_item_id=bad, seen_version=1, quantity="2")
    ),
    "remove a line item": lambda c, bad: lambda s: wo.remove_line_item(s, line_item_id=bad),
    "open a photo": lambda c, bad: lambda s: wo.load_photo(s, photo_id=bad),
    "remove a photo": lambda c, bad: lambda s: wo.remove_photo(s, photo_id=bad),
    "log time": lambda c, bad: (
        lambda s: wo.add_time_entry(
            s, work_order_id=c["order"], technician_id=bad, started_at=at(8), ended_at=at(9)
        )
    ),
    "remove time": lambda c, bad: lambda s: wo.remove_time_entry(s, time_entry_id=bad),
    "change the status": lambda c, bad: (
        lambda s: wo.change_status(
            s, work_order_id=bad, seen_status="scheduled", status="dispatched"
        )
    ),
    "move a visit": lambda c, bad: lambda s: _move(s, bad, c),
    "move it to a technician": lambda c, bad: lambda s: _move(s, c["visit"], c, crew=bad),
    "unassign a visit": lambda c, bad: lambda s: unassign_visit(s, visit_id=bad, seen_version=1),
    "unschedule visits": lambda c, bad: lambda s: unschedule_visits(s, seen={bad: 1}),
    "set a visit's status": lambda c, bad: (
        lambda s: set_visit_status(s, visit_id=bad, seen_version=1, status="dispatched")
    ),
    "read a caller's history": lambda c, bad: lambda s: customer_history(s, bad),
    "offer arrival windows": lambda c, bad: (
        lambda s: windows_for_call(s, job_type_id=bad, clock=clock_at(7))
    ),
    "book for a customer": lambda c, bad: (
        lambda s: book_call(
            s, CallBooking(job_type_id=c["job_type"], description="No heat", customer_id=bad)
        )
    ),
    "book at a site": lambda c, bad: (
        lambda s: book_call(
            s,
            CallBooking(
                job_type_id=c["job_type"],
                description="No heat",
                customer_id=c["customer"],
                site_id=bad,
            ),
        )
    ),
    "book a job type": lambda c, bad: (
        lambda s: book_call(
            s, CallBooking(job_type_id=bad, description="No heat", customer_id=c["customer"])
        )
    ),
    "book with a technician": lambda c, bad: (
        lambda s: book_call(
            s,
            CallBooking(
                job_type_id=c["job_type"],
                description="No heat",
                customer_id=c["customer"],
                appointment=Appointment(at(14), at(15), at(14), at(16), bad),
            ),
        )
    ),
}


async def _move(sessions: Sessions, visit_id: int, c: dict[str, Any], crew: int | None = None):
    from dispatch_app.services.visits import move_visits

    technicians = None if crew is None else (crew,)
    move = VisitMove(visit_id, c["version"], at(13), at(14), technicians)
    return await move_visits(sessions, moves=[move])


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_an_id_no_row_can_have_is_no_such_record_and_writes_nothing(company, operation):
    url = company["url"]
    before = written(url)
    for bad in OUTSIDE:
        try:
            run(url, OPERATIONS[operation](company, bad))
        except NoSuchRecord as missing:
            assert "There is no" in str(missing) and "id" in str(missing)
        except ValidationError as refused:
            assert refused.fields  # said beside the field the id came from
        else:
            raise AssertionError(f"{operation} with id {bad} went through")
    assert written(url) == before


@pytest.mark.parametrize("version", [2**31, -(2**31) - 1, 2**63])
def test_a_version_no_row_can_have_is_refused_before_the_database_sees_it(company, version):
    url = company["url"]
    before = written(url)
    with pytest.raises(NoSuchRecord, match="never at version"):
        run(url, lambda s: unassign_visit(s, visit_id=company["visit"], seen_version=version))
    assert written(url) == before


@pytest.mark.parametrize(
    "payload",
    [
        '{"table": "visits", "id": 9223372036854775808, "op": "update", "version": 2}',
        '{"table": "visits", "id": -4, "op": "update", "version": 2}',
        '{"table": "visits", "id": 4, "op": "update", "version": 99999999999}',
        '{"table": "visits", "id": [1], "op": "update"}',
        '["not", "a", "hint"]',
    ],
)
def test_a_change_hint_naming_no_possible_row_is_ignored(payload):
    # Any login may NOTIFY on the channel: the feed must not pass such ids on.
    assert ChangeHint.parse(payload) is None
    assert ChangeHint.parse('{"table": "visits", "id": 4, "op": "update", "version": 2}') == (
        ChangeHint("visits", 4, "update", 2)
    )


def test_a_new_address_for_a_customer_no_longer_on_file_is_said_so(company):
    url = company["url"]
    with psycopg.connect(libpq_url(url)) as db:
        gone = db.execute(
            "INSERT INTO customers (name) VALUES ('Moved Away') RETURNING id"
        ).fetchone()[0]
        db.execute("DELETE FROM customers WHERE id = %s", (gone,))
    before = written(url)
    booking = CallBooking(
        job_type_id=company["job_type"],
        description="Dripping tap at the rental.",
        customer_id=gone,
        new_site=NewSite("2 Elm St", "Chicago", "IL", "60601", "Rental"),
    )
    with pytest.raises(ValidationError) as refused:
        run(url, lambda s: book_call(s, booking))
    assert refused.value.fields["customer"] == (
        "That customer is no longer on file; look the caller up again."
    )
    assert written(url) == before
