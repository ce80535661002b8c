"""Maps board pixels to times and back: the one place that knows the horizontal scale.

The timeline is a row of day pieces, each the working hours of one day (the night
between is left out, so a week still reads). Times are compared as instants (UTC):
Python compares two datetimes of one zone by wall clock, which is an hour off across a
daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DayPiece:
    """One day's shown hours, drawn from content x ``x`` onwards."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    x: float  # where ``start`` lies, in content pixels (0 = the first day's first hour)
    # The two ends as POSIX seconds, worked out once: the painter places every block
    # through them, and datetime.timestamp() is slow enough to show in a frame.
    start_ts: float = field(init=False, compare=False, repr=False)
    end_ts: float = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_ts", self.start.timestamp())
        object.__setattr__(self, "end_ts", self.end.timestamp())

    @property
    def hours(self) -> float:
        return (self.end_ts - self.start_ts) / 3600


DAY_GAP = 8.0  # pixels between two days' pieces


@dataclass(frozen=True, slots=True)
class HourMark:
    """A whole local hour on the timeline: its time, label and content x."""

    moment: dt.datetime
    x: float  # content pixels
    short: str  # "07"
    long: str  # "07:00"


@dataclass(frozen=True, slots=True)
class TimeGrid:
    """``pieces`` side by side; content x 0 is drawn at screen x ``left``."""

    pieces: tuple[DayPiece, ...]
    left: float
    hour_width: float
    content_width: float = field(init=False, compare=False)
    _scale: float = field(init=False, compare=False, repr=False)  # pixels per second

    def __post_init__(self) -> None:
        last = self.pieces[-1]
        object.__setattr__(self, "content_width", last.x + last.hours * self.hour_width)
        object.__setattr__(self, "_scale", self.hour_width / 3600)

    @staticmethod
    def build(
        days: list[dt.date], first_hour: int, last_hour: int, tz: dt.tzinfo, hour_width: float
    ) -> TimeGrid:
        pieces = []
        x = 0.0
        for day in days:
            start = _local(day, first_hour, tz)
            end = _local(day, last_hour, tz)
            piece = DayPiece(day, start, end, x)
            pieces.append(piece)
            x += (piece.end_ts - piece.start_ts) / 3600 * hour_width + DAY_GAP
        return TimeGrid(tuple(pieces), 0.0, hour_width)

    def scrolled(self, left: float) -> TimeGrid:
        return TimeGrid(self.pieces, left, self.hour_width)

    @property
    def origin(self) -> dt.datetime:
        return self.pieces[0].start

    @property
    def end(self) -> dt.datetime:
        return self.pieces[-1].end

    @property
    def right(self) -> float:
        return self.left + self.content_width

    def x_of(self, moment: dt.datetime) -> float:
        """Screen x of ``moment``; a time in a hidden night sits at the edge of its day."""
        return self.left + self.content_x(moment.timestamp())

    def content_x(self, stamp: float) -> float:
        """Content x of the instant ``stamp``: where it lies whatever the scrolling."""
        pieces = self.pieces
        last = pieces[-1]
        for piece in pieces:
            if stamp < piece.end_ts or piece is last:
                start, end = piece.start_ts, piece.end_ts
                clamped = start if stamp < start else end if stamp > end else stamp
                return piece.x + (clamped - start) * self._scale
        raise AssertionError("unreachable")

    def time_at(self, x: float) -> dt.datetime:
        """The instant under screen x (in the gap between days: the end of the day before)."""
        content = x - self.left
        piece = self.pieces[0]
        for candidate in self.pieces:
            if content >= candidate.x:
                piece = candidate
        seconds = (content - piece.x) / self.hour_width * 3600
        seconds = min(max(seconds, 0.0), piece.hours * 3600)
        tz = piece.start.tzinfo
        return dt.datetime.fromtimestamp(piece.start_ts + seconds, tz)

    def piece_of(self, moment: dt.datetime) -> DayPiece | None:
        stamp = moment.timestamp()
        for piece in self.pieces:
            if piece.start_ts <= stamp < piece.end_ts:
                return piece
        return None

    def hour_marks(self, every: int = 1) -> list[tuple[dt.datetime, float]]:
        """Whole local hours (every ``every``) with their screen x, day by day."""
        return [(mark.moment, self.left + mark.x) for mark in self.marks(every)]

    def marks(self, every: int = 1) -> tuple[HourMark, ...]:
        """Whole local hours (every ``every``) in content pixels, with their labels."""
        return _marks(self.pieces, self.hour_width, every)


@functools.lru_cache(maxsize=32)
def _marks(pieces: tuple[DayPiece, ...], hour_width: float, every: int) -> tuple[HourMark, ...]:
    # A grid is rebuilt whenever the view scrolls; its hours only when the scale changes.
    grid = TimeGrid(pieces, 0.0, hour_width)
    marks = []
    for piece in pieces:
        tz = piece.start.tzinfo
        stamp = piece.start_ts
        while stamp <= piece.end_ts + 1:
            moment = dt.datetime.fromtimestamp(stamp, tz)
            if moment.minute == 0 and moment.hour % every == 0:
                x = (
                    grid.content_x(stamp)
                    if stamp < piece.end_ts
                    else piece.x + piece.hours * hour_width
                )
                hour = f"{moment.hour:02d}"
                marks.append(HourMark(moment, x, hour, f"{hour}:00"))
            stamp += 3600
    return tuple(marks)


def _local(day: dt.date, hour: int, tz: dt.tzinfo) -> dt.datetime:
    if hour >= 24:
        return dt.datetime.combine(day + dt.timedelta(days=hour // 24), dt.time(hour % 24), tz)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
