"""Stock: what each location holds, and every movement in and out as a ledger row.

The database keeps the ledger honest (migration 0008): a movement is never changed,
``stock_levels`` is the ledger's sum under a row lock, and a location goes below zero
only when the user confirmed a miscount (``confirm_short``; else ``ShortStock``).
Receipts move the location's average cost; everything else leaves at it.

Materials on a work order come off the truck of the technician doing the job in the
same transaction as the line item (``take_for_line_item``), and go back to where they
came from when the line item is removed or lowered — when the company keeps stock (the
``stock_tracking`` setting; a shop that does not bills its parts all the same).
"""

from __future__ import annotations

import decimal
import uuid
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    AppSetting,
    Part,
    StockLevel,
    StockLocation,
    StockMovement,
)
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.money import parse_amount
from dispatch_app.domain.text_rules import SHORT_TEXT, checked_text
from dispatch_app.domain.vocabulary import PartKind, StockLocationKind, StockReason
from dispatch_app.errors import ValidationError
from dispatch_app.services.billing import books_errors

STOCK_TRACKING = "stock_tracking"  # the company setting: true when stock is kept


def _quantity(
    value: object, *, label: str = "The quantity", zero_ok: bool = False
) -> decimal.Decimal:
    try:
        amount = parse_amount(str(value), label=label, positive=not zero_ok)
    except ValueError as error:
        raise ValidationError({"quantity": str(error)}) from None
    return amount


def _cost(value: object) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        return parse_amount(str(value), label="The unit cost", places=4)
    except ValueError as error:
        raise ValidationError({"unit_cost": str(error)}) from None


async def _move(
    session: AsyncSession,
    *,
    part_id: int,
    location_id: int,
    quantity: decimal.Decimal,
    reason: StockReason,
    unit_cost: decimal.Decimal | None = None,
    note: str = "",
    work_order_id: int | None = None,
    line_item_id: int | None = None,
    transfer_id: uuid.UUID | None = None,
    confirm_short: bool = False,
) -> decimal.Decimal:
    """One ledger row; returns the unit cost the database gave it."""
    with books_errors():
        cost = await session.scalar(
            insert(StockMovement)
            .values(
                part_id=part_id,
                location_id=location_id,
                quantity=quantity,
                unit_cost=unit_cost,
                reason=reason.value,
                note=note,
                work_order_id=work_order_id,
                line_item_id=line_item_id,
                transfer_id=transfer_id,
                confirmed_short=confirm_short,
            )
            .returning(StockMovement.unit_cost)
        )
    return decimal.Decimal(cost or 0)


# -- the office's operations ---------------------------------------------------------
async def receive(
    sessions: async_sessionmaker[AsyncSession],
    *,
    location_id: int,
    part_id: int,
    quantity: object,
    unit_cost: object = None,
    note: str = "",
) -> None:
    """Parts arrived from a supplier at ``unit_cost`` each (the price book's cost if
    not given)."""
    require_row_id(location_id, "stock location")
    require_row_id(part_id, "part")
    amount = _quantity(quantity)
    cost = _cost(unit_cost)
    words, problem = checked_text("The note", note, SHORT_TEXT)
    if problem:
        raise ValidationError({"note": problem})
    async with sessions() as session, session.begin():
        if cost is None:
            cost = await session.scalar(select(Part.cost).where(Part.id == part_id))
        await _move(
            session,
            part_id=part_id,
            location_id=location_id,
            quantity=amount,
            reason=StockReason.RECEIVED,
            unit_cost=cost,
            note=words.strip(),
        )


async def transfer(
    sessions: async_sessionmaker[AsyncSession],
    *,
    from_location_id: int,
    to_location_id: int,
    part_id: int,
    quantity: object,
    confirm_short: bool = False,
) -> None:
    """Move parts between locations (restocking a truck): two ledger rows, one
    transfer id, the same unit cost out and in."""
    require_row_id(from_location_id, "stock location")
    require_row_id(to_location_id, "stock location")
    require_row_id(part_id, "part")
    if from_location_id == to_location_id:
        raise ValidationError({"location": "Choose two different locations."})
    amount = _quantity(quantity)
    moved = uuid.uuid4()
    async with sessions() as session, session.begin():
        cost = await _move(
            session,
            part_id=part_id,
            location_id=from_location_id,
            quantity=-amount,
            reason=StockReason.TRANSFER,
            transfer_id=moved,
            confirm_short=confirm_short,
        )
        await _move(
            session,
            part_id=part_id,
            location_id=to_location_id,
            quantity=amount,
            reason=StockReason.TRANSFER,
            unit_cost=cost,
            transfer_id=moved,
        )


async def count(
    sessions: async_sessionmaker[AsyncSession],
    *,
    location_id: int,
    part_id: int,
    counted: object,
    reason: str,
) -> decimal.Decimal:
    """Set a location's quantity to what was counted; the ledger records the
    difference with the reason. Returns the difference (0: the books were right)."""
    require_row_id(location_id, "stock location")
    require_row_id(part_id, "part")
    amount = _quantity(counted, label="The count", zero_ok=True)
    words, problem = checked_text("The reason", reason, SHORT_TEXT, required=True)
    if problem:
        raise ValidationError({"reason": problem})
    async with sessions() as session, session.begin():
        on_hand = await session.scalar(
            select(StockLevel.on_hand)
            .where(StockLevel.location_id == location_id, StockLevel.part_id == part_id)
            .with_for_update()
        )
        difference = amount - (on_hand or decimal.Decimal(0))
        if difference:
            await _move(
                session,
                part_id=part_id,
                location_id=location_id,
                quantity=difference,
                reason=StockReason.COUNT,
                note=words.strip(),
                confirm_short=True,  # a count is the truth, whatever the books said
            )
        return difference


# -- materials on a work order -------------------------------------------------------
async def keeps_stock(session: AsyncSession) -> bool:
    """Whether the company keeps stock (the ``stock_tracking`` setting): a shop that
    does not still bills parts from its price book, and no truck is ever "short"."""
    value = await session.scalar(select(AppSetting.value).where(AppSetting.key == STOCK_TRACKING))
    return value is True


# The technician doing the job: the lead (else the first) of the work order's latest
# visit that has anyone on it.
TRUCK_FOR_WORK_ORDER = text(
    """
    SELECT l.id, l.name FROM visits v
    JOIN visit_technicians vt ON vt.visit_id = v.id
    JOIN stock_locations l ON l.technician_id = vt.technician_id AND l.active
    WHERE v.work_order_id = :work_order
    ORDER BY v.sequence DESC, v.id DESC, vt.is_lead DESC, vt.id
    LIMIT 1
    """
)


async def location_for_work_order(session: AsyncSession, work_order_id: int) -> int | None:
    """Where a work order's materials come from: its technician's truck, else the
    warehouse (the first active one), else nowhere (no stock is kept)."""
    truck = (await session.execute(TRUCK_FOR_WORK_ORDER, {"work_order": work_order_id})).first()
    if truck is not None:
        return int(truck.id)
    warehouse = await session.scalar(
        select(StockLocation.id)
        .where(StockLocation.kind == StockLocationKind.WAREHOUSE.value, StockLocation.active)
        .order_by(StockLocation.id)
        .limit(1)
    )
    return int(warehouse) if warehouse is not None else None


async def take_for_line_item(
    session: AsyncSession,
    *,
    part_id: int,
    work_order_id: int,
    line_item_id: int,
    quantity: decimal.Decimal,
    location_id: int | None,
    confirm_short: bool,
) -> decimal.Decimal | None:
    """Take (positive) or give back (negative) a material's parts at ``location_id``
    in the caller's transaction; returns the unit cost (None: not a stocked part, or
    the company keeps no stock)."""
    if not await keeps_stock(session):
        return None
    kind = await session.scalar(select(Part.kind).where(Part.id == part_id))
    if kind != PartKind.PART.value or location_id is None or quantity == 0:
        return None
    return await _move(
        session,
        part_id=part_id,
        location_id=location_id,
        quantity=-quantity,
        reason=StockReason.USED if quantity > 0 else StockReason.RETURNED,
        work_order_id=work_order_id,
        line_item_id=line_item_id,
        confirm_short=confirm_short,
    )


# -- reading -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Location:
    id: int
    name: str
    kind: str
    technician_id: int | None


@dataclass(frozen=True, slots=True)
class StockLine:
    location_id: int
    location: str
    part_id: int
    sku: str
    part: str
    on_hand: decimal.Decimal
    average_cost: decimal.Decimal
    reorder_point: decimal.Decimal

    @property
    def value(self) -> decimal.Decimal:
        return (self.on_hand * self.average_cost).quantize(decimal.Decimal("0.01"))


async def locations(sessions: async_sessionmaker[AsyncSession]) -> list[Location]:
    async with sessions() as session:
        rows = await session.scalars(
            select(StockLocation)
            .where(StockLocation.active)
            .order_by(StockLocation.kind.desc(), StockLocation.id)
        )
        return [Location(r.id, r.name, r.kind, r.technician_id) for r in rows]


@dataclass(frozen=True, slots=True)
class StockedPart:
    id: int
    sku: str
    name: str
    cost: decimal.Decimal  # the price book's: what a receipt costs unless told


async def stocked_parts(sessions: async_sessionmaker[AsyncSession]) -> list[StockedPart]:
    """The price book's active parts, by name: what a location can hold (services are
    sold, never stocked)."""
    async with sessions() as session:
        rows = await session.execute(
            select(Part.id, Part.sku, Part.name, Part.cost)
            .where(Part.active, Part.kind == PartKind.PART.value)
            .order_by(Part.name, Part.sku)
        )
        return [StockedPart(*row) for row in rows]


STOCK_LINES = """
    SELECT s.location_id, l.name AS location, s.part_id, p.sku, p.name AS part,
           s.on_hand, s.average_cost, s.reorder_point
    FROM stock_levels s
    JOIN stock_locations l ON l.id = s.location_id
    JOIN parts p ON p.id = s.part_id
    WHERE {where}
    ORDER BY l.kind DESC, l.id, p.name, p.sku
"""


async def stock_at(
    sessions: async_sessionmaker[AsyncSession], location_id: int | None = None
) -> list[StockLine]:
    """What each location holds (one location, or all)."""
    where = "s.location_id = :location" if location_id is not None else "true"
    async with sessions() as session:
        rows = await session.execute(
            text(STOCK_LINES.format(where=where)), {"location": location_id}
        )
        return [StockLine(*row) for row in rows]


async def low_stock(
    sessions: async_sessionmaker[AsyncSession], location_id: int | None = None
) -> list[StockLine]:
    """Parts at or below their reorder point, per location: what to restock."""
    where = "s.reorder_point > 0 AND s.on_hand <= s.reorder_point"
    if location_id is not None:
        where += " AND s.location_id = :location"
    async with sessions() as session:
        rows = await session.execute(
            text(STOCK_LINES.format(where=where)), {"location": location_id}
        )
        return [StockLine(*row) for row in rows]


async def set_reorder_point(
    sessions: async_sessionmaker[AsyncSession],
    *,
    location_id: int,
    part_id: int,
    reorder_point: object,
) -> None:
    amount = _quantity(reorder_point, label="The reorder point", zero_ok=True)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO stock_levels (location_id, part_id, reorder_point) "
                "VALUES (:location, :part, :point) ON CONFLICT (location_id, part_id) "
                "DO UPDATE SET reorder_point = excluded.reorder_point"
            ),
            {"location": location_id, "part": part_id, "point": amount},
        )


def ledger_sums_sql() -> str:
    """Each (location, part)'s ledger sum next to its on-hand figure (tests, checks)."""
    return (
        "SELECT s.location_id, s.part_id, s.on_hand, coalesce(sum(m.quantity), 0) AS ledger "
        "FROM stock_levels s LEFT JOIN stock_movements m "
        "ON m.location_id = s.location_id AND m.part_id = s.part_id "
        "GROUP BY s.location_id, s.part_id, s.on_hand"
    )
