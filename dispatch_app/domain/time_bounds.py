"""How far in time the company's records reach, in one place.

A date in year 1 or 9999 is a slip of the keyboard, not a plan, and near those ends the
date arithmetic of every program (ours, Qt's, PostgreSQL's) overflows. So:

* everything the schedule holds — visits, arrival windows, requested windows, time
  entries — lies in the years 2000 to 2099, and the board shows days in those years
  only (the database's CHECK constraints allow a day more at either end, so that 2000
  to 2099 in any time zone on Earth fits them);
* a visit lasts more than nothing and at most 7 days (a long roof tear-off is one visit;
  longer work is several);
* an arrival window (what the customer was promised) lasts at most 24 hours and starts
  within 30 days of its visit's booked start;
* a visit is booked or moved to at most 2 years (730 days) after the clock's today and
  at most 30 days before it (recording or correcting last month's work is fine; last
  year's is a slip).

The database holds the first three as CHECK constraints (``migrations/versions/0005_…``).
The last depends on today, which a CHECK constraint cannot read, so it is the
operations' rule, with the injected clock.
"""

from __future__ import annotations

import datetime as dt

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
# The database's bounds, as instants: the years above in any zone (UTC−12 to UTC+14)
# fall inside them.
EARLIEST = dt.datetime(1999, 12, 31, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 2, tzinfo=dt.UTC)  # exclusive

LONGEST_VISIT = dt.timedelta(days=7)
LONGEST_ARRIVAL_WINDOW = dt.timedelta(hours=24)
# How far a promised arrival window may start from its visit's booked start.
ARRIVAL_WINDOW_REACH = dt.timedelta(days=30)
BOOKING_HORIZON = dt.timedelta(days=730)
BOOKING_GRACE = dt.timedelta(days=30)


def day_problem(day: dt.date) -> str | None:
    """Why the board cannot show ``day``, or ``None``."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return (
        f"{day.isoformat()} is outside the schedule; choose a day from "
        f"{_date(FIRST_DAY)} to {_date(LAST_DAY)}."
    )


def moment_problem(label: str, moment: dt.datetime) -> str | None:
    """Why ``moment`` cannot be stored in the schedule, or ``None``. ``label`` starts
    the sentence ("The start")."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return f"{label} must carry a time zone."
    # The year on the moment's own clock: no arithmetic, which overflows near 1 or 9999.
    if not FIRST_DAY.year <= moment.year <= LAST_DAY.year:
        return (
            f"{label} is in {moment.year}; give a date between {FIRST_DAY.year} "
            f"and {LAST_DAY.year}."
        )
    return None


def visit_span_problem(
    starts: dt.datetime, ends: dt.datetime, *, subject: str = "The visit"
) -> str | None:
    """Why a visit cannot be booked from ``starts`` to ``ends`` whatever today is."""
    problem = moment_problem(f"{subject}'s start", starts) or moment_problem(
        f"{subject}'s end", ends
    )
    if problem:
        return problem
    length = _utc(ends) - _utc(starts)
    if length <= dt.timedelta(0):
        return f"{subject} must end after it starts."
    if length > LONGEST_VISIT:
        return (
            f"{subject} would last {_days(length)}; a visit lasts at most "
            f"{LONGEST_VISIT.days} days (book longer work as several visits)."
        )
    return None


def booking_problem(
    starts: dt.datetime,
    ends: dt.datetime,
    *,
    today: dt.date,
    tz: dt.tzinfo,
    subject: str = "The visit",
) -> str | None:
    """``visit_span_problem``, then whether ``starts`` is within reach of ``today``
    (the company's date by the injected clock; ``tz`` its zone)."""
    problem = visit_span_problem(starts, ends, subject=subject)
    if problem:
        return problem
    day = starts.astimezone(tz).date()
    latest = today + BOOKING_HORIZON
    earliest = today - BOOKING_GRACE
    if day > latest:
        return (
            f"{subject} would be on {_date(day)}; visits are booked at most "
            f"{BOOKING_HORIZON.days // 365} years ahead (until {_date(latest)})."
        )
    if day < earliest:
        return (
            f"{subject} would be on {_date(day)}; a visit can be placed at most "
            f"{BOOKING_GRACE.days} days back (from {_date(earliest)})."
        )
    return None


def arrival_window_problem(
    arrive_from: dt.datetime,
    arrive_until: dt.datetime,
    starts: dt.datetime | None = None,
) -> str | None:
    """Why the customer cannot be promised ``arrive_from``–``arrive_until`` (for a
    visit booked at ``starts``, if it has a time), or ``None``."""
    problem = moment_problem("The arrival window's start", arrive_from) or moment_problem(
        "The arrival window's end", arrive_until
    )
    if problem:
        return problem
    length = _utc(arrive_until) - _utc(arrive_from)
    if length <= dt.timedelta(0):
        return "The arrival window must end after it starts."
    if length > LONGEST_ARRIVAL_WINDOW:
        return "An arrival window lasts at most 24 hours."
    if starts is not None and not window_within_reach(arrive_from, starts):
        return (
            f"The arrival window must start within {ARRIVAL_WINDOW_REACH.days} days of the "
            "visit it promises."
        )
    return None


def window_within_reach(arrive_from: dt.datetime, starts: dt.datetime) -> bool:
    """Whether a window starting at ``arrive_from`` can still be the promise for a visit
    booked at ``starts`` (the database's ``arrival_window_near_visit``)."""
    return abs(_utc(starts) - _utc(arrive_from)) <= ARRIVAL_WINDOW_REACH


def _utc(moment: dt.datetime) -> dt.datetime:
    # Two times sharing one tzinfo subtract by their wall clocks, an hour off across a
    # change of the clocks; through UTC they subtract as the database does.
    return moment.astimezone(dt.UTC)


def _date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _days(span: dt.timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:,.0f} days" if days >= 2 else f"{span.total_seconds() / 3600:,.0f} hours"
