"""Notes on a work order, signed with the editor's name and the time."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    Note,
)
from dispatch_app.domain.text_rules import checked_text
from dispatch_app.domain.work_order_record import (
    NOTE_TEXT,
)
from dispatch_app.errors import ValidationError
from dispatch_app.services.work_order.common import open_order


async def add_note(
    sessions: async_sessionmaker[AsyncSession], *, work_order_id: int, body: str
) -> int:
    """Add a note signed with the editor's name and the time; returns its id."""
    body, problem = checked_text("The note", body, NOTE_TEXT, required=True)
    if problem:
        raise ValidationError({"body": problem})
    async with sessions() as session, session.begin():
        await open_order(session, work_order_id, what="the note was not added")
        return int(
            await session.scalar(
                insert(Note).values(work_order_id=work_order_id, body=body).returning(Note.id)
            )
            or 0
        )
