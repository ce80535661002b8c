"""The Reports window on a real database and a real (offscreen) Qt, on a fixed clock: how a
report is shown (figures large, money, shares and "—", a chart, a totals line), an empty
one's sentence, the quick picks in the company's calendar, the PDF with its heading and
the CSV as the engine writes it; and through the engine: what the chooser, period and
filters ask for, the work orders behind a line opening in the editor, a change on
another connection read again by itself (when on screen), a refusal by the database as
its sentence, every report drawn and printed on the demo company, and only a manager
finding File ▸ Reports…."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import decimal
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pypdf
import pytest
from PySide6.QtCore import QDate, Qt
from sqlalchemy.orm import Session

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.reports import (
    CellKind,
    Chart,
    Column,
    Figure,
    ReportFilter,
    ReportName,
    ReportResult,
    ReportRow,
)
from dispatch_app.services import reports as engine
from dispatch_app.services.demo import seed_demo
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.reports.cells import cell_text
from dispatch_app.ui.reports.period import QuickPick, period_for, period_text, pick_for
from dispatch_app.ui.reports.window import ReportsWindow, open_reports
from tests.companies import TZ, small_company
from tests.qt_app import act, options_for, pump_until, wait_for
from tests.test_office_window import charge_and_complete, invoice, one, sql

D = decimal.Decimal
# Friday 4 December 2026, 15:00 in Chicago (21:00 UTC): "today" for every quick pick.
NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=TZ)
NOVEMBER = ReportFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def by_job_type(report_filter: ReportFilter = NOVEMBER) -> ReportResult:
    """A report as the engine answers, written by hand: two job types and a total."""
    return ReportResult(
        name=ReportName.REVENUE_BY_JOB_TYPE,
        filter=report_filter,
        headline=(
            Figure("Revenue", D("1234.50"), CellKind.MONEY),
            Figure("Jobs invoiced", 7, CellKind.COUNT),
        ),
        columns=(
            Column("Job type", CellKind.TEXT),
            Column("Trade", CellKind.TEXT),
            Column("Jobs", CellKind.COUNT),
            Column("Revenue", CellKind.MONEY),
            Column("Share", CellKind.PERCENT),
        ),
        rows=(
            ReportRow("3", ("No heat call", "HVAC", 4, D("1000.00"), D("81.0"))),
            ReportRow("5", ("Drain cleaning", "Plumbing", 3, D("234.50"), None)),
        ),
        chart=Chart("bar", 0, 3),
        totals=("Total", None, 7, D("1234.50"), D("100.0")),
    )


def nothing_invoiced() -> ReportResult:
    return ReportResult(
        name=ReportName.AVERAGE_JOB_VALUE,
        filter=NOVEMBER,
        headline=(Figure("Average job value", None, CellKind.MONEY),),
        columns=(Column("Week", CellKind.DATE), Column("Average", CellKind.MONEY)),
        rows=(),
        chart=Chart("line", 0, 1),
        note="No invoice was posted in the period.",
    )


Opener = Callable[..., tuple[Workspace, ReportsWindow]]


@pytest.fixture
def open_window(loop, qtbot, tmp_path, settings_dir) -> Iterator[Opener]:
    """A workspace on the change feed at ``NOW``, and a Reports window on it (shown and
    reading when ``shown``); both closed at the end."""
    opened: list[tuple[Workspace, ReportsWindow]] = []

    def opener(url: str, *, shown: bool = True) -> tuple[Workspace, ReportsWindow]:
        workspace = loop.run_until_complete(
            Workspace.open(DatabaseChoice(url, "test"), data_dir=tmp_path, clock=FixedClock(NOW))
        )
        connected = asyncio.Event()
        workspace.listen(
            on_hints=lambda _hints: None,
            on_state=lambda *_state: None,
            on_connected=connected.set,
        )
        loop.run_until_complete(asyncio.wait_for(connected.wait(), 30))
        window = open_reports(workspace) if shown else ReportsWindow(workspace)
        opened.append((workspace, window))
        if shown:
            pump_until(loop, lambda: window.result is not None and not window.reading)
        return workspace, window

    yield opener
    while opened:
        workspace, window = opened.pop()
        window.hide()
        loop.run_until_complete(window.aclose())
        loop.run_until_complete(workspace.aclose())


def table_text(window: ReportsWindow) -> list[list[str]]:
    model = window.model
    return [
        [str(model.index(row, column).data()) for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# -- no database: the words and the days ------------------------------------------------
def test_figures_are_written_as_a_manager_reads_them() -> None:
    assert cell_text(D("1234.5"), CellKind.MONEY) == "$1,234.50"
    assert cell_text(D("-80"), CellKind.MONEY) == "-$80.00"
    assert cell_text(D("93.456"), CellKind.PERCENT) == "93.5 %"
    assert cell_text(None, CellKind.PERCENT) == "—"
    assert cell_text(None, CellKind.MONEY) == "—"
    assert cell_text(1234, CellKind.COUNT) == "1,234"
    assert cell_text(D("37.25"), CellKind.HOURS) == "37.2 h"
    assert cell_text(D("4.5"), CellKind.DAYS) == "4.5 days"
    assert cell_text(dt.date(2026, 11, 2), CellKind.DATE) == "2 Nov 2026"
    assert cell_text("Drain cleaning", CellKind.TEXT) == "Drain cleaning"


def test_quick_picks_are_whole_days_on_the_companys_calendar() -> None:
    today = dt.date(2026, 3, 4)
    assert period_for(QuickPick.THIS_MONTH, today) == (dt.date(2026, 3, 1), today)
    assert period_for(QuickPick.LAST_MONTH, today) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period_for(QuickPick.LAST_30_DAYS, today) == (dt.date(2026, 2, 3), today)
    assert period_for(QuickPick.THIS_YEAR, today) == (dt.date(2026, 1, 1), today)
    assert period_for(QuickPick.LAST_365_DAYS, today) == (dt.date(2025, 3, 5), today)
    assert period_for(QuickPick.LAST_MONTH, dt.date(2027, 1, 15)) == (
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
    )
    assert period_for(QuickPick.CUSTOM, today) is None
    assert pick_for(dt.date(2026, 2, 1), dt.date(2026, 2, 28), today) is QuickPick.LAST_MONTH
    assert pick_for(dt.date(2026, 2, 1), dt.date(2026, 2, 27), today) is QuickPick.CUSTOM
    assert period_text(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "1–30 Nov 2026"
    assert period_text(dt.date(2026, 10, 28), dt.date(2026, 11, 3)) == "28 Oct – 3 Nov 2026"
    assert period_text(dt.date(2025, 12, 5), dt.date(2026, 12, 4)) == "5 Dec 2025 – 4 Dec 2026"
    assert period_text(dt.date(2026, 12, 1), dt.date(2026, 12, 1)) == "Tue 1 Dec 2026"


# -- the view, fed by hand ----------------------------------------------------------------
def test_a_report_shows_its_figures_chart_and_table(loop, db_url, open_window) -> None:
    _workspace, window = open_window(db_url, shown=False)
    window.show_result(by_job_type())

    assert window.heading.text() == "Revenue by job type"
    assert window.period_line.text() == "1–30 Nov 2026 · All work"
    assert [(c.figure.label, c.value.text()) for c in window.figure_cards] == [
        ("Revenue", "$1,234.50"),
        ("Jobs invoiced", "7"),
    ]
    assert window.figure_cards[0].value.font().pointSizeF() >= 20
    assert window.chart.drawn
    assert [window.model.headerData(n, Qt.Orientation.Horizontal) for n in range(5)] == [
        "Job type",
        "Trade",
        "Jobs",
        "Revenue",
        "Share",
    ]
    assert table_text(window) == [
        ["No heat call", "HVAC", "4", "$1,000.00", "81.0 %"],
        ["Drain cleaning", "Plumbing", "3", "$234.50", "—"],
        ["Total", "—", "7", "$1,234.50", "100.0 %"],
    ]
    total = window.model.index(2, 3)
    assert total.data(Qt.ItemDataRole.FontRole).bold()
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    assert total.data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert not window.note.isVisibleTo(window)
    assert window.csv_button.isEnabled() and window.pdf_button.isEnabled()

    # Read again with one figure changed: the lines stay, the one changed is repainted.
    window.table.selectRow(1)
    changed = by_job_type()
    rows = (changed.rows[0], ReportRow("5", ("Drain cleaning", "Plumbing", 4, D("300"), None)))
    window.show_result(dataclasses.replace(changed, rows=rows))
    assert table_text(window)[1] == ["Drain cleaning", "Plumbing", "4", "$300.00", "—"]
    assert window.table.selectionModel().selectedRows()[0].row() == 1

    # An empty report says why, in its own words, with no chart and no table.
    window.show_result(nothing_invoiced())
    assert window.note.isVisibleTo(window)
    assert window.note.text() == "No invoice was posted in the period."
    assert not window.chart.drawn and not window.chart_pane.isVisibleTo(window)
    assert not window.table.isVisibleTo(window)
    assert [c.value.text() for c in window.figure_cards] == ["—"]


def test_the_pdf_has_the_heading_period_figures_chart_and_table(
    loop, db_url, open_window, tmp_path
) -> None:
    _workspace, window = open_window(db_url, shown=False)
    window.show_result(by_job_type())
    target = tmp_path / "revenue.pdf"
    loop.run_until_complete(window.export_pdf(target))

    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(target)
    for words in (
        "Revenue by job type",
        "1–30 Nov 2026",
        "All work",
        "$1,234.50",
        "Drain cleaning",
    ):
        assert words in text, words
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert any(page.images for page in reader.pages)  # the chart
    assert window.done.text() == f"Wrote the report to {target}."
    assert window.done.isVisibleTo(window)

    # A folder that cannot be written to: a sentence, no file.
    missing = tmp_path / "no such folder" / "report.pdf"
    loop.run_until_complete(window.export_pdf(missing))
    assert window.problem.isVisibleTo(window)
    assert str(missing) in window.problem.text()
    assert not missing.exists()


# -- through the engine, on a real database ----------------------------------------------
@pytest.fixture
def books(db_url: str) -> dict[str, Any]:
    """The small company's jobs: a no-heat call invoiced on 20 Nov ($250) and a drain
    cleaning (a plumbing job, Marcus's) invoiced on 24 Nov ($180); two more not invoiced."""
    technicians = small_company(db_url)
    orders = [row[0] for row in sql(db_url, "SELECT id FROM work_orders ORDER BY id")]
    drains = one(
        db_url,
        "INSERT INTO job_types (trade, name, default_duration_min) "
        "VALUES ('plumbing', 'Drain cleaning', 60) RETURNING id",
    )
    sql(db_url, "UPDATE work_orders SET job_type_id = %s WHERE id = %s", drains, orders[2])
    charge_and_complete(db_url, orders[0], "250")
    charge_and_complete(db_url, orders[2], "180")
    invoice(db_url, orders[0], dt.date(2026, 11, 20))
    invoice(db_url, orders[2], dt.date(2026, 11, 24))
    # The books stamp a posting with the server's now: these were posted on their day.
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("SET session_replication_role = replica")
        for order, day in ((orders[0], 20), (orders[2], 24)):
            db.execute(
                "UPDATE invoices SET posted_at = %s WHERE work_order_id = %s",
                (dt.datetime(2026, 11, day, 15, 0, tzinfo=TZ), order),
            )
        db.execute("SELECT dispatch_rebuild_report_facts()")
    return {"orders": orders, "drains": drains, "technicians": technicians}


def posted_elsewhere(url: str, order: int, total: str, day: dt.date) -> None:
    """Another workstation's invoice for ``order``, posted on ``day``: the row written as
    it stood (the books' triggers off), then the work order marked invoiced, whose hint
    goes out when the transaction commits."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("SET session_replication_role = replica")
        db.execute(
            "INSERT INTO invoices (work_order_id, customer_id, kind, status, total, credited,"
            " paid, serial, number, posted_at) SELECT id, customer_id, 'standard', 'posted',"
            " %s, 0, 0, 9000 + id, 'INV-' || (9000 + id), %s FROM work_orders WHERE id = %s",
            (decimal.Decimal(total), dt.datetime.combine(day, dt.time(15), tzinfo=TZ), order),
        )
        db.execute("SET session_replication_role = DEFAULT")
        db.execute("UPDATE work_orders SET status = 'invoiced' WHERE id = %s", (order,))


def choose(loop, combo, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    act(loop, lambda: combo.setCurrentIndex(index))


def double_click(loop, qtbot, view, row: int) -> None:
    """A user's double-click on ``row``: a click, then the double-click event (QTest sends
    only the second)."""
    middle = view.visualRect(view.model().index(row, 0)).center()
    act(loop, lambda: qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=middle))
    act(loop, lambda: qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=middle))


def answered(loop, window: ReportsWindow, wanted: Callable[[ReportResult], bool]) -> None:
    pump_until(
        loop, lambda: window.result is not None and wanted(window.result) and not window.reading
    )


def test_the_chooser_period_and_filters_drive_what_is_asked(
    loop, db_url, books, open_window
) -> None:
    workspace, window = open_window(db_url)
    # The last 30 days by default, on the company's calendar (Friday 4 December).
    assert window.result is not None
    assert window.result.filter == ReportFilter(dt.date(2026, 11, 5), dt.date(2026, 12, 4))
    assert window.definition.text() == window.report_name.definition
    assert [window.trade.itemText(n) for n in range(window.trade.count())] == [
        "All trades",
        "HVAC",
        "Plumbing",
    ]
    assert window.technician.findText("Ava Kowalski") > 0

    choose(loop, window.report_chooser, ReportName.REVENUE_BY_JOB_TYPE.value)
    choose(loop, window.period_chooser, QuickPick.LAST_MONTH.value)
    november = ReportFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    answered(
        loop, window, lambda r: r.name is ReportName.REVENUE_BY_JOB_TYPE and r.filter == november
    )
    assert window.since.date().toPython() == dt.date(2026, 11, 1)
    engine_says = loop.run_until_complete(
        workspace.read(engine.run_report, ReportName.REVENUE_BY_JOB_TYPE, november)
    )
    assert window.result == engine_says
    texts = [line[0] for line in table_text(window)]
    assert "No heat call" in texts and "Drain cleaning" in texts
    assert "$430.00" in [card.value.text() for card in window.figure_cards]

    # A trade: its job types only, and the report of its work.
    choose(loop, window.trade, "plumbing")
    assert [window.job_type.itemText(n) for n in range(window.job_type.count())] == [
        "All job types",
        "Drain cleaning",
    ]
    answered(loop, window, lambda r: r.filter.trade == "plumbing")
    lines = [line[0] for line in table_text(window)]
    assert "Drain cleaning" in lines and "No heat call" not in lines
    assert window.period_line.text() == "1–30 Nov 2026 · Plumbing"

    choose(loop, window.trade, None)
    choose(loop, window.technician, books["technicians"]["Ava Kowalski"])
    answered(loop, window, lambda r: r.filter.technician_id == books["technicians"]["Ava Kowalski"])
    act(loop, lambda: window.zone_filter.setText("606"))
    answered(loop, window, lambda r: r.filter.zone == "606")
    assert window.result.filter == ReportFilter(
        november.since,
        november.until,
        technician_id=books["technicians"]["Ava Kowalski"],
        zone="606",
    )

    # Dates typed: a custom period; one that ends before it starts is a sentence, not a
    # request.
    act(loop, lambda: window.since.setDate(QDate(2026, 11, 10)))
    answered(loop, window, lambda r: r.filter.since == dt.date(2026, 11, 10))
    assert window.pick is QuickPick.CUSTOM
    asked = window._report.requests
    act(loop, lambda: window.until.setDate(QDate(2026, 11, 2)))
    assert window.problem.text() == "The period ends before it starts."
    act(loop, lambda: window.since.setDate(QDate(2020, 1, 1)))
    assert window.problem.text() == "A report covers at most five years."
    assert window._report.requests == asked
    choose(loop, window.period_chooser, QuickPick.THIS_MONTH.value)
    answered(loop, window, lambda r: r.filter.since == dt.date(2026, 12, 1))
    assert not window.problem.isVisibleTo(window)


def test_csv_is_the_engines_and_the_work_orders_behind_a_line_open(
    loop, qtbot, db_url, books, open_window, tmp_path
) -> None:
    _workspace, window = open_window(db_url)
    choose(loop, window.report_chooser, ReportName.REVENUE_BY_JOB_TYPE.value)
    choose(loop, window.period_chooser, QuickPick.LAST_MONTH.value)
    answered(loop, window, lambda r: r.name is ReportName.REVENUE_BY_JOB_TYPE and len(r.rows) == 2)

    target = tmp_path / "revenue.csv"
    loop.run_until_complete(window.export_csv(target))
    assert target.read_bytes() == engine.report_csv(window.result)
    assert window.done.text() == f"Wrote the report to {target}."

    # Double-click the drain cleaning line: its one work order.
    drains = next(n for n, line in enumerate(table_text(window)) if line[0] == "Drain cleaning")
    double_click(loop, qtbot, window.table, drains)
    pump_until(loop, lambda: window.behind.ids() == [books["orders"][2]] and not window.reading)
    assert window.behind.title.text() == "Behind “Drain cleaning”"
    number = one(db_url, "SELECT number FROM work_orders WHERE id = %s", books["orders"][2])
    assert window.behind.model.index(0, 0).data() == number
    assert window.behind.model.index(0, 5).data() == "$180.00"

    # Double-click the headline: every work order the report counts.
    card = window.figure_cards[0]
    act(loop, lambda: qtbot.mouseDClick(card, Qt.MouseButton.LeftButton))
    pump_until(
        loop,
        lambda: (
            sorted(window.behind.ids()) == [books["orders"][0], books["orders"][2]]
            and not window.reading
        ),
    )

    # Double-click a work order: the app is asked to open it.
    opened: list[int] = []
    window.workOrderRequested.connect(opened.append)
    double_click(loop, qtbot, window.behind.table, window.behind.model.row_of(books["orders"][0]))
    assert opened == [books["orders"][0]]


def test_a_change_on_another_workstation_is_read_again_by_itself(
    loop, db_url, books, open_window
) -> None:
    _workspace, window = open_window(db_url)
    choose(loop, window.report_chooser, ReportName.REVENUE_BY_JOB_TYPE.value)
    choose(loop, window.period_chooser, QuickPick.LAST_MONTH.value)
    answered(loop, window, lambda r: r.name is ReportName.REVENUE_BY_JOB_TYPE and len(r.rows) == 2)

    charge_and_complete(db_url, books["orders"][1], "95")
    posted_elsewhere(db_url, books["orders"][1], "95", dt.date(2026, 11, 25))
    pump_until(loop, lambda: "$525.00" in [card.value.text() for card in window.figure_cards])

    # Out of sight, a change only marks the report stale; shown again, it reads.
    act(loop, window.hide)
    asked = window._report.requests
    charge_and_complete(db_url, books["orders"][3], "75")
    posted_elsewhere(db_url, books["orders"][3], "75", dt.date(2026, 11, 26))
    pump_until(loop, lambda: window.stale and not window._reread.isActive())
    assert window._report.requests == asked
    act(loop, window.present)
    pump_until(loop, lambda: "$600.00" in [card.value.text() for card in window.figure_cards])


def test_only_a_manager_finds_reports_in_the_file_menu(
    loop, db_url, start, tmp_path, settings_dir, scratch_server: ScratchServer
) -> None:
    try:
        for role, offered in (("dispatcher", False), ("manager", True)):
            url = scratch_server.login(db_url, role)
            app, task = start(options_for(url, tmp_path))
            wait_for(loop, app.live, task)
            assert app.window.reports_action.isVisible() is offered, role
            assert app.window.reports_action in app.window.file_menu.actions()
    finally:
        scratch_server.drop_logins()


def test_file_reports_opens_the_window_and_a_work_order_behind_a_figure(
    loop, qtbot, db_url, books, start, tmp_path, settings_dir
) -> None:
    app, task = start(options_for(db_url, tmp_path / "data", clock=FixedClock(NOW)))
    wait_for(loop, app.live, task)
    assert app.window.reports_action.isVisible()  # the owner of the single database
    act(loop, app.window.reports_action.trigger)
    window = app.reports
    assert window is not None and window.isVisible()
    choose(loop, window.report_chooser, ReportName.AVERAGE_JOB_VALUE.value)
    choose(loop, window.period_chooser, QuickPick.LAST_MONTH.value)
    answered(
        loop,
        window,
        lambda r: r.name is ReportName.AVERAGE_JOB_VALUE and r.filter.since == dt.date(2026, 11, 1),
    )
    assert "$215.00" in [card.value.text() for card in window.figure_cards]
    window.show_behind(None, "Average job value")
    pump_until(loop, lambda: len(window.behind.ids()) == 2 and not window.reading)
    row = window.behind.model.row_of(books["orders"][2])
    act(loop, lambda: window.behind.table.activated.emit(window.behind.model.index(row, 0)))
    assert books["orders"][2] in app.editors

    # Opened again: the same window, in front.
    act(loop, window.close)
    act(loop, app.window.reports_action.trigger)
    assert app.reports is window and window.isVisible()


def test_every_report_on_the_demo_company_is_drawn(
    loop, qtbot, db_url, open_window, tmp_path
) -> None:
    """Each report on the demo company, as a manager sees it (``DISPATCH_SCREENSHOTS``
    keeps the pictures): read without a problem, with lines or the empty state's words."""
    database = make_sync_engine(db_url)
    try:
        with Session(database) as session:
            seed_demo(session, now=NOW)
            session.commit()
    finally:
        database.dispose()
    _workspace, window = open_window(db_url)
    window.resize(1400, 900)
    folder = Path(os.environ.get("DISPATCH_SCREENSHOTS") or tmp_path)
    for name in ReportName:
        choose(loop, window.report_chooser, name.value)
        answered(loop, window, lambda r, name=name: r.name is name)
        assert not window.problem.isVisibleTo(window), window.problem.text()
        assert not window.done.isVisibleTo(window)  # the last report's PDF is not this one's
        result = window.result
        assert result is not None and (result.rows or result.note), name
        assert window.grab().save(str(folder / f"report-{name.value}.png"))
        printed = folder / f"report-{name.value}.pdf"
        loop.run_until_complete(window.export_pdf(printed))
        assert printed.read_bytes().startswith(b"%PDF")
        assert name.heading in pdf_text(printed)

    # The work orders behind the biggest job type: as many as the line counts.
    choose(loop, window.report_chooser, ReportName.REVENUE_BY_JOB_TYPE.value)
    answered(loop, window, lambda r: r.name is ReportName.REVENUE_BY_JOB_TYPE)
    assert window.result is not None
    jobs = window.result.rows[0].cells[2]
    double_click(loop, qtbot, window.table, 0)
    pump_until(loop, lambda: len(window.behind.ids()) == jobs and not window.reading)
    assert window.grab().save(str(folder / "report-behind.png"))


def test_a_report_the_database_refuses_is_a_sentence_in_the_window(
    loop, db_url, books, open_window, scratch_server: ScratchServer
) -> None:
    """A manager whose login may not read the revenue (the grants taken back here): the
    report that needs it is refused in a sentence, in the window."""
    groups = ", ".join(f"dispatch_{group}" for group in ("viewer", "csr", "dispatcher", "manager"))
    sql(db_url, f"REVOKE SELECT ON posted_revenue FROM {groups}")
    try:
        url = scratch_server.login(db_url, "manager")
        workspace, window = open_window(url, shown=False)
        act(loop, window.present)  # the average job value: the revenue's figures
        pump_until(loop, lambda: window.problem.isVisibleTo(window) and not window.reading)
        sentence = window.problem.text()
        assert sentence == "Your role (Manager) may not read posted revenue."
        assert window.result is None
        window.hide()
        loop.run_until_complete(window.aclose())
        loop.run_until_complete(workspace.aclose())
    finally:
        scratch_server.drop_logins()
