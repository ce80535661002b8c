"""Maps board pixels to times and back; the one place that knows the horizontal scale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimeGrid:
    """``origin`` is drawn at x = ``left``; each hour is ``hour_width`` pixels wide."""

    origin: dt.datetime
    hours: float
    left: float
    hour_width: float

    @property
    def right(self) -> float:
        return self.left + self.hours * self.hour_width

    @property
    def end(self) -> dt.datetime:
        return self.origin + dt.timedelta(hours=self.hours)

    def x_of(self, moment: dt.datetime) -> float:
        return self.left + (moment - self.origin).total_seconds() / 3600 * self.hour_width

    def time_at(self, x: float) -> dt.datetime:
        return self.origin + dt.timedelta(hours=(x - self.left) / self.hour_width)

    def hour_marks(self) -> list[dt.datetime]:
        return [self.origin + dt.timedelta(hours=h) for h in range(int(self.hours) + 1)]
