"""Rules for what is added to a work order besides its fields — line items, notes,
photos, time entries — and the readable line each audit entry becomes.

Pure Python: the operations in ``services/work_order_record.py`` check input here before
they write, and the editor words the audit log with ``audit_line``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from dispatch_app.domain.money import CENT, MAX_AMOUNT, AmountError, parse_amount
from dispatch_app.domain.tables import TABLES
from dispatch_app.domain.text_rules import (
    FILE_NAME,
    LONG_TEXT,
    SHORT_TEXT,
    TEXT,
    checked_text,
)
from dispatch_app.domain.vocabulary import LineItemKind
from dispatch_app.domain.work_order_status import LABELS as STATUS_LABELS
from dispatch_app.domain.work_orders import moment_problem

# What each kind of text on a work order may hold (see ``text_rules``; the columns'
# CHECK constraints say the same).
NOTE_TEXT = LONG_TEXT
LINE_DESCRIPTION_TEXT = SHORT_TEXT
TIME_NOTE_TEXT = TEXT
CAPTION_TEXT = SHORT_TEXT
FILENAME_TEXT = FILE_NAME
MAX_NOTE_CHARS = NOTE_TEXT.limit
MAX_LINE_DESCRIPTION_CHARS = LINE_DESCRIPTION_TEXT.limit
MAX_TIME_NOTE_CHARS = TIME_NOTE_TEXT.limit
MAX_CAPTION_CHARS = CAPTION_TEXT.limit
MAX_FILENAME_CHARS = FILENAME_TEXT.limit
LONGEST_TIME_ENTRY = dt.timedelta(hours=24)


# -- amounts ---------------------------------------------------------------------------
def amount_problem(
    label: str, value: object, *, positive: bool
) -> tuple[decimal.Decimal | None, str | None]:
    """``value`` (the text typed, read by ``money.parse_amount``, or a number from the
    parts list) as an exact amount with at most two decimals, or the sentence saying
    why not."""
    if isinstance(value, str):
        try:
            return parse_amount(value, label=label, positive=positive), None
        except AmountError as error:
            return None, str(error)
    if isinstance(value, bool):
        return None, f"{label} must be a number."
    if isinstance(value, float):
        amount = decimal.Decimal(repr(value))
    elif isinstance(value, int | decimal.Decimal):
        amount = decimal.Decimal(value)
    else:
        return None, f"{label} must be a number."
    if not amount.is_finite():
        return None, f"{label} must be a number."
    if positive and amount <= 0:
        return None, f"{label} must be more than zero."
    if amount < 0:
        return None, f"{label} cannot be negative."
    if amount > MAX_AMOUNT:
        return None, f"{label} is too large; the most is {MAX_AMOUNT:,}."
    if amount != amount.quantize(CENT):
        return None, f"{label} has more than two decimal places."
    return amount.quantize(CENT), None


def line_total(quantity: decimal.Decimal, unit_price: decimal.Decimal) -> decimal.Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def money(value: decimal.Decimal | float | int) -> str:
    return f"${decimal.Decimal(value):,.2f}"


def quantity_text(value: decimal.Decimal | float | int | str) -> str:
    """``1`` rather than ``1.00``, ``1.5`` rather than ``1.50``."""
    amount = decimal.Decimal(str(value))
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def line_item_errors(
    *, kind: str, description: str, quantity: object, unit_price: object
) -> tuple[dict[str, Any], dict[str, str]]:
    """The line item as stored, and one sentence per field that cannot be."""
    errors: dict[str, str] = {}
    if kind not in {k.value for k in LineItemKind}:
        errors["kind"] = "A line item is labour or material."
    text, problem = checked_text(
        "The description", description, LINE_DESCRIPTION_TEXT, required=True
    )
    if problem:
        errors["description"] = problem
    amount, problem = amount_problem("The quantity", quantity, positive=True)
    if problem:
        errors["quantity"] = problem
    price, problem = amount_problem("The unit price", unit_price, positive=False)
    if problem:
        errors["unit_price"] = problem
    cleaned = {
        "kind": kind,
        "description": text,
        "quantity": amount,
        "unit_price": price,
    }
    return cleaned, errors


# -- time entries ----------------------------------------------------------------------
def time_entry_errors(
    *, started_at: object, ended_at: object, note: object
) -> tuple[tuple[dt.datetime | None, dt.datetime | None], dict[str, str]]:
    """The entry's start and end as datetimes, and one sentence per field that is wrong
    (the note as stored is ``checked_text(…, TIME_NOTE_TEXT)``)."""
    errors: dict[str, str] = {}
    start, problem = moment_problem("The start", started_at)
    if problem:
        errors["started_at"] = problem
    elif start is None:
        errors["started_at"] = "Give the time the work started."
    end, problem = moment_problem("The end", ended_at)
    if problem:
        errors["ended_at"] = problem
    elif end is None:
        errors["ended_at"] = "Give the time the work ended."
    if start is not None and end is not None and not errors:
        length = end.astimezone(dt.UTC) - start.astimezone(dt.UTC)
        if length <= dt.timedelta(0):
            errors["ended_at"] = "The end must be after the start."
        elif length > LONGEST_TIME_ENTRY:
            errors["ended_at"] = (
                f"That is {duration_text(length)}; one entry covers at most 24 hours."
            )
    _text, problem = checked_text("The note", note, TIME_NOTE_TEXT)
    if problem:
        errors["note"] = problem
    return (start, end), errors


def duration_text(span: dt.timedelta) -> str:
    """``1 h 30 min``, ``45 min``, ``26 h``."""
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


# -- photos ----------------------------------------------------------------------------
def size_text(byte_size: int) -> str:
    """``820 KB``, ``15.0 MB`` (binary units, as file managers show them)."""
    if byte_size < 1024:
        return f"{byte_size} bytes"
    if byte_size < 1024 * 1024:
        return f"{byte_size / 1024:.0f} KB"
    return f"{byte_size / (1024 * 1024):.1f} MB"


def photo_size_problem(filename: str, byte_size: int, limit: int) -> str | None:
    if byte_size == 0:
        return f"{filename} is empty (0 bytes); it is not a photo."
    if byte_size > limit:
        shown, most = size_text(byte_size), size_text(limit)
        if shown == most:  # just over: "15.0 MB; at most 15.0 MB" would read as nonsense
            shown, most = f"{byte_size:,} bytes", f"{limit:,} bytes ({most})"
        return (
            f"{filename} is {shown}; a photo can be at most {most}. "
            "Send a smaller copy (most phones can share a reduced size)."
        )
    return None


# -- the audit log, readable -----------------------------------------------------------
_FIELD_WORDS = {
    "description": "description",
    "priority": "priority",
    "status": "status",
    "source": "source",
    "equipment_id": "equipment",
    "requested_start": "requested start",
    "requested_end": "requested end",
    "cancel_reason": "reason",
    "answers": "answers",
    "starts": "start",
    "ends": "end",
    "arrival_window_start": "arrival from",
    "arrival_window_end": "arrival until",
    "quantity": "quantity",
    "unit_price": "unit price",
    "body": "text",
    "caption": "caption",
    "started_at": "start",
    "ended_at": "end",
    "note": "note",
    "is_lead": "lead",
}
# Columns that say nothing to a person reading the log.
_QUIET_FIELDS = {"id", "work_order_id", "visit_id", "part_id", "kind", "sequence", "content_type"}


def _short(text: object, limit: int = 60) -> str:
    value = " ".join(str(text).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _moment(value: object, tz: ZoneInfo) -> str:
    if not isinstance(value, str):
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(tz).strftime("%b %d %H:%M")


def _value(field: str, value: object, tz: ZoneInfo, names: Mapping[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "status" and isinstance(value, str):
        return STATUS_LABELS.get(value, value.replace("_", " "))
    if field in {"unit_price"}:
        return money(decimal.Decimal(str(value)))
    if field == "quantity":
        return quantity_text(str(value))
    if field == "technician_id" and isinstance(value, int):
        return names.get(value, f"#{value}")
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and "T" in value:
        return _moment(value, tz)
    return _short(value, 40)


def audit_line(
    table: str,
    action: str,
    changes: Mapping[str, list[Any]],
    *,
    tz: ZoneInfo,
    technician_names: Mapping[int, str] | None = None,
) -> str:
    """One audit entry as a person reads it: ``Line item added: Capacitor × 1 @ $24.50``."""
    names = technician_names or {}
    noun = TABLES.noun(table)
    row = {field: pair[1] if action != "delete" else pair[0] for field, pair in changes.items()}
    if action in ("insert", "delete"):
        verb = "added" if action == "insert" else "removed"
        if table == "line_items":
            what = (
                f"{_short(row.get('description', ''))} × "
                f"{quantity_text(str(row.get('quantity', 0)))} @ "
                f"{money(decimal.Decimal(str(row.get('unit_price', 0))))}"
            )
        elif table == "notes":
            what = f"“{_short(row.get('body', ''))}”"
        elif table == "photos":
            size = row.get("byte_size")
            what = str(row.get("filename", ""))
            if isinstance(size, int):
                what += f" ({size_text(size)})"
        elif table == "time_entries":
            start, end = row.get("started_at"), row.get("ended_at")
            what = f"{_value('technician_id', row.get('technician_id'), tz, names)}, "
            what += f"{_moment(start, tz)}–{_moment(end, tz)[-5:]}"
        elif table == "visit_technicians":
            noun = "Technician"
            verb = "assigned" if action == "insert" else "unassigned"
            what = _value("technician_id", row.get("technician_id"), tz, names)
        elif table == "work_orders":
            return "Work order created" if action == "insert" else "Work order deleted"
        elif table == "visits":
            what = f"#{row.get('sequence', '')}".rstrip("#")
        else:
            what = ""
        return f"{noun} {verb}: {what}" if what else f"{noun} {verb}"
    parts = []
    for field, (before, after) in changes.items():
        if field in _QUIET_FIELDS:
            continue
        word = _FIELD_WORDS.get(field, field.replace("_", " "))
        if field in {"description", "body", "answers", "note"} and (
            len(str(before or "")) > 40 or len(str(after or "")) > 40
        ):
            parts.append(f"{word} edited")
        else:
            parts.append(
                f"{word} {_value(field, before, tz, names)} → {_value(field, after, tz, names)}"
            )
    detail = "; ".join(parts) or "changed"
    return f"{noun} changed: {detail}"
