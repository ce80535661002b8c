"""Rules for the fields of a work order that a person types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch_app.domain.vocabulary import Priority

# Long enough for a pasted email thread; beyond it, a text is a mistake, not a note.
MAX_DESCRIPTION_CHARS = 100_000

EDITABLE_FIELDS = ("description", "priority")


def field_errors(fields: Mapping[str, Any]) -> dict[str, str]:
    """One sentence per field that cannot be saved as typed; empty when all is well."""
    errors: dict[str, str] = {}
    unknown = set(fields) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        errors[name] = f"{name} cannot be edited here."
    if "description" in fields:
        description = fields["description"]
        if not isinstance(description, str):
            errors["description"] = "The description must be text."
        elif "\x00" in description:
            errors["description"] = "The description contains a NUL character; remove it."
        elif len(description) > MAX_DESCRIPTION_CHARS:
            errors["description"] = (
                f"The description is {len(description):,} characters long; the limit is "
                f"{MAX_DESCRIPTION_CHARS:,}."
            )
    if "priority" in fields and fields["priority"] not in {p.value for p in Priority}:
        errors["priority"] = "Priority must be normal, urgent or emergency."
    return errors
