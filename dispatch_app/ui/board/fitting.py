"""Which rows can take the visit being dragged, asked of ``fits`` as seldom as possible.

While the user drags, the planned span changes with every snap step and every row is
asked again. Whether a technician can take a span changes only where one of its ends
crosses one of that technician's shift edges, so each answer is remembered for the
span's position among those edges (before, on, or after each one) and ``fits`` is
asked again only when that position is new.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.services.day_board import SkillLevels, TechnicianRow
from dispatch_app.services.placement import fits


class FittingRows:
    def __init__(self) -> None:
        self._rows: Sequence[TechnicianRow] | None = None
        self._edges: list[list[float]] = []  # per row: its shifts' starts and ends, sorted
        self._answers: dict[tuple[object, ...], bool] = {}

    def of(
        self,
        rows: Sequence[TechnicianRow],
        required: SkillLevels,
        starts: dt.datetime,
        ends: dt.datetime,
    ) -> frozenset[int]:
        """The ids of ``rows`` that can take a visit needing ``required`` from ``starts``
        to ``ends``. ``rows`` is compared by identity: pass a new list when they change."""
        if rows is not self._rows:
            self._rows = rows
            self._edges = [
                sorted(
                    stamp for s in row.shifts for stamp in (s.start.timestamp(), s.end.timestamp())
                )
                for row in rows
            ]
            self._answers = {}
        start, end = starts.timestamp(), ends.timestamp()
        span: TimeSpan | None = None
        fitting = []
        for row, edges in zip(rows, self._edges, strict=True):
            key = (
                row.id,
                required,
                bisect_left(edges, start),
                bisect_right(edges, start),
                bisect_left(edges, end),
                bisect_right(edges, end),
            )
            answer = self._answers.get(key)
            if answer is None:
                span = span or TimeSpan(starts, ends)
                answer = self._answers[key] = fits(row, required, span)
            if answer:
                fitting.append(row.id)
        return frozenset(fitting)
