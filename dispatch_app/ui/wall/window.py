"""The wall display's one window: the day and the clock on top, today's figures, the
board with the map beside it (on a wide screen), and a status line for problems.

It only shows. No widget in it takes the keyboard or a click, the pointer is hidden, and
nothing it does opens a dialog: a problem is a sentence on the status line, and an
outage is "Reconnecting since 10:42" in the corner while the last known board stays up.
Its timers are the clock's minute and the board's pages; the data arrives from the day
store (``bind_store``) and the money from whoever reads it (``show_money``).

Threading contract: GUI thread only.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from dispatch_app import APP_NAME
from dispatch_app.domain.clock import Clock, local_now
from dispatch_app.services.day_store import DayStore, StoreChange
from dispatch_app.services.wall import DayFigures, DayMoney, day_counts
from dispatch_app.services.workspace import FeedState
from dispatch_app.ui.wall import theme
from dispatch_app.ui.wall.board import WallBoard
from dispatch_app.ui.wall.figures import FiguresStrip

log = logging.getLogger(__name__)

PAGE_S = 15  # how long a page of technicians stays up
WIDE_ENOUGH_FOR_MAP = 1600  # pixels: narrower screens give the board all the width
MAP_SHARE = 0.26  # of the width, when the map is shown


class WallWindow(QWidget):
    closing = Signal()
    connectionShown = Signal(str)  # the connection state's words, each time they change

    def __init__(self, clock: Clock, *, show_map: bool = True) -> None:
        super().__init__()
        self.setObjectName("wallWindow")
        self.setWindowTitle(self.tr("{0} — Wall display").format(APP_NAME))
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            f"#wallWindow {{ background: {theme.css(theme.BACKGROUND)}; }}"
            f"QLabel {{ color: {theme.css(theme.TEXT)}; }}"
        )
        self.clock = clock
        self.store: DayStore | None = None
        self._zone: dt.tzinfo | None = None
        self.figures = DayFigures()
        self.feed_state = FeedState.CONNECTING
        self.outage_since: dt.datetime | None = None  # on the company's clock
        self.connection_text = ""

        self.day_label = QLabel(self)
        self.day_label.setFont(theme.font(theme.HEADER_PX, bold=True))
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("wallConnection")
        self.connection_label.setFont(theme.font(theme.HEADER_PX, bold=True))
        self.clock_label = QLabel(self)
        self.clock_label.setObjectName("wallClock")
        self.clock_label.setFont(theme.font(theme.CLOCK_PX, bold=True))
        header = QHBoxLayout()
        header.addWidget(self.day_label, 1)
        header.addWidget(self.connection_label, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addSpacing(40)
        header.addWidget(self.clock_label, 0, Qt.AlignmentFlag.AlignVCenter)

        self.strip = FiguresStrip(self)
        self.board = WallBoard(clock, self)
        self.map = None
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.board, 1)
        if show_map:
            from dispatch_app.ui.wall.map import WallMap  # Qt WebEngine: only when shown

            self.map = WallMap(self)
            body.addWidget(self.map)

        self.status_line = QLabel(self)
        self.status_line.setObjectName("wallStatus")
        self.status_line.setFont(theme.font(theme.STATUS_LINE_PX, bold=True))
        self.status_line.setStyleSheet(f"color: {theme.css(theme.WARNING)};")
        self.status_line.setWordWrap(True)
        self.status_line.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.strip)
        layout.addLayout(body, 1)
        layout.addWidget(self.status_line)

        self.page_timer = QTimer(self)
        self.page_timer.setInterval(PAGE_S * 1000)
        self.page_timer.timeout.connect(self.board.next_page)
        self.page_timer.start()
        self.minute_timer = QTimer(self)
        self.minute_timer.setSingleShot(True)
        self.minute_timer.timeout.connect(self.tick)
        self.set_feed_state(FeedState.CONNECTING)
        self.tick()

    # -- the data ---------------------------------------------------------------------
    def bind_store(self, store: DayStore) -> None:
        self.store = store
        self.board.bind(store)
        if self.map is not None:
            self.map.bind(store)
        store.subscribe(self._store_changed)

    def _store_changed(self, change: StoreChange) -> None:
        store = self.store
        if store is not None and store.window is not None:
            self._zone = store.window.timezone
            if change.day_changed:
                day = store.window.day
                self.day_label.setText(f"{day:%A} {day.day} {day:%B}")
                self.figures = DayFigures(self.figures.counts)  # the money is another day's
                self.tick()
        self.recount()

    def recount(self) -> None:
        """The counts again from the store (at the clock's now: lateness moves with it)."""
        store = self.store
        if store is None or store.window is None:
            return
        now = local_now(self.clock, store.window.timezone)
        counts = day_counts(store.visits(), store.unassigned(), now)
        self.figures = DayFigures(counts, self.figures.money)
        self.strip.show_figures(self.figures)

    def show_money(self, money: DayMoney) -> None:
        self.figures = DayFigures(self.figures.counts, money)
        self.strip.show_figures(self.figures)

    # -- the clock --------------------------------------------------------------------
    def tick(self) -> None:
        """The clock's minute: its face, the now-line, lateness; then wait for the next."""
        now = self.now()
        self.clock_label.setText(f"{now.hour:02d}:{now.minute:02d}")
        self.recount()
        self.board.update()
        seconds = now.second + now.microsecond / 1e6
        self.minute_timer.start(max(1000, int((60 - seconds) * 1000)))

    def now(self) -> dt.datetime:
        """The company's wall clock (this computer's zone until the company's is known)."""
        return local_now(self.clock, self._zone) if self._zone else self.clock.now().astimezone()

    # -- the connection ---------------------------------------------------------------
    def set_feed_state(self, state: FeedState) -> None:
        """Live, or since when it is not: the moment the outage began on the company's
        clock, kept through every failed attempt until the feed is live again."""
        self.feed_state = state
        if state == FeedState.LIVE:
            self.outage_since = None
            colour, text = theme.LIVE, self.tr("Live")
        elif state == FeedState.CONNECTING:
            colour, text = theme.MUTED, self.tr("Connecting…")
        elif state in (FeedState.RECONNECTING, FeedState.OFFLINE):
            if self.outage_since is None:
                self.outage_since = self.now()
            since = self.outage_since
            colour = theme.WARNING
            text = self.tr("Reconnecting since {0}").format(f"{since.hour:02d}:{since.minute:02d}")
        else:
            return  # stopped: the display is closing
        self.connection_label.setText(f"<span style='color:{theme.css(colour)}'>●</span> {text}")
        self.connection_label.setStyleSheet(f"color: {theme.css(colour)};")
        self.connection_text = text
        self.connectionShown.emit(text)

    def show_problem(self, sentence: str) -> None:
        """A sentence on the status line ("" clears it)."""
        self.status_line.setText(sentence)
        self.status_line.setVisible(bool(sentence))

    # -- layout -----------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.map is not None:
            wide = self.width() >= WIDE_ENOUGH_FOR_MAP
            self.map.setVisible(wide)
            self.map.setFixedWidth(int(self.width() * MAP_SHARE))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)
