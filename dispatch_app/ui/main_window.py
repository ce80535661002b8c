"""The main window: the board in the centre, docks around it, the connection below.

Closing it quits the app; while any window holds unsaved work it asks first, naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from dispatch_app import APP_NAME
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.clock import today as clock_today
from dispatch_app.domain.roles import Action, Role, may
from dispatch_app.services.day_store import DayStore, StoreChange
from dispatch_app.services.workspace import FeedState
from dispatch_app.ui.backup import BackupActions
from dispatch_app.ui.board.actions import BoardActions
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.models import TechnicianModel, VisitModel
from dispatch_app.ui.board.toolbar import BoardFilters, BoardToolbar
from dispatch_app.ui.details.panel import DetailsDock
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.map.dock import MapDock
from dispatch_app.ui.queue.dock import UnassignedDock
from dispatch_app.ui.resources import icon
from dispatch_app.ui.worker_warning import WorkerWarning

GEOMETRY_KEY = "mainWindow/geometry"
STATE_KEY = "mainWindow/state"

LIVE_STYLE = {
    FeedState.CONNECTING: ("#66727f", "Connecting…"),
    FeedState.LIVE: ("#2e9d57", "Live"),
    FeedState.RECONNECTING: ("#d9960b", "Reconnecting"),
    FeedState.OFFLINE: ("#c0504d", "Offline"),
    FeedState.STOPPED: ("#66727f", "Not listening"),
}


class MainWindow(QMainWindow):
    closing = Signal()  # the window closes (nothing unsaved, or the user said discard): quit
    storeApplied = Signal()  # a store change has reached every view
    workOrderRequested = Signal(int)  # work order id: the user wants to open it
    liveStateChanged = Signal(str)  # the status bar's live-updates text, as shown
    rangeRequested = Signal(object, int)  # datetime.date, days: show these days instead
    callRequested = Signal()  # the user wants the call intake (F2)
    peopleRequested = Signal()  # an admin wants the People window
    billingRequested = Signal()  # the office's lists: not invoiced, unpaid, stock
    templatesRequested = Signal()  # the customer message templates (a manager's)
    leadsRequested = Signal()  # the Leads inbox (every role reads it)
    followUpsRequested = Signal()  # the follow-ups list and its rules
    reportsRequested = Signal()  # the managers' reports

    def __init__(self, parent: QWidget | None = None, *, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(parent)
        self.clock = clock
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("app"))
        self.store: DayStore | None = None
        # What every window of the app holds unsaved (the app tells; see DispatchApp).
        self.unsaved_work: Callable[[], list[str]] = list
        self.quit_question: QMessageBox | None = None
        self._quitting_anyway = False
        self.technician_model = TechnicianModel(self)
        self.visit_model = VisitModel(self)

        self.board = DayBoardView(self)
        self.board.clock = clock
        self.board.set_models(self.technician_model, self.visit_model)
        self.setCentralWidget(self.board)
        self.toolbar = BoardToolbar(self, clock=clock)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.filters = BoardFilters()
        self.board_actions = BoardActions(self.board, self)
        self.unassigned = UnassignedDock(self)
        self.unassigned.model.clock = clock
        self.map = MapDock(self)
        self.map.visitClicked.connect(self._on_map_visit_clicked)
        self.map.technicianClicked.connect(self._on_map_technician_clicked)
        self.closing.connect(self.map.stop)
        self.details = DetailsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.unassigned)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.map)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.details)
        self.resizeDocks([self.unassigned, self.map], [360, 320], Qt.Orientation.Horizontal)

        self.database_label = QLabel(self.tr("No database"))
        self.database_label.setObjectName("databaseLabel")
        self.live_label = QLabel()
        self.live_label.setObjectName("liveLabel")
        self.signed_in_label = QLabel()
        self.signed_in_label.setObjectName("signedInLabel")
        self.signed_in_label.setStyleSheet("padding-right: 12px;")
        self.worker_warning = WorkerWarning(self)  # customer messages not going out
        self.statusBar().addPermanentWidget(self.worker_warning)
        self.statusBar().addPermanentWidget(self.signed_in_label)
        self.statusBar().addPermanentWidget(self.database_label)
        self.statusBar().addPermanentWidget(self.live_label)
        self.role = Role.OWNER
        self.set_live_state(FeedState.CONNECTING, dt.datetime.now())

        # F2 works from every window of the app: a call can come in while editing anything.
        self.new_call_action = QAction(self.tr("New &call…"), self)
        self.new_call_action.setObjectName("newCall")
        self.new_call_action.setIconText(self.tr("New call (F2)"))
        self.new_call_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.new_call_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.new_call_action.setToolTip(self.tr("Take a call: find the caller, book the job (F2)"))
        self.new_call_action.triggered.connect(self.callRequested)
        self.addAction(self.new_call_action)
        first = self.toolbar.actions()[0]
        self.toolbar.insertAction(first, self.new_call_action)
        self.toolbar.insertSeparator(first)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setObjectName("quit")
        # Ctrl+Q on every platform (Windows has no standard quit key), from any window.
        quit_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q))
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        quit_action.triggered.connect(self.close)  # the same road as the window's close box
        self.addAction(quit_action)
        self.quit_action = quit_action
        self.backups = BackupActions(self)
        self.backups.done.connect(lambda text: self.statusBar().showMessage(text, 30_000))
        self.backups.failed.connect(self.show_problem)
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        file_menu.setObjectName("fileMenu")
        file_menu.addAction(self.new_call_action)
        file_menu.addSeparator()
        file_menu.addAction(self.backups.backup_action)
        file_menu.addAction(self.backups.restore_action)
        file_menu.addSeparator()
        # An admin's, on a shared server (the single-PC database has one owner, no logins).
        self.people_action = QAction(self.tr("&People…"), self)
        self.people_action.setObjectName("people")
        self.people_action.setStatusTip(self.tr("Who may sign in, and their roles"))
        self.people_action.triggered.connect(self.peopleRequested)
        self.people_action.setVisible(False)
        file_menu.addAction(self.people_action)
        self.billing_action = QAction(self.tr("&Billing && stock…"), self)
        self.billing_action.setObjectName("billing")
        self.billing_action.setShortcut(
            QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_B)
        )
        self.billing_action.setStatusTip(
            self.tr("Work not invoiced, invoices unpaid by age, and what each truck holds")
        )
        self.billing_action.triggered.connect(self.billingRequested)
        file_menu.insertAction(self.people_action, self.billing_action)
        self.templates_action = QAction(self.tr("&Message templates…"), self)
        self.templates_action.setObjectName("messageTemplates")
        self.templates_action.setStatusTip(
            self.tr("The words of the texts and emails customers receive")
        )
        self.templates_action.triggered.connect(self.templatesRequested)
        self.templates_action.setVisible(False)  # a manager's: shown once signed in
        file_menu.insertAction(self.people_action, self.templates_action)
        self.leads_action = QAction(self.tr("&Leads…"), self)
        self.leads_action.setObjectName("leads")
        self.leads_action.setShortcut(
            QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_L)
        )
        self.leads_action.setStatusTip(
            self.tr("Missed calls to call back, every inbound lead, and what the misses cost")
        )
        self.leads_action.triggered.connect(self.leadsRequested)
        file_menu.insertAction(self.billing_action, self.leads_action)
        self.follow_ups_action = QAction(self.tr("F&ollow-ups…"), self)
        self.follow_ups_action.setObjectName("followUps")
        self.follow_ups_action.setShortcut(
            QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_F)
        )
        self.follow_ups_action.setStatusTip(
            self.tr("Callbacks, win-backs, jobs to close and renewals due, and their rules")
        )
        self.follow_ups_action.triggered.connect(self.followUpsRequested)
        file_menu.insertAction(self.billing_action, self.follow_ups_action)
        self.reports_action = QAction(self.tr("&Reports…"), self)
        self.reports_action.setObjectName("reports")
        self.reports_action.setStatusTip(
            self.tr("Job value, completion, first-time fix, productivity, revenue and more")
        )
        self.reports_action.triggered.connect(self.reportsRequested)
        self.reports_action.setVisible(False)  # a manager's: shown once signed in
        file_menu.insertAction(self.templates_action, self.reports_action)
        file_menu.addAction(quit_action)
        self.file_menu = file_menu
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        edit_menu.addAction(self.board_actions.undo_action)
        edit_menu.addAction(self.board_actions.redo_action)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        for dock in (self.unassigned, self.map, self.details):
            view_menu.addAction(dock.toggleViewAction())

        self.toolbar.dayChosen.connect(
            lambda day: self.rangeRequested.emit(day, self.board.days_shown())
        )
        self.toolbar.zoomChosen.connect(
            lambda days: self.rangeRequested.emit(self.board.day(), days)
        )
        self.toolbar.filtersChanged.connect(self.set_filters)
        self.board_actions.problem.connect(self.show_problem)
        self.board_actions.done.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.board.queue_job = self.unassigned.model.job_of_visit
        self.board.queue_area = self.unassigned.contains_global

        self.board.visitSelected.connect(self._on_visit_selected)
        self.board.workOrderRequested.connect(self.workOrderRequested)
        self.details.workOrderRequested.connect(self.workOrderRequested)
        self.unassigned.workOrderRequested.connect(self.workOrderRequested)
        self.resize(1600, 900)

    # -- state shown ------------------------------------------------------------------
    def bind_store(self, store: DayStore) -> None:
        """Show ``store`` from now on; every later change arrives through ``apply``."""
        self.store = store
        store.subscribe(self.apply)

    def apply(self, change: StoreChange) -> None:
        store = self.store
        assert store is not None and store.window is not None
        window = store.window
        if change.settings is not None:
            self.board.set_settings(change.settings)
        if change.truck_stock is not None:
            self.board.set_truck_stock(change.truck_stock)
        if change.technicians is not None:
            self.technician_model.set_technicians(change.technicians, new_day=change.day_changed)
            self.toolbar.set_skills(sorted({s for t in change.technicians for s in t.skills}))
        self.visit_model.apply(change, store.visits())
        self.board.set_day(window.day, window.timezone, window.days)
        if change.day_changed:
            today = clock_today(self.clock, window.timezone)
            self.toolbar.show_range(window.day, window.days, today)
        if change.unassigned_upserted or change.unassigned_removed or change.day_changed:
            waiting = store.unassigned()
            self.unassigned.model.set_jobs(waiting)
            self.unassigned.setWindowTitle(self.tr("Unassigned ({0})").format(len(waiting)))
        if self.filters.searches:
            self._search()
        self.map.apply(change, store)
        self.storeApplied.emit()

    def set_filters(self, filters: BoardFilters) -> None:
        """Trade and skill choose the rows; ZIP and text pick out visits and queue jobs."""
        self.filters = filters
        self.board.set_row_filter(filters.keeps_technician if filters.filters_technicians else None)
        self.unassigned.proxy.set_filters(
            trade=filters.trade, zip_prefix=filters.zip_prefix, text=filters.text
        )
        self._search()

    def _search(self) -> None:
        filters = self.filters
        if not filters.searches or self.store is None:
            self.board.set_matches(None)
            return
        self.board.set_matches(
            frozenset(v.id for v in self.store.visits() if filters.matches_visit(v))
        )

    def set_signed_in(self, login: str, role: Role) -> None:
        """Who is at this workstation, and what their role lets them reach: what it may
        not do is disabled here (and refused by the database anyway)."""
        self.role = role
        if role is Role.OWNER and not login:
            self.signed_in_label.setText(self.tr("Single PC"))
        else:
            self.signed_in_label.setText(self.tr("{0} · {1}").format(login, role.label))
        self.signed_in_label.setToolTip(
            self.tr("Signed in as {0}, with the {1} role").format(login or "owner", role.label)
        )
        self.new_call_action.setEnabled(may(role, Action.BOOK_CALLS))
        self.board.schedules = may(role, Action.SCHEDULE)
        self.board_actions.role = role
        self.backups.allowed = may(role, Action.BACK_UP)
        self.backups.bind_role()
        self.people_action.setVisible(bool(login) and may(role, Action.PEOPLE))
        self.templates_action.setVisible(may(role, Action.TEMPLATES))
        self.reports_action.setVisible(may(role, Action.REPORTS))

    def set_database(self, label: str) -> None:
        self.database_label.setText(self.tr("Database: {0}").format(label))

    def set_live_state(self, state: FeedState, since: dt.datetime) -> None:
        colour, text = LIVE_STYLE[state]
        if state in (FeedState.RECONNECTING, FeedState.STOPPED):
            text = self.tr("{0} since {1}").format(text, since.strftime("%H:%M"))
        self.live_label.setText(f"<span style='color:{colour}'>●</span> {self.tr(text)}")
        self.live_label.setProperty("feedState", state.value)
        self.liveStateChanged.emit(text)

    def show_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    def _on_visit_selected(self, visit_id: int) -> None:
        store = self.store
        visit = store.visit(visit_id) if store is not None and visit_id else None
        self.details.show_visit(
            visit,
            store.technicians if store else (),
            store.window.timezone if store and store.window else None,
        )
        self.map.select_visit(visit_id)

    def _on_map_technician_clicked(self, technician_id: int) -> None:
        """Their current or next visit; with none, at least their row."""
        visit_id = self.map.visit_for_technician(technician_id)
        if visit_id and self.store is not None and self.store.visit(visit_id) is not None:
            self._on_map_visit_clicked(visit_id)
        else:
            self.board.show_technician(technician_id)

    def _on_map_visit_clicked(self, visit_id: int) -> None:
        """A marker clicked on the map selects its visit on the board (jobs still in the
        queue are not on the board: the map alone highlights them)."""
        if visit_id and self.store is not None and self.store.visit(visit_id) is not None:
            self.board.select_visit(visit_id)
            self.board.ensure_visible(visit_id)

    # -- geometry ---------------------------------------------------------------------
    def restore_layout(self, settings: QSettings) -> None:
        geometry = settings.value(GEOMETRY_KEY)
        state = settings.value(STATE_KEY)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(STATE_KEY, self.saveState())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        work = [] if self._quitting_anyway else self.unsaved_work()
        self._quitting_anyway = False  # one "discard" covers one close
        if work:
            event.ignore()
            self.ask_before_quitting(work)
            return
        self.closing.emit()
        if self.quit_question is not None:
            self.quit_question.close()  # answered by the quitting itself
        super().closeEvent(event)

    def ask_before_quitting(self, work: list[str]) -> QMessageBox:
        """Ask whether to throw ``work`` away and quit; nothing closes until the user says
        so (Cancel, the default, keeps everything as it is)."""
        question = self.quit_question
        if question is not None and question.isVisible():
            question.raise_()
            question.activateWindow()
            return question
        self.raise_()
        self.activateWindow()
        question = confirm(
            self,
            self.tr("Quit {0}? This work is not saved:").format(APP_NAME),
            self.tr("Discard and quit"),
            self.quit_without_asking,
            name="quitQuestion",
            details="\n".join(f"• {line}" for line in work),
        )
        self.quit_question = question
        return question

    def quit_without_asking(self) -> None:
        """Close now, whatever is unsaved (the user chose to, or nobody is there to ask)."""
        self._quitting_anyway = True
        self.close()
