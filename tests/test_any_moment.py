"""The demo company opened at awkward moments: a Friday afternoon, a Sunday, both nights
the clocks change, a minute to midnight. The board shows the clock's today, draws its
now line where the clock says, and is no wall of LATE badges."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from sqlalchemy.orm import Session

from dispatch_app.db.engine import make_sync_engine
from dispatch_app.domain.clock import FixedClock
from dispatch_app.services.demo import seed_demo
from dispatch_app.ui import theme
from dispatch_app.ui.board.rows import HEADER_HEIGHT
from tests.companies import MOMENTS, TZ
from tests.qt_app import act, options_for, pump_until, wait_for

LATE_GRACE = dt.timedelta(minutes=15)
WAITING = ("scheduled", "dispatched")


def red(colour: QColor) -> bool:
    line = theme.NOW_LINE
    return all(
        abs(a - b) <= 40
        for a, b in zip(
            (colour.red(), colour.green(), colour.blue()),
            (line.red(), line.green(), line.blue()),
            strict=True,
        )
    )


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_the_demo_board_at_any_moment(loop, start, db_url, tmp_path, settings_dir, moment):
    now = MOMENTS[moment]
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo(session, now=now)
    finally:
        engine.dispose()
    app, task = start(options_for(db_url, tmp_path, FixedClock(now)))
    wait_for(loop, app.loaded, task)
    view = app.window.board
    act(loop, lambda: app.window.resize(2400, 900))
    pump_until(loop, lambda: view.viewport().width() > 1500 and view.rows.rows)

    today = now.astimezone(TZ).date()
    assert view.day() == today
    visits = app.store.visits()
    late = [
        v
        for v in visits
        if v.status in WAITING
        and v.arrival_window is not None
        and v.arrival_window.end + LATE_GRACE < now
    ]
    assert len(late) <= 2, f"{len(late)} LATE badges at {moment}"
    on_board_today = [v for v in visits if v.starts.astimezone(TZ).date() == today]
    if now.astimezone(TZ).hour >= 12 and today.weekday() < 5:
        assert any(v.status == "completed" for v in on_board_today)

    grid = view.grid()
    if grid.piece_of(now) is None:
        # Only the small hours fall outside the board's hours: nothing to draw then.
        assert not 6 <= now.astimezone(TZ).hour < 22, f"{moment} is off the board"
        return
    x = round(grid.x_of(now))
    if not 0 <= x < view.viewport().width():
        act(loop, lambda: view.horizontalScrollBar().setValue(x - 600))
        pump_until(loop, lambda: 0 <= round(view.grid().x_of(now)) < view.viewport().width())
        x = round(view.grid().x_of(now))
    image = view.viewport().grab().toImage()
    bottom = min(image.height(), HEADER_HEIGHT + 40 * len(view.rows.rows)) - 5
    samples = range(HEADER_HEIGHT + 10, bottom, 37)
    assert all(red(image.pixelColor(x, y)) or red(image.pixelColor(x - 1, y)) for y in samples), (
        f"no now line at x={x}"
    )
    # A line, not a red board: a little to either side it is gone.
    for off in (-30, 30):
        assert not all(red(image.pixelColor(x + off, y)) for y in samples)
    QApplication.processEvents()
