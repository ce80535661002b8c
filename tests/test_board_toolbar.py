"""The board's toolbar: filters narrow rows, visits and the queue; the date and zoom
controls read other days from the database."""

from __future__ import annotations

import datetime as dt

import psycopg
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dispatch_app.config import libpq_url
from dispatch_app.ui.board.grid import TimeGrid
from tests.companies import DAY, TZ
from tests.qt_app import act, pump_until
from tests.test_board_interactions import board

__all__ = ["board"]


def shown_names(board) -> list[str]:
    return [row.name for row in board.view.technician_rows()]


def test_trade_filter_narrows_rows_and_queue(loop, board):
    toolbar = board.app.window.toolbar
    assert len(shown_names(board)) == 3
    assert board.app.window.unassigned.proxy.rowCount() == 1  # the hvac emergency
    act(loop, lambda: toolbar.trade_box.setCurrentIndex(toolbar.trade_box.findData("plumbing")))
    assert shown_names(board) == ["Marcus Lee"]
    assert board.app.window.unassigned.proxy.rowCount() == 0
    act(loop, lambda: toolbar.trade_box.setCurrentIndex(0))
    assert len(shown_names(board)) == 3


def test_skill_filter_lists_the_companys_skills_and_keeps_who_has_it(loop, board):
    with psycopg.connect(libpq_url(board.url)) as db:
        skill = db.execute(
            "INSERT INTO skills (code, name, trade) VALUES ('boiler', 'Boilers', 'hvac') "
            "RETURNING id"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO technician_skills (technician_id, skill_id, level) VALUES (%s, %s, 4)",
            (board.techs["Ava Kowalski"], skill),
        )
    toolbar = board.app.window.toolbar
    pump_until(loop, lambda: toolbar.skill_box.findData("boiler") > 0)
    act(loop, lambda: toolbar.skill_box.setCurrentIndex(toolbar.skill_box.findData("boiler")))
    assert shown_names(board) == ["Ava Kowalski"]


def test_search_fades_what_does_not_match(loop, board):
    toolbar = board.app.window.toolbar
    first = board.app.store.visit(board.visits[0])
    act(loop, lambda: QTest.keyClicks(toolbar.search_edit, first.number))
    pump_until(loop, lambda: board.view._matches == frozenset({first.id}))
    assert board.app.window.unassigned.proxy.rowCount() == 0
    act(loop, toolbar.search_edit.clear)
    pump_until(loop, lambda: board.view._matches is None)


def test_next_day_and_today_read_other_days(loop, board):
    toolbar = board.app.window.toolbar
    act(loop, toolbar.next_button.click)
    pump_until(loop, lambda: board.app.store.window.day == DAY + dt.timedelta(days=1))
    assert board.view.day() == DAY + dt.timedelta(days=1)
    assert board.app.store.visits() == []  # nothing booked on Wednesday
    assert toolbar.date_edit.date().toPython() == DAY + dt.timedelta(days=1)
    act(loop, toolbar.next_button.click)
    pump_until(loop, lambda: board.app.store.window.day == DAY + dt.timedelta(days=2))
    act(loop, toolbar.today_button.click)  # the company's clock says 07:00 on DAY
    pump_until(loop, lambda: board.app.store.window.day == DAY)
    assert board.view.day() == DAY


def test_three_day_zoom_shows_three_days_side_by_side(loop, board):
    toolbar = board.app.window.toolbar
    act(
        loop,
        lambda: QTest.mouseClick(toolbar.zoom_group.button(3), Qt.MouseButton.LeftButton),
    )
    pump_until(loop, lambda: board.app.store.window.days == 3)
    grid = board.view.grid()
    assert [piece.day for piece in grid.pieces] == [DAY + dt.timedelta(days=n) for n in range(3)]
    assert len(board.app.store.visits()) == 3  # Tuesday's visits are still on the board
    first = board.app.store.visit(board.visits[0])
    assert board.view.block_rect(first.id) is not None


def test_the_grid_keeps_time_across_the_autumn_change():
    """On 1 November 2026 Chicago's 01:00–02:00 happens twice; the board shows both."""
    day = dt.date(2026, 11, 1)
    grid = TimeGrid.build([day], 0, 6, TZ, 100.0)
    first_pass = dt.datetime(2026, 11, 1, 1, 30, tzinfo=TZ)  # CDT
    second_pass = dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=TZ)  # CST, an hour later
    assert grid.x_of(second_pass) - grid.x_of(first_pass) == 100.0
    assert grid.content_width == 700.0  # midnight to 06:00 is seven hours that day
    for moment in (first_pass, second_pass):
        back = grid.time_at(grid.x_of(moment))
        assert back.timestamp() == moment.timestamp()
