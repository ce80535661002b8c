"""The managers' reports from the command line (an accountant's month end, a scheduled
export):

    python main.py report NAME --from DATE --to DATE [--trade T] [--job-type NAME]
                              [--technician NAME] [--zone 606] [--csv FILE [--replace]]
    python main.py report --list

Without ``--csv`` the headline figures and the table are printed as aligned text; with
it the table is written as a spreadsheet's CSV (an existing file only with
``--replace``). The figures are the window's: ``services/reports``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.reports import Cell, CellKind, ReportFilter, ReportName, ReportResult
from dispatch_app.domain.vocabulary import Trade
from dispatch_app.errors import ConfigurationError, OutputFailed

if TYPE_CHECKING:
    from dispatch_app.domain.reports import FilterChoices


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01") from None


def add_reports_parser(commands: argparse._SubParsersAction[Any]) -> None:
    report = commands.add_parser(
        "report", help="a manager's report for a period, as text or a CSV file"
    )
    report.add_argument(
        "name",
        nargs="?",
        choices=[name.value for name in ReportName],
        metavar="NAME",
        help="the report (report --list names them)",
    )
    report.add_argument("--list", action="store_true", help="the reports and what each counts")
    report.add_argument(
        "--from", dest="since", type=_day, metavar="DATE", help="the first day, e.g. 2026-11-01"
    )
    report.add_argument(
        "--to", dest="until", type=_day, metavar="DATE", help="the last day, included"
    )
    report.add_argument("--trade", choices=[trade.value for trade in Trade])
    report.add_argument("--job-type", metavar="NAME", help="one job type, by its name")
    report.add_argument("--technician", metavar="NAME", help="work a technician was on")
    report.add_argument("--zone", metavar="ZIP", help="sites whose ZIP code starts so (606)")
    report.add_argument("--csv", type=Path, metavar="FILE", help="write the table as CSV")
    report.add_argument("--replace", action="store_true", help="with --csv: overwrite FILE")


def run_reports_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    if args.list:
        for name in ReportName:
            print(f"{name.value:<21} {name.heading}: {name.definition}")
        return 0
    if args.name is None:
        raise ConfigurationError("Name a report (python main.py report --list names them).")
    if args.since is None or args.until is None:
        raise ConfigurationError("A report needs its period: --from DATE --to DATE.")
    if args.csv is not None and args.csv.exists() and not args.replace:
        raise ConfigurationError(f"{args.csv} exists; add --replace to overwrite it.")
    problem = ReportFilter(args.since, args.until, zone=args.zone).problem()
    if problem is not None:
        raise ConfigurationError(problem)
    from dispatch_app.cli import _clock, checked_database

    with checked_database(choice) as url:
        return asyncio.run(_report(url, args, _clock(args)))


async def _report(url: str, args: argparse.Namespace, clock: Any) -> int:
    from dispatch_app.services.reports import filter_choices, report_csv, run_report
    from dispatch_app.services.workspace import Workspace

    workspace = Workspace.connect(url, clock=clock)
    try:
        choices = await workspace.run(filter_choices)
        report_filter = ReportFilter(
            since=args.since,
            until=args.until,
            trade=args.trade,
            job_type_id=_job_type(choices, args.job_type, args.trade),
            technician_id=_technician(choices, args.technician),
            zone=args.zone,
        )
        result = await workspace.run(run_report, ReportName(args.name), report_filter)
    finally:
        await workspace.aclose()
    if args.csv is not None:
        try:
            with args.csv.open("wb" if args.replace else "xb") as out:
                out.write(report_csv(result))
        except FileExistsError:
            raise ConfigurationError(f"{args.csv} exists; add --replace to overwrite it.") from None
        except OSError as error:
            raise OutputFailed(
                f"{args.csv} could not be written ({error.strerror or error})."
            ) from None
        rows = "1 row" if len(result.rows) == 1 else f"{len(result.rows)} rows"
        print(f"{result.name.heading}, {_period(result.filter)}: {rows} written to {args.csv}.")
        return 0
    print(report_text(result))
    return 0


def _job_type(choices: FilterChoices, name: str | None, trade: str | None) -> int | None:
    if name is None:
        return None
    wanted = name.strip().casefold()
    found = [
        j
        for j in choices.job_types
        if j.name.strip().casefold() == wanted and (trade is None or j.trade == trade)
    ]
    if not found:
        raise ConfigurationError(f"No job type is named {name!r}.")
    if len(found) > 1:
        trades = ", ".join(j.trade for j in found)
        raise ConfigurationError(
            f"{len(found)} job types are named {name!r} ({trades}); add --trade to say which."
        )
    return found[0].id


def _technician(choices: FilterChoices, name: str | None) -> int | None:
    if name is None:
        return None
    wanted = name.strip().casefold()
    found = [t for t in choices.technicians if t.name.strip().casefold() == wanted]
    if len(found) != 1:
        said = "No technician" if not found else f"{len(found)} technicians"
        raise ConfigurationError(f"{said} named {name!r}.")
    return found[0].id


# -- as text ------------------------------------------------------------------------------
def _period(report_filter: ReportFilter) -> str:
    return f"{report_filter.since.isoformat()} to {report_filter.until.isoformat()}"


def text_cell(value: Cell, kind: CellKind) -> str:
    """A figure as the terminal shows it: $1,234.50, 93.5 %, 12.5 h; "—" for nothing to
    count."""
    if value is None:
        return "—"
    if isinstance(value, str):  # a totals line's empty cell stays blank
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    number = decimal.Decimal(value)
    if kind is CellKind.MONEY:
        return f"-${-number:,.2f}" if number < 0 else f"${number:,.2f}"
    if kind is CellKind.PERCENT:
        return f"{number:.1f} %"
    if kind is CellKind.HOURS:
        return f"{number:,.1f} h"
    if kind is CellKind.DAYS:
        return f"{number:,.0f} days" if number != 1 else "1 day"
    if kind is CellKind.NUMBER:
        return f"{number:,.2f}"
    return f"{number:,}"


def report_text(result: ReportResult) -> str:
    """The report as aligned text: title, headline figures, the table, its note."""
    lines = [f"{result.name.heading}, {_period(result.filter)}", ""]
    label_width = max((len(figure.label) for figure in result.headline), default=0)
    for figure in result.headline:
        lines.append(f"  {figure.label:<{label_width}}  {text_cell(figure.value, figure.kind)}")
    lines.append("")
    kinds = [column.kind for column in result.columns]
    table = [[column.title for column in result.columns]]
    table += [
        [text_cell(c, k) for c, k in zip(row.cells, kinds, strict=True)] for row in result.rows
    ]
    if result.totals is not None:
        table.append([text_cell(c, k) for c, k in zip(result.totals, kinds, strict=True)])
    widths = [max(len(line[i]) for line in table) for i in range(len(kinds))]
    for index, line in enumerate(table):
        cells = [
            cell.ljust(width) if kind in (CellKind.TEXT, CellKind.DATE) else cell.rjust(width)
            for cell, width, kind in zip(line, widths, kinds, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    if result.note:
        lines += ["", result.note]
    return "\n".join(lines)
