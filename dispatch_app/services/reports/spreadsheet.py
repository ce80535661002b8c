"""A report's table as a CSV file a spreadsheet opens as it is: UTF-8 with the byte
order mark Excel looks for, the header row, the rows, the totals line.

Money is a plain number (``1234.50``) a spreadsheet can add up, a share is its number
of percent, a day ISO (``2026-11-30``), nothing is an empty cell. A text cell that a
spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return: a customer's cancel reason is anybody's text) is written with a
leading apostrophe, so it stays text.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

from dispatch_app.domain.reports import Cell, CellKind, ReportResult

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def csv_cell(value: Cell, kind: CellKind) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    number = decimal.Decimal(value)
    if kind is CellKind.MONEY:
        return f"{number.quantize(decimal.Decimal('0.01')):f}"
    return f"{number:f}"


def report_csv(result: ReportResult) -> bytes:
    """The report's table as CSV bytes (header, rows, totals line if any)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    kinds = [column.kind for column in result.columns]
    writer.writerow([_text(column.title) for column in result.columns])
    for row in result.rows:
        writer.writerow([csv_cell(cell, kind) for cell, kind in zip(row.cells, kinds, strict=True)])
    if result.totals is not None:
        writer.writerow(
            [csv_cell(cell, kind) for cell, kind in zip(result.totals, kinds, strict=True)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
