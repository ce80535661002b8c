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
    ],
)
def test_a_bad_row_is_named_with_its_number(row: str, said: str) -> None:
    header = "code,name,kind,trade,unit,cost,price,taxable,active\n"
    found = problems(header + row + "\n")
    assert any(said in problem for problem in found), found


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = (
        "code,name,price\nA-1,Good,1\nA-2,Bad price,x\nA-1,Same code again,2\n\nA-3,Also bad,-4\n"
    )
    found = problems(text)
    assert [p.split(":")[0] for p in found] == ["Row 3", "Row 4", "Row 6"]
    assert "the code A-1 is also on row 2" in found[1]


def test_the_header_is_checked_first() -> None:
    assert problems("sku,name,price,colour\n") == [
        "Row 1: unknown column(s) 'sku', 'colour'; the columns are code, name, kind, trade, "
        "unit, cost, price, taxable, active.",
        "Row 1: the column(s) code are missing.",
    ]
    assert problems("") == ["The file is empty; the first row names the columns."]
    assert problems("code,name,price\n") == ["The file has a header but no rows."]


def test_files_that_are_not_csv_text_are_refused_whole() -> None:
    with pytest.raises(PriceBookFileError, match="not UTF-8"):
        read_price_book("code,name,price\nA,Caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(PriceBookFileError, match="NUL bytes"):
        read_price_book(b"code,name,price\nA,B\x00,1\n")
    assert too_big(MOST_BYTES) is None
    assert "50 MB" in (too_big(50 * 1024 * 1024) or "")
