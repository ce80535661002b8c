"""The whole work order: intake questions per job type, agreements, the parts list,
line items, photos, time entries, and an audit log of who changed what.

``dispatch_audit`` writes one ``audit_log`` row per changed row of a work order's tables
with ``{"field": [before, after]}``; photo bytes and bookkeeping columns stay out of it.
Notes are signed by the app's editor name rather than the database login.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:15:22.258189
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen copies (a migration must not change when the models do).
NEW_VERSIONED_TABLES = (
    "job_type_questions",
    "agreements",
    "parts",
    "line_items",
    "photos",
    "time_entries",
)
AUDITED_TABLES = (
    "work_orders",
    "visits",
    "visit_technicians",
    "line_items",
    "notes",
    "photos",
    "time_entries",
)

AUDIT = """
CREATE FUNCTION dispatch_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Bookkeeping and bulk never make an audit line.
    skipped text[] := ARRAY['version', 'updated_at', 'updated_by', 'created_at',
                            'created_by', 'data', 'thumbnail'];
    before jsonb := '{}'::jsonb;
    after jsonb := '{}'::jsonb;
    touched jsonb;
    changed jsonb := '{}'::jsonb;
    field text;
    order_id bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        before := to_jsonb(OLD) - skipped;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after := to_jsonb(NEW) - skipped;
    END IF;
    FOR field IN SELECT jsonb_object_keys(before || after) LOOP
        IF (before -> field) IS DISTINCT FROM (after -> field) THEN
            changed := changed || jsonb_build_object(
                field, jsonb_build_array(before -> field, after -> field));
        END IF;
    END LOOP;
    IF changed = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    touched := CASE WHEN TG_OP = 'DELETE' THEN before ELSE after END;
    IF TG_TABLE_NAME = 'work_orders' THEN
        order_id := (touched ->> 'id')::bigint;
    ELSIF TG_TABLE_NAME = 'visit_technicians' THEN
        SELECT work_order_id INTO order_id FROM visits WHERE id = (touched ->> 'visit_id')::bigint;
    ELSE
        order_id := (touched ->> 'work_order_id')::bigint;
    END IF;
    -- A deleted work order takes its rows and its history with it.
    IF order_id IS NULL OR NOT EXISTS (SELECT 1 FROM work_orders WHERE id = order_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (work_order_id, table_name, row_id, action, changes)
    VALUES (order_id, TG_TABLE_NAME, (touched ->> 'id')::bigint, lower(TG_OP), changed);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "parts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), server_default="each", nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_parts_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parts")),
        sa.UniqueConstraint("sku", name=op.f("uq_parts_sku")),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "visits_per_year", sa.SmallInteger(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column("price", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_agreements_ends_after_starts")),
        sa.CheckConstraint(
            "visits_per_year between 0 and 52", name=op.f("ck_agreements_visits_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_agreements_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_index(op.f("ix_agreements_customer_id"), "agreements", ["customer_id"], unique=False)
    op.create_table(
        "job_type_questions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="text", nullable=False),
        sa.Column(
            "choices",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind in ('text', 'choice', 'yes_no', 'number')",
            name=op.f("ck_job_type_questions_kind"),
        ),
        sa.CheckConstraint(
            "length(prompt) between 1 and 200", name=op.f("ck_job_type_questions_prompt_length")
        ),
        sa.ForeignKeyConstraint(
            ["job_type_id"],
            ["job_types.id"],
            name=op.f("fk_job_type_questions_job_type_id_job_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_type_questions")),
        sa.UniqueConstraint(
            "job_type_id", "position", name=op.f("uq_job_type_questions_job_type_id")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=True),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "changed_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_audit_log_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_work_order_id"), "audit_log", ["work_order_id"], unique=False
    )
    op.create_table(
        "line_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("part_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind = 'material' or part_id is null", name=op.f("ck_line_items_part_is_material")
        ),
        sa.CheckConstraint("kind in ('labour', 'material')", name=op.f("ck_line_items_kind")),
        sa.CheckConstraint(
            "length(description) between 1 and 500", name=op.f("ck_line_items_description_length")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_line_items_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_line_items_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["part_id"], ["parts.id"], name=op.f("fk_line_items_part_id_parts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_line_items_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_items")),
    )
    op.create_index(
        op.f("ix_line_items_work_order_id"), "line_items", ["work_order_id"], unique=False
    )
    op.create_table(
        "photos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("caption", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "uploaded_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif')",
            name=op.f("ck_photos_content_type"),
        ),
        sa.CheckConstraint("byte_size between 1 and 15728640", name=op.f("ck_photos_byte_size")),
        sa.CheckConstraint("octet_length(data) = byte_size", name=op.f("ck_photos_size_matches")),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_photos_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
    )
    op.create_index(op.f("ix_photos_work_order_id"), "photos", ["work_order_id"], unique=False)
    op.create_table(
        "time_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("technician_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ended_at - started_at <= interval '24 hours'",
            name=op.f("ck_time_entries_at_most_a_day"),
        ),
        sa.CheckConstraint("ended_at > started_at", name=op.f("ck_time_entries_ends_after_starts")),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_time_entries_technician_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_time_entries_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
    )
    op.create_index(
        op.f("ix_time_entries_technician_id"), "time_entries", ["technician_id"], unique=False
    )
    op.create_index(
        op.f("ix_time_entries_work_order_id"), "time_entries", ["work_order_id"], unique=False
    )
    op.add_column(
        "work_orders",
        sa.Column(
            "answers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    # One per call the intake books: a retry after a lost answer finds the first booking.
    op.add_column("work_orders", sa.Column("call_id", sa.Uuid(), nullable=True))
    op.create_unique_constraint(op.f("uq_work_orders_call_id"), "work_orders", ["call_id"])
    # Photos are JPEG/PNG already: compressing them again only costs time.
    op.execute("ALTER TABLE photos ALTER COLUMN data SET STORAGE EXTERNAL")
    op.alter_column("notes", "author", server_default=sa.text("dispatch_editor()"))
    op.execute(AUDIT)
    for table in NEW_VERSIONED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dispatch_touch_row()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dispatch_notify_change('versioned')"
        )
    for table in AUDITED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dispatch_audit()"
        )


def downgrade() -> None:
    for table in AUDITED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
    op.execute("DROP FUNCTION IF EXISTS dispatch_audit()")
    op.alter_column("notes", "author", server_default=sa.text("session_user"))
    op.drop_constraint(op.f("uq_work_orders_call_id"), "work_orders", type_="unique")
    op.drop_column("work_orders", "call_id")
    op.drop_column("work_orders", "answers")
    op.drop_index(op.f("ix_time_entries_work_order_id"), table_name="time_entries")
    op.drop_index(op.f("ix_time_entries_technician_id"), table_name="time_entries")
    op.drop_table("time_entries")
    op.drop_index(op.f("ix_photos_work_order_id"), table_name="photos")
    op.drop_table("photos")
    op.drop_index(op.f("ix_line_items_work_order_id"), table_name="line_items")
    op.drop_table("line_items")
    op.drop_index(op.f("ix_audit_log_work_order_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("job_type_questions")
    op.drop_index(op.f("ix_agreements_customer_id"), table_name="agreements")
    op.drop_table("agreements")
    op.drop_table("parts")
