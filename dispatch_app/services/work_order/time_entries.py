"""Time entries: who worked on the work order, from when to when."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    Technician,
    TimeEntry,
)
from dispatch_app.domain.ids import is_row_id, require_row_id
from dispatch_app.domain.text_rules import checked_text
from dispatch_app.domain.work_order_record import (
    TIME_NOTE_TEXT,
    time_entry_errors,
)
from dispatch_app.errors import ValidationError
from dispatch_app.services.work_order.common import open_order


async def add_time_entry(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    technician_id: int,
    started_at: object,
    ended_at: object,
    note: str = "",
) -> int:
    """Record time a technician spent; refused when the times are impossible, reversed,
    longer than a day or without a time zone. Returns the entry's id."""
    (start, end), errors = time_entry_errors(started_at=started_at, ended_at=ended_at, note=note)
    if errors:
        raise ValidationError(errors)
    note, _problem = checked_text("The note", note, TIME_NOTE_TEXT)
    async with sessions() as session, session.begin():
        known = None
        if is_row_id(technician_id):
            known = await session.scalar(
                select(Technician.id).where(Technician.id == technician_id)
            )
        if known is None:
            raise ValidationError({"technician": "Choose the technician from the list."})
        await open_order(session, work_order_id, what="the time was not added", billed_ok=False)
        return int(
            await session.scalar(
                insert(TimeEntry)
                .values(
                    work_order_id=work_order_id,
                    technician_id=technician_id,
                    started_at=start,
                    ended_at=end,
                    note=note,
                )
                .returning(TimeEntry.id)
            )
            or 0
        )


async def remove_time_entry(
    sessions: async_sessionmaker[AsyncSession], *, time_entry_id: int
) -> None:
    require_row_id(time_entry_id, "time entry")
    async with sessions() as session, session.begin():
        order_id = await session.scalar(
            select(TimeEntry.work_order_id).where(TimeEntry.id == time_entry_id)
        )
        if order_id is None:
            return
        await open_order(session, order_id, what="nothing was removed", billed_ok=False)
        await session.execute(delete(TimeEntry).where(TimeEntry.id == time_entry_id))
