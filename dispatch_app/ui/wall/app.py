"""Running the wall display: ``python main.py wall``.

``WallDisplay`` owns the order of things, as the desktop app's ``DispatchApp`` does:
the window first, then the company database through a ``Workspace``, the day store
kept live by the change feed, and today's money re-read (debounced) when a hint names
a table it sums. Nobody sits at a wall display, so nothing here asks or opens a
dialog: a database that cannot be opened is a sentence on the status line and another
try a little later, for as long as it takes; an outage once running is the feed's
("Reconnecting since 10:42"), and the last known board stays up until it is over.

With a shared server's URL the wall logs in as whatever login the URL names, and only
reads, so a viewer's login is enough. Without one it opens (or shares) the single PC's
embedded server, as the desktop app does.

Threading contract: GUI thread (qasync); database work is the workspace's coroutines.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from dispatch_app import APP_NAME, ORGANIZATION
from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, today
from dispatch_app.errors import UserFacingError
from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.wall import MONEY_TABLES, day_money
from dispatch_app.services.workspace import (
    ChangeHint,
    FeedState,
    Workspace,
    explain_database_error,
)
from dispatch_app.ui.stop_signals import listen_for_stop_signals
from dispatch_app.ui.wall.window import WallWindow

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_S = 2.0  # a database that would not open is tried again after this, then
LAST_RETRY_S = 60.0  # twice as long each time, up to this
MONEY_DEBOUNCE_MS = 1000  # at most one money read a second under a burst of hints
SCREENSHOT_TIMEOUT_S = 60.0
LIVE_WAIT_S = 5.0
MAP_WAIT_S = 10.0
STOP_GRACE_S = 5.0
SCREENSHOT_SIZE = QSize(1920, 1080)


@dataclass(frozen=True, slots=True)
class WallOptions:
    database: DatabaseChoice
    data_dir: Path
    screenshot: Path | None = None
    size: QSize | None = None  # a window this size rather than full screen
    day: dt.date | None = None  # None: today, following the clock past midnight
    clock: Clock = SYSTEM_CLOCK
    show_map: bool = True


class WallDisplay:
    """The running wall display: its window, its workspace and the reads it keeps up."""

    def __init__(self, options: WallOptions) -> None:
        self.options = options
        self.window = WallWindow(options.clock, show_map=options.show_map)
        self.workspace: Workspace | None = None
        self.loaded = asyncio.Event()  # the day is read and the feed started
        self.live = asyncio.Event()  # the feed is connected
        self.money_reads = 0  # finished reads of today's money
        self._closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        closed = self._closed
        self.window.closing.connect(lambda: _resolve(closed))
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._boot: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._money_running = False
        self._money_again = False
        self._money_timer = QTimer(self.window)
        self._money_timer.setSingleShot(True)
        self._money_timer.setInterval(MONEY_DEBOUNCE_MS)
        self._money_timer.timeout.connect(self.read_money_soon)
        self.window.minute_timer.timeout.connect(self._follow_the_day)

    # -- lifecycle --------------------------------------------------------------------
    async def run(self) -> int:
        options = self.options
        if options.screenshot is not None:
            self.window.resize(options.size or SCREENSHOT_SIZE)
            self.window.show()
        elif options.size is not None:
            self.window.resize(options.size)
            self.window.show()
        else:
            self.window.showFullScreen()
        self._boot = asyncio.ensure_future(self.boot())
        self._boot.add_done_callback(self._boot_ended)
        try:
            if options.screenshot is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(self._boot), SCREENSHOT_TIMEOUT_S)
                except TimeoutError:
                    raise UserFacingError(
                        f"The wall display had not read the day after {SCREENSHOT_TIMEOUT_S:.0f} s."
                    ) from None
                except UserFacingError as error:
                    print(f"{APP_NAME}: {error}", file=sys.stderr)
                    return error.exit_code
                return await self.take_screenshot(options.screenshot)
            await self._closed
            return 0
        finally:
            await self.shutdown()

    async def boot(self) -> None:
        """Open the database, read the day and start the feed; each step tried again
        until it works (or, for a screenshot, the first failure said and ended)."""
        self.window.show_problem(self.window.tr("Opening the database…"))
        options = self.options
        workspace = await self._until_done(
            lambda: Workspace.open(options.database, data_dir=options.data_dir, clock=options.clock)
        )
        self.workspace = workspace
        store = workspace.prepare_day(
            options.day, on_state=self._on_feed_state, on_error=self._on_refresh_error
        )
        self.window.bind_store(store)
        store.subscribe(self._store_changed)
        self._unsubscribe = workspace.changes.watch_tables(MONEY_TABLES, self._money_hints)
        await self._until_done(workspace.start_day)
        self.window.show_problem("")
        await self.read_money()
        self.loaded.set()

    async def _until_done(self, attempt: Callable[[], Awaitable[T]]) -> T:
        delay = FIRST_RETRY_S
        while True:
            try:
                return await attempt()
            except UserFacingError as error:
                if self.options.screenshot is not None:
                    raise  # nobody is watching: the command line says it
                log.warning("the wall display could not start: %s", error)
                self.window.show_problem(
                    self.window.tr("{0} Trying again in {1} s.").format(error, int(delay))
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY_S)

    async def shutdown(self) -> None:
        self._stopping = True
        self._money_timer.stop()
        self.window.page_timer.stop()
        self.window.minute_timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()
            await asyncio.wait([self._boot])
        if self._tasks:
            _done, late = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.window.map is not None:
            await self.window.map.aclose()
        if self.workspace is not None:
            workspace, self.workspace = self.workspace, None
            await workspace.aclose()

    def _boot_ended(self, boot: asyncio.Task[None]) -> None:
        """A start that failed in a way nobody wrote a sentence for: said on the screen
        (a screenshot's failure is the command line's to say)."""
        if boot.cancelled() or boot.exception() is None:
            return
        failure = boot.exception()
        if isinstance(failure, UserFacingError):
            return  # a screenshot's: the command line says it
        log.error("the wall display could not start", exc_info=failure)
        if self.options.screenshot is None:
            self.window.show_problem(
                self.window.tr(
                    "The wall display stopped starting ({0}); restart it, and run it with -v "
                    "for the details."
                ).format(type(failure).__name__)
            )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the feed ---------------------------------------------------------------------
    def _on_feed_state(self, state: FeedState, _since: dt.datetime) -> None:
        was_down = self.window.outage_since is not None
        self.window.set_feed_state(state)
        if state == FeedState.LIVE:
            self.live.set()
            self.window.show_problem("")
            if was_down:  # the money's hints during the outage were lost
                self.read_money_soon()
        else:
            self.live.clear()

    def _on_refresh_error(self, error: Exception) -> None:
        workspace = self.workspace
        said = (
            explain_database_error(error, workspace.url, workspace.role)
            if workspace is not None
            else error
        )
        self.window.show_problem(
            self.window.tr("Could not refresh: {0} Showing the board as last read.").format(said)
        )

    def _store_changed(self, change: StoreChange) -> None:
        if change.day_changed and self.loaded.is_set():
            self.read_money_soon()

    def _follow_the_day(self) -> None:
        """Past midnight, today is another day (unless a day was asked for)."""
        workspace = self.workspace
        store = workspace.store if workspace is not None else None
        if self._stopping or self.options.day is not None or store is None or workspace is None:
            return
        window = store.window
        if window is None or today(self.options.clock, window.timezone) == window.day:
            return

        async def turn_the_page() -> None:
            try:
                await workspace.show_days(None, 1)
            except UserFacingError as error:
                log.info("could not read the new day yet: %s", error)

        self._spawn(turn_the_page())

    # -- the money --------------------------------------------------------------------
    def _money_hints(self, _hints: list[ChangeHint]) -> None:
        if not self._money_timer.isActive():
            self._money_timer.start()

    def read_money_soon(self) -> None:
        if not self._stopping:
            self._spawn(self.read_money())

    async def read_money(self) -> None:
        """Today's money, once at a time; asked again while reading, read once more."""
        if self._money_running:
            self._money_again = True
            return
        self._money_running = True
        try:
            while True:
                self._money_again = False
                await self._read_money_once()
                if not self._money_again or self._stopping:
                    return
        finally:
            self._money_running = False

    async def _read_money_once(self) -> None:
        workspace = self.workspace
        store = workspace.store if workspace is not None else None
        window = store.window if store is not None else None
        if workspace is None or window is None:
            return
        try:
            money = await workspace.read(day_money, window.day, window.timezone)
        except UserFacingError as error:  # the feed's state says it; the last figures stay
            log.info("could not read today's money: %s", error)
            return
        if store is not None and store.window == window:
            self.window.show_money(money)
            self.money_reads += 1

    # -- screenshot -------------------------------------------------------------------
    async def take_screenshot(self, path: Path) -> int:
        if path.suffix.lower() != ".png":
            raise UserFacingError(f"The screenshot path {path} must end in .png.")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.live.wait(), LIVE_WAIT_S)
        await self._map_drawn()
        painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.window.board.painted.connect(lambda: _resolve(painted))
        self.window.board.update()
        await asyncio.wait_for(painted, SCREENSHOT_TIMEOUT_S)
        image = self.window.grab()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path), "PNG"):
            raise UserFacingError(f"Could not write the screenshot to {path}.")
        print(f"Screenshot saved to {path}", file=sys.stderr)
        return 0

    async def _map_drawn(self) -> None:
        """Wait (a while at most) for the map to hold the day's markers and paint them."""
        shown = self.window.map
        store = self.workspace.store if self.workspace is not None else None
        if shown is None or not shown.isVisible() or store is None or not store.technicians:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAP_WAIT_S
        while loop.time() < deadline and not shown.counts.get("technicians"):
            await asyncio.sleep(0.05)
        while loop.time() < deadline and _plain(shown.view.grab().toImage()):
            await asyncio.sleep(0.05)


def _plain(image: QImage) -> bool:
    """Whether a picture is nearly one colour (a web view that has not painted yet)."""
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 16) for y in range(0, image.height(), 16)
    }
    return len(colours) < 12


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def run_wall(options: WallOptions) -> int:
    """Run the wall display until its window closes (or Ctrl+C / SIGTERM); the exit code."""
    if options.show_map:
        import dispatch_app.ui.wall.map  # noqa: F401  (Qt WebEngine before the application)

    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(ORGANIZATION)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QSelectorEventLoop(app)  # psycopg refuses Windows' Proactor loop
    asyncio.set_event_loop(loop)
    display = WallDisplay(options)
    try:
        with loop:

            def stop(_signum: int) -> None:
                display.window.close()

            stop_listening = listen_for_stop_signals(loop, stop)
            try:
                return loop.run_until_complete(display.run())
            finally:
                stop_listening()
    finally:
        asyncio.set_event_loop(None)


__all__ = ["WallDisplay", "WallOptions", "run_wall"]
