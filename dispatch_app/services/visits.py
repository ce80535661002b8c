"""Operations on visits: move, assign a crew, unassign.

Each call is one unit of work. The write names the version the user saw
(``WHERE version = :seen``); if someone else saved first, nothing is written and a
``ConflictError`` says in one sentence what changed and who changed it. The screen
then shows the true state through the change feed, like any other change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Case, case, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import Visit, VisitTechnician, WorkOrder
from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.errors import ConflictError
from dispatch_app.services.day_board import VisitBlock, business_timezone


async def move_visit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    visit_id: int,
    seen_version: int,
    starts: dt.datetime,
    ends: dt.datetime,
    technician_ids: Sequence[int] | None = None,
    seen: VisitBlock | None = None,
) -> int:
    """Book the visit at ``starts``–``ends`` (and, if given, for exactly this crew).

    Returns the visit's new version. Raises ``ConflictError`` when the visit changed
    since ``seen_version``, ``ValueError`` for an impossible time span.
    """
    if starts.tzinfo is None or ends.tzinfo is None:
        raise ValueError("visit times must carry a time zone")
    if ends <= starts:
        raise ValueError("a visit must end after it starts")
    if technician_ids is not None and len(set(technician_ids)) != len(technician_ids):
        raise ValueError("a technician can be on a crew only once")
    async with sessions() as session, session.begin():
        new_version = await session.scalar(
            update(Visit)
            .where(Visit.id == visit_id, Visit.version == seen_version)
            .values(
                starts=starts,
                ends=ends,
                status=_scheduled_status(),
            )
            .returning(Visit.version)
        )
        if new_version is None:
            raise await _conflict(session, visit_id, "move", seen)
        if technician_ids is not None:
            await _set_crew(session, visit_id, technician_ids)
        return new_version


async def unassign_visit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    visit_id: int,
    seen_version: int,
    seen: VisitBlock | None = None,
) -> int:
    """Take the visit off every technician; it waits in the unassigned queue."""
    async with sessions() as session, session.begin():
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
