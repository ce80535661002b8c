"""US postal addresses as they are stored: a ZIP code is ``60657`` or ``60657-1234``,
exactly, and a state is its two-letter code.

The database holds the same patterns as CHECK constraints on ``service_sites``, so a
ZIP with something after it (``60657'); D``) is refused whoever writes it. Whether the
ZIP exists is a question for the ZIP list (``services/map_positions.ZIP_CENTROIDS``).
"""

from __future__ import annotations

import re

# ASCII digits only: Python's \d would take Arabic-Indic digits too.
ZIP_PATTERN = r"^[0-9]{5}(-[0-9]{4})?$"
STATE_PATTERN = r"^[A-Z]{2}$"

_ZIP = re.compile(ZIP_PATTERN)


def normalise_zip(text: str) -> str:
    """The ZIP or ZIP+4 as stored (outer blanks dropped), or ``ValueError`` with the
    sentence to show."""
    if not isinstance(text, str):
        raise ValueError("A ZIP code must be text.")
    typed = text.strip()
    if not typed:
        raise ValueError("The ZIP code is empty.")
    if _ZIP.fullmatch(typed) is None:
        shown = typed if len(typed) <= 12 else typed[:11] + "…"
        raise ValueError(f"“{shown}” is not a ZIP code: type five digits, or ZIP+4 (60657-1234).")
    return typed


def normalise_state(text: str) -> str:
    """The state's two-letter code in capitals, or ``ValueError`` with a sentence."""
    state = text.strip().upper() if isinstance(text, str) else ""
    if len(state) != 2 or not state.isascii() or not state.isalpha():
        raise ValueError("The state is its two-letter code, e.g. IL.")
    return state
