"""Phone numbers: every way a caller says one is stored the same way, and nonsense is
refused with a sentence."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch_app.domain.phones import display_phone, normalise_phone

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # the database's own CHECK on customer_phones


@pytest.mark.parametrize(
    "typed",
    [
        "(312) 555-0142",
        "312-555-0142",
        "312.555.0142",
        "3125550142",
        "1 312 555 0142",
        "+1 (312) 555-0142",
        "001 312 555 0142",
        "312 555 0142 ext. 7",
        "312-555-0142 x12",
        "  312\u00a0555\u20110142  ",
    ],
)
def test_every_way_of_saying_a_chicago_number_is_one_number(typed):
    assert normalise_phone(typed) == "+13125550142"


def test_international_numbers_keep_their_country_code():
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("0044 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "empty"),
        ("555-0142", "7 digits"),
        ("312-555-01423", "11 digits"),
        ("(012) 555-0142", "Area code 012"),
        ("(312) 155-0142", "exchange 155"),
        ("call me maybe", "not a phone number"),
        ("312-555-0142 📞", "not a phone number"),
        ("٣١٢٥٥٥٠١٤٢", "not a phone number"),  # Arabic-Indic digits: not what we dial
        ("+0 20 7946 0958", "never starts with 0"),
        ("+44 1234567890123456", "8 to 15"),
        ("312\x00555\x000142", "not a phone number"),
    ],
)
def test_impossible_numbers_are_refused_with_a_reason(typed, words):
    with pytest.raises(ValueError, match=words):
        normalise_phone(typed)


@given(st.text(max_size=40))
def test_anything_typed_is_either_refused_or_a_storable_number(typed):
    try:
        number = normalise_phone(typed)
    except ValueError as error:
        assert str(error).endswith(".")
    else:
        assert E164.match(number)
        assert normalise_phone(number) == number  # stored numbers read back unchanged


@given(
    st.integers(2, 9),
    st.integers(0, 99),
    st.integers(2, 9),
    st.integers(0, 99),
    st.integers(0, 9999),
)
def test_shown_numbers_read_back_as_themselves(a, b, c, d, e):
    number = f"+1{a}{b:02d}{c}{d:02d}{e:04d}"
    assert normalise_phone(display_phone(number)) == number
