"""The whole record of one work order, and what a person adds to it in the editor.

``load_record`` reads everything the editor shows in one session: the fields, customer,
site, visits and crews, line items with totals, notes, photo thumbnails (never the full
pictures), time entries, status history and the audit log. The operations below each
write in one transaction; anything refused (``ValidationError`` with one sentence per
field, ``ConflictError`` when the row changed or went) writes nothing.

Threading contract: coroutines for the app's event loop; Pillow's decoding runs in a
worker thread (``asyncio.to_thread``) so a 15 MB photo never stalls the loop. No Qt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import io
import os
import stat
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    MAX_PHOTO_BYTES,
    AuditEntry,
    Customer,
    CustomerPhone,
    Equipment,
    JobType,
    LineItem,
    Note,
    Part,
    Photo,
    ServiceSite,
    StatusChange,
    Technician,
    TimeEntry,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain import visit_status
from dispatch_app.domain.ids import is_row_id, require_row_id, require_version
from dispatch_app.domain.statuses import VISIT_OPEN, WORK_ORDER_BILLED, sql_values
from dispatch_app.domain.text_rules import checked_text
from dispatch_app.domain.vocabulary import LineItemKind, VisitStatus
from dispatch_app.domain.work_order_record import (
    CAPTION_TEXT,
    FILENAME_TEXT,
    NOTE_TEXT,
    TIME_NOTE_TEXT,
    audit_line,
    line_item_errors,
    line_total,
    photo_size_problem,
    time_entry_errors,
)
from dispatch_app.domain.work_order_status import LABELS as STATUS_LABELS
from dispatch_app.domain.work_order_status import REASON_REQUIRED, status_problem
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.work_orders import read_work_order_fields

# Thumbnails fit in this square: sharp in a grid of ~180 px tiles on a high-DPI screen.
THUMBNAIL_SIDE = 256
# A phone's largest ordinary pictures are its 48 or 50 megapixel mode and panoramas of
# up to 63 megapixels; beyond 64 a "photo" is a scan, a render or a decompression bomb
# (a 32 KB PNG can claim 10,000 x 10,000 pixels and take over 600 MB to check). The size is
# read from the file's header and refused before a single pixel is decoded.
MAX_PHOTO_PIXELS = 64_000_000
# The same limit for anything Pillow opens in this process: above twice it, opening
# raises instead of decoding. (Between once and twice it warns; ``inspect_photo``
# refuses those itself, so the warning would only be noise on the console.)
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
AUDIT_LIMIT = 1000
PHOTO_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


# -- what the editor reads -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CrewMember:
    technician_id: int
    name: str
    is_lead: bool


@dataclass(frozen=True, slots=True)
class VisitSummary:
    id: int
    sequence: int
    status: str
    starts: dt.datetime | None
    ends: dt.datetime | None
    arrival_window_start: dt.datetime | None
    arrival_window_end: dt.datetime | None
    crew: tuple[CrewMember, ...]


@dataclass(frozen=True, slots=True)
class LineItemRow:
    id: int
    version: int
    kind: str
    part_id: int | None
    sku: str | None
    description: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    created_at: dt.datetime

    @property
    def total(self) -> decimal.Decimal:
        return line_total(self.quantity, self.unit_price)


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    author: str
    body: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PhotoThumb:
    """A photo as lists show it: the thumbnail and facts, never the full picture."""

    id: int
    filename: str
    content_type: str
    byte_size: int
    width: int
    height: int
    thumbnail: bytes
    caption: str
    uploaded_by: str
    uploaded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PhotoFile:
    """One photo's full bytes, as attached."""

    id: int
    filename: str
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class TimeEntryRow:
    id: int
    technician_id: int
    technician: str
    started_at: dt.datetime
    ended_at: dt.datetime
    note: str
    created_by: str

    @property
    def duration(self) -> dt.timedelta:
        return self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class StatusStep:
    id: int
    visit_sequence: int | None  # None: the work order's own status
    from_status: str | None
    to_status: str
    reason: str | None
    changed_by: str
    changed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    table_name: str
    action: str
    changes: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime
    text: str  # readable: "Line item added: Capacitor 45/5 µF × 1 @ $24.50"


@dataclass(frozen=True, slots=True)
class Choice:
    """Something picked from a list: a technician, a piece of equipment."""

    id: int
    label: str


@dataclass(frozen=True, slots=True)
class PartChoice:
    id: int
    sku: str
    name: str
    unit: str
    unit_price: decimal.Decimal


@dataclass(frozen=True, slots=True)
class WorkOrderRecord:
    id: int
    number: str
    version: int
    status: str
    cancel_reason: str | None
    fields: dict[str, Any]  # the editable fields, number, version, updated_by/at
    timezone: ZoneInfo
    customer_name: str
    customer_phones: tuple[str, ...]
    customer_email: str | None
    site_label: str
    site_address: str
    access_notes: str
    job_type: str
    trade: str
    answers: tuple[tuple[str, str], ...]
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    equipment: tuple[Choice, ...]
    technicians: tuple[Choice, ...]  # active ones, for time entries
    visits: tuple[VisitSummary, ...] = ()
    line_items: tuple[LineItemRow, ...] = ()
    notes: tuple[NoteRow, ...] = ()  # newest first
    photos: tuple[PhotoThumb, ...] = ()  # oldest first, as attached
    time_entries: tuple[TimeEntryRow, ...] = ()
    history: tuple[StatusStep, ...] = ()  # newest first
    audit: tuple[AuditRow, ...] = field(default=())  # newest first

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def labour_total(self) -> decimal.Decimal:
        return sum(
            (i.total for i in self.line_items if i.kind == LineItemKind.LABOUR),
            decimal.Decimal("0.00"),
        )

    @property
    def material_total(self) -> decimal.Decimal:
        return sum(
            (i.total for i in self.line_items if i.kind == LineItemKind.MATERIAL),
            decimal.Decimal("0.00"),
        )

    @property
    def total(self) -> decimal.Decimal:
        return self.labour_total + self.material_total


# -- reading ---------------------------------------------------------------------------
async def load_record(
    sessions: async_sessionmaker[AsyncSession], work_order_id: int
) -> WorkOrderRecord:
    """Everything the editor shows about one work order; ``ConflictError`` if it is gone."""
    require_row_id(work_order_id, "work order")
    async with sessions() as session, session.begin():
        # One snapshot: the tabs never disagree with each other.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return await _load(session, work_order_id)


async def _load(session: AsyncSession, work_order_id: int) -> WorkOrderRecord:
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

    def local(moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(tz)

    def at(moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(tz)

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
    names = {
        t.id: t.name for t in (await session.execute(select(Technician.id, Technician.name))).all()
    }
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

    visit_rows = list(
        await session.scalars(
            select(Visit).where(Visit.work_order_id == work_order_id).order_by(Visit.sequence)
        )
    )
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
                crew_row.technician_id,
                names.get(crew_row.technician_id, "?"),
                crew_row.is_lead,
            )
        )
    visits = tuple(
        VisitSummary(
            v.id,
            v.sequence,
            v.status,
            local(v.starts),
            local(v.ends),
            local(v.arrival_window_start),
            local(v.arrival_window_end),
            tuple(crews.get(v.id, ())),
        )
        for v in visit_rows
    )
    sequences = {v.id: v.sequence for v in visit_rows}

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
            at(item.created_at),
        )
        for item, sku in (
            await session.execute(
                select(LineItem, Part.sku)
                .outerjoin(Part, Part.id == LineItem.part_id)
                .where(LineItem.work_order_id == work_order_id)
                .order_by(LineItem.created_at, LineItem.id)
            )
        ).all()
    )
    notes = tuple(
        NoteRow(n.id, n.author, n.body, at(n.created_at))
        for n in await session.scalars(
            select(Note)
            .where(Note.work_order_id == work_order_id)
            .order_by(Note.created_at.desc(), Note.id.desc())
        )
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
            at(p.uploaded_at),
        )
        for p in (
            await session.execute(
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
                .where(Photo.work_order_id == work_order_id)
                .order_by(Photo.uploaded_at, Photo.id)
            )
        ).all()
    )
    time_entries = tuple(
        TimeEntryRow(
            t.id,
            t.technician_id,
            names.get(t.technician_id, "?"),
            at(t.started_at),
            at(t.ended_at),
            t.note,
            t.created_by,
        )
        for t in await session.scalars(
            select(TimeEntry)
            .where(TimeEntry.work_order_id == work_order_id)
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
    )
    history = tuple(
        StatusStep(
            h.id,
            sequences.get(h.visit_id) if h.visit_id is not None else None,
            h.from_status,
            h.to_status,
            h.reason,
            h.changed_by,
            at(h.changed_at),
        )
        for h in await session.scalars(
            select(StatusChange)
            .where(StatusChange.work_order_id == work_order_id)
            # In one transaction the work order's own step reads first, then its visits'.
            .order_by(
                StatusChange.changed_at.desc(),
                StatusChange.visit_id.desc().nulls_first(),
                StatusChange.id.desc(),
            )
        )
    )
    audit = tuple(
        AuditRow(
            a.id,
            a.table_name,
            a.action,
            a.changes,
            a.changed_by,
            at(a.changed_at),
            audit_line(a.table_name, a.action, a.changes, tz=tz, technician_names=names),
        )
        for a in await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.work_order_id == work_order_id)
            .order_by(AuditEntry.changed_at.desc(), AuditEntry.id.desc())
            .limit(AUDIT_LIMIT)
        )
    )
    address = f"{site.street}, {site.city}, {site.state} {site.zip}"
    return WorkOrderRecord(
        id=order.id,
        number=order.number,
        version=order.version,
        status=order.status,
        cancel_reason=order.cancel_reason,
        fields=fields,
        timezone=tz,
        customer_name=customer.name,
        customer_phones=phones,
        customer_email=customer.email,
        site_label=site.label,
        site_address=address,
        access_notes=site.access_notes,
        job_type=job_type.name,
        trade=job_type.trade,
        answers=tuple((str(q), str(a)) for q, a in order.answers or ()),
        created_at=at(order.created_at),
        created_by=order.created_by,
        updated_at=at(order.updated_at),
        updated_by=order.updated_by,
        equipment=equipment,
        technicians=technicians,
        visits=visits,
        line_items=line_items,
        notes=notes,
        photos=photos,
        time_entries=time_entries,
        history=history,
        audit=audit,
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


async def load_photo(sessions: async_sessionmaker[AsyncSession], *, photo_id: int) -> PhotoFile:
    """One photo's full bytes (for the full view); ``ConflictError`` if it was removed."""
    require_row_id(photo_id, "photo")
    async with sessions() as session:
        row = (
            await session.execute(
                select(
                    Photo.id,
                    Photo.filename,
                    Photo.content_type,
                    Photo.width,
                    Photo.height,
                    Photo.data,
                ).where(Photo.id == photo_id)
            )
        ).one_or_none()
    if row is None:
        raise ConflictError("That photo was removed by someone else.")
    return PhotoFile(row.id, row.filename, row.content_type, row.width, row.height, row.data)


# -- writing ---------------------------------------------------------------------------
async def _open_order(
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
        await _open_order(session, work_order_id, what="the labour was not added", billed_ok=False)
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
        await _open_order(
            session, work_order_id, what="the material was not added", billed_ok=False
        )
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
        await _open_order(
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
        await _open_order(session, order_id, what="nothing was removed", billed_ok=False)
        await session.execute(delete(LineItem).where(LineItem.id == line_item_id))


async def add_note(
    sessions: async_sessionmaker[AsyncSession], *, work_order_id: int, body: str
) -> int:
    """Add a note signed with the editor's name and the time; returns its id."""
    body, problem = checked_text("The note", body, NOTE_TEXT, required=True)
    if problem:
        raise ValidationError({"body": problem})
    async with sessions() as session, session.begin():
        await _open_order(session, work_order_id, what="the note was not added")
        return int(
            await session.scalar(
                insert(Note).values(work_order_id=work_order_id, body=body).returning(Note.id)
            )
            or 0
        )


# -- photos ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PhotoFacts:
    content_type: str
    width: int
    height: int
    thumbnail: bytes


def inspect_photo(data: bytes, filename: str) -> PhotoFacts:
    """Decode the whole picture (a renamed text file or a cut-off JPEG fails here) and
    make its thumbnail. Blocking: call it in a worker thread. Raises ``ValidationError``.

    ``Image.open`` reads only the header: the kind and the size are checked there, and
    a picture larger than ``MAX_PHOTO_PIXELS`` is refused before anything is decoded.
    """

    def refuse(sentence: str) -> ValidationError:
        return ValidationError({"photo": sentence})

    most = f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in PHOTO_TYPES:
                raise refuse(
                    f"{filename} is a {kind or 'kind of'} picture the other workstations "
                    "may not show; attach a JPEG, PNG, WebP or GIF."
                )
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise refuse(
                    f"{filename} is {width:,} × {height:,} pixels; a photo can have at most "
                    f"{most}. Send a smaller copy (most phones can share a reduced size)."
                )
            image.load()  # decodes every byte: a truncated file fails here
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA") or (
                upright.mode == "P" and "transparency" in upright.info
            )
            thumb = upright.convert("RGBA" if has_alpha else "RGB")
            thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if has_alpha:
                thumb.save(out, "PNG", optimize=True)
            else:
                thumb.save(out, "JPEG", quality=85, optimize=True)
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # over twice the limit: Pillow refused to open it
        raise refuse(
            f"{filename} has far more pixels than a photo can have (at most {most})."
        ) from None
    except UnidentifiedImageError:
        raise refuse(f"{filename} is not a picture (it could not be read as an image).") from None
    except (OSError, ValueError, SyntaxError) as error:
        # Pillow says "image file is truncated", "broken data stream", …
        raise refuse(
            f"{filename} is damaged or incomplete and cannot be shown ({error})."
        ) from None
    return PhotoFacts(PHOTO_TYPES[kind], width, height, out.getvalue())


async def attach_photo(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    filename: str,
    data: bytes,
    caption: str = "",
) -> int:
    """Store a photo with its thumbnail; returns its id.

    Refused with one sentence (``ValidationError`` field ``photo`` or ``caption``) when it
    is empty, larger than ``MAX_PHOTO_BYTES``, or not a decodable JPEG/PNG/WebP/GIF.
    """
    typed = os.path.basename(filename.replace("\\", "/")) if isinstance(filename, str) else ""
    name, problem = checked_text("The file name", typed, FILENAME_TEXT, required=True)
    if problem:
        raise ValidationError({"photo": problem})
    problem = photo_size_problem(name, len(data), MAX_PHOTO_BYTES)
    if problem:
        raise ValidationError({"photo": problem})
    caption, problem = checked_text("The caption", caption, CAPTION_TEXT)
    if problem:
        raise ValidationError({"caption": problem})
    facts = await asyncio.to_thread(inspect_photo, data, name)
    async with sessions() as session, session.begin():
        await _open_order(session, work_order_id, what="the photo was not attached")
        return int(
            await session.scalar(
                insert(Photo)
                .values(
                    work_order_id=work_order_id,
                    filename=name,
                    content_type=facts.content_type,
                    byte_size=len(data),
                    width=facts.width,
                    height=facts.height,
                    data=data,
                    thumbnail=facts.thumbnail,
                    caption=caption,
                )
                .returning(Photo.id)
            )
            or 0
        )


def _read_photo_file(path: Path) -> bytes:
    """The file's bytes, if it is an ordinary file on disk no larger than a photo may be.

    A folder, a device (``/dev/zero`` never ends), a pipe (it would wait forever for a
    writer) or a socket is refused from its ``stat`` before it is opened, and again on
    the opened file (it may have been swapped meanwhile). A system file whose listed
    size is not its content (``/proc/self/environ`` lists 0 bytes) is refused too. At
    most ``MAX_PHOTO_BYTES`` + 1 bytes are ever read.
    """
    name = path.name or str(path)
    try:
        _refuse_unless_regular(name, os.stat(path).st_mode)
        # Non-blocking: a pipe put in its place since cannot hold the open up.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb") as file:
            listed = os.fstat(file.fileno())
            _refuse_unless_regular(name, listed.st_mode)
            problem = photo_size_problem(name, listed.st_size, MAX_PHOTO_BYTES)
            if problem and listed.st_size:  # said before reading: a 2 GB video stays put
                raise ValidationError({"photo": problem})
            data = file.read(MAX_PHOTO_BYTES + 1)
    except OSError as error:
        raise ValidationError(
            {"photo": f"{name} could not be read ({error.strerror or error})."}
        ) from None
    if len(data) != listed.st_size:
        if listed.st_size == 0:
            raise ValidationError(
                {"photo": f"{name} is not a file on disk but a system file; attach a photo."}
            )
        raise ValidationError(
            {"photo": f"{name} changed while it was read; attach it again once it is saved."}
        )
    return data


def _refuse_unless_regular(name: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ValidationError({"photo": f"{name} is a folder, not a photo."})
    raise ValidationError(
        {"photo": f"{name} is not a file (it is a device, a pipe or a socket); attach a photo."}
    )


async def attach_photo_file(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    path: str | os.PathLike[str],
    caption: str = "",
) -> int:
    """``attach_photo`` for a file on disk (Attach…, a drop); read off the event loop."""
    file = Path(path)
    data = await asyncio.to_thread(_read_photo_file, file)
    return await attach_photo(
        sessions, work_order_id=work_order_id, filename=file.name, data=data, caption=caption
    )


async def remove_photo(sessions: async_sessionmaker[AsyncSession], *, photo_id: int) -> None:
    require_row_id(photo_id, "photo")
    async with sessions() as session, session.begin():
        await session.execute(delete(Photo).where(Photo.id == photo_id))


# -- time entries ----------------------------------------------------------------------
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
        await _open_order(session, work_order_id, what="the time was not added", billed_ok=False)
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
        await _open_order(session, order_id, what="nothing was removed", billed_ok=False)
        await session.execute(delete(TimeEntry).where(TimeEntry.id == time_entry_id))


# -- status ----------------------------------------------------------------------------
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
                changed_by=func.dispatch_editor(),
            )
        )
        for visit in open_visits:
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
                    reason=why,
                    changed_by=func.dispatch_editor(),
                )
            )


__all__ = [
    "MAX_PHOTO_BYTES",
    "AuditRow",
    "Choice",
    "CrewMember",
    "LineItemRow",
    "NoteRow",
    "PartChoice",
    "PhotoFile",
    "PhotoThumb",
    "StatusStep",
    "TimeEntryRow",
    "VisitSummary",
    "WorkOrderRecord",
    "add_labour",
    "add_material",
    "add_note",
    "add_time_entry",
    "attach_photo",
    "attach_photo_file",
    "change_status",
    "inspect_photo",
    "load_photo",
    "load_record",
    "remove_line_item",
    "remove_photo",
    "remove_time_entry",
    "search_parts",
    "update_line_item",
]
