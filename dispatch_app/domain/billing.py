"""Invoice arithmetic and the words of billing, the same in Python as in the database.

Rounding: each line's amount is quantity × unit price rounded to the cent; tax is
rounded once per invoice, on the sum of the taxable lines (not per line). Both round
half away from zero (``ROUND_HALF_UP`` in Python, ``round()`` on numeric in PostgreSQL),
so a credit note's negative lines round like the invoice's positive ones. Money is
``Decimal`` here and ``numeric`` in the database, never float.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass

from dispatch_app.domain.money import CENT, AmountError, parse_amount
from dispatch_app.domain.text_rules import SHORT_TEXT, checked_text
from dispatch_app.domain.vocabulary import InvoiceKind, InvoiceStatus, PaymentMethod

ZERO = decimal.Decimal("0.00")
# A tax rate is stored as a fraction with four places (8.25 % is 0.0825).
RATE_PLACES = decimal.Decimal("0.0001")
MOST_TAX_PERCENT = decimal.Decimal("30")

KIND_LABELS = {
    InvoiceKind.STANDARD: "Invoice",
    InvoiceKind.DEPOSIT: "Deposit invoice",
    InvoiceKind.PROGRESS: "Progress invoice",
    InvoiceKind.FINAL: "Final invoice",
    InvoiceKind.CREDIT: "Credit note",
}
STATUS_LABELS = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.POSTED: "Posted",
    InvoiceStatus.PARTLY_PAID: "Partly paid",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
}
METHOD_LABELS = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHECK: "Check",
    PaymentMethod.CARD: "Card",
    PaymentMethod.FINANCING: "Financing",
}
# Bills a deposit or progress invoice made, which the final invoice takes off again.
ADVANCE_KINDS = frozenset({InvoiceKind.DEPOSIT, InvoiceKind.PROGRESS})
# The invoices that bill the work itself: posting one marks the work order invoiced.
WORK_KINDS = frozenset({InvoiceKind.STANDARD, InvoiceKind.FINAL})
OPEN_STATUSES = frozenset({InvoiceStatus.POSTED, InvoiceStatus.PARTLY_PAID})
# The aging list's buckets: days since the invoice date, upper bound included.
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0–30", 30),
    ("31–60", 60),
    ("61–90", 90),
    ("90+", None),
)


def round_cents(amount: decimal.Decimal) -> decimal.Decimal:
    return amount.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def line_amount(quantity: decimal.Decimal, unit_price: decimal.Decimal) -> decimal.Decimal:
    return round_cents(quantity * unit_price)


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: decimal.Decimal
    taxable_subtotal: decimal.Decimal
    tax: decimal.Decimal
    total: decimal.Decimal


def invoice_totals(
    lines: Iterable[tuple[decimal.Decimal, decimal.Decimal, bool]], tax_rate: decimal.Decimal
) -> Totals:
    """Totals of ``(quantity, unit_price, taxable)`` lines at ``tax_rate`` (a fraction)."""
    subtotal = taxable = ZERO
    for quantity, unit_price, is_taxable in lines:
        amount = line_amount(quantity, unit_price)
        subtotal += amount
        if is_taxable:
            taxable += amount
    tax = round_cents(taxable * tax_rate)
    return Totals(subtotal, taxable, tax, subtotal + tax)


def tax_rate_from_setting(value: object) -> decimal.Decimal:
    """The company's ``tax_rate`` setting (a percent: ``"8.25"``) as a fraction; an
    unreadable or absent setting is no tax, never a guess."""
    if value is None or isinstance(value, bool):
        return decimal.Decimal("0")
    try:
        percent = decimal.Decimal(str(value).strip().rstrip("%"))
    except decimal.InvalidOperation:
        return decimal.Decimal("0")
    if not percent.is_finite() or not 0 <= percent <= MOST_TAX_PERCENT:
        return decimal.Decimal("0")
    return (percent / 100).quantize(RATE_PLACES, rounding=decimal.ROUND_HALF_UP)


def percent_text(rate: decimal.Decimal) -> str:
    """``0.0825`` → ``8.25%``."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def aging_bucket(issued_on: dt.date, today: dt.date) -> str:
    age = (today - issued_on).days
    for label, most in AGING_BUCKETS:
        if most is None or age <= most:
            return label
    raise AssertionError("the last bucket has no bound")


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """A payment as the database takes it (amount negative for a refund)."""

    method: str
    amount: decimal.Decimal
    check_number: str | None
    card_last4: str | None
    reference: str
    reason: str | None


def payment_errors(
    *,
    method: str,
    amount: object,
    check_number: str = "",
    card_last4: str = "",
    reference: str = "",
    reason: str = "",
    refund: bool = False,
) -> tuple[PaymentInput | None, dict[str, str]]:
    """Check a payment (or, with ``refund``, a refund of ``amount``) as typed."""
    errors: dict[str, str] = {}
    try:
        kind = PaymentMethod(method)
    except ValueError:
        kind = None
        errors["method"] = "Choose how the customer paid: cash, check, card or financing."
    value = ZERO
    if isinstance(amount, decimal.Decimal):
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
            errors["amount"] = "The amount must be more than zero, in dollars and cents."
        else:
            value = amount
    else:
        try:
            value = parse_amount(str(amount), label="The amount", positive=True)
        except AmountError as error:
            errors["amount"] = str(error)
    number = check_number.strip()
    digits = card_last4.strip()
    if kind == PaymentMethod.CHECK and not number:
        errors["check_number"] = "A check payment needs the check number."
    elif len(number) > 30:
        errors["check_number"] = "A check number is at most 30 characters."
    if kind == PaymentMethod.CARD and not (
        len(digits) == 4 and digits.isascii() and digits.isdigit()
    ):
        errors["card_last4"] = "A card payment needs the card's last four digits (only those)."
    ref, problem = checked_text("The reference", reference, SHORT_TEXT)
    if problem or len(ref) > 100:
        errors["reference"] = problem or "The reference is at most 100 characters."
    why, problem = checked_text("The reason", reason, SHORT_TEXT)
    if problem:
        errors["reason"] = problem
    elif refund and not why.strip():
        errors["reason"] = "A refund needs a reason."
    if errors or kind is None:
        return None, errors
    return (
        PaymentInput(
            method=kind.value,
            amount=-value if refund else value,
            check_number=number if kind == PaymentMethod.CHECK else None,
            card_last4=digits if kind == PaymentMethod.CARD else None,
            reference=ref.strip(),
            reason=why.strip() or None,
        ),
        {},
    )
