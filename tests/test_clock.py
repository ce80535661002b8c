"""The company's clock: one "now" for the rules, the operations and the screens."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dispatch_app.domain.clock import SYSTEM_CLOCK, FixedClock, local_now, today

CHICAGO = ZoneInfo("America/Chicago")


def test_a_fixed_clock_shows_its_moment_until_moved():
    clock = FixedClock(dt.datetime(2026, 12, 4, 16, 0, tzinfo=CHICAGO))
    assert clock.now() == dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)
    clock.advance(dt.timedelta(minutes=90))
    assert local_now(clock, CHICAGO) == dt.datetime(2026, 12, 4, 17, 30, tzinfo=CHICAGO)
    clock.set(dt.datetime(2026, 12, 6, 9, 0, tzinfo=CHICAGO))
    assert today(clock, CHICAGO) == dt.date(2026, 12, 6)


def test_advancing_across_the_autumn_change_counts_elapsed_time():
    # 1 November 2026, 01:30 CDT; an hour later the wall clock reads 01:30 again (CST).
    clock = FixedClock(dt.datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO))
    clock.advance(dt.timedelta(hours=1))
    wall = local_now(clock, CHICAGO)
    assert (wall.hour, wall.minute) == (1, 30)
    assert wall.utcoffset() == dt.timedelta(hours=-6)


def test_the_date_is_the_companys_not_the_computers():
    clock = FixedClock(dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC))  # Friday 21:00 Chicago
    assert today(clock, CHICAGO) == dt.date(2026, 12, 4)
    assert today(clock, ZoneInfo("Europe/Berlin")) == dt.date(2026, 12, 5)


def test_a_moment_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        FixedClock(dt.datetime(2026, 12, 4, 16, 0))


def test_the_system_clock_is_aware():
    assert SYSTEM_CLOCK.now().utcoffset() == dt.timedelta(0)
