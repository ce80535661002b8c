"""Invoices and payments: from a completed work order to money in the bank.

Every operation is one transaction. The database keeps the books (migration 0008):
totals, numbers, the lock on a posted invoice, what a payment may be; these functions
check first only to say a refusal as a sentence, and pass the database's own sentence
on (``BooksRefused``) when it refuses something they did not foresee.

The work order follows its invoices: posting the invoice that bills the work marks a
completed work order invoiced, and the payment that settles the last open invoice
closes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    AppSetting,
    Invoice,
    InvoiceLine,
    LineItem,
    Payment,
    StatusChange,
    WorkOrder,
)
from dispatch_app.domain.billing import (
    ADVANCE_KINDS,
    AGING_BUCKETS,
    KIND_LABELS,
    WORK_KINDS,
    aging_bucket,
    payment_errors,
    tax_rate_from_setting,
)
from dispatch_app.domain.clock import Clock, today
from dispatch_app.domain.ids import require_row_id, require_version
from dispatch_app.domain.money import parse_amount
from dispatch_app.domain.statuses import WORK_ORDER_DONE
from dispatch_app.domain.text_rules import SHORT_TEXT, checked_text
from dispatch_app.domain.vocabulary import InvoiceKind, InvoiceStatus, WorkOrderStatus
from dispatch_app.domain.work_order_status import LABELS as WORK_ORDER_LABELS
from dispatch_app.errors import (
    BooksRefused,
    ConflictError,
    ShortStock,
    UserFacingError,
    ValidationError,
)
from dispatch_app.services.day_board import business_timezone

BOOKS_SQLSTATE = "DB001"
SHORT_SQLSTATE = "DB002"
DEFAULT_TERMS = "Due on receipt. Thank you for your business."


def books_refusal(error: BaseException) -> UserFacingError | None:
    """The database's refusal of a books rule (``DB001``) or of stock a location does
    not hold (``DB002``), as the sentence it wrote; None for any other error."""
    original = error.orig if isinstance(error, DBAPIError) and error.orig else error
    if not isinstance(original, psycopg.Error):
        return None
    if original.sqlstate == BOOKS_SQLSTATE:
        return BooksRefused(original.diag.message_primary or "The books refused.")
    if original.sqlstate == SHORT_SQLSTATE:
        detail = original.diag.message_detail or ""
        return ShortStock(
            original.diag.message_primary or "Not enough stock.",
            on_hand=detail.removeprefix("short:") or "0",
        )
    return None


@contextlib.contextmanager
def books_errors() -> Iterator[None]:
    """The database's refusals of the books' rules, as the sentence it wrote."""
    try:
        yield
    except DBAPIError as error:
        refusal = books_refusal(error)
        if refusal is not None:
            raise refusal from None
        raise


# -- reading -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """An invoice as the work order's billing tab lists it."""

    id: int
    version: int
    number: str | None
    kind: str
    status: str
    total: decimal.Decimal
    paid: decimal.Decimal
    credited: decimal.Decimal
    issued_on: dt.date | None
    credit_of_id: int | None

    @property
    def balance(self) -> decimal.Decimal:
        return self.total - self.paid - self.credited

    @property
    def title(self) -> str:
        label = KIND_LABELS[InvoiceKind(self.kind)]
        return f"{label} {self.number}" if self.number else f"{label} (draft)"


async def invoices_of_work_order(
    sessions: async_sessionmaker[AsyncSession], work_order_id: int
) -> list[InvoiceSummary]:
    require_row_id(work_order_id, "work order")
    async with sessions() as session:
        rows = await session.scalars(
            select(Invoice).where(Invoice.work_order_id == work_order_id).order_by(Invoice.id)
        )
        return [_summary(row) for row in rows]


def _summary(row: Invoice) -> InvoiceSummary:
    return InvoiceSummary(
        row.id,
        row.version,
        row.number,
        row.kind,
        row.status,
        row.total,
        row.paid,
        row.credited,
        row.issued_on,
        row.credit_of_id,
    )


async def _setting(session: AsyncSession, key: str) -> object:
    return await session.scalar(select(AppSetting.value).where(AppSetting.key == key))


# -- drafts --------------------------------------------------------------------------
async def create_invoice(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    kind: str = InvoiceKind.STANDARD.value,
    amount: object = None,
    description: str = "",
) -> int:
    """A draft invoice for the work order; returns its id.

    A standard invoice bills the work order's labour and materials; once a deposit or
    progress invoice was posted it is a final invoice, which also takes off what those
    billed. A deposit or progress invoice bills ``amount`` (not taxed: tax is charged on
    the work, on the final invoice).
    """
    require_row_id(work_order_id, "work order")
    try:
        chosen = InvoiceKind(kind)
    except ValueError:
        raise ValidationError({"kind": f"{kind!r} is not a kind of invoice."}) from None
    if chosen == InvoiceKind.CREDIT:
        raise ValidationError({"kind": "A credit note is issued from the invoice it corrects."})
    advance = None
    if chosen in ADVANCE_KINDS:
        try:
            advance = parse_amount(str(amount or ""), label="The amount", positive=True)
        except ValueError as error:
            raise ValidationError({"amount": str(error)}) from None
    words, problem = checked_text("The description", description, SHORT_TEXT)
    if problem:
        raise ValidationError({"description": problem})
    async with sessions() as session, session.begin():
        order = (
            await session.execute(
                select(WorkOrder.number, WorkOrder.status, WorkOrder.customer_id)
                .where(WorkOrder.id == work_order_id)
                .with_for_update()
            )
        ).one_or_none()
        if order is None:
            raise ConflictError("The work order was deleted by someone else — no invoice made.")
        others = list(
            await session.scalars(
                select(Invoice)
                .where(
                    Invoice.work_order_id == work_order_id,
                    Invoice.status != InvoiceStatus.VOID.value,
                )
                .order_by(Invoice.id)
            )
        )
        rate = tax_rate_from_setting(await _setting(session, "tax_rate"))
        terms = await _setting(session, "invoice_terms")
        lines: list[dict[str, object]] = []
        if advance is not None:
            label = "Deposit" if chosen == InvoiceKind.DEPOSIT else "Progress billing"
            lines.append(
                {
                    "kind": "deposit",
                    "description": words.strip() or f"{label} — {order.number}",
                    "quantity": decimal.Decimal(1),
                    "unit_price": advance,
                    "taxable": False,
                }
            )
        else:
            if order.status not in WORK_ORDER_DONE:
                raise ValidationError(
                    {
                        "work_order": f"{order.number} is "
                        f"{WORK_ORDER_LABELS[order.status].lower()}; the work is invoiced "
                        "once it is completed (a deposit or progress invoice can be made now)."
                    }
                )
            billed = [o for o in others if InvoiceKind(o.kind) in WORK_KINDS]
            if billed:
                first = billed[0]
                raise ValidationError(
                    {
                        "work_order": f"{order.number} is already billed by "
                        f"{first.number or 'a draft invoice'}; void it or issue a credit "
                        "note first."
                    }
                )
            lines.extend(await _work_lines(session, work_order_id))
            advances = [
                o
                for o in others
                if InvoiceKind(o.kind) in ADVANCE_KINDS and o.status != InvoiceStatus.DRAFT.value
            ]
            if advances:
                chosen = InvoiceKind.FINAL
            for earlier in advances:
                lines.append(
                    {
                        "kind": "less_billed",
                        "description": f"Less {KIND_LABELS[InvoiceKind(earlier.kind)].lower()} "
                        f"{earlier.number}",
                        "quantity": decimal.Decimal(1),
                        "unit_price": -earlier.subtotal,
                        "taxable": False,
                    }
                )
            if not lines:
                raise ValidationError(
                    {"work_order": f"{order.number} has no labour or materials to invoice."}
                )
        with books_errors():
            invoice_id = int(
                await session.scalar(
                    insert(Invoice)
                    .values(
                        work_order_id=work_order_id,
                        customer_id=order.customer_id,
                        kind=chosen.value,
                        tax_rate=rate,
                        terms=str(terms) if isinstance(terms, str) else DEFAULT_TERMS,
                    )
                    .returning(Invoice.id)
                )
                or 0
            )
            for position, line in enumerate(lines, start=1):
                await session.execute(
                    insert(InvoiceLine).values(invoice_id=invoice_id, position=position, **line)
                )
        return invoice_id


async def _work_lines(session: AsyncSession, work_order_id: int) -> list[dict[str, object]]:
    """The work order's labour and materials as invoice lines: labour first."""
    items = await session.scalars(
        select(LineItem)
        .where(LineItem.work_order_id == work_order_id)
        .order_by(LineItem.kind, LineItem.id)
    )
    return [
        {
            "kind": item.kind,
            "line_item_id": item.id,
            "description": item.description,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
            "taxable": item.taxable,
        }
        for item in items
    ]


async def follow_charges(session: AsyncSession, work_order_id: int) -> None:
    """A draft that bills the work follows the work order's charges: called in the
    transaction that changed them, so a draft never bills what is no longer charged.
    Lines that take off earlier invoices stay, after the work."""
    drafts = list(
        await session.scalars(
            select(Invoice.id).where(
                Invoice.work_order_id == work_order_id,
                Invoice.status == InvoiceStatus.DRAFT.value,
                Invoice.kind.in_([kind.value for kind in WORK_KINDS]),
            )
        )
    )
    if not drafts:
        return
    work = await _work_lines(session, work_order_id)
    for draft in drafts:
        await session.execute(
            text(
                "DELETE FROM invoice_lines WHERE invoice_id = :draft "
                "AND kind IN ('labour', 'material')"
            ),
            {"draft": draft},
        )
        await session.execute(
            text("UPDATE invoice_lines SET position = position + :shift WHERE invoice_id = :draft"),
            {"draft": draft, "shift": len(work)},
        )
        for position, line in enumerate(work, start=1):
            await session.execute(
                insert(InvoiceLine).values(invoice_id=draft, position=position, **line)
            )


async def delete_draft(
    sessions: async_sessionmaker[AsyncSession], *, invoice_id: int, seen_version: int
) -> None:
    require_row_id(invoice_id, "invoice")
    require_version(seen_version, "invoice")
    async with sessions() as session, session.begin():
        with books_errors():
            gone = await session.execute(
                text(
                    "DELETE FROM invoices WHERE id = :id AND version = :version "
                    "AND status = 'draft' RETURNING id"
                ),
                {"id": invoice_id, "version": seen_version},
            )
        if gone.first() is None:
            raise ConflictError("The invoice was posted or changed meanwhile — not deleted.")


# -- posting -------------------------------------------------------------------------
async def post_invoice(
    sessions: async_sessionmaker[AsyncSession],
    *,
    invoice_id: int,
    seen_version: int,
    clock: Clock,
) -> str:
    """Post a draft: the database numbers it and locks it. Returns its number.

    Dated today in the business's time zone, due after the ``invoice_due_days``
    setting (0: on receipt). Posting the invoice that bills the work marks a completed
    work order invoiced.
    """
    require_row_id(invoice_id, "invoice")
    require_version(seen_version, "invoice")
    async with sessions() as session, session.begin():
        return await _post(session, invoice_id, seen_version, clock)


async def _post(session: AsyncSession, invoice_id: int, seen_version: int, clock: Clock) -> str:
    tz = await business_timezone(session)
    issued = today(clock, tz)
    due_days = await _setting(session, "invoice_due_days")
    days = due_days if isinstance(due_days, int) and 0 <= due_days <= 365 else 0
    with books_errors():
        row = (
            await session.execute(
                update(Invoice)
                .where(
                    Invoice.id == invoice_id,
                    Invoice.version == seen_version,
                    Invoice.status == InvoiceStatus.DRAFT.value,
                )
                .values(
                    status=InvoiceStatus.POSTED.value,
                    issued_on=issued,
                    due_on=issued + dt.timedelta(days=days),
                )
                .returning(Invoice.number, Invoice.kind, Invoice.work_order_id, Invoice.status)
            )
        ).one_or_none()
    if row is None:
        raise ConflictError(
            "The invoice was changed, posted or deleted by someone else meanwhile — "
            "not posted; look at it again."
        )
    if InvoiceKind(row.kind) in WORK_KINDS:
        await _move_work_order(
            session, row.work_order_id, WorkOrderStatus.COMPLETED, WorkOrderStatus.INVOICED
        )
        if row.status == InvoiceStatus.PAID.value:  # billed at nothing: settled already
            await _close_if_settled(session, row.work_order_id)
    return str(row.number)


async def _close_if_settled(session: AsyncSession, work_order_id: int) -> None:
    """Close an invoiced work order once none of its invoices is open (a payment settled
    the last one, or the work was billed at nothing)."""
    still_open = await session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(
            Invoice.work_order_id == work_order_id,
            Invoice.kind != InvoiceKind.CREDIT.value,
            Invoice.status.in_(
                [
                    InvoiceStatus.DRAFT.value,
                    InvoiceStatus.POSTED.value,
                    InvoiceStatus.PARTLY_PAID.value,
                ]
            ),
        )
    )
    if not still_open:
        await _move_work_order(
            session, work_order_id, WorkOrderStatus.INVOICED, WorkOrderStatus.CLOSED
        )


async def _move_work_order(
    session: AsyncSession,
    work_order_id: int,
    current: WorkOrderStatus,
    target: WorkOrderStatus,
) -> bool:
    """Move the work order from ``current`` to ``target`` with a history row, if it is
    in ``current`` (an office may have moved it by hand already)."""
    moved = await session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == work_order_id, WorkOrder.status == current.value)
        .values(status=target.value)
        .returning(WorkOrder.id)
    )
    if moved.first() is None:
        return False
    await session.execute(
        insert(StatusChange).values(
            work_order_id=work_order_id, from_status=current.value, to_status=target.value
        )
    )
    return True


async def void_invoice(
    sessions: async_sessionmaker[AsyncSession],
    *,
    invoice_id: int,
    seen_version: int,
    reason: str,
) -> None:
    """Void a posted invoice nothing was paid or credited on (a manager's); it keeps its
    number. A completed work order it billed can then be invoiced again."""
    require_row_id(invoice_id, "invoice")
    require_version(seen_version, "invoice")
    why, problem = checked_text("The reason", reason, SHORT_TEXT, required=True)
    if problem:
        raise ValidationError({"reason": problem})
    async with sessions() as session, session.begin():
        with books_errors():
            row = (
                await session.execute(
                    update(Invoice)
                    .where(Invoice.id == invoice_id, Invoice.version == seen_version)
                    .values(status=InvoiceStatus.VOID.value, void_reason=why.strip())
                    .returning(Invoice.kind, Invoice.work_order_id)
                )
            ).one_or_none()
        if row is None:
            raise ConflictError("The invoice was changed by someone else meanwhile — not voided.")
        if InvoiceKind(row.kind) in WORK_KINDS:
            await _move_work_order(
                session, row.work_order_id, WorkOrderStatus.INVOICED, WorkOrderStatus.COMPLETED
            )


async def issue_credit_note(
    sessions: async_sessionmaker[AsyncSession],
    *,
    invoice_id: int,
    amount: object,
    reason: str,
    clock: Clock,
) -> str:
    """Take ``amount`` off a posted invoice with a posted credit note (a manager's);
    returns the credit note's number. Money already paid above the new balance is
    given back with a refund."""
    require_row_id(invoice_id, "invoice")
    try:
        value = parse_amount(str(amount), label="The amount", positive=True)
    except ValueError as error:
        raise ValidationError({"amount": str(error)}) from None
    why, problem = checked_text("The reason", reason, SHORT_TEXT, required=True)
    if problem:
        raise ValidationError({"reason": problem})
    async with sessions() as session, session.begin():
        original = await session.scalar(select(Invoice).where(Invoice.id == invoice_id))
        if original is None or original.number is None:
            raise ValidationError({"invoice": "A credit note is issued against a posted invoice."})
        with books_errors():
            credit_id = int(
                await session.scalar(
                    insert(Invoice)
                    .values(
                        work_order_id=original.work_order_id,
                        customer_id=original.customer_id,
                        kind=InvoiceKind.CREDIT.value,
                        credit_of_id=original.id,
                        tax_rate=0,
                        memo=why.strip(),
                    )
                    .returning(Invoice.id)
                )
                or 0
            )
            await session.execute(
                insert(InvoiceLine).values(
                    invoice_id=credit_id,
                    position=1,
                    kind="credit",
                    description=f"Credit against {original.number}: {why.strip()}"[:500],
                    quantity=decimal.Decimal(1),
                    unit_price=-value,
                    taxable=False,
                )
            )
            version = await session.scalar(select(Invoice.version).where(Invoice.id == credit_id))
            return await _post(session, credit_id, int(version or 1), clock)


# -- payments ------------------------------------------------------------------------
async def record_payment(
    sessions: async_sessionmaker[AsyncSession],
    *,
    invoice_id: int,
    method: str,
    amount: object,
    clock: Clock,
    check_number: str = "",
    card_last4: str = "",
    reference: str = "",
    reason: str = "",
    refund: bool = False,
) -> int:
    """Record a payment (or, with ``refund``, money given back, with a reason) against a
    posted invoice; returns its id. The payment that settles the work order's last
    open invoice closes an invoiced work order."""
    require_row_id(invoice_id, "invoice")
    payment, errors = payment_errors(
        method=method,
        amount=amount,
        check_number=check_number,
        card_last4=card_last4,
        reference=reference,
        reason=reason,
        refund=refund,
    )
    if errors or payment is None:
        raise ValidationError(errors)
    async with sessions() as session, session.begin():
        tz = await business_timezone(session)
        with books_errors():
            payment_id = int(
                await session.scalar(
                    insert(Payment)
                    .values(
                        invoice_id=invoice_id,
                        method=payment.method,
                        amount=payment.amount,
                        check_number=payment.check_number,
                        card_last4=payment.card_last4,
                        reference=payment.reference,
                        reason=payment.reason,
                        received_on=today(clock, tz),
                    )
                    .returning(Payment.id)
                )
                or 0
            )
        bill = (
            await session.execute(
                select(Invoice.work_order_id, Invoice.status).where(Invoice.id == invoice_id)
            )
        ).one()
        if bill.status == InvoiceStatus.PAID.value:
            await _close_if_settled(session, bill.work_order_id)
        return payment_id


# -- the office's lists --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NotInvoiced:
    work_order_id: int
    number: str
    customer: str
    completed_at: dt.datetime | None  # in the business's time zone
    value: decimal.Decimal
    draft: bool  # a draft invoice exists, not posted yet


@dataclass(frozen=True, slots=True)
class NotInvoicedList:
    rows: list[NotInvoiced]
    count: int  # all of them, also beyond ``rows``
    value: decimal.Decimal


# Every completed work order is valued and dated (they order the list and make its
# totals); only the page shown is joined to its customer and checked for a draft, which
# keeps the list well under 200 ms at a million work orders (python -m benchmarks.billing).
NOT_INVOICED = text(
    """
    WITH valued AS (
        SELECT w.id, w.number, w.customer_id,
               coalesce((SELECT sum(round(l.quantity * l.unit_price, 2)) FROM line_items l
                         WHERE l.work_order_id = w.id), 0) AS value,
               (SELECT max(s.changed_at) FROM status_history s
                 WHERE s.work_order_id = w.id AND s.to_status = 'completed') AS completed_at
        FROM work_orders w WHERE w.status = 'completed'
    ), listed AS (
        SELECT v.*, count(*) OVER () AS total_count, sum(v.value) OVER () AS total_value
        FROM valued v
        ORDER BY v.completed_at NULLS FIRST, v.id
        LIMIT :limit
    )
    SELECT l.id, l.number, c.name AS customer, l.completed_at, l.value,
           EXISTS (SELECT 1 FROM invoices i WHERE i.work_order_id = l.id
                   AND i.status = 'draft') AS draft,
           l.total_count, l.total_value
    FROM listed l JOIN customers c ON c.id = l.customer_id
    ORDER BY l.completed_at NULLS FIRST, l.id
    """
)


async def not_invoiced(
    sessions: async_sessionmaker[AsyncSession], *, limit: int = 500
) -> NotInvoicedList:
    """Completed work orders no posted invoice bills yet, oldest completion first."""
    async with sessions() as session:
        tz = await business_timezone(session)
        rows = (await session.execute(NOT_INVOICED, {"limit": limit})).all()
    if not rows:
        return NotInvoicedList([], 0, decimal.Decimal("0.00"))
    return NotInvoicedList(
        [
            NotInvoiced(
                r.id,
                r.number,
                r.customer,
                r.completed_at.astimezone(tz) if r.completed_at else None,
                r.value,
                r.draft,
            )
            for r in rows
        ],
        int(rows[0].total_count),
        rows[0].total_value,
    )


@dataclass(frozen=True, slots=True)
class Unpaid:
    invoice_id: int
    number: str
    customer: str
    work_order: str
    issued_on: dt.date
    total: decimal.Decimal
    balance: decimal.Decimal
    bucket: str


@dataclass(frozen=True, slots=True)
class AgingList:
    buckets: dict[str, tuple[int, decimal.Decimal]]  # label → (invoices, balance)
    rows: list[Unpaid]  # oldest first, up to the limit


AGING = text(
    """
    SELECT i.id, i.number, c.name AS customer, w.number AS work_order, i.issued_on,
           i.total, i.total - i.paid - i.credited AS balance
    FROM invoices i
    JOIN customers c ON c.id = i.customer_id
    JOIN work_orders w ON w.id = i.work_order_id
    WHERE i.status IN ('posted', 'partly_paid') AND i.kind <> 'credit'
    ORDER BY i.issued_on, i.id
    LIMIT :limit
    """
)
AGING_SUMMARY = text(
    """
    SELECT CASE WHEN :today - i.issued_on <= 30 THEN 0 WHEN :today - i.issued_on <= 60 THEN 1
                WHEN :today - i.issued_on <= 90 THEN 2 ELSE 3 END AS bucket,
           count(*) AS invoices, sum(i.total - i.paid - i.credited) AS balance
    FROM invoices i
    WHERE i.status IN ('posted', 'partly_paid') AND i.kind <> 'credit'
    GROUP BY 1
    """
)


async def aging(
    sessions: async_sessionmaker[AsyncSession], *, clock: Clock, limit: int = 500
) -> AgingList:
    """Posted invoices not yet paid, by age: 0–30, 31–60, 61–90 and 90+ days since the
    invoice date (today in the business's time zone)."""
    async with sessions() as session:
        day = today(clock, await business_timezone(session))
        summary = (await session.execute(AGING_SUMMARY, {"today": day})).all()
        rows = (await session.execute(AGING, {"limit": limit})).all()
    buckets = {label: (0, decimal.Decimal("0.00")) for label, _most in AGING_BUCKETS}
    for row in summary:
        buckets[AGING_BUCKETS[row.bucket][0]] = (int(row.invoices), row.balance)
    return AgingList(
        buckets,
        [
            Unpaid(
                r.id,
                r.number,
                r.customer,
                r.work_order,
                r.issued_on,
                r.total,
                r.balance,
                aging_bucket(r.issued_on, day),
            )
            for r in rows
        ],
    )


def totals_of(rows: Sequence[Unpaid]) -> decimal.Decimal:
    return sum((row.balance for row in rows), decimal.Decimal("0.00"))
