"""The row triggers, made from the table registry (``domain/tables.py``).

Run after every upgrade to the head schema (``migrations/env.py``): each registered
table that exists gets its touch, stamp, notify and audit triggers as its entry says,
and a trigger of ours on a table the registry no longer names, or on one no longer
audited, is dropped. The trigger functions themselves come from the migrations.
``CREATE OR REPLACE TRIGGER`` keeps each trigger's name, so the order in which a
table's triggers fire (by name) never changes.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from dispatch_app.domain.tables import TABLES, TableEntry, TableRegistry

# Trigger suffix → the function it runs.
_OURS = {
    "touch": "dispatch_touch_row",
    "stamp_editor": "dispatch_stamp_editor",
    "notify": "dispatch_notify_change",
    "audit": "dispatch_audit",
}


def trigger_statements(entry: TableEntry) -> list[str]:
    """What makes ``entry``'s table's triggers what the registry says."""
    table = entry.name
    statements = []

    def make(suffix: str, when: str, argument: str = "") -> None:
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{table}_{suffix}" {when} ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {_OURS[suffix]}({argument})"
        )

    def drop(suffix: str) -> None:
        statements.append(f'DROP TRIGGER IF EXISTS "{table}_{suffix}" ON "{table}"')

    if entry.versioned:
        make("touch", "BEFORE UPDATE")
    else:
        drop("touch")
    if entry.stamped is not None:
        make("stamp_editor", "BEFORE INSERT OR UPDATE", f"'{entry.stamped}'")
    else:
        drop("stamp_editor")
    versioned = "versioned" if entry.versioned else "plain"
    make("notify", "AFTER INSERT OR UPDATE OR DELETE", f"'{versioned}', '{entry.owner.value}'")
    if entry.audited:
        make("audit", "AFTER INSERT OR UPDATE OR DELETE", f"'{entry.owner.value}'")
    else:
        drop("audit")
    return statements


def install_triggers(connection: Connection, registry: TableRegistry = TABLES) -> int:
    """Make the database's triggers match the registry; returns the tables done."""
    existing = set(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    done = 0
    for entry in registry:
        if entry.name not in existing:  # a registry ahead of this database's schema
            continue
        for statement in trigger_statements(entry):
            connection.execute(text(statement))
        done += 1
    # Ours on tables the registry no longer names: they would send hints nobody reads.
    leftovers = connection.execute(
        text(
            "SELECT c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
            "AND p.proname = ANY(:functions)"
        ),
        {"functions": list(_OURS.values())},
    ).all()
    for table, trigger in leftovers:
        if table not in registry:
            connection.execute(text(f'DROP TRIGGER "{trigger}" ON "{table}"'))
    return done
