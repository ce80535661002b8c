"""Running a report: its filter checked, its SQL run in one session, the answer shaped
as the window, the PDF and ``python main.py report`` show it.

Every figure comes from PostgreSQL (``queries``); Python only names them. Each call
opens one session and reads; nothing here writes. Safe to run off the GUI thread as any
operation is (``Workspace.run``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.leads import Leak
from dispatch_app.domain.reports import (
    CellKind,
    Chart,
    Column,
    Figure,
    FilterChoices,
    JobTypeChoice,
    ReportFilter,
    ReportName,
    ReportResult,
    ReportRow,
    TechnicianChoice,
    WorkOrderLine,
)
from dispatch_app.domain.statuses import WORK_ORDER_LABELS
from dispatch_app.domain.vocabulary import Trade
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.leads.leak import average_job_value
from dispatch_app.services.reports import queries

Sessions = async_sessionmaker[AsyncSession]

# The most work orders a drill-down lists (the window says when there are more).
DRILL_DOWN_LIMIT = 500

TRADE_LABELS = {
    Trade.HVAC.value: "HVAC",
    Trade.PLUMBING.value: "Plumbing",
    Trade.ELECTRICAL.value: "Electrical",
    Trade.ROOFING.value: "Roofing",
}


def trade_label(trade: str | None) -> str:
    return TRADE_LABELS.get(trade or "", trade or "")


@dataclasses.dataclass(frozen=True, slots=True)
class _Period:
    """The filter's days as the database is asked about them."""

    zone: ZoneInfo
    since_at: dt.datetime
    until_at: dt.datetime  # the first moment after the period's last day

    def params(self, report_filter: ReportFilter) -> dict[str, Any]:
        return {
            "since": report_filter.since,
            "until": report_filter.until,
            "since_at": self.since_at,
            "until_at": self.until_at,
            "zone": self.zone.key,
            "trade": report_filter.trade,
            "job_type_id": report_filter.job_type_id,
            "technician_id": report_filter.technician_id,
            "zip_prefix": None if report_filter.zone is None else f"{report_filter.zone}%",
        }


async def _period(session: AsyncSession, report_filter: ReportFilter) -> _Period:
    problem = report_filter.problem()
    if problem is not None:
        raise ValidationError({"period": problem})
    # One-off aggregates over a year of work: compiling them (JIT) costs more than it
    # saves, and the server's default work_mem (4 MB) sends their hashes to disk.
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    zone = await business_timezone(session)
    # Midnight in the company's zone; where a clock change skips midnight the first
    # moment of the day is the one after the gap (zoneinfo's fold 0 reading).
    since_at = dt.datetime.combine(report_filter.since, dt.time(), tzinfo=zone)
    next_day = report_filter.until + dt.timedelta(days=1)
    until_at = dt.datetime.combine(next_day, dt.time(), tzinfo=zone)
    return _Period(zone, since_at, until_at)


async def _rows(session: AsyncSession, sql: str, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    return (await session.execute(text(sql), dict(params))).all()


def _whole(rows: Sequence[Row[Any]]) -> tuple[list[Row[Any]], Row[Any]]:
    """The table's rows and the totals row (``whole`` set) an aggregate ends with."""
    parts = [r for r in rows if not r.whole]
    totals = [r for r in rows if r.whole]
    return parts, totals[-1]


def _day(key: str) -> dt.date:
    return dt.date.fromisoformat(key)


# -- the nine reports ---------------------------------------------------------------------
Builder = Callable[[AsyncSession, ReportFilter, _Period], Awaitable[ReportResult]]


async def _average_job_value(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(
        session, queries.average_job_value(report_filter), period.params(report_filter)
    )
    weeks, total = _whole(rows)
    return ReportResult(
        name=ReportName.AVERAGE_JOB_VALUE,
        filter=report_filter,
        headline=(
            Figure("Average job value", total.average, CellKind.MONEY),
            Figure("Jobs invoiced", total.jobs, CellKind.COUNT),
            Figure("Revenue", total.revenue, CellKind.MONEY),
        ),
        columns=(
            Column("Week of", CellKind.DATE),
            Column("Jobs invoiced", CellKind.COUNT),
            Column("Revenue", CellKind.MONEY),
            Column("Average job value", CellKind.MONEY),
        ),
        rows=tuple(ReportRow(r.key, (r.week, r.jobs, r.revenue, r.average)) for r in weeks),
        chart=Chart("bar", label_column=0, value_column=3),
        note="" if total.jobs else "No invoice was posted in the period.",
    )


async def _completion_rate(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(
        session, queries.completion_rate(report_filter), period.params(report_filter)
    )
    weeks, total = _whole(rows)
    return ReportResult(
        name=ReportName.COMPLETION_RATE,
        filter=report_filter,
        headline=(
            Figure("Completion rate", total.rate, CellKind.PERCENT),
            Figure("Completed", total.completed, CellKind.COUNT),
            Figure("Ended early", total.early, CellKind.COUNT),
        ),
        columns=(
            Column("Week of", CellKind.DATE),
            Column("Completed", CellKind.COUNT),
            Column("Ended early", CellKind.COUNT),
            Column("Completion rate", CellKind.PERCENT),
        ),
        rows=tuple(ReportRow(r.key, (r.week, r.completed, r.early, r.rate)) for r in weeks),
        chart=Chart("line", label_column=0, value_column=3),
        note=""
        if total.completed + total.early
        else "No job was completed, cancelled or a no-show in the period.",
    )


async def _first_time_fix(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(session, queries.first_time_fix(report_filter), period.params(report_filter))
    kinds, total = _whole(rows)
    return ReportResult(
        name=ReportName.FIRST_TIME_FIX,
        filter=report_filter,
        headline=(
            Figure("First-time fix rate", total.rate, CellKind.PERCENT),
            Figure("Completed", total.completed, CellKind.COUNT),
            Figure("In one visit", total.one_visit, CellKind.COUNT),
        ),
        columns=(
            Column("Job type", CellKind.TEXT),
            Column("Trade", CellKind.TEXT),
            Column("Completed", CellKind.COUNT),
            Column("In one visit", CellKind.COUNT),
            Column("First-time fix rate", CellKind.PERCENT),
        ),
        rows=tuple(
            ReportRow(r.key, (r.name, trade_label(r.trade), r.completed, r.one_visit, r.rate))
            for r in kinds
        ),
        chart=Chart("bar", label_column=0, value_column=4),
        note="" if total.completed else "No job was completed in the period.",
        totals=("All job types", "", total.completed, total.one_visit, total.rate)
        if kinds
        else None,
    )


async def _productivity(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(session, queries.productivity(report_filter), period.params(report_filter))
    people, total = _whole(rows)

    def cells(r: Row[Any], name: str) -> tuple[Any, ...]:
        return (
            name,
            r.shift_hours,
            r.clock_hours,
            r.utilisation,
            r.revenue,
            r.jobs,
            r.days,
            r.per_day,
        )

    return ReportResult(
        name=ReportName.PRODUCTIVITY,
        filter=report_filter,
        headline=(
            Figure("Utilisation", total.utilisation, CellKind.PERCENT),
            Figure("Revenue led", total.revenue, CellKind.MONEY),
            Figure("Jobs completed", total.jobs, CellKind.COUNT),
            Figure("Jobs per working day", total.per_day, CellKind.NUMBER),
        ),
        columns=(
            Column("Technician", CellKind.TEXT),
            Column("Shift hours", CellKind.HOURS),
            Column("Hours on the clock", CellKind.HOURS),
            Column("Utilisation", CellKind.PERCENT),
            Column("Revenue led", CellKind.MONEY),
            Column("Jobs completed", CellKind.COUNT),
            Column("Working days", CellKind.COUNT),
            Column("Jobs per working day", CellKind.NUMBER),
        ),
        rows=tuple(ReportRow(r.key, cells(r, r.name)) for r in people),
        chart=Chart("bar", label_column=0, value_column=3),
        note="" if people else "No technician worked or was on shift in the period.",
        totals=cells(total, "All technicians") if people else None,
    )


async def _revenue_by_job_type(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(
        session, queries.revenue_by_job_type(report_filter), period.params(report_filter)
    )
    kinds = [r for r in rows if r.whole == 0]
    trades = [r for r in rows if r.whole == 2]
    (total,) = [r for r in rows if r.whole == 3]
    return ReportResult(
        name=ReportName.REVENUE_BY_JOB_TYPE,
        filter=report_filter,
        headline=(
            Figure("Revenue", total.revenue, CellKind.MONEY),
            Figure("Jobs invoiced", total.jobs, CellKind.COUNT),
            *(Figure(trade_label(r.trade), r.revenue, CellKind.MONEY) for r in trades),
        ),
        columns=(
            Column("Job type", CellKind.TEXT),
            Column("Trade", CellKind.TEXT),
            Column("Jobs invoiced", CellKind.COUNT),
            Column("Revenue", CellKind.MONEY),
        ),
        rows=tuple(
            ReportRow(r.key, (r.name, trade_label(r.trade), r.jobs, r.revenue)) for r in kinds
        ),
        chart=Chart("bar", label_column=0, value_column=3),
        note="" if kinds else "No invoice was posted in the period.",
        totals=("All job types", "", total.jobs, total.revenue) if kinds else None,
    )


async def _cancellations(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(session, queries.cancellations(report_filter), period.params(report_filter))
    reasons, total = _whole(rows)

    def cells(r: Row[Any], reason: str) -> tuple[Any, ...]:
        return (reason, r.jobs, r.cancelled, r.no_shows, r.recovered)

    return ReportResult(
        name=ReportName.CANCELLATIONS,
        filter=report_filter,
        headline=(
            Figure("Cancelled", total.cancelled, CellKind.COUNT),
            Figure("No-shows", total.no_shows, CellKind.COUNT),
            Figure("Recovered by follow-ups", total.recovered, CellKind.COUNT),
        ),
        columns=(
            Column("Reason", CellKind.TEXT),
            Column("Jobs", CellKind.COUNT),
            Column("Cancelled", CellKind.COUNT),
            Column("No-shows", CellKind.COUNT),
            Column("Recovered", CellKind.COUNT),
        ),
        rows=tuple(ReportRow(r.key, cells(r, r.key)) for r in reasons),
        chart=Chart("bar", label_column=0, value_column=1),
        note="" if reasons else "No job was cancelled or a no-show in the period.",
        totals=cells(total, "All reasons") if reasons else None,
    )


async def _aging(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(session, queries.aging(report_filter), period.params(report_filter))
    buckets, total = _whole(rows)
    return ReportResult(
        name=ReportName.AGING,
        filter=report_filter,
        headline=(
            Figure("Open work orders", total.open, CellKind.COUNT),
            Figure("Open over 30 days", total.over_30, CellKind.COUNT),
            Figure(
                "Oldest",
                None if total.oldest_age is None else decimal.Decimal(total.oldest_age),
                CellKind.DAYS,
            ),
        ),
        columns=(
            Column("Age", CellKind.TEXT),
            Column("Open work orders", CellKind.COUNT),
            Column("Oldest booked", CellKind.DATE),
        ),
        rows=tuple(ReportRow(r.key, (r.label, r.open, r.oldest)) for r in buckets),
        chart=Chart("bar", label_column=0, value_column=1),
        note="" if total.open else "No work order was open at the end of the period.",
        totals=("All ages", total.open, total.oldest) if total.open else None,
    )


async def _not_invoiced(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    rows = await _rows(session, queries.not_invoiced(report_filter), period.params(report_filter))
    by_key = {r.key: r for r in rows}
    unbilled, unclosed = by_key["not-invoiced"], by_key["not-closed"]
    return ReportResult(
        name=ReportName.NOT_INVOICED,
        filter=report_filter,
        headline=(
            Figure("Not invoiced", unbilled.jobs, CellKind.COUNT),
            Figure("Not invoiced, worth", unbilled.value, CellKind.MONEY),
            Figure("Invoiced, not closed", unclosed.jobs, CellKind.COUNT),
            Figure("Still owed", unclosed.value, CellKind.MONEY),
        ),
        columns=(
            Column("Jobs", CellKind.TEXT),
            Column("Count", CellKind.COUNT),
            Column("Amount", CellKind.MONEY),
            Column("Oldest completed", CellKind.DATE),
        ),
        rows=tuple(ReportRow(r.key, (r.label, r.jobs, r.value, r.oldest)) for r in rows),
        chart=Chart("bar", label_column=0, value_column=2),
        note=""
        if unbilled.jobs + unclosed.jobs
        else "Every job completed by the end of the period is invoiced and closed.",
    )


async def _missed_calls(
    session: AsyncSession, report_filter: ReportFilter, period: _Period
) -> ReportResult:
    # The inbox's leak, added up from the weeks (they split the period, and count with
    # the inbox's words), at the inbox's average job value.
    average = await average_job_value(session, since=period.since_at, until=period.until_at)
    params = period.params(report_filter) | {"average": average}
    weeks = await _rows(session, queries.missed_calls(), params)
    leak = Leak(
        since=period.since_at,
        until=period.until_at,
        missed=sum(r.missed for r in weeks),
        called_back=sum(r.called_back for r in weeks),
        booked=sum(r.booked for r in weeks),
        average_job_value=average,
        recovered=_cents(sum((r.recovered for r in weeks), decimal.Decimal(0))),
    )
    set_filters = [
        word
        for word, value in (
            ("trade", report_filter.trade),
            ("job type", report_filter.job_type_id),
            ("technician", report_filter.technician_id),
            ("zone", report_filter.zone),
        )
        if value is not None
    ]
    notes = []
    if not leak.missed:
        notes.append("No call was missed in the period.")
    if set_filters:
        notes.append(
            f"A call has no {_listing(set_filters)}: "
            f"{'that filter does' if len(set_filters) == 1 else 'those filters do'} not "
            "apply to missed calls."
        )
    return ReportResult(
        name=ReportName.MISSED_CALLS,
        filter=report_filter,
        headline=(
            Figure("Missed calls", leak.missed, CellKind.COUNT),
            Figure("Called back", leak.called_back, CellKind.COUNT),
            Figure("Booked", leak.booked, CellKind.COUNT),
            Figure("Revenue at risk", leak.at_risk, CellKind.MONEY),
            Figure("Recovered", leak.recovered, CellKind.MONEY),
            Figure("Average job value", leak.average_job_value, CellKind.MONEY),
        ),
        columns=(
            Column("Week of", CellKind.DATE),
            Column("Missed", CellKind.COUNT),
            Column("Called back", CellKind.COUNT),
            Column("Booked", CellKind.COUNT),
            Column("At risk", CellKind.MONEY),
            Column("Recovered", CellKind.MONEY),
        ),
        rows=tuple(
            ReportRow(
                r.key,
                (r.week, r.missed, r.called_back, r.booked, _cents(r.at_risk), r.recovered),
            )
            for r in weeks
        ),
        chart=Chart("bar", label_column=0, value_column=1),
        note=" ".join(notes),
        totals=(
            "All weeks",
            leak.missed,
            leak.called_back,
            leak.booked,
            leak.at_risk,
            leak.recovered,
        ),
    )


def _cents(value: decimal.Decimal) -> decimal.Decimal:
    return decimal.Decimal(value).quantize(decimal.Decimal("0.01"))


def _listing(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" or {words[-1]}"


_REPORTS: dict[ReportName, Builder] = {
    ReportName.AVERAGE_JOB_VALUE: _average_job_value,
    ReportName.COMPLETION_RATE: _completion_rate,
    ReportName.FIRST_TIME_FIX: _first_time_fix,
    ReportName.PRODUCTIVITY: _productivity,
    ReportName.REVENUE_BY_JOB_TYPE: _revenue_by_job_type,
    ReportName.CANCELLATIONS: _cancellations,
    ReportName.AGING: _aging,
    ReportName.NOT_INVOICED: _not_invoiced,
    ReportName.MISSED_CALLS: _missed_calls,
}


async def run_report(
    sessions: Sessions, name: ReportName, report_filter: ReportFilter
) -> ReportResult:
    """The report's figures for the filter; ``ValidationError`` (field ``period``) with
    the filter's sentence when it cannot be run."""
    async with sessions() as session:
        period = await _period(session, report_filter)
        return await _REPORTS[ReportName(name)](session, report_filter, period)


# -- the drill-down -----------------------------------------------------------------------
def _facts(name: ReportName, report_filter: ReportFilter) -> str:
    facts: dict[ReportName, Callable[[ReportFilter], str]] = {
        ReportName.AVERAGE_JOB_VALUE: queries.average_job_value_facts,
        ReportName.COMPLETION_RATE: queries.completion_rate_facts,
        ReportName.FIRST_TIME_FIX: queries.first_time_fix_facts,
        ReportName.PRODUCTIVITY: queries.productivity_facts,
        ReportName.REVENUE_BY_JOB_TYPE: queries.revenue_by_job_type_facts,
        ReportName.CANCELLATIONS: queries.cancellations_facts,
        ReportName.AGING: queries.aging_facts,
        ReportName.NOT_INVOICED: queries.not_invoiced_facts,
        ReportName.MISSED_CALLS: lambda _filter: queries.missed_calls_facts(),
    }
    return facts[ReportName(name)](report_filter)


async def drill_down(
    sessions: Sessions,
    name: ReportName,
    report_filter: ReportFilter,
    key: str | None,
    *,
    limit: int = DRILL_DOWN_LIMIT,
) -> list[WorkOrderLine]:
    """The work orders behind one row of the report's table (``key`` is its
    ``ReportRow.key``), or behind its headline (``key`` None): oldest first, at most
    ``limit``. A key no row has lists nothing."""
    if not 1 <= limit <= 10_000:
        raise ValidationError({"limit": "A drill-down lists 1 to 10,000 work orders."})
    async with sessions() as session:
        period = await _period(session, report_filter)
        sql = queries.behind(_facts(name, report_filter), keyed=key is not None)
        params = period.params(report_filter) | {"key": key, "limit": limit}
        rows = await _rows(session, sql, params)
    return [
        WorkOrderLine(
            id=r.id,
            number=r.number,
            customer=r.customer,
            job_type=r.job_type,
            status=WORK_ORDER_LABELS.get(r.status, r.status),
            when=r.day,
            value=r.value,
        )
        for r in rows
    ]


# -- the filter boxes ---------------------------------------------------------------------
async def filter_choices(sessions: Sessions) -> FilterChoices:
    """What the filter boxes offer: trades and job types (active ones, and any with
    work orders), technicians (active ones first)."""
    async with sessions() as session:
        job_types = await _rows(
            session,
            "SELECT j.id, j.name, j.trade FROM job_types j "
            "WHERE j.active OR EXISTS (SELECT 1 FROM work_orders w WHERE w.job_type_id = j.id) "
            "ORDER BY j.trade, j.name, j.id",
            {},
        )
        technicians = await _rows(
            session,
            "SELECT t.id, t.name FROM technicians t ORDER BY NOT t.active, t.name, t.id",
            {},
        )
    return FilterChoices(
        trades=tuple(dict.fromkeys(r.trade for r in job_types)),
        job_types=tuple(JobTypeChoice(r.id, r.name, r.trade) for r in job_types),
        technicians=tuple(TechnicianChoice(r.id, r.name) for r in technicians),
    )
