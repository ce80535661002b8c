"""What the work-order editor shows, row by row: plain values, no database."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dispatch_app.domain.vocabulary import LineItemKind
from dispatch_app.domain.work_order_record import line_total
from dispatch_app.domain.work_order_status import LABELS as STATUS_LABELS
from dispatch_app.services.outbox.queue import MessageRow


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
class InvoiceLineRow:
    description: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    amount: decimal.Decimal
    taxable: bool


@dataclass(frozen=True, slots=True)
class PaymentRow:
    method: str
    amount: decimal.Decimal  # negative: a refund
    detail: str  # the check's "No. 2231", a card's "····4242", the reference
    received_on: dt.date
    recorded_by: str


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    version: int
    number: str | None  # None while a draft
    kind: str
    status: str
    tax_rate: decimal.Decimal
    subtotal: decimal.Decimal
    tax: decimal.Decimal
    total: decimal.Decimal
    paid: decimal.Decimal
    credited: decimal.Decimal
    issued_on: dt.date | None
    due_on: dt.date | None
    credit_of: str | None  # the number a credit note corrects
    void_reason: str | None
    lines: tuple[InvoiceLineRow, ...]
    payments: tuple[PaymentRow, ...]

    @property
    def balance(self) -> decimal.Decimal:
        return self.total - self.paid - self.credited


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
    invoices: tuple[InvoiceRow, ...] = ()  # oldest first
    messages: tuple[MessageRow, ...] = ()  # what the customer was sent, newest first

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
