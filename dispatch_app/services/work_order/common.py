"""What the work order's operations share: locking the work order for a write."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch_app.db.models import (
    WorkOrder,
)
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.statuses import WORK_ORDER_BILLED
from dispatch_app.domain.work_order_status import LABELS as STATUS_LABELS
from dispatch_app.errors import ConflictError, ValidationError


async def open_order(
    session: AsyncSession, work_order_id: int, *, what: str, billed_ok: bool = True
) -> str:
    """Share-lock the work order for this transaction (so it cannot be invoiced or
    deleted under the write); returns its number."""
    require_row_id(work_order_id, "work order")
    row = (
        await session.execute(
            select(WorkOrder.number, WorkOrder.status)
            .where(WorkOrder.id == work_order_id)
            .with_for_update(read=True)
        )
    ).one_or_none()
    if row is None:
        raise ConflictError(f"The work order was deleted by someone else — {what}.")
    if not billed_ok and row.status in WORK_ORDER_BILLED:
        raise ValidationError(
            {
                "work_order": f"{row.number} is {STATUS_LABELS[row.status].lower()}; "
                "its charges can no longer change."
            }
        )
    return str(row.number)
