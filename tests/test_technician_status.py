"""What a technician is doing now: one rule (``domain.statuses.technician_status``), so the
board's name column and the map's popup always say the same thing."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy.orm import Session

from dispatch_app.db.engine import make_sync_engine
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.domain.statuses import Activity, status_changes, technician_status
from dispatch_app.services.demo import seed_demo
from tests.board_day import at, visit
from tests.companies import DAY, TZ
from tests.qt_app import act, options_for, pump_until, wait_for
from tests.test_map import evaluate

SHIFT = (TimeSpan(at(7), at(15, 30)),)
TOMORROW = DAY + dt.timedelta(days=1)


def day_of_visits():
    """Done at 08:00, booked at 10:00, dispatched for 13:00."""
    return [
        visit(1, (1,), at(8), at(9), status="completed"),
        visit(2, (1,), at(10), at(11)),
        visit(3, (1,), at(13), at(14), status="dispatched"),
    ]


def says(shifts, visits, now, **days) -> str:
    return technician_status(shifts, visits, now, **days).text


def test_on_shift_a_technician_is_available_until_their_next_visit() -> None:
    visits = day_of_visits()
    assert says(SHIFT, visits, at(9)) == "Available · next 10:00"
    # 10:00 passed with nobody on the way: the next one ahead is at 13:00.
    assert says(SHIFT, visits, at(10, 30)) == "Available · next 13:00"
    assert says(SHIFT, visits, at(14)) == "Available"
    assert says(SHIFT, visits, at(6, 59)) == "Off shift"
    assert says(SHIFT, visits, at(15, 30)) == "Off shift"  # a shift ends at its end
    assert says((), visits, at(9)) == "Off today"
    status = technician_status(SHIFT, visits, at(9))
    assert (status.activity, status.visit_id, status.at) == (Activity.NEXT, 2, at(10))


def test_a_visit_under_way_says_more_than_the_shift() -> None:
    visits = day_of_visits()
    visits[2] = visit(3, (1,), at(13), at(14), status="en_route")
    assert says(SHIFT, visits, at(9)) == "En route · WO-10003"
    visits[1] = visit(2, (1,), at(10), at(11), status="on_site")
    assert says(SHIFT, visits, at(9)) == "On site · WO-10002"  # on site wins
    assert says((), visits, at(20)) == "On site · WO-10002"  # past the shift: still there
    status = technician_status(SHIFT, visits, at(9))
    assert (status.activity, status.visit_id, status.number) == (
        Activity.ON_SITE,
        2,
        "WO-10002",
    )


def test_on_another_day_what_counts_is_when_they_work() -> None:
    tomorrow = (TimeSpan(at(7, day=TOMORROW), at(15, 30, day=TOMORROW)),)
    now = at(16)  # today, looking at tomorrow
    assert says(tomorrow, [], now, first_day=TOMORROW) == "Shift 07:00–15:30"
    assert says((), [], now, first_day=TOMORROW) == "Off"
    # A night shift from the evening before says nothing about that day.
    night = (TimeSpan(at(22), at(6, day=TOMORROW)),)
    assert says(night, [], now, first_day=TOMORROW) == "Off"
    # Three days shown from today: today is among them, so it is now that counts.
    assert says(SHIFT, [], at(9), first_day=DAY, last_day=DAY + dt.timedelta(days=2)) == (
        "Available"
    )
    # That night shift seen from today, at five in the morning of the day after.
    assert says(night, [], at(5, day=TOMORROW)) == "Available"


def test_the_status_changes_with_the_clock_only_at_shift_edges_and_waiting_starts() -> None:
    moments = status_changes(SHIFT, day_of_visits())
    assert moments == [t.timestamp() for t in (at(7), at(10), at(13), at(15, 30))]
    visits = day_of_visits()
    for before, after in itertools.pairwise(moments):
        middle = dt.datetime.fromtimestamp((before + after) / 2, TZ)
        assert says(SHIFT, visits, middle) == says(SHIFT, visits, middle + dt.timedelta(minutes=9))


# -- the board and the map on the demo company ----------------------------------------
STATUS = re.compile(r"Status: (.*)")


def map_says(loop, dock, technician_id: int) -> str:
    """The status line of the technician's popup on the map page."""
    text = evaluate(
        loop,
        dock,
        f"(dispatchMap.openPopup('technician', {technician_id}), "
        # The popup closed before fades out for a moment: the one just opened is last.
        "Array.from(document.querySelectorAll('.dm-popup')).pop().innerText)",
    )
    found = STATUS.search(text or "")
    assert found, f"no status in the popup: {text!r}"
    return found.group(1).strip()


# The demo built at these moments, then looked at as its day goes on (the data staying
# as it was built): a Friday morning before most shifts, midday, late afternoon, and a
# Sunday with only the on-call technicians working.
MOMENTS = {
    "friday-07:30": dt.datetime(2026, 12, 4, 7, 30, tzinfo=TZ),
    "friday-12:00": dt.datetime(2026, 12, 4, 12, 0, tzinfo=TZ),
    "friday-16:20": dt.datetime(2026, 12, 4, 16, 20, tzinfo=TZ),
    "sunday-10:00": dt.datetime(2026, 12, 6, 10, 0, tzinfo=TZ),
}
# Looked at again this much later each time.
STEPS = (dt.timedelta(0), dt.timedelta(minutes=50), dt.timedelta(hours=2, minutes=20))


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_the_board_and_the_map_say_the_same_of_every_technician(
    loop, start, db_url, tmp_path, settings_dir, moment
) -> None:
    now = MOMENTS[moment]
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo(session, now=now)
    finally:
        engine.dispose()
    clock = FixedClock(now)
    app, task = start(options_for(db_url, tmp_path, clock))
    wait_for(loop, app.loaded, task)
    board, dock, store = app.window.board, app.window.map, app.store
    technicians = store.technicians
    pump_until(loop, lambda: dock.counts.get("technicians") == len(technicians))
    seen: set[str] = set()
    before: dict[int, str] = {}
    for step in STEPS:
        due = False
        if step:
            clock.advance(step)
            due = dock.scene.statuses_due()
            # What the map does when it next looks at the clock; the page runs scripts
            # in order, so the popups below are read after this update.
            act(loop, dock.flush)
        now_says = {}
        for tech in technicians:
            on_board = board.technician_status(tech.id)
            assert on_board is not None
            assert map_says(loop, dock, tech.id) == on_board.text, (
                f"{tech.name} at {clock.now():%H:%M}"
            )
            seen.add(on_board.activity)
            now_says[tech.id] = on_board.text
        if before and now_says != before:
            assert due, "a status changed with the clock and the map was not told"
        before = now_says
    # The day is not all one word: the comparison covered different situations.
    assert len(seen) >= 2, seen
