"""Reading one work order's record, whole or a part at a time.

``load_record`` reads everything the editor shows in one snapshot: the fields, customer,
site, visits and crews, line items with totals, notes, photo thumbnails (never the full
pictures), time entries, status history and the audit log. ``load_parts`` reads only
the parts a change touched (``domain/tables.py``: RecordPart) into a record already
held, so a new line item costs one query rather than the whole record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    AuditEntry,
    Customer,
    CustomerPhone,
    Equipment,
    Invoice,
    InvoiceLine,
    JobType,
    LineItem,
    Note,
    OutboxMessage,
    Part,
    Payment,
    Photo,
    ServiceSite,
    StatusChange,
    Technician,
    TimeEntry,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.work_order_record import audit_line
from dispatch_app.errors import ConflictError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.outbox.queue import message_row
from dispatch_app.services.work_order.rows import (
    AuditRow,
    Choice,
    CrewMember,
    InvoiceLineRow,
    InvoiceRow,
    LineItemRow,
    NoteRow,
    PaymentRow,
    PhotoThumb,
    StatusStep,
    TimeEntryRow,
    VisitSummary,
    WorkOrderRecord,
)
from dispatch_app.services.work_orders import read_work_order_fields

AUDIT_LIMIT = 1000
ALL_PARTS = frozenset(RecordPart)

Sessions = async_sessionmaker[AsyncSession]


async def load_record(sessions: Sessions, work_order_id: int) -> WorkOrderRecord:
    """Everything the editor shows about one work order; ``ConflictError`` if it is gone."""
    require_row_id(work_order_id, "work order")
    async with sessions() as session, session.begin():
        # One snapshot: the tabs never disagree with each other.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        header = await _header(session, work_order_id)
        record = WorkOrderRecord(**header)
        return await _read_parts(session, record, ALL_PARTS - {RecordPart.HEADER})


async def load_parts(
    sessions: Sessions, record: WorkOrderRecord, parts: Collection[RecordPart]
) -> WorkOrderRecord:
    """``record`` with ``parts`` read again (in one snapshot); the rest is kept."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if RecordPart.HEADER in parts:
            record = dataclasses.replace(record, **await _header(session, record.id))
        return await _read_parts(session, record, frozenset(parts) - {RecordPart.HEADER})


async def _read_parts(
    session: AsyncSession, record: WorkOrderRecord, parts: frozenset[RecordPart]
) -> WorkOrderRecord:
    read = _Reader(session, record.id, record.timezone)
    changes: dict[str, Any] = {}
    for part in RecordPart:  # a fixed order, whatever order they were asked in
        if part in parts:
            changes.update(await _PARTS[part](read))
    return dataclasses.replace(record, **changes) if changes else record


class _Reader:
    """One snapshot's reads; technician names are read once, and only when needed."""

    def __init__(self, session: AsyncSession, work_order_id: int, tz: ZoneInfo) -> None:
        self.session = session
        self.work_order_id = work_order_id
        self.tz = tz
        self._names: dict[int, str] | None = None

    async def names(self) -> dict[int, str]:
        if self._names is None:
            rows = await self.session.execute(select(Technician.id, Technician.name))
            self._names = {t.id: t.name for t in rows.all()}
        return self._names

    def at(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def local(self, moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(self.tz)


# -- the parts -------------------------------------------------------------------------
async def _header(session: AsyncSession, work_order_id: int) -> dict[str, Any]:
    """The work order's own fields, its customer, site, job type and the choices."""
    row = (
        await session.execute(
            select(WorkOrder, Customer, ServiceSite, JobType)
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .join(ServiceSite, ServiceSite.id == WorkOrder.site_id)
            .join(JobType, JobType.id == WorkOrder.job_type_id)
            .where(WorkOrder.id == work_order_id)
        )
    ).one_or_none()
    if row is None:
        raise ConflictError("That work order no longer exists.")
    order, customer, site, job_type = row
    tz = await business_timezone(session)
    fields = await read_work_order_fields(session, work_order_id)
    assert fields is not None
    phones = tuple(
        await session.scalars(
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == customer.id)
            .order_by(CustomerPhone.id)
        )
    )
    equipment = tuple(
        Choice(e.id, " ".join(p for p in (e.kind, "·", e.make, e.model) if p).strip(" ·"))
        for e in await session.scalars(
            select(Equipment).where(Equipment.site_id == site.id).order_by(Equipment.id)
        )
    )
    technicians = tuple(
        Choice(t.id, t.name)
        for t in (
            await session.execute(
                select(Technician.id, Technician.name)
                .where(Technician.active)
                .order_by(Technician.name)
            )
        ).all()
    )
    return {
        "id": order.id,
        "number": order.number,
        "version": order.version,
        "status": order.status,
        "cancel_reason": order.cancel_reason,
        "fields": fields,
        "timezone": tz,
        "customer_name": customer.name,
        "customer_phones": phones,
        "customer_email": customer.email,
        "site_label": site.label,
        "site_address": f"{site.street}, {site.city}, {site.state} {site.zip}",
        "access_notes": site.access_notes,
        "job_type": job_type.name,
        "trade": job_type.trade,
        "answers": tuple((str(q), str(a)) for q, a in order.answers or ()),
        "created_at": order.created_at.astimezone(tz),
        "created_by": order.created_by,
        "updated_at": order.updated_at.astimezone(tz),
        "updated_by": order.updated_by,
        "equipment": equipment,
        "technicians": technicians,
    }


async def _visits(read: _Reader) -> dict[str, Any]:
    session, work_order_id = read.session, read.work_order_id
    visit_rows = list(
        await session.scalars(
            select(Visit).where(Visit.work_order_id == work_order_id).order_by(Visit.sequence)
        )
    )
    names = await read.names()
    crews: dict[int, list[CrewMember]] = {}
    for crew_row in (
        await session.execute(
            select(VisitTechnician.visit_id, VisitTechnician.technician_id, VisitTechnician.is_lead)
            .join(Visit, Visit.id == VisitTechnician.visit_id)
            .where(Visit.work_order_id == work_order_id)
            .order_by(VisitTechnician.is_lead.desc(), VisitTechnician.id)
        )
    ).all():
        crews.setdefault(crew_row.visit_id, []).append(
            CrewMember(
                crew_row.technician_id, names.get(crew_row.technician_id, "?"), crew_row.is_lead
            )
        )
    visits = tuple(
        VisitSummary(
            v.id,
            v.sequence,
            v.status,
            read.local(v.starts),
            read.local(v.ends),
            read.local(v.arrival_window_start),
            read.local(v.arrival_window_end),
            tuple(crews.get(v.id, ())),
        )
        for v in visit_rows
    )
    return {"visits": visits}


async def _charges(read: _Reader) -> dict[str, Any]:
    rows = await read.session.execute(
        select(LineItem, Part.sku)
        .outerjoin(Part, Part.id == LineItem.part_id)
        .where(LineItem.work_order_id == read.work_order_id)
        .order_by(LineItem.created_at, LineItem.id)
    )
    line_items = tuple(
        LineItemRow(
            item.id,
            item.version,
            item.kind,
            item.part_id,
            sku,
            item.description,
            item.quantity,
            item.unit_price,
            read.at(item.created_at),
        )
        for item, sku in rows.all()
    )
    return {"line_items": line_items}


async def _notes(read: _Reader) -> dict[str, Any]:
    notes = tuple(
        NoteRow(n.id, n.author, n.body, read.at(n.created_at))
        for n in await read.session.scalars(
            select(Note)
            .where(Note.work_order_id == read.work_order_id)
            .order_by(Note.created_at.desc(), Note.id.desc())
        )
    )
    return {"notes": notes}


async def _photos(read: _Reader) -> dict[str, Any]:
    rows = await read.session.execute(
        # Named columns: the full picture (``data``) is never read for a list.
        select(
            Photo.id,
            Photo.filename,
            Photo.content_type,
            Photo.byte_size,
            Photo.width,
            Photo.height,
            Photo.thumbnail,
            Photo.caption,
            Photo.uploaded_by,
            Photo.uploaded_at,
        )
        .where(Photo.work_order_id == read.work_order_id)
        .order_by(Photo.uploaded_at, Photo.id)
    )
    photos = tuple(
        PhotoThumb(
            p.id,
            p.filename,
            p.content_type,
            p.byte_size,
            p.width,
            p.height,
            p.thumbnail,
            p.caption,
            p.uploaded_by,
            read.at(p.uploaded_at),
        )
        for p in rows.all()
    )
    return {"photos": photos}


async def _time(read: _Reader) -> dict[str, Any]:
    names = await read.names()
    entries = tuple(
        TimeEntryRow(
            t.id,
            t.technician_id,
            names.get(t.technician_id, "?"),
            read.at(t.started_at),
            read.at(t.ended_at),
            t.note,
            t.created_by,
        )
        for t in await read.session.scalars(
            select(TimeEntry)
            .where(TimeEntry.work_order_id == read.work_order_id)
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
    )
    return {"time_entries": entries}


async def _history(read: _Reader) -> dict[str, Any]:
    rows = await read.session.execute(
        select(StatusChange, Visit.sequence)
        .outerjoin(Visit, Visit.id == StatusChange.visit_id)
        .where(StatusChange.work_order_id == read.work_order_id)
        # In one transaction the work order's own step reads first, then its visits'.
        .order_by(
            StatusChange.changed_at.desc(),
            StatusChange.visit_id.desc().nulls_first(),
            StatusChange.id.desc(),
        )
    )
    history = tuple(
        StatusStep(
            h.id,
            sequence if h.visit_id is not None else None,
            h.from_status,
            h.to_status,
            h.reason,
            h.changed_by,
            read.at(h.changed_at),
        )
        for h, sequence in rows.all()
    )
    return {"history": history}


async def _audit(read: _Reader) -> dict[str, Any]:
    names = await read.names()
    audit = tuple(
        AuditRow(
            a.id,
            a.table_name,
            a.action,
            a.changes,
            a.changed_by,
            read.at(a.changed_at),
            audit_line(a.table_name, a.action, a.changes, tz=read.tz, technician_names=names),
        )
        for a in await read.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.work_order_id == read.work_order_id)
            .order_by(AuditEntry.changed_at.desc(), AuditEntry.id.desc())
            .limit(AUDIT_LIMIT)
        )
    )
    return {"audit": audit}


async def _billing(read: _Reader) -> dict[str, Any]:
    bills = list(
        await read.session.scalars(
            select(Invoice).where(Invoice.work_order_id == read.work_order_id).order_by(Invoice.id)
        )
    )
    ids = [bill.id for bill in bills]
    lines: dict[int, list[InvoiceLineRow]] = {bill_id: [] for bill_id in ids}
    payments: dict[int, list[PaymentRow]] = {bill_id: [] for bill_id in ids}
    if ids:
        for line in await read.session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(ids))
            .order_by(InvoiceLine.position, InvoiceLine.id)
        ):
            lines[line.invoice_id].append(
                InvoiceLineRow(
                    line.description, line.quantity, line.unit_price, line.amount, line.taxable
                )
            )
        for payment in await read.session.scalars(
            select(Payment).where(Payment.invoice_id.in_(ids)).order_by(Payment.id)
        ):
            detail = payment.reference
            if payment.check_number:
                detail = f"No. {payment.check_number} {detail}".strip()
            elif payment.card_last4:
                detail = f"····{payment.card_last4} {detail}".strip()
            if payment.reason:
                detail = f"{detail} — {payment.reason}" if detail else payment.reason
            payments[payment.invoice_id].append(
                PaymentRow(
                    payment.method,
                    payment.amount,
                    detail,
                    payment.received_on,
                    payment.recorded_by,
                )
            )
    numbers = {bill.id: bill.number for bill in bills}
    invoices = tuple(
        InvoiceRow(
            bill.id,
            bill.version,
            bill.number,
            bill.kind,
            bill.status,
            bill.tax_rate,
            bill.subtotal,
            bill.tax,
            bill.total,
            bill.paid,
            bill.credited,
            bill.issued_on,
            bill.due_on,
            numbers.get(bill.credit_of_id) if bill.credit_of_id else None,
            bill.void_reason,
            tuple(lines[bill.id]),
            tuple(payments[bill.id]),
        )
        for bill in bills
    )
    return {"invoices": invoices}


async def _messages(read: _Reader) -> dict[str, Any]:
    rows = await read.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.work_order_id == read.work_order_id)
        .order_by(OutboxMessage.id.desc())
    )
    return {"messages": tuple(message_row(row) for row in rows)}


_PARTS: dict[RecordPart, Callable[[_Reader], Awaitable[dict[str, Any]]]] = {
    RecordPart.VISITS: _visits,
    RecordPart.CHARGES: _charges,
    RecordPart.BILLING: _billing,
    RecordPart.MESSAGES: _messages,
    RecordPart.NOTES: _notes,
    RecordPart.PHOTOS: _photos,
    RecordPart.TIME: _time,
    RecordPart.HISTORY: _history,
    RecordPart.AUDIT: _audit,
}
