"""History that must not be rewritten: finished visits stay where and with whom they
happened, and a work order with a history is never deleted — refused by the operations
with a sentence, and by the database itself for any other client (psql included)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.errors import ValidationError
from dispatch_app.services.visits import (
    VisitMove,
    move_visits,
    set_visit_status,
    unassign_visit,
    unschedule_visits,
)
from tests.companies import DAY, TZ, clock_at, small_company
from tests.lock_waits import wait_for_lock_waiters

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]
CLOCK = clock_at(6)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


@dataclass(frozen=True)
class Company:
    url: str
    ava: int
    marcus: int
    first: int  # Ava 08:00–09:30
    crewed: int  # Ava and Marcus 10:00–12:00
    urgent: int  # Marcus 13:00–14:00


@pytest.fixture
def company(db_url: str) -> Company:
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        first, crewed, urgent = (
            r[0] for r in db.execute("SELECT id FROM visits WHERE starts IS NOT NULL ORDER BY 1")
        )
    return Company(db_url, techs["Ava Kowalski"], techs["Marcus Lee"], first, crewed, urgent)


def run(url: str, operation: Callable[[Sessions], Awaitable[T]]) -> T:
    async def scenario() -> T:
        engine = make_async_engine(url, editor="dispatcher2")
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What psql (or any other client) would do, committed at once."""
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def refused_by_database(url: str, statement: str, params: tuple[Any, ...] = ()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as refused:
        sql(url, statement, params)
    return refused.value


def snapshot(url: str) -> dict[str, Any]:
    return {
        "visits": sql(url, "SELECT id, starts, ends, status, version FROM visits ORDER BY id"),
        "crews": sql(
            url, "SELECT visit_id, technician_id, is_lead FROM visit_technicians ORDER BY 1, 2"
        ),
        "orders": sql(url, "SELECT id, status, version FROM work_orders ORDER BY id"),
        "audit": sql(url, "SELECT count(*) FROM audit_log"),
        "history": sql(url, "SELECT count(*) FROM status_history"),
    }


def version(url: str, visit_id: int) -> int:
    return sql(url, "SELECT version FROM visits WHERE id = %s", (visit_id,))[0][0]


def number(url: str, visit_id: int) -> str:
    return sql(
        url,
        "SELECT o.number FROM work_orders o JOIN visits v ON v.work_order_id = o.id "
        "WHERE v.id = %s",
        (visit_id,),
    )[0][0]


def order_of(url: str, visit_id: int) -> int:
    return sql(url, "SELECT work_order_id FROM visits WHERE id = %s", (visit_id,))[0][0]


def step(url: str, visit_id: int, *statuses: str, reason: str | None = None) -> None:
    """The visit taken through ``statuses`` the way the board's menu does it."""
    for status in statuses:
        seen = version(url, visit_id)
        run(
            url,
            lambda s, status=status, seen=seen: set_visit_status(
                s, visit_id=visit_id, seen_version=seen, status=status, reason=reason
            ),
        )


def move(url: str, visit_id: int, starts, ends, crew: tuple[int, ...] | None = None):
    seen = version(url, visit_id)
    return run(
        url,
        lambda s: move_visits(
            s,
            clock=CLOCK,
            moves=[VisitMove(visit_id, seen, starts, ends, technician_ids=crew)],
        ),
    )


def refused(url: str, operation: Callable[[], Any]) -> str:
    """The sentence an operation refuses with; nothing was written meanwhile."""
    before = snapshot(url)
    with pytest.raises(ValidationError) as refusal:
        operation()
    assert snapshot(url) == before
    (sentence,) = refusal.value.fields.values()
    return sentence


# -- the operations say why, in a sentence ---------------------------------------------
def test_a_completed_visit_is_not_moved_reassigned_unassigned_or_unscheduled(company) -> None:
    c = company
    step(c.url, c.first, "on_site", "completed")
    wo = number(c.url, c.first)
    five_years = dt.timedelta(days=5 * 365)

    sentence = refused(c.url, lambda: move(c.url, c.first, at(8) + five_years, at(9) + five_years))
    assert sentence == f"{wo}'s visit is completed: reopen it before moving it."
    sentence = refused(c.url, lambda: move(c.url, c.first, at(8), at(9, 30), (c.marcus,)))
    assert sentence == f"{wo}'s visit is completed: reopen it before reassigning it."
    seen = version(c.url, c.first)
    sentence = refused(
        c.url, lambda: run(c.url, lambda s: unassign_visit(s, visit_id=c.first, seen_version=seen))
    )
    assert sentence == f"{wo}'s visit is completed: reopen it before unassigning it."
    sentence = refused(
        c.url, lambda: run(c.url, lambda s: unschedule_visits(s, seen={c.first: seen}))
    )
    assert sentence == f"{wo}'s visit is completed: reopen it before unscheduling it."


def test_cancelled_and_no_show_visits_wait_to_be_restored(company) -> None:
    c = company
    step(c.url, c.first, "cancelled", reason="Customer sold the house")
    step(c.url, c.urgent, "no_show", reason="Nobody home")
    assert refused(c.url, lambda: move(c.url, c.first, at(15), at(16))) == (
        f"{number(c.url, c.first)}'s visit is cancelled: restore it before moving it."
    )
    assert refused(c.url, lambda: move(c.url, c.urgent, at(15), at(16))) == (
        f"{number(c.url, c.urgent)}'s visit is a no-show: restore it before moving it."
    )


@pytest.mark.parametrize("billed", ["invoiced", "closed"])
def test_the_visits_of_a_billed_work_order_never_change(company, billed) -> None:
    c = company
    step(c.url, c.first, "on_site", "completed")
    sql(
        c.url,
        "UPDATE work_orders SET status = %s WHERE id = %s",
        (billed, order_of(c.url, c.first)),
    )
    wo = number(c.url, c.first)
    sentence = refused(c.url, lambda: move(c.url, c.first, at(8), at(9, 30), (c.marcus,)))
    assert sentence == f"{wo} is already {billed}; its visits can no longer change."


def test_a_manager_corrects_a_finished_visit_by_reopening_it_first(company) -> None:
    c = company
    step(c.url, c.first, "on_site", "completed")
    # It really ran 08:30–10:00 with Marcus: reopen, correct, complete again.
    step(c.url, c.first, "on_site", reason="Times were entered wrong")
    move(c.url, c.first, at(8, 30), at(10), (c.marcus,))
    step(c.url, c.first, "completed")
    starts, ends, status = sql(
        c.url, "SELECT starts, ends, status FROM visits WHERE id = %s", (c.first,)
    )[0]
    assert (starts, ends, status) == (at(8, 30), at(10), "completed")
    assert sql(
        c.url, "SELECT technician_id FROM visit_technicians WHERE visit_id = %s", (c.first,)
    ) == [(c.marcus,)]
    # Every step of the correction is on the record.
    steps = sql(
        c.url,
        "SELECT from_status, to_status FROM status_history WHERE visit_id = %s ORDER BY id",
        (c.first,),
    )
    assert steps[-2:] == [("completed", "on_site"), ("on_site", "completed")]


# -- the database refuses the same, whoever asks ---------------------------------------
def test_psql_cannot_move_or_recrew_a_finished_visit(company) -> None:
    c = company
    step(c.url, c.first, "on_site", "completed")
    wo = number(c.url, c.first)
    before = snapshot(c.url)
    error = refused_by_database(
        c.url,
        "UPDATE visits SET starts = starts + interval '5 years', ends = ends + interval '5 years' "
        "WHERE id = %s",
        (c.first,),
    )
    assert error.sqlstate == "RD001"
    assert error.diag.message_primary == (
        f"{wo}'s visit is completed: reopen it before changing its time or crew."
    )
    for statement in (
        "DELETE FROM visit_technicians WHERE visit_id = %s",
        "UPDATE visit_technicians SET technician_id = {marcus} WHERE visit_id = %s",
        "INSERT INTO visit_technicians (visit_id, technician_id) VALUES (%s, {marcus})",
        "UPDATE visits SET starts = NULL, ends = NULL WHERE id = %s",
        "UPDATE visits SET arrival_window_start = starts, arrival_window_end = ends WHERE id = %s",
        "DELETE FROM visits WHERE id = %s",
    ):
        error = refused_by_database(c.url, statement.format(marcus=c.marcus), (c.first,))
        assert error.sqlstate in ("RD001", "RD002"), statement
    assert snapshot(c.url) == before
    # Stepping it back in the same statement is a correction, which the database allows.
    sql(
        c.url,
        "UPDATE visits SET status = 'on_site', starts = starts + interval '30 minutes', "
        "ends = ends + interval '30 minutes' WHERE id = %s",
        (c.first,),
    )
    assert sql(c.url, "SELECT starts FROM visits WHERE id = %s", (c.first,)) == [(at(8, 30),)]


def test_psql_cannot_touch_the_visits_of_an_invoiced_work_order(company) -> None:
    c = company
    step(c.url, c.first, "on_site", "completed")
    order = order_of(c.url, c.first)
    sql(c.url, "UPDATE work_orders SET status = 'invoiced' WHERE id = %s", (order,))
    before = snapshot(c.url)
    for statement, params in (
        ("UPDATE visits SET status = 'on_site' WHERE id = %s", (c.first,)),
        ("INSERT INTO visits (work_order_id, sequence) VALUES (%s, 2)", (order,)),
        ("UPDATE visits SET work_order_id = %s WHERE id = %s", (order, c.urgent)),
    ):
        error = refused_by_database(c.url, statement, params)
        assert error.sqlstate == "RD001", statement
        assert error.diag.message_primary.endswith(
            "is already invoiced; its visits can no longer change."
        )
    assert snapshot(c.url) == before


def test_an_invoicing_committed_during_a_move_is_seen_and_refused(company) -> None:
    """The race the operation's own check cannot see: the database waits for the other
    transaction, then refuses, and the refusal is a sentence."""
    c = company
    order = order_of(c.url, c.urgent)
    with psycopg.connect(libpq_url(c.url)) as invoicing:
        invoicing.execute("UPDATE work_orders SET status = 'invoiced' WHERE id = %s", (order,))
        outcome: list[BaseException | dict[int, int]] = []
        mover = threading.Thread(
            target=lambda: outcome.append(_capture(lambda: move(c.url, c.urgent, at(15), at(16))))
        )
        mover.start()
        wait_for_lock_waiters(c.url, 1)  # the move reached the work order's row lock
        invoicing.commit()
        mover.join(timeout=30)
    (result,) = outcome
    assert isinstance(result, ValidationError), result
    assert result.fields == {
        "visit": f"{number(c.url, c.urgent)} is already invoiced; its visits can no longer change."
    }
    assert sql(c.url, "SELECT starts FROM visits WHERE id = %s", (c.urgent,)) == [(at(13),)]


def _capture(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except BaseException as error:  # handed to the test thread
        return error


# -- history is never deleted ------------------------------------------------------------
def test_a_work_order_with_a_history_is_never_deleted(company) -> None:
    c = company
    step(c.url, c.first, "cancelled", reason="Duplicate booking")
    order = order_of(c.url, c.first)
    wo = number(c.url, c.first)
    before = snapshot(c.url)
    error = refused_by_database(c.url, "DELETE FROM work_orders WHERE id = %s", (order,))
    assert error.sqlstate == "RD002"
    assert error.diag.message_primary == (
        f"{wo} has a history and is never deleted: cancel it instead."
    )
    assert snapshot(c.url) == before
    # Even past the trigger (a table owner can switch it off), the history tables hold
    # on: the job waiting in the queue has nothing but the audit lines of its booking
    # (the work order and its visit written).
    (waiting,) = sql(c.url, "SELECT work_order_id FROM visits WHERE starts IS NULL")[0]
    assert sql(c.url, "SELECT count(*) FROM audit_log WHERE work_order_id = %s", (waiting,)) == [
        (2,)
    ]
    with psycopg.connect(libpq_url(c.url)) as db:
        db.execute("ALTER TABLE work_orders DISABLE TRIGGER work_orders_keep_history")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            db.execute("DELETE FROM work_orders WHERE id = %s", (waiting,))
        db.rollback()
    assert snapshot(c.url) == before


def test_the_history_tables_restrict_deletes_instead_of_cascading(sync_engine) -> None:
    from sqlalchemy import text

    with sync_engine.connect() as db:
        rules = dict(
            db.execute(
                text(
                    "SELECT conname, confdeltype FROM pg_constraint WHERE conname IN ("
                    "'fk_audit_log_work_order_id_work_orders', "
                    "'fk_status_history_work_order_id_work_orders', "
                    "'fk_status_history_visit_id_visits')"
                )
            ).all()
        )
    assert rules == dict.fromkeys(
        (
            "fk_audit_log_work_order_id_work_orders",
            "fk_status_history_work_order_id_work_orders",
            "fk_status_history_visit_id_visits",
        ),
        "r",
    )


def test_open_work_without_history_can_still_be_taken_off(company) -> None:
    """Only history is kept: a second visit added by mistake and never booked goes."""
    c = company
    order = order_of(c.url, c.first)
    (extra,) = sql(
        c.url, "INSERT INTO visits (work_order_id, sequence) VALUES (%s, 2) RETURNING id", (order,)
    )[0]
    sql(c.url, "DELETE FROM visits WHERE id = %s", (extra,))
    assert sql(c.url, "SELECT count(*) FROM visits WHERE id = %s", (extra,)) == [(0,)]
