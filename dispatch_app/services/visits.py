"""Operations on visits: move (one or a batch), assign a crew, unassign, unschedule, set a
status.

Each call is one unit of work. The write names the version the user saw
(``WHERE version = :seen``); if someone else saved first, nothing is written and a
``ConflictError`` says in one sentence what changed and who changed it. The screen
then shows the true state through the change feed, like any other change.

A technician cannot be in two places at once: ``move_visits`` (and restoring a
cancelled visit) refuse, on the server, a placement that overlaps another visit of a
crew member. Two dispatchers dropping into the same slot at the same moment are put in
line by locking the technicians' rows first, so the second one sees the first one's
visit and is refused with ``PlacementRefused``.

Finished work stays put: a completed, cancelled or no-show visit, or any visit of an
invoiced or closed work order, is not moved, given another crew or sent back to the
queue (``visit_status.finished_problem`` says why in a sentence). A manager corrects one
by stepping it back first (reopen, restore), then moving it. The database refuses the
same (the ``dispatch_keep_finished_*`` triggers), for psql and for a race; that refusal
comes back as the same kind of sentence.

Lock order, kept everywhere here so that two operations never wait on each other in a
circle: technicians (by id), then visits (by id), then the work order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Case,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from dispatch_app.db.models import (
    RULE_SQLSTATES,
    StatusChange,
    Technician,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain import time_bounds
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.clock import today as clock_today
from dispatch_app.domain.ids import require_row_id, require_row_ids, require_version
from dispatch_app.domain.statuses import VISIT_NOT_BLOCKING, WORK_ORDER_BILLED, sql_values
from dispatch_app.domain.visit_status import (
    clean_reason,
    finished_problem,
    reason_problem,
    status_problem,
)
from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.errors import ConflictError, PlacementRefused, ValidationError
from dispatch_app.services.day_board import VisitBlock, business_timezone
from dispatch_app.services.work_order.status import follow_visit

_NOT_BLOCKING = sql_values(VISIT_NOT_BLOCKING)


@dataclass(frozen=True)
class VisitMove:
    """One visit's new place on the board: its time and, if given, exactly this crew
    (the first technician leads). ``seen`` is the block the user dragged, to word a
    conflict."""

    visit_id: int
    seen_version: int
    starts: dt.datetime
    ends: dt.datetime
    technician_ids: tuple[int, ...] | None = None
    seen: VisitBlock | None = None

    def __post_init__(self) -> None:
        require_row_id(self.visit_id, "visit")
        require_version(self.seen_version, "visit")
        if self.technician_ids is not None:
            require_row_ids(self.technician_ids, "technician")
        if self.starts.tzinfo is None or self.ends.tzinfo is None:
            raise ValueError("visit times must carry a time zone")
        if self.ends <= self.starts:
            raise ValueError("a visit must end after it starts")
        if self.technician_ids is not None and len(set(self.technician_ids)) != len(
            self.technician_ids
        ):
            raise ValueError("a technician can be on a crew only once")


async def move_visits(
    sessions: async_sessionmaker[AsyncSession],
    *,
    moves: Sequence[VisitMove],
    clock: Clock = SYSTEM_CLOCK,
) -> dict[int, int]:
    """Move several visits at once (a swap, a shifted afternoon), all or nothing.

    Returns each visit's new version by visit id. Raises ``ConflictError`` when any of
    them changed since its ``seen_version``, ``PlacementRefused`` when any would then
    overlap another visit of one of its technicians (visits in the batch count at their
    new times), ``ValidationError`` (field ``visit``) when one is finished or its new
    time is out of bounds (``time_bounds.booking_problem``, with ``clock``'s today); in
    every case nothing is written.

    A visit moved more than ``time_bounds.ARRIVAL_WINDOW_REACH`` away from the window
    its customer was promised loses that window: the promise was for another day.
    """
    return await _move(sessions, moves, refuse_overlaps=True, clock=clock)


async def move_visit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    visit_id: int,
    seen_version: int,
    starts: dt.datetime,
    ends: dt.datetime,
    technician_ids: Sequence[int] | None = None,
    seen: VisitBlock | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Book the visit at ``starts``–``ends`` (and, if given, for exactly this crew).

    Returns the visit's new version. Raises ``ConflictError`` when the visit changed
    since ``seen_version``, ``ValueError`` for an impossible time span,
    ``ValidationError`` as ``move_visits`` does.

    Unlike ``move_visits`` this does not refuse an overlap: it keeps the behaviour its
    callers were written against. The board should move through ``move_visits``.
    """
    move = VisitMove(
        visit_id=visit_id,
        seen_version=seen_version,
        starts=starts,
        ends=ends,
        technician_ids=None if technician_ids is None else tuple(technician_ids),
        seen=seen,
    )
    versions = await _move(sessions, [move], refuse_overlaps=False, clock=clock)
    return versions[visit_id]


async def _move(
    sessions: async_sessionmaker[AsyncSession],
    moves: Sequence[VisitMove],
    *,
    refuse_overlaps: bool,
    clock: Clock,
) -> dict[int, int]:
    ids = [move.visit_id for move in moves]
    if len(set(ids)) != len(ids):
        raise ValueError("a visit can be moved only once in a batch")
    if not moves:
        return {}
    async with _rules_refusal(), sessions() as session, session.begin():
        # Even without the overlap rule: writing a crew row takes a share lock on its
        # technician, so taking theirs later than the visits could deadlock with a batch.
        locked = await _lock_technicians(session, await _crews_after(session, moves))
        held = await _placements(session, ids)
        tz = await business_timezone(session)
        today = clock_today(clock, tz)
        versions: dict[int, int] = {}
        # In visit order, so that two batches sharing visits take their locks alike.
        for move in sorted(moves, key=lambda m: m.visit_id):
            now = held.get(move.visit_id)
            if now is None or now.version != move.seen_version:
                raise await _conflict(session, move.visit_id, "move", move.seen)
            problem = finished_problem(
                now.number, now.status, now.order_status, _doing(move, now)
            ) or time_bounds.booking_problem(
                move.starts, move.ends, today=today, tz=tz, subject=f"{now.number}'s visit"
            )
            if problem:
                raise ValidationError({"visit": problem})
            values: dict[str, Any] = {
                "starts": move.starts,
                "ends": move.ends,
                "status": _scheduled_status(),
            }
            if now.arrival_window_start is not None and not time_bounds.window_within_reach(
                now.arrival_window_start, move.starts
            ):
                values |= {"arrival_window_start": None, "arrival_window_end": None}
            new_version = await session.scalar(
                update(Visit)
                .where(Visit.id == move.visit_id, Visit.version == move.seen_version)
                .values(**values)
                .returning(Visit.version)
            )
            if new_version is None:
                # Leaving the block rolls back the moves already made in this batch.
                raise await _conflict(session, move.visit_id, "move", move.seen)
            if move.technician_ids is not None:
                await _set_crew(session, move.visit_id, move.technician_ids)
            versions[move.visit_id] = new_version
        if refuse_overlaps:
            # The moved rows already hold their new times, so the batch is checked
            # against itself as it will be, not as it was.
            await _refuse_overlaps(session, ids, locked, "nothing was moved")
        return {visit_id: versions[visit_id] for visit_id in ids}


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where a visit stands now, and its work order's number and status."""

    version: int
    status: str
    starts: dt.datetime | None
    ends: dt.datetime | None
    arrival_window_start: dt.datetime | None
    number: str
    order_status: str


async def _placements(session: AsyncSession, visit_ids: Collection[int]) -> dict[int, _Placement]:
    rows = (
        await session.execute(
            select(
                Visit.id,
                Visit.version,
                Visit.status,
                Visit.starts,
                Visit.ends,
                Visit.arrival_window_start,
                WorkOrder.number,
                WorkOrder.status.label("order_status"),
            )
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
            .where(Visit.id.in_(visit_ids))
        )
    ).all()
    return {
        row.id: _Placement(
            row.version,
            row.status,
            row.starts,
            row.ends,
            row.arrival_window_start,
            row.number,
            row.order_status,
        )
        for row in rows
    }


def _doing(move: VisitMove, now: _Placement) -> str:
    """What the move does, in the words a refusal uses ("reopen it before …")."""
    same_time = (move.starts, move.ends) == (now.starts, now.ends)
    if same_time and move.technician_ids == ():
        return "unassigning"
    if same_time and move.technician_ids is not None:
        return "reassigning"
    return "moving"


@contextlib.asynccontextmanager
async def _rules_refusal() -> AsyncIterator[None]:
    """The database's own refusal of a change to finished work (a race, or a rule this
    code did not check) as the sentence it carries."""
    try:
        yield
    except DBAPIError as error:
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate not in RULE_SQLSTATES:
            raise
        diagnostics = getattr(error.orig, "diag", None)
        sentence = getattr(diagnostics, "message_primary", None) or str(error.orig)
        raise ValidationError({"visit": sentence}) from None


async def unassign_visit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    visit_id: int,
    seen_version: int,
    seen: VisitBlock | None = None,
) -> int:
    """Take the visit off every technician; it waits in the unassigned queue.

    Raises ``ValidationError`` (field ``visit``) for finished work, as ``move_visits``."""
    require_row_id(visit_id, "visit")
    require_version(seen_version, "visit")
    async with _rules_refusal(), sessions() as session, session.begin():
        await _refuse_finished(session, [visit_id], {visit_id: seen_version}, "unassigning")
        new_version = await session.scalar(
            update(Visit)
            .where(Visit.id == visit_id, Visit.version == seen_version)
            .values(status=_scheduled_status())
            .returning(Visit.version)
        )
        if new_version is None:
            raise await _conflict(session, visit_id, "unassignment", seen)
        await _set_crew(session, visit_id, ())
        return new_version


async def unschedule_visits(
    sessions: async_sessionmaker[AsyncSession], *, seen: Mapping[int, int]
) -> dict[int, int]:
    """Take each visit's booked time and crew away, all or nothing: they wait in the queue
    again (how the board undoes scheduling a job from the queue).

    ``seen`` maps visit id to the version the user saw. Returns each visit's new version.
    Raises ``ConflictError`` when any changed since, ``ValidationError`` (field
    ``visit``) when one is finished work; nothing is written then.
    """
    for visit_id, version in seen.items():
        require_row_id(visit_id, "visit")
        require_version(version, "visit")
    versions: dict[int, int] = {}
    async with _rules_refusal(), sessions() as session, session.begin():
        await _refuse_finished(session, sorted(seen), seen, "unscheduling")
        for visit_id in sorted(seen):  # visit order, as moves lock them
            new_version = await session.scalar(
                update(Visit)
                .where(Visit.id == visit_id, Visit.version == seen[visit_id])
                .values(
                    starts=None,
                    ends=None,
                    # Only a booked visit falls back; one under way keeps its status.
                    status=case(
                        (
                            Visit.status == VisitStatus.SCHEDULED.value,
                            VisitStatus.UNSCHEDULED.value,
                        ),
                        else_=Visit.status,
                    ),
                )
                .returning(Visit.version)
            )
            if new_version is None:
                raise await _conflict(session, visit_id, "unscheduling", None)
            await _set_crew(session, visit_id, ())
            versions[visit_id] = new_version
    return {visit_id: versions[visit_id] for visit_id in seen}


async def set_visit_status(
    sessions: async_sessionmaker[AsyncSession],
    *,
    visit_id: int,
    seen_version: int,
    status: str,
    reason: str | None = None,
    seen: VisitBlock | None = None,
) -> int:
    """Set the visit's status (dispatch, arrive, complete, cancel, restore…).

    Writes one ``status_history`` row and keeps the work order in step (see
    ``work_order_status_after``); a cancelled or no-show work order carries ``reason``
    as its ``cancel_reason``. Returns the visit's new version.

    Raises ``ConflictError`` when the visit changed since ``seen_version``,
    ``ValidationError`` (field ``status`` or ``reason``) for a change the rules refuse,
    ``PlacementRefused`` when a restored visit's time was given to other work meanwhile.
    Nothing is written when any of these is raised.
    """
    require_row_id(visit_id, "visit")
    require_version(seen_version, "visit")
    async with _rules_refusal(), sessions() as session, session.begin():
        locked: set[int] = set()
        if status == VisitStatus.SCHEDULED:
            # Possibly a restore, which makes the visit hold its crew's time again: take
            # the technicians first, as a move does (see the lock order above). A crew
            # changed after this read also changed the visit's version: refused below.
            crew = await session.scalars(
                select(VisitTechnician.technician_id).where(VisitTechnician.visit_id == visit_id)
            )
            locked = await _lock_technicians(session, set(crew))
        visit = (
            await session.execute(
                select(Visit.version, Visit.status, Visit.starts, Visit.work_order_id)
                .where(Visit.id == visit_id)
                .with_for_update()
            )
        ).one_or_none()
        if visit is None or visit.version != seen_version:
            raise await _conflict(session, visit_id, "status change", seen)
        # Locked before reading the sibling visits: two visits of one work order finishing
        # at the same moment must not each think the other is still open.
        order = (
            await session.execute(
                select(WorkOrder.number, WorkOrder.status, WorkOrder.cancel_reason)
                .where(WorkOrder.id == visit.work_order_id)
                .with_for_update()
            )
        ).one()

        problem = status_problem(visit.status, status)
        if problem is None and order.status in WORK_ORDER_BILLED:
            problem = f"{order.number} is already {order.status}; its visits can no longer change."
        if problem is not None:
            raise ValidationError({"status": problem})
        problem = reason_problem(status, reason)
        if problem is not None:
            raise ValidationError({"reason": problem})
        why = clean_reason(reason)

        new_status = status
        if status == VisitStatus.SCHEDULED and visit.starts is None:
            # Brought back without a booked time: it waits in the queue for one.
            new_status = VisitStatus.UNSCHEDULED.value
        new_version = cast(
            int,
            await session.scalar(
                update(Visit)
                .where(Visit.id == visit_id)
                .values(status=new_status)
                .returning(Visit.version)
            ),
        )
        await session.execute(
            insert(StatusChange).values(
                work_order_id=visit.work_order_id,
                visit_id=visit_id,
                from_status=visit.status,
                to_status=new_status,
                reason=why,
                # The person at the workstation, as the other stamps name them.
            )
        )
        if visit.status in VISIT_NOT_BLOCKING:
            await _refuse_overlaps(session, [visit_id], locked, "the visit was not restored")

        await follow_visit(
            session,
            work_order_id=visit.work_order_id,
            visit_now=new_status,
            reason=why,
            order_status=order.status,
            order_cancel_reason=order.cancel_reason,
        )
        return new_version


async def _refuse_finished(
    session: AsyncSession, visit_ids: Sequence[int], seen: Mapping[int, int], doing: str
) -> None:
    """``ValidationError`` if one of the visits is finished work (see the module's
    docstring); a visit changed since it was seen is left to the write's version check."""
    held = await _placements(session, visit_ids)
    for visit_id in visit_ids:
        now = held.get(visit_id)
        if now is None or now.version != seen[visit_id]:
            continue
        problem = finished_problem(now.number, now.status, now.order_status, doing)
        if problem:
            raise ValidationError({"visit": problem})


async def _crews_after(session: AsyncSession, moves: Iterable[VisitMove]) -> set[int]:
    """Every technician who will be on a moved visit: the new crew where one is given,
    else the visit's present crew."""
    technicians: set[int] = set()
    keeping = []
    for move in moves:
        if move.technician_ids is None:
            keeping.append(move.visit_id)
        else:
            technicians.update(move.technician_ids)
    if keeping:
        technicians.update(
            await session.scalars(
                select(VisitTechnician.technician_id).where(VisitTechnician.visit_id.in_(keeping))
            )
        )
    return technicians


async def _lock_technicians(session: AsyncSession, technician_ids: Collection[int]) -> set[int]:
    """Lock the technicians' rows (by id, so two callers cannot lock in a circle) until
    the transaction ends; placements for the same people then happen one at a time.
    Through the database's ``dispatch_lock_technicians``: a CSR booking a first
    technician may lock, though not change, a technician's row."""
    if not technician_ids:
        return set()
    locked = set(
        await session.scalars(
            select(
                func.dispatch_lock_technicians(
                    sql_cast(bindparam("ids", sorted(technician_ids)), ARRAY(BigInteger))
                )
            )
        )
    )
    if locked != set(technician_ids):
        raise ConflictError(
            "A technician on the crew was deleted by someone else — your change was not applied."
        )
    return locked


async def _refuse_overlaps(
    session: AsyncSession, visit_ids: Collection[int], locked: set[int], outcome: str
) -> None:
    """Raise ``PlacementRefused`` if any of these visits, as they now stand in this
    transaction, overlaps another visit of one of its technicians."""
    crews = set(
        await session.scalars(
            select(VisitTechnician.technician_id).where(VisitTechnician.visit_id.in_(visit_ids))
        )
    )
    if crews - locked:
        # Only a crew edited outside the app (raw SQL, no version bump) gets here.
        locked |= await _lock_technicians(session, crews - locked)
    placed, other = aliased(Visit), aliased(Visit)
    placed_order, other_order = aliased(WorkOrder), aliased(WorkOrder)
    mine, theirs = aliased(VisitTechnician), aliased(VisitTechnician)
    clash = (
        await session.execute(
            select(
                placed.id.label("visit_id"),
                placed_order.number.label("number"),
                other.id.label("other_id"),
                other_order.number.label("other_number"),
                other.starts.label("other_starts"),
                other.ends.label("other_ends"),
                Technician.id.label("technician_id"),
                Technician.name.label("technician"),
            )
            .select_from(placed)
            .join(mine, mine.visit_id == placed.id)
            .join(
                theirs,
                and_(theirs.technician_id == mine.technician_id, theirs.visit_id != placed.id),
            )
            .join(other, other.id == theirs.visit_id)
            .join(Technician, Technician.id == mine.technician_id)
            .join(placed_order, placed_order.id == placed.work_order_id)
            .join(other_order, other_order.id == other.work_order_id)
            .where(
                placed.id.in_(visit_ids),
                placed.status.not_in(_NOT_BLOCKING),
                other.status.not_in(_NOT_BLOCKING),
                # Half-open spans: one visit ending at 10:00 and the next starting then
                # is a tight day, not a clash.
                other.starts < placed.ends,
                other.ends > placed.starts,
            )
            .order_by(placed.starts, placed.id, other.starts, other.id, Technician.id)
            .limit(1)
        )
    ).one_or_none()
    if clash is None:
        return
    tz = await business_timezone(session)
    starts = clash.other_starts.astimezone(tz).strftime("%H:%M")
    ends = clash.other_ends.astimezone(tz).strftime("%H:%M")
    raise PlacementRefused(
        f"{clash.number} would overlap {clash.other_number} ({starts}–{ends}) for "
        f"{clash.technician} — {outcome}.",
        visit_id=clash.visit_id,
        other_visit_id=clash.other_id,
        technician_id=clash.technician_id,
    )


def _scheduled_status() -> Case[str]:
    # A visit that gets a time becomes scheduled; one already under way keeps its status.
    return case(
        (Visit.status == VisitStatus.UNSCHEDULED.value, VisitStatus.SCHEDULED.value),
        else_=Visit.status,
    )


async def _set_crew(session: AsyncSession, visit_id: int, technician_ids: Sequence[int]) -> None:
    current = set(
        await session.scalars(
            select(VisitTechnician.technician_id).where(VisitTechnician.visit_id == visit_id)
        )
    )
    wanted = list(dict.fromkeys(technician_ids))
    gone = current - set(wanted)
    if gone:
        await session.execute(
            delete(VisitTechnician).where(
                VisitTechnician.visit_id == visit_id,
                VisitTechnician.technician_id.in_(gone),
            )
        )
    new = [t for t in wanted if t not in current]
    if new:
        await session.execute(
            insert(VisitTechnician),
            [
                {"visit_id": visit_id, "technician_id": tech, "is_lead": index == 0}
                for index, tech in enumerate(new)
            ],
        )
    if wanted:
        # The first technician named leads the crew.
        await session.execute(
            update(VisitTechnician)
            .where(VisitTechnician.visit_id == visit_id)
            .values(is_lead=VisitTechnician.technician_id == wanted[0])
            .execution_options(synchronize_session=False)
        )


def _what_changed(seen: VisitBlock | None, current: dict[str, object]) -> str:
    """The verb for the conflict message, from what differs from what the user saw."""
    if seen is None:
        return "changed"
    if (seen.starts, seen.ends) != (current["starts"], current["ends"]):
        return "moved"
    if list(seen.technician_ids) != sorted(cast(list[int], current["technician_ids"])):
        return "reassigned"
    if seen.status != current["status"]:
        return f"set to {str(current['status']).replace('_', ' ')}"
    return "changed"


async def _conflict(
    session: AsyncSession, visit_id: int, action: str, seen: VisitBlock | None
) -> ConflictError:
    row = (
        await session.execute(
            select(Visit, WorkOrder.number)
            .join(WorkOrder, Visit.work_order_id == WorkOrder.id)
            .where(Visit.id == visit_id)
        )
    ).one_or_none()
    if row is None:
        return ConflictError(
            f"The visit was deleted by someone else — your {action} was not applied."
        )
    visit, number = row
    tz = await business_timezone(session)
    crew = list(
        await session.scalars(
            select(VisitTechnician.technician_id)
            .where(VisitTechnician.visit_id == visit_id)
            .order_by(VisitTechnician.id)
        )
    )
    current: dict[str, object] = {
        "version": visit.version,
        "starts": visit.starts,
        "ends": visit.ends,
        "status": visit.status,
        "technician_ids": crew,
        "updated_by": visit.updated_by,
        "updated_at": visit.updated_at,
    }
    when = visit.updated_at.astimezone(tz).strftime("%H:%M")
    return ConflictError(
        f"{number} was {_what_changed(seen, current)} by {visit.updated_by} at {when} — "
        f"your {action} was not applied.",
        current=current,
    )
