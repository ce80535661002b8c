"""The rules a drop on the dispatch board must pass before a visit lands in a row.

Hard rules (an overlap, a missing skill) refuse the drop; soft rules (off that day,
outside the shift, too little time to drive) ask the dispatcher once, who may go ahead;
notes (the truck lacks a part the job needs) are shown while dragging and ask nothing,
since the technician can fetch the part on the way.

Every comparison and subtraction of times here goes through UTC. Python compares two
aware datetimes that share one ``tzinfo`` object by their wall clock, ignoring the
offset, which is wrong on the days the clocks change; ``TimeSpan.overlaps`` and
``TimeSpan.duration`` have that flaw, so this module does not use them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dispatch_app.domain.geo import DriveEstimate, Place
from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.domain.statuses import VISIT_FINISHED, VISIT_LABELS
from dispatch_app.domain.truck_stock import TruckCheck
from dispatch_app.domain.vocabulary import VisitStatus


class Severity(StrEnum):
    REFUSE = "refuse"  # the drop does not happen
    ASK = "ask"  # the dispatcher confirms once, then the drop happens
    NOTE = "note"  # shown while dragging; the drop happens without a question


class Rule(StrEnum):
    OVERLAP = "overlap"
    MISSING_SKILL = "missing_skill"
    OFF_TODAY = "off_today"
    OUTSIDE_SHIFT = "outside_shift"
    DRIVE_TIME = "drive_time"
    FINISHED = "finished"
    TRUCK_STOCK = "truck_stock"


_SEVERITY = {
    Rule.OVERLAP: Severity.REFUSE,
    Rule.MISSING_SKILL: Severity.REFUSE,
    Rule.OFF_TODAY: Severity.ASK,
    Rule.OUTSIDE_SHIFT: Severity.ASK,
    Rule.DRIVE_TIME: Severity.ASK,
    Rule.FINISHED: Severity.REFUSE,
    Rule.TRUCK_STOCK: Severity.NOTE,
}

# "WO-10023 is a no-show": the one finished status that reads with an article.
_FINISHED_WORDS: dict[str, str] = {VisitStatus.NO_SHOW: "a no-show"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule, told in a sentence a dispatcher understands."""

    rule: Rule
    severity: Severity
    message: str
    technician_id: int | None = None  # None when the finding is about the whole crew


@dataclass(frozen=True, slots=True)
class TechnicianProfile:
    """What the rules need to know about a technician for the period looked at."""

    id: int
    name: str
    skills: Mapping[str, int]  # skill code -> level 1..5
    shifts: tuple[TimeSpan, ...]  # working spans (may cross midnight); empty = off
    home: Place | None = None


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """A visit already on a technician's row."""

    id: int
    label: str  # the work order number, "WO-10023"
    span: TimeSpan
    place: Place | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the dispatcher is dropping a visit: its times, its needs and its site."""

    visit_id: int
    label: str
    span: TimeSpan
    required_skills: Mapping[str, int] = field(default_factory=dict)  # code -> minimum level
    place: Place | None = None


def check_placement(
    placement: Placement,
    crew: Sequence[tuple[TechnicianProfile, Sequence[BookedVisit]]],
    drive: DriveEstimate,
    tz: dt.tzinfo,
) -> list[Finding]:
    """Every rule the placement breaks, hard ones first.

    ``crew`` is each technician the visit would be assigned to, with their other booked
    visits; the visit being moved may be among them and is left out. ``tz`` is the
    business zone: it sets the local day and the HH:MM times shown in messages.
    An empty crew (dropping on the unassigned row) breaks no rule.
    """
    # The visit being moved still sits in its old place; it must not collide with itself.
    rows = [
        (technician, [visit for visit in booked if visit.id != placement.visit_id])
        for technician, booked in crew
    ]
    findings: list[Finding] = []
    for technician, booked in rows:
        findings += _overlaps(placement, technician, booked, tz)
    findings += _missing_skills(placement.required_skills, [technician for technician, _ in rows])
    for technician, _ in rows:
        shift_finding = _shift_finding(placement.span, technician, tz)
        if shift_finding is not None:
            findings.append(shift_finding)
    for technician, booked in rows:
        findings += _drive_times(placement, technician, booked, drive)
    return findings


def finished_finding(label: str, status: str) -> Finding | None:
    """A completed, cancelled or no-show visit is not re-planned by dragging it."""
    if status not in VISIT_FINISHED:
        return None
    word = _FINISHED_WORDS.get(status) or VISIT_LABELS[status].lower()
    return _finding(Rule.FINISHED, f"{label} is {word}; it stays where it is on the board.")


def truck_stock_finding(technician_id: int, shortage: TruckCheck) -> Finding:
    """The technician's truck lacks a part the job needs: worth knowing, not a reason
    to stop (``truck_stock.TruckStock.shortage`` says what it lacks)."""
    return _finding(Rule.TRUCK_STOCK, shortage.sentence, technician_id)


def refusals(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that stop the drop."""
    return [finding for finding in findings if finding.severity is Severity.REFUSE]


def questions(findings: Iterable[Finding]) -> list[Finding]:
    """The findings the dispatcher is asked about once."""
    return [finding for finding in findings if finding.severity is Severity.ASK]


def can_take(
    technician: TechnicianProfile, required_skills: Mapping[str, int], span: TimeSpan
) -> bool:
    """Whether the technician holds every required skill at its level and works the
    whole span within one shift: the rows the board highlights while dragging."""
    return _has_skills(technician, required_skills) and any(
        _within(span, shift) for shift in technician.shifts
    )


def snap(moment: dt.datetime, minutes: int, tz: dt.tzinfo) -> dt.datetime:
    """``moment`` rounded to the nearest multiple of ``minutes`` of local wall-clock
    time since local midnight, as an aware datetime in ``tz``. Halfway rounds later.

    The grid is the wall clock, so on a day the clocks change 10:15 is still on the
    15-minute grid. The grid starts afresh at each local midnight: with 7 minutes,
    23:59 snaps to the next midnight, not to 00:02.

    When the clocks go forward, a grid point inside the skipped hour does not exist;
    it is read with the offset from before the change (``fold=0``, as ``zoneinfo``
    does) and so lands as far past the change as it was meant to be: 02:00 becomes
    03:00 in America/Chicago on 2026-03-08. When the clocks go back, the repeated
    hour keeps the pass the moment was in (its ``fold``), so a moment in the second
    01:xx snaps to a time in the second 01:xx, not an hour earlier.
    """
    if not 1 <= minutes <= 240:
        raise ValueError(f"The snap grid must be 1 to 240 minutes, not {minutes}.")
    local = _utc(moment).astimezone(tz)
    wall = local.replace(tzinfo=None)
    midnight = dt.datetime.combine(wall.date(), dt.time())
    step = dt.timedelta(minutes=minutes)
    below = midnight + (wall - midnight) // step * step
    above = min(below + step, midnight + dt.timedelta(days=1))
    nearest = above if above - wall <= wall - below else below
    # Naming a wall time in tz, then reading it back through UTC, turns a time the
    # clocks skipped into the real time it stands for.
    return nearest.replace(tzinfo=tz, fold=local.fold).astimezone(dt.UTC).astimezone(tz)


def snap_up(moment: dt.datetime, minutes: int, tz: dt.tzinfo) -> dt.datetime:
    """The first point of ``snap``'s grid at or after ``moment`` (a visit can start no
    sooner than the technician gets there)."""
    nearest = snap(moment, minutes, tz)
    if nearest >= moment:
        return nearest
    return snap(nearest + dt.timedelta(minutes=minutes), minutes, tz)


def shifted(span: TimeSpan, by: dt.timedelta) -> TimeSpan:
    """The span moved by an absolute duration: both ends move by ``by`` of real time,
    so the span keeps its real length even across a change of the clocks.

    Each end stays in its own ``tzinfo``, except when that would make the end read
    earlier on the wall clock than the start (inside the repeated hour when the
    clocks go back); then both ends carry their fixed UTC offset instead, which
    names the same instants and keeps ``TimeSpan`` from misreading them.
    """
    start = (_utc(span.start) + by).astimezone(span.start.tzinfo)
    end = (_utc(span.end) + by).astimezone(span.end.tzinfo)
    if start.tzinfo is end.tzinfo and end.replace(tzinfo=None) <= start.replace(tzinfo=None):
        start, end = _fixed_offset(start), _fixed_offset(end)
    return TimeSpan(start, end)


def gaps_needed(
    visits: Sequence[BookedVisit], drive: DriveEstimate
) -> list[tuple[BookedVisit, BookedVisit, float]]:
    """Each pair of back-to-back visits (in start order) with the drive minutes between
    them, where both have a place. A pair with a visit of unknown place in between is
    not a pair: the technician drives via that visit, from a place we do not know."""
    ordered = sorted(visits, key=lambda visit: (_utc(visit.span.start), _utc(visit.span.end)))
    gaps = []
    for earlier, later in itertools.pairwise(ordered):
        if earlier.place is not None and later.place is not None:
            gaps.append((earlier, later, drive.minutes(earlier.place, later.place)))
    return gaps


# --- the rules, one function each ---------------------------------------------------


def _overlaps(
    placement: Placement,
    technician: TechnicianProfile,
    booked: Sequence[BookedVisit],
    tz: dt.tzinfo,
) -> list[Finding]:
    clashes = sorted(
        (visit for visit in booked if _overlap(visit.span, placement.span)),
        key=lambda visit: _utc(visit.span.start),
    )
    return [
        _finding(
            Rule.OVERLAP,
            f"Overlaps {visit.label} ({_hours(visit.span, tz)}) for {technician.name}.",
            technician.id,
        )
        for visit in clashes
    ]


def _missing_skills(
    required: Mapping[str, int], crew: Sequence[TechnicianProfile]
) -> list[Finding]:
    if not crew:
        return []
    findings = []
    # A crew covers skills together: the apprentice need not hold the journeyman's ticket.
    for skill, level in required.items():
        best = max(technician.skills.get(skill, 0) for technician in crew)
        if best >= level:
            continue
        if len(crew) == 1:
            technician = crew[0]
            message = (
                f"{technician.name} lacks {skill} level {level} (has {best})."
                if best
                else f"{technician.name} lacks {skill}."
            )
            findings.append(_finding(Rule.MISSING_SKILL, message, technician.id))
        else:
            message = (
                f"No one on the crew has {skill} at level {level} (best: {best})."
                if best
                else f"No one on the crew has {skill}."
            )
            findings.append(_finding(Rule.MISSING_SKILL, message))
    return findings


def _shift_finding(span: TimeSpan, technician: TechnicianProfile, tz: dt.tzinfo) -> Finding | None:
    if any(_within(span, shift) for shift in technician.shifts):
        return None
    day = span.start.astimezone(tz).date()
    # A shift belongs to the day it starts on, as a night shift does on the roster.
    nearby = sorted(
        (
            shift
            for shift in technician.shifts
            if _overlap(shift, span) or shift.start.astimezone(tz).date() == day
        ),
        key=lambda shift: _utc(shift.start),
    )
    if not nearby:
        return _finding(
            Rule.OFF_TODAY,
            f"{technician.name} is off on {day:%A} {day.day} {day:%B}.",
            technician.id,
        )
    hours = ", ".join(_hours(shift, tz) for shift in nearby)
    plural = "s" if len(nearby) > 1 else ""
    return _finding(
        Rule.OUTSIDE_SHIFT,
        f"Runs {_hours(span, tz)}, outside {technician.name}'s shift{plural} ({hours}).",
        technician.id,
    )


def _drive_times(
    placement: Placement,
    technician: TechnicianProfile,
    booked: Sequence[BookedVisit],
    drive: DriveEstimate,
) -> list[Finding]:
    site = placement.place
    if site is None:
        return []
    start, end = _utc(placement.span.start), _utc(placement.span.end)
    placed = [(visit, visit.place) for visit in booked if visit.place is not None]
    # Visits overlapping the placement fall in neither list: OVERLAP reports those.
    before = [(visit, place) for visit, place in placed if _utc(visit.span.end) <= start]
    after = [(visit, place) for visit, place in placed if _utc(visit.span.start) >= end]
    findings = []
    if before:
        previous, origin = max(before, key=lambda pair: _utc(pair[0].span.end))
        needed = drive.minutes(origin, site)
        free = _minutes(_utc(previous.span.end), start)
        if needed > free:
            findings.append(_drive_finding(technician, f"from {previous.label}", needed, free))
    if after:
        following, destination = min(after, key=lambda pair: _utc(pair[0].span.start))
        needed = drive.minutes(site, destination)
        free = _minutes(end, _utc(following.span.start))
        if needed > free:
            findings.append(_drive_finding(technician, f"to {following.label}", needed, free))
    return findings


# --- small helpers --------------------------------------------------------------------


def _finding(rule: Rule, message: str, technician_id: int | None = None) -> Finding:
    return Finding(rule, _SEVERITY[rule], message, technician_id)


def _drive_finding(
    technician: TechnicianProfile, route: str, needed: float, free: float
) -> Finding:
    # Needed time rounds up and free time down, so the two numbers never read as equal.
    return _finding(
        Rule.DRIVE_TIME,
        f"{technician.name} needs {math.ceil(needed)} min to drive {route}, "
        f"but only {math.floor(free)} min are free.",
        technician.id,
    )


def _has_skills(technician: TechnicianProfile, required: Mapping[str, int]) -> bool:
    return skills_suffice(technician.skills, required)


def skills_suffice(held: Mapping[str, int], required: Mapping[str, int]) -> bool:
    """Whether skills ``held`` (code → level) cover every ``required`` one at its level."""
    return all(held.get(skill, 0) >= level for skill, level in required.items())


def _utc(moment: dt.datetime) -> dt.datetime:
    # A naive time would be read in the computer's own zone: refuse it rather than guess.
    if moment.utcoffset() is None:
        raise ValueError(f"A time in the dispatch rules needs a time zone ({moment}).")
    return moment.astimezone(dt.UTC)


def _overlap(a: TimeSpan, b: TimeSpan) -> bool:
    return _utc(a.start) < _utc(b.end) and _utc(b.start) < _utc(a.end)


def _within(inner: TimeSpan, outer: TimeSpan) -> bool:
    return _utc(outer.start) <= _utc(inner.start) and _utc(inner.end) <= _utc(outer.end)


def _minutes(earlier: dt.datetime, later: dt.datetime) -> float:
    return (later - earlier).total_seconds() / 60.0


def _hours(span: TimeSpan, tz: dt.tzinfo) -> str:
    return f"{span.start.astimezone(tz):%H:%M}–{span.end.astimezone(tz):%H:%M}"


def _fixed_offset(moment: dt.datetime) -> dt.datetime:
    offset = moment.utcoffset()
    assert offset is not None  # moment came from astimezone, so it is aware
    return moment.replace(tzinfo=dt.timezone(offset), fold=0)
