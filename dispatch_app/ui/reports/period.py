"""The periods a manager usually asks for ("last month", "this year") as whole days on the
company's calendar, and how a period is written in a heading. No Qt here."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class QuickPick(StrEnum):
    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    LAST_30_DAYS = "last-30-days"
    THIS_YEAR = "this-year"
    LAST_365_DAYS = "last-365-days"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    QuickPick.THIS_MONTH: "This month",
    QuickPick.LAST_MONTH: "Last month",
    QuickPick.LAST_30_DAYS: "Last 30 days",
    QuickPick.THIS_YEAR: "This year",
    QuickPick.LAST_365_DAYS: "Last 365 days",
    QuickPick.CUSTOM: "Custom",
}


def period_for(pick: QuickPick, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day ``pick`` means on ``today`` (the company's date), or None
    for a custom period. "This month" and "this year" run to today: nothing after it
    has happened yet."""
    if pick is QuickPick.THIS_MONTH:
        return today.replace(day=1), today
    if pick is QuickPick.LAST_MONTH:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if pick is QuickPick.LAST_30_DAYS:
        return today - dt.timedelta(days=29), today
    if pick is QuickPick.THIS_YEAR:
        return today.replace(month=1, day=1), today
    if pick is QuickPick.LAST_365_DAYS:
        return today - dt.timedelta(days=364), today
    return None


def pick_for(since: dt.date, until: dt.date, today: dt.date) -> QuickPick:
    """The quick pick that means exactly these days on ``today``, else custom."""
    for pick in QuickPick:
        if period_for(pick, today) == (since, until):
            return pick
    return QuickPick.CUSTOM


def period_text(since: dt.date, until: dt.date) -> str:
    """ "1–30 Nov 2026", "28 Oct – 3 Nov 2026", "1 Dec 2025 – 30 Nov 2026", "Tue 1 Dec 2026"."""
    if since == until:
        return f"{since:%a} {since.day} {since:%b %Y}"
    if (since.year, since.month) == (until.year, until.month):
        return f"{since.day}–{until.day} {until:%b %Y}"
    if since.year == until.year:
        return f"{since.day} {since:%b} – {until.day} {until:%b %Y}"
    return f"{since.day} {since:%b %Y} – {until.day} {until:%b %Y}"
