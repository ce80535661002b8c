"""What a printed invoice says: the company, the customer, the lines, the totals and the
payments, read once from the database and then only formatted.

Money is ``Decimal`` throughout and is written the same way everywhere on the page:
``$1,500.00``, and a negative amount (a refund, a credit, what a deposit already
billed) with a leading minus sign, ``−$30.00``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from dispatch_app.domain.money import format_amount
from dispatch_app.domain.vocabulary import InvoiceKind, InvoiceStatus, PaymentMethod

MINUS = "−"  # U+2212: a minus sign, not a hyphen, so it never reads as a dash
ZERO = decimal.Decimal("0.00")

TITLES = {
    InvoiceKind.STANDARD: "Invoice",
    InvoiceKind.DEPOSIT: "Deposit invoice",
    InvoiceKind.PROGRESS: "Progress invoice",
    InvoiceKind.FINAL: "Final invoice",
    InvoiceKind.CREDIT: "Credit note",
}
# The word stamped on the page; an invoice simply due carries none.
STATUS_WORDS = {
    InvoiceStatus.DRAFT: "DRAFT",
    InvoiceStatus.PARTLY_PAID: "PARTLY PAID",
    InvoiceStatus.PAID: "PAID",
    InvoiceStatus.VOID: "VOID",
}
_METHODS = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHECK: "Check",
    PaymentMethod.CARD: "Card",
    PaymentMethod.FINANCING: "Financing",
}
# Month names spelled here, not by strftime: the process locale (which Qt sets from the
# environment) must not change what an invoice says.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def money(amount: decimal.Decimal) -> str:
    """``$1,500.00``; ``−$30.00`` below zero."""
    text = "$" + format_amount(abs(amount))
    return MINUS + text if amount < 0 else text


def quantity_text(quantity: decimal.Decimal) -> str:
    """``2``, ``1.5``, ``0.25``: a count without the trailing zeros the database keeps."""
    if quantity == quantity.to_integral_value():
        return f"{quantity:,.0f}"
    return f"{quantity.normalize():,f}"


def rate_text(rate: decimal.Decimal) -> str:
    """A tax rate kept as a fraction, as a percentage: ``0.0825`` is ``8.25%``."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def date_text(day: dt.date | None) -> str:
    """``Dec 1, 2026`` (an empty string for no date)."""
    if day is None:
        return ""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def payment_method_text(method: str, *, check_number: str | None, card_last4: str | None) -> str:
    """``Card ending 4242``, ``Check 1187``, ``Cash``."""
    try:
        label = _METHODS[PaymentMethod(method)]
    except ValueError:
        label = method.replace("_", " ").capitalize()
    if method == PaymentMethod.CARD and card_last4:
        return f"{label} ending {card_last4}"
    if method == PaymentMethod.CHECK and check_number:
        return f"{label} {check_number.strip()}"
    return label


@dataclass(frozen=True, slots=True)
class Logo:
    """The company's logo as the image file holds it (PNG or JPEG) and its size in pixels."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    address: tuple[str, ...]  # one line each
    phone: str
    logo: Logo | None = None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    amount: decimal.Decimal
    taxable: bool


@dataclass(frozen=True, slots=True)
class DocumentPayment:
    received_on: dt.date
    method: str  # as printed: "Card ending 4242"
    reference: str
    amount: decimal.Decimal  # below zero for a refund

    @property
    def is_refund(self) -> bool:
        return self.amount < 0


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """One posted invoice (or credit note) as printed."""

    number: str
    kind: str  # InvoiceKind
    status: str  # InvoiceStatus
    issued_on: dt.date | None
    due_on: dt.date | None
    company: Company
    customer_name: str
    customer_phone: str
    customer_email: str
    billing_address: tuple[str, ...]
    site_address: tuple[str, ...]
    work_order_number: str
    lines: tuple[DocumentLine, ...]
    subtotal: decimal.Decimal
    taxable_subtotal: decimal.Decimal
    tax_rate: decimal.Decimal  # a fraction: 0.0825
    tax: decimal.Decimal
    total: decimal.Decimal
    paid: decimal.Decimal
    credited: decimal.Decimal
    payments: tuple[DocumentPayment, ...]
    terms: str
    memo: str = ""
    credit_of: str = ""  # a credit note's invoice
    void_reason: str = ""

    @property
    def balance(self) -> decimal.Decimal:
        return self.total - self.paid - self.credited

    @property
    def amount_due(self) -> decimal.Decimal:
        """What the customer owes on this paper: nothing on a void invoice or a credit note."""
        if self.is_credit_note or self.status == InvoiceStatus.VOID:
            return ZERO
        return max(self.balance, ZERO)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT

    @property
    def title(self) -> str:
        try:
            return TITLES[InvoiceKind(self.kind)]
        except ValueError:
            return TITLES[InvoiceKind.STANDARD]

    @property
    def status_word(self) -> str:
        """``PAID``, ``VOID``, ``PARTLY PAID``, ``DRAFT``; empty while simply due."""
        if self.is_credit_note and self.status != InvoiceStatus.VOID:
            return ""
        try:
            return STATUS_WORDS.get(InvoiceStatus(self.status), "")
        except ValueError:
            return ""
