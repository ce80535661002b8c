"""The Reports window (File ▸ Reports…, a manager's): one report at a time for a period of
whole days on the company's calendar and the work a manager picks (trade, job type,
technician, ZIP zone) — its headline figures large, a chart, the table, the table as CSV,
the whole as a PDF, and the work orders behind any line or figure.

Every figure is PostgreSQL's (``services/reports``): the window asks, latest request
wins, and shows the answer. Nobody presses refresh: while the window is on screen, a
change to work orders, visits, invoices or leads on any workstation reads the report
again, at most once a second; out of sight it only marks the report stale.

Threading contract: GUI thread only; reads run as tasks on the qasync loop through the
workspace, and only their answers touch widgets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QDate,
    QModelIndex,
    QRegularExpression,
    QSettings,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QKeySequence,
    QMouseEvent,
    QRegularExpressionValidator,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.clock import local_now
from dispatch_app.domain.reports import (
    Figure,
    FilterChoices,
    ReportFilter,
    ReportName,
    ReportResult,
    WorkOrderLine,
)
from dispatch_app.domain.vocabulary import Trade
from dispatch_app.errors import OutputFailed, UserFacingError
from dispatch_app.services import reports as engine
from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.follow_ups.tasks import follow_ups_zone
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import DONE_STYLE, error_label, muted, show_error
from dispatch_app.ui.intake.job_types import TRADE_LABEL
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.office.common import headline, records_view
from dispatch_app.ui.reports.behind import WorkOrdersBehind
from dispatch_app.ui.reports.cells import cell_text
from dispatch_app.ui.reports.chart import ReportChart, chart_png
from dispatch_app.ui.reports.pdf import write_report_pdf
from dispatch_app.ui.reports.period import QuickPick, period_for, period_text, pick_for
from dispatch_app.ui.reports.table import ReportTableModel, TableLine
from dispatch_app.ui.tasks import WindowTasks

GEOMETRY_KEY = "reportsWindow/geometry"
REPORT_KEY = "reportsWindow/report"
PICK_KEY = "reportsWindow/period"
SPLITTER_KEY = "reportsWindow/splitter"
# A report reads thousands of rows: while the office is busy, once a second at most.
REREAD_MS = 1000
TYPING_MS = 400  # a ZIP zone is read once the typing stops
BEHIND_LIMIT = 500  # the work orders listed behind a figure
BEHIND_WIDTH = 720  # pixels: the list of work orders beside the report
WATCHED = ("work_orders", "visits", "time_entries", "invoices", "leads", "follow_ups")
FIGURE_POINTS = 22  # a headline figure's size, read from across the desk
MINIMUM_CHART_PANE = 200

Request = tuple[ReportName, ReportFilter]
Behind = tuple[ReportName, ReportFilter, str | None]


class HeadlineFigure(QFrame):
    """One headline figure: its words small, its value large; double-click for the work
    orders behind it."""

    doubleClicked = Signal()

    def __init__(self, figure: Figure) -> None:
        super().__init__()
        self.setObjectName("headlineFigure")
        self.figure = figure
        self.setStyleSheet(
            "QFrame#headlineFigure { background: #ffffff; border: 1px solid #dde2e8;"
            " border-radius: 6px; }"
        )
        self.setToolTip(self.tr("Double-click for the work orders behind it"))
        label = QLabel(figure.label)
        label.setObjectName("figureLabel")
        label.setStyleSheet(f"color: {theme.MUTED_TEXT.name()}; border: none;")
        self.value = QLabel(cell_text(figure.value, figure.kind))
        self.value.setObjectName("figureValue")
        font = self.value.font()
        font.setPointSizeF(FIGURE_POINTS)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setStyleSheet(f"color: {theme.TEXT.name()}; border: none;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 18, 10)
        layout.setSpacing(2)
        layout.addWidget(label)
        layout.addWidget(self.value)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.doubleClicked.emit()
        event.accept()


class ReportsWindow(QWidget):
    workOrderRequested = Signal(int)  # work order id: open it in the work order editor
    answered = Signal()  # a report was read and is shown (tests wait for it)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("reportsWindow")
        self.setWindowTitle(self.tr("Reports — {0}").format(workspace.label))
        self.workspace = workspace
        self.tasks = WindowTasks("reports window")
        self.zone: dt.tzinfo | None = None  # the company's, once read
        self.choices: FilterChoices | None = None  # what the filters offer, once read
        self.result: ReportResult | None = None
        self.stale = True  # nothing read yet, or something changed since
        self.chooser: QFileDialog | None = None  # the open file chooser, if any
        self._behind: Behind | None = None  # the question the side list answers
        self._setting_up = False
        self._report: LatestRequest[Request, ReportResult] = LatestRequest(
            self._fetch, show=self._show_answer, fail=self._failed, spawn=self.tasks.spawn
        )
        self._behind_request: LatestRequest[Behind, list[WorkOrderLine]] = LatestRequest(
            self._fetch_behind,
            show=self._show_behind,
            fail=self._behind_failed,
            spawn=self.tasks.spawn,
        )
        self._build()
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)

        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(REREAD_MS)
        self._reread.timeout.connect(self._read_stale)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_MS)
        self._typing.timeout.connect(self.ask)
        self._unsubscribe = workspace.changes.watch_tables(WATCHED, self._changed)

        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1280, 860)
        split = settings.value(SPLITTER_KEY)
        if isinstance(split, QByteArray):
            self.body.restoreState(split)
        remembered = str(settings.value(REPORT_KEY) or "")
        if remembered in {name.value for name in ReportName}:
            self.report_chooser.setCurrentIndex(self.report_chooser.findData(remembered))
        pick = str(settings.value(PICK_KEY) or QuickPick.LAST_30_DAYS.value)
        if pick in {p.value for p in QuickPick} and pick != QuickPick.CUSTOM.value:
            self.period_chooser.setCurrentIndex(self.period_chooser.findData(pick))
        self._show_definition()

    # -- the widgets ----------------------------------------------------------------------
    def _build(self) -> None:
        self.report_chooser = QComboBox()
        self.report_chooser.setObjectName("reportChooser")
        for name in ReportName:
            self.report_chooser.addItem(name.heading, name.value)
            self.report_chooser.setItemData(
                self.report_chooser.count() - 1, name.definition, Qt.ItemDataRole.ToolTipRole
            )
        self.report_chooser.setMinimumContentsLength(28)
        self.definition = muted()
        self.definition.setObjectName("reportDefinition")

        self.period_chooser = QComboBox()
        self.period_chooser.setObjectName("periodChooser")
        for pick in QuickPick:
            self.period_chooser.addItem(self.tr(pick.label), pick.value)
        self.since = self._date_edit("reportSince")
        self.until = self._date_edit("reportUntil")

        self.trade = QComboBox()
        self.trade.setObjectName("tradeFilter")
        self.job_type = QComboBox()
        self.job_type.setObjectName("jobTypeFilter")
        self.job_type.setMinimumContentsLength(18)
        self.technician = QComboBox()
        self.technician.setObjectName("technicianFilter")
        self.technician.setMinimumContentsLength(16)
        self.zone_filter = QLineEdit()
        self.zone_filter.setObjectName("zoneFilter")
        self.zone_filter.setPlaceholderText(self.tr("ZIP starts with…"))
        self.zone_filter.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"\d{0,5}"), self.zone_filter)
        )
        self.zone_filter.setMaximumWidth(130)
        self.zone_filter.setClearButtonEnabled(True)
        for combo, everything in (
            (self.trade, self.tr("All trades")),
            (self.job_type, self.tr("All job types")),
            (self.technician, self.tr("All technicians")),
        ):
            combo.addItem(everything, None)

        self.csv_button = QPushButton(self.tr("Export &CSV…"))
        self.csv_button.setObjectName("exportCsv")
        self.pdf_button = QPushButton(self.tr("Print &PDF…"))
        self.pdf_button.setObjectName("printPdf")
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(False)

        first = QHBoxLayout()
        first.addWidget(QLabel(self.tr("&Report:")))
        first.itemAt(0).widget().setBuddy(self.report_chooser)  # type: ignore[union-attr]
        first.addWidget(self.report_chooser)
        first.addSpacing(18)
        period_label = QLabel(self.tr("P&eriod:"))
        period_label.setBuddy(self.period_chooser)
        first.addWidget(period_label)
        first.addWidget(self.period_chooser)
        first.addWidget(self.since)
        first.addWidget(QLabel("–"))
        first.addWidget(self.until)
        first.addStretch(1)
        first.addWidget(self.csv_button)
        first.addWidget(self.pdf_button)
        second = QHBoxLayout()
        filters_label = QLabel(self.tr("Work:"))
        second.addWidget(filters_label)
        for widget in (self.trade, self.job_type, self.technician, self.zone_filter):
            second.addWidget(widget)
        second.addStretch(1)

        self.heading = headline("reportHeading")
        self.period_line = muted()
        self.period_line.setObjectName("reportPeriod")
        self.problem = error_label("reportProblem")
        self.done = QLabel()
        self.done.setObjectName("reportDone")
        self.done.setStyleSheet(DONE_STYLE)
        self.done.setWordWrap(True)
        self.done.hide()
        self.figures = QHBoxLayout()
        self.figures.setSpacing(10)
        self.figure_cards: list[HeadlineFigure] = []
        strip = QWidget()
        strip.setObjectName("headlineStrip")
        strip_layout = QHBoxLayout(strip)
        strip_layout.setContentsMargins(0, 4, 0, 4)
        strip_layout.addLayout(self.figures)
        strip_layout.addStretch(1)
        self.note = QLabel()
        self.note.setObjectName("reportNote")
        self.note.setWordWrap(True)
        font = self.note.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.note.setFont(font)
        self.note.setStyleSheet(f"color: {theme.MUTED_TEXT.name()}; padding: 24px 0;")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.hide()

        self.chart = ReportChart()
        self.model = ReportTableModel(self)
        self.table = records_view("reportTable", self.model, stretch=0)
        self.table.setToolTip(self.tr("Double-click a line for the work orders behind it"))
        self.behind = WorkOrdersBehind()
        self.behind.hide()
        results = QSplitter(Qt.Orientation.Vertical)
        results.setObjectName("reportResults")
        # Many named bars make the chart taller than its pane: it scrolls, and the table
        # keeps its share of the window.
        self.chart_pane = QScrollArea()
        self.chart_pane.setObjectName("chartPane")
        self.chart_pane.setWidget(self.chart)
        self.chart_pane.setWidgetResizable(True)
        self.chart_pane.setFrameShape(QFrame.Shape.NoFrame)
        self.chart_pane.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chart_pane.setMinimumHeight(MINIMUM_CHART_PANE)
        results.addWidget(self.chart_pane)
        results.addWidget(self.table)
        results.setStretchFactor(0, 1)
        results.setStretchFactor(1, 1)
        results.setChildrenCollapsible(False)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.setObjectName("reportBody")
        self.body.addWidget(results)
        self.body.addWidget(self.behind)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)
        self.body.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(first)
        layout.addWidget(self.definition)
        layout.addLayout(second)
        layout.addSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(self.period_line)
        layout.addWidget(self.problem)
        layout.addWidget(self.done)
        layout.addWidget(strip)
        layout.addWidget(self.note)
        layout.addWidget(self.body, 1)

        self.report_chooser.currentIndexChanged.connect(self._report_chosen)
        self.period_chooser.currentIndexChanged.connect(self._pick_chosen)
        self.since.dateChanged.connect(self._dates_typed)
        self.until.dateChanged.connect(self._dates_typed)
        self.trade.currentIndexChanged.connect(self._trade_chosen)
        self.job_type.currentIndexChanged.connect(self._filters_changed)
        self.technician.currentIndexChanged.connect(self._filters_changed)
        self.zone_filter.textChanged.connect(lambda _text: self._typing.start())
        self.table.activated.connect(self._line_chosen)
        self.behind.workOrderRequested.connect(self.workOrderRequested)
        self.behind.closeRequested.connect(self.hide_behind)
        self.csv_button.clicked.connect(self.ask_csv)
        self.pdf_button.clicked.connect(self.ask_pdf)

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        edit.setMinimumDate(QDate(2000, 1, 1))
        return edit

    # -- what is asked --------------------------------------------------------------------
    @property
    def report_name(self) -> ReportName:
        return ReportName(self.report_chooser.currentData())

    @property
    def pick(self) -> QuickPick:
        return QuickPick(self.period_chooser.currentData())

    def today(self) -> dt.date:
        assert self.zone is not None
        return local_now(self.workspace.clock, self.zone).date()

    def report_filter(self) -> ReportFilter:
        zone = self.zone_filter.text().strip()
        return ReportFilter(
            since=self.since.date().toPython(),  # type: ignore[arg-type]
            until=self.until.date().toPython(),  # type: ignore[arg-type]
            trade=self.trade.currentData(),
            job_type_id=self.job_type.currentData(),
            technician_id=self.technician.currentData(),
            zone=zone or None,
        )

    def filters_text(self) -> str:
        """Which work the report counts, in words: "All work", "HVAC · Zone 606…"."""
        words = []
        for combo in (self.trade, self.job_type, self.technician):
            if combo.currentData() is not None:
                words.append(combo.currentText())
        zone = self.zone_filter.text().strip()
        if zone:
            words.append(self.tr("ZIP {0}…").format(zone))
        return " · ".join(words) if words else self.tr("All work")

    def set_period(self, since: dt.date, until: dt.date) -> None:
        """Show these days (a custom period unless a quick pick means them) and read."""
        with QSignalBlocker(self.since), QSignalBlocker(self.until):
            self.since.setDate(_qdate(since))
            self.until.setDate(_qdate(until))
        self._dates_typed()

    def _report_chosen(self) -> None:
        QSettings().setValue(REPORT_KEY, self.report_name.value)
        self._show_definition()
        self.ask()

    def _show_definition(self) -> None:
        self.definition.setText(self.report_name.definition)

    def _pick_chosen(self) -> None:
        if self.pick is not QuickPick.CUSTOM:
            QSettings().setValue(PICK_KEY, self.pick.value)
        if self.zone is None or self._setting_up:
            return
        self._fill_pick()
        self.ask()

    def _fill_pick(self) -> None:
        days = period_for(self.pick, self.today())
        if days is None:
            return
        with QSignalBlocker(self.since), QSignalBlocker(self.until):
            self.since.setDate(_qdate(days[0]))
            self.until.setDate(_qdate(days[1]))

    def _dates_typed(self) -> None:
        if self.zone is None or self._setting_up:
            return
        since, until = self.report_filter().since, self.report_filter().until
        with QSignalBlocker(self.period_chooser):
            self.period_chooser.setCurrentIndex(
                self.period_chooser.findData(pick_for(since, until, self.today()).value)
            )
        self.ask()

    def _trade_chosen(self) -> None:
        if self._setting_up:
            return
        self._fill_job_types()
        self.ask()

    def _filters_changed(self) -> None:
        if not self._setting_up:
            self.ask()

    # -- reading --------------------------------------------------------------------------
    def present(self) -> None:
        """Show the window (again), read afresh, in front: the filters' choices too (a
        technician hired since it was last open), keeping what was chosen."""
        self.stale = True
        self.choices = None
        self.show()
        self.raise_()
        self.activateWindow()
        self._read_stale()

    @property
    def reading(self) -> bool:
        return self._setting_up or self._report.running or self._behind_request.running

    def ask(self) -> None:
        """Read the report as the window now asks for it (once set up)."""
        if self.zone is None or self._setting_up or self.tasks.closed:
            return
        self.stale = False
        report_filter = self.report_filter()
        problem = report_filter.problem()
        if problem:
            self._report.forget()
            show_error(self.problem, problem)
            return
        self._report.ask((self.report_name, report_filter))

    def _read_stale(self) -> None:
        if not self.isVisible() or self.tasks.closed or not self.stale:
            return
        if self.zone is None or self.choices is None:
            if not self._setting_up:
                self._setting_up = True
                self.tasks.spawn(self._set_up())
            return
        if self.pick is not QuickPick.CUSTOM:
            self._fill_pick()  # "last 30 days" moves with the calendar
        self.ask()

    async def _set_up(self) -> None:
        """The company's time zone and what the filters offer, then the report."""
        try:
            zone = await self.workspace.read(follow_ups_zone)
            choices = await self.workspace.read(engine.filter_choices)
        except UserFacingError as error:
            show_error(self.problem, str(error))
            self.stale = True
            return
        finally:
            self._setting_up = False
        if self.tasks.closed:
            return
        self.zone = zone
        self.set_choices(choices)
        self._fill_pick()
        self.ask()

    def set_choices(self, choices: FilterChoices) -> None:
        """Fill the filters, keeping what was chosen where it is still offered."""
        self.choices = choices
        with QSignalBlocker(self.trade), QSignalBlocker(self.technician):
            chosen = self.trade.currentData()
            while self.trade.count() > 1:
                self.trade.removeItem(1)
            for trade in choices.trades:
                self.trade.addItem(_trade_text(trade), trade)
            self.trade.setCurrentIndex(max(0, self.trade.findData(chosen)))
            chosen = self.technician.currentData()
            while self.technician.count() > 1:
                self.technician.removeItem(1)
            for technician in choices.technicians:
                self.technician.addItem(technician.name, technician.id)
            self.technician.setCurrentIndex(max(0, self.technician.findData(chosen)))
        self._fill_job_types()

    def _fill_job_types(self) -> None:
        """The job types of the chosen trade (all of them for every trade)."""
        if self.choices is None:
            return
        trade = self.trade.currentData()
        with QSignalBlocker(self.job_type):
            chosen = self.job_type.currentData()
            while self.job_type.count() > 1:
                self.job_type.removeItem(1)
            for job_type in self.choices.job_types:
                if trade is None or job_type.trade == trade:
                    self.job_type.addItem(job_type.name, job_type.id)
            self.job_type.setCurrentIndex(max(0, self.job_type.findData(chosen)))

    async def _fetch(self, request: Request) -> ReportResult:
        name, report_filter = request
        return await self.workspace.read(engine.run_report, name, report_filter)

    def _show_answer(self, _request: Request, result: ReportResult) -> None:
        show_error(self.problem, None)
        self.show_result(result)
        self.answered.emit()

    def _failed(self, _request: Request, error: UserFacingError) -> None:
        show_error(self.problem, str(error))
        self.stale = True  # read again on the next change or visit

    def _changed(self, _hints: list[ChangeHint]) -> None:
        if self.tasks.closed:
            return
        self.stale = True
        # Not restarted by each hint: a steady stream of changes still reads once a second.
        if not self._reread.isActive():
            self._reread.start()

    # -- the answer -----------------------------------------------------------------------
    def show_result(self, result: ReportResult) -> None:
        """Show a report: heading, figures, the note of an empty one, chart and table."""
        shown = self.result
        self.result = result
        name, report_filter = result.name, result.filter
        if shown is None or (shown.name, shown.filter) != (name, report_filter):
            self.done.hide()  # "Wrote the report to …" was about the report before
        self.heading.setText(name.heading)
        self.period_line.setText(
            f"{period_text(report_filter.since, report_filter.until)} · {self.filters_text()}"
        )
        for card in self.figure_cards:
            self.figures.removeWidget(card)
            card.deleteLater()
        self.figure_cards = []
        for figure in result.headline:
            card = HeadlineFigure(figure)
            card.doubleClicked.connect(lambda figure=figure: self.show_behind_figure(figure))
            self.figures.addWidget(card)
            self.figure_cards.append(card)
        self.note.setText(result.note)
        self.note.setVisible(bool(result.note) and not result.rows)
        drawn = self.chart.show_result(result)
        self.chart_pane.setVisible(drawn)
        self.table.setVisible(bool(result.rows))
        self.model.set_result(result)
        if self.model.columnCount():
            # Its columns came with the report: the first (the names) takes the width.
            self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(True)
        if self._behind is not None:
            asked_name, asked_filter, key = self._behind
            if (asked_name, asked_filter) == (name, report_filter) and self.behind.isVisible():
                self._behind_request.ask((name, report_filter, key))  # the same, read again
            else:
                self.hide_behind()

    # -- the work orders behind a figure -------------------------------------------------
    def _line_chosen(self, index: QModelIndex) -> None:
        if not index.isValid() or self.result is None:
            return
        line: TableLine = self.model.record(index.row())
        if line.total:
            what = self.tr("All of the report")
        else:
            what = cell_text(line.cells[0], self.result.columns[0].kind)
        self.show_behind(line.key, what)

    def show_behind_figure(self, figure: Figure) -> None:
        self.show_behind(None, figure.label)

    def show_behind(self, key: str | None, what: str) -> None:
        """List the work orders behind the line ``key`` (None: the whole report)."""
        if self.result is None:
            return
        self._behind = (self.result.name, self.result.filter, key)
        self.behind.asking(self.tr("Behind “{0}”").format(what))
        if not self.behind.isVisible():
            self.behind.show()
            # Wide enough for a work order's six columns, the report keeping the rest.
            total = sum(self.body.sizes())
            wanted = min(BEHIND_WIDTH, total // 2)
            self.body.setSizes([total - wanted, wanted])
        self._behind_request.ask(self._behind)

    def hide_behind(self) -> None:
        self._behind = None
        self._behind_request.forget()
        self.behind.hide()

    async def _fetch_behind(self, asked: Behind) -> list[WorkOrderLine]:
        name, report_filter, key = asked
        return await self.workspace.read(
            engine.drill_down, name, report_filter, key, limit=BEHIND_LIMIT
        )

    def _show_behind(self, _asked: Behind, lines: list[WorkOrderLine]) -> None:
        self.behind.show_lines(lines, BEHIND_LIMIT)

    def _behind_failed(self, _asked: Behind, error: UserFacingError) -> None:
        self.behind.show_problem(str(error))

    # -- the files ------------------------------------------------------------------------
    def _file_name(self, suffix: str) -> str:
        assert self.result is not None
        report_filter = self.result.filter
        return f"{self.result.name.value}-{report_filter.since}-to-{report_filter.until}.{suffix}"

    def _choose_file(self, name: str, title: str, kinds: str, suffix: str) -> QFileDialog:
        chooser = QFileDialog(self, title)
        chooser.setObjectName(name)
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setNameFilter(kinds)
        chooser.setDefaultSuffix(suffix)
        chooser.selectFile(self._file_name(suffix))
        self.chooser = chooser
        return chooser

    def ask_csv(self) -> None:
        if self.result is None:
            return
        chooser = self._choose_file(
            "csvChooser", self.tr("Export the report"), self.tr("CSV files (*.csv)"), "csv"
        )
        # The chooser has asked before replacing a file already.
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.export_csv(Path(path))))
        chooser.open()

    def ask_pdf(self) -> None:
        if self.result is None:
            return
        chooser = self._choose_file(
            "pdfChooser", self.tr("Print the report to PDF"), self.tr("PDF files (*.pdf)"), "pdf"
        )
        chooser.fileSelected.connect(lambda path: self.tasks.spawn(self.export_pdf(Path(path))))
        chooser.open()

    async def export_csv(self, path: Path) -> None:
        """The table on screen as the engine writes it (``report_csv``)."""
        if self.result is None:
            return
        self._say(None, None)
        try:
            await asyncio.to_thread(_write_whole, path, engine.report_csv(self.result))
        except UserFacingError as error:
            self._say(None, str(error))
            return
        self._say(self.tr("Wrote the report to {0}.").format(path), None)

    async def export_pdf(self, path: Path) -> None:
        """The report on screen as a printable PDF."""
        result = self.result
        if result is None:
            return
        self._say(None, None)
        try:
            # A chart and a page or two of text: quick, and Qt's text is the GUI thread's.
            write_report_pdf(result, self.filters_text(), path, chart_png=chart_png(result))
        except UserFacingError as error:
            self._say(None, str(error))
            return
        self._say(self.tr("Wrote the report to {0}.").format(path), None)

    def _say(self, done: str | None, problem: str | None) -> None:
        self.done.setText(done or "")
        self.done.setVisible(bool(done))
        show_error(self.problem, problem)

    # -- the end --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        settings = QSettings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(SPLITTER_KEY, self.body.saveState())
        self._reread.stop()
        self._typing.stop()
        self.stale = True  # read afresh when opened again
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._read_stale()

    async def aclose(self) -> None:
        self._unsubscribe()
        self._reread.stop()
        self._typing.stop()
        self._report.forget()
        self._behind_request.forget()
        await self.tasks.aclose()


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _trade_text(trade: str) -> str:
    try:
        return TRADE_LABEL[Trade(trade)]
    except ValueError:
        return trade.title()


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputFailed(f"{path} cannot be written ({error.strerror or error}).") from None


def open_reports(workspace: Workspace, parent: QWidget | None = None) -> ReportsWindow:
    """A Reports window on ``workspace``, shown and reading: the caller keeps it (and shows
    it again with ``present()``), wires ``workOrderRequested`` to the work order editor,
    and awaits ``aclose()`` at the end."""
    window = ReportsWindow(workspace, parent)
    window.present()
    return window
