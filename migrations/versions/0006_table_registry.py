"""Triggers made from the table registry: hints name their work order.

``dispatch_notify_change`` and ``dispatch_audit`` take how a row finds its work order as
a trigger argument (``self``, ``work_order_id``, ``visit`` or ``none``) instead of
knowing table names, and a hint now carries its work order (``"work_order": 42``), so an
open editor re-reads only when its own work order changed. The triggers themselves are
made from ``dispatch_app/domain/tables.py`` after every upgrade (``db.triggers``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# TG_ARGV[0]: 'versioned' when the row has a version; TG_ARGV[1]: the owner kind. Only
# the columns the owner kind names are read (a row's own type decides what it has).
NOTIFY_CHANGE = """
CREATE OR REPLACE FUNCTION dispatch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    row_version integer;
    owner bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    IF TG_NARGS > 0 AND TG_ARGV[0] = 'versioned' THEN
        row_version := changed.version;
    END IF;
    IF TG_NARGS > 1 THEN
        IF TG_ARGV[1] = 'self' THEN
            owner := changed.id;
        ELSIF TG_ARGV[1] = 'work_order_id' THEN
            owner := changed.work_order_id;
        ELSIF TG_ARGV[1] = 'visit' THEN
            SELECT v.work_order_id INTO owner FROM visits v WHERE v.id = changed.visit_id;
        END IF;
    END IF;
    PERFORM pg_notify('dispatch_changes', json_build_object(
        'table', TG_TABLE_NAME,
        'id', changed.id,
        'op', lower(TG_OP),
        'version', row_version,
        'work_order', owner)::text);
    RETURN NULL;
END
$$
"""

AUDIT = """
CREATE OR REPLACE FUNCTION dispatch_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Bookkeeping and bulk never make an audit line.
    skipped text[] := ARRAY['version', 'updated_at', 'updated_by', 'created_at',
                            'created_by', 'data', 'thumbnail'];
    before jsonb := '{}'::jsonb;
    after jsonb := '{}'::jsonb;
    touched jsonb;
    changed jsonb := '{}'::jsonb;
    field text;
    kind text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0] ELSE 'work_order_id' END;
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
    -- The work order the row belongs to, by the owner kind its trigger was given.
    IF kind = 'self' THEN
        order_id := (touched ->> 'id')::bigint;
    ELSIF kind = 'visit' THEN
        SELECT v.work_order_id INTO order_id FROM visits v
        WHERE v.id = (touched ->> 'visit_id')::bigint;
    ELSE
        order_id := (touched ->> 'work_order_id')::bigint;
    END IF;
    IF order_id IS NULL OR NOT EXISTS (SELECT 1 FROM work_orders WHERE id = order_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO audit_log (work_order_id, table_name, row_id, action, changes)
    VALUES (order_id, TG_TABLE_NAME, (touched ->> 'id')::bigint, lower(TG_OP), changed);
    RETURN NULL;
END
$$
"""

# As 0002 and 0004 made them, for a downgrade.
OLD_NOTIFY_CHANGE = """
CREATE OR REPLACE FUNCTION dispatch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    row_version integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    IF TG_NARGS > 0 AND TG_ARGV[0] = 'versioned' THEN
        row_version := changed.version;
    END IF;
    PERFORM pg_notify('dispatch_changes', json_build_object(
        'table', TG_TABLE_NAME,
        'id', changed.id,
        'op', lower(TG_OP),
        'version', row_version)::text);
    RETURN NULL;
END
$$
"""

OLD_AUDIT = """
CREATE OR REPLACE FUNCTION dispatch_audit() RETURNS trigger LANGUAGE plpgsql AS $$
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

# Frozen copies (a migration must not change when the registry does).
VERSIONED_TABLES = (
    "app_settings", "customers", "customer_phones", "service_sites", "equipment",
    "technicians", "technician_shifts", "skills", "technician_skills", "job_types",
    "job_type_skills", "work_orders", "visits", "visit_technicians", "notes",
    "job_type_questions", "agreements", "parts", "line_items", "photos", "time_entries",
)  # fmt: skip
AUDITED_TABLES = (
    "work_orders", "visits", "visit_technicians", "line_items", "notes", "photos",
    "time_entries",
)  # fmt: skip


def upgrade() -> None:
    op.execute(NOTIFY_CHANGE)
    op.execute(AUDIT)


def downgrade() -> None:
    op.execute(OLD_NOTIFY_CHANGE)
    op.execute(OLD_AUDIT)
    # The triggers as 0002 and 0004 left them: no owner argument.
    for table in (*VERSIONED_TABLES, "status_history"):
        argument = "'versioned'" if table in VERSIONED_TABLES else ""
        op.execute(
            f"CREATE OR REPLACE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION dispatch_notify_change({argument})"
        )
    for table in AUDITED_TABLES:
        op.execute(
            f"CREATE OR REPLACE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION dispatch_audit()"
        )
