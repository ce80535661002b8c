# ruff: noqa: E501
"""What each role may do, decided by PostgreSQL: real LOGIN roles of each group run SQL
straight at the database, as psql would; the app's screens are not involved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.roles import GROUPS, Action, Role, refusal
from tests.companies import small_company


@dataclass(frozen=True)
class Case:
    what: str
    least: Role | None  # None: no group may
    sql: str


def _ids(url: str) -> dict[str, Any]:
    """Rows the cases act on, made as the server's superuser."""
    with psycopg.connect(libpq_url(url)) as db:
        techs = small_company(url)
        one = lambda query, *args: db.execute(query, args).fetchone()[0]  # noqa: E731
        ids: dict[str, Any] = {"tech": techs["Noor Haddad"]}
        ids["customer"] = one("SELECT min(id) FROM customers")
        ids["site"] = one("SELECT min(id) FROM service_sites")
        ids["job"] = one("SELECT min(id) FROM job_types")
        ids["booked_visit"] = one(
            "SELECT min(v.id) FROM visits v JOIN visit_technicians c ON c.visit_id = v.id"
        )
        ids["unbooked_visit"] = one(
            "SELECT min(v.id) FROM visits v WHERE NOT EXISTS "
            "(SELECT 1 FROM visit_technicians c WHERE c.visit_id = v.id)"
        )
        ids["open_order"] = one(
            "SELECT work_order_id FROM visits WHERE id = %s", ids["booked_visit"]
        )
        ids["done_order"] = one(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, status) "
            "VALUES (%s, %s, %s, 'completed') RETURNING id",
            ids["customer"],
            ids["site"],
            ids["job"],
        )
        ids["phone"] = one(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550100') "
            "RETURNING id",
            ids["customer"],
        )
        ids["part"] = one(
            "INSERT INTO parts (sku, name, unit_price) VALUES ('CAP-455', 'Capacitor', 24.5) "
            "RETURNING id"
        )
        ids["audit"] = one("SELECT min(id) FROM audit_log")
        ids["shift"] = one("SELECT min(id) FROM technician_shifts")
    return ids


def _cases(i: dict[str, Any]) -> list[Case]:
    csr, dispatcher, manager, admin = Role.CSR, Role.DISPATCHER, Role.MANAGER, Role.ADMIN
    viewer = Role.VIEWER
    order, visit, fresh = i["open_order"], i["booked_visit"], i["unbooked_visit"]
    new_order = (
        "INSERT INTO work_orders (customer_id, site_id, job_type_id, description) "
        f"VALUES ({i['customer']}, {i['site']}, {i['job']}, 'No heat')"
    )
    return [
        Case("read the board", viewer, "SELECT count(*) FROM visits JOIN work_orders w ON true"),
        Case("read the audit", viewer, "SELECT count(*) FROM audit_log"),
        Case("add a customer", csr, "INSERT INTO customers (name) VALUES ('Mia Chen')"),
        Case("rename a customer", csr, f"UPDATE customers SET name = 'J N' WHERE id = {i['customer']}"),
        Case("add a phone", csr, f"INSERT INTO customer_phones (customer_id, number) VALUES ({i['customer']}, '+13125550199')"),
        Case("book a work order", csr, new_order),
        Case("book work already done", dispatcher, new_order.replace("description)", "description, status)").replace("'No heat')", "'No heat', 'completed')")),
        Case("hold a technician's placements", csr, f"SELECT dispatch_lock_technicians(ARRAY[{i['tech']}]::bigint[])"),
        Case("book a first technician", csr, f"INSERT INTO visit_technicians (visit_id, technician_id) VALUES ({fresh}, {i['tech']})"),
        Case("give an unbooked visit a time", csr, f"UPDATE visits SET starts = '2026-12-01 15:00-06', ends = '2026-12-01 16:00-06', status = 'scheduled' WHERE id = {fresh}"),
        Case("cancel on the phone", csr, f"UPDATE work_orders SET status = 'cancelled', cancel_reason = 'Fixed it' WHERE id = {order}"),
        Case("add a note", csr, f"INSERT INTO notes (work_order_id, body) VALUES ({order}, 'Gate code 4411')"),
        Case("add a status step", csr, f"INSERT INTO status_history (work_order_id, from_status, to_status) VALUES ({order}, 'scheduled', 'scheduled')"),
        Case("move a booked visit", dispatcher, f"UPDATE visits SET starts = starts + interval '1 hour', ends = ends + interval '1 hour' WHERE id = {visit}"),
        Case("add a technician to a crew", dispatcher, f"INSERT INTO visit_technicians (visit_id, technician_id) VALUES ({visit}, {i['tech']})"),
        Case("unassign", dispatcher, f"DELETE FROM visit_technicians WHERE visit_id = {visit}"),
        Case("send a technician en route", dispatcher, f"UPDATE visits SET status = 'en_route' WHERE id = {visit}"),
        Case("reopen finished work", dispatcher, f"UPDATE work_orders SET status = 'scheduled' WHERE id = {i['done_order']}"),
        Case("charge a part", dispatcher, f"INSERT INTO line_items (work_order_id, kind, part_id, description, quantity, unit_price) VALUES ({order}, 'material', {i['part']}, 'Capacitor', 1, 24.50)"),
        Case("log time", dispatcher, f"INSERT INTO time_entries (work_order_id, technician_id, started_at, ended_at) VALUES ({order}, {i['tech']}, '2026-12-01 08:00-06', '2026-12-01 09:00-06')"),
        Case("change a price", manager, f"UPDATE parts SET unit_price = 29 WHERE id = {i['part']}"),
        Case("add a job type", manager, "INSERT INTO job_types (trade, name, default_duration_min) VALUES ('plumbing', 'Leak', 60)"),
        Case("change a shift", manager, f"UPDATE technician_shifts SET ends = '16:00' WHERE id = {i['shift']}"),
        Case("remove a phone", manager, f"DELETE FROM customer_phones WHERE id = {i['phone']}"),
        Case("change the tile server", admin, "INSERT INTO app_settings (key, value) VALUES ('map_tile_url', '\"https://evil.example/{z}/{x}/{y}.png\"')"),
        Case("hire a technician", admin, "INSERT INTO technicians (name, trade, colour) VALUES ('Sam Ortiz', 'hvac', '#123456')"),
        Case("list the people", admin, "SELECT * FROM dispatch_people()"),
        # Nobody: who and when are the database's to write; history stays as written.
        Case("sign as the boss", None, f"UPDATE work_orders SET created_by = 'the_boss' WHERE id = {order}"),
        Case("stamp another editor", None, f"UPDATE visits SET updated_by = 'the_boss' WHERE id = {visit}"),
        Case("backdate a status step", None, f"INSERT INTO status_history (work_order_id, to_status, changed_by, changed_at) VALUES ({order}, 'closed', 'the_boss', '2020-01-01')"),
        Case("rewrite a status step", None, "UPDATE status_history SET reason = 'x'"),
        Case("erase a status step", None, "DELETE FROM status_history"),
        Case("forge an audit row", None, f"INSERT INTO audit_log (table_name, row_id, action, changes) VALUES ('work_orders', {order}, 'update', '{{}}')"),
        Case("rewrite the audit", None, f"UPDATE audit_log SET changed_by = 'the_boss' WHERE id = {i['audit']}"),
        Case("erase the audit", None, "DELETE FROM audit_log"),
        Case("truncate the audit", None, "TRUNCATE audit_log"),
        Case("make a superuser", None, "CREATE ROLE intruder SUPERUSER"),
        Case("own the tables", None, "SET ROLE dispatch_owner"),
        Case("drop a table", None, "DROP TABLE notes"),
        Case("add a table", None, "CREATE TABLE loot (x int)"),
    ]  # fmt: skip


@pytest.fixture
def company(
    db_url: str, scratch_server: ScratchServer
) -> Iterator[tuple[dict[str, Any], dict[Role, str]]]:
    ids = _ids(db_url)
    try:
        logins = {role: scratch_server.login(db_url, role.value) for role in GROUPS}
        yield ids, logins
    finally:
        scratch_server.drop_logins()


def _attempt(url: str, statement: str) -> str:
    """``"done"`` or ``"refused"``; any other failure is the case's mistake and raises."""
    with psycopg.connect(libpq_url(url)) as db:
        try:
            db.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return "refused"
        finally:
            db.rollback()
    return "done"


def test_each_group_may_do_what_the_matrix_says_and_nothing_more(company: Any) -> None:
    ids, logins = company
    wrong = []
    for case in _cases(ids):
        for role in GROUPS:
            expected = "done" if case.least is not None and role.includes(case.least) else "refused"
            got = _attempt(logins[role], case.sql)
            if got != expected:
                wrong.append(f"{role.value}: {case.what}: {got}, expected {expected}")
    assert wrong == []


def test_a_viewer_reads_everything_and_writes_nothing(company: Any, db_url: str) -> None:
    logins = company[1]
    with psycopg.connect(libpq_url(db_url)) as db:
        # Each table with a column of its own to write (most have ``id``).
        first_columns = dict(
            db.execute(
                "SELECT c.relname, a.attname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1 "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1"
            ).fetchall()
        )
        tables = sorted(first_columns)
    assert "work_orders" in tables and "audit_log" in tables
    with psycopg.connect(libpq_url(logins[Role.VIEWER]), autocommit=True) as viewer:
        for table in tables:
            viewer.execute(f'SELECT * FROM "{table}" LIMIT 1')
            column = first_columns[table]
            for statement in (
                f'DELETE FROM "{table}"',
                f'UPDATE "{table}" SET "{column}" = "{column}"',
                f'INSERT INTO "{table}" DEFAULT VALUES',
                f'TRUNCATE "{table}"',
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    viewer.execute(statement)


def test_a_csr_is_told_in_one_sentence_what_the_role_may_not_do(company: Any) -> None:
    ids, logins = company
    with psycopg.connect(libpq_url(logins[Role.CSR])) as csr:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            csr.execute(
                "UPDATE work_orders SET status = 'scheduled' WHERE id = %s", (ids["done_order"],)
            )
        assert str(refused.value).splitlines()[0] == refusal(Role.CSR, Action.REOPEN)
        csr.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            csr.execute(
                "UPDATE visits SET starts = starts + interval '1 hour', "
                "ends = ends + interval '1 hour' WHERE id = %s",
                (ids["booked_visit"],),
            )
        assert str(refused.value).splitlines()[0] == refusal(Role.CSR, Action.SCHEDULE)


def test_the_login_is_the_name_on_every_record_whatever_the_session_says(
    company: Any, db_url: str
) -> None:
    ids, logins = company
    order = ids["open_order"]
    url = logins[Role.DISPATCHER]
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(url))["user"]
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("SET dispatch.editor = 'the_boss'")
        db.execute("INSERT INTO notes (work_order_id, body) VALUES (%s, 'Called ahead')", (order,))
        db.execute("UPDATE visits SET status = 'dispatched' WHERE id = %s", (ids["booked_visit"],))
        db.execute(
            "INSERT INTO status_history (work_order_id, visit_id, from_status, to_status) "
            "VALUES (%s, %s, 'scheduled', 'dispatched')",
            (order, ids["booked_visit"]),
        )
        db.execute("UPDATE customers SET name = 'José A. Núñez' WHERE id = %s", (ids["customer"],))
        started = db.execute("SELECT now()").fetchone()[0]
    with psycopg.connect(libpq_url(db_url)) as owner:
        assert owner.execute("SELECT author FROM notes WHERE body = 'Called ahead'").fetchone() == (
            login,
        )
        assert owner.execute(
            "SELECT updated_by FROM visits WHERE id = %s", (ids["booked_visit"],)
        ).fetchone() == (login,)
        step = owner.execute(
            "SELECT changed_by, changed_at FROM status_history WHERE to_status = 'dispatched'"
        ).fetchone()
        assert step[0] == login and step[1] == started
        audit = owner.execute(
            "SELECT table_name, action, changed_by FROM audit_log "
            "WHERE changed_at = %s ORDER BY id",
            (started,),
        ).fetchall()
        # Every change of that transaction, each against the login: the note, the visit
        # and the customer (status steps are a history of their own).
        assert sorted(audit) == [
            ("customers", "update", login),
            ("notes", "insert", login),
            ("visits", "update", login),
        ]
        assert all(
            row[0] != "the_boss" for row in owner.execute("SELECT changed_by FROM audit_log")
        )


def test_a_superuser_rewriting_the_creator_leaves_an_audit_line(db_url: str) -> None:
    ids = _ids(db_url)
    with psycopg.connect(libpq_url(db_url)) as owner:
        owner.execute(
            "UPDATE work_orders SET created_by = 'someone_else' WHERE id = %s", (ids["open_order"],)
        )
        changes = owner.execute(
            "SELECT changes FROM audit_log WHERE table_name = 'work_orders' AND row_id = %s "
            "AND action = 'update'",
            (ids["open_order"],),
        ).fetchone()[0]
    assert changes["created_by"][1] == "someone_else"


def test_a_note_is_changed_only_by_its_author_or_a_manager(company: Any) -> None:
    ids, logins = company
    order = ids["open_order"]
    with psycopg.connect(libpq_url(logins[Role.CSR])) as csr:
        csr.execute("INSERT INTO notes (work_order_id, body) VALUES (%s, 'Dog in yard')", (order,))
        csr.commit()
        assert csr.execute("UPDATE notes SET body = 'Two dogs in yard'").rowcount == 1
        csr.commit()
    with psycopg.connect(libpq_url(logins[Role.DISPATCHER])) as other:
        # Another person's note is not theirs to change: row-level security hides it
        # from the UPDATE, and the owner cannot slip past (FORCE ROW LEVEL SECURITY).
        assert other.execute("UPDATE notes SET body = 'No dogs'").rowcount == 0
        assert other.execute("SELECT body FROM notes").fetchall() == [("Two dogs in yard",)]
    with psycopg.connect(libpq_url(logins[Role.MANAGER])) as manager:
        assert manager.execute("UPDATE notes SET body = 'No dogs'").rowcount == 1
    with (
        psycopg.connect(libpq_url(logins[Role.CSR])) as csr,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        csr.execute("DELETE FROM notes")


def test_a_day_of_a_csr_booking_and_a_customer_cancelling(company: Any) -> None:
    """The CSR's whole booking in SQL: a work order, its visit with a time and a first
    technician; then the customer cancels. Moving it afterwards is refused."""
    ids, logins = company
    with psycopg.connect(libpq_url(logins[Role.CSR])) as csr:
        order = csr.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, status) "
            "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
            (ids["customer"], ids["site"], ids["job"]),
        ).fetchone()[0]
        starts = dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
        visit = csr.execute(
            "INSERT INTO visits (work_order_id, starts, ends, status) "
            "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
            (order, starts, starts + dt.timedelta(hours=1)),
        ).fetchone()[0]
        csr.execute(
            "INSERT INTO visit_technicians (visit_id, technician_id, is_lead) VALUES (%s, %s, true)",
            (visit, ids["tech"]),
        )
        csr.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            csr.execute(
                "UPDATE visits SET starts = starts + interval '1 day', "
                "ends = ends + interval '1 day' WHERE id = %s",
                (visit,),
            )
        csr.rollback()
        csr.execute(
            "UPDATE work_orders SET status = 'cancelled', cancel_reason = 'Fixed it' WHERE id = %s",
            (order,),
        )
        csr.execute("UPDATE visits SET status = 'cancelled' WHERE id = %s", (visit,))
        csr.commit()


def test_the_readme_states_the_rights_the_registry_grants() -> None:
    from pathlib import Path

    from dispatch_app.domain.tables import rights_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert rights_table() in readme
