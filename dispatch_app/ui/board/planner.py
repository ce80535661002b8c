"""What a gesture on the board would change, and what the dispatch rules say about it. No Qt.

The view turns the pointer or a key into times and rows; the planner turns those into
``PlannedMove`` values and a ``Verdict`` — moves, the rules' findings, notes on what the
target technician's truck lacks, or a problem that stops the gesture outright. It reads
the board's ``RowIndex`` and writes nothing: the verdict is drawn while the user drags
and handed to the board's actions on the drop.

One crew rule serves drags and arrow keys alike: the visit's crew member in the row
the gesture started from is swapped for the technician of the target row, and the rest
of the crew stay (``swap_crew``); a job dropped from the queue goes to the technician of
the row it is dropped on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Sequence

from dispatch_app.domain.dispatch_rules import Finding, Severity, snap
from dispatch_app.domain.scheduling import later
from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.services.day_board import BoardSettings, TechnicianRow, UnassignedJob, VisitBlock
from dispatch_app.services.placement import PlannedMove, check_moves, truck_notes
from dispatch_app.ui.board.row_index import RowIndex

# Sentences the planner itself says (the rules' own come with their findings).
DIFFERENT_ROWS = "Visits of different technicians move in time only."
ALREADY_ON = "{name} is already on {number}."
DROP_ON_A_ROW = "Drop on a technician's row."


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """The rules' answer for a planned change, for painting and for the drop."""

    moves: tuple[PlannedMove, ...]
    findings: tuple[Finding, ...]
    problem: str = ""  # a gesture the board cannot turn into moves at all
    seen: tuple[VisitBlock, ...] = ()  # the blocks as the user saw them when planning
    # Said while dragging, asked about never: the target's truck lacks a part the job
    # needs. Kept apart from ``findings`` so that a drop with notes alone just happens.
    notes: tuple[Finding, ...] = ()

    @property
    def level(self) -> str:
        if self.problem or any(f.severity == Severity.REFUSE for f in self.findings):
            return "refuse"
        return "ask" if self.findings else "ok"

    def message(self) -> str:
        if self.problem:
            return self.problem
        return "\n".join(f.message for f in (*self.findings, *self.notes))

    def changes(self) -> bool:
        """Whether any move puts a visit somewhere else than where the user saw it (a
        drop where the drag began is a click, not a change)."""
        before = {v.id: (v.starts, v.ends, v.technician_ids) for v in self.seen}
        return any(
            before.get(m.visit_id) != (m.starts, m.ends, m.technician_ids) for m in self.moves
        )


class Edge(enum.Enum):
    START = enum.auto()
    END = enum.auto()


def swap_crew(
    visit: VisitBlock, from_row: int, target: TechnicianRow | None
) -> tuple[tuple[int, ...], str]:
    """The visit's crew once taken from ``from_row``'s technician to ``target``'s row,
    and the problem when it cannot be (None or the same row: the crew stays)."""
    crew = visit.technician_ids
    if target is None or target.id == from_row:
        return crew, ""
    if from_row not in crew:
        return crew, DIFFERENT_ROWS
    if target.id in crew:
        return crew, ALREADY_ON.format(name=target.name, number=visit.number)
    return tuple(target.id if t == from_row else t for t in crew), ""


class MovePlanner:
    """Plans gestures against the board as ``index`` holds it, with the company's
    ``settings`` in the business zone ``timezone`` (None until a day is shown: nothing
    is checked then)."""

    def __init__(
        self, index: RowIndex, settings: BoardSettings, timezone: dt.tzinfo | None
    ) -> None:
        self.index = index
        self.settings = settings
        self.timezone = timezone

    def snap(self, moment: dt.datetime) -> dt.datetime:
        assert self.timezone is not None, "no day shown: nothing to snap to"
        return snap(moment, self.settings.snap_minutes, self.timezone)

    def verdict(
        self,
        moves: Sequence[PlannedMove],
        problem: str = "",
        seen: Sequence[VisitBlock] = (),
        target: TechnicianRow | None = None,
    ) -> Verdict:
        """What the dispatch rules say about ``moves`` against the board as it stands, and
        what ``target``'s truck (the row under the pointer) lacks for them."""
        if problem or not moves or self.timezone is None:
            return Verdict(tuple(moves), (), problem, tuple(seen))
        findings = check_moves(
            moves,
            self.index.technicians_by_id,
            self.index.visits_by_row,
            self.settings,
            self.timezone,
        )
        notes = truck_notes(moves, target.id, self.index.truck_stock) if target else ()
        return Verdict(tuple(moves), tuple(findings), "", tuple(seen), tuple(notes))

    def move(
        self,
        selection: Sequence[VisitBlock],
        *,
        grabbed: VisitBlock,
        from_row: int,
        grabbed_at: dt.datetime,
        pointer_at: dt.datetime,
        target: TechnicianRow | None,
    ) -> Verdict:
        """Blocks dragged together: the grabbed one's start follows the pointer, snapped,
        and the others keep their distance to it; over another row, each visit's member
        from ``from_row`` is swapped for that row's technician."""
        new_start = self.snap(later(grabbed.starts, pointer_at - grabbed_at))
        offset = dt.timedelta(seconds=new_start.timestamp() - grabbed.starts.timestamp())
        return self._shift(list(selection) or [grabbed], offset, from_row, target)

    def keys(
        self,
        selection: Sequence[VisitBlock],
        *,
        by: dt.timedelta,
        from_row: int,
        target: TechnicianRow | None,
    ) -> Verdict:
        """Arrow keys: the selection ``by`` later (one snap), or to ``target``'s row."""
        return self._shift(selection, by, from_row, target)

    def _shift(
        self,
        selection: Sequence[VisitBlock],
        by: dt.timedelta,
        from_row: int,
        target: TechnicianRow | None,
    ) -> Verdict:
        moves, problem = [], ""
        for visit in selection:
            crew, refused = swap_crew(visit, from_row, target)
            problem = refused or problem
            moves.append(
                PlannedMove.of_visit(
                    visit,
                    starts=later(visit.starts, by),
                    ends=later(visit.ends, by),
                    technician_ids=crew,
                )
            )
        return self.verdict(moves, problem, selection, target)

    def resize(self, visit: VisitBlock, edge: Edge, pointer_at: dt.datetime) -> Verdict:
        """One edge of a block follows the pointer, snapped; a visit lasts at least one
        snap step."""
        at = self.snap(pointer_at)
        shortest = dt.timedelta(minutes=self.settings.snap_minutes)
        if edge == Edge.END:
            move = PlannedMove.of_visit(visit, ends=max(at, visit.starts + shortest))
        else:
            move = PlannedMove.of_visit(visit, starts=min(at, visit.ends - shortest))
        return self.verdict([move])

    def queue_drop(
        self, job: UnassignedJob, *, pointer_at: dt.datetime, target: TechnicianRow | None
    ) -> Verdict:
        """A job from the queue over ``target``'s row: it starts where the pointer is,
        snapped, and lasts as long as its job type does."""
        if target is None:
            return Verdict((), (), DROP_ON_A_ROW)
        move = PlannedMove.of_job(job, starts=self.snap(pointer_at), technician_ids=(target.id,))
        return self.verdict([move], target=target)


def block_of_job(job: UnassignedJob, move: PlannedMove) -> VisitBlock:
    """The block a queue job being dropped would become (its ghost)."""
    return VisitBlock(
        id=job.visit_id,
        work_order_id=job.work_order_id,
        number=job.number,
        technician_ids=move.technician_ids,
        starts=move.starts,
        ends=move.ends,
        status=VisitStatus.SCHEDULED.value,
        priority=job.priority,
        job_type=job.job_type,
        customer=job.customer,
        city=job.city,
        arrival_window=None,
        lat=job.lat,
        lon=job.lon,
        version=job.version,
        required_skills=job.required_skills,
        job_type_id=job.job_type_id,
    )
