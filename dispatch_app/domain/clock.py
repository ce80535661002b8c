"""The company's "now": one clock that the rules, the operations and the screens ask.

Nothing below the command line reads the computer's clock itself. The app runs on
``SYSTEM_CLOCK``; a test (or ``--now`` for a demo at 16:20) hands in a ``FixedClock``,
so what "today", "late" and "the next free window" mean never depends on when it runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The present moment, always with a time zone."""
        ...


class SystemClock:
    """The computer's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that shows one moment until told otherwise (tests, demos, screenshots)."""

    def __init__(self, moment: dt.datetime) -> None:
        self._moment = _aware(moment)

    def now(self) -> dt.datetime:
        return self._moment

    def set(self, moment: dt.datetime) -> None:
        self._moment = _aware(moment)

    def advance(self, delta: dt.timedelta) -> None:
        """Elapsed time: across a daylight-saving change the wall clock jumps, this does not."""
        self._moment = (self._moment.astimezone(dt.UTC) + delta).astimezone(self._moment.tzinfo)

    def __repr__(self) -> str:
        return f"FixedClock({self._moment.isoformat()})"


SYSTEM_CLOCK: Clock = SystemClock()


def local_now(clock: Clock, tz: dt.tzinfo) -> dt.datetime:
    """The clock's moment on the company's wall clock."""
    return clock.now().astimezone(tz)


def today(clock: Clock, tz: dt.tzinfo) -> dt.date:
    """The company's date at the clock's moment."""
    return local_now(clock, tz).date()


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a clock's moment must carry a time zone")
    return moment
