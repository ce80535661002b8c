"""What each work order came to, kept by the database for the managers' reports.

- ``work_order_outcomes``: one row per work order: its job type, status and booking
  moment; how it ended (``completed`` for the done statuses, ``cancelled``, ``no_show``)
  and when (its last status step to that, else its last change); whether it was fixed
  in one visit; the technician who led its last completed visit; what it billed (its
  posted invoices less what was credited on them), how many bills, what is still owed
  on them, and what its line items charge.
- ``posted_revenue``: one row per invoice that counts as revenue (posted, not void, not
  a credit note) with its moment, its value (total less credited), its work order's
  job type, lead technician and whole bill, and the moment of the work order's posting
  before it: so a year of revenue by job type or by technician is read from one index,
  and a work order is counted once in any period without a DISTINCT (it is new to the
  period at the posting whose previous one is not in it).

Both are written only by ``dispatch_refresh_report_facts(work_order_ids)`` (SECURITY
DEFINER). Statement triggers on work orders, status steps, visits, crews, invoices and
line items note the work orders a statement changed in a way the facts depend on,
whoever wrote it (the app, psql, an integration), in ``report_facts_pending``; a
deferred constraint trigger refreshes them once, as the transaction commits. Nobody
else may write any of these tables.
History written with the triggers off (an import of old books) is brought up to date
with ``dispatch_rebuild_report_facts()``, the owner's.

``ix_time_entries_started_at`` (0011) now carries the technician, the end and the work
order, so a period's hours on the clock are read from the index alone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the words in domain/reports (a migration never follows the code).
DONE = "('completed', 'invoiced', 'closed')"
UNCLOSED = "('completed', 'invoiced')"
BILLING = "i.status NOT IN ('draft', 'void') AND i.kind <> 'credit' AND i.posted_at IS NOT NULL"
# Advisory lock space of the facts' writers (pg_advisory_xact_lock(space, key)).
LOCK_SPACE = 120012
# More work orders than this in one statement lock the whole space, not each one.
MANY = 1000

# A plan made for the array's own length would be made again on every call (1.5 ms,
# measured, against 0.4 ms for the whole call with one plan kept): one plan serves a
# job's change and a rebuild of a million alike (index lookups per work order).
REFRESH = f"""
CREATE FUNCTION dispatch_refresh_report_facts(work_order_ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    wanted bigint[];
    written integer;
BEGIN
    SELECT array_agg(DISTINCT k ORDER BY k) INTO wanted
    FROM unnest(work_order_ids) AS k WHERE k IS NOT NULL;
    IF wanted IS NULL THEN
        RETURN 0;
    END IF;
    -- Two transactions changing one work order take turns here, and the second reads
    -- its facts in the statements below, after the first has committed: neither
    -- writes what it saw before the other's change. A large set (a rebuild, an
    -- import) takes the whole space at once rather than a lock per work order.
    IF cardinality(wanted) > {MANY} THEN
        PERFORM pg_advisory_xact_lock({LOCK_SPACE}, -1);
    ELSE
        PERFORM pg_advisory_xact_lock_shared({LOCK_SPACE}, -1);
        PERFORM pg_advisory_xact_lock({LOCK_SPACE}, (k % 2147483647)::integer)
        FROM unnest(wanted) AS k;
    END IF;

    INSERT INTO work_order_outcomes AS o
        (work_order_id, job_type_id, status, created_at, ended_as, ended_at,
         cancel_reason, first_time_fix, lead_technician_id, billed, bills, owed, charged)
    SELECT w.id, w.job_type_id, w.status, w.created_at, h.how,
           CASE WHEN h.how IS NOT NULL THEN coalesce(
               (SELECT max(s.changed_at) FROM status_history s
                WHERE s.work_order_id = w.id AND s.to_status = h.how),
               w.updated_at) END,
           w.cancel_reason, t.one_visit, lead.technician_id, coalesce(b.billed, 0), b.bills,
           coalesce(b.owed, 0), coalesce(c.charged, 0)
    FROM unnest(wanted) AS k(id)
    JOIN work_orders w ON w.id = k.id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN w.status IN {DONE} THEN 'completed'
                    WHEN w.status IN ('cancelled', 'no_show') THEN w.status END AS how
    ) AS h
    -- Fixed in one visit: exactly one completed visit, and no cancelled or no-show
    -- visit before it.
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE x.status = 'completed') = 1
               AND coalesce(min(x.sequence) FILTER (WHERE x.status IN ('cancelled', 'no_show'))
                            > min(x.sequence) FILTER (WHERE x.status = 'completed'), true)
               AS one_visit
        FROM visits x WHERE x.work_order_id = w.id
    ) AS t
    -- The lead of the last completed visit (else its first technician).
    LEFT JOIN LATERAL (
        SELECT vt.technician_id
        FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id
        WHERE v.work_order_id = w.id AND v.status = 'completed'
        ORDER BY v.sequence DESC, vt.is_lead DESC, vt.id
        LIMIT 1
    ) AS lead ON true
    CROSS JOIN LATERAL (
        SELECT sum(i.total - i.credited) AS billed, count(*) AS bills,
               sum(i.total - i.paid - i.credited) AS owed
        FROM invoices i WHERE i.work_order_id = w.id AND {BILLING}
    ) AS b
    -- What its line items charge, before tax (what an invoice would bill).
    CROSS JOIN LATERAL (
        SELECT sum(round(l.quantity * l.unit_price, 2)) AS charged
        FROM line_items l WHERE l.work_order_id = w.id
    ) AS c
    ON CONFLICT (work_order_id) DO UPDATE SET
        job_type_id = excluded.job_type_id, status = excluded.status,
        created_at = excluded.created_at, ended_as = excluded.ended_as,
        ended_at = excluded.ended_at, cancel_reason = excluded.cancel_reason,
        first_time_fix = excluded.first_time_fix,
        lead_technician_id = excluded.lead_technician_id, billed = excluded.billed,
        bills = excluded.bills, owed = excluded.owed, charged = excluded.charged
    WHERE (o.job_type_id, o.status, o.created_at, o.ended_as, o.ended_at, o.cancel_reason,
           o.first_time_fix, o.lead_technician_id, o.billed, o.bills, o.owed, o.charged)
          IS DISTINCT FROM
          (excluded.job_type_id, excluded.status, excluded.created_at, excluded.ended_as,
           excluded.ended_at, excluded.cancel_reason, excluded.first_time_fix,
           excluded.lead_technician_id, excluded.billed, excluded.bills, excluded.owed,
           excluded.charged);
    GET DIAGNOSTICS written = ROW_COUNT;

    DELETE FROM posted_revenue r
    WHERE r.work_order_id = ANY(wanted)
      AND NOT EXISTS (SELECT 1 FROM invoices i
                      WHERE i.id = r.invoice_id AND i.work_order_id = r.work_order_id
                        AND {BILLING});
    INSERT INTO posted_revenue AS r
        (invoice_id, work_order_id, posted_at, value, job_type_id, lead_technician_id,
         job_billed, previous_posted_at)
    SELECT i.id, i.work_order_id, i.posted_at, i.total - i.credited, o.job_type_id,
           o.lead_technician_id, o.billed,
           lag(i.posted_at) OVER (PARTITION BY i.work_order_id ORDER BY i.posted_at, i.id)
    FROM unnest(wanted) AS k(id)
    JOIN invoices i ON i.work_order_id = k.id
    JOIN work_order_outcomes o ON o.work_order_id = k.id
    WHERE {BILLING}
    ON CONFLICT (invoice_id) DO UPDATE SET
        work_order_id = excluded.work_order_id, posted_at = excluded.posted_at,
        value = excluded.value, job_type_id = excluded.job_type_id,
        lead_technician_id = excluded.lead_technician_id, job_billed = excluded.job_billed,
        previous_posted_at = excluded.previous_posted_at
    WHERE (r.work_order_id, r.posted_at, r.value, r.job_type_id, r.lead_technician_id,
           r.job_billed, r.previous_posted_at)
          IS DISTINCT FROM
          (excluded.work_order_id, excluded.posted_at, excluded.value, excluded.job_type_id,
           excluded.lead_technician_id, excluded.job_billed, excluded.previous_posted_at);
    RETURN written;
END $$
"""

FINISHED = "('completed', 'invoiced', 'closed', 'cancelled', 'no_show')"
# Work order steps and visit statuses that say how a job ended.
ENDINGS = "('completed', 'cancelled', 'no_show')"

# Per watched table and event, the work orders a statement touched in a way the facts
# depend on (from its transition tables, ``new_rows`` and ``old_rows``): moving a visit
# on the board, booking a crew on a visit not yet done or editing a draft bill touches
# none, and costs no refresh.
NOTHING = "SELECT NULL::bigint WHERE false"
TOUCHED: dict[str, dict[str, str]] = {
    "work_orders": {
        "INSERT": "SELECT n.id FROM new_rows n",
        # A finished work order without a step ends at its last change (updated_at).
        "UPDATE": f"""SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.status, n.job_type_id, n.cancel_reason, n.created_at)
                  IS DISTINCT FROM (o.status, o.job_type_id, o.cancel_reason, o.created_at)
               OR (n.status IN {FINISHED} AND n.updated_at IS DISTINCT FROM o.updated_at)""",
    },
    "status_history": {
        "INSERT": f"SELECT n.work_order_id FROM new_rows n WHERE n.to_status IN {ENDINGS}",
    },
    "visits": {
        "INSERT": f"SELECT n.work_order_id FROM new_rows n WHERE n.status IN {ENDINGS}",
        "UPDATE": f"""SELECT unnest(ARRAY[n.work_order_id, o.work_order_id])
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.status IN {ENDINGS} OR o.status IN {ENDINGS})
              AND (n.status, n.sequence, n.work_order_id)
                  IS DISTINCT FROM (o.status, o.sequence, o.work_order_id)""",
        "DELETE": f"SELECT o.work_order_id FROM old_rows o WHERE o.status IN {ENDINGS}",
    },
    # Only a completed visit's crew names a job's lead.
    "visit_technicians": {
        "INSERT": """SELECT v.work_order_id FROM new_rows n JOIN visits v ON v.id = n.visit_id
            WHERE v.status = 'completed'""",
        "UPDATE": """SELECT v.work_order_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN visits v ON v.id IN (n.visit_id, o.visit_id)
            WHERE v.status = 'completed'
              AND (n.technician_id, n.is_lead, n.visit_id)
                  IS DISTINCT FROM (o.technician_id, o.is_lead, o.visit_id)""",
        "DELETE": """SELECT v.work_order_id FROM old_rows o JOIN visits v ON v.id = o.visit_id
            WHERE v.status = 'completed'""",
    },
    # A draft bills nothing until it is posted.
    "invoices": {
        "INSERT": "SELECT n.work_order_id FROM new_rows n WHERE n.status <> 'draft'",
        "UPDATE": """SELECT unnest(ARRAY[n.work_order_id, o.work_order_id])
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE NOT (n.status = 'draft' AND o.status = 'draft')
              AND (n.status, n.kind, n.total, n.paid, n.credited, n.posted_at, n.work_order_id)
                  IS DISTINCT FROM
                  (o.status, o.kind, o.total, o.paid, o.credited, o.posted_at, o.work_order_id)""",
        "DELETE": "SELECT o.work_order_id FROM old_rows o WHERE o.status <> 'draft'",
    },
    "line_items": {
        "INSERT": "SELECT n.work_order_id FROM new_rows n",
        "UPDATE": """SELECT unnest(ARRAY[n.work_order_id, o.work_order_id])
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE (n.quantity, n.unit_price, n.work_order_id)
                  IS DISTINCT FROM (o.quantity, o.unit_price, o.work_order_id)""",
        "DELETE": "SELECT o.work_order_id FROM old_rows o",
    },
}


def _changed(table: str) -> str:
    """The statement trigger function of ``table``: notes the work orders touched, to be
    refreshed once when the transaction commits."""
    events = TOUCHED[table]
    return f"""
CREATE FUNCTION {_function(table)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    touched bigint[];
BEGIN
    -- Each branch is planned only when it runs: an INSERT trigger has no old_rows.
    IF TG_OP = 'INSERT' THEN
        touched := ARRAY({events.get("INSERT", NOTHING)});
    ELSIF TG_OP = 'UPDATE' THEN
        touched := ARRAY({events.get("UPDATE", NOTHING)});
    ELSE
        touched := ARRAY({events.get("DELETE", NOTHING)});
    END IF;
    IF cardinality(touched) > 0 THEN
        PERFORM dispatch_report_facts_pending(touched);
    END IF;
    RETURN NULL;
END $$
"""


# A transaction's touched work orders wait in ``report_facts_pending`` and are refreshed
# once, at its commit: one row in ``report_facts_flush`` per transaction wakes the
# deferred constraint trigger that does it (a booking or the demo's hundreds of
# statements make one refresh, not one each). Both tables are empty outside a
# transaction that writes: their rows are deleted before it commits.
PENDING = """
CREATE FUNCTION dispatch_report_facts_pending(work_order_ids bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    this_transaction bigint := txid_current();
BEGIN
    INSERT INTO report_facts_pending (transaction_id, work_order_id)
    SELECT DISTINCT this_transaction, k FROM unnest(work_order_ids) AS k WHERE k IS NOT NULL
    ON CONFLICT DO NOTHING;
    INSERT INTO report_facts_flush (transaction_id) VALUES (this_transaction)
    ON CONFLICT DO NOTHING;
END $$
"""

FLUSH = """
CREATE FUNCTION dispatch_flush_report_facts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    this_transaction bigint := txid_current();
    touched bigint[];
BEGIN
    DELETE FROM report_facts_flush WHERE transaction_id = this_transaction;
    WITH taken AS (
        DELETE FROM report_facts_pending WHERE transaction_id = this_transaction
        RETURNING work_order_id
    )
    SELECT array_agg(work_order_id) INTO touched FROM taken;
    IF touched IS NOT NULL THEN
        PERFORM dispatch_refresh_report_facts(touched);
    END IF;
    RETURN NULL;
END $$
"""


def _function(table: str) -> str:
    return f"dispatch_report_facts_of_{table}"


REBUILD = """
CREATE FUNCTION dispatch_rebuild_report_facts() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM posted_revenue r
    WHERE NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.id = r.work_order_id);
    RETURN dispatch_refresh_report_facts(ARRAY(SELECT id FROM work_orders ORDER BY id));
END $$
"""


def _trigger(table: str, event: str) -> str:
    return f"{table}_report_facts_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "work_order_outcomes",
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_as", sa.Text(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("first_time_fix", sa.Boolean(), nullable=False),
        sa.Column("lead_technician_id", sa.BigInteger(), nullable=True),
        sa.Column("billed", sa.Numeric(12, 2), nullable=False),
        sa.Column("bills", sa.Integer(), nullable=False),
        sa.Column("owed", sa.Numeric(12, 2), nullable=False),
        sa.Column("charged", sa.Numeric(12, 2), nullable=False),
        sa.CheckConstraint(
            "ended_as IN ('completed', 'cancelled', 'no_show')",
            name=op.f("ck_work_order_outcomes_ended_as_known"),
        ),
        sa.CheckConstraint(
            "(ended_as IS NULL) = (ended_at IS NULL)",
            name=op.f("ck_work_order_outcomes_ended_with_moment"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_outcomes_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_work_order_outcomes")),
    )
    # The jobs that ended in a period, with what each report groups them by.
    op.create_index(
        "ix_work_order_outcomes_ended",
        "work_order_outcomes",
        ["ended_at"],
        postgresql_include=["ended_as", "job_type_id", "lead_technician_id", "first_time_fix"],
        postgresql_where=sa.text("ended_at IS NOT NULL"),
    )
    # What is still open, by the moment it was booked.
    op.create_index(
        "ix_work_order_outcomes_open",
        "work_order_outcomes",
        ["created_at"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    # Done and not closed (the office still owes the paperwork), with what it is worth.
    op.create_index(
        "ix_work_order_outcomes_unclosed",
        "work_order_outcomes",
        ["ended_at"],
        postgresql_include=["bills", "owed", "charged"],
        postgresql_where=sa.text(f"status IN {UNCLOSED}"),
    )
    # Hours on the clock in a period, per technician, from the index alone.
    op.drop_index("ix_time_entries_started_at", table_name="time_entries")
    op.create_index(
        "ix_time_entries_started_at",
        "time_entries",
        ["started_at"],
        postgresql_include=["technician_id", "ended_at", "work_order_id"],
    )
    op.create_table(
        "posted_revenue",
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Numeric(12, 2), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("lead_technician_id", sa.BigInteger(), nullable=True),
        sa.Column("job_billed", sa.Numeric(12, 2), nullable=False),
        sa.Column("previous_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_posted_revenue_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_posted_revenue")),
    )
    op.create_index(
        "ix_posted_revenue_posted_at",
        "posted_revenue",
        ["posted_at"],
        postgresql_include=[
            "work_order_id",
            "value",
            "job_type_id",
            "lead_technician_id",
            "job_billed",
            "previous_posted_at",
        ],
    )
    op.create_index("ix_posted_revenue_work_order_id", "posted_revenue", ["work_order_id"])
    op.create_table(
        "report_facts_pending",
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "transaction_id", "work_order_id", name=op.f("pk_report_facts_pending")
        ),
    )
    op.create_table(
        "report_facts_flush",
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_report_facts_flush")),
    )
    op.execute(REFRESH)
    op.execute(REBUILD)
    op.execute(PENDING)
    op.execute(FLUSH)
    op.execute(
        "CREATE CONSTRAINT TRIGGER report_facts_flush_at_commit AFTER INSERT "
        "ON report_facts_flush DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION dispatch_flush_report_facts()"
    )
    for table, events in TOUCHED.items():
        op.execute(_changed(table))
        for event in events:
            tables = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[event]
            op.execute(
                f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {_function(table)}()"
            )
    op.execute("SELECT dispatch_rebuild_report_facts()")


def downgrade() -> None:
    for table, events in TOUCHED.items():
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {_function(table)}()")
    op.execute("DROP TRIGGER IF EXISTS report_facts_flush_at_commit ON report_facts_flush")
    op.execute("DROP FUNCTION IF EXISTS dispatch_flush_report_facts()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_report_facts_pending(bigint[])")
    op.drop_table("report_facts_flush")
    op.drop_table("report_facts_pending")
    op.execute("DROP FUNCTION IF EXISTS dispatch_rebuild_report_facts()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_refresh_report_facts(bigint[])")
    op.drop_index("ix_posted_revenue_work_order_id", table_name="posted_revenue")
    op.drop_index("ix_posted_revenue_posted_at", table_name="posted_revenue")
    op.drop_table("posted_revenue")
    op.drop_index("ix_time_entries_started_at", table_name="time_entries")
    op.create_index("ix_time_entries_started_at", "time_entries", ["started_at"])
    op.drop_index("ix_work_order_outcomes_unclosed", table_name="work_order_outcomes")
    op.drop_index("ix_work_order_outcomes_open", table_name="work_order_outcomes")
    op.drop_index("ix_work_order_outcomes_ended", table_name="work_order_outcomes")
    op.drop_table("work_order_outcomes")
