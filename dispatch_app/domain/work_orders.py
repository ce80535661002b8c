"""Rules for the fields of a work order that a person types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dispatch_app.domain import time_bounds
from dispatch_app.domain.ids import is_row_id
from dispatch_app.domain.text_rules import LINE, LONG_TEXT, TEXT, checked_text
from dispatch_app.domain.vocabulary import Priority, WorkOrderSource

# Long enough for a pasted email thread; beyond it, a text is a mistake, not a note.
MAX_DESCRIPTION_CHARS = LONG_TEXT.limit

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
    # A requested arrival in 2062 for 2026 is a typing slip, not a plan.
    problem = time_bounds.moment_problem(label, value)
    if problem:
        return None, problem
    return value, None


def clean_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields as they are stored (texts parsed into datetimes), and one sentence per
    field that cannot be saved as typed (empty when all is well)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(EDITABLE_FIELDS)):
        errors[name] = f"The field {name} cannot be edited here."
    if "description" in fields:
        text, problem = checked_text("The description", fields["description"], LONG_TEXT)
        if problem:
            errors["description"] = problem
        cleaned["description"] = text
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


# -- the answers given at intake -------------------------------------------------------
# A job type asks a handful of questions; fifty answers, or twenty thousand characters
# of them, is a paste gone wrong. (The database's ceiling on the stored JSON is roomier,
# so what passes here always fits there.)
MAX_ANSWERS = 50
MAX_ANSWERS_CHARS = 20_000


def clean_answers(
    answers: Mapping[str, str],
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The answers given (blank ones left out) as stored, ``(question, answer)`` in
    order, and one sentence per field that cannot be stored (``answer:<question>``, or
    ``answers`` for all of them together)."""
    stored: list[tuple[str, str]] = []
    errors: dict[str, str] = {}
    for question, answer in answers.items():
        field = f"answer:{question}"
        if isinstance(answer, str) and not answer.strip():
            continue
        prompt, problem = checked_text("The question", question, LINE, required=True)
        if problem is None:
            text, problem = checked_text(f"The answer to “{prompt}”", answer, TEXT)
        if problem:
            errors[field] = problem
        else:
            stored.append((prompt, text))
    if len(stored) > MAX_ANSWERS:
        errors["answers"] = f"{len(stored)} answers were given; a call takes at most {MAX_ANSWERS}."
    total = sum(len(q) + len(a) for q, a in stored)
    if total > MAX_ANSWERS_CHARS:
        errors["answers"] = (
            f"The answers are {total:,} characters long together; "
            f"the limit is {MAX_ANSWERS_CHARS:,}."
        )
    return stored, errors


def description_with_answers(description: str, answers: list[tuple[str, str]]) -> str:
    """What the technician reads: the problem, then the answers given at intake."""
    if not answers:
        return description
    return description + "\n\n" + "\n".join(f"{q}: {a}" for q, a in answers)
