"""Backing up the company database and restoring it: on demand, once a day on its own for
the embedded database, and a restore that replaces a company only when told to.

Backups are PostgreSQL custom-format dumps named by the day they were made
(``dispatch-2026-12-04.dump``). The data folder's ``backups/`` keeps the last
``KEEP_DAYS`` days of them. Before a restore replaces a company, what was there is saved
there too, so a restore of the wrong file can itself be undone.

Threading contract: everything here blocks (PostgreSQL's tools, the database); call it
in a worker thread (``asyncio.to_thread``) from an event loop. Nothing here reads the
computer's clock: callers hand in the moment.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import fasteners
from sqlalchemy import text

from dispatch_app import APP_NAME
from dispatch_app.config import describe_url
from dispatch_app.db import migrate
from dispatch_app.db.dump import DumpFile, dump_database, read_dump, replace_contents
from dispatch_app.db.engine import explain_connection_error, make_sync_engine
from dispatch_app.db.models import CHANGE_CHANNEL
from dispatch_app.errors import BackupError, ForeignDatabase, SchemaAhead, UserFacingError
from dispatch_app.services.database import migrate_now

log = logging.getLogger(__name__)

BACKUP_FOLDER_NAME = "backups"
KEEP_DAYS = 14
# dispatch-2026-12-04.dump, and for a second one that day dispatch-2026-12-04-162007.dump
_BACKUP_NAME = re.compile(r"^dispatch-(\d{4}-\d\d-\d\d)(-[A-Za-z0-9-]+)?\.dump$")
# Tables that hold no company of their own: the schema's revision, and the settings the
# migrations write.
_BOOKKEEPING_TABLES = frozenset({"alembic_version", "app_settings"})
# What a company is described by, in the order a person would name it.
_COUNTED = (("customers", "customer"), ("technicians", "technician"), ("work_orders", "work order"))


class RestoreRefused(UserFacingError):
    """A restore would replace a company without having been told to (exit code 2)."""


def backups_folder(data_dir: Path) -> Path:
    """``backups/`` in the data folder, created readable by this user alone."""
    folder = data_dir / BACKUP_FOLDER_NAME
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if sys.platform != "win32" and folder.stat().st_mode & 0o077:
            folder.chmod(0o700)  # a backup holds every customer's name and address
    except OSError as error:
        raise BackupError(
            f"The backup folder {folder} cannot be created ({error.strerror or error})."
        ) from None
    return folder


def backup_name(day: dt.date) -> str:
    return f"dispatch-{day.isoformat()}.dump"


def new_backup_path(folder: Path, moment: dt.datetime, *, note: str = "") -> Path:
    """A file name in ``folder`` for a backup made at ``moment`` that is not taken yet."""
    suffix = f"-{note}" if note else ""
    path = folder / f"dispatch-{moment.date().isoformat()}{suffix}.dump"
    if not path.exists():
        return path
    stem = f"dispatch-{moment:%Y-%m-%d-%H%M%S}{suffix}"
    path = folder / f"{stem}.dump"
    number = 2
    while path.exists():
        path = folder / f"{stem}-{number}.dump"
        number += 1
    return path


def dated_backups(folder: Path) -> list[tuple[dt.date, Path]]:
    """The backups in ``folder`` whose names say the day they were made, oldest first."""
    found = []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    for name in names:
        match = _BACKUP_NAME.match(name)
        if match is None:
            continue
        try:
            found.append((dt.date.fromisoformat(match.group(1)), folder / name))
        except ValueError:
            continue
    return sorted(found)


def human_size(size_bytes: int) -> str:
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    if size_bytes < 1_000_000:
        return f"{size_bytes / 1000:.0f} kB"
    if size_bytes < 1_000_000_000:
        return f"{size_bytes / 1_000_000:.1f} MB"
    return f"{size_bytes / 1_000_000_000:.2f} GB"


def back_up(url: str, target: Path) -> DumpFile:
    """Dump the database at ``url`` into ``target`` (replaced if it exists), checked."""
    dump = dump_database(url, target)
    if sys.platform != "win32":
        target.chmod(0o600)
    log.info("backed up %s to %s (%d bytes)", describe_url(url), target, dump.size_bytes)
    return dump


def database_name(url: str, *, embedded: bool) -> str:
    """'the embedded database' or 'the database at db.office:5432/dispatch'."""
    return "the embedded database" if embedded else f"the database at {describe_url(url)}"


def sentence_start(words: str) -> str:
    return words[:1].upper() + words[1:]


def backup_sentence(url: str, dump: DumpFile, *, embedded: bool) -> str:
    where = database_name(url, embedded=embedded)
    return (
        f"Backed up {where} to {dump.path} ({human_size(dump.size_bytes)}, "
        f"{dump.entries} items, checked)."
    )


def prune_backups(folder: Path, today: dt.date, keep_days: int = KEEP_DAYS) -> list[Path]:
    """Delete the dated backups older than the last ``keep_days`` days; return them."""
    oldest_kept = today - dt.timedelta(days=keep_days - 1)
    removed = []
    for day, path in dated_backups(folder):
        if day < oldest_kept:
            try:
                path.unlink()
            except OSError as error:
                log.warning("could not delete the old backup %s: %s", path, error)
                continue
            removed.append(path)
    return removed


def daily_backup(
    url: str, folder: Path, today: dt.date, *, keep_days: int = KEEP_DAYS
) -> DumpFile | None:
    """Today's backup, unless one was made today already; then the old ones go.

    Old backups are deleted only after today's is safely written: a backup that fails
    never costs the ones before it. Two copies of the app starting at once make one.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(folder / ".backup.lock")):
        if any(day == today for day, _path in dated_backups(folder)):
            return None
        dump = back_up(url, folder / backup_name(today))
        for path in prune_backups(folder, today, keep_days):
            log.info("deleted the backup %s, older than %d days", path.name, keep_days)
        return dump


# -- restoring ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanyContents:
    """What a database holds, as far as a restore needs to know."""

    empty: bool  # no company data: nothing a restore would lose
    ours: bool  # this app's schema (or nothing at all)
    revision: str | None
    server_version_num: int
    counts: dict[str, int] = field(default_factory=dict)  # customers, technicians, work orders
    tables: int = 0

    def describe(self) -> str:
        """'297 customers, 15 technicians and 579 work orders', or what else is there."""
        if not self.ours:
            return f"{self.tables} tables of another application"
        if self.empty:
            return "no company data"
        parts = []
        for table, noun in _COUNTED:
            number = self.counts.get(table, 0)
            parts.append(f"{number:,} {noun}{'' if number == 1 else 's'}")
        return ", ".join(parts[:-1]) + f" and {parts[-1]}"


def company_contents(url: str) -> CompanyContents:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as connection:
            version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
            state = migrate.schema_state(connection)
            # Every schema counts: a restore clears them all.
            tables = connection.execute(
                text(
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
                    "n.nspname = 'public' AND c.relname = ANY(:bookkeeping) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' "
                    "AND n.nspname NOT LIKE 'pg\\_%'"
                ),
                {"bookkeeping": sorted(_BOOKKEEPING_TABLES)},
            ).all()
            company_tables = [name for name, bookkeeping in tables if not bookkeeping]
            if not company_tables and state.current is None:
                return CompanyContents(True, True, None, version, tables=len(tables))
            if not state.ours:
                return CompanyContents(False, False, state.current, version, tables=len(tables))
            counts = {
                table: int(
                    connection.execute(text(f"SELECT count(*) FROM public.{table}")).scalar_one()
                )
                for table, _noun in _COUNTED
                if f"public.{table}" in company_tables
            }
            holding = [
                name
                for name in company_tables
                if connection.execute(text(f"SELECT EXISTS (SELECT FROM {name})")).scalar()
            ]
    except UserFacingError:
        raise
    except Exception as error:
        raise explain_connection_error(error, url) from None
    finally:
        engine.dispose()
    return CompanyContents(
        empty=not holding,
        ours=True,
        revision=state.current,
        server_version_num=version,
        counts=counts,
        tables=len(tables),
    )


def check_restorable(dump: DumpFile) -> None:
    """Refuse, before anything is touched, a dump this version of the app cannot use."""
    if dump.revision is None:
        raise BackupError(f"{dump.path} is a PostgreSQL backup, but not of a {APP_NAME} database.")
    if dump.revision not in migrate.known_revisions():
        raise SchemaAhead(
            f"The backup {dump.path.name} has schema {dump.revision}, newer than this app "
            f"knows ({migrate.head_revision()}); restore it with the newer version of the app."
        )


def open_backup(path: Path) -> DumpFile:
    """Read a backup file and check that this app can restore it."""
    dump = read_dump(path)
    check_restorable(dump)
    return dump


@dataclass(frozen=True, slots=True)
class RestoreReport:
    dump: DumpFile
    before: CompanyContents
    after: CompanyContents
    saved_before: DumpFile | None  # what the database held, when there was anything
    where: str

    def sentence(self) -> str:
        text = f"Restored {self.dump.path.name} into {self.where}: {self.after.describe()}"
        if self.after.revision != self.dump.revision:
            text += f" (schema {self.dump.revision} brought up to {self.after.revision})"
        text += "."
        if self.saved_before is not None:
            text += f" What it held before is saved in {self.saved_before.path}."
        return text


def restore_backup(
    url: str,
    dump: DumpFile,
    *,
    replace: bool,
    embedded: bool,
    safety_folder: Path,
    moment: dt.datetime,
) -> RestoreReport:
    """Replace the database's contents with ``dump`` and bring its schema up to date.

    A database holding a company is replaced only with ``replace``, and only after its
    contents are saved in ``safety_folder``. The restore is one transaction: if it fails,
    the database is as it was. Every workstation re-reads its day afterwards.
    """
    check_restorable(dump)
    where = database_name(url, embedded=embedded)
    before = company_contents(url)
    if not before.ours:
        raise ForeignDatabase(
            f"The database at {describe_url(url)} belongs to another application "
            f"({before.describe()}); a backup is restored only into this app's own database."
        )
    saved_before = None
    if not before.empty:
        if not replace:
            raise RestoreRefused(
                f"{sentence_start(where)} already holds a company ({before.describe()}); "
                "add --replace to replace it with the backup."
            )
        saved_before = back_up(url, new_backup_path(safety_folder, moment, note="before-restore"))
    replace_contents(
        url,
        dump.path,
        server_version_num=before.server_version_num,
        keep_owners=not embedded,
    )
    migrate_now(url)
    _announce_restore(url)
    after = company_contents(url)
    log.info("restored %s into %s", dump.path, where)
    return RestoreReport(dump, before, after, saved_before, where)


def _announce_restore(url: str) -> None:
    """Tell every workstation listening to read its day again: a restore writes rows
    without the triggers that announce each change."""
    engine = make_sync_engine(url)
    try:
        with engine.begin() as connection:
            hint = json.dumps({"table": "app_settings", "id": 0, "op": "restore"})
            connection.execute(
                text("SELECT pg_notify(:channel, :hint)"), {"channel": CHANGE_CHANNEL, "hint": hint}
            )
    except Exception as error:  # the restore itself is done; a missed hint is not fatal
        log.warning("could not announce the restore: %s", error)
    finally:
        engine.dispose()
