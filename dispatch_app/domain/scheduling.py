"""Scheduling facts that do not depend on where data is stored: overlaps and shifts."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """A half-open interval ``[start, end)``: a visit ending at 10:00 and one starting
    at 10:00 do not overlap."""

    start: dt.datetime
    end: dt.datetime

    # Instants are compared through timestamps: Python compares two datetimes of one
    # zone by wall clock, which is an hour off across a daylight-saving change.
    def __post_init__(self) -> None:
        if self.end.timestamp() <= self.start.timestamp():
            raise ValueError(f"a span must end after it starts ({self.start} → {self.end})")

    def overlaps(self, other: TimeSpan) -> bool:
        return (
            self.start.timestamp() < other.end.timestamp()
            and other.start.timestamp() < self.end.timestamp()
        )

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.end.timestamp() - self.start.timestamp())


def later(moment: dt.datetime, by: dt.timedelta) -> dt.datetime:
    """``moment + by`` as elapsed time, in ``moment``'s zone: plain ``+`` on a zoned
    datetime adds wall-clock time, an hour off across a daylight-saving change."""
    return (moment.astimezone(dt.UTC) + by).astimezone(moment.tzinfo)


def first_overlap(spans: Iterable[TimeSpan]) -> tuple[TimeSpan, TimeSpan] | None:
    """The first pair of overlapping spans in start order, or ``None``."""
    ordered = sorted(spans, key=lambda span: (span.start.timestamp(), span.end.timestamp()))
    for earlier, later in itertools.pairwise(ordered):
        if earlier.overlaps(later):
            return earlier, later
    return None


@dataclass(frozen=True, slots=True)
class Shift:
    """Working hours on one weekday, in business-local wall-clock time.

    ``end <= start`` means the shift runs past midnight into the next day.
    """

    weekday: int  # Monday = 0, as datetime.date.weekday()
    start: dt.time
    end: dt.time

    def span_on(self, day: dt.date, tz: dt.tzinfo) -> TimeSpan:
        """The shift as absolute times when it starts on ``day`` (which must be its weekday)."""
        if day.weekday() != self.weekday:
            raise ValueError(f"{day} is not weekday {self.weekday}")
        end_day = day if self.end > self.start else day + dt.timedelta(days=1)
        return TimeSpan(
            dt.datetime.combine(day, self.start, tzinfo=tz),
            dt.datetime.combine(end_day, self.end, tzinfo=tz),
        )
