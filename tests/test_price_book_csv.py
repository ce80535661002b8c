"""Reading a price book from CSV: every bad row reported by its number, nothing guessed."""

from __future__ import annotations

import decimal

import pytest

from dispatch_app.domain.price_book_csv import (
    MOST_BYTES,
    PriceBookFileError,
    PriceBookRow,
    read_price_book,
    too_big,
    write_price_book,
)

D = decimal.Decimal
GOOD = (
    "code,name,kind,trade,unit,cost,price,taxable,active\r\n"
    'CAP-455,"Run capacitor 45/5 µF, 440 V",part,hvac,each,9.50,38.00,yes,yes\r\n'
    "SVC-DIAG,Diagnostic fee,service,,each,0,89,no,yes\r\n"
    'PEX-34,Détendeur 3/4″ — PEX-A,part,plumbing,ft,0.80,"1,800.00",Y,0\r\n'
)


def problems(text: str) -> list[str]:
    with pytest.raises(PriceBookFileError) as refused:
        read_price_book(text.encode())
    return refused.value.problems


def test_a_good_file_with_excels_byte_order_mark_reads_exactly() -> None:
    rows = read_price_book(b"\xef\xbb\xbf" + GOOD.encode())
    assert rows[0] == PriceBookRow(
        "CAP-455",
        "Run capacitor 45/5 µF, 440 V",
        "part",
        "hvac",
        "each",
        D("9.50"),
        D("38.00"),
        True,
        True,
    )
    assert rows[1].trade is None and rows[1].kind == "service" and rows[1].taxable is False
    assert rows[2].name == "Détendeur 3/4″ — PEX-A"
    assert (rows[2].price, rows[2].active) == (D("1800.00"), False)


def test_only_code_name_and_price_are_needed_and_headers_take_any_case() -> None:
    (row,) = read_price_book(b"Price,CODE,Name\n12.5,FLP-UNI,Toilet flapper\n")
    assert row == PriceBookRow(
        "FLP-UNI", "Toilet flapper", "part", None, "each", D("0.00"), D("12.50"), True, True
    )


def test_export_then_import_gives_the_same_rows() -> None:
    rows = read_price_book(GOOD.encode())
    assert read_price_book(write_price_book(rows)) == rows


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("CAP-1,Capacitor,part,hvac,each,1,12,5,yes,yes", "Row 2: 10 fields where the header"),
        ("CAP-1,Capacitor,part,hvac,each,1,twelve,yes,yes", "Row 2: the price"),
        ('CAP-1,Capacitor,part,hvac,each,1,"1,5",yes,yes', "Row 2: the price"),
        ("CAP-1,Capacitor,part,hvac,each,1,-12,yes,yes", "Row 2: the price cannot be negative."),
        ("CAP-1,Capacitor,part,hvac,each,-1,12,yes,yes", "Row 2: the cost cannot be negative."),
        ("CAP-1,Capacitor,gadget,hvac,each,1,12,yes,yes", "Row 2: the kind is 'gadget'"),
        ("CAP-1,Capacitor,part,hvak,each,1,12,yes,yes", "Row 2: the trade is 'hvak'"),
        ("CAP-1,Capacitor,part,hvac,each,1,12,maybe,yes", "Row 2: taxable is 'maybe'"),
        (",Capacitor,part,hvac,each,1,12,yes,yes", "Row 2: the code is empty."),
        ("CAP-1,,part,hvac,each,1,12,yes,yes", "Row 2: the name is empty."),
        ("CAP-1,Capacitor,part,hvac,each,1,,yes,yes", "Row 2: the price is empty."),
        ("CAP-1,Cap\x07acitor,part,hvac,each,1,12,yes,yes", "invisible control character"),
        ("C" * 41 + ",Capacitor,part,hvac,each,1,12,yes,yes", "the limit is 40"),
        ("CAP-1," + "N" * 201 + ",part,hvac,each,1,12,yes,yes", "the limit is 200"),
        ("CAP-1,Capacitor,part,hvac," + "U" * 21 + ",1,12,yes,yes", "the limit is 20."),
        ('CAP-1,"Capa\ncitor",part,hvac,each,1,12,yes,yes', "Row 2: the name must be one line"),
        ("CAP-1,Capacitor,part,hvac,each,1,12.505,yes,yes", "more than two decimal places"),
        ("CAP-1,Capacitor,part,hvac,each,1,100000000,yes,yes", "Row 2: the price is too large"),
        ('CAP-1,"Capacitor,part,hvac,each,1,12,yes,yes', 'Row 2: a quote (") opens a field'),
        ('CAP-1,"Capacitor" 45/5,part,hvac,each,1,12,yes,yes', "Row 2: text follows a field's"),
        ("CAP-1," + "N" * 200_000 + ",part,hvac,each,1,12,yes,yes", "a field is over 131,072"),
    ],
)
def test_a_bad_row_is_named_with_its_number(row: str, said: str) -> None:
    header = "code,name,kind,trade,unit,cost,price,taxable,active\n"
    found = problems(header + row + "\n")
    assert any(said in problem for problem in found), found


@pytest.mark.parametrize(
    ("typed", "means"),
    [
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("true", True),
        ("1", True),
        ("", True),
        ("no", False),
        ("N", False),
        ("False", False),
        ("0", False),
    ],
)
def test_yes_and_no_are_read_as_spreadsheets_write_them(typed: str, means: bool) -> None:
    (row,) = read_price_book(
        f"code,name,price,taxable,active\nA-1,Part,1,{typed},{typed}\n".encode()
    )
    assert (row.taxable, row.active) == (means, means)


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = (
        "code,name,price\nA-1,Good,1\nA-2,Bad price,x\nA-1,Same code again,2\n\nA-3,Also bad,-4\n"
    )
    found = problems(text)
    assert [p.split(":")[0] for p in found] == ["Row 3", "Row 4", "Row 6"]
    assert "the code A-1 is also on row 2" in found[1]


def test_a_duplicate_is_named_even_when_its_first_row_is_bad_too() -> None:
    found = problems("code,name,price\nA-1,First,x\nA-2,Fine,1\n A-1 ,Again,2\n")
    assert found == [
        "Row 2: the price “x” is not a number.",
        "Row 4: the code A-1 is also on row 2; codes are unique.",
    ]


def test_codes_that_differ_only_in_case_are_two_parts_as_in_the_book() -> None:
    rows = read_price_book(b"code,name,price\nfl-1,Filter (old code),1\nFL-1,Filter,1\n")
    assert [row.code for row in rows] == ["fl-1", "FL-1"]
    assert read_price_book(write_price_book(rows)) == rows


def test_a_broken_row_stops_the_reading_but_earlier_problems_are_still_said() -> None:
    found = problems('code,name,price\nA-1,Good,1\nA-2,Bad,-1\nA-3,"Never closed,1\nA-4,B,2\n')
    assert found == [
        "Row 3: the price cannot be negative.",
        'Row 4: a quote (") opens a field that is never closed.',
    ]


def test_the_header_is_checked_first() -> None:
    assert problems("sku,name,price,colour\n") == [
        "Row 1: unknown column(s) 'sku', 'colour'; the columns are code, name, kind, trade, "
        "unit, cost, price, taxable, active.",
        "Row 1: the column(s) code are missing.",
    ]
    assert problems("") == ["The file is empty; the first row names the columns."]
    assert problems("code,name,price\n") == ["The file has a header but no rows."]
    assert problems("code,name,,price,\nA-1,Part,,1,\n") == [
        "Row 1: columns 3, 5 have no name; name them or delete them."
    ]
    assert problems("Code,Name,Code,Price\n") == ["Row 1: the column(s) code appear twice."]
    assert problems("code;name;price\nA-1;Part;1\n") == [
        "Row 1: the columns are separated by semicolons; save the file as "
        '"CSV UTF-8 (comma delimited)".'
    ]
    assert problems("code\tname\tprice\nA-1\tPart\t1\n")[0].startswith(
        "Row 1: the columns are separated by tabs;"
    )


def test_files_that_are_not_csv_text_are_refused_whole() -> None:
    with pytest.raises(PriceBookFileError, match="not UTF-8"):
        read_price_book("code,name,price\nA,Caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(PriceBookFileError, match="NUL bytes"):
        read_price_book(b"code,name,price\nA,B\x00,1\n")
    assert too_big(MOST_BYTES) is None
    assert "50 MB" in (too_big(50 * 1024 * 1024) or "")
