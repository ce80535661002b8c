"""Every table the screens show announces committed changes, and only committed ones."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.models import CHANGE_CHANNEL, NOTIFYING_TABLES, VERSIONED_TABLES
from dispatch_app.domain.tables import TABLES, Owner

# One row per table, inserted in dependency order; {name} is replaced by the id
# of the row inserted for that table.
ROWS: dict[str, str] = {
    "customers": "INSERT INTO customers (name) VALUES ('Ana Müller') RETURNING id",
    "customer_phones": "INSERT INTO customer_phones (customer_id, number) "
    "VALUES ({customers}, '+13125550101') RETURNING id",
    "service_sites": "INSERT INTO service_sites (customer_id, street, city, state, zip) "
    "VALUES ({customers}, '1 Main St', 'Chicago', 'IL', '60601') RETURNING id",
    "equipment": "INSERT INTO equipment (site_id, kind) VALUES ({service_sites}, 'furnace') "
    "RETURNING id",
    "technicians": "INSERT INTO technicians (name, colour, trade) "
    "VALUES ('Li Wei', '#2f80ed', 'hvac') RETURNING id",
    "technician_shifts": "INSERT INTO technician_shifts (technician_id, weekday, starts, ends) "
    "VALUES ({technicians}, 0, '07:00', '15:30') RETURNING id",
    "skills": "INSERT INTO skills (code, name, trade) VALUES ('furnace', 'Furnaces', 'hvac') "
    "RETURNING id",
    "technician_skills": "INSERT INTO technician_skills (technician_id, skill_id, level) "
    "VALUES ({technicians}, {skills}, 4) RETURNING id",
    "job_types": "INSERT INTO job_types (trade, name, default_duration_min) "
    "VALUES ('hvac', 'No heat call', 90) RETURNING id",
    "job_type_skills": "INSERT INTO job_type_skills (job_type_id, skill_id) "
    "VALUES ({job_types}, {skills}) RETURNING id",
    "work_orders": "INSERT INTO work_orders (customer_id, site_id, job_type_id) "
    "VALUES ({customers}, {service_sites}, {job_types}) RETURNING id",
    "visits": "INSERT INTO visits (work_order_id, starts, ends, status) VALUES "
    "({work_orders}, '2026-12-01 09:00-06', '2026-12-01 10:30-06', 'scheduled') RETURNING id",
    "visit_technicians": "INSERT INTO visit_technicians (visit_id, technician_id, is_lead) "
    "VALUES ({visits}, {technicians}, true) RETURNING id",
    "notes": "INSERT INTO notes (work_order_id, body) VALUES ({work_orders}, 'Call first') "
    "RETURNING id",
    "status_history": "INSERT INTO status_history (work_order_id, to_status) "
    "VALUES ({work_orders}, 'new') RETURNING id",
    "app_settings": "INSERT INTO app_settings (key, value) VALUES ('test_key', '1') RETURNING id",
    "job_type_questions": "INSERT INTO job_type_questions (job_type_id, position, prompt) "
    "VALUES ({job_types}, 1, 'Age of system?') RETURNING id",
    "agreements": "INSERT INTO agreements (customer_id, name, starts_on, ends_on) "
    "VALUES ({customers}, 'Comfort Club', '2026-01-01', '2027-01-01') RETURNING id",
    "parts": "INSERT INTO parts (sku, name, unit_price) VALUES ('CAP-45', 'Capacitor', 24.5) "
    "RETURNING id",
    "line_items": "INSERT INTO line_items (work_order_id, kind, part_id, description, quantity, "
    "unit_price) VALUES ({work_orders}, 'material', {parts}, 'Capacitor', 1, 24.5) RETURNING id",
    "photos": "INSERT INTO photos (work_order_id, filename, content_type, byte_size, width, "
    "height, data, thumbnail) VALUES ({work_orders}, 'a.png', 'image/png', 3, 1, 1, "
    "'\\x010203', '\\x01') RETURNING id",
    "time_entries": "INSERT INTO time_entries (work_order_id, technician_id, started_at, "
    "ended_at) VALUES ({work_orders}, {technicians}, '2026-12-01 09:00-06', "
    "'2026-12-01 10:00-06') RETURNING id",
    "job_type_parts": "INSERT INTO job_type_parts (job_type_id, part_id) "
    "VALUES ({job_types}, {parts}) RETURNING id",
    "stock_locations": "INSERT INTO stock_locations (name) VALUES ('Annex') RETURNING id",
    "stock_levels": "INSERT INTO stock_levels (location_id, part_id, reorder_point) "
    "VALUES ({stock_locations}, {parts}, 2) RETURNING id",
    "stock_movements": "INSERT INTO stock_movements (part_id, location_id, quantity, unit_cost, "
    "reason) VALUES ({parts}, {stock_locations}, 5, 10, 'received') RETURNING id",
    "invoices": "INSERT INTO invoices (work_order_id, customer_id) "
    "VALUES ({work_orders}, {customers}) RETURNING id",
    "invoice_lines": "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, "
    "unit_price) VALUES ({invoices}, 'fee', 'Trip charge', 1, 49) RETURNING id",
    "outbox_messages": "INSERT INTO outbox_messages (work_order_id, event, channel, recipient, "
    "body, idempotency_key) VALUES ({work_orders}, 'test', 'log', '+13125550100', 'Hello', "
    "'round-1') RETURNING id",
    # The migration's own templates are removed first (one per event and channel).
    "message_templates": "INSERT INTO message_templates (event, channel, body) "
    "VALUES ('test', 'sms', 'Hello from {{company}}') RETURNING id",
    "maintenance_plans": "INSERT INTO maintenance_plans (name, job_type_id) "
    "VALUES ('Comfort Club', {job_types}) RETURNING id",
    "leads": "INSERT INTO leads (source, phone, received_at) "
    "VALUES ('web', '+13125550177', '2026-12-01 09:00-06') RETURNING id",
    # The migration's own no-show rule is removed first (one per kind).
    "follow_up_rules": "INSERT INTO follow_up_rules (kind, wait_hours) "
    "VALUES ('no_show', 2) RETURNING id",
    "follow_ups": "INSERT INTO follow_ups (kind, occasion, title, due_at) "
    "VALUES ('no_show', 'round-1', 'Call back', '2026-12-01 09:00-06') RETURNING id",
}
# Taken only on a posted invoice, after which the invoice no longer changes: payments
# announce themselves through their invoice (tests/test_billing.py shows it).
NOT_IN_THE_ROUND = {"payments"}
# Never changed nor removed, by anyone: the statement is refused with this SQLSTATE.
NEVER_CHANGED = {"stock_movements": "DB001"}
# Changed (as they are sent) but never removed: a record of what the customer was told.
NEVER_REMOVED = {"outbox_messages": "DB001", "follow_ups": "DB001"}

# Rows the work order (or the stock ledger) refers to, which therefore stay with it;
# deleting these shows their hints.
HELD_BY_THE_WORK_ORDER: dict[str, str] = {
    "job_types": "INSERT INTO job_types (trade, name, default_duration_min) "
    "VALUES ('hvac', 'Tune-up', 60) RETURNING id",
    "service_sites": "INSERT INTO service_sites (customer_id, street, city, state, zip) "
    "VALUES ({customers}, '2 Main St', 'Chicago', 'IL', '60601') RETURNING id",
    "customers": "INSERT INTO customers (name) VALUES ('Bo Lind') RETURNING id",
    # The stock ledger's rows hold on to their part and location.
    "parts": "INSERT INTO parts (sku, name, unit_price) VALUES ('CAP-35', 'Capacitor 35', 20) "
    "RETURNING id",
    "stock_locations": "INSERT INTO stock_locations (name) VALUES ('Annex 2') RETURNING id",
}

# A harmless UPDATE per table (every table has an ``id``).
UPDATES: dict[str, str] = {
    "customers": "notes = 'gate code 12'",
    "customer_phones": "label = 'work'",
    "service_sites": "access_notes = 'dog'",
    "equipment": "make = 'Carrier'",
    "technicians": "phone = '+13125550199'",
    "technician_shifts": "ends = '16:00'",
    "skills": "name = 'Furnace repair'",
    "technician_skills": "level = 5",
    "job_types": "default_price = 129",
    "job_type_skills": "min_level = 2",
    "work_orders": "description = 'No heat since last night'",
    "visits": "status = 'dispatched'",
    "visit_technicians": "is_lead = false",
    "notes": "body = 'Call first, side door'",
    "status_history": "reason = 'booked by phone'",
    "app_settings": "value = '2'",
    "job_type_questions": "required = true",
    "agreements": "visits_per_year = 2",
    "parts": "unit_price = 26",
    "line_items": "quantity = 2",
    "photos": "caption = 'Burnt capacitor'",
    "time_entries": "note = 'Diagnosis'",
    "job_type_parts": "quantity = 2",
    "stock_locations": "name = 'North annex'",
    "stock_levels": "reorder_point = 3",
    "stock_movements": "note = 'recounted'",
    "invoices": "memo = 'Thank you'",
    "invoice_lines": "unit_price = 59",
    "outbox_messages": "next_attempt_at = now()",
    "message_templates": "body = 'Hi from {company}'",
    "maintenance_plans": "price = 199",
    "leads": "attempts = 1",
    "follow_up_rules": "wait_hours = 3",
    "follow_ups": "assigned_to = 'maria'",
}


def test_fixture_covers_every_notifying_table() -> None:
    assert set(ROWS) == set(NOTIFYING_TABLES) - NOT_IN_THE_ROUND == set(UPDATES)


@pytest.fixture
def listener(db_url: str) -> Iterator[psycopg.Connection]:
    connection = psycopg.connect(libpq_url(db_url), autocommit=True)
    connection.execute(f"LISTEN {CHANGE_CHANNEL}")
    try:
        yield connection
    finally:
        connection.close()


def _hints_of(listener: psycopg.Connection, writer: psycopg.Connection, table: str) -> list[dict]:
    """The hints the last commit sent about ``table`` (a trigger may also touch other
    tables: a new technician gets a truck, a ledger row moves the stock level). A marker
    committed after it says when they have all arrived, as notifications come in commit
    order."""
    with writer.transaction():
        writer.execute(f"NOTIFY {CHANGE_CHANNEL}, 'marker'")
    hints = []
    for notification in listener.notifies(timeout=5):
        if notification.payload == "marker":
            break
        hints.append(json.loads(notification.payload))
    else:
        raise AssertionError("the marker never came")
    return [hint for hint in hints if hint["table"] == table]


def _next_hints(listener: psycopg.Connection, count: int) -> list[dict]:
    received = [
        json.loads(n.payload)
        for n in listener.notifies(timeout=5, stop_after=count)
        if n.channel == CHANGE_CHANNEL
    ]
    assert len(received) == count, f"expected {count} hints, got {received}"
    return received


def test_committed_changes_reach_a_listener(db_url: str, listener: psycopg.Connection) -> None:
    ids: dict[str, int] = {}
    with psycopg.connect(libpq_url(db_url)) as writer:
        with writer.transaction():
            writer.execute("DELETE FROM message_templates")
            writer.execute("DELETE FROM follow_up_rules WHERE kind = 'no_show'")
        for table, sql in ROWS.items():
            with writer.transaction():
                row = writer.execute(sql.format(**ids)).fetchone()
                assert row is not None
                ids[table] = row[0]
            (hint,) = _hints_of(listener, writer, table)
            expected_version = 1 if table in VERSIONED_TABLES else None
            assert hint == {
                "table": table,
                "id": ids[table],
                "op": "insert",
                "version": expected_version,
                "work_order": _owner(table, ids),
            }

        for table, assignment in UPDATES.items():
            if table in NEVER_CHANGED:
                with pytest.raises(psycopg.Error) as refused, writer.transaction():
                    writer.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", (ids[table],))
                assert refused.value.sqlstate == NEVER_CHANGED[table]
                continue
            before = None
            if table in VERSIONED_TABLES:
                with writer.transaction():
                    found = writer.execute(
                        f"SELECT version FROM {table} WHERE id = %s", (ids[table],)
                    ).fetchone()
                assert found is not None
                before = found[0]
            with writer.transaction():
                writer.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", (ids[table],))
            (hint,) = _hints_of(listener, writer, table)
            assert hint["table"] == table and hint["id"] == ids[table]
            assert hint["op"] == "update"
            assert hint["work_order"] == _owner(table, ids)
            if before is not None:
                assert hint["version"] == before + 1

        # Children first, so each DELETE removes exactly its own row.
        for table in reversed(list(ROWS)):
            if table == "work_orders":
                # A work order is history from its first audit line: never deleted.
                with pytest.raises(psycopg.Error) as refused, writer.transaction():
                    writer.execute("DELETE FROM work_orders WHERE id = %s", (ids[table],))
                assert refused.value.sqlstate == "RD002"
                continue
            if table in NEVER_CHANGED or table in NEVER_REMOVED:
                with pytest.raises(psycopg.Error) as refused, writer.transaction():
                    writer.execute(f"DELETE FROM {table} WHERE id = %s", (ids[table],))
                assert refused.value.sqlstate == {**NEVER_CHANGED, **NEVER_REMOVED}[table]
                continue
            if table in HELD_BY_THE_WORK_ORDER:
                # The work order holds on to its own: a fresh row stands in for them.
                with writer.transaction():
                    row = writer.execute(HELD_BY_THE_WORK_ORDER[table].format(**ids)).fetchone()
                    assert row is not None
                    ids[table] = row[0]
                _hints_of(listener, writer, table)
            with writer.transaction():
                writer.execute(f"DELETE FROM {table} WHERE id = %s", (ids[table],))
            (hint,) = _hints_of(listener, writer, table)
            assert (hint["table"], hint["id"], hint["op"]) == (table, ids[table], "delete")
            assert hint["work_order"] == _owner(table, ids)


def _owner(table: str, ids: dict[str, int]) -> int | None:
    """The work order a row of ``table`` belongs to, as its hint must name it."""
    entry = TABLES.get(table)
    assert entry is not None
    return None if entry.owner == Owner.NONE else ids["work_orders"]


def test_rolled_back_changes_are_never_announced(db_url: str, listener: psycopg.Connection) -> None:
    with psycopg.connect(libpq_url(db_url)) as writer:
        with writer.transaction(force_rollback=True):
            writer.execute(ROWS["customers"])
            writer.execute("UPDATE app_settings SET value = '45' WHERE key = 'snap_minutes'")
            writer.execute("DELETE FROM app_settings WHERE key = 'road_factor'")
        # A committed marker: notifications arrive in commit order, so if the rolled-back
        # work had been announced it would come first.
        with writer.transaction():
            writer.execute("UPDATE app_settings SET value = '20' WHERE key = 'snap_minutes'")
            marker_id = writer.execute(
                "SELECT id FROM app_settings WHERE key = 'snap_minutes'"
            ).fetchone()
    (hint,) = _next_hints(listener, 1)
    assert marker_id is not None
    assert hint == {
        "table": "app_settings",
        "id": marker_id[0],
        "op": "update",
        "version": 2,
        "work_order": None,
    }


def test_bulk_statements_send_small_payloads(db_url: str, listener: psycopg.Connection) -> None:
    with psycopg.connect(libpq_url(db_url)) as writer, writer.transaction():
        writer.execute(
            "INSERT INTO customers (name) SELECT 'Customer ' || g FROM generate_series(1, 3000) g"
        )
        writer.execute("UPDATE customers SET notes = repeat('x', 20000)")
    payloads = [n.payload for n in listener.notifies(timeout=10, stop_after=6000)]
    assert len(payloads) == 6000
    # Ids and versions only: the 20 kB notes never travel in a hint.
    assert max(len(p.encode()) for p in payloads) < 120
