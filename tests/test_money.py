"""Amounts are read one way everywhere: US format, grouping commas only where they group
thousands, anything that could be read two ways refused with a sentence."""

from __future__ import annotations

import decimal
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dispatch_app.domain.money import MAX_AMOUNT, AmountError, format_amount, parse_amount

D = decimal.Decimal


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500", D("1500.00")),
        ("1,500", D("1500.00")),
        ("1,500.00", D("1500.00")),
        ("$1,500.00", D("1500.00")),
        ("$ 12.5", D("12.50")),
        ("0.5", D("0.50")),
        (".5", D("0.50")),
        ("5.", D("5.00")),
        ("  7 ", D("7.00")),
        ("1,234,567.89", D("1234567.89")),
        ("99999999.99", MAX_AMOUNT),
    ],
)
def test_amounts_as_people_type_them(typed, amount) -> None:
    parsed = parse_amount(typed)
    assert parsed == amount and parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("1,5", "“1,5” is unclear: use a point for decimals (1.5)"),
        ("1,50", "is unclear"),
        ("15,00", "is unclear"),
        ("0,500", "is unclear"),
        ("1,5000", "is unclear"),
        ("1_000", "“1_000” is unclear: group thousands with commas (1,500) or not at all."),
        ("1 000", "group thousands with commas"),
        ("١٢٣", "must be written with the digits 0–9."),
        ("１２", "must be written with the digits 0–9."),
        ("NaN", "“NaN” is not a number."),
        ("inf", "is not a number"),
        ("1e3", "is not a number"),
        ("0x10", "is not a number"),
        ("-5", "cannot be negative."),
        ("$-5", "cannot be negative."),
        ("1.234", "has more than two decimal places."),
        ("100000000", "is too large; the most is 99,999,999.99."),
        ("", "is empty."),
        (".", "is not a number"),
    ],
)
def test_anything_ambiguous_or_odd_is_refused_with_a_sentence(typed, words) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(typed, label="The unit price")
    sentence = str(refused.value)
    assert sentence.startswith("The unit price ") and sentence.endswith("."), sentence
    assert words in sentence, sentence


def test_a_quantity_must_be_more_than_zero() -> None:
    for typed in ("0", "0.00", "-1"):
        with pytest.raises(AmountError, match="must be more than zero"):
            parse_amount(typed, label="The quantity", positive=True)


CENTS = st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100)).map(
    lambda cents: D(cents).scaleb(-2)
)


@given(CENTS)
@example(D("0.00"))
@example(D("1000.00"))
@example(MAX_AMOUNT)
def test_every_amount_written_back_reads_the_same(amount) -> None:
    for written in (
        format_amount(amount),
        f"{amount:.2f}",
        f"${amount:,.2f}",
        f"{amount:,.2f}".rstrip("0").rstrip("."),
    ):
        assert parse_amount(written) == amount, written


# An independent description of what is accepted: optional $, then plain digits or
# digits grouped by threes, then an optional point and at most two decimals.
US_FORMAT = re.compile(r"\$?\s*([0-9]+|[1-9][0-9]{0,2}(,[0-9]{3})+)?(\.[0-9]{0,2})?")


@given(st.text(alphabet="0123456789,.$ _-eE+١٢٣abc", max_size=16) | st.text(max_size=16))
@example("1,5")
@example("١٢٣")
def test_any_text_is_an_exact_amount_or_a_sentence(typed) -> None:
    try:
        amount = parse_amount(typed)
    except AmountError as refused:
        assert str(refused).endswith("."), str(refused)
    else:
        assert US_FORMAT.fullmatch(typed.strip()), typed
        assert amount.is_finite() and D(0) <= amount <= MAX_AMOUNT
        assert amount.as_tuple().exponent == -2
