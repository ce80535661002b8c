"""Maps board pixels to times and back: the one place that knows the horizontal scale.

The timeline is a row of day pieces, each the working hours of one day (the night
between is left out, so a week still reads). Times are compared as instants (UTC):
Python compares two datetimes of one zone by wall clock, which is an hour off across a
daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DayPiece:
    """One day's shown hours, drawn from content x ``x`` onwards."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    x: float  # where ``start`` lies, in content pixels (0 = the first day's first hour)

    @property
    def hours(self) -> float:
        return (self.end.timestamp() - self.start.timestamp()) / 3600


DAY_GAP = 8.0  # pixels between two days' pieces


@dataclass(frozen=True, slots=True)
class TimeGrid:
    """``pieces`` side by side; content x 0 is drawn at screen x ``left``."""

    pieces: tuple[DayPiece, ...]
    left: float
    hour_width: float

    @staticmethod
    def build(
        days: list[dt.date], first_hour: int, last_hour: int, tz: dt.tzinfo, hour_width: float
    ) -> TimeGrid:
        pieces = []
        x = 0.0
        for day in days:
            start = _local(day, first_hour, tz)
            end = _local(day, last_hour, tz)
            pieces.append(DayPiece(day, start, end, x))
            x += (end.timestamp() - start.timestamp()) / 3600 * hour_width + DAY_GAP
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
    def content_width(self) -> float:
        last = self.pieces[-1]
        return last.x + last.hours * self.hour_width

    @property
    def right(self) -> float:
        return self.left + self.content_width

    def x_of(self, moment: dt.datetime) -> float:
        """Screen x of ``moment``; a time in a hidden night sits at the edge of its day."""
        stamp = moment.timestamp()
        scale = self.hour_width / 3600
        for piece in self.pieces:
            start, end = piece.start.timestamp(), piece.end.timestamp()
            if stamp < end or piece is self.pieces[-1]:
                seconds = min(max(stamp, start), end) - start
                return self.left + piece.x + seconds * scale
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
        return dt.datetime.fromtimestamp(piece.start.timestamp() + seconds, tz)

    def piece_of(self, moment: dt.datetime) -> DayPiece | None:
        stamp = moment.timestamp()
        for piece in self.pieces:
            if piece.start.timestamp() <= stamp < piece.end.timestamp():
                return piece
        return None

    def hour_marks(self, every: int = 1) -> list[tuple[dt.datetime, float]]:
        """Whole local hours (every ``every``) with their screen x, day by day."""
        marks = []
        for piece in self.pieces:
            tz = piece.start.tzinfo
            stamp = piece.start.timestamp()
            while stamp <= piece.end.timestamp() + 1:
                moment = dt.datetime.fromtimestamp(stamp, tz)
                if moment.minute == 0 and moment.hour % every == 0:
                    marks.append(
                        (
                            moment,
                            self.x_of(moment)
                            if stamp < piece.end.timestamp()
                            else self.left + piece.x + piece.hours * self.hour_width,
                        )
                    )
                stamp += 3600
        return marks


def _local(day: dt.date, hour: int, tz: dt.tzinfo) -> dt.datetime:
    if hour >= 24:
        return dt.datetime.combine(day + dt.timedelta(days=hour // 24), dt.time(hour % 24), tz)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
