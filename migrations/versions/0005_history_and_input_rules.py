"""Rules the database keeps whoever writes: finished work stays put, history is never
deleted, one phone number is one customer, and what is typed has a shape and a size.

* ``dispatch_keep_finished_visit`` / ``dispatch_keep_finished_crew``: a completed,
  cancelled or no-show visit keeps its time, arrival window, place in its work order
  and crew unless the same statement steps its status back to an open one (reopen,
  restore); a visit of an invoiced or closed work order does not change at all, and
  none is added to one. SQLSTATE RD001, the message a sentence.
* ``dispatch_keep_history``: a work order with any history (audit lines, status steps,
  notes, line items, photos, time, a visit that left the queue) is never deleted, nor
  a finished visit or one with status steps; ``audit_log`` and ``status_history`` no
  longer cascade but RESTRICT. SQLSTATE RD002.
* a unique index on ``customer_phones.number`` (with ``text_pattern_ops``, so it also
  serves the lookup's prefix search, replacing ``ix_customer_phones_number``);
* CHECK constraints: ZIP or ZIP+4 and a two-letter state; text lengths per kind
  (``domain/text_rules.py``); visits, arrival windows, requested windows and time
  entries in the years 2000–2099 (a day of slack at either end for the time zones), a
  visit at most 7 days long, an arrival window at most
  24 hours and within 30 days of its visit (``domain/time_bounds.py``).

Existing rows are checked first. Blanks around a ZIP or state, a lower-case state, and
the same number twice on one customer are tidied (nothing is lost). Anything else the
new rules refuse — a number on file for two customers, a ZIP with junk after it, a
visit in year 1 — needs a person's decision (merge the customers? which ZIP?), so the
upgrade stops, changes nothing, and names the rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dispatch_app.errors import UpgradeBlocked

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (a migration must not change when the models do).
# 2000–2099 in any time zone on Earth (UTC−12 to UTC+14) lies between these.
EARLIEST = "'1999-12-31 00:00:00+00'::timestamp with time zone"
LATEST = "'2100-01-02 00:00:00+00'::timestamp with time zone"


def _in_range(*columns: str) -> str:
    return " and ".join(
        f"({column} is null or ({column} >= {EARLIEST} and {column} < {LATEST}))"
        for column in columns
    )


# (table, constraint name, expression, what a row breaking it is, in words)
CHECKS: tuple[tuple[str, str, str, str], ...] = (
    (
        "service_sites",
        "zip_format",
        "zip ~ '^[0-9]{5}(-[0-9]{4})?$'",
        "a ZIP code that is not 12345 or 12345-6789",
    ),
    ("service_sites", "state_code", "state ~ '^[A-Z]{2}$'", "a state that is not two letters"),
    (
        "service_sites",
        "label_length",
        "length(label) between 1 and 200",
        "a name of 0 or >200 characters",
    ),
    (
        "service_sites",
        "street_length",
        "length(street) between 1 and 200",
        "a street of 0 or >200 characters",
    ),
    (
        "service_sites",
        "city_length",
        "length(city) between 1 and 200",
        "a city of 0 or >200 characters",
    ),
    (
        "service_sites",
        "access_notes_length",
        "length(access_notes) <= 2000",
        "access notes over 2,000 characters",
    ),
    (
        "equipment",
        "kind_length",
        "length(kind) between 1 and 200",
        "a kind of 0 or >200 characters",
    ),
    ("equipment", "make_length", "length(make) <= 200", "a make over 200 characters"),
    ("equipment", "model_length", "length(model) <= 200", "a model over 200 characters"),
    ("equipment", "serial_length", "length(serial) <= 200", "a serial over 200 characters"),
    (
        "work_orders",
        "description_length",
        "length(description) <= 100000",
        "a description over 100,000 characters",
    ),
    (
        "work_orders",
        "cancel_reason_length",
        "cancel_reason is null or length(cancel_reason) <= 500",
        "a reason over 500 characters",
    ),
    (
        "work_orders",
        "answers_shape",
        "jsonb_typeof(answers) = 'array' and length(answers::text) <= 50000",
        "intake answers that are not a list or over 50,000 characters",
    ),
    (
        "work_orders",
        "requested_in_range",
        _in_range("requested_start", "requested_end"),
        "a requested time outside 2000–2099",
    ),
    ("visits", "times_in_range", _in_range("starts", "ends"), "a booked time outside 2000–2099"),
    ("visits", "at_most_a_week", "ends - starts <= interval '7 days'", "a length over 7 days"),
    (
        "visits",
        "arrival_window_in_range",
        "(arrival_window_start is null) = (arrival_window_end is null) and "
        + _in_range("arrival_window_start", "arrival_window_end")
        + " and arrival_window_end - arrival_window_start <= interval '24 hours'",
        "an arrival window that is half given, outside 2000–2099 or over 24 hours",
    ),
    (
        "visits",
        "arrival_window_near_visit",
        "arrival_window_start - starts between interval '-30 days' and interval '30 days'",
        "an arrival window more than 30 days from the visit",
    ),
    (
        "notes",
        "body_length",
        "length(body) between 1 and 100000",
        "a text of 0 or >100,000 characters",
    ),
    (
        "photos",
        "filename_length",
        "length(filename) between 1 and 255",
        "a file name of 0 or >255 characters",
    ),
    ("photos", "caption_length", "length(caption) <= 500", "a caption over 500 characters"),
    (
        "time_entries",
        "times_in_range",
        _in_range("started_at", "ended_at"),
        "a time outside 2000–2099",
    ),
    ("time_entries", "note_length", "length(note) <= 2000", "a note over 2,000 characters"),
    (
        "status_history",
        "reason_length",
        "reason is null or length(reason) <= 500",
        "a reason over 500 characters",
    ),
)

# How each table's rows are named in the message that stops an upgrade.
NOUNS = {
    "service_sites": "service site",
    "equipment": "equipment",
    "work_orders": "work order",
    "visits": "visit",
    "notes": "note",
    "photos": "photo",
    "time_entries": "time entry",
    "status_history": "status step",
}

FINISHED = "ARRAY['completed', 'cancelled', 'no_show']"
BILLED = "ARRAY['invoiced', 'closed']"

KEEP_FINISHED_VISIT = f"""
CREATE FUNCTION dispatch_keep_finished_visit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    order_number text;
    order_status text;
    word text;
BEGIN
    -- FOR SHARE: an invoicing not yet committed is waited for, then seen.
    SELECT number, status INTO order_number, order_status FROM work_orders
    WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.work_order_id ELSE OLD.work_order_id END
    FOR SHARE;
    IF TG_OP = 'INSERT' THEN
        IF order_status = ANY ({BILLED}) THEN
            RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
                '%s is already %s; its visits can no longer change.', order_number, order_status);
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF order_status = ANY ({BILLED}) OR OLD.status = ANY ({FINISHED})
           OR EXISTS (SELECT 1 FROM status_history WHERE visit_id = OLD.id) THEN
            RAISE EXCEPTION USING ERRCODE = 'RD002', MESSAGE = format(
                '%s has a history and is never deleted: cancel it instead.',
                coalesce(order_number || '''s visit', 'The visit'));
        END IF;
        RETURN OLD;
    END IF;
    IF order_status = ANY ({BILLED}) THEN
        -- Billed: what happened, when and where is settled, status included.
        IF (NEW.status, NEW.starts, NEW.ends, NEW.arrival_window_start,
            NEW.arrival_window_end, NEW.sequence, NEW.work_order_id)
           IS DISTINCT FROM (OLD.status, OLD.starts, OLD.ends, OLD.arrival_window_start,
            OLD.arrival_window_end, OLD.sequence, OLD.work_order_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
                '%s is already %s; its visits can no longer change.', order_number, order_status);
        END IF;
    ELSIF OLD.status = ANY ({FINISHED}) AND NEW.status = ANY ({FINISHED})
          AND (NEW.starts, NEW.ends, NEW.arrival_window_start, NEW.arrival_window_end,
               NEW.sequence, NEW.work_order_id)
              IS DISTINCT FROM (OLD.starts, OLD.ends, OLD.arrival_window_start,
               OLD.arrival_window_end, OLD.sequence, OLD.work_order_id) THEN
        -- Finished, and not stepped back to an open status by this same statement.
        word := CASE OLD.status WHEN 'completed' THEN 'completed: reopen'
                                WHEN 'cancelled' THEN 'cancelled: restore'
                                ELSE 'a no-show: restore' END;
        RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
            '%s''s visit is %s it before changing its time or crew.', order_number, word);
    END IF;
    IF NEW.work_order_id IS DISTINCT FROM OLD.work_order_id THEN
        SELECT number, status INTO order_number, order_status FROM work_orders
        WHERE id = NEW.work_order_id FOR SHARE;
        IF order_status = ANY ({BILLED}) THEN
            RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
                '%s is already %s; its visits can no longer change.', order_number, order_status);
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""

# A crew row of a finished visit (or of any visit of a billed work order) is history too.
# A visit deleted in the same statement (its crew cascading) is no longer found: allowed,
# since deleting the visit itself was already judged.
KEEP_FINISHED_CREW = f"""
CREATE FUNCTION dispatch_keep_finished_crew() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint;
    visit_status text;
    order_number text;
    order_status text;
    word text;
BEGIN
    FOR touched IN
        SELECT DISTINCT unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.visit_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.visit_id END])
    LOOP
        CONTINUE WHEN touched IS NULL;
        -- FOR SHARE: a completion or invoicing not yet committed is waited for, then seen.
        SELECT v.status, w.number, w.status INTO visit_status, order_number, order_status
        FROM visits v JOIN work_orders w ON w.id = v.work_order_id WHERE v.id = touched
        FOR SHARE;
        CONTINUE WHEN NOT FOUND;
        IF order_status = ANY ({BILLED}) THEN
            RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
                '%s is already %s; its visits can no longer change.', order_number, order_status);
        END IF;
        IF visit_status = ANY ({FINISHED}) THEN
            word := CASE visit_status WHEN 'completed' THEN 'completed: reopen'
                                      WHEN 'cancelled' THEN 'cancelled: restore'
                                      ELSE 'a no-show: restore' END;
            RAISE EXCEPTION USING ERRCODE = 'RD001', MESSAGE = format(
                '%s''s visit is %s it before changing its time or crew.', order_number, word);
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""

KEEP_HISTORY = """
CREATE FUNCTION dispatch_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_log WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM status_history WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM notes WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM line_items WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM photos WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM time_entries WHERE work_order_id = OLD.id)
       OR EXISTS (SELECT 1 FROM visits WHERE work_order_id = OLD.id
                  AND status <> 'unscheduled') THEN
        RAISE EXCEPTION USING ERRCODE = 'RD002', MESSAGE = format(
            '%s has a history and is never deleted: cancel it instead.', OLD.number);
    END IF;
    RETURN OLD;
END
$$
"""

# The history tables' links to a work order or visit: (table, column, referred table).
HISTORY_LINKS = (
    ("audit_log", "work_order_id", "work_orders"),
    ("status_history", "work_order_id", "work_orders"),
    ("status_history", "visit_id", "visits"),
)


def upgrade() -> None:
    _tidy_and_check_existing_rows()
    op.drop_index("ix_customer_phones_number", table_name="customer_phones")
    op.create_index(
        "uq_customer_phones_number",
        "customer_phones",
        ["number"],
        unique=True,
        postgresql_ops={"number": "text_pattern_ops"},
    )
    for table, name, expression, _words in CHECKS:
        op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, expression)
    for table, column, referred in HISTORY_LINKS:
        _relink(table, column, referred, "RESTRICT")
    op.execute(KEEP_FINISHED_VISIT)
    op.execute(KEEP_FINISHED_CREW)
    op.execute(KEEP_HISTORY)
    op.execute(
        "CREATE TRIGGER visits_keep_finished BEFORE INSERT OR UPDATE OR DELETE ON visits "
        "FOR EACH ROW EXECUTE FUNCTION dispatch_keep_finished_visit()"
    )
    op.execute(
        "CREATE TRIGGER visit_technicians_keep_finished "
        "BEFORE INSERT OR UPDATE OR DELETE ON visit_technicians "
        "FOR EACH ROW EXECUTE FUNCTION dispatch_keep_finished_crew()"
    )
    op.execute(
        "CREATE TRIGGER work_orders_keep_history BEFORE DELETE ON work_orders "
        "FOR EACH ROW EXECUTE FUNCTION dispatch_keep_history()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS work_orders_keep_history ON work_orders")
    op.execute("DROP TRIGGER IF EXISTS visit_technicians_keep_finished ON visit_technicians")
    op.execute("DROP TRIGGER IF EXISTS visits_keep_finished ON visits")
    op.execute("DROP FUNCTION IF EXISTS dispatch_keep_history()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_keep_finished_crew()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_keep_finished_visit()")
    for table, column, referred in HISTORY_LINKS:
        _relink(table, column, referred, "CASCADE")
    for table, name, _expression, _words in reversed(CHECKS):
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.drop_index("uq_customer_phones_number", table_name="customer_phones")
    op.execute(
        "CREATE INDEX ix_customer_phones_number ON customer_phones (number text_pattern_ops)"
    )


def _relink(table: str, column: str, referred: str, ondelete: str) -> None:
    name = op.f(f"fk_{table}_{column}_{referred}")
    op.drop_constraint(name, table, type_="foreignkey")
    op.create_foreign_key(name, table, referred, [column], ["id"], ondelete=ondelete)


def _tidy_and_check_existing_rows() -> None:
    """Tidy what can be tidied without a decision; stop, naming the rows, on the rest."""
    connection = op.get_bind()
    # Blanks and case carry no meaning in a ZIP or a state code.
    connection.execute(sa.text("UPDATE service_sites SET zip = btrim(zip) WHERE zip <> btrim(zip)"))
    connection.execute(
        sa.text(
            "UPDATE service_sites SET state = upper(btrim(state)) "
            "WHERE state <> upper(btrim(state))"
        )
    )
    # The same number twice on one customer says nothing the first row does not.
    connection.execute(
        sa.text(
            "DELETE FROM customer_phones p USING customer_phones q "
            "WHERE p.number = q.number AND p.customer_id = q.customer_id AND p.id > q.id"
        )
    )
    problems = []
    shared = connection.execute(
        sa.text(
            "SELECT p.number, string_agg(format('%s (%s)', c.id, c.name), ' and ' "
            "ORDER BY c.id) FROM customer_phones p JOIN customers c ON c.id = p.customer_id "
            "GROUP BY p.number HAVING count(*) > 1 ORDER BY p.number LIMIT 5"
        )
    ).all()
    if shared:
        listed = "; ".join(f"{number} is on file for customers {who}" for number, who in shared)
        problems.append(f"{listed} (merge each pair into one customer, or remove a number)")
    for table, name, expression, words in CHECKS:
        found = connection.execute(
            sa.text(
                f"SELECT count(*), (array_agg(id ORDER BY id))[1:5] FROM {table} "
                f"WHERE NOT coalesce({expression}, true)"
            )
        ).one()
        count, ids = found
        if count:
            noun = NOUNS[table] + ("" if count == 1 else "s")
            shown = ", ".join(str(i) for i in ids) + (", …" if count > len(ids) else "")
            problems.append(f"{count} {noun} with {words} (id {shown}) [ck_{table}_{name}]")
    if problems:
        raise UpgradeBlocked(
            "The database was not upgraded (nothing changed): it holds records the new "
            "rules refuse, and correcting them needs a person's decision. "
            + "; ".join(problems)
            + ". Correct them, then run `python main.py db upgrade` again."
        )
