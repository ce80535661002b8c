"""What each work order came to (``work_order_outcomes``, ``posted_revenue``), kept by
the database through every write, whoever makes it: here plain SQL, as psql would."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from tests.companies import TZ, small_company

MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


def _connect(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(libpq_url(url), autocommit=True, row_factory=dict_row)


def _one(db: psycopg.Connection[dict[str, Any]], query: str, *values: Any) -> Any:
    row = db.execute(query, values).fetchone()
    assert row is not None, query
    return next(iter(row.values()))


def _outcome(db: psycopg.Connection[dict[str, Any]], order: int) -> dict[str, Any]:
    row = db.execute("SELECT * FROM work_order_outcomes WHERE work_order_id = %s", (order,))
    found = row.fetchone()
    assert found is not None
    return found


def _revenue(db: psycopg.Connection[dict[str, Any]], order: int) -> list[dict[str, Any]]:
    return db.execute(
        "SELECT * FROM posted_revenue WHERE work_order_id = %s ORDER BY posted_at, invoice_id",
        (order,),
    ).fetchall()


def _orders(db: psycopg.Connection[dict[str, Any]]) -> list[int]:
    """The company's three scheduled work orders, in booking order."""
    return [
        row["id"]
        for row in db.execute(
            "SELECT DISTINCT w.id FROM work_orders w JOIN visits v ON v.work_order_id = w.id "
            "WHERE w.status = 'scheduled' ORDER BY w.id"
        )
    ]


def _complete(db: psycopg.Connection[dict[str, Any]], order: int, when: dt.datetime) -> None:
    db.execute("UPDATE visits SET status = 'completed' WHERE work_order_id = %s", (order,))
    db.execute("UPDATE work_orders SET status = 'completed' WHERE id = %s", (order,))
    db.execute(
        "INSERT INTO status_history (work_order_id, from_status, to_status, changed_at) "
        "VALUES (%s, 'on_site', 'completed', %s)",
        (order, when),
    )


def _draft(db: psycopg.Connection[dict[str, Any]], order: int) -> int:
    """A draft invoice of the work order's line items (the books' triggers sum it)."""
    bill = _one(
        db,
        "INSERT INTO invoices (work_order_id, customer_id, tax_rate) "
        "SELECT id, customer_id, 0 FROM work_orders WHERE id = %s RETURNING id",
        order,
    )
    db.execute(
        "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, unit_price) "
        "SELECT %s, kind, description, quantity, unit_price FROM line_items "
        "WHERE work_order_id = %s",
        (bill, order),
    )
    return int(bill)


def _bill(db: psycopg.Connection[dict[str, Any]], order: int) -> int:
    """A posted invoice of the work order's line items."""
    bill = _draft(db, order)
    db.execute("UPDATE invoices SET status = 'posted' WHERE id = %s", (bill,))
    return bill


def _charge(db: psycopg.Connection[dict[str, Any]], order: int, price: str) -> None:
    db.execute(
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price) "
        "VALUES (%s, 'labour', 'Repair', 1, %s)",
        (order, D(price)),
    )


def test_a_job_s_facts_follow_it_from_booking_to_payment(db_url: str) -> None:
    ids = small_company(db_url)
    with _connect(db_url) as db:
        first, crew_job, _ = _orders(db)
        booked = _outcome(db, first)
        assert (booked["status"], booked["ended_as"], booked["ended_at"]) == (
            "scheduled",
            None,
            None,
        )
        assert (booked["first_time_fix"], booked["lead_technician_id"]) == (False, None)

        _complete(db, first, MORNING)
        done = _outcome(db, first)
        assert (done["ended_as"], done["ended_at"], done["status"]) == (
            "completed",
            MORNING,
            "completed",
        )
        assert done["first_time_fix"] is True
        assert done["lead_technician_id"] == ids["Ava Kowalski"]
        assert (done["bills"], done["charged"], done["billed"]) == (0, D("0.00"), D("0.00"))

        _charge(db, first, "180.00")
        _charge(db, first, "45.50")
        assert _outcome(db, first)["charged"] == D("225.50")

        bill = _bill(db, first)
        posted = _outcome(db, first)
        assert (posted["bills"], posted["billed"], posted["owed"]) == (1, D("225.50"), D("225.50"))
        (row,) = _revenue(db, first)
        assert (row["invoice_id"], row["value"], row["job_billed"]) == (
            bill,
            D("225.50"),
            D("225.50"),
        )
        assert (row["lead_technician_id"], row["previous_posted_at"]) == (ids["Ava Kowalski"], None)
        assert row["job_type_id"] == _one(
            db, "SELECT job_type_id FROM work_orders WHERE id = %s", first
        )

        db.execute(
            "INSERT INTO payments (invoice_id, method, amount, received_on) "
            "VALUES (%s, 'cash', 100, %s)",
            (bill, MORNING.date()),
        )
        assert _outcome(db, first)["owed"] == D("125.50")

        # The job type is corrected after the fact: the revenue moves with it.
        other = _one(
            db,
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('hvac', 'Furnace repair', 120) RETURNING id",
        )
        db.execute("UPDATE work_orders SET job_type_id = %s WHERE id = %s", (other, first))
        assert [r["job_type_id"] for r in _revenue(db, first)] == [other]
        assert _outcome(db, first)["job_type_id"] == other

        # The crew's job: its lead is the one marked lead (changed before the visit was
        # done; a finished visit's crew stays put), not the first row.
        db.execute(
            "UPDATE visit_technicians SET is_lead = (technician_id = %s) "
            "WHERE visit_id IN (SELECT id FROM visits WHERE work_order_id = %s)",
            (ids["Marcus Lee"], crew_job),
        )
        assert _outcome(db, crew_job)["lead_technician_id"] is None  # nothing done yet
        _complete(db, crew_job, MORNING + dt.timedelta(hours=3))
        assert _outcome(db, crew_job)["lead_technician_id"] == ids["Marcus Lee"]


def test_a_second_trip_a_cancellation_and_a_void_bill(db_url: str) -> None:
    small_company(db_url)
    with _connect(db_url) as db:
        first, second, third = _orders(db)
        # A no-show first, then a second visit that fixed it: not fixed in one visit.
        db.execute("UPDATE visits SET status = 'no_show' WHERE work_order_id = %s", (first,))
        db.execute(
            "INSERT INTO visits (work_order_id, sequence, starts, ends, status) "
            "VALUES (%s, 2, %s, %s, 'scheduled')",
            (first, MORNING + dt.timedelta(days=2), MORNING + dt.timedelta(days=2, hours=1)),
        )
        _complete(db, first, MORNING + dt.timedelta(days=2, hours=1))
        assert _outcome(db, first)["first_time_fix"] is False

        db.execute(
            "UPDATE work_orders SET status = 'cancelled', cancel_reason = 'Fixed it themselves' "
            "WHERE id = %s",
            (second,),
        )
        cancelled = _outcome(db, second)
        assert (cancelled["ended_as"], cancelled["cancel_reason"]) == (
            "cancelled",
            "Fixed it themselves",
        )
        # No status step was written: it ended when it was last changed.
        assert cancelled["ended_at"] == _one(
            db, "SELECT updated_at FROM work_orders WHERE id = %s", second
        )

        # Two bills of one job: the second knows when the first was posted; a void one
        # leaves the revenue.
        _complete(db, third, MORNING)
        _charge(db, third, "300.00")
        deposit = _bill(db, third)
        final = _bill(db, third)
        rows = _revenue(db, third)
        assert [r["invoice_id"] for r in rows] == [deposit, final]
        assert rows[0]["previous_posted_at"] is None
        assert rows[1]["previous_posted_at"] == rows[0]["posted_at"]
        assert _outcome(db, third)["billed"] == D("600.00")
        db.execute(
            "UPDATE invoices SET status = 'void', void_reason = 'Billed twice' WHERE id = %s",
            (final,),
        )
        (left,) = _revenue(db, third)
        assert (left["invoice_id"], left["previous_posted_at"]) == (deposit, None)
        assert _outcome(db, third)["billed"] == D("300.00")


def test_nobody_writes_the_facts_but_the_database(
    db_url: str, scratch_server: ScratchServer
) -> None:
    small_company(db_url)
    try:
        manager = scratch_server.login(db_url, "manager")
        with psycopg.connect(libpq_url(manager), autocommit=True) as db:
            assert db.execute("SELECT count(*) FROM work_order_outcomes").fetchone() == (4,)
            for statement in (
                "UPDATE work_order_outcomes SET billed = billed + 1",
                "DELETE FROM posted_revenue",
                "SELECT dispatch_rebuild_report_facts()",
                "SELECT dispatch_refresh_report_facts(ARRAY[1::bigint])",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    db.execute(statement)
    finally:
        scratch_server.drop_logins()


def test_two_workstations_changing_one_job_at_once_both_reach_its_facts(db_url: str) -> None:
    """One completes the job while the other, a moment later, posts its bill; neither
    sees the other's change. The completer's facts are worked out (``SET CONSTRAINTS
    ALL IMMEDIATE`` runs at once what its commit would), then the poster commits: its
    refresh waits for the completer to commit and reads after it. The facts hold both
    changes (the lead from the one, the bill from the other), not the last writer's
    stale view."""
    ids = small_company(db_url)
    with _connect(db_url) as db:
        order = _orders(db)[0]
        _charge(db, order, "150.00")
        bill = _draft(db, order)
    completing = psycopg.connect(libpq_url(db_url))
    posting = psycopg.connect(libpq_url(db_url))
    failures: list[BaseException] = []
    try:
        completing.execute(
            "UPDATE visits SET status = 'completed' WHERE work_order_id = %s", (order,)
        )
        completing.execute("SET CONSTRAINTS ALL IMMEDIATE")
        posting_pid = posting.info.backend_pid

        def post() -> None:
            try:
                posting.execute("UPDATE invoices SET status = 'posted' WHERE id = %s", (bill,))
                posting.commit()
            except BaseException as error:  # reported to the test's thread
                failures.append(error)

        worker = threading.Thread(target=post)
        worker.start()
        with _connect(db_url) as watch:
            # The poster's commit waits on the completer's lock.
            waiting = False
            for _ in range(2000):
                waiting = bool(
                    _one(
                        watch,
                        "SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                        posting_pid,
                    )
                )
                if waiting or not worker.is_alive():
                    break
                watch.execute("SELECT pg_sleep(0.005)")
            assert waiting
        completing.commit()
        worker.join(timeout=30)
        assert not worker.is_alive() and failures == []
    finally:
        completing.close()
        posting.close()
    with _connect(db_url) as db:
        facts = _outcome(db, order)
        assert facts["lead_technician_id"] == ids["Ava Kowalski"]
        assert (facts["billed"], facts["bills"]) == (D("150.00"), 1)
        (row,) = _revenue(db, order)
        assert row["lead_technician_id"] == ids["Ava Kowalski"]


def test_a_transaction_s_changes_reach_the_facts_once_as_it_commits(db_url: str) -> None:
    """Every statement notes the jobs it touched; the facts are worked out once, at
    commit: not before (a rolled-back change never reaches them), and nothing is left
    waiting after."""
    ids = small_company(db_url)
    with _connect(db_url) as db:
        first, second, _ = _orders(db)
    with psycopg.connect(libpq_url(db_url), row_factory=dict_row) as writer:
        _complete(writer, first, MORNING)
        _charge(writer, first, "80.00")
        assert _outcome(writer, first)["ended_as"] is None  # noted, not yet worked out
        writer.commit()
        with _connect(db_url) as other:
            done = _outcome(other, first)
            assert (done["ended_as"], done["charged"]) == ("completed", D("80.00"))
            assert done["lead_technician_id"] == ids["Ava Kowalski"]
            assert _one(other, "SELECT count(*) FROM report_facts_pending") == 0
            assert _one(other, "SELECT count(*) FROM report_facts_flush") == 0
        _complete(writer, second, MORNING)
        writer.rollback()
    with _connect(db_url) as db:
        assert _outcome(db, second)["ended_as"] is None
