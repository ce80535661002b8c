"""Operations on work orders: read one for editing, save what was typed.

Saving names the version the editor loaded; if someone saved first, nothing is written
and ``ConflictError.current`` carries their version, so the editor can offer to reload
theirs, reapply the user's edits on top, or copy the user's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import Equipment, WorkOrder
from dispatch_app.domain.ids import require_row_id, require_version
from dispatch_app.domain.work_orders import EDITABLE_FIELDS, clean_fields
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.day_board import business_timezone


async def read_work_order_fields(
    session: AsyncSession, work_order_id: int
) -> dict[str, Any] | None:
    order = await session.scalar(select(WorkOrder).where(WorkOrder.id == work_order_id))
    if order is None:
        return None
    tz = await business_timezone(session)
    fields = {name: getattr(order, name) for name in EDITABLE_FIELDS}
    for name in ("requested_start", "requested_end"):
        if fields[name] is not None:
            fields[name] = fields[name].astimezone(tz)
    return {
        "id": order.id,
        "number": order.number,
        "version": order.version,
        "updated_by": order.updated_by,
        "updated_at": order.updated_at.astimezone(tz),
        **fields,
    }


async def load_work_order(
    sessions: async_sessionmaker[AsyncSession], work_order_id: int
) -> dict[str, Any]:
    """The editable fields of a work order, with its number, version and last editor."""
    require_row_id(work_order_id, "work order")
    async with sessions() as session:
        current = await read_work_order_fields(session, work_order_id)
    if current is None:
        raise ConflictError("That work order no longer exists.")
    return current


async def save_work_order(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    seen_version: int,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Write ``fields`` if the work order is still at ``seen_version``; returns it as saved."""
    require_row_id(work_order_id, "work order")
    require_version(seen_version, "work order")
    values, errors = clean_fields(fields)
    if errors:
        raise ValidationError(errors)
    async with sessions() as session, session.begin():
        if values.get("equipment_id") is not None:
            # Only a unit at the work order's own site can be the one being serviced.
            at_site = await session.scalar(
                select(Equipment.id)
                .join(WorkOrder, WorkOrder.site_id == Equipment.site_id)
                .where(WorkOrder.id == work_order_id, Equipment.id == values["equipment_id"])
            )
            if at_site is None:
                raise ValidationError(
                    {"equipment_id": "That equipment is not at this work order's site."}
                )
        saved = await session.scalar(
            update(WorkOrder)
            .where(WorkOrder.id == work_order_id, WorkOrder.version == seen_version)
            .values(**values)
            .returning(WorkOrder.id)
        )
        current = await read_work_order_fields(session, work_order_id)
    if current is None:
        raise ConflictError(
            "The work order was deleted by someone else — your changes were not saved."
        )
    if saved is None:
        raise ConflictError(
            f"{current['number']} was changed by {current['updated_by']} at "
            f"{current['updated_at']:%H:%M} — your changes were not saved.",
            current=current,
        )
    return current
