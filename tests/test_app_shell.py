"""The main window on a real database: what it shows, that it stays live, what it keeps."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
from collections.abc import Callable

import psycopg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QMessageBox

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.change_feed import FeedState
from dispatch_app.ui.app import GuiOptions
from dispatch_app.ui.board.models import StartTimeRole, VersionRole
from dispatch_app.ui.stop_signals import listen_for_stop_signals
from tests.companies import DAY, TZ, small_company
from tests.qt_app import act, finish, options_for, pump_until, wait_for


def test_window_shows_the_days_technicians_and_visits(loop, start, db_url, tmp_path, settings_dir):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    window = app.window
    board = app.store.snapshot()
    assert [t.name for t in window.board.technician_rows()] == [t.name for t in board.technicians]
    assert [t.name for t in board.technicians] == [
        "Noor Haddad",
        "Ava Kowalski",
        "Marcus Lee",
    ]  # by trade
    by_name = {t.name: t for t in board.technicians}
    assert by_name["Noor Haddad"].shift is None  # not on shift on Tuesdays
    assert by_name["Ava Kowalski"].shift.start == dt.datetime(2026, 12, 1, 7, 0, tzinfo=TZ)
    crew_visit = [v for v in board.visits if len(v.technician_ids) == 2]
    assert len(crew_visit) == 1 and len(board.visits) == 3
    # A crew visit shows in both technicians' rows.
    assert crew_visit[0] in window.board.visits_in_row(by_name["Marcus Lee"].id)
    assert crew_visit[0] in window.board.visits_in_row(by_name["Ava Kowalski"].id)
    assert window.visit_model.rowCount() == 3
    assert window.unassigned.model.rowCount() == 1
    assert window.unassigned.model.job(0).priority == "emergency"
    assert db_url.rsplit("/", 1)[1] in window.database_label.text()
    wait_for(loop, app.live, task)
    assert window.live_label.property("feedState") == FeedState.LIVE.value
    assert finish(loop, app, task) == 0


def test_another_workstations_change_appears_without_refresh(
    loop, start, db_url, tmp_path, settings_dir
):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    shown = asyncio.Event()
    app.window.storeApplied.connect(
        lambda: (
            shown.set()
            if any(t.name == "Zoë Åberg" for t in app.window.board.technician_rows())
            else None
        )
    )
    with psycopg.connect(libpq_url(db_url)) as other:
        other.execute(
            "INSERT INTO technicians (name, trade, colour) "
            "VALUES ('Zoë Åberg', 'roofing', '#9467bd')"
        )
    wait_for(loop, shown, task)
    assert "Zoë Åberg" in [t.name for t in app.store.technicians]
    assert finish(loop, app, task) == 0


def test_a_notification_that_is_not_a_hint_leaves_the_board_live(
    loop, start, db_url, tmp_path, settings_dir
):
    from tests.test_live_sync import shift_visit_now, visit_ids

    small_company(db_url)
    first, second = visit_ids(db_url)[:2]
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    shown: list[str] = []
    app.window.liveStateChanged.connect(shown.append)

    def moved(visit: int) -> Callable[[], bool]:
        version = app.store.version_of(visit)
        return lambda: app.store.version_of(visit) == version + 1

    # Held through the feed, or through the day's read after connecting; once it is
    # held, that read is over and only the feed can bring the next move.
    first_moved = moved(first)
    shift_visit_now(db_url, first, 15)
    pump_until(loop, first_moved)
    with psycopg.connect(libpq_url(db_url), autocommit=True) as other:
        other.execute("""NOTIFY dispatch_changes, '{"table":"visits","id":1e999,"op":"update"}'""")
        other.execute("NOTIFY dispatch_changes, 'not even JSON'")
    second_moved = moved(second)
    shift_visit_now(db_url, second, 15)
    pump_until(loop, second_moved)
    assert shown == []  # never left Live, never needed to
    assert app.window.live_label.property("feedState") == FeedState.LIVE.value
    assert app.workspace is not None and app.workspace.feed is not None
    assert app.workspace.feed.connects == 1
    assert finish(loop, app, task) == 0


def test_window_geometry_is_restored(loop, start, db_url, tmp_path, settings_dir):
    options = GuiOptions(
        database=DatabaseChoice(db_url, "command line"), data_dir=tmp_path, day=DAY
    )
    app, task = start(options)
    wait_for(loop, app.loaded, task)
    app.window.resize(701, 503)  # within the offscreen 800x800 screen
    app.window.unassigned.hide()
    assert finish(loop, app, task) == 0

    again, task = start(options)
    wait_for(loop, again.loaded, task)
    assert again.window.size() == QSize(701, 503)
    assert again.window.unassigned.isHidden()
    assert finish(loop, again, task) == 0


def test_unreachable_database_says_so_and_exits_nonzero(
    loop, start, tmp_path, settings_dir, capsys, qtbot
):
    options = options_for("postgresql+psycopg://postgres@127.0.0.1:9/dispatch", tmp_path)
    _app, task = start(options)

    def dialog() -> QMessageBox | None:
        boxes = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.objectName() == "fatalError" and w.isVisible()
        ]
        return boxes[0] if boxes else None

    loop.run_until_complete(asyncio.wait_for(_until(dialog), 30))
    box = dialog()
    assert box is not None
    assert box.text().startswith("Cannot open the database at 127.0.0.1:9/dispatch")
    assert "\n" not in box.text() and "Traceback" not in box.text()  # one sentence
    box.done(0)
    assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 3
    assert "Cannot open the database" in capsys.readouterr().err


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)  # yields to the Qt event loop; bounded by wait_for


MOVE_FROM_ANOTHER_PROCESS = """
import asyncio, datetime as dt, sys
from zoneinfo import ZoneInfo
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.clock import FixedClock
from dispatch_app.services.visits import move_visit

async def main(url, visit_id, version):
    engine = make_async_engine(url, editor="dispatcher2")
    starts = dt.datetime(2026, 12, 1, 14, 30, tzinfo=ZoneInfo("America/Chicago"))
    try:
        await move_visit(session_factory(engine), visit_id=visit_id, seen_version=version,
                         starts=starts, ends=starts + dt.timedelta(hours=1),
                         clock=FixedClock(starts))
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def test_a_move_in_another_process_reaches_the_board_model(
    loop, start, db_url, tmp_path, settings_dir
):
    import subprocess
    import sys

    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    first = app.window.visit_model.visit(0)
    row_before = app.window.visit_model.rowCount()
    changed = asyncio.Event()
    resets: list[int] = []
    app.window.visit_model.dataChanged.connect(lambda *_: changed.set())
    app.window.visit_model.modelReset.connect(lambda: resets.append(1))
    app.window.technician_model.modelReset.connect(lambda: resets.append(1))

    subprocess.run(
        [
            sys.executable,
            "-c",
            MOVE_FROM_ANOTHER_PROCESS,
            db_url,
            str(first.id),
            str(first.version),
        ],
        check=True,
        timeout=60,
    )
    wait_for(loop, changed, task)

    model = app.window.visit_model
    row = model.row_of(first.id)
    assert row is not None and model.rowCount() == row_before  # updated in place
    assert resets == []  # one changed visit never resets a model
    starts = model.data(model.index(row), StartTimeRole)
    assert starts == dt.datetime(2026, 12, 1, 14, 30, tzinfo=TZ)
    assert model.data(model.index(row), VersionRole) == first.version + 1
    assert app.store.visit(first.id).updated_by == "dispatcher2"
    for tech in first.technician_ids:
        assert [v.starts for v in app.window.board.visits_in_row(tech) if v.id == first.id] == [
            starts
        ]
    assert finish(loop, app, task) == 0


def test_the_gui_keeps_running_during_a_slow_query(
    loop, start, db_url, tmp_path, qtbot, settings_dir
):
    from PySide6.QtCore import QTimer
    from sqlalchemy import text

    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))

    async def slow_query() -> None:
        async with app.workspace.database.sessions() as session:
            timer.start()
            await session.execute(text("SELECT pg_sleep(1)"))
            timer.stop()

    loop.run_until_complete(asyncio.wait_for(slow_query(), 30))
    # A blocked GUI thread would tick once or twice at the end; a free one ~100 times.
    assert len(ticks) >= 50
    assert finish(loop, app, task) == 0


def test_the_status_bar_follows_the_connection(loop, start, db_url, tmp_path, settings_dir):
    from tests.test_live_sync import terminate_listener

    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    shown: list[str] = []
    app.window.liveStateChanged.connect(shown.append)
    feed = app.workspace.feed
    connects = feed.connects
    terminate_listener(db_url)
    pump_until(loop, lambda: feed.connects == connects + 1 and shown[-1:] == ["Live"])
    assert re.fullmatch(r"Reconnecting since \d\d:\d\d", shown[0])
    assert app.window.live_label.property("feedState") == "live"
    assert finish(loop, app, task) == 0


# -- ending the app: Ctrl+C and SIGTERM close it the way its window does ----------------------
def _app_with_a_note_being_written(loop, start, db_url, tmp_path, qtbot):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    editor = app.open_work_order(app.window.visit_model.visit(0).work_order_id)
    pump_until(loop, lambda: editor.record is not None)
    notes = editor.show_tab("notes")
    act(loop, lambda: qtbot.keyClicks(notes.new_note, "Gate code 4471"))
    return app, task, editor


def test_ctrl_c_asks_once_when_someone_is_there_and_again_means_it(
    loop, start, db_url, tmp_path, settings_dir, qtbot
):
    app, task, editor = _app_with_a_note_being_written(loop, start, db_url, tmp_path, qtbot)
    app.attended = True  # started from a terminal, on a screen
    stop_listening = listen_for_stop_signals(loop, app.on_signal)
    try:
        for _attempt in range(2):  # going back, then Ctrl+C again asks again
            os.kill(os.getpid(), signal.SIGINT)
            pump_until(loop, lambda: app.window.quit_question is not None)
            question = app.window.quit_question
            pump_until(loop, question.isVisible)
            assert f"• {editor.record.number}: a note being written" in question.informativeText()
            act(loop, question.button(QMessageBox.StandardButton.Cancel).click)
            assert not task.done() and editor.notes.new_note.toPlainText() == "Gate code 4471"
            app.window.quit_question = None
        os.kill(os.getpid(), signal.SIGINT)
        pump_until(loop, lambda: app.window.quit_question is not None)
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl+C while asked: quit
        assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 128 + signal.SIGINT
    finally:
        stop_listening()


def test_sigterm_with_nobody_to_ask_quits_without_asking(
    loop, start, db_url, tmp_path, settings_dir, qtbot
):
    app, task, _editor = _app_with_a_note_being_written(loop, start, db_url, tmp_path, qtbot)
    assert not app.attended  # offscreen, and no terminal on stdin under pytest
    stop_listening = listen_for_stop_signals(loop, app.on_signal)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 128 + signal.SIGTERM
        assert app.window.quit_question is None  # nothing was asked
    finally:
        stop_listening()


def test_closing_with_nothing_unsaved_asks_nothing(loop, start, db_url, tmp_path, settings_dir):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    editor = app.open_work_order(app.window.visit_model.visit(0).work_order_id)
    pump_until(loop, lambda: editor.record is not None)
    act(loop, app.window.quit_action.trigger)
    assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 0
    assert app.window.quit_question is None
