"""Charges: labour and materials on a work order, and the parts list they come from.

Each write is one transaction; a billed work order's charges never change (the
work order is share-locked for the write, so it cannot be invoiced under it), and a
draft invoice of the work follows them in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    AppSetting,
    LineItem,
    Part,
)
from dispatch_app.domain.ids import is_row_id, require_row_id, require_version
from dispatch_app.domain.vocabulary import LineItemKind
from dispatch_app.domain.work_order_record import (
    line_item_errors,
)
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.billing import follow_charges
from dispatch_app.services.stock import location_for_work_order, take_for_line_item
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
        # Labour is not taxed in most states; a company where it is says so.
        taxed = await session.scalar(select(AppSetting.value).where(AppSetting.key == "tax_labour"))
        line_item_id = int(
            await session.scalar(
                insert(LineItem)
                .values(work_order_id=work_order_id, part_id=None, taxable=taxed is True, **values)
                .returning(LineItem.id)
            )
            or 0
        )
        await follow_charges(session, work_order_id)
        return line_item_id


async def add_material(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    part_id: int,
    quantity: object,
    unit_price: object = None,
    description: str | None = None,
    confirm_short: bool = False,
) -> int:
    """Add a part from the price book; its name, price and tax flag are the book's unless
    given. A stocked part comes off the technician's truck in the same transaction
    (``ShortStock`` when the truck has too few, unless ``confirm_short``)."""
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
        location_id = await location_for_work_order(session, work_order_id)
        line_item_id = int(
            await session.scalar(
                insert(LineItem)
                .values(
                    work_order_id=work_order_id,
                    part_id=part.id,
                    taxable=part.taxable,
                    **values,
                )
                .returning(LineItem.id)
            )
            or 0
        )
        cost = await take_for_line_item(
            session,
            part_id=part.id,
            work_order_id=work_order_id,
            line_item_id=line_item_id,
            quantity=values["quantity"],
            location_id=location_id,
            confirm_short=confirm_short,
        )
        if cost is not None:
            await session.execute(
                update(LineItem)
                .where(LineItem.id == line_item_id)
                .values(location_id=location_id, unit_cost=cost)
            )
        await follow_charges(session, work_order_id)
        return line_item_id


async def update_line_item(
    sessions: async_sessionmaker[AsyncSession],
    *,
    line_item_id: int,
    seen_version: int,
    description: str | None = None,
    quantity: object = None,
    unit_price: object = None,
    confirm_short: bool = False,
) -> int:
    """Change a line item's description, quantity or price; returns its new version.
    A material's stock follows a changed quantity (more taken, or some given back)."""
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
        if item.part_id is not None and item.location_id is not None:
            await take_for_line_item(
                session,
                part_id=item.part_id,
                work_order_id=item.work_order_id,
                line_item_id=item.id,
                quantity=values["quantity"] - item.quantity,
                location_id=item.location_id,
                confirm_short=confirm_short,
            )
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
        await follow_charges(session, item.work_order_id)
        return int(version)


async def remove_line_item(
    sessions: async_sessionmaker[AsyncSession], *, line_item_id: int
) -> None:
    require_row_id(line_item_id, "line item")
    async with sessions() as session, session.begin():
        item = (
            await session.execute(
                select(
                    LineItem.work_order_id,
                    LineItem.part_id,
                    LineItem.location_id,
                    LineItem.quantity,
                ).where(LineItem.id == line_item_id)
            )
        ).one_or_none()
        if item is None:
            return  # already gone: what the user wanted
        await open_order(session, item.work_order_id, what="nothing was removed", billed_ok=False)
        gone = await session.execute(
            delete(LineItem).where(LineItem.id == line_item_id).returning(LineItem.id)
        )
        if gone.first() is not None and item.part_id is not None:
            # The parts go back where they came from.
            await take_for_line_item(
                session,
                part_id=item.part_id,
                work_order_id=item.work_order_id,
                line_item_id=line_item_id,
                quantity=-item.quantity,
                location_id=item.location_id,
                confirm_short=False,
            )
        await follow_charges(session, item.work_order_id)
