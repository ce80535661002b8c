"""One set of rules for every text a person types: how long it may be, which characters
it may hold, and how it is stored.

Every operation that writes free text checks it here first, so a NUL byte pasted from
an email, a terminal's escape codes or a megabyte pasted by mistake come back as one
sentence beside the field instead of a database error. The database holds the same
lengths as CHECK constraints (``migrations/versions/0005_…``); a NUL it refuses on its
own (PostgreSQL text cannot hold one), so that check is only ever ours.

What is stored is the text as typed, tidied the way a reader expects:

* Windows (CRLF) and old Mac (CR) line endings become ``\\n``;
* Unicode NFC: ``Zoë`` typed with a combining diaeresis is the same ``Zoë`` a search
  for it finds, and is counted as three characters, not four;
* blanks at either end are dropped.

Nothing inside the text is removed silently: a control character in the middle is
refused with its code point, so the person sees exactly what will be stored. Line
breaks and tabs are text in the fields that take several lines; in one-line fields
(names, address lines) they are refused, because a list or a label cannot show them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextRule:
    """How long one kind of field may be, and whether it takes several lines."""

    limit: int
    multiline: bool


# Names, labels, address lines, equipment: one line, as lists and labels show them.
LINE = TextRule(limit=200, multiline=False)
# A file's name as the file system gave it (most allow 255).
FILE_NAME = TextRule(limit=255, multiline=False)
# A sentence or two: cancel reasons, line-item descriptions, photo captions.
SHORT_TEXT = TextRule(limit=500, multiline=True)
# A paragraph: an answer at intake, access notes, a time entry's note.
TEXT = TextRule(limit=2_000, multiline=True)
# Long enough for a pasted email thread; beyond it, a text is a mistake, not a note.
LONG_TEXT = TextRule(limit=100_000, multiline=True)


def clean_text(value: str) -> str:
    """``value`` as it is stored: line endings made ``\\n``, NFC, outer blanks gone."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not _has_surrogate(text):  # NFC of a lone surrogate is refused below, not here
        text = unicodedata.normalize("NFC", text)
    return text.strip()


def text_problem(
    label: str, value: object, rule: TextRule, *, required: bool = False
) -> str | None:
    """Why ``value`` cannot be stored as the text ``label`` names, or ``None``.

    ``label`` starts the sentence: ``"The street"`` gives "The street is empty.".
    The length counted is the stored one (after ``clean_text``).
    """
    if not isinstance(value, str):
        return f"{label} must be text."
    text = clean_text(value)
    if not text:
        return f"{label} is empty." if required else None
    for char in text:
        problem = _character_problem(label, char, rule)
        if problem:
            return problem
    if len(text) > rule.limit:
        return f"{label} is {len(text):,} characters long; the limit is {rule.limit:,}."
    return None


def checked_text(
    label: str, value: object, rule: TextRule, *, required: bool = False
) -> tuple[str, str | None]:
    """The text as stored and ``None``, or ``""`` and the sentence saying why not."""
    problem = text_problem(label, value, rule, required=required)
    if problem is not None or not isinstance(value, str):
        return "", problem
    return clean_text(value), None


def _character_problem(label: str, char: str, rule: TextRule) -> str | None:
    if char == "\x00":
        return f"{label} contains a NUL character; remove it."
    if char == "\n" and not rule.multiline:
        return f"{label} must be one line; remove the line break."
    if char == "\t" and not rule.multiline:
        return f"{label} must be one line; replace the tab with a space."
    category = unicodedata.category(char)
    if category == "Cs":
        # Half of a character pair, which no file or database can hold.
        return f"{label} contains a broken character (U+{ord(char):04X}); type it again."
    if category == "Cc" and char not in "\n\t":
        # Bells and a terminal paste's escapes print as nothing or garble what others read.
        return f"{label} contains an invisible control character (U+{ord(char):04X}); remove it."
    return None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)
