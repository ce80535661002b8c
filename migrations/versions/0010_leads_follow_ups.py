"""Leads, follow-ups and maintenance agreements: the revenue before and after the job.

- ``leads``: every inbound contact (answered or missed call, voicemail, web request,
  answering service) with its number, name, what was asked, owner and outcome. The
  database finds the customer from the number (``dispatch_lead_guard``); a missed call
  or voicemail from a number that booked nothing since makes a callback follow-up at
  once (``dispatch_lead_callback``), whoever stored the lead (the import, the worker's
  endpoint, psql); a lead that leaves "open" closes its callback.
- ``follow_up_rules``: one row per kind, seeded with the defaults; the worker runs them.
- ``follow_ups``: the tasks the rules make; done is final and stamped by the database
  (``dispatch_follow_up_guard``), and none is ever removed.
- ``maintenance_plans``, and on ``agreements`` the plan, the site and ``schedule_from``:
  ``dispatch_agreement_due_dates`` says when an agreement's visits fall due (spread over
  each agreement year from its start: Feb 29 falls on Feb 28 in other years), and
  ``dispatch_generate_agreement_visits`` (the worker's and a manager's) books each one
  as a work order with an unscheduled visit, once: ``work_orders.agreement_id`` and
  ``agreement_due_on`` are unique together.
- The ``maintenance_offer`` message event (promotional) with its templates; the
  ``agreement`` work order source.

Refusals carry SQLSTATE ``DB001`` and the sentence the app shows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (a migration never follows the code).
EVENTS_BEFORE = "('on_the_way', 'job_done', 'review_request', 'maintenance_reminder', 'test')"
EVENTS = (
    "('on_the_way', 'job_done', 'review_request', 'maintenance_reminder', "
    "'maintenance_offer', 'test')"
)
SOURCES_BEFORE = "('phone', 'web', 'referral', 'repeat', 'lead')"
SOURCES = "('phone', 'web', 'referral', 'repeat', 'lead', 'agreement')"
LEAD_SOURCES = "('call', 'missed_call', 'voicemail', 'web', 'answering_service', 'other')"
LEAD_OUTCOMES = "('open', 'booked', 'not_interested', 'spam', 'no_answer')"
RULE_KINDS = (
    "('missed_call', 'stale_work_order', 'not_closed', 'cancellation', 'no_show', "
    "'review_request', 'maintenance_offer', 'annual_reminder', 'agreement_renewal')"
)
RULES = (
    ("missed_call", 0, True, False),
    ("stale_work_order", 48, True, False),
    ("not_closed", 0, True, False),
    ("cancellation", 24, True, False),
    ("no_show", 2, True, False),
    ("review_request", 2, False, True),
    ("maintenance_offer", 90 * 24, False, True),
    ("annual_reminder", 365 * 24, True, True),
    ("agreement_renewal", 30 * 24, True, False),
)
TEMPLATES = (
    (
        "maintenance_offer",
        "sms",
        "",
        "{company}: thanks again for having us, {customer}. Our maintenance plan keeps your "
        "system running and puts you first in line. Call {company_phone} to join. "
        "Reply STOP to opt out.",
    ),
    (
        "maintenance_offer",
        "email",
        "Keep it running: our maintenance plan",
        "Hello {customer},\n\nThank you for choosing {company}. Our maintenance plan brings "
        "regular check-ups, priority scheduling and fewer surprises. Call us at "
        "{company_phone} to join.\n\n{company}",
    ),
)

LEAD_GUARD = r"""
CREATE FUNCTION dispatch_lead_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := btrim(NEW.name);
    NEW.request := btrim(NEW.request);
    NEW.email := nullif(lower(btrim(NEW.email)), '');
    NEW.outcome_note := nullif(btrim(NEW.outcome_note), '');
    IF NEW.customer_id IS NULL AND NEW.phone IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.phone IS DISTINCT FROM OLD.phone) THEN
        NEW.customer_id := (SELECT customer_id FROM customer_phones WHERE number = NEW.phone);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.attempts < OLD.attempts THEN
            PERFORM dispatch_books_refuse('A callback that was tried cannot be untried.');
        ELSIF NEW.attempts > OLD.attempts THEN
            NEW.last_attempt_at := now();
        ELSE
            NEW.last_attempt_at := OLD.last_attempt_at;
        END IF;
        IF OLD.outcome = 'booked' AND NEW.work_order_id IS DISTINCT FROM OLD.work_order_id THEN
            PERFORM dispatch_books_refuse('This lead is booked; its work order stays linked.');
        END IF;
        NEW.received_at := OLD.received_at;
        NEW.source := OLD.source;
        NEW.external_id := OLD.external_id;
    ELSIF NEW.attempts > 0 THEN  -- brought in with its history (another system's)
        NEW.last_attempt_at := coalesce(NEW.last_attempt_at, NEW.received_at);
    ELSE
        NEW.last_attempt_at := NULL;
    END IF;
    RETURN NEW;
END
$$
"""

# A missed caller who has booked nothing since is called back, first thing.
LEAD_CALLBACK = r"""
CREATE FUNCTION dispatch_lead_callback() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    rule follow_up_rules%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.outcome <> 'open' AND OLD.outcome = 'open' THEN
            UPDATE follow_ups SET state = 'done', outcome = 'obsolete',
                reason = NULL
                WHERE lead_id = NEW.id AND state <> 'done';
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.source NOT IN ('missed_call', 'voicemail') OR NEW.phone IS NULL
       OR NEW.outcome <> 'open' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO rule FROM follow_up_rules WHERE kind = 'missed_call';
    IF NOT FOUND OR NOT rule.enabled OR NOT rule.makes_task THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM work_orders w JOIN customer_phones p ON p.customer_id = w.customer_id
               WHERE p.number = NEW.phone AND w.created_at >= NEW.received_at) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM follow_ups f JOIN leads l ON l.id = f.lead_id
               WHERE f.kind = 'missed_call' AND f.state <> 'done' AND l.phone = NEW.phone) THEN
        RETURN NULL;  -- one callback per caller, however often they tried
    END IF;
    INSERT INTO follow_ups (kind, occasion, customer_id, lead_id, title, detail, due_at,
                            assigned_to)
    VALUES ('missed_call', 'missed_call:' || NEW.id, NEW.customer_id, NEW.id,
            left('Call back ' || coalesce(nullif(NEW.name, ''), NEW.phone), 200),
            left(NEW.request, 2000),
            NEW.received_at + make_interval(hours => rule.wait_hours), rule.assign_to)
    ON CONFLICT (occasion) DO NOTHING;
    RETURN NULL;
END
$$
"""

# Who finished a follow-up and when are the database's; finished is final.
FOLLOW_UP_GUARD = r"""
CREATE FUNCTION dispatch_follow_up_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM dispatch_books_refuse('A follow-up is kept: mark it done instead.');
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.state = 'done' THEN
        PERFORM dispatch_books_refuse(format('"%s" is done; it cannot change.', OLD.title));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.kind := OLD.kind;
        NEW.occasion := OLD.occasion;
    END IF;
    NEW.reason := nullif(btrim(NEW.reason), '');
    IF NEW.state = 'done' THEN
        NEW.done_at := now();
        NEW.done_by := dispatch_editor();
    ELSE
        NEW.done_at := NULL;
        NEW.done_by := NULL;
    END IF;
    RETURN NEW;
END
$$
"""

# The days an agreement's visits fall due up to ``through``: visits_per_year spread
# over each agreement year from its start (whole months when they divide twelve, else
# days), from ``schedule_from`` on and before the end. From the start each time, so a
# Feb 29 start falls on Feb 28 in the years without one and on Feb 29 again after.
DUE_DATES = r"""
CREATE FUNCTION dispatch_agreement_due_dates(agreement bigint, through date)
RETURNS SETOF date LANGUAGE sql STABLE AS $$
    SELECT DISTINCT due FROM (
        SELECT CASE WHEN 12 % a.visits_per_year = 0
               THEN (a.starts_on + make_interval(months => y * 12 + k * (12 / a.visits_per_year)))::date
               ELSE (a.starts_on + make_interval(years => y))::date
                    + (k * ((a.starts_on + make_interval(years => y + 1))::date
                            - (a.starts_on + make_interval(years => y))::date))
                      / a.visits_per_year
               END AS due, a.schedule_from, a.starts_on, a.ends_on
        FROM agreements a,
             generate_series(0, greatest(0, extract(year FROM age(least(a.ends_on, through),
                                                                  a.starts_on))::integer)) AS y,
             generate_series(0, a.visits_per_year - 1) AS k
        WHERE a.id = agreement AND a.visits_per_year > 0
    ) s
    WHERE due >= coalesce(schedule_from, starts_on) AND due < ends_on AND due <= through
    ORDER BY due
$$
"""

# Each due visit of every agreement with a plan, up to ``ahead`` days after ``today``,
# as a work order with one unscheduled visit (the dispatcher's unassigned queue).
GENERATE = r"""
CREATE FUNCTION dispatch_generate_agreement_visits(today date, ahead integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a record;
    due date;
    site bigint;
    made bigint;
    total integer := 0;
BEGIN
    IF NOT (dispatch_may('manager') OR dispatch_may('worker')) THEN
        PERFORM dispatch_books_refuse(
            'Only the worker or a manager books the visits agreements fall due for.');
    END IF;
    IF ahead NOT BETWEEN 0 AND 366 THEN
        PERFORM dispatch_books_refuse('Book agreement visits 0 to 366 days ahead.');
    END IF;
    FOR a IN SELECT ag.*, p.name AS plan_name, p.job_type_id, p.covered_equipment
             FROM agreements ag JOIN maintenance_plans p ON p.id = ag.plan_id
             WHERE ag.ends_on > today AND ag.visits_per_year > 0 ORDER BY ag.id LOOP
        site := coalesce(a.site_id, (SELECT s.id FROM service_sites s
                                     WHERE s.customer_id = a.customer_id ORDER BY s.id LIMIT 1));
        CONTINUE WHEN site IS NULL;
        FOR due IN SELECT d FROM dispatch_agreement_due_dates(a.id, today + ahead) AS d LOOP
            INSERT INTO work_orders (customer_id, site_id, job_type_id, description, source,
                                     agreement_id, agreement_due_on)
            VALUES (a.customer_id, site, a.job_type_id,
                    left(format('%s: maintenance visit due %s.%s', a.plan_name,
                                to_char(due, 'Mon FMDD, YYYY'),
                                CASE WHEN a.covered_equipment <> ''
                                     THEN ' Covers: ' || a.covered_equipment ELSE '' END), 2000),
                    'agreement', a.id, due)
            ON CONFLICT (agreement_id, agreement_due_on) DO NOTHING
            RETURNING id INTO made;
            IF made IS NOT NULL THEN
                INSERT INTO visits (work_order_id, sequence) VALUES (made, 1);
                total := total + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN total;
END
$$
"""

FUNCTIONS = (LEAD_GUARD, LEAD_CALLBACK, FOLLOW_UP_GUARD, DUE_DATES, GENERATE)
TRIGGERS = (
    "CREATE TRIGGER leads_guard BEFORE INSERT OR UPDATE ON leads "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_lead_guard()",
    "CREATE TRIGGER leads_callback AFTER INSERT OR UPDATE OF outcome ON leads "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_lead_callback()",
    "CREATE TRIGGER follow_ups_guard BEFORE INSERT OR UPDATE OR DELETE ON follow_ups "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_follow_up_guard()",
)


def _tracked() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    for table, column, after in (
        ("message_templates", "event", EVENTS),
        ("outbox_messages", "event", EVENTS),
        ("work_orders", "source", SOURCES),
    ):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, f"{column} in {after}")

    op.create_table(
        "maintenance_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(10, 2), server_default="0", nullable=False),
        sa.Column(
            "visits_per_year", sa.SmallInteger(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column("covered_equipment", sa.Text(), server_default="", nullable=False),
        sa.Column("term_months", sa.SmallInteger(), server_default=sa.text("12"), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_tracked(),
        sa.CheckConstraint(
            "length(name) between 1 and 100", name=op.f("ck_maintenance_plans_name_length")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_maintenance_plans_price_non_negative")),
        sa.CheckConstraint(
            "visits_per_year between 1 and 12", name=op.f("ck_maintenance_plans_visits_range")
        ),
        sa.CheckConstraint(
            "term_months between 1 and 120", name=op.f("ck_maintenance_plans_term_range")
        ),
        sa.CheckConstraint(
            "length(covered_equipment) <= 500", name=op.f("ck_maintenance_plans_covered_length")
        ),
        sa.ForeignKeyConstraint(
            ["job_type_id"],
            ["job_types.id"],
            name=op.f("fk_maintenance_plans_job_type_id_job_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_maintenance_plans_name")),
    )
    op.add_column("agreements", sa.Column("plan_id", sa.BigInteger(), nullable=True))
    op.add_column("agreements", sa.Column("site_id", sa.BigInteger(), nullable=True))
    op.add_column("agreements", sa.Column("schedule_from", sa.Date(), nullable=True))
    op.create_foreign_key(
        op.f("fk_agreements_plan_id_maintenance_plans"),
        "agreements",
        "maintenance_plans",
        ["plan_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_foreign_key(
        op.f("fk_agreements_site_id_service_sites"),
        "agreements",
        "service_sites",
        ["site_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_agreements_schedule_within"),
        "agreements",
        "schedule_from is null or schedule_from between starts_on and ends_on",
    )
    op.add_column("work_orders", sa.Column("agreement_id", sa.BigInteger(), nullable=True))
    op.add_column("work_orders", sa.Column("agreement_due_on", sa.Date(), nullable=True))
    op.create_foreign_key(
        op.f("fk_work_orders_agreement_id_agreements"),
        "work_orders",
        "agreements",
        ["agreement_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_unique_constraint(
        op.f("uq_work_orders_agreement_id"), "work_orders", ["agreement_id", "agreement_due_on"]
    )
    op.create_check_constraint(
        op.f("ck_work_orders_agreement_due_both"),
        "work_orders",
        "(agreement_id is null) = (agreement_due_on is null)",
    )

    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", sa.Text(), server_default="", nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), server_default="open", nullable=False),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("work_order_id", sa.BigInteger(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column(
            "created_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *_tracked(),
        sa.CheckConstraint(f"source in {LEAD_SOURCES}", name=op.f("ck_leads_source")),
        sa.CheckConstraint(f"outcome in {LEAD_OUTCOMES}", name=op.f("ck_leads_outcome")),
        sa.CheckConstraint(
            r"phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'", name=op.f("ck_leads_e164")
        ),
        sa.CheckConstraint(
            "phone is not null or email is not null", name=op.f("ck_leads_reachable")
        ),
        sa.CheckConstraint(
            "(outcome = 'booked') = (work_order_id is not null)",
            name=op.f("ck_leads_booked_has_work_order"),
        ),
        sa.CheckConstraint(
            "length(name) <= 200 and length(request) <= 2000 "
            "and coalesce(length(email), 0) <= 320 and coalesce(length(owner), 0) <= 200 "
            "and coalesce(length(outcome_note), 0) <= 500 "
            "and coalesce(length(external_id), 0) <= 200",
            name=op.f("ck_leads_text_length"),
        ),
        sa.CheckConstraint(
            "attempts between 0 and 100 and coalesce(duration_seconds, 0) between 0 and 86400",
            name=op.f("ck_leads_counts_range"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_leads_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_leads_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("external_id", name=op.f("uq_leads_external_id")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_leads_work_order_id")),
    )
    op.create_index(op.f("ix_leads_customer_id"), "leads", ["customer_id"], unique=False)
    op.create_index("ix_leads_received_at", "leads", ["received_at"], unique=False)
    op.create_index("ix_leads_phone", "leads", ["phone"], unique=False)

    op.create_table(
        "follow_up_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("wait_hours", sa.Integer(), nullable=False),
        sa.Column("makes_task", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("sends_message", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("assign_to", sa.Text(), nullable=True),
        *_tracked(),
        sa.CheckConstraint(f"kind in {RULE_KINDS}", name=op.f("ck_follow_up_rules_kind")),
        sa.CheckConstraint(
            "wait_hours between 0 and 17520", name=op.f("ck_follow_up_rules_wait_range")
        ),
        sa.CheckConstraint(
            "coalesce(length(assign_to), 0) <= 200",
            name=op.f("ck_follow_up_rules_assign_to_length"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_rules")),
        sa.UniqueConstraint("kind", name=op.f("uq_follow_up_rules_kind")),
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occasion", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("work_order_id", sa.BigInteger(), nullable=True),
        sa.Column("lead_id", sa.BigInteger(), nullable=True),
        sa.Column("agreement_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_to", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), server_default="open", nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        *_tracked(),
        sa.CheckConstraint(f"kind in {RULE_KINDS}", name=op.f("ck_follow_ups_kind")),
        sa.CheckConstraint(
            "state in ('open', 'snoozed', 'done')", name=op.f("ck_follow_ups_state")
        ),
        sa.CheckConstraint(
            "outcome is null or outcome in ('done', 'recovered', 'lost', 'obsolete')",
            name=op.f("ck_follow_ups_outcome"),
        ),
        sa.CheckConstraint(
            "(state = 'done') = (outcome is not null)", name=op.f("ck_follow_ups_done_has_outcome")
        ),
        sa.CheckConstraint(
            "(outcome is distinct from 'lost' and state <> 'snoozed') "
            "or coalesce(btrim(reason), '') <> ''",
            name=op.f("ck_follow_ups_says_why"),
        ),
        sa.CheckConstraint(
            "length(title) between 1 and 200 and length(detail) <= 2000 "
            "and coalesce(length(reason), 0) <= 500 and coalesce(length(assigned_to), 0) <= 200 "
            "and length(occasion) between 1 and 200",
            name=op.f("ck_follow_ups_text_length"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_follow_ups_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_follow_ups_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_follow_ups_lead_id_leads"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_follow_ups_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("occasion", name=op.f("uq_follow_ups_occasion")),
    )
    op.create_index(op.f("ix_follow_ups_customer_id"), "follow_ups", ["customer_id"], unique=False)
    op.create_index(
        op.f("ix_follow_ups_work_order_id"), "follow_ups", ["work_order_id"], unique=False
    )
    op.create_index(op.f("ix_follow_ups_lead_id"), "follow_ups", ["lead_id"], unique=False)
    op.create_index(
        "ix_follow_ups_due",
        "follow_ups",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("state <> 'done'"),
    )
    for function in FUNCTIONS:
        op.execute(function)
    for trigger in TRIGGERS:
        op.execute(trigger)
    rules = sa.table(
        "follow_up_rules",
        sa.column("kind", sa.Text),
        sa.column("wait_hours", sa.Integer),
        sa.column("makes_task", sa.Boolean),
        sa.column("sends_message", sa.Boolean),
    )
    op.bulk_insert(
        rules,
        [{"kind": k, "wait_hours": w, "makes_task": t, "sends_message": m} for k, w, t, m in RULES],
    )
    templates = sa.table(
        "message_templates",
        sa.column("event", sa.Text),
        sa.column("channel", sa.Text),
        sa.column("subject", sa.Text),
        sa.column("body", sa.Text),
    )
    op.bulk_insert(
        templates,
        [
            {"event": e, "channel": c, "subject": subject, "body": body}
            for e, c, subject, body in TEMPLATES
        ],
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS follow_ups_guard ON follow_ups")
    op.execute("DROP TRIGGER IF EXISTS leads_callback ON leads")
    op.execute("DROP TRIGGER IF EXISTS leads_guard ON leads")
    op.drop_table("follow_ups")
    op.drop_table("follow_up_rules")
    op.drop_table("leads")
    op.drop_constraint(op.f("ck_work_orders_agreement_due_both"), "work_orders", type_="check")
    op.drop_constraint(op.f("uq_work_orders_agreement_id"), "work_orders", type_="unique")
    op.drop_constraint(
        op.f("fk_work_orders_agreement_id_agreements"), "work_orders", type_="foreignkey"
    )
    op.execute("UPDATE work_orders SET source = 'repeat' WHERE source = 'agreement'")
    op.drop_column("work_orders", "agreement_due_on")
    op.drop_column("work_orders", "agreement_id")
    op.drop_constraint(op.f("ck_agreements_schedule_within"), "agreements", type_="check")
    op.drop_constraint(
        op.f("fk_agreements_site_id_service_sites"), "agreements", type_="foreignkey"
    )
    op.drop_constraint(
        op.f("fk_agreements_plan_id_maintenance_plans"), "agreements", type_="foreignkey"
    )
    op.drop_column("agreements", "schedule_from")
    op.drop_column("agreements", "site_id")
    op.drop_column("agreements", "plan_id")
    op.drop_table("maintenance_plans")
    op.execute("DELETE FROM message_templates WHERE event = 'maintenance_offer'")
    for name in (
        "dispatch_generate_agreement_visits(date, integer)",
        "dispatch_agreement_due_dates(bigint, date)",
        "dispatch_follow_up_guard()",
        "dispatch_lead_callback()",
        "dispatch_lead_guard()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
    for table, column, before in (
        ("message_templates", "event", EVENTS_BEFORE),
        ("outbox_messages", "event", EVENTS_BEFORE),
        ("work_orders", "source", SOURCES_BEFORE),
    ):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, f"{column} in {before}")
