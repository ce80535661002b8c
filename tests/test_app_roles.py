"""The desktop app signed in as a CSR's own login: it shows who is signed in, shows the
board, books a call from the keyboard, and where a CSR may not go the screen says so in
one sentence — and so does the database when asked anyway."""

from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.roles import STATEMENT_TIMEOUT, Action, Role, refusal
from dispatch_app.errors import PermissionDenied
from dispatch_app.services.visits import VisitMove, move_visits
from tests.qt_app import act, options_for, pump_until, wait_for
from tests.test_intake_window import (  # noqa: F401  (fixtures)
    PROBLEM,
    Keyboard,
    company,
    moment,
    open_intake,
    work_order,
)


@pytest.fixture
def csr(loop, start, db_url, tmp_path, settings_dir, company, scratch_server: ScratchServer):  # noqa: F811
    url = scratch_server.login(db_url, "csr")
    try:
        app, task = start(options_for(url, tmp_path))
        wait_for(loop, app.live, task)
        act(loop, app.window.activateWindow)
        pump_until(loop, lambda: QApplication.activeWindow() == app.window)
        app.login = psycopg.conninfo.conninfo_to_dict(libpq_url(url))["user"]  # type: ignore[attr-defined]
        yield app
    finally:
        scratch_server.drop_logins()


def test_a_csr_sees_the_board_books_a_call_and_is_refused_rescheduling(
    loop, qtbot, db_url, csr, tmp_path
) -> None:
    window = csr.window
    assert window.signed_in_label.text() == f"{csr.login} · CSR"
    assert len(csr.store.visits()) == 3  # the board is read as the CSR
    assert window.new_call_action.isEnabled()
    assert not window.backups.backup_action.isEnabled()  # a server's backup is its admin's
    assert not window.board.schedules
    assert not window.people_action.isVisible()  # an admin's

    # A returning customer booked from the keyboard, with a window and a technician.
    keys = Keyboard(loop, qtbot)
    booked = []
    intake = open_intake(loop, keys, csr)
    intake.booked.connect(booked.append)
    keys.type("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    keys.type("no h")
    keys.press(Qt.Key.Key_Return)
    keys.type(PROBLEM, counted=False)
    keys.press(Qt.Key.Key_Tab)
    keys.type("s")
    pump_until(loop, lambda: intake.windows)
    keys.press(Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    keys.press(Qt.Key.Key_Return)
    pump_until(loop, lambda: booked)
    saved = work_order(db_url, booked[0].number)
    assert saved["created_by"] == csr.login and saved["updated_by"] == csr.login
    assert saved["crew"] and booked[0].assigned, booked[
        0
    ].note  # a first booking's technician is a CSR's
    act(loop, intake.close)

    # The board: unassigning is refused on screen, before any round trip.
    problems: list[str] = []
    window.board_actions.problem.connect(problems.append)
    visit = next(v for v in csr.store.visits() if v.technician_ids)
    act(loop, lambda: window.board_actions.unassign([visit]))
    assert problems == [refusal(Role.CSR, Action.SCHEDULE)]

    # Asked anyway (another client, a stale screen): the database refuses, and the app
    # says the database's sentence, not a traceback.
    async def move() -> None:
        await csr.workspace.run(
            move_visits,
            moves=[
                VisitMove(
                    visit.id,
                    visit.version,
                    visit.starts + dt.timedelta(hours=1),
                    visit.ends + dt.timedelta(hours=1),
                )
            ],
            clock=csr.options.clock,
        )

    with pytest.raises(PermissionDenied) as refused:
        loop.run_until_complete(move())
    assert str(refused.value) == refusal(Role.CSR, Action.SCHEDULE)
    with psycopg.connect(libpq_url(db_url)) as db:
        assert db.execute("SELECT starts FROM visits WHERE id = %s", (visit.id,)).fetchone() == (
            visit.starts,
        )
    still = dataclasses.replace(visit)
    assert still in csr.store.visits()

    # The work order: a CSR reads the charges and time, may end the work early, and is
    # told what the role leaves out.
    editor = csr.open_work_order(visit.work_order_id)
    pump_until(loop, lambda: editor.record is not None)
    assert editor.line_items.add_material_button.isHidden()
    assert editor.time.add_button.isHidden() and editor.photos.remove_button.isHidden()
    assert not editor.notes.add_button.isHidden() and not editor.save_button.isHidden()
    assert editor.role_note.text() == " ".join(
        refusal(Role.CSR, a) for a in (Action.CHARGES, Action.REMOVE_PHOTOS)
    )
    assert set(editor.status_button.offered()) <= {"cancelled", "no_show"}
    assert "cancelled" in editor.status_button.offered()
    editor.grab().save(str(tmp_path / "csr-editor.png"))
    act(loop, editor.close)

    # After the board, the intake, a booking and a refusal: at most three connections,
    # each with a statement time-out, so a runaway query cannot freeze a screen.
    with psycopg.connect(libpq_url(db_url)) as db:
        held = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (csr.login,)
        ).fetchone()
    assert held is not None and 1 <= held[0] <= 3

    async def timeout(sessions) -> str:
        async with sessions() as session:
            return str(await session.scalar(text("SHOW statement_timeout")))

    assert loop.run_until_complete(csr.workspace.run(timeout)) == STATEMENT_TIMEOUT


def test_a_login_with_no_role_is_told_to_ask_for_one(
    loop, start, db_url, tmp_path, settings_dir, scratch_server: ScratchServer
) -> None:
    url = scratch_server.login(db_url, "viewer")
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(url))["user"]
    try:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as owner:
            owner.execute(f'REVOKE dispatch_viewer FROM "{login}"')
            owner.execute(f'GRANT CONNECT ON DATABASE "{db_url.rsplit("/", 1)[1]}" TO "{login}"')
        options = dataclasses.replace(options_for(url, tmp_path), screenshot=tmp_path / "x.png")
        app, task = start(options)
        pump_until(loop, task.done, timeout=30)
        assert task.result() == PermissionDenied.exit_code
        said = app.window.statusBar().currentMessage()
        assert login in said and f"admin set-role {login} --role csr" in said
    finally:
        scratch_server.drop_logins()
