"""Impossible times are refused with a sentence: visits in year 1 or 9999, a visit ten
years long, a promise two years before its visit, a booking years ahead — by the
operations, by the database for any client, and by the command line and the board
for the days they are asked to show."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain import time_bounds
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_store import DayStore
from dispatch_app.services.intake import Appointment, CallBooking, book_call
from dispatch_app.services.visits import VisitMove, move_visits
from tests.companies import DAY, TZ, clock_at, small_company

ROOT = Path(__file__).resolve().parents[1]
CLOCK = clock_at(6)
TODAY = DAY


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


# -- the bounds on their own -----------------------------------------------------------
@pytest.mark.parametrize(
    ("starts", "ends", "words"),
    [
        (
            dt.datetime(1, 1, 1, 9, tzinfo=dt.UTC),
            dt.datetime(1, 1, 1, 10, tzinfo=dt.UTC),
            "is in 1; give a date between 2000 and 2099.",
        ),
        (
            dt.datetime(9999, 12, 31, 9, tzinfo=TZ),
            dt.datetime(9999, 12, 31, 23, tzinfo=TZ),
            "is in 9999",
        ),
        (at(9), at(9) + dt.timedelta(days=3650), "would last 3,650 days; a visit lasts at most 7"),
        (at(10), at(9), "must end after it starts."),
        (
            at(9, day=DAY + dt.timedelta(days=731)),
            at(10, day=DAY + dt.timedelta(days=731)),
            "visits are booked at most 2 years ahead (until Thu 30 Nov 2028).",
        ),
        (
            at(9, day=DAY - dt.timedelta(days=31)),
            at(10, day=DAY - dt.timedelta(days=31)),
            "a visit can be placed at most 30 days back (from Sun 1 Nov 2026).",
        ),
    ],
)
def test_a_booking_out_of_bounds_is_a_sentence_never_an_overflow(starts, ends, words) -> None:
    problem = time_bounds.booking_problem(starts, ends, today=TODAY, tz=TZ)
    assert problem is not None and problem.startswith("The visit") and words in problem, problem


def test_a_booking_within_bounds_passes() -> None:
    for starts in (
        at(9),
        at(9, day=DAY + dt.timedelta(days=730)),
        at(9, day=DAY - dt.timedelta(days=30)),
    ):
        assert (
            time_bounds.booking_problem(starts, starts + dt.timedelta(days=7), today=TODAY, tz=TZ)
            is None
        )


def test_an_arrival_window_belongs_near_its_visit() -> None:
    visit = at(9)
    assert time_bounds.arrival_window_problem(at(8), at(12), visit) is None
    two_years_before = visit - dt.timedelta(days=730)
    assert "within 30 days of the visit" in (
        time_bounds.arrival_window_problem(
            two_years_before, two_years_before + dt.timedelta(hours=4), visit
        )
        or ""
    )
    assert time_bounds.arrival_window_problem(at(8), at(8) + dt.timedelta(days=2), visit) == (
        "An arrival window lasts at most 24 hours."
    )


@pytest.mark.parametrize(
    "day", [dt.date(1, 1, 1), dt.date(1999, 12, 31), dt.date(2100, 1, 1), dt.date(9999, 12, 31)]
)
def test_the_board_shows_only_the_schedules_years(day) -> None:
    assert time_bounds.day_problem(day) == (
        f"{day.isoformat()} is outside the schedule; choose a day from Sat 1 Jan 2000 "
        "to Thu 31 Dec 2099."
    )


# -- the operations ----------------------------------------------------------------------
@pytest.fixture
def company(db_url: str) -> dict[str, int | str]:
    small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        first, version = db.execute(
            "SELECT id, version FROM visits WHERE starts IS NOT NULL ORDER BY starts LIMIT 1"
        ).fetchone()
        job_type = db.execute("SELECT id FROM job_types").fetchone()[0]
        customer = db.execute("SELECT id FROM customers").fetchone()[0]
    return {
        "url": db_url,
        "first": first,
        "version": version,
        "job_type": job_type,
        "customer": customer,
    }


def run(url: str, work):
    async def go():
        engine = make_async_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def visits(url: str) -> list[tuple]:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute("SELECT * FROM visits ORDER BY id").fetchall()


@pytest.mark.parametrize(
    ("starts", "ends", "words"),
    [
        (
            dt.datetime(1, 1, 1, 9, tzinfo=dt.UTC),
            dt.datetime(1, 1, 1, 10, tzinfo=dt.UTC),
            "'s visit's start is in 1",
        ),
        (
            dt.datetime(9999, 12, 31, 9, tzinfo=dt.UTC),
            dt.datetime(9999, 12, 31, 10, tzinfo=dt.UTC),
            "'s visit's start is in 9999",
        ),
        (at(9), at(9) + dt.timedelta(days=3650), "'s visit would last 3,650 days"),
        (
            at(9, day=DAY + dt.timedelta(days=5 * 365)),
            at(10, day=DAY + dt.timedelta(days=5 * 365)),
            "at most 2 years ahead",
        ),
    ],
)
def test_an_impossible_move_is_refused_with_a_sentence(company, starts, ends, words) -> None:
    url = company["url"]
    before = visits(url)
    move = VisitMove(company["first"], company["version"], starts, ends)
    with pytest.raises(ValidationError) as refused:
        run(url, lambda s: move_visits(s, moves=[move], clock=CLOCK))
    assert words in refused.value.fields["visit"], refused.value.fields
    assert refused.value.fields["visit"].startswith("WO-")
    assert visits(url) == before


def test_a_visit_moved_far_from_its_promise_loses_the_promise(company) -> None:
    url = company["url"]
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "UPDATE visits SET arrival_window_start = %s, arrival_window_end = %s WHERE id = %s",
            (at(8), at(12), company["first"]),
        )
        version = db.execute(
            "SELECT version FROM visits WHERE id = %s", (company["first"],)
        ).fetchone()[0]
    later = DAY + dt.timedelta(days=40)  # the customer rang to put it off until January
    move = VisitMove(company["first"], version, at(9, day=later), at(10, day=later))
    run(url, lambda s: move_visits(s, moves=[move], clock=CLOCK))
    with psycopg.connect(libpq_url(url)) as db:
        window = db.execute(
            "SELECT arrival_window_start, arrival_window_end FROM visits WHERE id = %s",
            (company["first"],),
        ).fetchone()
    assert window == (None, None)


@pytest.mark.parametrize(
    ("appointment", "words"),
    [
        (
            Appointment(
                at(9, day=DAY + dt.timedelta(days=3 * 365)),
                at(10, day=DAY + dt.timedelta(days=3 * 365)),
                at(8, day=DAY + dt.timedelta(days=3 * 365)),
                at(12, day=DAY + dt.timedelta(days=3 * 365)),
            ),
            "at most 2 years ahead",
        ),
        (
            Appointment(
                at(9), at(10), at(8) - dt.timedelta(days=730), at(12) - dt.timedelta(days=730)
            ),
            "must start within 30 days of the visit",
        ),
        (
            Appointment(at(9), at(9) + dt.timedelta(days=3650), at(8), at(12)),
            "would last 3,650 days",
        ),
    ],
)
def test_an_impossible_appointment_is_refused_at_intake(company, appointment, words) -> None:
    url = company["url"]
    before = visits(url)
    booking = CallBooking(
        job_type_id=company["job_type"],
        description="No heat",
        customer_id=company["customer"],
        appointment=appointment,
    )
    with pytest.raises(ValidationError) as refused:
        run(url, lambda s: book_call(s, booking, clock=CLOCK))
    assert words in refused.value.fields["appointment"], refused.value.fields
    assert visits(url) == before


# -- the database -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        (
            "starts = '0001-01-01 09:00+00', ends = '0001-01-01 10:00+00'",
            "ck_visits_times_in_range",
        ),
        (
            "starts = '9999-12-31 09:00+00', ends = '9999-12-31 10:00+00'",
            "ck_visits_times_in_range",
        ),
        ("ends = starts + interval '10 years'", "ck_visits_at_most_a_week"),
        (
            "arrival_window_start = starts - interval '2 years', "
            "arrival_window_end = starts - interval '2 years' + interval '4 hours'",
            "ck_visits_arrival_window_near_visit",
        ),
        (
            "arrival_window_start = starts, arrival_window_end = starts + interval '3 days'",
            "ck_visits_arrival_window_in_range",
        ),
        (
            "arrival_window_start = starts, arrival_window_end = NULL",
            "ck_visits_arrival_window_in_range",
        ),
    ],
)
def test_psql_meets_the_same_bounds(company, assignment, constraint) -> None:
    with (
        pytest.raises(psycopg.errors.CheckViolation) as refused,
        psycopg.connect(libpq_url(company["url"])) as db,
    ):
        db.execute(f"UPDATE visits SET {assignment} WHERE id = %s", (company["first"],))
    assert refused.value.diag.constraint_name == constraint


def test_psql_meets_the_bounds_on_time_entries_and_requested_windows(company) -> None:
    url = company["url"]
    with psycopg.connect(libpq_url(url)) as db:
        order, tech = db.execute(
            "SELECT v.work_order_id, t.technician_id FROM visits v "
            "JOIN visit_technicians t ON t.visit_id = v.id WHERE v.id = %s",
            (company["first"],),
        ).fetchone()
    for statement, constraint in (
        (
            "INSERT INTO time_entries (work_order_id, technician_id, started_at, ended_at) "
            f"VALUES ({order}, {tech}, '9999-12-31 08:00+00', '9999-12-31 09:00+00')",
            "ck_time_entries_times_in_range",
        ),
        (
            f"UPDATE work_orders SET requested_start = '0001-01-01 08:00+00' WHERE id = {order}",
            "ck_work_orders_requested_in_range",
        ),
    ):
        with (
            pytest.raises(psycopg.errors.CheckViolation) as refused,
            psycopg.connect(libpq_url(url)) as db,
        ):
            db.execute(statement)
        assert refused.value.diag.constraint_name == constraint


# -- the days the board is asked to show ---------------------------------------------------
@pytest.mark.parametrize(("day", "days"), [(dt.date(1, 1, 1), 1), (dt.date(9999, 12, 31), 7)])
def test_the_board_refuses_a_day_outside_the_schedule_and_keeps_its_own(company, day, days) -> None:
    async def scenario():
        engine = make_async_engine(company["url"])
        store = DayStore(session_factory(engine), DAY, clock=CLOCK)
        try:
            await store.show(DAY)
            with pytest.raises(ValidationError) as refused:
                await store.show(day, days)
            await store.resync()  # a later change hint re-reads the day still shown
            return refused.value, store.window
        finally:
            await engine.dispose()

    refused, window = asyncio.run(scenario())
    assert refused.fields["day"].startswith(f"{day.isoformat()} is outside the schedule")
    assert window is not None and window.day == DAY


def test_day_0001_01_01_on_the_command_line_is_a_sentence_and_exit_2(db_url, tmp_path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--database-url",
            db_url,
            "--day",
            "0001-01-01",
            "--screenshot",
            str(tmp_path / "x.png"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "DISPATCH_DATA_DIR": str(tmp_path), "PATH": ""},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
    assert "0001-01-01 is outside the schedule; choose a day from Sat 1 Jan 2000" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_the_years_are_the_companys_own_and_the_database_agrees(company) -> None:
    """2000–2099 on the company's clock, whichever zone it keeps: the database's bounds
    leave room for every zone on Earth."""
    for zone, first, last in (
        ("Pacific/Kiritimati", (2000, 1, 1, 0, 0), (2099, 12, 31, 23, 0)),  # UTC+14
        ("Pacific/Pago_Pago", (2000, 1, 1, 0, 0), (2099, 12, 31, 23, 0)),  # UTC−11
    ):
        tz = ZoneInfo(zone)
        starts, ends = dt.datetime(*first, tzinfo=tz), dt.datetime(*last, tzinfo=tz)
        assert time_bounds.moment_problem("The start", starts) is None
        assert time_bounds.moment_problem("The end", ends) is None
        assert time_bounds.moment_problem("The end", ends + dt.timedelta(hours=1)) == (
            "The end is in 2100; give a date between 2000 and 2099."
        )
        with psycopg.connect(libpq_url(company["url"])) as db:
            db.execute(
                "UPDATE visits SET starts = %s, ends = %s WHERE id = %s",
                (starts, starts + dt.timedelta(hours=1), company["first"]),
            )
            db.execute(
                "UPDATE visits SET starts = %s, ends = %s WHERE id = %s",
                (ends - dt.timedelta(hours=1), ends, company["first"]),
            )
