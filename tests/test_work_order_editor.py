"""The work order editor never loses what was typed: conflicts, bad input, lost server."""

from __future__ import annotations

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.ui.workorder.editor import WorkOrderEditor
from tests.companies import small_company
from tests.qt_app import act, finish, options_for, pump_until, wait_for

# QTest types ASCII only; the non-ASCII part arrives as an input method would put it.
TYPED = " Customer says it rattles, ask for the side door"
PASTED = " (Zoë's note — 東京の友人)"


def their_save(url: str, work_order_id: int, **fields: str) -> None:
    """Another dispatcher, jsmith, saves the work order from their workstation."""
    assignments = ", ".join(f"{name} = %({name})s" for name in fields)
    with psycopg.connect(libpq_url(url), options="-c dispatch.editor=jsmith") as db:
        db.execute(
            f"UPDATE work_orders SET {assignments} WHERE id = %(id)s",
            {**fields, "id": work_order_id},
        )


def database_row(url: str, work_order_id: int) -> tuple[str, str]:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT description, priority FROM work_orders WHERE id = %s", (work_order_id,)
        ).fetchone()
    assert row is not None
    return row


# Each test closes the app itself before it ends: pytest-qt processes Qt events between a
# test and its fixtures' teardown, and an app still running then would have its asyncio
# tasks stepped outside the event loop.
@pytest.fixture
def opened(loop, start, db_url, tmp_path, settings_dir, qtbot):
    """The app on a small company, with the first visit's work order open by double-click."""
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    visit = app.window.visit_model.visit(0)
    board = app.window.board
    pump_until(loop, lambda: board.block_rect(visit.id) is not None)
    act(
        loop,
        lambda: qtbot.mouseDClick(
            board.viewport(),
            Qt.MouseButton.LeftButton,
            pos=board.block_rect(visit.id).center().toPoint(),
        ),
    )
    editor = app.editors[visit.work_order_id]
    pump_until(loop, lambda: editor.title.text().startswith(visit.number))
    return app, editor, visit.work_order_id, task


def type_and_save(loop, qtbot, editor: WorkOrderEditor) -> str:
    editor.description.moveCursor(editor.description.textCursor().MoveOperation.End)
    act(loop, lambda: qtbot.keyClicks(editor.description, TYPED))
    editor.description.insertPlainText(PASTED)
    mine = editor.description.toPlainText()
    assert mine.endswith(TYPED + PASTED) and editor.is_dirty()
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    return mine


def test_conflict_then_reapply_mine_on_top(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Theirs: furnace short-cycles", priority="urgent")
    mine = type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    assert "was changed by jsmith at" in editor.conflict_text.text()
    assert "your changes were not saved" in editor.conflict_text.text()
    assert "description" in editor.conflict_text.text()  # both of us changed it
    assert editor.description.toPlainText() == mine  # nothing typed was lost
    assert database_row(db_url, work_order) == ("Theirs: furnace short-cycles", "urgent")

    act(loop, lambda: qtbot.mouseClick(editor.reapply_mine, Qt.MouseButton.LeftButton))
    pump_until(loop, lambda: database_row(db_url, work_order)[0] == mine)
    # My description on top of their save: their priority change stays.
    assert database_row(db_url, work_order) == (mine, "urgent")
    pump_until(loop, lambda: not editor.is_dirty())
    assert editor.priority.currentData() == "urgent"
    assert finish(loop, app, task) == 0


def test_conflict_then_reload_theirs(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, priority="emergency")
    type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    act(loop, lambda: qtbot.mouseClick(editor.reload_theirs, Qt.MouseButton.LeftButton))
    assert not editor.conflict.isVisible() and not editor.is_dirty()
    assert editor.priority.currentData() == "emergency"
    assert TYPED not in editor.description.toPlainText()
    assert database_row(db_url, work_order)[1] == "emergency"
    assert finish(loop, app, task) == 0


def test_conflict_then_copy_mine(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Theirs")
    mine = type_and_save(loop, qtbot, editor)
    pump_until(loop, editor.conflict.isVisible)
    act(loop, lambda: qtbot.mouseClick(editor.copy_mine, Qt.MouseButton.LeftButton))
    assert mine in QGuiApplication.clipboard().text()
    assert editor.description.toPlainText() == "Theirs"
    assert database_row(db_url, work_order)[0] == "Theirs"
    assert finish(loop, app, task) == 0


def test_invalid_input_is_refused_beside_its_field_and_kept(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    before = database_row(db_url, work_order)
    huge = "Pasted log line. " * 7000  # ~119,000 characters
    editor.description.setPlainText(huge)
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    label = editor.field_errors["description"]
    pump_until(loop, label.isVisible)
    assert "limit is 100,000" in label.text()
    assert editor.description.toPlainText() == huge
    assert database_row(db_url, work_order) == before
    assert finish(loop, app, task) == 0


def test_a_lost_server_keeps_the_text_and_a_retry_saves_it(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    working = editor.sessions
    gone = make_async_engine("postgresql+psycopg://postgres@127.0.0.1:9/dispatch")
    editor.sessions = session_factory(gone)
    try:
        mine = type_and_save(loop, qtbot, editor)
        pump_until(loop, editor.banner.isVisible)
        assert "Could not save" in editor.banner.text()
        assert editor.description.toPlainText() == mine and editor.is_dirty()
    finally:
        loop.run_until_complete(gone.dispose())
    editor.sessions = working
    act(loop, lambda: qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton))
    pump_until(loop, lambda: database_row(db_url, work_order)[0] == mine)
    pump_until(loop, lambda: not editor.is_dirty())
    assert finish(loop, app, task) == 0


def test_an_untouched_editor_follows_other_workstations(loop, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Updated elsewhere")
    pump_until(loop, lambda: editor.description.toPlainText() == "Updated elsewhere")
    assert not editor.is_dirty()
    assert finish(loop, app, task) == 0


def test_closing_with_unsaved_changes_asks_first(loop, qtbot, db_url, opened) -> None:
    app, editor, work_order, task = opened
    act(loop, lambda: qtbot.keyClicks(editor.description, TYPED))
    act(loop, editor.close)
    assert editor.isVisible() and "unsaved changes" in editor.banner.text()
    act(loop, editor.close)  # a second Close means it
    assert not editor.isVisible()
    pump_until(loop, lambda: work_order not in app.editors)
    assert finish(loop, app, task) == 0


def test_typing_while_a_reload_is_under_way_is_kept(loop, db_url, opened) -> None:
    app, editor, work_order, task = opened
    their_save(db_url, work_order, description="Changed elsewhere")
    editor.load_soon()
    pump_until(loop, editor._one_at_a_time.locked)  # the reload is waiting on the server
    editor.description.insertPlainText(PASTED)
    typed = editor.description.toPlainText()
    pump_until(loop, lambda: not editor._tasks)
    assert editor.description.toPlainText() == typed  # the reload did not overwrite it
    assert "Someone else just changed" in editor.banner.text()
    assert finish(loop, app, task) == 0
