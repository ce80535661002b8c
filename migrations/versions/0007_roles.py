"""People and roles: group roles, identity from the login, an audit nobody can rewrite.

Creates (once per server, as they are server-wide) the NOLOGIN owner role
``dispatch_owner`` and the groups ``dispatch_viewer`` < ``dispatch_csr`` <
``dispatch_dispatcher`` < ``dispatch_manager`` < ``dispatch_admin`` (each a member of
the one before, so rights pass up) and ``dispatch_worker`` (a viewer). The grants per
table and column are made from the table registry after every upgrade
(``db.grants``); this migration adds what is code:

- ``dispatch_editor()`` names the login (``session_user``); only a superuser session (the
  single-PC database's one owner, or a server's administrator) may name a person with
  ``dispatch.editor``, since only it could write any name anyway;
- ``dispatch_my_role()``, ``dispatch_may(role)`` and the guards for what a CSR may do
  per row: book a visit nobody has booked yet, never move or reassign a booked one,
  never reopen finished work nor move work through its day;
- row-level security on notes: a person edits or removes only their own notes (a
  manager any), forced on the owner too;
- ``dispatch_audit`` as ``SECURITY DEFINER``: every table's changes, creator columns
  included, into ``audit_log``, which people may only read;
- the people functions an admin calls (``SECURITY DEFINER``, fixed ``search_path``):
  add a login to one group, change its group, disable, enable, reset its password
  (given as a SCRAM verifier, never in clear), list.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of ``domain/roles.py`` (a migration must not change when the code does).
GROUPS = ("viewer", "csr", "dispatcher", "manager", "admin", "worker")
MEMBER_OF = {
    "csr": "viewer",
    "dispatcher": "csr",
    "manager": "dispatcher",
    "admin": "manager",
    "worker": "viewer",
}
PERSON_CONNECTION_LIMIT = 6
STATEMENT_TIMEOUT = "30s"
IDLE_IN_TRANSACTION_TIMEOUT = "60s"

ROLES = """
DO $$
DECLARE
    grp text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dispatch_owner') THEN
        CREATE ROLE dispatch_owner NOLOGIN;
    END IF;
    -- The people functions run as the owner: it creates logins and ends their sessions.
    ALTER ROLE dispatch_owner NOLOGIN CREATEROLE;
    GRANT pg_signal_backend TO dispatch_owner;
    FOREACH grp IN ARRAY ARRAY[{groups}] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dispatch_' || grp) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', 'dispatch_' || grp);
        END IF;
    END LOOP;
END
$$
"""

# The login a change is recorded against. A client's ``dispatch.editor`` is believed
# only from a superuser session, which could write any name anyway.
EDITOR = """
CREATE OR REPLACE FUNCTION dispatch_editor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting('is_superuser') = 'on'
        THEN coalesce(nullif(current_setting('dispatch.editor', true), ''), session_user::text)
        ELSE session_user::text END
$$
"""

OLD_EDITOR = """
CREATE OR REPLACE FUNCTION dispatch_editor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('dispatch.editor', true), ''), session_user::text)
$$
"""

# Membership is the login's (``session_user``): ``SET ROLE`` cannot lend a right.
MY_ROLE = """
CREATE OR REPLACE FUNCTION dispatch_my_role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN current_setting('is_superuser') = 'on' THEN 'owner'
        WHEN pg_has_role(session_user, 'dispatch_owner', 'MEMBER') THEN 'owner'
        WHEN pg_has_role(session_user, 'dispatch_admin', 'USAGE') THEN 'admin'
        WHEN pg_has_role(session_user, 'dispatch_manager', 'USAGE') THEN 'manager'
        WHEN pg_has_role(session_user, 'dispatch_dispatcher', 'USAGE') THEN 'dispatcher'
        WHEN pg_has_role(session_user, 'dispatch_csr', 'USAGE') THEN 'csr'
        WHEN pg_has_role(session_user, 'dispatch_worker', 'USAGE') THEN 'worker'
        WHEN pg_has_role(session_user, 'dispatch_viewer', 'USAGE') THEN 'viewer'
    END
$$
"""

MAY = """
CREATE OR REPLACE FUNCTION dispatch_may(needed text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT current_setting('is_superuser') = 'on'
        OR pg_has_role(session_user, 'dispatch_owner', 'MEMBER')
        OR pg_has_role(session_user, 'dispatch_' || needed, 'USAGE')
$$
"""

# Refuses with the sentence the app shows: "Your role (CSR) may not reopen finished work."
REFUSE = """
CREATE OR REPLACE FUNCTION dispatch_refuse(what text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    label text := CASE dispatch_my_role()
        WHEN 'viewer' THEN 'Viewer' WHEN 'worker' THEN 'Worker' WHEN 'csr' THEN 'CSR'
        WHEN 'dispatcher' THEN 'Dispatcher' WHEN 'manager' THEN 'Manager'
        WHEN 'admin' THEN 'Admin' WHEN 'owner' THEN 'Owner' ELSE 'none' END;
BEGIN
    RAISE EXCEPTION USING ERRCODE = '42501',
        MESSAGE = format('Your role (%s) may not %s.', label, what);
END
$$
"""

# A CSR books: a work order and its first visit, with a time and a first technician.
# Moving or reassigning a booked visit, and moving work through its day, is a
# dispatcher's; reopening finished work too. Ending work early (the customer cancels on
# the phone) is a CSR's.
GUARD_WORK = """
CREATE OR REPLACE FUNCTION dispatch_guard_work() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    finished text[] := CASE WHEN TG_TABLE_NAME = 'visits'
        THEN ARRAY['completed', 'cancelled', 'no_show']
        ELSE ARRAY['completed', 'invoiced', 'closed', 'cancelled', 'no_show'] END;
BEGIN
    IF dispatch_may('dispatcher') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        -- New work starts at the start: booked or not, never already under way or done.
        IF NEW.status NOT IN ('new', 'unscheduled', 'scheduled') THEN
            PERFORM dispatch_refuse('change the status of work under way');
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF OLD.status = ANY (finished) THEN
            PERFORM dispatch_refuse('reopen finished work');
        ELSIF NOT (NEW.status IN ('cancelled', 'no_show')
                   OR (OLD.status IN ('new', 'unscheduled') AND NEW.status = 'scheduled')) THEN
            PERFORM dispatch_refuse('change the status of work under way');
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'visits' THEN
        IF (NEW.starts, NEW.ends, NEW.work_order_id)
                IS DISTINCT FROM (OLD.starts, OLD.ends, OLD.work_order_id)
           AND EXISTS (SELECT 1 FROM visit_technicians c WHERE c.visit_id = OLD.id) THEN
            PERFORM dispatch_refuse('schedule, move or reassign booked visits');
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""

GUARD_CREW = """
CREATE OR REPLACE FUNCTION dispatch_guard_crew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF dispatch_may('dispatcher') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.visit_id, NEW.technician_id)
            IS DISTINCT FROM (OLD.visit_id, OLD.technician_id) THEN
        PERFORM dispatch_refuse('schedule, move or reassign booked visits');
    END IF;
    IF EXISTS (SELECT 1 FROM visit_technicians c
               WHERE c.visit_id = NEW.visit_id AND c.id <> NEW.id) THEN
        PERFORM dispatch_refuse('schedule, move or reassign booked visits');
    END IF;
    RETURN NEW;
END
$$
"""

GUARDS = (
    ("work_orders", "BEFORE INSERT OR UPDATE OF status", "dispatch_guard_work"),
    ("visits", "BEFORE INSERT OR UPDATE", "dispatch_guard_work"),
    ("visit_technicians", "BEFORE INSERT OR UPDATE", "dispatch_guard_crew"),
)

# A placement holds its technicians' rows until the transaction ends, so two bookings for
# the same people happen one at a time. Locking a row needs the right to update it, which
# a CSR booking a first technician does not have on technicians: the owner locks them,
# for callers who may book (a viewer cannot hold up the board's placements).
LOCK_TECHNICIANS = """
CREATE OR REPLACE FUNCTION dispatch_lock_technicians(ids bigint[]) RETURNS SETOF bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF NOT dispatch_may('csr') THEN
        PERFORM dispatch_refuse('schedule, move or reassign booked visits');
    END IF;
    RETURN QUERY SELECT t.id FROM technicians t WHERE t.id = ANY (ids)
        ORDER BY t.id FOR UPDATE;
END
$$
"""

NOTES_POLICIES = """
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_read ON notes FOR SELECT USING (true);
CREATE POLICY notes_add ON notes FOR INSERT WITH CHECK (author = dispatch_editor());
CREATE POLICY notes_edit ON notes FOR UPDATE
    USING (author = dispatch_editor() OR dispatch_may('manager'))
    WITH CHECK (author = dispatch_editor() OR dispatch_may('manager'));
CREATE POLICY notes_remove ON notes FOR DELETE
    USING (author = dispatch_editor() OR dispatch_may('manager'));
"""

DROP_NOTES_POLICIES = """
DROP POLICY IF EXISTS notes_read ON notes;
DROP POLICY IF EXISTS notes_add ON notes;
DROP POLICY IF EXISTS notes_edit ON notes;
DROP POLICY IF EXISTS notes_remove ON notes;
ALTER TABLE notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE notes DISABLE ROW LEVEL SECURITY;
"""

# Every table's changes, creator columns included; a row of no work order (a customer)
# or of one being deleted is recorded without one. Runs as the owner: people may only
# read ``audit_log``. ``changed_by`` is the login (``dispatch_editor()``), and the time
# the database's.
AUDIT = """
CREATE OR REPLACE FUNCTION dispatch_audit() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    -- Bookkeeping and bulk never make an audit line.
    skipped text[] := ARRAY['version', 'updated_at', 'updated_by', 'data', 'thumbnail'];
    before jsonb := '{{}}'::jsonb;
    after jsonb := '{{}}'::jsonb;
    touched jsonb;
    changed jsonb := '{{}}'::jsonb;
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
    IF changed = '{{}}'::jsonb THEN
        RETURN NULL;
    END IF;
    touched := CASE WHEN TG_OP = 'DELETE' THEN before ELSE after END;
    IF kind = 'self' THEN
        order_id := (touched ->> 'id')::bigint;
    ELSIF kind = 'visit' THEN
        SELECT v.work_order_id INTO order_id FROM visits v
        WHERE v.id = (touched ->> 'visit_id')::bigint;
    ELSIF kind = 'work_order_id' THEN
        order_id := (touched ->> 'work_order_id')::bigint;
    END IF;
    IF order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM work_orders WHERE id = order_id) THEN
        order_id := NULL;
    END IF;
    INSERT INTO audit_log (work_order_id, table_name, row_id, action, changes,
                           changed_by, changed_at)
    VALUES (order_id, TG_TABLE_NAME, (touched ->> 'id')::bigint, lower(TG_OP), changed,
            dispatch_editor(), now());
    RETURN NULL;
END
$$
"""

# -- people -------------------------------------------------------------------------
# Called by an admin (``python main.py admin`` and the People window); each checks the
# caller, touches only logins of our groups, and takes a password as a SCRAM verifier
# made on the client, so the password itself never reaches the server, a log or
# ``pg_stat_activity``.
PEOPLE = """
CREATE OR REPLACE FUNCTION dispatch_check_person(login text, new_login boolean)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF NOT dispatch_may('admin') THEN
        PERFORM dispatch_refuse('add or change users and technicians');
    END IF;
    IF new_login THEN
        IF login IS NULL OR login !~ '^[a-z][a-z0-9_.]{{1,40}}$'
           OR login LIKE 'dispatch\\_%' OR login LIKE 'pg\\_%' THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = format('%s cannot be a user name.', quote_literal(login));
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
            RAISE EXCEPTION USING ERRCODE = '42710',
                MESSAGE = format('There is already a user named %s.', login);
        END IF;
    ELSIF NOT EXISTS (
        SELECT 1 FROM pg_roles r
        JOIN pg_auth_members m ON m.member = r.oid
        JOIN pg_roles g ON g.oid = m.roleid
        WHERE r.rolname = login AND NOT r.rolsuper AND r.rolname NOT LIKE 'dispatch\\_%'
          AND g.rolname = ANY (ARRAY[{groups}])
    ) THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = format('There is no user named %s.', coalesce(login, '(none)'));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION dispatch_check_group(role_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF 'dispatch_' || role_name = ANY (ARRAY[{groups}]) THEN
        RETURN 'dispatch_' || role_name;
    END IF;
    RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('%s is not a role.', coalesce(quote_literal(role_name), '(none)'));
END
$$;

CREATE OR REPLACE FUNCTION dispatch_check_verifier(verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF verifier IS NULL OR verifier !~ '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        -- Never echo it: it might be a password sent in clear by mistake.
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = 'A password must reach the server as a SCRAM-SHA-256 verifier.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION dispatch_add_user(login text, role_name text, verifier text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    grp text := dispatch_check_group(role_name);
BEGIN
    PERFORM dispatch_check_person(login, true);
    PERFORM dispatch_check_verifier(verifier);
    EXECUTE format('CREATE ROLE %I LOGIN INHERIT CONNECTION LIMIT {limit} PASSWORD %L',
                   login, verifier);
    EXECUTE format('GRANT %I TO %I', grp, login);
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', login, '{statement_timeout}');
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L',
                   login, '{idle_timeout}');
END
$$;

CREATE OR REPLACE FUNCTION dispatch_set_role(login text, role_name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    grp text := dispatch_check_group(role_name);
    old text;
BEGIN
    PERFORM dispatch_check_person(login, false);
    FOR old IN SELECT g.rolname FROM pg_roles r
        JOIN pg_auth_members m ON m.member = r.oid
        JOIN pg_roles g ON g.oid = m.roleid
        WHERE r.rolname = login AND g.rolname = ANY (ARRAY[{groups}]) LOOP
        EXECUTE format('REVOKE %I FROM %I', old, login);
    END LOOP;
    EXECUTE format('GRANT %I TO %I', grp, login);
END
$$;

CREATE OR REPLACE FUNCTION dispatch_disable_user(login text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    ended integer := 0;
    session integer;
BEGIN
    PERFORM dispatch_check_person(login, false);
    EXECUTE format('ALTER ROLE %I NOLOGIN', login);
    -- Their open sessions end now, not whenever they next restart. (A loop: in one
    -- query the planner may call pg_terminate_backend before filtering the rows.)
    FOR session IN SELECT a.pid FROM pg_stat_activity a
                   WHERE a.usename = login AND a.pid <> pg_backend_pid() LOOP
        IF pg_terminate_backend(session) THEN
            ended := ended + 1;
        END IF;
    END LOOP;
    RETURN ended;
END
$$;

CREATE OR REPLACE FUNCTION dispatch_enable_user(login text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    PERFORM dispatch_check_person(login, false);
    EXECUTE format('ALTER ROLE %I LOGIN', login);
END
$$;

CREATE OR REPLACE FUNCTION dispatch_reset_password(login text, verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    PERFORM dispatch_check_person(login, false);
    PERFORM dispatch_check_verifier(verifier);
    EXECUTE format('ALTER ROLE %I PASSWORD %L', login, verifier);
END
$$;

CREATE OR REPLACE FUNCTION dispatch_people()
RETURNS TABLE (login text, role_name text, can_login boolean, connection_limit integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF NOT dispatch_may('admin') THEN
        PERFORM dispatch_refuse('add or change users and technicians');
    END IF;
    RETURN QUERY
    SELECT r.rolname::text, min(substr(g.rolname, 10))::text, r.rolcanlogin, r.rolconnlimit
    FROM pg_roles r
    JOIN pg_auth_members m ON m.member = r.oid
    JOIN pg_roles g ON g.oid = m.roleid
    WHERE g.rolname = ANY (ARRAY[{groups}]) AND r.rolname NOT LIKE 'dispatch\\_%'
      AND NOT r.rolsuper
    GROUP BY r.rolname, r.rolcanlogin, r.rolconnlimit
    ORDER BY r.rolname;
END
$$;
"""

AUDITED_BEFORE = (
    "work_orders", "visits", "visit_technicians", "line_items", "notes", "photos",
    "time_entries",
)  # fmt: skip

PEOPLE_FUNCTIONS = (
    "dispatch_check_person(text, boolean)",
    "dispatch_check_group(text)",
    "dispatch_check_verifier(text)",
    "dispatch_add_user(text, text, text)",
    "dispatch_set_role(text, text)",
    "dispatch_disable_user(text)",
    "dispatch_enable_user(text)",
    "dispatch_reset_password(text, text)",
    "dispatch_people()",
)

# As 0006 made it, for a downgrade.
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


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def upgrade() -> None:
    connection = op.get_bind()
    schema = connection.execute(text("SELECT quote_ident(current_schema())")).scalar_one()
    op.execute(ROLES.replace("{groups}", _quoted(GROUPS)))
    for group, below in MEMBER_OF.items():
        op.execute(f"GRANT dispatch_{below} TO dispatch_{group}")
    # From PostgreSQL 16 a role that may create roles grants only the groups it holds
    # with ADMIN OPTION: the people functions (run as the owner) grant these.
    for group in GROUPS:
        op.execute(f"GRANT dispatch_{group} TO dispatch_owner WITH ADMIN OPTION")
    # Whoever runs the upgrade (a superuser, or a role that may create roles) hands the
    # tables to the owner role afterwards (``db.grants``), which needs its membership.
    superuser = connection.execute(text("SELECT current_setting('is_superuser')")).scalar_one()
    if superuser != "on":
        op.execute("GRANT dispatch_owner TO CURRENT_USER")
    # Only the company's people (and the server's administrators) connect at all.
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', "
        "current_database()); EXECUTE format('GRANT CONNECT ON DATABASE %I TO "
        "dispatch_viewer', current_database()); END $$"
    )
    for statement in (EDITOR, MY_ROLE, MAY, REFUSE, GUARD_WORK, GUARD_CREW):
        op.execute(statement)
    for table, when, function in GUARDS:
        op.execute(
            f"CREATE TRIGGER {table}_guard {when} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    op.execute(NOTES_POLICIES)
    # Status steps name the login too, now that the app no longer says who it is.
    op.execute("ALTER TABLE status_history ALTER COLUMN changed_by SET DEFAULT dispatch_editor()")
    op.execute(AUDIT.format(schema=schema))
    op.execute(LOCK_TECHNICIANS.format(schema=schema))
    # Nobody but the owner creates objects where the privileged functions look for
    # theirs (PostgreSQL 15's default; older servers let everyone).
    op.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")
    groups = _quoted([f"dispatch_{group}" for group in GROUPS])
    op.execute(
        PEOPLE.format(
            schema=schema,
            groups=groups,
            limit=PERSON_CONNECTION_LIMIT,
            statement_timeout=STATEMENT_TIMEOUT,
            idle_timeout=IDLE_IN_TRANSACTION_TIMEOUT,
        )
    )


def downgrade() -> None:
    for function in PEOPLE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute(DROP_NOTES_POLICIES)
    op.execute("ALTER TABLE status_history ALTER COLUMN changed_by SET DEFAULT session_user")
    for table, _when, _function in GUARDS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
    for function in (
        "dispatch_lock_technicians(bigint[])",
        "dispatch_guard_work()",
        "dispatch_guard_crew()",
        "dispatch_refuse(text)",
        "dispatch_may(text)",
        "dispatch_my_role()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute(OLD_EDITOR)
    op.execute(OLD_AUDIT)  # replacing also makes it run as the caller again
    # 0006 audited only a work order's own tables.
    op.execute(
        "DO $$ DECLARE t record; BEGIN FOR t IN SELECT c.relname, g.tgname FROM pg_trigger g "
        "JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid "
        "WHERE p.proname = 'dispatch_audit' AND NOT (c.relname = ANY (ARRAY["
        + _quoted(AUDITED_BEFORE)
        + "])) LOOP EXECUTE format('DROP TRIGGER %I ON %I', t.tgname, t.relname); "
        "END LOOP; END $$"
    )
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO PUBLIC', "
        "current_database()); END $$"
    )
    # The roles are the server's, and other databases on it may use them: they stay.
