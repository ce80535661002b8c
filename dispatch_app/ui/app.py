"""Starting and stopping the desktop app on a qasync event loop.

``run_gui`` owns the order of things: window first (so the user sees the app at once),
then the database opened off the GUI thread, then the day loaded, then the change feed
that keeps it live. One ``boot()`` opens what lives long; ``shutdown()`` closes it.

The app ends the way its window closes, whether by the close box, File ▸ Quit, Ctrl+Q,
Ctrl+C in the terminal or SIGTERM: unsaved work is asked about first (when a person is
there to answer), then everything is closed in order and the embedded server stopped if
this was its last user — also when the app is ended while it is still starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from dispatch_app import APP_NAME, ORGANIZATION
from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.errors import DatabaseUnreachable, LoginRefused, UserFacingError
from dispatch_app.services.backup import backups_folder, daily_backup
from dispatch_app.services.database import prepare_demo_company
from dispatch_app.services.day_store import DayStore
from dispatch_app.services.intake import BookedCall
from dispatch_app.services.leads.inbox import LeadRow
from dispatch_app.services.leads.token import lead_token_is_set
from dispatch_app.services.sign_in import (
    Credentials,
    PasswordVault,
    has_password,
    server_key,
    user_of,
    with_credentials,
)
from dispatch_app.services.workspace import FeedState, Workspace
from dispatch_app.ui.backup import BackupTarget
from dispatch_app.ui.follow_ups.window import FollowUpsWindow, open_follow_ups
from dispatch_app.ui.intake.window import CallIntake
from dispatch_app.ui.leads.inbox import LeadsWindow
from dispatch_app.ui.main_window import MainWindow
from dispatch_app.ui.message_templates import MessageTemplatesWindow
from dispatch_app.ui.office.window import OfficeWindow
from dispatch_app.ui.people import PeopleWindow
from dispatch_app.ui.sign_in import SignInDialog
from dispatch_app.ui.stop_signals import listen_for_stop_signals
from dispatch_app.ui.workorder.editor import WorkOrderEditor

if TYPE_CHECKING:
    from dispatch_app.ui.reports.window import ReportsWindow

log = logging.getLogger(__name__)

INTAKE_GEOMETRY_KEY = "callIntake/geometry"

SCREENSHOT_TIMEOUT_S = 60
# A backup still running at exit gets this long before the server is stopped under it
# (which ends it, leaving no half-written file behind).
BACKUP_WAIT_S = 60
LIVE_WAIT_S = 5


@dataclass(frozen=True, slots=True)
class GuiOptions:
    database: DatabaseChoice
    data_dir: Path
    demo: bool = False
    screenshot: Path | None = None
    size: QSize | None = None
    day: dt.date | None = None
    clock: Clock = SYSTEM_CLOCK  # the company's now (a fixed one for demos and tests)
    daily_backup: bool = True  # the embedded database's backup, once a day at start
    keyring: Any = None  # where a password is remembered (default: the OS keyring)


class DispatchApp:
    """The running app: its window, its database and its change feed."""

    def __init__(self, options: GuiOptions) -> None:
        self.options = options
        self.window = MainWindow(clock=options.clock)
        self.workspace: Workspace | None = None  # the open company database, once booted
        self._closing = False
        # Whether a person watches the window and can answer "discard unsaved work?" when
        # the app is told to stop by a signal; else a signal quits without asking.
        self.attended = someone_can_answer()
        self.ended_by: signal.Signals | None = None  # the signal the app is ending on
        self.editors: dict[int, WorkOrderEditor] = {}  # open editors by work order id
        self.window.unsaved_work = self.unsaved_work
        self.window.workOrderRequested.connect(self.open_work_order)
        self.intake: CallIntake | None = None
        self.window.callRequested.connect(self.open_intake)
        self.people: PeopleWindow | None = None
        self.window.peopleRequested.connect(self.open_people)
        self.billing: OfficeWindow | None = None
        self.window.billingRequested.connect(self.open_billing)
        self.templates: MessageTemplatesWindow | None = None
        self.window.templatesRequested.connect(self.open_templates)
        self.leads: LeadsWindow | None = None
        self.window.leadsRequested.connect(self.open_leads)
        self.follow_ups: FollowUpsWindow | None = None
        self.window.followUpsRequested.connect(self.open_follow_ups)
        self.reports: ReportsWindow | None = None
        self.window.reportsRequested.connect(self.open_reports)
        self.settings = QSettings()
        self.vault = PasswordVault(options.keyring)
        self.sign_in: SignInDialog | None = None  # on screen while the server asks
        self.loaded = asyncio.Event()
        self._closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        closed = self._closed
        self.window.closing.connect(lambda: _resolve(closed))
        self.live = asyncio.Event()
        self._range_task: asyncio.Task[None] | None = None
        self.daily_backup: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------
    async def run(self) -> int:
        closed = self._closed
        self.window.restore_layout(self.settings)
        if self.options.size is not None:
            self.window.resize(self.options.size)
        self.window.show()
        try:
            if not await self._boot_unless_closed():
                return self.exit_code()
            if self.options.screenshot is not None:
                return await self.take_screenshot(self.options.screenshot)
            await closed
            return self.exit_code()
        except UserFacingError as error:
            return await self.fail(error)
        finally:
            await self.shutdown()

    async def _boot_unless_closed(self) -> bool:
        """Boot, unless the app is closed first (Ctrl+C while the server starts): then
        the boot is cancelled, which undoes what it began. True when booted."""
        boot = asyncio.ensure_future(self.boot())
        await asyncio.wait([boot, self._closed], return_when=asyncio.FIRST_COMPLETED)
        if boot.done():
            boot.result()  # its failure is the app's
            return True
        boot.cancel()
        await asyncio.wait([boot])
        if not boot.cancelled() and boot.exception() is not None:
            log.info("closed while starting, which then failed: %s", boot.exception())
        return False

    def exit_code(self) -> int:
        """0 for a close, or 128 + the signal the app was ended by (as a shell reports)."""
        return 128 + self.ended_by if self.ended_by is not None else 0

    async def boot(self) -> None:
        self.window.show_problem(self.window.tr("Opening the database…"))
        workspace = await self._open_workspace()
        self.workspace = workspace
        self.window.set_database(workspace.label)
        self.window.set_signed_in("" if workspace.embedded else workspace.login, workspace.role)
        demo_note = None
        if self.options.demo and workspace.embedded:
            self.window.show_problem(self.window.tr("Preparing the demo company…"))
            demo_note = await workspace.run_plain(
                asyncio.to_thread(prepare_demo_company, workspace.url, self.options.clock)
            )
        # The board shows the day before it is read, so its first paint is the day's.
        store = workspace.prepare_day(
            self.options.day,
            on_state=self._on_feed_state,
            on_error=lambda _error: self.window.show_problem(
                self.window.tr("Could not refresh: the database did not answer.")
            ),
        )
        self.window.bind_store(store)
        self.window.board_actions.bind(workspace)
        self.window.rangeRequested.connect(self.show_range)
        await workspace.start_day()
        if workspace.embedded:
            # On one PC the app is the company's only client: it sends the messages, runs
            # the follow-up rules, and takes web leads once a token says it should.
            workspace.start_outbox_worker()
        self.window.worker_warning.bind(workspace, check_now=not workspace.embedded)
        self.window.statusBar().clearMessage()
        if workspace.embedded:
            await self._take_leads(workspace)
        self.window.backups.bind(
            BackupTarget(
                url=workspace.url,
                embedded=self.options.database.embedded,
                data_dir=self.options.data_dir,
                clock=self.options.clock,
                pause=self._close_record_windows,
                resume=self._read_everything_again,
            )
        )
        if self.options.database.embedded and self.options.daily_backup:
            self.daily_backup = asyncio.ensure_future(self._make_daily_backup(workspace.url))
        if demo_note is not None:
            self.window.show_problem(demo_note)
        log.info("the board is loaded")
        self.loaded.set()

    async def _open_workspace(self) -> Workspace:
        """The company database, signed in. On a shared server that wants a password:
        the one remembered in the keyring, else the person is asked (again, with the
        server's reason, until it lets them in or they quit)."""
        choice, options = self.options.database, self.options
        if choice.url is None or has_password(choice.url):
            return await Workspace.open(choice, data_dir=options.data_dir, clock=options.clock)
        url = choice.url
        key = server_key(url)
        user = user_of(url) or str(self.settings.value(f"signIn/{key}/user", "") or "")
        remembered = self.vault.password(url, user)
        attempt = Credentials(user, remembered or "")
        remember = False
        while True:
            target = with_credentials(url, attempt) if attempt.user else url
            try:
                workspace = await Workspace.open(
                    DatabaseChoice(target, choice.origin),
                    data_dir=options.data_dir,
                    clock=options.clock,
                )
            except LoginRefused as refused:
                if remembered and attempt.password == remembered:
                    self.vault.forget(url, attempt.user)  # changed since: ask for the new one
                    remembered = None
                if options.screenshot is not None:
                    raise  # nobody is there to answer
                problem = str(refused) if attempt.password else None
                asked = await self._ask_sign_in(key, attempt.user, problem)
                if asked is None:
                    raise LoginRefused(f"Nobody signed in to {key}.") from None
                attempt, remember = asked
                continue
            if attempt.user:
                self.settings.setValue(f"signIn/{key}/user", attempt.user)
            if remember and attempt.password:
                self.vault.remember(url, attempt)
            return workspace

    async def _ask_sign_in(
        self, server: str, user: str, problem: str | None
    ) -> tuple[Credentials, bool] | None:
        dialog = SignInDialog(
            server,
            user=user,
            problem=problem,
            can_remember=self.vault.available,
            parent=self.window,
        )
        self.sign_in = dialog
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        results: list[int] = []

        def answer(result: int) -> None:
            results.append(result)
            _resolve(answered)

        dialog.finished.connect(answer)
        dialog.open()
        try:
            await asyncio.wait([answered, self._closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.sign_in = None
            dialog.hide()
            dialog.deleteLater()
        if results[:1] != [SignInDialog.DialogCode.Accepted.value]:
            return None
        return dialog.credentials(), dialog.remember.isChecked()

    async def shutdown(self) -> None:
        self._closing = True  # from here on, hints and requests start nothing new
        # F2 and Ctrl+Q are application-wide: a window left behind (a failed start) must not
        # keep them, or a later main window in the same process would find them ambiguous.
        self.window.new_call_action.setEnabled(False)
        self.window.quit_action.setEnabled(False)
        if self.intake is not None and self.intake.isVisible():
            self.settings.setValue(INTAKE_GEOMETRY_KEY, self.intake.saveGeometry())
        self.window.save_layout(self.settings)
        for editor in list(self.editors.values()):
            await editor.aclose()
        if self.intake is not None:
            await self.intake.aclose()
        if self.people is not None:
            self.people.close()
            await self.people.aclose()
        if self.billing is not None:
            self.billing.close()
            await self.billing.aclose()
        if self.templates is not None:
            self.templates.hide()  # unsaved words were asked about before quitting
            await self.templates.aclose()
        if self.leads is not None:
            self.leads.close()
            await self.leads.aclose()
        if self.follow_ups is not None:
            self.follow_ups.hide()  # unsaved rules were asked about before quitting
            await self.follow_ups.aclose()
        if self.reports is not None:
            self.reports.close()
            await self.reports.aclose()
        await self.window.board_actions.aclose()
        await self.window.worker_warning.aclose()
        await self.window.backups.aclose()
        if self.daily_backup is not None:
            await asyncio.wait([self.daily_backup], timeout=BACKUP_WAIT_S)
        await self.window.map.aclose()  # loading ZIP centroids may be under way
        if self._range_task is not None:
            await asyncio.wait([self._range_task], timeout=LIVE_WAIT_S)
        if self.workspace is not None:
            workspace, self.workspace = self.workspace, None
            await workspace.aclose()

    async def fail(self, error: UserFacingError) -> int:
        """One sentence on stderr and in the window; then exit with the error's code."""
        message = str(error)
        print(f"{APP_NAME}: {message}", file=sys.stderr)
        self.window.show_problem(message)
        if self.options.screenshot is None:
            box = QMessageBox(
                QMessageBox.Icon.Critical,
                APP_NAME,
                message,
                QMessageBox.StandardButton.Close,
                self.window,
            )
            box.setObjectName("fatalError")
            done = asyncio.get_running_loop().create_future()
            box.finished.connect(lambda _result: _resolve(done))
            box.open()
            await asyncio.wait([done, self._closed], return_when=asyncio.FIRST_COMPLETED)
            box.close()
        return error.exit_code

    # -- backups ----------------------------------------------------------------------
    async def _make_daily_backup(self, url: str) -> None:
        """Today's backup of the embedded database, if there is none yet; a failure is
        reported and never stops the app."""
        today = self.options.clock.now().astimezone().date()  # this computer's calendar
        try:
            folder = backups_folder(self.options.data_dir)
            dump = await asyncio.to_thread(daily_backup, url, folder, today)
        except Exception as error:
            log.warning("today's automatic backup failed: %s", error)
            self.window.show_problem(
                self.window.tr("Today's automatic backup was not made: {0}").format(error)
            )
            return
        if dump is not None:
            log.info("today's automatic backup is %s", dump.path)

    async def _close_record_windows(self) -> None:
        """Before a restore: the open work orders and the call window show data that is
        about to be replaced."""
        for editor in list(self.editors.values()):
            await editor.aclose()
            editor.hide()
            editor.deleteLater()
        self.editors.clear()
        if self.intake is not None:
            intake, self.intake = self.intake, None
            self.settings.setValue(INTAKE_GEOMETRY_KEY, intake.saveGeometry())
            await intake.aclose()
            intake.hide()
            intake.deleteLater()

    async def _read_everything_again(self) -> None:
        """After a restore: undo history refers to rows that may be gone, and the day
        is read again from scratch."""
        self.window.board_actions.stack.clear()
        if self.workspace is not None and not self._closing:
            try:
                await self.workspace.reread()
            except DatabaseUnreachable as error:
                log.warning("could not read the day after a restore: %s", error)
                self.window.show_problem(
                    self.window.tr("Could not refresh: the database did not answer.")
                )

    # -- ending -----------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        """Everything quitting would throw away, one readable line each, window by window."""
        work = [line for editor in self.editors.values() for line in editor.unsaved_work()]
        if self.intake is not None:
            work.extend(self.intake.unsaved_work())
        if self.templates is not None:
            work.extend(self.templates.unsaved_work())
        if self.follow_ups is not None:
            work.extend(self.follow_ups.unsaved_work())
        return work

    def on_signal(self, signum: int) -> None:
        """Ctrl+C or SIGTERM: close as the window's close box does. With unsaved work and a
        person there, ask once; a second signal while asking, or nobody to ask, quits
        without asking (still stopping everything in order)."""
        received = signal.Signals(signum)
        if self._closed.done():
            log.info("%s while already stopping", received.name)
            return
        log.info("%s: closing", received.name)
        self.ended_by = received
        question = self.window.quit_question
        if not self.attended or (question is not None and question.isVisible()):
            self.window.quit_without_asking()
            return
        self.window.close()
        question = self.window.quit_question
        if question is not None and question.isVisible():
            question.finished.connect(self._asked_after_signal)

    def _asked_after_signal(self, _result: int) -> None:
        if not self._closed.done():  # the user went back to work: a later close is a close
            self.ended_by = None

    # -- data -------------------------------------------------------------------------
    def show_range(self, day: dt.date | None, days: int) -> None:
        """Show other days (date picker, today, zoom), read off the GUI thread."""
        workspace = self.workspace
        if workspace is None or self._closing:
            return

        async def read() -> None:
            try:
                await workspace.show_days(day, days)
            except DatabaseUnreachable as error:
                log.warning("could not read the days asked for: %s", error)
                self.window.show_problem(
                    self.window.tr("Could not read those days: the database did not answer.")
                )
            except UserFacingError as error:  # a day outside the schedule's years
                self.window.show_problem(str(error))

        previous = self._range_task

        async def after_previous() -> None:
            if previous is not None:  # one range read at a time, in the order asked
                await asyncio.wait([previous])
            await read()

        self._range_task = asyncio.ensure_future(after_previous())

    def _on_feed_state(self, state: FeedState, since: dt.datetime) -> None:
        self.window.set_live_state(state, since)
        if state == FeedState.LIVE:
            self.live.set()
        else:
            self.live.clear()

    @property
    def store(self) -> DayStore | None:
        return self.workspace.store if self.workspace is not None else None

    def open_work_order(self, work_order_id: int) -> WorkOrderEditor | None:
        """Show the work order's editor (one per work order), loading it off the GUI."""
        if self.workspace is None or self._closing:
            return None
        editor = self.editors.get(work_order_id)
        if editor is None:
            editor = WorkOrderEditor(
                self.workspace, work_order_id, self.window, clock=self.options.clock
            )
            self.editors[work_order_id] = editor
            editor.finished.connect(lambda _result: self.editors.pop(work_order_id, None))
            editor.load_soon()
        editor.show()
        editor.raise_()
        editor.activateWindow()
        return editor

    def open_people(self) -> PeopleWindow | None:
        """The People window (an admin's; the database refuses anyone else)."""
        if self.workspace is None or self._closing:
            return None
        if self.people is None:
            self.people = PeopleWindow(self.workspace)
        else:
            self.people.reload()
        self.people.show()
        self.people.raise_()
        self.people.activateWindow()
        return self.people

    def open_billing(self) -> OfficeWindow | None:
        """The office's Billing & stock window (every role reads it)."""
        if self.workspace is None or self._closing:
            return None
        if self.billing is None:
            self.billing = OfficeWindow(self.workspace)
            self.billing.openWorkOrder.connect(self.open_work_order)
        else:
            self.billing.reload()
        self.billing.show()
        self.billing.raise_()
        self.billing.activateWindow()
        return self.billing

    def open_templates(self) -> MessageTemplatesWindow | None:
        """The customer message templates (a manager's; the database refuses anyone else)."""
        if self.workspace is None or self._closing:
            return None
        if self.templates is None:
            self.templates = MessageTemplatesWindow(self.workspace)
        if not self.templates.is_dirty():
            self.templates.reload()
        self.templates.show()
        self.templates.raise_()
        self.templates.activateWindow()
        return self.templates

    async def _take_leads(self, workspace: Workspace) -> None:
        """Serve the lead endpoint when its token is set; when it cannot listen, say so
        in the status bar and go on."""
        try:
            if not await workspace.run(lead_token_is_set):
                return
            served = await workspace.start_lead_endpoint()
        except UserFacingError as failure:
            log.warning("the lead endpoint is not running: %s", failure)
            self.window.statusBar().showMessage(
                self.window.tr("Web leads are not being taken: {0}").format(failure), 15_000
            )
            return
        log.info("lead endpoint listening on %s", served.url)

    def open_follow_ups(self) -> FollowUpsWindow | None:
        """The follow-ups list (every role reads it; a CSR and up work it) and its rules
        (a manager's)."""
        if self.workspace is None:
            return None
        if self.follow_ups is None:
            self.follow_ups = open_follow_ups(self.workspace)
            self.follow_ups.workOrderRequested.connect(self.open_work_order)
        else:
            self.follow_ups.present()
        return self.follow_ups

    def open_reports(self) -> ReportsWindow | None:
        """The managers' reports (the menu offers them to managers)."""
        if self.workspace is None or self._closing:
            return None
        if self.reports is None:
            # matplotlib loads here, on first use, not at start-up (ui/reports/chart.py).
            from dispatch_app.ui.reports.window import open_reports

            self.reports = open_reports(self.workspace)
            self.reports.workOrderRequested.connect(self.open_work_order)
        else:
            self.reports.present()
        return self.reports

    def open_leads(self) -> LeadsWindow | None:
        """The Leads inbox (every role reads it; a CSR and up work it)."""
        if self.workspace is None or self._closing:
            return None
        if self.leads is None:
            self.leads = LeadsWindow(self.workspace)
            self.leads.bookRequested.connect(self.book_lead)
            self.leads.workOrderRequested.connect(self.open_work_order)
        self.leads.reload()
        self.leads.show()
        self.leads.raise_()
        self.leads.activateWindow()
        return self.leads

    def book_lead(self, lead: LeadRow, zone: dt.tzinfo) -> CallIntake | None:
        """The call intake, filled in from a lead; its booking marks the lead booked.
        A call being typed there is not thrown away for it."""
        intake = self.open_intake()
        if intake is None:
            return None
        if intake.has_typing() and intake.lead is None:
            intake.show_problem(
                self.window.tr(
                    "Finish or close the call being typed first, then book the lead again."
                )
            )
            return intake
        intake.take_lead(lead, zone)
        return intake

    def open_intake(self) -> CallIntake | None:
        """Show the call intake (one per workstation), ready for the caller's number."""
        if self.workspace is None or self._closing:
            return None
        if self.intake is None:
            # A board opened on another day (--day) offers windows from that day on.
            self.intake = CallIntake(
                self.workspace,
                self.window,
                clock=self.options.clock,
                first_day=self.options.day,
            )
            self.intake.booked.connect(self._call_booked)
            self.intake.workOrderRequested.connect(self.open_work_order)
            # Where the CSR put it last time (a second monitor, say).
            geometry = self.settings.value(INTAKE_GEOMETRY_KEY)
            if isinstance(geometry, QByteArray):
                self.intake.restoreGeometry(geometry)
            intake = self.intake
            intake.finished.connect(
                lambda _result: self.settings.setValue(INTAKE_GEOMETRY_KEY, intake.saveGeometry())
            )
            self.intake.start()
        self.intake.show()
        self.intake.raise_()
        self.intake.activateWindow()
        self.intake.lookup.setFocus()
        return self.intake

    def _call_booked(self, booked: BookedCall) -> None:
        # The board shows it through the change feed, like a colleague's booking.
        text = booked.note or self.window.tr("{0} booked.").format(booked.number)
        self.window.statusBar().showMessage(text, 8000)

    # -- screenshot ---------------------------------------------------------------------
    async def take_screenshot(self, path: Path) -> int:
        # Show the true connection state rather than "Connecting…" when it can.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.live.wait(), LIVE_WAIT_S)
        # Let the event loop lay out and paint the window with its data at least once.
        painted = asyncio.get_running_loop().create_future()

        def on_painted() -> None:
            if not painted.done():
                painted.set_result(None)

        self.window.board.painted.connect(on_painted)
        self.window.board.viewport().update()
        await asyncio.wait_for(painted, SCREENSHOT_TIMEOUT_S)
        await self._map_drawn()
        image = self.window.grab()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise UserFacingError(f"Could not write the screenshot to {path}.")
        print(f"Screenshot saved to {path}", file=sys.stderr)
        return 0

    async def _map_drawn(self) -> None:
        """Wait until the map page holds the day's markers (a picture of a blank map says
        nothing); give up quietly after a while, since a screenshot without it still helps."""
        dock = self.window.map
        store = self.store
        if not dock.isVisible() or store is None or not store.technicians:
            return
        updated = asyncio.Event()
        dock.updated.connect(updated.set)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + LIVE_WAIT_S
            while not dock.counts.get("technicians") and loop.time() < deadline:
                updated.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(updated.wait(), deadline - loop.time())
            # The web view paints in its own time: wait for a frame with the markers on it.
            while loop.time() < deadline and _plain(dock.view.grab().toImage()):
                await asyncio.sleep(0.05)
        finally:
            dock.updated.disconnect(updated.set)


def _plain(image: QImage) -> bool:
    """Whether a picture is nearly one colour (a web view that has not painted yet)."""
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 16) for y in range(0, image.height(), 16)
    }
    return len(colours) < 12


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def someone_can_answer() -> bool:
    """Whether a person can answer a question the app asks when a signal tells it to stop:
    it was started from a terminal, on a screen (not offscreen)."""
    interactive = sys.stdin is not None and sys.stdin.isatty()
    return interactive and QGuiApplication.platformName() not in ("offscreen", "minimal")


def run_gui(options: GuiOptions) -> int:
    """Run the desktop app until its window closes (or Ctrl+C / SIGTERM closes it);
    returns the process exit code."""
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(ORGANIZATION)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the event loop ends when run() returns
    # psycopg's async mode refuses Windows' default Proactor loop: ask for a selector loop.
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = DispatchApp(options)
    try:
        with loop:
            # Before anything starts: from here on a signal ends the app in order.
            stop_listening = listen_for_stop_signals(loop, controller.on_signal)
            try:
                return loop.run_until_complete(controller.run())
            finally:
                stop_listening()
    finally:
        asyncio.set_event_loop(None)


__all__ = ["DispatchApp", "FeedState", "GuiOptions", "run_gui"]
