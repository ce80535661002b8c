"""The work order's status, and the cascade between it and its visits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    StatusChange,
    Visit,
    WorkOrder,
)
from dispatch_app.domain import visit_status
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.statuses import VISIT_OPEN, sql_values
from dispatch_app.domain.visit_status import work_order_status_after
from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.domain.work_order_status import LABELS as STATUS_LABELS
from dispatch_app.domain.work_order_status import REASON_REQUIRED, status_problem
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.day_board import business_timezone


async def change_status(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    seen_status: str,
    status: str,
    reason: str | None = None,
) -> None:
    """Set the work order's status by the state machine, with a history row.

    ``seen_status`` is what the user saw: if the status moved meanwhile, ``ConflictError``.
    A transition the machine refuses raises ``ValidationError`` (field ``status``, or
    ``reason`` when a cancel or no-show lacks a usable one) with the domain's sentence.
    Cancelling (or a no-show) ends the work order's open visits the same way, so the
    board stops showing work nobody will do. Nothing is written when refused.
    """
    require_row_id(work_order_id, "work order")
    problem = status_problem(seen_status, status)
    if problem is not None:
        raise ValidationError({"status": problem})
    problem = visit_status.reason_problem(status, reason)
    if problem is not None:
        raise ValidationError({"reason": problem})
    why = visit_status.clean_reason(reason)
    async with sessions() as session, session.begin():
        # Lock order as in services/visits.py: visits, then the work order.
        open_visits: Sequence[Any] = ()
        if status in REASON_REQUIRED:
            open_visits = (
                await session.execute(
                    select(Visit.id, Visit.status)
                    .where(
                        Visit.work_order_id == work_order_id,
                        Visit.status.in_(sql_values(VISIT_OPEN)),
                    )
                    .order_by(Visit.id)
                    .with_for_update()
                )
            ).all()
        order = (
            await session.execute(
                select(
                    WorkOrder.number, WorkOrder.status, WorkOrder.updated_by, WorkOrder.updated_at
                )
                .where(WorkOrder.id == work_order_id)
                .with_for_update()
            )
        ).one_or_none()
        if order is None:
            raise ConflictError(
                "The work order was deleted by someone else — the status was not changed."
            )
        if order.status != seen_status:
            tz = await business_timezone(session)
            raise ConflictError(
                f"{order.number} was set to {STATUS_LABELS[order.status].lower()} by "
                f"{order.updated_by} at {order.updated_at.astimezone(tz):%H:%M} — "
                "your status change was not applied.",
                current={"status": order.status},
            )
        await session.execute(
            update(WorkOrder)
            .where(WorkOrder.id == work_order_id)
            .values(status=status, cancel_reason=why if status in REASON_REQUIRED else None)
        )
        await session.execute(
            insert(StatusChange).values(
                work_order_id=work_order_id,
                from_status=seen_status,
                to_status=status,
                reason=why,
            )
        )
        await _end_open_visits(
            session, work_order_id=work_order_id, status=status, reason=why, visits=open_visits
        )


# -- the cascade -----------------------------------------------------------------------
# Work order → visits: cancelling the work order (or a no-show) ends its open visits.
# Visit → work order: the work order takes its status from its visits
# (``domain/visit_status.work_order_status_after``). Both run in the caller's
# transaction, with the visits and then the work order locked (services/visits.py's order).


async def _end_open_visits(
    session: AsyncSession,
    *,
    work_order_id: int,
    status: str,
    reason: str | None,
    visits: Sequence[Any],
) -> None:
    """End each of ``visits`` (id, status) as the work order ended: with the same status
    where a visit may take it, else cancelled; each with its history row."""
    for visit in visits:
        ending = (
            status
            if visit_status.status_problem(visit.status, status) is None
            else VisitStatus.CANCELLED.value
        )
        await session.execute(update(Visit).where(Visit.id == visit.id).values(status=ending))
        await session.execute(
            insert(StatusChange).values(
                work_order_id=work_order_id,
                visit_id=visit.id,
                from_status=visit.status,
                to_status=ending,
                reason=reason,
            )
        )


async def follow_visit(
    session: AsyncSession,
    *,
    work_order_id: int,
    visit_now: str,
    reason: str | None,
    order_status: str,
    order_cancel_reason: str | None,
) -> None:
    """After one of its visits took ``visit_now``: the work order's status as its
    visits now say, carrying ``reason`` when that status needs one."""
    siblings = await session.scalars(
        select(Visit.status).where(Visit.work_order_id == work_order_id)
    )
    new_status = work_order_status_after(visit_now, siblings)
    cancel_reason = reason if new_status in REASON_REQUIRED else None
    if (new_status, cancel_reason) != (order_status, order_cancel_reason):
        await session.execute(
            update(WorkOrder)
            .where(WorkOrder.id == work_order_id)
            .values(status=new_status, cancel_reason=cancel_reason)
        )
