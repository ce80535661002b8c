"""Ownership and grants, made from the table registry and the roles.

Run after every upgrade to the head schema (``migrations/env.py``), after the triggers:
every table, sequence and function of ours is handed to the NOLOGIN ``dispatch_owner``;
then every group's rights are revoked and granted again from ``domain/tables.py``, so
the database always says exactly what the registry says (a right taken out of it is
taken from the server at the next upgrade). Per table:

- every group reads every table (``dispatch_viewer``, which all groups include);
- the entry's ``add``/``change``/``remove`` role may INSERT/UPDATE/DELETE, INSERT and
  UPDATE only on the columns a person writes: the ones the database records itself
  (who and when, versions, ids) are written by its defaults and triggers alone;
- the audit log and the status history are read only: the audit trigger writes the one
  as the owner, and status steps are added, never changed.

Rules that depend on the row (what a CSR may do to a booked visit, whose note is
whose) are triggers and row-level security from the migrations.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from dispatch_app.domain.roles import GROUPS, OWNER_GROUP, Role
from dispatch_app.domain.tables import TABLES, TableRegistry

# Written by the database alone (defaults and triggers), never by a client.
RECORDED_COLUMNS = frozenset(
    {
        "id",
        "version",
        "updated_at",
        "updated_by",
        "created_at",
        "created_by",
        "author",
        "uploaded_by",
        "uploaded_at",
        "changed_by",
        "changed_at",
    }
)

# Functions people call directly, or that defaults and policies call as them.
EVERYONE_CALLS = (
    "dispatch_editor()",
    "dispatch_my_role()",
    "dispatch_may(text)",
    "dispatch_refuse(text)",
    # Raises the books' and the outbox's refusals; the guards run as the person.
    "dispatch_books_refuse(text)",
    "dispatch_render(text, jsonb)",
    "dispatch_agreement_due_dates(bigint, date)",
)
CSR_CALLS = (
    "dispatch_lock_technicians(bigint[])",
    "dispatch_resend_message(bigint)",
)
WORKER_CALLS = (
    "dispatch_sms_reply(text, text, text, text, timestamp with time zone)",
    "dispatch_generate_agreement_visits(date, integer)",
)
# Agreements' due visits are booked by the worker, or by a manager who will not wait.
MANAGER_CALLS = ("dispatch_generate_agreement_visits(date, integer)",)
# Tables outside the registry the worker writes: its heartbeat (no screen shows a row,
# so no trigger tells anyone of a beat).
WORKER_TABLES = ("worker_heartbeats",)
ADMIN_CALLS = (
    "dispatch_add_user(text, text, text)",
    "dispatch_set_role(text, text)",
    "dispatch_disable_user(text)",
    "dispatch_enable_user(text)",
    "dispatch_reset_password(text, text)",
    "dispatch_people()",
)


def roles_exist(connection: Connection) -> bool:
    """Whether the server has the owner and group roles (migration 0007 made them)."""
    names = [OWNER_GROUP, *(role.group for role in GROUPS)]
    found = connection.execute(
        text("SELECT count(*) FROM pg_roles WHERE rolname = ANY(:names)"), {"names": names}
    ).scalar_one()
    return bool(found == len(names))


def _ours(connection: Connection) -> tuple[list[str], list[str], list[str]]:
    """The schema's tables, free-standing sequences and our functions, quoted."""
    tables = list(
        connection.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = current_schema() ORDER BY tablename"
            )
        ).scalars()
    )
    # Identity sequences follow their table's owner; only free-standing ones are moved.
    sequences = list(
        connection.execute(
            text(
                "SELECT quote_ident(c.relname) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema() "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
                "AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')) "
                "ORDER BY c.relname"
            )
        ).scalars()
    )
    functions = list(
        connection.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema() AND p.proname LIKE 'dispatch\\_%' "
                "ORDER BY 1"
            )
        ).scalars()
    )
    return tables, sequences, functions


def _columns(connection: Connection, table: str) -> list[str]:
    return list(
        connection.execute(
            text(
                "SELECT quote_ident(column_name) FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = :table "
                "ORDER BY ordinal_position"
            ),
            {"table": table},
        ).scalars()
    )


def grant_statements(connection: Connection, registry: TableRegistry = TABLES) -> list[str]:
    """What makes ownership and grants what the registry says, in order."""
    tables, sequences, functions = _ours(connection)
    everyone = [role.group for role in GROUPS]
    who = ", ".join(everyone)
    statements = [f"ALTER TABLE {table} OWNER TO {OWNER_GROUP}" for table in tables]
    statements += [f"ALTER SEQUENCE {sequence} OWNER TO {OWNER_GROUP}" for sequence in sequences]
    statements += [f"ALTER FUNCTION {function} OWNER TO {OWNER_GROUP}" for function in functions]
    if tables:
        statements.append(f"REVOKE ALL ON {', '.join(tables)} FROM PUBLIC, {who}")
        statements.append(f"GRANT SELECT ON {', '.join(tables)} TO {Role.VIEWER.group}")
    if sequences:
        statements.append(f"REVOKE ALL ON SEQUENCE {', '.join(sequences)} FROM PUBLIC, {who}")
        # Work order numbers come from a sequence the insert's default draws on.
        statements.append(f"GRANT USAGE ON SEQUENCE {', '.join(sequences)} TO {Role.CSR.group}")
    if functions:
        statements.append(f"REVOKE ALL ON FUNCTION {', '.join(functions)} FROM PUBLIC, {who}")
    present = {function.split("(")[0] for function in functions}
    for signature in EVERYONE_CALLS:
        if signature.split("(")[0] in present:
            statements.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {Role.VIEWER.group}")
    for signature in CSR_CALLS:
        if signature.split("(")[0] in present:
            statements.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {Role.CSR.group}")
    for signature in MANAGER_CALLS:
        if signature.split("(")[0] in present:
            statements.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {Role.MANAGER.group}")
    for signature in WORKER_CALLS:
        if signature.split("(")[0] in present:
            statements.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {Role.WORKER.group}")
    for table in WORKER_TABLES:
        if f'"{table}"' in tables or table in tables:
            statements.append(f'GRANT INSERT, UPDATE ON "{table}" TO {Role.WORKER.group}')
    for signature in ADMIN_CALLS:
        if signature.split("(")[0] in present:
            statements.append(f"GRANT EXECUTE ON FUNCTION {signature} TO {Role.ADMIN.group}")
    existing = {table.strip('"') for table in tables}
    for entry in registry:
        if entry.name not in existing:
            continue
        table, rights = f'"{entry.name}"', entry.rights
        columns = _columns(connection, entry.name)
        recorded = RECORDED_COLUMNS | entry.recorded
        written = [column for column in columns if column.strip('"') not in recorded]
        columns_written = ", ".join(written)
        if rights.add is not None:
            statements.append(f"GRANT INSERT ({columns_written}) ON {table} TO {rights.add.group}")
        if rights.change is not None:
            statements.append(
                f"GRANT UPDATE ({columns_written}) ON {table} TO {rights.change.group}"
            )
        if rights.remove is not None:
            statements.append(f"GRANT DELETE ON {table} TO {rights.remove.group}")
        if entry.worker_writes:
            worker = Role.WORKER.group
            statements.append(f"GRANT INSERT ({columns_written}) ON {table} TO {worker}")
            statements.append(f"GRANT UPDATE ({columns_written}) ON {table} TO {worker}")
    return statements


def install_grants(connection: Connection, registry: TableRegistry = TABLES) -> int:
    """Make ownership and grants match the registry; returns the statements run.

    Does nothing on a schema older than the roles (before migration 0007).
    """
    if not roles_exist(connection):
        return 0
    statements = grant_statements(connection, registry)
    for statement in statements:
        connection.execute(text(statement))
    return len(statements)
