"""People on a shared server: ``python main.py admin …`` as a real admin login, the
database's people functions, and passwords that appear nowhere but the server's
verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.roles import PERSON_CONNECTION_LIMIT, Role
from tests.test_cli import ROOT, one_sentence

PASSWORD = "Blue-Furnace-7731 ñ"


def admin_cli(
    url: str, *args: str, data_dir: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DISPATCH_DATA_DIR": str(data_dir), "DISPATCH_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "-v", "admin", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        input=stdin,
    )


def scram_matches(verifier: str, password: str) -> bool:
    """Whether ``verifier`` (as pg_authid keeps it) was made from ``password``."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest() == stored_key


@pytest.fixture
def admin_url(db_url: str, scratch_server: ScratchServer) -> Iterator[str]:
    try:
        yield scratch_server.login(db_url, "admin")
    finally:
        scratch_server.drop_logins()


def test_an_admin_adds_moves_disables_and_enables_a_person(
    admin_url: str, db_url: str, scratch_server: ScratchServer, tmp_path: Path
) -> None:
    name = scratch_server.login_prefix + "jsmith"
    added = admin_cli(
        admin_url,
        "add-user",
        name,
        "--role",
        "dispatcher",
        "--password-stdin",
        data_dir=tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"{name} may now log in as Dispatcher."
    with psycopg.connect(libpq_url(db_url)) as owner:
        verifier, limit, config = owner.execute(
            "SELECT a.rolpassword, a.rolconnlimit, s.setconfig FROM pg_authid a "
            "JOIN pg_db_role_setting s ON s.setrole = a.oid AND s.setdatabase = 0 "
            "WHERE a.rolname = %s",
            (name,),
        ).fetchone()  # type: ignore[misc]
    # The server keeps a verifier of exactly that password, never the password.
    assert scram_matches(verifier, PASSWORD) and PASSWORD not in verifier
    assert limit == PERSON_CONNECTION_LIMIT
    assert "statement_timeout=30s" in config
    listed = admin_cli(admin_url, "list", data_dir=tmp_path)
    assert any(line.split()[:2] == [name, "Dispatcher"] for line in listed.stdout.splitlines())

    # The new person's session, then their role changes and their login is taken away.
    as_person = {"conninfo": libpq_url(db_url), "user": name, "password": PASSWORD}
    with psycopg.connect(**as_person) as person:  # type: ignore[arg-type]
        assert person.execute("SELECT dispatch_my_role()").fetchone() == ("dispatcher",)
    moved = admin_cli(admin_url, "set-role", name, "--role", "csr", data_dir=tmp_path)
    assert moved.stdout.strip() == f"{name} is now CSR."
    session = psycopg.connect(**as_person, autocommit=True)  # type: ignore[arg-type]
    assert session.execute("SELECT dispatch_my_role()").fetchone() == ("csr",)
    disabled = admin_cli(admin_url, "disable", name, data_dir=tmp_path)
    assert disabled.stdout.strip() == f"{name} can no longer log in; 1 open session(s) were ended."
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    with psycopg.connect(libpq_url(db_url)) as owner:
        assert owner.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (name,)
        ).fetchone() == (False,)
    enabled = admin_cli(admin_url, "enable", name, data_dir=tmp_path)
    assert enabled.stdout.strip() == f"{name} may log in again as CSR."
    new_password = "Another-Secret-42"
    reset = admin_cli(
        admin_url,
        "reset-password",
        name,
        "--password-stdin",
        data_dir=tmp_path,
        stdin=new_password + "\n",
    )
    assert reset.returncode == 0, reset.stderr
    with psycopg.connect(libpq_url(db_url)) as owner:
        verifier = owner.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (name,)
        ).fetchone()[0]  # type: ignore[index]
    assert scram_matches(verifier, new_password)
    # Nothing said anywhere holds a password (the runs were verbose: -v).
    for run in (added, listed, moved, disabled, enabled, reset):
        for secret in (PASSWORD, new_password):
            assert secret not in run.stdout + run.stderr


def test_a_password_is_never_in_the_process_list(
    admin_url: str, tmp_path: Path, scratch_server: ScratchServer
) -> None:
    """What ``ps`` shows of a running ``admin reset-password`` (its arguments) and what
    its environment holds: no password, which only its standard input carries."""
    name = scratch_server.login_prefix + "kim"
    environment = {
        **os.environ,
        "DISPATCH_DATA_DIR": str(tmp_path),
        "DISPATCH_DATABASE_URL": admin_url,
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "admin", "add-user", name, "--role", "csr",
         "--password-stdin"],
        cwd=ROOT, env=environment, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    running = psutil.Process(process.pid)
    shown = " ".join(running.cmdline()) + " " + " ".join(running.environ().values())
    out, err = process.communicate(PASSWORD + "\n", timeout=60)
    assert process.returncode == 0, err
    assert PASSWORD not in shown and PASSWORD not in out + err


def test_only_an_admin_manages_people_and_the_refusal_is_one_sentence(
    db_url: str, scratch_server: ScratchServer, tmp_path: Path
) -> None:
    try:
        dispatcher = scratch_server.login(db_url, "dispatcher")
        name = scratch_server.login_prefix + "mallory"
        refused = admin_cli(
            dispatcher,
            "add-user",
            name,
            "--role",
            "admin",
            "--password-stdin",
            data_dir=tmp_path,
            stdin=PASSWORD + "\n",
        )
        assert refused.returncode != 0
        assert one_sentence(refused.stderr) == (
            "Dispatch Board: Your role (Dispatcher) may not add or change users and technicians."
        )
        assert PASSWORD not in refused.stdout + refused.stderr
        # Straight at the database: the functions check the caller, and a password sent
        # in clear by mistake is refused without being repeated.
        with (
            psycopg.connect(libpq_url(dispatcher)) as db,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            db.execute("SELECT dispatch_add_user(%s, 'admin', 'x')", (name,))
        admin = scratch_server.login(db_url, "admin")
        with psycopg.connect(libpq_url(admin)) as db:
            with pytest.raises(psycopg.errors.InvalidParameterValue) as clear:
                db.execute("SELECT dispatch_add_user(%s, 'csr', %s)", (name, PASSWORD))
            assert PASSWORD not in str(clear.value)
            db.rollback()
            # An admin's functions never reach past the app's own people.
            for victim in ("postgres", "dispatch_owner", "dispatch_admin"):
                with pytest.raises(psycopg.errors.UndefinedObject):
                    db.execute("SELECT dispatch_disable_user(%s)", (victim,))
                db.rollback()
                with pytest.raises(psycopg.errors.UndefinedObject):
                    db.execute("SELECT dispatch_set_role(%s, 'admin')", (victim,))
                db.rollback()
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                db.execute(
                    "SELECT dispatch_set_role(%s, 'owner')", (admin.split("//")[1].split(":")[0],)
                )
    finally:
        scratch_server.drop_logins()
    with psycopg.connect(libpq_url(db_url)) as owner:
        assert owner.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = %s", (name,)
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (
            ["add-user", "Bad Name", "--role", "csr", "--password-stdin"],
            PASSWORD,
            "cannot be a user name",
        ),
        (["add-user", "jdoe", "--role", "plumber", "--password-stdin"], PASSWORD, "is not a role"),
        (
            ["add-user", "jdoe", "--role", "csr", "--password-stdin"],
            "short",
            "at least 10 characters",
        ),
        (["add-user", "jdoe", "--role", "csr"], "", "no terminal to ask for the password"),
    ],
)
def test_bad_input_gets_one_sentence_and_no_password_echo(
    args: list[str], stdin: str, words: str, tmp_path: Path
) -> None:
    # Refused before any database is opened: the URL points nowhere.
    result = admin_cli(
        "postgresql://nobody@127.0.0.1:1/dispatch", *args, data_dir=tmp_path, stdin=stdin + "\n"
    )
    assert result.returncode == 2
    assert words in one_sentence(result.stderr)
    assert stdin not in result.stderr or not stdin


def test_the_single_pc_database_has_no_logins(tmp_path: Path) -> None:
    environment = {**os.environ, "DISPATCH_DATA_DIR": str(tmp_path)}
    environment.pop("DISPATCH_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "admin", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert result.returncode == 2
    assert "one owner and no logins" in one_sentence(result.stderr)


def test_roles_name_their_groups() -> None:
    assert Role.CSR.group == "dispatch_csr" and Role.CSR.label == "CSR"
    assert Role.ADMIN.includes(Role.CSR) and not Role.CSR.includes(Role.DISPATCHER)
    assert not Role.WORKER.includes(Role.CSR) and Role.WORKER.includes(Role.VIEWER)


def test_a_ca_file_asks_for_a_checked_tls_connection(db_url: str, tmp_path: Path) -> None:
    """The local test server offers no TLS: with a CA file the app refuses to talk to it
    in clear, and says why in one sentence."""
    authority = tmp_path / "office-ca.pem"
    authority.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    environment = {**os.environ, "DISPATCH_DATA_DIR": str(tmp_path)}
    environment.pop("DISPATCH_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--database-url", db_url,
         "--ca-file", str(authority), "db", "current"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip
    assert result.returncode == 3
    assert "does not offer TLS, which the CA file setting requires" in one_sentence(result.stderr)
    missing = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--database-url", db_url,
         "--ca-file", str(tmp_path / "nowhere.pem"), "db", "current"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=environment,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "nowhere.pem does not exist" in one_sentence(missing.stderr)


def test_people_on_the_newest_server_where_roles_need_admin_option(
    office_server: str, tmp_path: Path
) -> None:
    """PostgreSQL 16 and later let a role that creates roles grant only what it holds
    with ADMIN OPTION: on the embedded server (PostgreSQL 18) the server's superuser
    adds the first admin, who adds, moves and disables a dispatcher."""
    from sqlalchemy.engine import make_url

    superuser = make_url(office_server).set(username="postgres").render_as_string(False)
    first = admin_cli(
        superuser, "add-user", "ana", "--role", "admin", "--password-stdin",
        data_dir=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    # Ana signs in with her password (the embedded server checks it, unlike trust).
    ana = make_url(office_server).set(username="ana", password=PASSWORD)
    ana_url = ana.render_as_string(False)
    steps = [
        (["add-user", "ben", "--role", "dispatcher", "--password-stdin"],
         "ben may now log in as Dispatcher."),
        (["set-role", "ben", "--role", "manager"], "ben is now Manager."),
        (["disable", "ben"], "ben can no longer log in."),
        (["enable", "ben"], "ben may log in again as Manager."),
    ]  # fmt: skip
    for args, said in steps:
        result = admin_cli(ana_url, *args, data_dir=tmp_path, stdin="Boiler-Room-4400\n")
        assert result.stdout.strip() == said, result.stderr
    with psycopg.connect(libpq_url(superuser)) as db:
        assert db.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
            "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = 'ben'"
        ).fetchall() == [("dispatch_manager",)]
