"""The placement rules of the dispatch board and the distances they use: pure functions,
checked without a database or Qt, with the two 2026 clock-change days of Chicago."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch_app.domain.dispatch_rules import (
    BookedVisit,
    Finding,
    Placement,
    Rule,
    Severity,
    TechnicianProfile,
    can_take,
    check_placement,
    finished_finding,
    gaps_needed,
    questions,
    refusals,
    shifted,
    snap,
)
from dispatch_app.domain.geo import DriveEstimate, Place, distance_km
from dispatch_app.domain.scheduling import Shift, TimeSpan

CHICAGO = ZoneInfo("America/Chicago")
TUESDAY = dt.date(2026, 5, 12)
SPRING_FORWARD = dt.date(2026, 3, 8)  # 02:00 CST becomes 03:00 CDT
FALL_BACK = dt.date(2026, 11, 1)  # 02:00 CDT becomes 01:00 CST: 01:00–02:00 happens twice

LOOP: Place = (41.8781, -87.6298)
OHARE: Place = (41.9742, -87.9073)
DRIVE = DriveEstimate()
LOOP_TO_OHARE_MIN = DRIVE.minutes(LOOP, OHARE)  # about 49.4 minutes


def at(day: dt.date, clock: str, *, fold: int = 0, tz: dt.tzinfo = CHICAGO) -> dt.datetime:
    hour, minute = map(int, clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, fold=fold, tzinfo=tz)


def hours(day: dt.date, start: str, end: str) -> TimeSpan:
    """A span on ``day`` in Chicago; an end at or before the start is on the next day."""
    begins = at(day, start)
    ends = at(day, end)
    if ends.replace(tzinfo=None) <= begins.replace(tzinfo=None):
        ends = at(day + dt.timedelta(days=1), end)
    return TimeSpan(begins, ends)


def utc_minutes(span: TimeSpan) -> float:
    return (span.end.astimezone(dt.UTC) - span.start.astimezone(dt.UTC)).total_seconds() / 60


AVA = TechnicianProfile(
    id=1,
    name="Ava Kowalski",
    skills={"boiler": 1, "furnace": 4},
    shifts=(hours(TUESDAY, "08:00", "16:00"),),
)
BEN = TechnicianProfile(
    id=2,
    name="Ben Okafor",
    skills={"boiler": 4},
    shifts=(hours(TUESDAY, "07:00", "15:00"),),
)


def drop(span: TimeSpan, **changes: object) -> Placement:
    placement = Placement(visit_id=99, label="WO-10099", span=span)
    return dataclasses.replace(placement, **changes)  # type: ignore[arg-type]


def booked(number: int, span: TimeSpan, place: Place | None = None) -> BookedVisit:
    return BookedVisit(id=number, label=f"WO-{number}", span=span, place=place)


def found(findings: list[Finding], rule: Rule) -> list[str]:
    return [finding.message for finding in findings if finding.rule is rule]


# --- distances ------------------------------------------------------------------------


def test_chicago_loop_to_ohare_is_about_25_km() -> None:
    assert distance_km(LOOP, OHARE) == pytest.approx(25.4, abs=0.5)


def test_the_same_place_is_no_distance() -> None:
    assert distance_km(LOOP, LOOP) == 0.0


def test_antipodes_are_half_way_round_the_earth() -> None:
    assert distance_km((0.0, 0.0), (0.0, 180.0)) == pytest.approx(math.pi * 6371.0088)


@pytest.mark.parametrize(
    "place",
    [(90.5, 0.0), (-91.0, 0.0), (0.0, 180.5), (0.0, -181.0), (math.nan, 0.0), (0.0, math.nan)],
)
def test_a_place_off_the_map_is_refused(place: Place) -> None:
    with pytest.raises(ValueError, match="must be between"):
        distance_km(place, LOOP)
    with pytest.raises(ValueError, match="must be between"):
        distance_km(LOOP, place)


latitudes = st.floats(-90, 90)
longitudes = st.floats(-180, 180)
places = st.tuples(latitudes, longitudes)


@given(places, places)
def test_distance_is_symmetric_and_at_most_half_the_globe(a: Place, b: Place) -> None:
    there = distance_km(a, b)
    assert there == pytest.approx(distance_km(b, a))
    assert 0.0 <= there <= math.pi * 6371.0088 + 1e-6


def test_drive_estimate_stretches_the_line_and_divides_by_speed() -> None:
    drive = DriveEstimate(road_factor=1.5, average_speed_kmh=30.0)
    straight = distance_km(LOOP, OHARE)
    assert drive.road_km(LOOP, OHARE) == pytest.approx(straight * 1.5)
    assert drive.minutes(LOOP, OHARE) == pytest.approx(straight * 1.5 / 30.0 * 60.0)
    assert DRIVE.minutes(LOOP, OHARE) == pytest.approx(49.4, abs=1.0)


@pytest.mark.parametrize("road_factor", [0.99, 0.0, -1.0, math.nan, math.inf])
def test_a_road_shorter_than_the_line_is_refused(road_factor: float) -> None:
    with pytest.raises(ValueError, match="road factor must be at least 1"):
        DriveEstimate(road_factor=road_factor)


@pytest.mark.parametrize("speed", [0.0, -40.0, math.nan, math.inf])
def test_a_speed_that_never_arrives_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="average speed must be above 0"):
        DriveEstimate(average_speed_kmh=speed)


# --- overlaps ---------------------------------------------------------------------------


def test_visits_touching_at_either_end_do_not_overlap() -> None:
    row = [booked(10023, hours(TUESDAY, "09:00", "11:00"))]
    assert (
        check_placement(drop(hours(TUESDAY, "11:00", "12:00")), [(AVA, row)], DRIVE, CHICAGO) == []
    )
    assert (
        check_placement(drop(hours(TUESDAY, "08:00", "09:00")), [(AVA, row)], DRIVE, CHICAGO) == []
    )


@pytest.mark.parametrize(("start", "end"), [("10:59", "12:00"), ("08:00", "09:01")])
def test_one_minute_of_overlap_is_refused(start: str, end: str) -> None:
    row = [booked(10023, hours(TUESDAY, "09:00", "11:00"))]
    findings = check_placement(drop(hours(TUESDAY, start, end)), [(AVA, row)], DRIVE, CHICAGO)
    assert findings == [
        Finding(
            Rule.OVERLAP, Severity.REFUSE, "Overlaps WO-10023 (09:00–11:00) for Ava Kowalski.", 1
        )
    ]


def test_overlap_message_gives_local_times_whatever_zone_the_visit_came_in() -> None:
    in_utc = TimeSpan(at(TUESDAY, "14:00", tz=dt.UTC), at(TUESDAY, "16:00", tz=dt.UTC))
    findings = check_placement(
        drop(hours(TUESDAY, "10:00", "10:30")), [(AVA, [booked(10023, in_utc)])], DRIVE, CHICAGO
    )
    assert found(findings, Rule.OVERLAP) == ["Overlaps WO-10023 (09:00–11:00) for Ava Kowalski."]


def test_the_visit_being_moved_does_not_collide_with_its_old_place() -> None:
    old_place = BookedVisit(id=99, label="WO-10099", span=hours(TUESDAY, "09:00", "11:00"))
    findings = check_placement(
        drop(hours(TUESDAY, "10:00", "12:00")), [(AVA, [old_place])], DRIVE, CHICAGO
    )
    assert findings == []


def test_every_overlap_is_named_in_start_order() -> None:
    row = [
        booked(10025, hours(TUESDAY, "11:00", "12:00")),
        booked(10024, hours(TUESDAY, "09:00", "10:00")),
    ]
    findings = check_placement(drop(hours(TUESDAY, "09:30", "11:30")), [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.OVERLAP) == [
        "Overlaps WO-10024 (09:00–10:00) for Ava Kowalski.",
        "Overlaps WO-10025 (11:00–12:00) for Ava Kowalski.",
    ]


def test_an_overlap_in_the_second_crew_members_row_is_found() -> None:
    crew = [(AVA, []), (BEN, [booked(10023, hours(TUESDAY, "09:00", "11:00"))])]
    findings = check_placement(drop(hours(TUESDAY, "10:00", "12:00")), crew, DRIVE, CHICAGO)
    assert refusals(findings) == [
        Finding(Rule.OVERLAP, Severity.REFUSE, "Overlaps WO-10023 (09:00–11:00) for Ben Okafor.", 2)
    ]


def test_fall_back_same_wall_clock_is_not_an_overlap() -> None:
    # 00:50–01:30 CDT is 05:50–06:30 UTC; 01:20–02:00 CST is 07:20–08:00 UTC.
    earlier = TimeSpan(at(FALL_BACK, "00:50"), at(FALL_BACK, "01:30"))
    later = TimeSpan(at(FALL_BACK, "01:20", fold=1), at(FALL_BACK, "02:00"))
    assert earlier.end.replace(tzinfo=None) > later.start.replace(tzinfo=None)  # the trap
    always_on = dataclasses.replace(AVA, shifts=(hours(FALL_BACK, "00:00", "12:00"),))
    findings = check_placement(drop(later), [(always_on, [booked(10023, earlier)])], DRIVE, CHICAGO)
    assert found(findings, Rule.OVERLAP) == []


def test_fall_back_overlap_hidden_by_the_wall_clock_is_found() -> None:
    # 01:10–01:50 CST is 07:10–07:50 UTC, inside 01:55 CDT–02:30 CST (06:55–08:30 UTC).
    row = [booked(10023, TimeSpan(at(FALL_BACK, "01:10", fold=1), at(FALL_BACK, "01:50", fold=1)))]
    placement = drop(TimeSpan(at(FALL_BACK, "01:55"), at(FALL_BACK, "02:30")))
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.OVERLAP) == ["Overlaps WO-10023 (01:10–01:50) for Ava Kowalski."]


def test_spring_forward_overlap_counts_real_time() -> None:
    # 01:30 CST–03:15 CDT lasts 45 minutes of real time and overlaps 03:00–03:30 CDT.
    row = [booked(10023, TimeSpan(at(SPRING_FORWARD, "01:30"), at(SPRING_FORWARD, "03:15")))]
    placement = drop(hours(SPRING_FORWARD, "03:00", "03:30"))
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.OVERLAP) == ["Overlaps WO-10023 (01:30–03:15) for Ava Kowalski."]
    touching = drop(hours(SPRING_FORWARD, "03:15", "04:00"))
    assert found(check_placement(touching, [(AVA, row)], DRIVE, CHICAGO), Rule.OVERLAP) == []


CLOCK_CHANGE_EVES = [
    dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 31, 18, tzinfo=dt.UTC),
    dt.datetime(2026, 5, 11, 18, tzinfo=dt.UTC),
]


def chicago_spans(base: dt.datetime) -> st.SearchStrategy[TimeSpan]:
    @st.composite
    def spans(draw: st.DrawFn) -> TimeSpan:
        start = base + dt.timedelta(minutes=draw(st.integers(0, 24 * 60)))
        end = start + dt.timedelta(minutes=draw(st.integers(1, 240)))
        local_start, local_end = start.astimezone(CHICAGO), end.astimezone(CHICAGO)
        # TimeSpan reads two ends in one zone by the wall clock, so it refuses a span
        # ending in the repeated hour at an earlier wall time than it starts.
        assume(local_end.replace(tzinfo=None) > local_start.replace(tzinfo=None))
        return TimeSpan(local_start, local_end)

    return spans()


@given(
    st.sampled_from(CLOCK_CHANGE_EVES).flatmap(
        lambda base: st.tuples(chicago_spans(base), st.lists(chicago_spans(base), max_size=6))
    )
)
def test_overlap_is_reported_exactly_for_visits_that_overlap_in_real_time(
    case: tuple[TimeSpan, list[TimeSpan]],
) -> None:
    span, others = case
    row = [booked(10000 + n, other) for n, other in enumerate(others)]
    real_overlaps = [
        other
        for other in others
        if other.start.astimezone(dt.UTC) < span.end.astimezone(dt.UTC)
        and span.start.astimezone(dt.UTC) < other.end.astimezone(dt.UTC)
    ]
    findings = check_placement(drop(span), [(AVA, row)], DRIVE, CHICAGO)
    assert len(found(findings, Rule.OVERLAP)) == len(real_overlaps)


# --- skills ---------------------------------------------------------------------------


def test_a_technician_below_the_level_is_refused() -> None:
    findings = check_placement(
        drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"boiler": 3}),
        [(AVA, [])],
        DRIVE,
        CHICAGO,
    )
    assert findings == [
        Finding(
            Rule.MISSING_SKILL, Severity.REFUSE, "Ava Kowalski lacks boiler level 3 (has 1).", 1
        )
    ]


def test_a_technician_without_the_skill_is_refused() -> None:
    findings = check_placement(
        drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"backflow": 1}),
        [(AVA, [])],
        DRIVE,
        CHICAGO,
    )
    assert found(findings, Rule.MISSING_SKILL) == ["Ava Kowalski lacks backflow."]


def test_exactly_the_level_is_enough() -> None:
    placement = drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"furnace": 4, "boiler": 1})
    assert check_placement(placement, [(AVA, [])], DRIVE, CHICAGO) == []


def test_a_crew_covers_a_skill_together() -> None:
    placement = drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"boiler": 3, "furnace": 4})
    assert check_placement(placement, [(AVA, []), (BEN, [])], DRIVE, CHICAGO) == []


def test_a_skill_no_one_on_the_crew_holds_at_the_level_is_refused() -> None:
    placement = drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"boiler": 5, "backflow": 2})
    findings = check_placement(placement, [(AVA, []), (BEN, [])], DRIVE, CHICAGO)
    assert refusals(findings) == [
        Finding(
            Rule.MISSING_SKILL,
            Severity.REFUSE,
            "No one on the crew has boiler at level 5 (best: 4).",
            None,
        ),
        Finding(Rule.MISSING_SKILL, Severity.REFUSE, "No one on the crew has backflow.", None),
    ]


def test_an_unassigned_drop_breaks_no_rule() -> None:
    placement = drop(hours(TUESDAY, "09:00", "10:00"), required_skills={"boiler": 5})
    assert check_placement(placement, [], DRIVE, CHICAGO) == []


# --- shifts -----------------------------------------------------------------------------


def test_a_visit_inside_the_shift_is_fine() -> None:
    assert (
        check_placement(drop(hours(TUESDAY, "08:00", "16:00")), [(AVA, [])], DRIVE, CHICAGO) == []
    )


def test_running_past_the_end_of_the_shift_asks_once() -> None:
    findings = check_placement(drop(hours(TUESDAY, "15:00", "17:00")), [(AVA, [])], DRIVE, CHICAGO)
    assert findings == [
        Finding(
            Rule.OUTSIDE_SHIFT,
            Severity.ASK,
            "Runs 15:00–17:00, outside Ava Kowalski's shift (08:00–16:00).",
            1,
        )
    ]


def test_an_evening_visit_on_a_working_day_is_outside_the_shift_not_off() -> None:
    findings = check_placement(drop(hours(TUESDAY, "18:00", "19:00")), [(AVA, [])], DRIVE, CHICAGO)
    assert [finding.rule for finding in findings] == [Rule.OUTSIDE_SHIFT]


def test_a_split_shift_names_both_parts() -> None:
    split = dataclasses.replace(
        AVA, shifts=(hours(TUESDAY, "13:00", "17:00"), hours(TUESDAY, "07:00", "11:00"))
    )
    findings = check_placement(
        drop(hours(TUESDAY, "10:00", "14:00")), [(split, [])], DRIVE, CHICAGO
    )
    assert found(findings, Rule.OUTSIDE_SHIFT) == [
        "Runs 10:00–14:00, outside Ava Kowalski's shifts (07:00–11:00, 13:00–17:00)."
    ]


def test_a_day_without_a_shift_is_a_day_off() -> None:
    wednesday = TUESDAY + dt.timedelta(days=1)
    findings = check_placement(
        drop(hours(wednesday, "09:00", "10:00")), [(AVA, [])], DRIVE, CHICAGO
    )
    assert findings == [
        Finding(Rule.OFF_TODAY, Severity.ASK, "Ava Kowalski is off on Wednesday 13 May.", 1)
    ]


def test_a_technician_with_no_shifts_at_all_is_off() -> None:
    off = dataclasses.replace(AVA, shifts=())
    findings = check_placement(drop(hours(TUESDAY, "09:00", "10:00")), [(off, [])], DRIVE, CHICAGO)
    assert [finding.rule for finding in findings] == [Rule.OFF_TODAY]
    assert not can_take(off, {}, hours(TUESDAY, "09:00", "10:00"))


NIGHTS = TechnicianProfile(
    id=3,
    name="Cleo Ramirez",
    skills={"boiler": 2},
    shifts=(Shift(TUESDAY.weekday(), dt.time(22), dt.time(6)).span_on(TUESDAY, CHICAGO),),
)
WEDNESDAY = TUESDAY + dt.timedelta(days=1)


def test_a_night_shift_covers_the_small_hours_of_the_next_day() -> None:
    findings = check_placement(
        drop(hours(WEDNESDAY, "01:00", "02:00")), [(NIGHTS, [])], DRIVE, CHICAGO
    )
    assert findings == []
    assert can_take(NIGHTS, {}, hours(WEDNESDAY, "01:00", "02:00"))
    assert can_take(NIGHTS, {}, hours(TUESDAY, "23:00", "02:00"))


def test_running_past_the_end_of_a_night_shift_names_its_hours() -> None:
    findings = check_placement(
        drop(hours(WEDNESDAY, "05:30", "06:30")), [(NIGHTS, [])], DRIVE, CHICAGO
    )
    assert found(findings, Rule.OUTSIDE_SHIFT) == [
        "Runs 05:30–06:30, outside Cleo Ramirez's shift (22:00–06:00)."
    ]


def test_the_afternoon_after_a_night_shift_is_a_day_off() -> None:
    # A shift belongs to the day it starts on: Tuesday night does not make Wednesday a workday.
    findings = check_placement(
        drop(hours(WEDNESDAY, "14:00", "15:00")), [(NIGHTS, [])], DRIVE, CHICAGO
    )
    assert [finding.rule for finding in findings] == [Rule.OFF_TODAY]


def test_each_crew_member_is_asked_about_once() -> None:
    crew: list[tuple[TechnicianProfile, list[BookedVisit]]] = [(AVA, []), (BEN, []), (NIGHTS, [])]
    findings = check_placement(drop(hours(TUESDAY, "15:00", "16:00")), crew, DRIVE, CHICAGO)
    assert [(finding.rule, finding.technician_id) for finding in findings] == [
        (Rule.OUTSIDE_SHIFT, 2),  # Ben stops at 15:00
        (Rule.OUTSIDE_SHIFT, 3),  # Cleo's night shift starts on Tuesday, so she is not off
    ]


def test_fall_back_shift_end_is_read_in_real_time() -> None:
    # The shift ends at 01:30 CDT (06:30 UTC); 01:10 CST is 07:10 UTC, after it ended.
    early = dataclasses.replace(
        AVA, shifts=(TimeSpan(at(FALL_BACK, "00:00"), at(FALL_BACK, "01:30")),)
    )
    late = TimeSpan(at(FALL_BACK, "01:10", fold=1), at(FALL_BACK, "01:20", fold=1))
    findings = check_placement(drop(late), [(early, [])], DRIVE, CHICAGO)
    assert found(findings, Rule.OUTSIDE_SHIFT) == [
        "Runs 01:10–01:20, outside Ava Kowalski's shift (00:00–01:30)."
    ]
    assert not can_take(early, {}, late)


def test_spring_forward_night_shift_is_an_hour_shorter_but_still_covers_its_hours() -> None:
    saturday = SPRING_FORWARD - dt.timedelta(days=1)
    night = Shift(saturday.weekday(), dt.time(22), dt.time(6)).span_on(saturday, CHICAGO)
    assert utc_minutes(night) == 7 * 60
    worker = dataclasses.replace(AVA, shifts=(night,))
    assert can_take(worker, {}, TimeSpan(at(SPRING_FORWARD, "01:30"), at(SPRING_FORWARD, "03:30")))
    assert not can_take(worker, {}, hours(SPRING_FORWARD, "05:30", "06:30"))


# --- drive time -------------------------------------------------------------------------


def test_enough_time_to_drive_from_the_previous_visit() -> None:
    row = [booked(10023, hours(TUESDAY, "08:00", "09:00"), LOOP)]
    placement = drop(hours(TUESDAY, "10:00", "11:00"), place=OHARE)
    assert check_placement(placement, [(AVA, row)], DRIVE, CHICAGO) == []


def test_too_little_time_to_drive_from_the_previous_visit_asks() -> None:
    row = [booked(10023, hours(TUESDAY, "08:00", "09:00"), LOOP)]
    placement = drop(hours(TUESDAY, "09:30", "10:30"), place=OHARE)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    needed = math.ceil(LOOP_TO_OHARE_MIN)
    assert findings == [
        Finding(
            Rule.DRIVE_TIME,
            Severity.ASK,
            f"Ava Kowalski needs {needed} min to drive from WO-10023, but only 30 min are free.",
            1,
        )
    ]


def test_too_little_time_to_drive_to_the_next_visit_asks() -> None:
    row = [booked(10024, hours(TUESDAY, "11:20", "12:00"), OHARE)]
    placement = drop(hours(TUESDAY, "10:00", "11:00"), place=LOOP)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.DRIVE_TIME) == [
        f"Ava Kowalski needs {math.ceil(LOOP_TO_OHARE_MIN)} min to drive to WO-10024, "
        "but only 20 min are free."
    ]


def test_both_sides_are_checked_and_only_the_nearest_visit_on_each() -> None:
    row = [
        booked(10020, hours(TUESDAY, "08:00", "08:30"), OHARE),  # earlier, plenty of time
        booked(10023, hours(TUESDAY, "09:00", "09:50"), OHARE),
        booked(10024, hours(TUESDAY, "11:10", "12:00"), OHARE),
        booked(10025, hours(TUESDAY, "14:00", "15:00"), OHARE),  # later, plenty of time
    ]
    placement = drop(hours(TUESDAY, "10:00", "11:00"), place=LOOP)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    needed = math.ceil(LOOP_TO_OHARE_MIN)
    assert found(findings, Rule.DRIVE_TIME) == [
        f"Ava Kowalski needs {needed} min to drive from WO-10023, but only 10 min are free.",
        f"Ava Kowalski needs {needed} min to drive to WO-10024, but only 10 min are free.",
    ]


def test_no_place_means_no_drive_finding() -> None:
    row = [booked(10023, hours(TUESDAY, "08:00", "09:00"), LOOP)]
    nowhere = drop(hours(TUESDAY, "09:05", "10:00"))
    assert check_placement(nowhere, [(AVA, row)], DRIVE, CHICAGO) == []
    unknown_before = [booked(10023, hours(TUESDAY, "08:00", "09:00"))]
    somewhere = drop(hours(TUESDAY, "09:05", "10:00"), place=OHARE)
    assert check_placement(somewhere, [(AVA, unknown_before)], DRIVE, CHICAGO) == []


def test_a_visit_without_a_place_is_skipped_to_the_one_before_it() -> None:
    row = [
        booked(10022, hours(TUESDAY, "08:00", "08:30"), LOOP),
        booked(10023, hours(TUESDAY, "08:30", "09:00")),  # site not known yet
    ]
    placement = drop(hours(TUESDAY, "09:00", "10:00"), place=OHARE)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.DRIVE_TIME) == [
        f"Ava Kowalski needs {math.ceil(LOOP_TO_OHARE_MIN)} min to drive from WO-10022, "
        "but only 30 min are free."
    ]


def test_back_to_back_at_the_same_site_needs_no_drive() -> None:
    row = [booked(10023, hours(TUESDAY, "08:00", "09:00"), LOOP)]
    placement = drop(hours(TUESDAY, "09:00", "10:00"), place=LOOP)
    assert check_placement(placement, [(AVA, row)], DRIVE, CHICAGO) == []


def test_an_overlapping_visit_is_an_overlap_not_a_drive() -> None:
    row = [booked(10023, hours(TUESDAY, "08:30", "09:30"), OHARE)]
    placement = drop(hours(TUESDAY, "09:00", "10:00"), place=LOOP)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert [finding.rule for finding in findings] == [Rule.OVERLAP]


def test_drive_time_is_checked_for_each_crew_member() -> None:
    crew = [(AVA, []), (BEN, [booked(10023, hours(TUESDAY, "08:00", "09:00"), OHARE)])]
    placement = drop(hours(TUESDAY, "09:15", "10:00"), place=LOOP)
    findings = check_placement(placement, crew, DRIVE, CHICAGO)
    assert [(f.rule, f.technician_id) for f in findings] == [(Rule.DRIVE_TIME, 2)]
    assert findings[0].message.startswith("Ben Okafor needs")


def test_spring_forward_free_time_is_real_time() -> None:
    # 01:50 CST to 03:10 CDT reads as 80 minutes on the wall but is 20 minutes of driving.
    row = [booked(10023, TimeSpan(at(SPRING_FORWARD, "01:00"), at(SPRING_FORWARD, "01:50")), LOOP)]
    placement = drop(hours(SPRING_FORWARD, "03:10", "04:00"), place=OHARE)
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.DRIVE_TIME) == [
        f"Ava Kowalski needs {math.ceil(LOOP_TO_OHARE_MIN)} min to drive from WO-10023, "
        "but only 20 min are free."
    ]


def test_fall_back_free_time_is_real_time() -> None:
    # 01:50 CDT to the second 01:10 (CST) reads as minus 40 minutes but is 20 minutes.
    row = [booked(10023, TimeSpan(at(FALL_BACK, "01:00"), at(FALL_BACK, "01:50")), LOOP)]
    placement = drop(
        TimeSpan(at(FALL_BACK, "01:10", fold=1), at(FALL_BACK, "01:40", fold=1)), place=OHARE
    )
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert found(findings, Rule.OVERLAP) == []
    assert found(findings, Rule.DRIVE_TIME) == [
        f"Ava Kowalski needs {math.ceil(LOOP_TO_OHARE_MIN)} min to drive from WO-10023, "
        "but only 20 min are free."
    ]
    enough = drop(TimeSpan(at(FALL_BACK, "01:45", fold=1), at(FALL_BACK, "02:30")), place=OHARE)
    assert found(check_placement(enough, [(AVA, row)], DRIVE, CHICAGO), Rule.DRIVE_TIME) == []


# --- the findings together ---------------------------------------------------------------


def test_hard_rules_come_first_and_split_into_refusals_and_questions() -> None:
    row = [
        booked(10023, hours(TUESDAY, "14:00", "15:00"), LOOP),
        booked(10024, hours(TUESDAY, "15:30", "16:00"), LOOP),
    ]
    placement = drop(hours(TUESDAY, "15:05", "17:00"), place=OHARE, required_skills={"boiler": 2})
    findings = check_placement(placement, [(AVA, row)], DRIVE, CHICAGO)
    assert [finding.rule for finding in findings] == [
        Rule.OVERLAP,
        Rule.MISSING_SKILL,
        Rule.OUTSIDE_SHIFT,
        Rule.DRIVE_TIME,
    ]
    assert [f.rule for f in refusals(findings)] == [Rule.OVERLAP, Rule.MISSING_SKILL]
    assert [f.rule for f in questions(findings)] == [Rule.OUTSIDE_SHIFT, Rule.DRIVE_TIME]
    assert all(f.severity is Severity.REFUSE for f in refusals(findings))
    assert all(f.severity is Severity.ASK for f in questions(findings))


def test_a_time_without_a_zone_is_refused() -> None:
    naive = TimeSpan(dt.datetime(2026, 5, 12, 9), dt.datetime(2026, 5, 12, 10))
    with pytest.raises(ValueError, match="needs a time zone"):
        check_placement(drop(naive), [(AVA, [])], DRIVE, CHICAGO)


# --- highlighting rows while dragging ----------------------------------------------------


def test_can_take_needs_every_skill_and_one_shift_around_the_whole_span() -> None:
    morning = hours(TUESDAY, "09:00", "10:00")
    assert can_take(AVA, {"furnace": 4}, morning)
    assert can_take(AVA, {}, hours(TUESDAY, "08:00", "16:00"))
    assert not can_take(AVA, {"furnace": 5}, morning)
    assert not can_take(AVA, {"backflow": 1}, morning)
    assert not can_take(AVA, {}, hours(TUESDAY, "15:00", "16:01"))
    two_halves = dataclasses.replace(
        AVA, shifts=(hours(TUESDAY, "08:00", "12:00"), hours(TUESDAY, "12:00", "16:00"))
    )
    # Two shifts that touch are still two shifts: the span must fit in one of them.
    assert not can_take(two_halves, {}, hours(TUESDAY, "11:00", "13:00"))


# --- snapping to the grid ----------------------------------------------------------------


def at_seconds(day: dt.date, clock: str) -> dt.datetime:
    hour, minute, second = map(int, clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("moment", "minutes", "expected"),
    [
        ("09:04:00", 7, "09:06"),  # 544 min: 539 and 546 are the grid points either side
        ("09:02:29", 7, "08:59"),
        ("09:02:30", 7, "09:06"),  # halfway rounds later
        ("23:58:00", 7, "00:00"),  # the grid starts again at midnight, so no 00:05
        ("10:07:29", 15, "10:00"),
        ("10:07:30", 15, "10:15"),
        ("10:08:00", 15, "10:15"),
        ("10:15:00", 15, "10:15"),
        ("10:29:59", 60, "10:00"),
        ("10:30:00", 60, "11:00"),
        ("23:45:00", 60, "00:00"),
    ],
)
def test_snap_rounds_to_the_nearest_grid_point(moment: str, minutes: int, expected: str) -> None:
    result = snap(at_seconds(TUESDAY, moment), minutes, CHICAGO)
    assert result.tzinfo is CHICAGO
    assert f"{result:%H:%M:%S}" == f"{expected}:00"
    assert result.microsecond == 0


def test_snap_moves_into_the_business_zone() -> None:
    result = snap(at(TUESDAY, "14:08", tz=dt.UTC), 15, CHICAGO)
    assert result == at(TUESDAY, "09:15")
    assert result.tzinfo is CHICAGO


@pytest.mark.parametrize("minutes", [0, -15, 241])
def test_snap_refuses_a_grid_out_of_range(minutes: int) -> None:
    with pytest.raises(ValueError, match="1 to 240 minutes"):
        snap(at(TUESDAY, "09:00"), minutes, CHICAGO)


def test_snap_refuses_a_time_without_a_zone() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        snap(dt.datetime(2026, 5, 12, 9), 15, CHICAGO)


def test_snap_on_spring_forward_lands_on_a_real_time() -> None:
    before_the_gap = at(SPRING_FORWARD, "01:50")
    assert snap(before_the_gap, 15, CHICAGO) == at(SPRING_FORWARD, "01:45")
    # 02:00 does not exist that night: it is read as CST, which is 03:00 CDT.
    on_the_hour = snap(before_the_gap, 60, CHICAGO)
    assert (on_the_hour.hour, on_the_hour.minute) == (3, 0)
    assert on_the_hour.utcoffset() == dt.timedelta(hours=-5)
    assert on_the_hour.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 8, tzinfo=dt.UTC)
    assert snap(before_the_gap, 30, CHICAGO).astimezone(dt.UTC) == on_the_hour
    # After the gap the grid is the wall clock again: 03:05 CDT is next to 03:00 CDT.
    assert snap(at(SPRING_FORWARD, "03:05"), 15, CHICAGO) == at(SPRING_FORWARD, "03:00")
    assert snap(at(SPRING_FORWARD, "10:08"), 15, CHICAGO) == at(SPRING_FORWARD, "10:15")


def test_snap_on_fall_back_stays_in_the_same_pass_of_the_repeated_hour() -> None:
    first_pass = at(FALL_BACK, "01:20")  # CDT, 06:20 UTC
    second_pass = at(FALL_BACK, "01:20", fold=1)  # CST, 07:20 UTC
    assert snap(first_pass, 60, CHICAGO).astimezone(dt.UTC) == dt.datetime(
        2026, 11, 1, 6, tzinfo=dt.UTC
    )
    snapped = snap(second_pass, 60, CHICAGO)
    assert (snapped.hour, snapped.minute, snapped.fold) == (1, 0, 1)
    assert snapped.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    # Rounding up out of the first pass reaches 02:00 CST: 20 minutes on the wall clock,
    # 80 minutes of real time, because the clocks went back in between.
    late_first_pass = snap(at(FALL_BACK, "01:40"), 60, CHICAGO)
    assert late_first_pass.astimezone(dt.UTC) == dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


def real(moment: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether a wall time exists in ``zone``: it survives a round trip through UTC."""
    back = moment.astimezone(dt.UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def since_midnight(wall: dt.datetime) -> dt.timedelta:
    return wall - dt.datetime.combine(wall.date(), dt.time())


def window(start: dt.datetime, days: int) -> st.SearchStrategy[dt.datetime]:
    return st.datetimes(
        min_value=start, max_value=start + dt.timedelta(days=days), timezones=st.just(dt.UTC)
    )


moments = st.one_of(
    window(dt.datetime(2026, 1, 1), 364),
    window(dt.datetime(2026, 3, 7), 2),  # Chicago springs forward
    window(dt.datetime(2026, 10, 31), 2),  # Chicago falls back
    window(dt.datetime(2026, 4, 3), 3),  # Lord Howe goes back half an hour
    window(dt.datetime(2026, 10, 2), 3),  # Lord Howe goes forward half an hour
)
zones = st.sampled_from(
    [dt.UTC, CHICAGO, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kolkata")]
)


@given(moments, st.integers(1, 240), zones)
def test_snap_lands_on_the_wall_clock_grid_within_half_a_step(
    moment: dt.datetime, minutes: int, zone: dt.tzinfo
) -> None:
    step = dt.timedelta(minutes=minutes)
    result = snap(moment, minutes, zone)
    assert result.tzinfo is zone
    assert real(result, zone)
    wall_in = moment.astimezone(zone).replace(tzinfo=None)
    wall_out = result.replace(tzinfo=None)
    if since_midnight(wall_out) % step == dt.timedelta(0) and abs(wall_out - wall_in) <= step / 2:
        return
    # Otherwise the grid point fell in a gap the clocks skipped, and the result is that
    # point moved forward by the length of the gap.
    before_change = (result.astimezone(dt.UTC) - dt.timedelta(hours=2)).astimezone(zone)
    gap = result.utcoffset() - before_change.utcoffset()  # type: ignore[operator]
    assert gap > dt.timedelta(0), f"{result} is off the {minutes}-minute grid"
    skipped = wall_out - gap
    assert not real(skipped.replace(tzinfo=zone), zone)
    assert since_midnight(skipped) % step == dt.timedelta(0)
    assert abs(skipped - wall_in) <= step / 2


# --- moving spans -------------------------------------------------------------------------


def test_shifted_moves_both_ends() -> None:
    moved = shifted(hours(TUESDAY, "09:00", "11:00"), dt.timedelta(minutes=90))
    assert moved == hours(TUESDAY, "10:30", "12:30")
    assert moved.start.tzinfo is CHICAGO
    back = shifted(moved, -dt.timedelta(minutes=90))
    assert back == hours(TUESDAY, "09:00", "11:00")


def test_shifted_across_fall_back_keeps_the_real_length() -> None:
    # 23:00 CDT to 02:00 CST is four hours of work, though the wall clock says three.
    night = TimeSpan(at(FALL_BACK - dt.timedelta(days=1), "23:00"), at(FALL_BACK, "02:00"))
    assert utc_minutes(night) == 4 * 60
    moved = shifted(night, dt.timedelta(hours=1))
    assert utc_minutes(moved) == 4 * 60
    assert f"{moved.start:%H:%M}–{moved.end:%H:%M}" == "00:00–03:00"
    assert moved.start.astimezone(dt.UTC) == night.start.astimezone(dt.UTC) + dt.timedelta(hours=1)
    # Two hours after midnight that night is 01:00 on the second pass, not 02:00.
    first_hours = shifted(hours(FALL_BACK, "00:00", "00:30"), dt.timedelta(hours=2))
    assert (first_hours.start.hour, first_hours.start.utcoffset()) == (1, dt.timedelta(hours=-6))


def test_shifted_into_the_repeated_hour_keeps_each_end_at_its_offset() -> None:
    # 00:30–01:30 CDT moved an hour is 01:30 CDT to 01:30 CST: one hour, same wall clock.
    moved = shifted(hours(FALL_BACK, "00:30", "01:30"), dt.timedelta(hours=1))
    assert utc_minutes(moved) == 60
    assert moved.duration == dt.timedelta(hours=1)
    assert moved.start.utcoffset() == dt.timedelta(hours=-5)
    assert moved.end.utcoffset() == dt.timedelta(hours=-6)
    assert f"{moved.start.astimezone(CHICAGO):%H:%M}" == "01:30"
    assert f"{moved.end.astimezone(CHICAGO):%H:%M}" == "01:30"


def test_shifted_over_spring_forward_keeps_the_real_length() -> None:
    moved = shifted(hours(SPRING_FORWARD, "01:00", "01:30"), dt.timedelta(hours=1))
    assert moved == hours(SPRING_FORWARD, "03:00", "03:30")
    assert utc_minutes(moved) == 30


@given(
    st.sampled_from(CLOCK_CHANGE_EVES).flatmap(chicago_spans),
    st.integers(-24 * 60, 24 * 60).map(lambda minutes: dt.timedelta(minutes=minutes)),
)
def test_shifted_moves_the_real_start_and_keeps_the_real_length(
    span: TimeSpan, by: dt.timedelta
) -> None:
    moved = shifted(span, by)
    assert moved.start.astimezone(dt.UTC) == span.start.astimezone(dt.UTC) + by
    assert utc_minutes(moved) == utc_minutes(span)


# --- drive gaps on the board ---------------------------------------------------------------


def test_gaps_needed_pairs_back_to_back_visits_with_places() -> None:
    morning = booked(10021, hours(TUESDAY, "08:00", "09:00"), LOOP)
    midday = booked(10022, hours(TUESDAY, "10:00", "11:00"), OHARE)
    unknown = booked(10023, hours(TUESDAY, "12:00", "13:00"))
    evening = booked(10024, hours(TUESDAY, "14:00", "15:00"), LOOP)
    gaps = gaps_needed([evening, unknown, midday, morning], DRIVE)
    assert gaps == [(morning, midday, pytest.approx(LOOP_TO_OHARE_MIN))]


def test_gaps_needed_orders_by_real_start_on_fall_back() -> None:
    second_pass = booked(
        10021, TimeSpan(at(FALL_BACK, "01:30", fold=1), at(FALL_BACK, "02:00")), LOOP
    )
    first_pass = booked(10022, TimeSpan(at(FALL_BACK, "01:45"), at(FALL_BACK, "01:55")), OHARE)
    gaps = gaps_needed([second_pass, first_pass], DRIVE)
    assert [(earlier.id, later.id) for earlier, later, _ in gaps] == [(10022, 10021)]


def test_gaps_needed_of_fewer_than_two_visits_is_empty() -> None:
    assert gaps_needed([], DRIVE) == []
    assert gaps_needed([booked(10021, hours(TUESDAY, "08:00", "09:00"), LOOP)], DRIVE) == []


@pytest.mark.parametrize("status", ["completed", "cancelled", "no_show"])
def test_a_finished_visit_is_not_replanned(status):
    finding = finished_finding("WO-10001", status)
    assert finding is not None and finding.severity == Severity.REFUSE
    assert "WO-10001" in finding.message


@pytest.mark.parametrize("status", ["scheduled", "dispatched", "en_route", "on_site"])
def test_an_open_visit_can_be_replanned(status):
    assert finished_finding("WO-10001", status) is None
