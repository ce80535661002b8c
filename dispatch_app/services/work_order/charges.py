"""Charges: labour and materials on a work order, and the parts list they come from.

Each write is one transaction; a billed work order's charges never change (the
work order is share-locked for the write, so it cannot be invoiced under it).
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    LineItem,
    Part,
)
from dispatch_app.domain.ids import is_row_id, require_row_id, require_version
from dispatch_app.domain.vocabulary import LineItemKind
from dispatch_app.domain.work_order_record import (
    line_item_errors,
)
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.work_order.common import open_order
from dispatch_app.services.work_order.rows import (
    PartChoice,
)


async def search_parts(
    sessions: async_sessionmaker[AsyncSession], prefix: str, *, limit: int = 50
) -> list[PartChoice]:
    """Active parts whose SKU or a word of whose name starts with ``prefix``, by name."""
    text = " ".join(prefix.split())[:100]
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(Part).where(Part.active)
    if pattern:
        query = query.where(
            or_(
                func.lower(Part.sku).like(pattern + "%", escape="\\"),
                func.lower(Part.name).like(pattern + "%", escape="\\"),
                func.lower(Part.name).like("% " + pattern + "%", escape="\\"),
            )
        )
    async with sessions() as session:
        parts = await session.scalars(query.order_by(Part.name, Part.sku).limit(limit))
        return [PartChoice(p.id, p.sku, p.name, p.unit, p.unit_price) for p in parts]


async def add_labour(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    description: str,
    quantity: object,
    unit_price: object,
) -> int:
    """Add hours of labour at a rate; returns the line item's id."""
    values, errors = line_item_errors(
        kind=LineItemKind.LABOUR.value,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
    )
    if errors:
        raise ValidationError(errors)
    async with sessions() as session, session.begin():
        await open_order(session, work_order_id, what="the labour was not added", billed_ok=False)
        return int(
            await session.scalar(
                insert(LineItem)
                .values(work_order_id=work_order_id, part_id=None, **values)
                .returning(LineItem.id)
            )
            or 0
        )


async def add_material(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    part_id: int,
    quantity: object,
    unit_price: object = None,
    description: str | None = None,
) -> int:
    """Add a part from the parts list; its name and price are the list's unless given."""
    require_row_id(work_order_id, "work order")
    if not is_row_id(part_id):
        raise ValidationError({"part": "That part is no longer in the parts list."})
    async with sessions() as session, session.begin():
        part = await session.scalar(select(Part).where(Part.id == part_id))
        if part is None or not part.active:
            raise ValidationError({"part": "That part is no longer in the parts list."})
        values, errors = line_item_errors(
            kind=LineItemKind.MATERIAL.value,
            description=part.name if description is None else description,
            quantity=quantity,
            unit_price=part.unit_price if unit_price in (None, "") else unit_price,
        )
        if errors:
            raise ValidationError(errors)
        await open_order(session, work_order_id, what="the material was not added", billed_ok=False)
        return int(
            await session.scalar(
                insert(LineItem)
                .values(work_order_id=work_order_id, part_id=part.id, **values)
                .returning(LineItem.id)
            )
            or 0
        )


async def update_line_item(
    sessions: async_sessionmaker[AsyncSession],
    *,
    line_item_id: int,
    seen_version: int,
    description: str | None = None,
    quantity: object = None,
    unit_price: object = None,
) -> int:
    """Change a line item's description, quantity or price; returns its new version."""
    require_row_id(line_item_id, "line item")
    require_version(seen_version, "line item")
    async with sessions() as session, session.begin():
        item = await session.scalar(select(LineItem).where(LineItem.id == line_item_id))
        if item is None:
            raise ConflictError("That line item was removed by someone else — not changed.")
        values, errors = line_item_errors(
            kind=item.kind,
            description=item.description if description is None else description,
            quantity=item.quantity if quantity is None else quantity,
            unit_price=item.unit_price if unit_price is None else unit_price,
        )
        if errors:
            raise ValidationError(errors)
        await open_order(
            session, item.work_order_id, what="the line item was not changed", billed_ok=False
        )
        values.pop("kind")
        version = await session.scalar(
            update(LineItem)
            .where(LineItem.id == line_item_id, LineItem.version == seen_version)
            .values(**values)
            .returning(LineItem.version)
        )
        if version is None:
            await session.refresh(item)
            raise ConflictError(
                f"{item.description} was changed by someone else meanwhile — "
                "your change was not applied."
            )
        return int(version)


async def remove_line_item(
    sessions: async_sessionmaker[AsyncSession], *, line_item_id: int
) -> None:
    require_row_id(line_item_id, "line item")
    async with sessions() as session, session.begin():
        order_id = await session.scalar(
            select(LineItem.work_order_id).where(LineItem.id == line_item_id)
        )
        if order_id is None:
            return  # already gone: what the user wanted
        await open_order(session, order_id, what="nothing was removed", billed_ok=False)
        await session.execute(delete(LineItem).where(LineItem.id == line_item_id))
