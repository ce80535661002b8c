"""The price book as a CSV file, for a company moving from another tool (and back).

Columns, in any order, header names in any case: ``code``, ``name``, ``price`` (all
three required), ``kind`` (part or service; default part), ``trade`` (hvac, plumbing,
electrical, roofing; blank: every trade), ``unit`` (default each), ``cost`` (default 0),
``taxable`` and ``active`` (yes/no, true/false, 1/0, y/n; default yes).

The whole file is checked before anything is written, and every problem is reported
with its row number as a spreadsheet shows it (the header is row 1). Amounts are read
as everywhere else (``money.parse_amount``: ``1,500.00`` yes, ``1,5`` no). A file from
Excel (UTF-8 with a byte-order mark, CRLF line endings) reads as any other.
"""

from __future__ import annotations

import csv
import decimal
import io
from collections.abc import Iterable
from dataclasses import dataclass

from dispatch_app.domain.csv_records import csv_records
from dispatch_app.domain.money import AmountError, parse_amount
from dispatch_app.domain.text_rules import LINE, TextRule, checked_text, clean_text
from dispatch_app.domain.vocabulary import PartKind, Trade

HEADER = ("code", "name", "kind", "trade", "unit", "cost", "price", "taxable", "active")
REQUIRED = ("code", "name", "price")
# Far above any real price book (a 20,000-part book is about 2 MB); a bigger file is a
# wrong file, refused before it is read.
MOST_BYTES = 20 * 1024 * 1024
MOST_ROWS = 100_000
CODE = TextRule(limit=40, multiline=False)
UNIT = TextRule(limit=20, multiline=False)
YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True, slots=True)
class PriceBookRow:
    code: str
    name: str
    kind: str
    trade: str | None
    unit: str
    cost: decimal.Decimal
    price: decimal.Decimal
    taxable: bool
    active: bool


class PriceBookFileError(ValueError):
    """The file cannot be imported; ``problems`` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def too_big(size: int) -> str | None:
    """Why a file of ``size`` bytes is not read at all, or None."""
    if size > MOST_BYTES:
        return (
            f"The file is {size / 1024 / 1024:,.0f} MB; a price book is at most "
            f"{MOST_BYTES // 1024 // 1024} MB. Is it the right file?"
        )
    return None


def read_price_book(data: bytes) -> list[PriceBookRow]:
    """Every row of the file, or ``PriceBookFileError`` with every problem in it."""
    return read_price_book_columns(data)[0]


def read_price_book_columns(data: bytes) -> tuple[list[PriceBookRow], frozenset[str]]:
    """The rows and the columns the file has: a column it leaves out is not changed on
    parts already in the book (a file of codes and prices changes prices only)."""
    problem = too_big(len(data))
    if problem:
        raise PriceBookFileError([problem])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PriceBookFileError(
            ["The file is not UTF-8 text; save it from the spreadsheet as CSV UTF-8."]
        ) from None
    if "\x00" in text:
        raise PriceBookFileError(["The file holds NUL bytes: it is not a CSV text file."])
    records, unreadable = _records(text)
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()  # blank lines at the end
    if not records:
        raise PriceBookFileError(
            [unreadable or "The file is empty; the first row names the columns."]
        )
    header = [cell.strip().lower() for cell in records[0]]
    problems = _header_problems(header)
    if problems:
        raise PriceBookFileError(problems)
    if len(records) - 1 > MOST_ROWS:
        raise PriceBookFileError([f"The file has more than {MOST_ROWS:,} rows."])
    rows: list[PriceBookRow] = []
    # The book's key is the code exactly as stored, so a file may hold CAP-1 and cap-1
    # as the book may: an export of any book imports again.
    seen: dict[str, int] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line between rows
        if len(record) != len(header):
            problems.append(
                f"Row {number}: {len(record)} fields where the header has {len(header)}."
            )
            continue
        cells = dict(zip(header, record, strict=True))
        row, row_problems = _row(number, cells)
        problems.extend(row_problems)
        code = clean_text(cells["code"])
        first = seen.setdefault(code, number) if code else number
        if first != number:
            problems.append(
                f"Row {number}: the code {code} is also on row {first}; codes are unique."
            )
        elif row is not None:
            rows.append(row)
    if unreadable:
        problems.append(unreadable)
    if problems:
        raise PriceBookFileError(problems)
    if not rows:
        raise PriceBookFileError(["The file has a header but no rows."])
    return rows, frozenset(header)


def _records(text: str) -> tuple[list[list[str]], str | None]:
    """The file's rows as lists of fields, up to the first one that cannot be read as
    CSV, and the sentence about that one (None when every row reads)."""
    return csv_records(text)


def _header_problems(header: list[str]) -> list[str]:
    # Spreadsheets set to a decimal comma save "CSV" with semicolons; others save tabs.
    for mark, called in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) == 1 and mark in header[0]:
            return [
                f"Row 1: the columns are separated by {called}; save the file as "
                '"CSV UTF-8 (comma delimited)".'
            ]
    unnamed = [str(place) for place, name in enumerate(header, start=1) if not name]
    unknown = [name for name in header if name and name not in HEADER]
    missing = [name for name in REQUIRED if name not in header]
    doubled = sorted({name for name in header if name and header.count(name) > 1})
    problems = []
    if unknown:
        problems.append(
            f"Row 1: unknown column(s) {', '.join(repr(n) for n in unknown)}; the columns "
            f"are {', '.join(HEADER)}."
        )
    if len(unnamed) == 1:
        problems.append(f"Row 1: column {unnamed[0]} has no name; name it or delete it.")
    elif unnamed:
        problems.append(
            f"Row 1: columns {', '.join(unnamed)} have no name; name them or delete them."
        )
    if missing:
        problems.append(f"Row 1: the column(s) {', '.join(missing)} are missing.")
    if doubled:
        problems.append(f"Row 1: the column(s) {', '.join(doubled)} appear twice.")
    return problems


def _row(number: int, cells: dict[str, str]) -> tuple[PriceBookRow | None, list[str]]:
    problems: list[str] = []
    at = f"Row {number}:"

    def text(column: str, rule: TextRule, default: str = "", *, required: bool = False) -> str:
        value = cells.get(column, default)
        cleaned, problem = checked_text(f"{at} the {column}", value, rule, required=required)
        if problem:
            problems.append(problem)
        return cleaned or default

    def amount(column: str, default: str) -> decimal.Decimal:
        value = cells.get(column, "").strip() or default
        try:
            return parse_amount(value, label=f"{at} the {column}")
        except AmountError as error:
            problems.append(str(error))
            return decimal.Decimal(0)

    def flag(column: str) -> bool:
        value = cells.get(column, "").strip().lower()
        if not value or value in YES:
            return True
        if value in NO:
            return False
        problems.append(f"{at} {column} is {value[:20]!r}; write yes or no.")
        return True

    code = text("code", CODE, required=True)
    name = text("name", LINE, required=True)
    unit = text("unit", UNIT, "each")
    kind = cells.get("kind", "").strip().lower() or PartKind.PART.value
    if kind not in {k.value for k in PartKind}:
        problems.append(f"{at} the kind is {kind[:20]!r}; write part or service.")
    trade = cells.get("trade", "").strip().lower() or None
    if trade is not None and trade not in {t.value for t in Trade}:
        problems.append(
            f"{at} the trade is {trade[:20]!r}; write {', '.join(t.value for t in Trade)}, "
            "or leave it blank for every trade."
        )
    if "price" in cells and not cells["price"].strip():
        problems.append(f"{at} the price is empty.")
    price = amount("price", "0")
    cost = amount("cost", "0")
    taxable, active = flag("taxable"), flag("active")
    if problems:
        return None, problems
    return PriceBookRow(code, name, kind, trade, unit, cost, price, taxable, active), []


def write_price_book(rows: Iterable[PriceBookRow]) -> bytes:
    """The rows as a CSV file that ``read_price_book`` reads back exactly (UTF-8 with a
    byte-order mark, so Excel opens accented names right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            (
                row.code,
                row.name,
                row.kind,
                row.trade or "",
                row.unit,
                f"{row.cost:.2f}",
                f"{row.price:.2f}",
                "yes" if row.taxable else "no",
                "yes" if row.active else "no",
            )
        )
    return out.getvalue().encode("utf-8-sig")
