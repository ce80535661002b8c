"""How a report's figures are written, on screen, on the chart's axis and in the PDF:
money as $1,234.50, a share as 93.5 %, hours and days to a tenth, a figure with nothing
to count as "—". No Qt here."""

from __future__ import annotations

import datetime as dt
import decimal

from dispatch_app.domain.reports import Cell, CellKind

DASH = "—"  # nothing to count (a share of no jobs), or no value


def numeric(kind: CellKind) -> bool:
    """Written on the right of a column, where digits line up: every kind but words and
    dates."""
    return kind not in (CellKind.TEXT, CellKind.DATE)


def cell_text(value: Cell, kind: CellKind) -> str:
    if value is None or value == "":
        return DASH
    if kind is CellKind.TEXT or isinstance(value, str):
        return str(value)
    if isinstance(value, dt.date):
        return date_text(value)
    number = decimal.Decimal(value)
    if kind is CellKind.MONEY:
        return money_text(number)
    if kind is CellKind.PERCENT:
        return f"{number:.1f} %"
    if kind is CellKind.HOURS:
        return f"{number:,.1f} h"
    if kind is CellKind.DAYS:
        return f"{number:,.1f} days" if number != 1 else "1.0 day"
    if kind is CellKind.COUNT:
        return f"{number:,.0f}"
    return f"{number:,.1f}"  # a number with no unit (jobs per working day)


def money_text(number: decimal.Decimal) -> str:
    """$1,234.50, and -$80.00 for money going back."""
    if number < 0:
        return f"-${-number:,.2f}"
    return f"${number:,.2f}"


def date_text(day: dt.date) -> str:
    """2 Nov 2026 (a week is named by its first day)."""
    return f"{day.day} {day:%b %Y}"


def short_date(day: dt.date) -> str:
    """2 Nov: a chart's axis, where the heading says the year."""
    return f"{day.day} {day:%b}"


def chart_value(value: Cell) -> float | None:
    """A cell as a bar's height, or None for nothing to draw."""
    if value is None or isinstance(value, (str, dt.date)):
        return None
    return float(value)


def axis_text(value: float, kind: CellKind) -> str:
    """A tick on the value axis: whole dollars, whole percent."""
    if kind is CellKind.MONEY:
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    if kind is CellKind.PERCENT:
        return f"{value:.0f} %"
    if kind is CellKind.HOURS:
        return f"{value:,.0f} h"
    if kind is CellKind.DAYS:
        return f"{value:,.0f} d"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
