"""Arrival windows: skills, shifts, existing visits and drive time decide what a CSR may
promise; plain functions, no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dispatch_app.domain.availability import WindowPlan, arrival_windows
from dispatch_app.domain.dispatch_rules import BookedVisit, TechnicianProfile
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.scheduling import Shift, TimeSpan

TZ = ZoneInfo("America/Chicago")
TUESDAY = dt.date(2026, 12, 1)
LOOP = (41.8781, -87.6298)
OHARE = (41.9742, -87.9073)  # about 25 km from the Loop: ~49 min at 40 km/h × 1.3
DRIVE = DriveEstimate(1.3, 40.0)


def at(hour: int, minute: int = 0, day: dt.date = TUESDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def tech(
    tech_id: int, skills: dict[str, int], start: str = "08:00", end: str = "16:00", day=TUESDAY
) -> TechnicianProfile:
    shift = Shift(day.weekday(), dt.time.fromisoformat(start), dt.time.fromisoformat(end))
    return TechnicianProfile(tech_id, f"Tech {tech_id}", skills, (shift.span_on(day, TZ),))


def windows(technicians, *, duration=90, skills=None, place=LOOP, **extra):
    return arrival_windows(
        days=[extra.pop("day", TUESDAY)],
        tz=TZ,
        duration=dt.timedelta(minutes=duration),
        required_skills=skills or {},
        place=place,
        technicians=technicians,
        drive=DRIVE,
        **extra,
    )


def starts(found) -> list[int]:
    return [w.span.start.hour for w in found]


def test_a_free_technician_offers_every_window_the_job_fits_in():
    found = windows([(tech(1, {}), [])])
    # 08–10, 10–12, 12–14 and 14–16: a 90-minute job arriving by 14:30 ends by 16:00.
    assert starts(found) == [8, 10, 12, 14]
    assert found[-1].earliest == at(14)
    assert all(w.technician_ids == (1,) for w in found)


def test_the_job_must_end_inside_the_shift():
    found = windows([(tech(1, {}, end="13:00"), [])])
    assert starts(found) == [8, 10]  # arriving at 11:30 is the last that ends by 13:00


def test_skills_and_levels_decide_who_can_take_it():
    novice, expert = tech(1, {"boiler": 1}), tech(2, {"boiler": 4})
    found = windows([(novice, []), (expert, [])], skills={"boiler": 3})
    assert {w.technician_ids for w in found} == {(2,)}
    assert windows([(novice, [])], skills={"boiler": 3}) == []
    assert windows([(tech(3, {}), [])], skills={"boiler": 1}) == []


def test_booked_visits_take_their_time_and_touching_is_fine():
    busy = [BookedVisit(10, "WO-10010", TimeSpan(at(8), at(12)), LOOP)]
    found = windows([(tech(1, {}), busy)])
    assert starts(found) == [12, 14]
    assert found[0].earliest == at(12)  # straight after: same place, no drive


def test_drive_time_from_the_visit_before_is_respected():
    far = [BookedVisit(10, "WO-10010", TimeSpan(at(8), at(10)), OHARE)]
    found = windows([(tech(1, {}), far)])
    assert found[0].span.start == at(10)
    assert found[0].earliest == at(11)  # 10:00 + ~49 min of driving, on the next step


def test_drive_time_to_the_visit_after_is_respected():
    later = [BookedVisit(10, "WO-10010", TimeSpan(at(11), at(12)), OHARE)]
    found = windows([(tech(1, {}), later)], duration=60)
    morning = found[0]
    # A one-hour job must leave ~49 min to reach O'Hare by 11:00: arrive by 09:00.
    assert morning.span.start == at(8) and morning.earliest == at(8)
    assert all(not (at(9, 15) <= w.earliest < at(12)) for w in found)


def test_several_technicians_are_listed_earliest_first():
    first = tech(1, {}, start="09:00")
    second = tech(2, {}, start="08:00")
    (eight, *_rest) = windows([(first, []), (second, [])])
    assert eight.technician_ids == (2, 1)  # 2 can arrive at 08:00, 1 only at 09:00
    assert eight.earliest == at(8)


def test_nothing_is_promised_in_the_past():
    found = windows([(tech(1, {}), [])], not_before=at(10, 20))
    assert starts(found) == [10, 12, 14]
    assert found[0].earliest == at(10, 30)


def test_a_night_shift_crossing_midnight_counts():
    night = tech(1, {}, start="20:00", end="04:00")
    plan = WindowPlan(first_hour=18, last_hour=24, window_hours=2)
    found = windows([(night, [])], plan=plan, duration=60)
    assert starts(found) == [20, 22]


def test_windows_follow_the_wall_clock_on_the_autumn_change():
    sunday = dt.date(2026, 11, 1)  # 01:00–02:00 happens twice in Chicago
    worker = tech(1, {}, start="00:00", end="06:00", day=sunday)
    plan = WindowPlan(first_hour=0, last_hour=6, window_hours=2)
    found = windows([(worker, [])], plan=plan, duration=60, day=sunday)
    assert [w.span.start.hour for w in found] == [0, 2, 4]
    assert found[0].span.duration == dt.timedelta(hours=3)  # 00:00–02:00 is three hours long


def test_impossible_requests_are_refused():
    with pytest.raises(ValueError, match="some time"):
        windows([(tech(1, {}), [])], duration=0)
    with pytest.raises(ValueError):
        WindowPlan(first_hour=18, last_hour=8)
    with pytest.raises(ValueError, match="time zone"):
        windows([(tech(1, {}), [])], not_before=dt.datetime(2026, 12, 1, 10))


def test_the_search_looks_ahead_over_working_days_until_it_has_enough():
    from dispatch_app.domain.availability import search_windows

    friday = dt.date(2026, 12, 4)
    weekdays = tuple(
        Shift(d.weekday(), dt.time(8), dt.time(16)).span_on(d, TZ)
        for d in (friday + dt.timedelta(days=n) for n in range(14))
        if d.weekday() < 5
    )
    worker = TechnicianProfile(1, "Weekdays", {"boiler": 3}, weekdays)
    found = search_windows(
        first_day=friday,
        tz=TZ,
        duration=dt.timedelta(minutes=90),
        required_skills={"boiler": 2},
        place=LOOP,
        technicians=[(worker, [])],
        drive=DRIVE,
        not_before=at(16, day=friday),
        wanted=9,
    )
    # Friday's shift is over at 16:00; the weekend is skipped; Monday and Tuesday give
    # four windows each, Wednesday the ninth.
    assert [w.span.start.date().isoformat() for w in found.windows] == (
        ["2026-12-07"] * 4 + ["2026-12-08"] * 4 + ["2026-12-09"]
    )
    assert found.last_day == dt.date(2026, 12, 9)
    assert found.working_days == (
        friday,
        dt.date(2026, 12, 7),
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 9),
    )


def test_the_search_stops_at_its_horizon_and_skips_those_without_the_skills():
    from dispatch_app.domain.availability import search_windows

    tuesday_only = tech(1, {"boiler": 3})
    novice = TechnicianProfile(
        2,
        "Every day",
        {"boiler": 1},
        tuple(
            Shift(day.weekday(), dt.time(8), dt.time(16)).span_on(day, TZ)
            for day in (TUESDAY + dt.timedelta(days=n) for n in range(14))
        ),
    )
    found = search_windows(
        first_day=TUESDAY,
        tz=TZ,
        duration=dt.timedelta(minutes=90),
        required_skills={"boiler": 3},
        place=LOOP,
        technicians=[(tuesday_only, []), (novice, [])],
        drive=DRIVE,
        wanted=9,
        max_days=5,
    )
    assert found.working_days == (TUESDAY,)  # the novice's days are not the expert's
    assert len(found.windows) == 4
    assert found.last_day == TUESDAY + dt.timedelta(days=4)
