"""Amounts as people type them — prices, rates, quantities — read one way everywhere.

The format is the one the company's invoices use (US): a point before the decimals,
commas only to group thousands, ``$`` in front if you like. ``1500``, ``1,500``,
``1,500.00``, ``$1,500.00``, ``0.5`` and ``.5`` are all fine. Anything that could be
read two ways is refused with a sentence rather than guessed: ``1,5`` is one and a half
to half the world and fifteen to the other half, ``15,00`` is fifteen with European
decimals, ``1_000`` is a programmer's thousand. Digits are ASCII 0–9 only, so an
amount never changes value on its way through another program.
"""

from __future__ import annotations

import decimal
import re

CENT = decimal.Decimal("0.01")
# numeric(10, 2): eight digits before the point.
MAX_AMOUNT = decimal.Decimal("99999999.99")

# Whole part: plain digits, or 1–3 digits then groups of exactly three after commas.
_AMOUNT = re.compile(r"(?P<whole>[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)?(?:\.(?P<fraction>[0-9]*))?")


class AmountError(ValueError):
    """Text that is not an amount; ``str(error)`` is the sentence to show."""


def parse_amount(
    text: str,
    *,
    label: str = "The amount",
    places: int = 2,
    positive: bool = False,
    most: decimal.Decimal = MAX_AMOUNT,
) -> decimal.Decimal:
    """The amount ``text`` stands for, with exactly ``places`` decimals.

    Raises ``AmountError`` with a sentence that starts with ``label`` when the text is
    empty, not an amount, ambiguous, negative (or zero when ``positive``), above
    ``most``, or has more than ``places`` decimals.
    """
    if not isinstance(text, str):
        raise AmountError(f"{label} must be a number.")
    typed = text.strip()
    shown = typed if len(typed) <= 20 else typed[:19] + "…"
    if not typed:
        raise AmountError(f"{label} is empty.")
    body = typed[1:].lstrip() if typed.startswith("$") else typed
    if body.startswith("-") or body.startswith("−"):
        raise AmountError(
            f"{label} must be more than zero." if positive else f"{label} cannot be negative."
        )
    match = _AMOUNT.fullmatch(body)
    if match is None or not (match["whole"] or match["fraction"]):
        raise AmountError(_not_an_amount(label, shown, body))
    whole = (match["whole"] or "0").replace(",", "")
    fraction = match["fraction"] or ""
    if len(fraction) > places:
        if places == 0:
            raise AmountError(f"{label} must be a whole number.")
        raise AmountError(f"{label} has more than {_places(places)}.")
    amount = decimal.Decimal(f"{whole}.{fraction or '0'}").quantize(
        decimal.Decimal(1).scaleb(-places)
    )
    if positive and amount == 0:
        raise AmountError(f"{label} must be more than zero.")
    if amount > most:
        raise AmountError(f"{label} is too large; the most is {most:,}.")
    return amount


def format_amount(amount: decimal.Decimal, *, places: int = 2) -> str:
    """``1,500.00``: how an amount is written back, which ``parse_amount`` reads again."""
    return f"{amount:,.{places}f}"


def _not_an_amount(label: str, shown: str, body: str) -> str:
    if "," in body and re.fullmatch(r"[0-9,]*(\.[0-9]*)?", body):
        # Commas, but not every three digits: a European decimal comma, or a slip.
        return (
            f"{label} “{shown}” is unclear: use a point for decimals (1.5) and commas only "
            "between thousands (1,500)."
        )
    if re.fullmatch(r"[0-9][0-9 _'’]*[0-9](\.[0-9]*)?", body):
        # 1_000, 1 000, 1'000: thousands grouped another way.
        return f"{label} “{shown}” is unclear: group thousands with commas (1,500) or not at all."
    if any(char.isdigit() and not char.isascii() for char in body):
        return f"{label} “{shown}” must be written with the digits 0–9."
    return f"{label} “{shown}” is not a number."


def _places(places: int) -> str:
    return "one decimal place" if places == 1 else f"{_WORDS.get(places, places)} decimal places"


_WORDS = {2: "two", 3: "three", 4: "four"}
