"""Backups as an office relies on them: what is restored is what was saved, a company is
never replaced unasked, a bad file changes nothing, and the embedded database keeps two
weeks of daily backups by itself."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy.engine import make_url

from dispatch_app.config import libpq_url
from dispatch_app.db import migrate
from dispatch_app.db.dump import dump_database, read_dump
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.models import CHANGE_CHANNEL
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.errors import BackupError
from dispatch_app.services.backup import daily_backup
from dispatch_app.services.database import migrate_now
from tests.companies import small_company
from tests.test_cli import ROOT, one_sentence, run_main

WAIT_S = 60.0


def contents(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, and where every sequence stands: the whole company."""
    found: dict[str, list[tuple[object, ...]]] = {}
    with psycopg.connect(libpq_url(url)) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            found[table] = sorted(rows, key=repr)
        for (sequence,) in db.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            found[f"sequence {sequence}"] = db.execute(
                f'SELECT last_value FROM "{sequence}"'
            ).fetchall()
    return found


def change_the_company(url: str) -> None:
    """What a day's work after the backup does: a renamed customer, a new technician."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("UPDATE customers SET name = 'Renamed After The Backup'")
        db.execute(
            "INSERT INTO technicians (name, trade, colour) "
            "VALUES ('Hired Later', 'hvac', '#000000')"
        )


def back_up(url: str, backup: Path) -> None:
    made = run_main("--database-url", url, "db", "backup", str(backup), data_dir=backup.parent)
    assert made.returncode == 0, made.stderr


def technician_names(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as db:
        return {name for (name,) in db.execute("SELECT name FROM technicians").fetchall()}


@pytest.fixture
def company(db_url: str) -> str:
    small_company(db_url)
    return db_url


# -- a shared database, through the command line -----------------------------------------


def test_backup_change_restore_gives_back_what_was_saved(company: str, tmp_path: Path) -> None:
    saved = contents(company)
    backup = tmp_path / "office.dump"

    made = run_main("--database-url", company, "db", "backup", str(backup), data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"to {backup} (" in made.stdout and "checked" in made.stdout
    change_the_company(company)
    assert contents(company) != saved

    with psycopg.connect(libpq_url(company), autocommit=True) as workstation:
        workstation.execute(f"LISTEN {CHANGE_CHANNEL}")
        restored = run_main(
            "--database-url",
            company,
            "db",
            "restore",
            "--replace",
            "--yes",
            str(backup),
            data_dir=tmp_path,
        )
        hints = [json.loads(n.payload) for n in workstation.notifies(timeout=5, stop_after=1)]

    assert restored.returncode == 0, restored.stderr
    assert "Restored office.dump" in restored.stdout
    assert contents(company) == saved
    # Every workstation hears of it, and reads its whole day again (app_settings does that).
    assert hints == [{"table": "app_settings", "id": 0, "op": "restore"}]
    # What the restore replaced was saved first, and is itself a backup.
    saved_before = list((tmp_path / "backups").glob("dispatch-*-before-restore.dump"))
    assert len(saved_before) == 1
    assert read_dump(saved_before[0]).revision == migrate.head_revision()


def test_a_company_is_not_replaced_without_replace_and_yes(company: str, tmp_path: Path) -> None:
    backup = tmp_path / "office.dump"
    back_up(company, backup)
    change_the_company(company)
    changed = contents(company)

    plain = run_main("--database-url", company, "db", "restore", str(backup), data_dir=tmp_path)
    no_terminal = run_main(
        "--database-url", company, "db", "restore", "--replace", str(backup), data_dir=tmp_path
    )

    assert plain.returncode == 2
    company_now = "1 customer, 4 technicians and 4 work orders"
    assert f"already holds a company ({company_now})" in one_sentence(plain.stderr)
    assert "--replace" in one_sentence(plain.stderr)
    assert no_terminal.returncode == 2
    assert "add --yes" in one_sentence(no_terminal.stderr)
    assert contents(company) == changed
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_replace_asks_on_a_terminal_and_no_means_no(company: str, tmp_path: Path) -> None:
    import pty

    backup = tmp_path / "office.dump"
    back_up(company, backup)
    change_the_company(company)
    changed = contents(company)

    restore = ["db", "restore", "--replace", str(backup)]

    def answer(reply: bytes) -> subprocess.CompletedProcess[str]:
        keyboard, terminal = pty.openpty()
        environment = {**os.environ, "DISPATCH_DATA_DIR": str(tmp_path)}
        environment.pop("DISPATCH_DATABASE_URL", None)
        try:
            child = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "--database-url", company, *restore],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env=environment,
            )
            os.write(keyboard, reply)
            out, err = child.communicate(timeout=120)
        finally:
            os.close(terminal)
            os.close(keyboard)
        return subprocess.CompletedProcess(child.args, child.returncode, out, err)

    declined = answer(b"no\n")
    assert declined.returncode == 1, declined.stderr
    assert "holds 1 customer, 4 technicians and 4 work orders" in declined.stdout
    assert "Nothing was restored." in declined.stdout
    assert contents(company) == changed

    accepted = answer(b"yes\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Hired Later" not in technician_names(company)


def test_a_backup_goes_into_an_empty_database_without_asking(
    company: str, scratch_server: ScratchServer, tmp_path: Path
) -> None:
    backup = tmp_path / "office.dump"
    back_up(company, backup)

    with scratch_server.database() as fresh:
        restored = run_main(
            "--database-url", fresh, "db", "restore", str(backup), data_dir=tmp_path
        )

        assert restored.returncode == 0, restored.stderr
        assert "1 customer, 3 technicians and 4 work orders" in restored.stdout
        assert contents(fresh) == contents(company)


def test_an_older_backup_is_brought_up_to_the_current_schema(
    scratch_server: ScratchServer, tmp_path: Path
) -> None:
    older = "0003"
    backup = tmp_path / "older.dump"
    with scratch_server.database() as old:
        engine = make_sync_engine(old)
        try:
            migrate.upgrade(engine, older)
        finally:
            engine.dispose()
        with psycopg.connect(libpq_url(old)) as db:
            db.execute(
                "INSERT INTO technicians (name, trade, colour) "
                "VALUES ('Old Hand', 'hvac', '#111111')"
            )
        back_up(old, backup)

    with scratch_server.database() as fresh:
        restored = run_main(
            "--database-url", fresh, "db", "restore", str(backup), data_dir=tmp_path
        )
        current = run_main("--database-url", fresh, "db", "current", data_dir=tmp_path)

        assert restored.returncode == 0, restored.stderr
        assert f"schema {older} brought up to {migrate.head_revision()}" in restored.stdout
        assert "up to date" in current.stdout
        assert technician_names(fresh) == {"Old Hand"}


def _truncated(backup: Path) -> Path:
    """The backup with its last tables' data cut off: its table of contents still reads
    (the file looks fine), and the restore fails only when it reaches the end."""
    whole = backup.read_bytes()
    cut = backup.with_name("truncated.dump")
    for keep in (0.9, 0.8, 0.7):
        cut.write_bytes(whole[: int(len(whole) * keep)])
        with suppress(BackupError):
            if read_dump(cut).revision is not None:
                return cut
    raise AssertionError("no cut of the backup kept its table of contents")


def _text_file(backup: Path) -> Path:
    text = backup.with_name("notes.dump")
    text.write_text("Not a backup at all.\n")
    return text


def _another_applications(backup: Path, scratch: ScratchServer) -> Path:
    with scratch.database() as other:
        with psycopg.connect(libpq_url(other)) as db:
            db.execute("CREATE TABLE invoices (id serial PRIMARY KEY, total numeric)")
        return dump_database(other, backup.with_name("other.dump")).path


def _from_a_newer_app(backup: Path, scratch: ScratchServer) -> Path:
    with scratch.database() as newer:
        migrate_now(newer)
        with psycopg.connect(libpq_url(newer)) as db:
            db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        return dump_database(newer, backup.with_name("newer.dump")).path


@pytest.mark.parametrize(
    ("make_file", "code", "words"),
    [
        (_truncated, 10, "nothing was changed"),
        (_text_file, 10, "is not a backup made by"),
        (_another_applications, 10, "not of a Dispatch Board database"),
        (_from_a_newer_app, 5, "newer than this app knows"),
    ],
    ids=["truncated", "text", "another-application", "newer-schema"],
)
def test_a_file_that_cannot_be_restored_changes_nothing(
    company: str, scratch_server: ScratchServer, tmp_path: Path, make_file, code, words
) -> None:
    with psycopg.connect(libpq_url(company)) as db:
        # Enough data that the table of contents is the smaller part of the file.
        for _ in range(5):  # notes hold at most 100,000 characters each
            db.execute(
                "INSERT INTO notes (work_order_id, body) SELECT min(id), %s FROM work_orders",
                (secrets.token_hex(40_000),),
            )
    backup = tmp_path / "office.dump"
    back_up(company, backup)
    change_the_company(company)
    changed = contents(company)
    if make_file in (_another_applications, _from_a_newer_app):
        bad = make_file(backup, scratch_server)
    else:
        bad = make_file(backup)

    result = run_main(
        "--database-url",
        company,
        "db",
        "restore",
        "--replace",
        "--yes",
        str(bad),
        data_dir=tmp_path,
    )

    assert result.returncode == code, result.stderr
    assert words in one_sentence(result.stderr)
    assert contents(company) == changed


def test_restore_refuses_another_applications_database(
    empty_db_url: str, tmp_path: Path, company: str
) -> None:
    backup = tmp_path / "office.dump"
    back_up(company, backup)
    with psycopg.connect(libpq_url(empty_db_url)) as db:
        db.execute("CREATE TABLE invoices (id serial PRIMARY KEY, total numeric)")

    result = run_main(
        "--database-url",
        empty_db_url,
        "db",
        "restore",
        "--replace",
        "--yes",
        str(backup),
        data_dir=tmp_path,
    )

    assert result.returncode == 4
    assert "belongs to another application" in one_sentence(result.stderr)
    with psycopg.connect(libpq_url(empty_db_url)) as db:
        tables = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchall() == [("invoices",)]


# -- no password on a command line ---------------------------------------------------------


def _command_line_of_a_waiting_pg_dump(url: str, target: Path, lock_url: str) -> list[str]:
    """Run a backup that must wait for a locked table, and read pg_dump's command line
    (and environment) while it waits."""
    seen: list[str] = []
    with psycopg.connect(libpq_url(lock_url)) as holder:
        holder.execute("LOCK TABLE technicians IN ACCESS EXCLUSIVE MODE")
        failure: list[BaseException] = []

        def back_up() -> None:
            try:
                dump_database(url, target)
            except BaseException as error:
                failure.append(error)

        worker = threading.Thread(target=back_up)
        worker.start()
        try:
            deadline = time.monotonic() + WAIT_S
            while not seen:
                assert time.monotonic() < deadline, "pg_dump never showed up"
                for process in psutil.process_iter(["name", "cmdline"]):
                    command = process.info["cmdline"] or []
                    if process.info["name"] == "pg_dump" and any(target.name in a for a in command):
                        seen.append(" ".join(command))
                        with suppress(psutil.Error):
                            seen.extend(f"{k}={v}" for k, v in process.environ().items())
                        break
                worker.join(0.02)
        finally:
            holder.rollback()  # let it finish
            worker.join(WAIT_S)
    assert not failure, failure
    assert read_dump(target).entries > 0
    return seen


def test_a_password_in_the_url_reaches_pg_dump_only_through_its_environment(
    company: str, tmp_path: Path
) -> None:
    password = "never-on-a-command-line-7f3a"
    with_password = make_url(company).set(password=password)
    url = with_password.render_as_string(hide_password=False)

    seen = _command_line_of_a_waiting_pg_dump(url, tmp_path / "office.dump", company)

    command_line, environment = seen[0], seen[1:]
    assert password not in command_line
    assert f"PGPASSWORD={password}" in environment


def test_a_backup_that_fails_names_no_password(tmp_path: Path) -> None:
    password = "never-in-an-error-9b2c"
    url = f"postgresql+psycopg://postgres:{password}@127.0.0.1:9/dispatch"

    with pytest.raises(BackupError) as failed:
        dump_database(url, tmp_path / "x.dump")

    assert "127.0.0.1:9/dispatch" in str(failed.value)
    assert password not in str(failed.value)
    assert not list(tmp_path.iterdir())  # no half-written file either


# -- the embedded database ---------------------------------------------------------------


@pytest.mark.slow
def test_the_readme_commands_on_the_embedded_database(embedded_dir: Path) -> None:
    """seed-demo → db backup → a change → db restore --replace --yes → as it was."""
    seeded = run_main("db", "seed-demo", "--today", "2026-12-04", data_dir=embedded_dir)
    assert seeded.returncode == 0, seeded.stderr
    server = EmbeddedServer(embedded_dir)
    saved = contents(server.start())
    server.stop()

    made = run_main("--now", "2026-12-04T16:20-06:00", "db", "backup", data_dir=embedded_dir)
    assert made.returncode == 0, made.stderr
    backup = embedded_dir / "backups" / "dispatch-2026-12-04.dump"
    assert f"to {backup} (" in made.stdout
    try:
        change_the_company(server.start())
    finally:
        server.stop()

    restored = run_main("db", "restore", "--replace", "--yes", str(backup), data_dir=embedded_dir)

    assert restored.returncode == 0, restored.stderr
    assert "into the embedded database: 297 customers, 15 technicians" in restored.stdout
    try:
        assert contents(server.start()) == saved
    finally:
        server.stop()


@pytest.mark.slow
def test_a_backup_of_the_embedded_database_shows_no_password_in_the_process_list(
    embedded_dir: Path,
) -> None:
    server = EmbeddedServer(embedded_dir)
    url = server.start()
    try:
        migrate_now(url)
        password = server.password_file.read_text().strip().rsplit(":", 1)[1]

        seen = _command_line_of_a_waiting_pg_dump(url, embedded_dir / "x.dump", url)

        assert "passfile=" in seen[0]
        assert not [entry for entry in seen if password in entry]
    finally:
        server.stop()


# -- once a day, by itself ---------------------------------------------------------------

TODAY = dt.date(2026, 12, 4)


def _old_backups(folder: Path, days: range) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for age in days:
        (folder / f"dispatch-{TODAY - dt.timedelta(days=age)}.dump").write_text("old")
    (folder / "dispatch-2026-11-01-before-restore.dump").write_text("old, saved by a restore")
    (folder / "kept-by-hand.dump").write_text("a name of the user's own")


def test_the_daily_backup_is_made_once_and_keeps_fourteen_days(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    _old_backups(folder, range(1, 21))

    made = daily_backup(db_url, folder, TODAY)
    again = daily_backup(db_url, folder, TODAY)

    assert made is not None and made.path == folder / "dispatch-2026-12-04.dump"
    assert read_dump(made.path).revision == migrate.head_revision()
    assert again is None
    names = sorted(path.name for path in folder.glob("*.dump"))
    expected = [f"dispatch-{TODAY - dt.timedelta(days=age)}.dump" for age in range(13, -1, -1)]
    assert names == sorted([*expected, "kept-by-hand.dump"])


def test_a_failed_daily_backup_deletes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    _old_backups(folder, range(1, 21))
    before = sorted(folder.glob("*.dump"))

    with pytest.raises(BackupError):
        daily_backup("postgresql+psycopg://postgres@127.0.0.1:9/dispatch", folder, TODAY)

    assert sorted(folder.glob("*.dump")) == before
    assert not list(folder.glob("*.part"))
