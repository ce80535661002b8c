"""Phone numbers as callers say them, stored one way: E.164 (``+13125550142``).

A CSR types whatever the caller reads out — ``(312) 555-0142``, ``312.555.0142``,
``1-312-555-0142 ext 7``, ``+44 20 7946 0958`` — and the lookup must find the same
customer every time. North American numbers are checked against the numbering plan
(area code and exchange cannot start with 0 or 1); others are taken as given after
their country code, within E.164's 15 digits.
"""

from __future__ import annotations

import re

# What people put between digits; anything else (letters, emoji) is a typo, not a number.
_SEPARATORS = re.compile(r"[\s().\-/\u00a0\u2010-\u2015]")
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)


def normalise_phone(text: str) -> str:
    """The number in E.164, or ``ValueError`` with a sentence saying what is wrong.

    Numbers without a ``+`` are North American (10 digits, or 11 starting with 1); an
    extension at the end is dropped, since it reaches the same line.
    """
    if not isinstance(text, str):
        raise ValueError("A phone number must be text.")
    raw = _EXTENSION.sub("", text.strip())
    if not raw:
        raise ValueError("The phone number is empty.")
    international = raw.startswith("+") or raw.startswith("00")
    body = raw[1:] if raw.startswith("+") else raw[2:] if raw.startswith("00") else raw
    digits = _SEPARATORS.sub("", body)
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(
            f"{text.strip()[:40]!r} is not a phone number: use digits, spaces, dashes, "
            "dots or brackets."
        )
    if international:
        if digits.startswith("1"):
            return _north_american(digits[1:], text)
        if not 8 <= len(digits) <= 15:
            raise ValueError(
                f"{text.strip()[:40]!r} has {len(digits)} digits after the country code "
                "prefix; an international number has 8 to 15."
            )
        if digits.startswith("0"):
            raise ValueError("A country code never starts with 0.")
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return _north_american(digits, text)


def _north_american(digits: str, text: str) -> str:
    if len(digits) != 10:
        raise ValueError(
            f"{text.strip()[:40]!r} has {len(digits)} digits; a US or Canadian number has 10 "
            "(area code and number). Start an international number with +."
        )
    if digits[0] in "01":
        raise ValueError(f"Area code {digits[:3]} does not exist: it cannot start with 0 or 1.")
    if digits[3] in "01":
        raise ValueError(f"The exchange {digits[3:6]} does not exist: it cannot start with 0 or 1.")
    return "+1" + digits


def display_phone(e164: str) -> str:
    """How a stored number is shown: ``(312) 555-0142`` at home, as stored otherwise."""
    if e164.startswith("+1") and len(e164) == 12:
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    return e164
