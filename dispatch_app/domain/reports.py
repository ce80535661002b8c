"""The managers' reports: their names, what each counts, and the shape of an answer.

Every figure is computed by PostgreSQL (``services/reports``); this module is the one
place that says what the words mean, and the README repeats it:

- **Period.** A report covers whole days in the company's time zone, ``since`` to
  ``until`` inclusive.
- **Revenue.** What posted invoices bill: their totals less what credit notes took off,
  drafts, void invoices and the credit notes themselves left out; counted on the day an
  invoice was posted (a credit note takes off from the invoice it credits, on that day).
- **Job.** A work order. A job's value is its revenue, all its invoices together; a
  job invoiced in the period is one with an invoice posted in it, and the average job
  value is the period's revenue over those jobs.
- **Completed.** A work order whose work was done (completed, invoiced or closed),
  counted on the day it reached completed (its last status step to completed, its own
  or one of its visits'; a status set without one counts from its last change).
- **Ended early.** Cancelled or a no-show, counted on the day it was (the same way).
- **First-time fix.** A completed work order whose work took one visit: exactly one of
  its visits completed and none cancelled or a no-show before it (in the visits' order).
- **Led.** A job's technician is the lead of its last completed visit (the crew's first
  member when nobody is marked lead); shift hours are the technician's weekly shifts
  over the period's days, hours on the clock their time entries started in it.
- **Open.** Booked before the end of the period and not completed, cancelled or a
  no-show by then; its age is the days from the day it was booked to the period's last.
- **Missed call.** A missed call or voicemail received in the period, spam left out;
  called back, booked, at risk and recovered as the Leads inbox counts them
  (``services/leads/leak``).
- **Filters.** Trade and job type are the work order's; a technician is anyone on one
  of its visits' crews; a zone is the start of the site's ZIP code ("606"). Calls have
  none of these: the missed-calls report says so when they are set.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from enum import StrEnum

from dispatch_app.domain.time_bounds import day_problem

# The longest period a report covers (an accountant's five years).
LONGEST_PERIOD = dt.timedelta(days=5 * 366)


class ReportName(StrEnum):
    AVERAGE_JOB_VALUE = "average-job-value"
    COMPLETION_RATE = "completion-rate"
    FIRST_TIME_FIX = "first-time-fix"
    PRODUCTIVITY = "productivity"
    REVENUE_BY_JOB_TYPE = "revenue-by-job-type"
    CANCELLATIONS = "cancellations"
    AGING = "aging"
    NOT_INVOICED = "not-invoiced"
    MISSED_CALLS = "missed-calls"

    @property
    def heading(self) -> str:
        """The report's title (``str.title`` is a string's own)."""
        return _TITLES[self][0]

    @property
    def definition(self) -> str:
        """What the report counts, in a sentence (the window and ``report --list``)."""
        return _TITLES[self][1]


_TITLES = {
    ReportName.AVERAGE_JOB_VALUE: (
        "Average job value",
        "Revenue of the jobs invoiced in the period, per job, by week.",
    ),
    ReportName.COMPLETION_RATE: (
        "Completion rate",
        "Of the jobs that ended in the period, the share completed rather than cancelled "
        "or a no-show, by week.",
    ),
    ReportName.FIRST_TIME_FIX: (
        "First-time fix rate",
        "Of the jobs completed in the period, the share done in one visit, by job type.",
    ),
    ReportName.PRODUCTIVITY: (
        "Technician productivity",
        "Per technician: hours on the clock against shift hours, revenue of the jobs they "
        "led, and jobs completed per working day.",
    ),
    ReportName.REVENUE_BY_JOB_TYPE: (
        "Revenue by job type",
        "Revenue invoiced in the period by job type and trade.",
    ),
    ReportName.CANCELLATIONS: (
        "Cancellations and no-shows",
        "Jobs cancelled or a no-show in the period by reason, and how many the follow-up "
        "calls won back.",
    ),
    ReportName.AGING: (
        "Aging open work orders",
        "Work orders still open at the end of the period, by how long since they were booked.",
    ),
    ReportName.NOT_INVOICED: (
        "Completed, not invoiced or not closed",
        "Jobs completed by the end of the period that no posted invoice bills, or that are "
        "invoiced but not closed.",
    ),
    ReportName.MISSED_CALLS: (
        "Missed calls",
        "Missed calls and voicemails by week: called back, booked, the revenue at risk and "
        "what the booked ones brought in.",
    ),
}


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which days, and which work: every report takes the same filter."""

    since: dt.date  # the first day, in the company's time zone
    until: dt.date  # the last day, included
    trade: str | None = None
    job_type_id: int | None = None
    technician_id: int | None = None
    zone: str | None = None  # the start of the site's ZIP code

    def problem(self) -> str | None:
        """Why this filter cannot be run, in a sentence, or None."""
        for day in (self.since, self.until):
            outside = day_problem(day)
            if outside:
                return outside
        if self.until < self.since:
            return "The period ends before it starts."
        if self.until - self.since > LONGEST_PERIOD:
            return "A report covers at most five years."
        if self.zone is not None and not (self.zone.isdigit() and 1 <= len(self.zone) <= 5):
            return "A zone is the first digits of a ZIP code, like 606."
        return None


class CellKind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    MONEY = "money"  # Decimal dollars
    PERCENT = "percent"  # Decimal 0–100, or None when there is nothing to divide
    HOURS = "hours"  # Decimal
    DAYS = "days"  # Decimal
    NUMBER = "number"  # Decimal with no unit (jobs per working day)
    DATE = "date"


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    kind: CellKind


Cell = str | int | decimal.Decimal | dt.date | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the table; ``key`` names it for the drill-down (a week's first day,
    a job type's id, a reason…)."""

    key: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """One of the report's headline figures ("Average job value $412.50")."""

    label: str
    value: Cell
    kind: CellKind


@dataclass(frozen=True, slots=True)
class Chart:
    """How the table is drawn: one bar (or point) per row, its label from one column
    and its height from another."""

    kind: str  # "bar" or "line"
    label_column: int
    value_column: int


@dataclass(frozen=True, slots=True)
class ReportResult:
    name: ReportName
    filter: ReportFilter
    headline: tuple[Figure, ...]
    columns: tuple[Column, ...]
    rows: tuple[ReportRow, ...]
    chart: Chart | None = None
    note: str = ""  # an empty state's sentence ("No invoice was posted in the period.")
    totals: tuple[Cell, ...] | None = field(default=None)  # a totals line, if any


@dataclass(frozen=True, slots=True)
class JobTypeChoice:
    id: int
    name: str
    trade: str


@dataclass(frozen=True, slots=True)
class TechnicianChoice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter boxes offer: the trades the job types are in, the job types and
    the technicians, each by name."""

    trades: tuple[str, ...]
    job_types: tuple[JobTypeChoice, ...]
    technicians: tuple[TechnicianChoice, ...]


@dataclass(frozen=True, slots=True)
class WorkOrderLine:
    """A work order behind a figure (the drill-down)."""

    id: int
    number: str
    customer: str
    job_type: str
    status: str  # its label ("Completed")
    when: dt.date | None
    value: decimal.Decimal | None
