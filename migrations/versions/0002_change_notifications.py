"""Row triggers: versions kept honest, and every change announced.

``dispatch_touch_row`` bumps ``version`` and ``updated_at`` on every UPDATE (whatever the
statement said), and ``dispatch_notify_change`` sends a small JSON hint (table, id, op,
version; never the row) on the ``dispatch_changes`` channel, which PostgreSQL delivers
only when the transaction commits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()


# Frozen copies (a migration must not change when the models do).
VERSIONED_TABLES = (
    "app_settings",
    "customers",
    "customer_phones",
    "service_sites",
    "equipment",
    "technicians",
    "technician_shifts",
    "skills",
    "technician_skills",
    "job_types",
    "job_type_skills",
    "work_orders",
    "visits",
    "visit_technicians",
    "notes",
)
NOTIFYING_TABLES = (*VERSIONED_TABLES, "status_history")

TOUCH_ROW = """
CREATE FUNCTION dispatch_touch_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Whatever the statement says, a change is one more version, made now.
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$
"""

# The person behind a change: the name the app set for its session (``dispatch.editor``),
# else the database login. Shown in conflict messages ("moved by jsmith at 10:42").
EDITOR = """
CREATE FUNCTION dispatch_editor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('dispatch.editor', true), ''), session_user::text)
$$
"""

STAMP_EDITOR = """
CREATE FUNCTION dispatch_stamp_editor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_by := dispatch_editor();
    IF TG_OP = 'INSERT' AND TG_ARGV[0] = 'created_by' THEN
        NEW.created_by := NEW.updated_by;
    END IF;
    RETURN NEW;
END
$$
"""

STAMPED_TABLES = {"work_orders": "created_by", "visits": ""}

# TG_ARGV[0] = 'versioned' for tables that carry a version column.
NOTIFY_CHANGE = """
CREATE FUNCTION dispatch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
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


def _create_triggers() -> None:
    op.execute(TOUCH_ROW)
    op.execute(EDITOR)
    op.execute(STAMP_EDITOR)
    op.execute(NOTIFY_CHANGE)
    for table in VERSIONED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION dispatch_touch_row()"
        )
    for table, created_column in STAMPED_TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_stamp_editor BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION dispatch_stamp_editor('{created_column}')"
        )
    for table in NOTIFYING_TABLES:
        argument = "'versioned'" if table in VERSIONED_TABLES else ""
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION dispatch_notify_change({argument})"
        )


def _drop_triggers() -> None:
    for table in NOTIFYING_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    for table in VERSIONED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_touch ON {table}")
    for table in STAMPED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_stamp_editor ON {table}")
    op.execute("DROP FUNCTION IF EXISTS dispatch_notify_change()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_stamp_editor()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_editor()")
    op.execute("DROP FUNCTION IF EXISTS dispatch_touch_row()")
