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
