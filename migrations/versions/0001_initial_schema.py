"""Initial schema: customers and sites, technicians and skills, work orders and visits.

Also the company settings every workstation shares, with the marker that tells this
app's databases from other applications'.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 13:37:16.834888
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE work_order_number_seq START 10001")
    op.create_table(
        "app_settings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_app_settings_key")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
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
        sa.CheckConstraint("length(name) between 1 and 200", name=op.f("ck_customers_name_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    # Prefix search (LIKE 'abc%') whatever the database collation.
    op.execute("CREATE INDEX ix_customers_name_lower ON customers (lower(name) text_pattern_ops)")
    op.create_table(
        "job_types",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("trade", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("default_duration_min", sa.Integer(), nullable=False),
        sa.Column(
            "default_price", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "trade in ('hvac', 'plumbing', 'electrical', 'roofing')",
            name=op.f("ck_job_types_trade"),
        ),
        sa.CheckConstraint(
            "default_duration_min between 5 and 7200", name=op.f("ck_job_types_duration_range")
        ),
        sa.CheckConstraint("default_price >= 0", name=op.f("ck_job_types_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_types")),
        sa.UniqueConstraint("trade", "name", name=op.f("uq_job_types_trade")),
    )
    op.create_table(
        "skills",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("trade", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "trade in ('hvac', 'plumbing', 'electrical', 'roofing')", name=op.f("ck_skills_trade")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skills")),
        sa.UniqueConstraint("code", name=op.f("uq_skills_code")),
    )
    op.create_table(
        "technicians",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), server_default="", nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("trade", sa.Text(), nullable=False),
        sa.Column("home_lat", sa.Double(), nullable=True),
        sa.Column("home_lon", sa.Double(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("colour ~ '^#[0-9a-fA-F]{6}$'", name=op.f("ck_technicians_colour_hex")),
        sa.CheckConstraint(
            "trade in ('hvac', 'plumbing', 'electrical', 'roofing')",
            name=op.f("ck_technicians_trade"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technicians")),
    )
    op.create_table(
        "customer_phones",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), server_default="mobile", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "number ~ '^\\+[1-9][0-9]{6,14}$'", name=op.f("ck_customer_phones_e164")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_phones_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_phones")),
    )
    op.create_index(
        op.f("ix_customer_phones_customer_id"), "customer_phones", ["customer_id"], unique=False
    )
    # Prefix search (LIKE 'abc%') whatever the database collation.
    op.execute(
        "CREATE INDEX ix_customer_phones_number ON customer_phones (number text_pattern_ops)"
    )
    op.create_table(
        "job_type_skills",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_id", sa.BigInteger(), nullable=False),
        sa.Column("min_level", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "min_level between 1 and 5", name=op.f("ck_job_type_skills_min_level_range")
        ),
        sa.ForeignKeyConstraint(
            ["job_type_id"],
            ["job_types.id"],
            name=op.f("fk_job_type_skills_job_type_id_job_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("fk_job_type_skills_skill_id_skills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_type_skills")),
        sa.UniqueConstraint("job_type_id", "skill_id", name=op.f("uq_job_type_skills_job_type_id")),
    )
    op.create_index(
        op.f("ix_job_type_skills_skill_id"), "job_type_skills", ["skill_id"], unique=False
    )
    op.create_table(
        "service_sites",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.Text(), server_default="Home", nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("access_notes", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "lat is null or lat between -90 and 90", name=op.f("ck_service_sites_lat_range")
        ),
        sa.CheckConstraint(
            "lon is null or lon between -180 and 180", name=op.f("ck_service_sites_lon_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_service_sites_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sites")),
    )
    op.create_index(
        op.f("ix_service_sites_customer_id"), "service_sites", ["customer_id"], unique=False
    )
    # Prefix search (LIKE 'abc%') whatever the database collation.
    op.execute(
        "CREATE INDEX ix_service_sites_street_lower ON service_sites (lower(street) text_pattern_ops)"
    )
    op.create_table(
        "technician_shifts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("technician_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "weekday between 0 and 6", name=op.f("ck_technician_shifts_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_shifts_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_shifts")),
        sa.UniqueConstraint(
            "technician_id", "weekday", name=op.f("uq_technician_shifts_technician_id")
        ),
    )
    op.create_table(
        "technician_skills",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("technician_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.SmallInteger(), server_default=sa.text("3"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("level between 1 and 5", name=op.f("ck_technician_skills_level_range")),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("fk_technician_skills_skill_id_skills"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_skills_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_skills")),
        sa.UniqueConstraint(
            "technician_id", "skill_id", name=op.f("uq_technician_skills_technician_id")
        ),
    )
    op.create_index(
        op.f("ix_technician_skills_skill_id"), "technician_skills", ["skill_id"], unique=False
    )
    op.create_table(
        "equipment",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("make", sa.Text(), server_default="", nullable=False),
        sa.Column("model", sa.Text(), server_default="", nullable=False),
        sa.Column("serial", sa.Text(), server_default="", nullable=False),
        sa.Column("install_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["service_sites.id"],
            name=op.f("fk_equipment_site_id_service_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
    )
    op.create_index(op.f("ix_equipment_site_id"), "equipment", ["site_id"], unique=False)
    op.create_table(
        "work_orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "number",
            sa.Text(),
            server_default=sa.text("('WO-'::text || nextval('work_order_number_seq'::regclass))"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("equipment_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("priority", sa.Text(), server_default="normal", nullable=False),
        sa.Column("status", sa.Text(), server_default="new", nullable=False),
        sa.Column("source", sa.Text(), server_default="phone", nullable=False),
        sa.Column("requested_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("updated_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "priority in ('normal', 'urgent', 'emergency')", name=op.f("ck_work_orders_priority")
        ),
        sa.CheckConstraint(
            "source in ('phone', 'web', 'referral', 'repeat', 'lead')",
            name=op.f("ck_work_orders_source"),
        ),
        sa.CheckConstraint(
            "status in ('new', 'scheduled', 'dispatched', 'en_route', 'on_site', "
            "'completed', 'invoiced', 'closed', 'cancelled', 'no_show')",
            name=op.f("ck_work_orders_status"),
        ),
        sa.CheckConstraint(
            "status not in ('cancelled', 'no_show') or coalesce(cancel_reason, '') <> ''",
            name=op.f("ck_work_orders_cancel_needs_reason"),
        ),
        sa.CheckConstraint(
            "requested_end is null or requested_start is null or requested_end > requested_start",
            name=op.f("ck_work_orders_requested_window_order"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_work_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_work_orders_equipment_id_equipment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_type_id"], ["job_types.id"], name=op.f("fk_work_orders_job_type_id_job_types")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["service_sites.id"], name=op.f("fk_work_orders_site_id_service_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
    )
    op.create_index(
        op.f("ix_work_orders_customer_id"), "work_orders", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_work_orders_job_type_id"), "work_orders", ["job_type_id"], unique=False
    )
    op.create_index(op.f("ix_work_orders_site_id"), "work_orders", ["site_id"], unique=False)
    op.create_index(
        "ix_work_orders_status_open",
        "work_orders",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status not in ('closed', 'cancelled', 'no_show')"),
    )
    op.create_index("ix_work_orders_updated_at", "work_orders", ["updated_at"], unique=False)
    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_notes_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_work_order_id"), "notes", ["work_order_id"], unique=False)
    op.create_table(
        "visits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival_window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), server_default="unscheduled", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('unscheduled', 'scheduled', 'dispatched', 'en_route', "
            "'on_site', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_visits_status"),
        ),
        sa.CheckConstraint(
            "(starts is null) = (ends is null)", name=op.f("ck_visits_both_times_or_none")
        ),
        sa.CheckConstraint(
            "arrival_window_end is null or arrival_window_end > arrival_window_start",
            name=op.f("ck_visits_arrival_window_order"),
        ),
        sa.CheckConstraint(
            "ends is null or ends > starts", name=op.f("ck_visits_ends_after_starts")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_visits_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("work_order_id", "sequence", name=op.f("uq_visits_work_order_id")),
    )
    op.create_index("ix_visits_starts", "visits", ["starts"], unique=False)
    op.create_index("ix_visits_updated_at", "visits", ["updated_at"], unique=False)
    op.create_index(op.f("ix_visits_work_order_id"), "visits", ["work_order_id"], unique=False)
    op.create_table(
        "status_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_status_history_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_status_history_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_history")),
    )
    op.create_index(
        op.f("ix_status_history_work_order_id"), "status_history", ["work_order_id"], unique=False
    )
    op.create_table(
        "visit_technicians",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=False),
        sa.Column("technician_id", sa.BigInteger(), nullable=False),
        sa.Column("is_lead", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_visit_technicians_technician_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_visit_technicians_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_technicians")),
        sa.UniqueConstraint(
            "visit_id", "technician_id", name=op.f("uq_visit_technicians_visit_id")
        ),
    )
    op.create_index(
        op.f("ix_visit_technicians_technician_id"),
        "visit_technicians",
        ["technician_id"],
        unique=False,
    )
    _insert_settings()


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_technicians_technician_id"), table_name="visit_technicians")
    op.drop_table("visit_technicians")
    op.drop_index(op.f("ix_status_history_work_order_id"), table_name="status_history")
    op.drop_table("status_history")
    op.drop_index(op.f("ix_visits_work_order_id"), table_name="visits")
    op.drop_index("ix_visits_updated_at", table_name="visits")
    op.drop_index("ix_visits_starts", table_name="visits")
    op.drop_table("visits")
    op.drop_index(op.f("ix_notes_work_order_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_index("ix_work_orders_updated_at", table_name="work_orders")
    op.drop_index(
        "ix_work_orders_status_open",
        table_name="work_orders",
        postgresql_where=sa.text("status not in ('closed', 'cancelled', 'no_show')"),
    )
    op.drop_index(op.f("ix_work_orders_site_id"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_job_type_id"), table_name="work_orders")
    op.drop_index(op.f("ix_work_orders_customer_id"), table_name="work_orders")
    op.drop_table("work_orders")
    op.drop_index(op.f("ix_equipment_site_id"), table_name="equipment")
    op.drop_table("equipment")
    op.drop_index(op.f("ix_technician_skills_skill_id"), table_name="technician_skills")
    op.drop_table("technician_skills")
    op.drop_table("technician_shifts")
    op.drop_index("ix_service_sites_street_lower", table_name="service_sites")
    op.drop_index(op.f("ix_service_sites_customer_id"), table_name="service_sites")
    op.drop_table("service_sites")
    op.drop_index(op.f("ix_job_type_skills_skill_id"), table_name="job_type_skills")
    op.drop_table("job_type_skills")
    op.drop_index("ix_customer_phones_number", table_name="customer_phones")
    op.drop_index(op.f("ix_customer_phones_customer_id"), table_name="customer_phones")
    op.drop_table("customer_phones")
    op.drop_table("technicians")
    op.drop_table("skills")
    op.drop_table("job_types")
    op.drop_index("ix_customers_name_lower", table_name="customers")
    op.drop_table("customers")
    op.drop_table("app_settings")
    op.execute("DROP SEQUENCE work_order_number_seq")


def _insert_settings() -> None:
    settings = sa.table(
        "app_settings",
        sa.column("key", sa.Text),
        sa.column("value", postgresql.JSONB),
    )
    op.bulk_insert(
        settings,
        [
            # Tells this app's databases from other applications' (see db/schema_check.py).
            {"key": "application", "value": "dispatch-board"},
            {"key": "business_timezone", "value": "UTC"},
            # Drive-time estimate: straight-line km x road factor at an average speed.
            {"key": "road_factor", "value": 1.3},
            {"key": "average_speed_kmh", "value": 40},
            {"key": "snap_minutes", "value": 15},
        ],
    )
