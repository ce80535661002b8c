"""The dispatch board driven like a dispatcher drives it: real mouse drags and keys on the
real widget, each checked in the database afterwards, not only on screen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from dispatch_app.config import libpq_url
from dispatch_app.ui.app import DispatchApp
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.rows import ROW_HEIGHT
from tests.companies import DAY, TZ, small_company
from tests.qt_app import act, options_for, pump_until, wait_for


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


@dataclass(frozen=True)
class Booked:
    starts: dt.datetime | None
    ends: dt.datetime | None
    status: str
    crew: tuple[int, ...]
    version: int


def booked(url: str, visit_id: int) -> Booked:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT starts, ends, status, version FROM visits WHERE id = %s", (visit_id,)
        ).fetchone()
        crew = db.execute(
            "SELECT technician_id FROM visit_technicians WHERE visit_id = %s "
            "ORDER BY is_lead DESC, id",
            (visit_id,),
        ).fetchall()
    assert row is not None
    starts, ends, status, version = row
    return Booked(
        starts.astimezone(TZ) if starts else None,
        ends.astimezone(TZ) if ends else None,
        status,
        tuple(c[0] for c in crew),
        version,
    )


def visits_by_start(url: str) -> list[int]:
    """The small company's booked visits: [08:00 Ava, 10:00 Ava+Marcus crew, 13:00 Marcus]."""
    with psycopg.connect(libpq_url(url)) as db:
        rows = db.execute("SELECT id FROM visits WHERE starts IS NOT NULL ORDER BY starts")
        return [r[0] for r in rows]


@dataclass
class Board:
    app: DispatchApp
    view: DayBoardView
    url: str
    techs: dict[str, int]
    visits: list[int]

    @property
    def widget(self):
        return self.view.viewport()

    def x(self, moment: dt.datetime) -> int:
        return round(self.view.grid().x_of(moment))

    def y(self, name: str) -> int:
        row = self.view.rows.index_of(self.techs[name])
        assert row is not None, f"{name} is not a row"
        return self.view.rows.top_of(row, self.view.verticalScrollBar().value()) + ROW_HEIGHT // 2

    def point(self, name: str, moment: dt.datetime) -> QPoint:
        return QPoint(self.x(moment), self.y(name))

    def block_centre(self, visit_id: int, name: str) -> QPoint:
        rect = self.view.block_rect(visit_id, self.techs[name])
        assert rect is not None
        return rect.center().toPoint()


@pytest.fixture
def board(loop, start, db_url, tmp_path, settings_dir):
    techs = small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    view = app.window.board
    # Show the whole working day without scrolling sideways, as on a wide screen; and
    # make the window active, so shortcuts (Ctrl+Z) reach it as on a desk. Widget calls
    # run inside the event loop, as in the app: the web map may process events in them.
    act(loop, lambda: app.window.resize(2400, 900))
    pump_until(loop, lambda: view.viewport().width() > 1500)
    act(loop, lambda: view.horizontalScrollBar().setValue(0))
    act(loop, app.window.activateWindow)
    pump_until(loop, lambda: QApplication.activeWindow() == app.window)
    return Board(app, view, db_url, techs, visits_by_start(db_url))


def drag(
    loop, board: Board, start: QPoint, end: QPoint, *, modifiers=Qt.KeyboardModifier.NoModifier
):
    """Press, move in steps (as a hand does), release."""

    def gesture() -> None:
        widget = board.widget
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifiers, start)
        for step in range(1, 9):
            QTest.mouseMove(widget, start + (end - start) * step / 8)
        QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifiers, end)

    act(loop, gesture)


def click(loop, board: Board, where: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    act(loop, lambda: QTest.mouseClick(board.widget, Qt.MouseButton.LeftButton, modifiers, where))


def key(loop, board: Board, name: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    act(loop, lambda: QTest.keyClick(board.view, name, modifiers))


def until_booked(loop, board: Board, visit_id: int, **expected) -> Booked:
    def matches() -> bool:
        state = booked(board.url, visit_id)
        return all(getattr(state, name) == value for name, value in expected.items())

    pump_until(loop, matches, timeout=15)
    return booked(board.url, visit_id)


def until_idle(loop, board: Board) -> None:
    pump_until(
        loop,
        lambda: (
            not board.app.window.board_actions.busy and not board.app.window.board_actions._tasks
        ),
    )


# --- moving in time, to another technician, resizing ------------------------------------
def test_dragging_a_visit_later_moves_it_in_the_database(loop, board):
    first = board.visits[0]  # Ava 08:00–09:30
    grab = board.block_centre(first, "Ava Kowalski")
    drop = grab + QPoint(board.x(at(8, 30)) - board.x(at(8)), 0)
    drag(loop, board, grab, drop)
    state = until_booked(loop, board, first, starts=at(8, 30))
    assert state.ends == at(10)  # the length is kept
    assert state.crew == (board.techs["Ava Kowalski"],)
    # The board shows it there too, once the database said so.
    pump_until(loop, lambda: board.app.store.visit(first).starts == at(8, 30))


def test_dragging_to_another_row_reassigns_the_visit(loop, board):
    last = board.visits[2]  # Marcus 13:00–14:00
    grab = board.block_centre(last, "Marcus Lee")
    drop = QPoint(grab.x(), board.y("Ava Kowalski"))
    drag(loop, board, grab, drop)
    state = until_booked(loop, board, last, crew=(board.techs["Ava Kowalski"],))
    assert (state.starts, state.ends) == (at(13), at(14))


def test_dragging_the_right_edge_changes_the_duration(loop, board):
    first = board.visits[0]
    rect = board.view.block_rect(first, board.techs["Ava Kowalski"])
    edge = QPoint(round(rect.right()) - 2, round(rect.center().y()))
    drag(loop, board, edge, QPoint(board.x(at(9, 45)) + 1, edge.y()))
    state = until_booked(loop, board, first, ends=at(9, 45))
    assert state.starts == at(8)


def test_moving_a_crew_visit_in_one_row_keeps_the_other_member(loop, board):
    crew_visit = board.visits[1]  # Ava + Marcus 10:00–12:00
    grab = board.block_centre(crew_visit, "Ava Kowalski")
    drag(loop, board, grab, QPoint(grab.x(), board.y("Noor Haddad")))
    # Noor is off on Tuesdays: a soft rule asks first.
    pump_until(loop, lambda: board.app.window.board_actions.question is not None)
    answer(loop, board, "Book anyway")
    state = until_booked(
        loop, board, crew_visit, crew=(board.techs["Noor Haddad"], board.techs["Marcus Lee"])
    )
    assert state.starts == at(10)


# --- the unassigned queue ---------------------------------------------------------------
def queue_mime(board: Board) -> tuple[int, QMimeData]:
    model = board.app.window.unassigned.model
    job = model.job(0)
    return job.visit_id, model.mimeData([model.index(0, 0)])


def test_dropping_a_queue_job_on_a_row_schedules_it(loop, board):
    visit_id, mime = queue_mime(board)
    target = QPointF(board.point("Ava Kowalski", at(13)))

    def drop() -> None:
        widget = board.widget
        actions = Qt.DropAction.MoveAction
        buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        enter = QDragEnterEvent(target.toPoint(), actions, mime, buttons, modifiers)
        QApplication.sendEvent(widget, enter)
        assert enter.isAccepted()
        move = QDragMoveEvent(target.toPoint(), actions, mime, buttons, modifiers)
        QApplication.sendEvent(widget, move)
        assert board.view.drag_verdict() is not None
        assert board.view.drag_verdict().level == "ok"
        QApplication.sendEvent(widget, QDropEvent(target, actions, mime, buttons, modifiers))

    act(loop, drop)
    state = until_booked(loop, board, visit_id, crew=(board.techs["Ava Kowalski"],))
    assert (state.starts, state.ends) == (at(13), at(14, 30))  # the job type's 90 minutes
    assert state.status == "scheduled"
    pump_until(loop, lambda: board.app.window.unassigned.model.rowCount() == 0)
    # Undo puts it back exactly as it was: waiting, with no time and no technician.
    until_idle(loop, board)
    key(loop, board, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    state = until_booked(loop, board, visit_id, crew=(), starts=None)
    assert (state.ends, state.status) == (None, "unscheduled")
    pump_until(loop, lambda: board.app.window.unassigned.model.rowCount() == 1)


def test_delete_sends_the_selected_visit_back_to_the_queue(loop, board):
    first = board.visits[0]
    click(loop, board, board.block_centre(first, "Ava Kowalski"))
    key(loop, board, Qt.Key.Key_Delete)
    state = until_booked(loop, board, first, crew=())
    assert state.starts == at(8)  # it keeps the time the customer was promised
    pump_until(loop, lambda: board.app.window.unassigned.model.job_of_visit(first) is not None)


def test_dragging_a_block_onto_the_queue_unassigns_it(loop, board):
    first = board.visits[0]
    queue = board.app.window.unassigned
    over_queue = board.widget.mapFromGlobal(queue.mapToGlobal(queue.rect().center()))
    drag(loop, board, board.block_centre(first, "Ava Kowalski"), over_queue)
    until_booked(loop, board, first, crew=())


# --- several at once, undo, keys --------------------------------------------------------
def test_ctrl_click_selects_two_and_they_move_together(loop, board):
    first, crew_visit = board.visits[0], board.visits[1]
    click(loop, board, board.block_centre(first, "Ava Kowalski"))
    click(
        loop,
        board,
        board.block_centre(crew_visit, "Ava Kowalski"),
        Qt.KeyboardModifier.ControlModifier,
    )
    assert {v.id for v in board.view.selected_visits()} == {first, crew_visit}
    grab = board.block_centre(first, "Ava Kowalski")
    drag(loop, board, grab, grab + QPoint(board.x(at(8, 30)) - board.x(at(8)), 0))
    until_booked(loop, board, first, starts=at(8, 30))
    state = until_booked(loop, board, crew_visit, starts=at(10, 30))
    assert state.ends == at(12, 30)


def test_rubber_band_selects_the_blocks_it_touches(loop, board):
    first, crew_visit = board.visits[0], board.visits[1]
    start = QPoint(board.x(at(7, 15)), board.y("Ava Kowalski") - 20)
    end = QPoint(board.x(at(11)), board.y("Ava Kowalski") + 20)
    drag(loop, board, start, end)
    assert {v.id for v in board.view.selected_visits()} == {first, crew_visit}


def test_undo_and_redo_go_through_the_database(loop, board):
    first = board.visits[0]
    grab = board.block_centre(first, "Ava Kowalski")
    drag(loop, board, grab, grab + QPoint(board.x(at(8, 30)) - board.x(at(8)), 0))
    until_booked(loop, board, first, starts=at(8, 30))
    until_idle(loop, board)
    key(loop, board, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    until_booked(loop, board, first, starts=at(8))
    until_idle(loop, board)
    key(
        loop,
        board,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    until_booked(loop, board, first, starts=at(8, 30))


def test_undo_refuses_to_overwrite_a_colleagues_later_change(loop, board):
    first = board.visits[0]
    grab = board.block_centre(first, "Ava Kowalski")
    drag(loop, board, grab, grab + QPoint(board.x(at(8, 30)) - board.x(at(8)), 0))
    until_booked(loop, board, first, starts=at(8, 30))
    until_idle(loop, board)
    with psycopg.connect(libpq_url(board.url)) as db:  # another workstation moves it on
        db.execute(
            "UPDATE visits SET starts = %s, ends = %s WHERE id = %s", (at(7), at(8, 30), first)
        )
    messages: list[str] = []
    board.app.window.board_actions.problem.connect(messages.append)
    key(loop, board, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    pump_until(loop, lambda: messages)
    assert "Could not undo" in messages[0] and "moved by" in messages[0]
    assert booked(board.url, first).starts == at(7)  # their change stands
    until_idle(loop, board)
    assert board.app.window.board_actions.stack.canUndo()  # the stack stepped back


def test_arrow_keys_move_by_one_snap_and_one_row(loop, board):
    first = board.visits[0]
    click(loop, board, board.block_centre(first, "Ava Kowalski"))
    key(loop, board, Qt.Key.Key_Right)
    until_booked(loop, board, first, starts=at(8, 15))
    until_idle(loop, board)
    pump_until(loop, lambda: board.app.store.visit(first).starts == at(8, 15))
    key(loop, board, Qt.Key.Key_Down)  # to Marcus's row: he is free 08:15–09:45
    until_booked(loop, board, first, crew=(board.techs["Marcus Lee"],))


# --- rules ------------------------------------------------------------------------------
def test_a_drop_onto_another_visit_is_refused_with_the_reason(loop, board):
    first = board.visits[0]
    messages: list[str] = []
    board.app.window.board_actions.problem.connect(messages.append)
    grab = board.block_centre(first, "Ava Kowalski")
    before = booked(board.url, first)

    def half_way() -> None:
        widget = board.widget
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, grab)
        target = grab + QPoint(board.x(at(10)) - board.x(at(8)), 0)
        for step in range(1, 9):
            QTest.mouseMove(widget, grab + (target - grab) * step / 8)

    act(loop, half_way)
    verdict = board.view.drag_verdict()
    assert verdict is not None and verdict.level == "refuse"
    assert "Overlaps" in verdict.message() and "WO-" in verdict.message()
    target = grab + QPoint(board.x(at(10)) - board.x(at(8)), 0)
    act(
        loop,
        lambda: QTest.mouseRelease(
            board.widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target
        ),
    )
    assert messages and "Overlaps" in messages[0]
    until_idle(loop, board)
    assert booked(board.url, first) == before


def answer(loop, board: Board, text: str) -> None:
    box = board.app.window.board_actions.question
    assert isinstance(box, QMessageBox)
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    assert isinstance(button, QPushButton)
    act(loop, lambda: QTest.mouseClick(button, Qt.MouseButton.LeftButton))


def test_outside_the_shift_asks_once_and_books_when_confirmed(loop, board):
    last = board.visits[2]  # Marcus 13:00–14:00; his shift ends 15:30
    grab = board.block_centre(last, "Marcus Lee")
    drag(loop, board, grab, grab + QPoint(board.x(at(15)) - board.x(at(13)), 0))
    pump_until(loop, lambda: board.app.window.board_actions.question is not None)
    box = board.app.window.board_actions.question
    assert "shift" in box.informativeText()
    answer(loop, board, "Book anyway")
    state = until_booked(loop, board, last, starts=at(15))
    assert state.ends == at(16)


def test_a_soft_rule_question_declined_changes_nothing(loop, board):
    last = board.visits[2]
    before = booked(board.url, last)
    grab = board.block_centre(last, "Marcus Lee")
    drag(loop, board, grab, grab + QPoint(board.x(at(15)) - board.x(at(13)), 0))
    pump_until(loop, lambda: board.app.window.board_actions.question is not None)
    answer(loop, board, "Cancel")
    until_idle(loop, board)
    assert booked(board.url, last) == before


# --- status from the context menu -------------------------------------------------------
def open_menu(loop, board: Board, visit_id: int, name: str):
    where = board.block_centre(visit_id, name)
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, where, board.widget.mapToGlobal(where)
    )
    act(loop, lambda: QApplication.sendEvent(board.widget, event))
    menu = board.app.window.board_actions.menu
    assert menu is not None
    return menu


def choose(loop, menu, status: str) -> None:
    """Click the menu entry for ``status``, as the mouse does (which also closes the menu)."""
    action = next(a for a in menu.actions() if a.data() == status)
    where = menu.actionGeometry(action).center()
    act(loop, lambda: QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=where))


def test_context_menu_dispatches_a_visit(loop, board):
    first = board.visits[0]
    menu = open_menu(loop, board, first, "Ava Kowalski")
    labels = [a.text() for a in menu.actions() if a.text()]
    assert "Dispatched" in labels and "Cancelled…" in labels
    choose(loop, menu, "dispatched")
    until_booked(loop, board, first, status="dispatched")


def test_cancelling_from_the_menu_asks_for_a_reason(loop, board):
    first = board.visits[0]
    menu = open_menu(loop, board, first, "Ava Kowalski")
    choose(loop, menu, "cancelled")
    dialog = board.app.window.board_actions.reason_dialog
    assert dialog is not None
    dialog.setTextValue("Customer fixed it herself — déjà vu")
    act(loop, dialog.accept)
    until_booked(loop, board, first, status="cancelled")
    with psycopg.connect(libpq_url(board.url)) as db:
        reason = db.execute(
            "SELECT w.cancel_reason FROM work_orders w JOIN visits v ON v.work_order_id = w.id "
            "WHERE v.id = %s",
            (first,),
        ).fetchone()[0]
    assert reason == "Customer fixed it herself — déjà vu"


# --- live: someone else moves what I am dragging ----------------------------------------
def test_a_visit_moved_elsewhere_mid_drag_meets_the_conflict_path(loop, board):
    first = board.visits[0]
    messages: list[str] = []
    board.app.window.board_actions.problem.connect(messages.append)
    grab = board.block_centre(first, "Ava Kowalski")
    target = grab + QPoint(board.x(at(8, 30)) - board.x(at(8)), 0)

    def start_dragging() -> None:
        QTest.mousePress(
            board.widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, grab
        )
        for step in range(1, 9):
            QTest.mouseMove(board.widget, grab + (target - grab) * step / 8)

    act(loop, start_dragging)
    with psycopg.connect(libpq_url(board.url)) as db:
        db.execute(
            "UPDATE visits SET starts = %s, ends = %s WHERE id = %s", (at(7), at(8, 30), first)
        )
    # The block moves on screen while the user still holds it.
    pump_until(loop, lambda: board.app.store.visit(first).starts == at(7))
    act(
        loop,
        lambda: QTest.mouseRelease(
            board.widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target
        ),
    )
    pump_until(loop, lambda: messages)
    assert "was moved by" in messages[0] and "not applied" in messages[0]
    assert booked(board.url, first).starts == at(7)


def test_undoing_a_status_walks_back_through_the_allowed_steps(loop, board):
    first = board.visits[0]
    menu = open_menu(loop, board, first, "Ava Kowalski")
    choose(loop, menu, "on_site")
    until_booked(loop, board, first, status="on_site")
    until_idle(loop, board)
    key(loop, board, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    until_booked(loop, board, first, status="scheduled")
    with psycopg.connect(libpq_url(board.url)) as db:
        steps = db.execute(
            "SELECT from_status, to_status FROM status_history WHERE visit_id = %s ORDER BY id",
            (first,),
        ).fetchall()
    assert steps == [
        ("scheduled", "on_site"),
        ("on_site", "en_route"),
        ("en_route", "dispatched"),
        ("dispatched", "scheduled"),
    ]


def test_delete_on_a_completed_visit_says_why_and_changes_nothing(loop, board):
    first = board.visits[0]
    with psycopg.connect(libpq_url(board.url)) as db:  # the technician finished it
        db.execute("UPDATE visits SET status = 'completed' WHERE id = %s", (first,))
        (number,) = db.execute(
            "SELECT o.number FROM work_orders o JOIN visits v ON v.work_order_id = o.id "
            "WHERE v.id = %s",
            (first,),
        ).fetchone()
    pump_until(loop, lambda: board.app.store.visit(first).status == "completed")
    before = booked(board.url, first)
    messages: list[str] = []
    board.app.window.board_actions.problem.connect(messages.append)
    click(loop, board, board.block_centre(first, "Ava Kowalski"))
    key(loop, board, Qt.Key.Key_Delete)
    pump_until(loop, lambda: messages)
    assert messages == [f"{number}'s visit is completed: reopen it before unassigning it."]
    until_idle(loop, board)
    assert booked(board.url, first) == before
    assert board.app.window.unassigned.model.job_of_visit(first) is None
