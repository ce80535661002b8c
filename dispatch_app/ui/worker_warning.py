"""The main window's warning that customer messages are not going out: an amber label in
the status bar, "Messages are not being sent: no worker since 10:42 AM.", shown while no
worker's heartbeat is fresh and hidden again once one beats.

It asks the database at start and every 30 seconds (a heartbeat is not a change the feed
reports), through the workspace and never on the GUI thread's time.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from dispatch_app.errors import UserFacingError
from dispatch_app.services.outbox import queue
from dispatch_app.services.outbox.queue import WorkerStatus
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.tasks import WindowTasks

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 30_000
AMBER_STYLE = (
    "background: #fff4e5; color: #8a4b00; border: 1px solid #f0b35a; border-radius: 3px;"
    "padding: 1px 8px; margin-right: 8px;"
)


class WorkerWarning(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workerWarning")
        self.setStyleSheet(AMBER_STYLE)
        self.hide()
        self.workspace: Workspace | None = None
        self.status: WorkerStatus | None = None  # the last answer (tests read it)
        self.tasks = WindowTasks("worker warning")
        self._asking = False
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check)

    def bind(self, workspace: Workspace, *, check_now: bool = True) -> None:
        """Watch ``workspace``'s outbox from now on. The single-PC app runs its own
        worker: its first heartbeat is a moment away, so the first look waits a round."""
        self.workspace = workspace
        self.timer.start()
        if check_now:
            self.check()

    def check(self) -> None:
        if self.workspace is not None and not self._asking:
            self._asking = True  # a slow server: one question at a time
            self.tasks.spawn(self._check(self.workspace))

    async def _check(self, workspace: Workspace) -> None:
        try:
            status = await workspace.read(queue.worker_status, clock=workspace.clock)
        except UserFacingError as error:
            # The live label already says when the database does not answer.
            log.info("could not read the workers' heartbeat: %s", error)
            return
        finally:
            self._asking = False
        self.status = status
        store = workspace.store
        zone: dt.tzinfo = store.window.timezone if store and store.window else dt.UTC
        self.show_warning(status.warning(zone), status.waiting)

    def show_warning(self, sentence: str | None, waiting: int = 0) -> None:
        self.setText(sentence or "")
        self.setToolTip(
            self.tr(
                "{0} message(s) wait to be sent. Start the worker: python main.py worker"
            ).format(waiting)
            if sentence
            else ""
        )
        self.setVisible(sentence is not None)

    async def aclose(self) -> None:
        self.timer.stop()
        self.workspace = None
        await self.tasks.aclose()
