"""The words of the trade that the schema, the rules and the screens share.

Each is a ``StrEnum`` so the value stored in the database is the readable word itself.
"""

from __future__ import annotations

from enum import StrEnum


class Trade(StrEnum):
    HVAC = "hvac"
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    ROOFING = "roofing"


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class WorkOrderSource(StrEnum):
    PHONE = "phone"
    WEB = "web"
    REFERRAL = "referral"
    REPEAT = "repeat"
    LEAD = "lead"
    AGREEMENT = "agreement"  # a maintenance agreement's due visit, made by the worker


class WorkOrderStatus(StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    INVOICED = "invoiced"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class VisitStatus(StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class QuestionKind(StrEnum):
    """How a job type's intake question is answered."""

    TEXT = "text"
    CHOICE = "choice"  # one of the question's choices
    YES_NO = "yes_no"
    NUMBER = "number"


class LineItemKind(StrEnum):
    LABOUR = "labour"
    MATERIAL = "material"


# Colour a technician row carries when nothing else is known, per trade.
TRADE_COLOURS = {
    Trade.HVAC: "#2f80ed",
    Trade.PLUMBING: "#27ae60",
    Trade.ELECTRICAL: "#f2994a",
    Trade.ROOFING: "#9b51e0",
}


def sql_in(values: type[StrEnum]) -> str:
    """The SQL list ``('a', 'b')`` of an enum's values, for CHECK constraints."""
    return "(" + ", ".join(f"'{member.value}'" for member in values) + ")"


class PartKind(StrEnum):
    """A price-book entry: a part kept in stock, or a service sold by the job or hour."""

    PART = "part"
    SERVICE = "service"


class StockLocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    TRUCK = "truck"


class StockReason(StrEnum):
    """Why stock moved: each movement is one row of the ledger."""

    RECEIVED = "received"  # from a supplier, at its cost
    TRANSFER = "transfer"  # between locations (two rows: out of one, into the other)
    COUNT = "count"  # set to a counted number (the difference, with a reason)
    USED = "used"  # put on a work order as a material
    RETURNED = "returned"  # taken off a work order again


class InvoiceKind(StrEnum):
    STANDARD = "standard"  # the whole job at once
    DEPOSIT = "deposit"  # before the work
    PROGRESS = "progress"  # part way through
    FINAL = "final"  # the whole job, less what deposits and progress invoices billed
    CREDIT = "credit"  # a credit note against a posted invoice


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CHECK = "check"
    CARD = "card"
    FINANCING = "financing"
