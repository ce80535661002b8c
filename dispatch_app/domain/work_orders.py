"""Rules for the fields of a work order that a person types."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any

from dispatch_app.domain.ids import is_row_id
from dispatch_app.domain.vocabulary import Priority, WorkOrderSource

# Long enough for a pasted email thread; beyond it, a text is a mistake, not a note.
MAX_DESCRIPTION_CHARS = 100_000
# A requested arrival outside these years is a typing slip (2062 for 2026), not a plan.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2099

EDITABLE_FIELDS = (
    "description",
    "priority",
    "source",
    "equipment_id",
    "requested_start",
    "requested_end",
)

# How each field is named in a sentence.
FIELD_LABELS = {
    "description": "The description",
    "priority": "The priority",
    "source": "The source",
    "equipment_id": "The equipment",
    "requested_start": "The requested start",
    "requested_end": "The requested end",
}


def text_problem(label: str, value: object, *, limit: int, required: bool = False) -> str | None:
    """Why ``value`` cannot be stored as the text ``label`` names, or ``None``.

    Line breaks and tabs are text; NUL, other control characters (a terminal paste's
    escapes, a bell) and lone surrogates are not — they print as nothing, garble what
    others read, or cannot be stored as UTF-8 at all.
    """
    if not isinstance(value, str):
        return f"{label} must be text."
    if required and not value.strip():
        return f"{label} is empty."
    if "\x00" in value:
        return f"{label} contains a NUL character; remove it."
    for char in value:
        if char not in "\n\r\t" and unicodedata.category(char) in ("Cc", "Cs"):
            return (
                f"{label} contains an invisible control character (U+{ord(char):04X}); remove it."
            )
    if len(value) > limit:
        return f"{label} is {len(value):,} characters long; the limit is {limit:,}."
    return None


def moment_problem(label: str, value: object) -> tuple[dt.datetime | None, str | None]:
    """``value`` (a zoned datetime, an ISO 8601 text, or ``None``) as a datetime, or the
    sentence saying why it is not a usable moment."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        typed = value
        try:
            value = dt.datetime.fromisoformat(typed.strip())
        except ValueError:
            return None, f"{label} “{typed[:40]}” is not a real date and time."
    if not isinstance(value, dt.datetime):
        return None, f"{label} must be a date and time."
    if value.tzinfo is None or value.utcoffset() is None:
        return None, f"{label} must carry a time zone."
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return (
            None,
            f"{label} is in {value.year}; give a date between {EARLIEST_YEAR} and {LATEST_YEAR}.",
        )
    return value, None


def clean_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields as they are stored (texts parsed into datetimes), and one sentence per
    field that cannot be saved as typed (empty when all is well)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(EDITABLE_FIELDS)):
        errors[name] = f"The field {name} cannot be edited here."
    if "description" in fields:
        problem = text_problem(
            "The description", fields["description"], limit=MAX_DESCRIPTION_CHARS
        )
        if problem:
            errors["description"] = problem
        cleaned["description"] = fields["description"]
    if "priority" in fields:
        if fields["priority"] not in {p.value for p in Priority}:
            errors["priority"] = "Priority must be normal, urgent or emergency."
        cleaned["priority"] = fields["priority"]
    if "source" in fields:
        if fields["source"] not in {s.value for s in WorkOrderSource}:
            errors["source"] = "The source must be phone, web, referral, repeat or lead."
        cleaned["source"] = fields["source"]
    if "equipment_id" in fields:
        equipment = fields["equipment_id"]
        if equipment is not None and not is_row_id(equipment):
            errors["equipment_id"] = "Choose the equipment from the site's list."
        cleaned["equipment_id"] = equipment
    for name in ("requested_start", "requested_end"):
        if name in fields:
            moment, problem = moment_problem(FIELD_LABELS[name], fields[name])
            if problem:
                errors[name] = problem
            cleaned[name] = moment
    start, end = cleaned.get("requested_start"), cleaned.get("requested_end")
    if (
        "requested_start" in fields
        and "requested_end" in fields
        and not errors.keys()
        & {
            "requested_start",
            "requested_end",
        }
    ):
        if (start is None) != (end is None):
            errors["requested_end" if end is None else "requested_start"] = (
                "Give both ends of the requested window, or neither."
            )
        elif start is not None and end is not None and end <= start:
            errors["requested_end"] = "The requested window must end after it starts."
    return cleaned, errors


def field_errors(fields: Mapping[str, Any]) -> dict[str, str]:
    """One sentence per field that cannot be saved as typed; empty when all is well."""
    return clean_fields(fields)[1]
