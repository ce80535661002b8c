"""The People window, as an admin's own login uses it: add a person, change their role,
take their login away and give it back, set a new password — each checked on the server."""

from __future__ import annotations

import logging

import psycopg
import pytest
from PySide6.QtWidgets import QDialogButtonBox

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from tests.companies import small_company
from tests.qt_app import act, options_for, pump_until, wait_for
from tests.test_people import scram_matches

PASSWORD = "Condenser-Fan-5150"


@pytest.fixture
def admin_app(loop, start, db_url, tmp_path, settings_dir, scratch_server: ScratchServer):
    small_company(db_url)
    url = scratch_server.login(db_url, "admin")
    try:
        app, task = start(options_for(url, tmp_path))
        wait_for(loop, app.loaded, task)
        yield app
    finally:
        scratch_server.drop_logins()


def _role_and_login(db_url: str, name: str) -> tuple[str, bool] | None:
    with psycopg.connect(libpq_url(db_url)) as db:
        row = db.execute(
            "SELECT g.rolname, r.rolcanlogin FROM pg_roles r "
            "JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE r.rolname = %s",
            (name,),
        ).fetchone()
    return (row[0], row[1]) if row else None


def _ok(loop, dialog) -> None:
    button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    act(loop, button.click)


def test_an_admin_manages_people_from_the_window(
    loop, admin_app, db_url, scratch_server: ScratchServer, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)  # every log line, SQL and its parameters included
    window = admin_app.window
    assert window.people_action.isVisible()
    act(loop, window.people_action.trigger)
    people = admin_app.people
    pump_until(loop, lambda: people.table.rowCount() >= 1)
    name = scratch_server.login_prefix + "ana"

    # Add: two passwords that differ are caught in the dialog, nothing is sent.
    act(loop, people.add_button.click)
    dialog = people.dialog
    act(loop, lambda: dialog.login.setText(name))
    act(loop, lambda: dialog.role.setCurrentIndex(dialog.role.findData("dispatcher")))
    act(loop, lambda: dialog.password.setText(PASSWORD))
    act(loop, lambda: dialog.again.setText(PASSWORD + "x"))
    _ok(loop, dialog)
    assert dialog.isVisible() and dialog.problem.text() == "The two passwords differ."
    act(loop, lambda: dialog.again.setText(PASSWORD))
    _ok(loop, dialog)
    pump_until(loop, lambda: any(p.login == name for p in people.people))
    assert people.done.text() == f"{name} may now sign in as Dispatcher."
    assert _role_and_login(db_url, name) == ("dispatch_dispatcher", True)
    with psycopg.connect(libpq_url(db_url)) as db:
        verifier = db.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (name,)
        ).fetchone()[0]  # type: ignore[index]
    assert scram_matches(verifier, PASSWORD)
    people.grab().save(str(tmp_path / "people.png"))

    # Change role, disable, enable.
    row = next(i for i, p in enumerate(people.people) if p.login == name)
    act(loop, lambda: people.table.selectRow(row))
    act(loop, people.role_button.click)
    act(loop, lambda: people.dialog.role.setCurrentIndex(people.dialog.role.findData("csr")))
    _ok(loop, people.dialog)
    pump_until(loop, lambda: _role_and_login(db_url, name) == ("dispatch_csr", True))
    pump_until(loop, lambda: people.done.text() == f"{name} is now CSR.")
    pump_until(loop, lambda: people.selected() is not None and people.selected().login == name)
    assert people.login_button.text() == "&Disable"
    act(loop, people.login_button.click)
    pump_until(loop, lambda: _role_and_login(db_url, name) == ("dispatch_csr", False))
    pump_until(loop, lambda: people.login_button.text() == "&Enable")
    act(loop, people.login_button.click)
    pump_until(loop, lambda: _role_and_login(db_url, name) == ("dispatch_csr", True))

    # A new password.
    act(loop, people.password_button.click)
    act(loop, lambda: people.dialog.password.setText("Another-Pass-77"))
    act(loop, lambda: people.dialog.again.setText("Another-Pass-77"))
    _ok(loop, people.dialog)
    pump_until(loop, lambda: people.done.text() == f"{name} has a new password.")
    with psycopg.connect(libpq_url(db_url)) as db:
        verifier = db.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (name,)
        ).fetchone()[0]  # type: ignore[index]
    assert scram_matches(verifier, "Another-Pass-77")

    # Neither password is in a log line, nor in what any session on the server last ran.
    with psycopg.connect(libpq_url(db_url)) as db:
        queries = [row[0] or "" for row in db.execute("SELECT query FROM pg_stat_activity")]
    for secret in (PASSWORD, "Another-Pass-77"):
        assert secret not in caplog.text
        assert not any(secret in query for query in queries)


def test_an_admin_makes_a_new_lead_token_shown_once_and_kept_hashed(
    loop, admin_app, db_url, tmp_path, caplog
) -> None:
    from dispatch_app.services.leads.token import token_matches

    caplog.set_level(logging.DEBUG)
    window = admin_app.window
    act(loop, window.people_action.trigger)
    people = admin_app.people
    pump_until(loop, lambda: people.token_state.text().startswith("No lead token yet"))
    act(loop, people.token_button.click)
    sure = people.dialog_box
    assert sure is not None and sure.isVisible()
    (make,) = [b for b in sure.buttons() if b.text() == "Make a new token"]
    act(loop, make.click)
    pump_until(loop, lambda: people.token_shown.isVisible())
    token = people.token_shown.text()
    assert len(token) >= 40
    pump_until(loop, lambda: people.token_state.text().endswith("One is set."))
    with psycopg.connect(libpq_url(db_url)) as db:
        (stored,) = db.execute("SELECT value FROM app_settings WHERE key = 'lead_token'").fetchone()
    assert stored.startswith("scrypt$") and token not in stored
    assert token_matches(token, stored)
    assert token not in caplog.text
