"""The Follow-ups window (File ▸ Follow-ups…): the tasks the follow-up rules made — the
callbacks, the stale work orders, the customers to win back — and, on a second tab, the
rules themselves (a manager's to edit).

Nobody presses refresh: a task the worker makes, or one a colleague finishes, is a hint
from the change feed, and the list is read again a moment after the burst, keeping the
selection. The overdue count shows in the window title.

Threading contract: GUI thread only; reads and writes run as tasks on the qasync loop
through the workspace, and only their answers touch widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QMessageBox, QTabWidget, QVBoxLayout, QWidget

from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.follow_ups.rules_tab import RulesTab
from dispatch_app.ui.follow_ups.tasks_tab import TasksTab
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.tasks import WindowTasks

GEOMETRY_KEY = "followUpsWindow/geometry"
TAB_KEY = "followUpsWindow/tab"
# The worker's run makes several tasks at once: one read after the burst.
BURST_MS = 150
# "Overdue" moves with the clock even when nothing changes.
CLOCK_TICK_MS = 60_000
WATCHED = ("follow_ups", "follow_up_rules")


class FollowUpsWindow(QWidget):
    workOrderRequested = Signal(int)  # work order id: open it in the work order editor

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("followUpsWindow")
        self.workspace = workspace
        self.tasks = WindowTasks("follow-ups window")
        self.close_question: QMessageBox | None = None
        self._closing_anyway = False
        self.overdue = 0

        self.task_list = TasksTab(workspace, self.tasks)
        self.rules = RulesTab(workspace, self.tasks)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("followUpsTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.task_list, self.tr("Tasks"))
        self.tabs.addTab(self.rules, self.tr("Rules"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.tabs)
        self.task_list.workOrderRequested.connect(self.workOrderRequested)
        self.task_list.overdueChanged.connect(self._show_overdue)
        self._show_overdue(0)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.rules.save)

        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(BURST_MS)
        self._reread.timeout.connect(self._read_stale)
        self._tick = QTimer(self)
        self._tick.setInterval(CLOCK_TICK_MS)
        self._tick.timeout.connect(self.task_list.reload)
        self._unsubscribe = workspace.changes.watch_tables(WATCHED, self._changed)

        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1360, 700)
        tab = settings.value(TAB_KEY)
        if str(tab or "").isdigit() and int(str(tab)) < self.tabs.count():
            self.tabs.setCurrentIndex(int(str(tab)))
        self.tabs.currentChanged.connect(self._tab_chosen)

    def _show_overdue(self, overdue: int) -> None:
        self.overdue = overdue
        title = self.tr("Follow-ups")
        if overdue:
            title += " " + self.tr("({0} overdue)").format(overdue)
        self.setWindowTitle(f"{title} — {self.workspace.label}")
        self.tabs.setTabText(
            0, self.tr("Tasks ({0} overdue)").format(overdue) if overdue else self.tr("Tasks")
        )

    def present(self) -> None:
        """Show the window (again), read afresh, in front."""
        self.reload()
        self.show()
        self.raise_()
        self.activateWindow()

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        """Everything may have changed (the window is opened again): both tabs read
        when next on screen, the one showing now at once."""
        self.task_list.stale = True
        self.rules.stale = True
        self._read_stale()

    def _changed(self, hints: list[ChangeHint]) -> None:
        if self.tasks.closed:
            return
        touched = {hint.table for hint in hints}
        if "follow_ups" in touched:
            self.task_list.stale = True
        if "follow_up_rules" in touched:
            self.rules.stale = True
        self._reread.start()

    def _read_stale(self) -> None:
        if not self.isVisible() or self.tasks.closed:
            return
        # The task list feeds the title's overdue count: kept current on either tab.
        if self.task_list.stale:
            self.task_list.reload()
        if self.tabs.currentWidget() is self.rules and self.rules.stale:
            self.rules.reload()

    def _tab_chosen(self, index: int) -> None:
        QSettings().setValue(TAB_KEY, index)
        self._read_stale()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._tick.start()
        self._read_stale()

    @property
    def reading(self) -> bool:
        return self.task_list.reading or self.rules.reading

    # -- the end ------------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        return self.rules.unsaved_work()

    def closeEvent(self, event: QCloseEvent) -> None:
        work = [] if self._closing_anyway else self.unsaved_work()
        self._closing_anyway = False
        if not work:
            QSettings().setValue(GEOMETRY_KEY, self.saveGeometry())
            self._reread.stop()
            self._tick.stop()
            self.task_list.stale = self.rules.stale = True  # read afresh when opened again
            super().closeEvent(event)
            return
        event.ignore()
        self.tabs.setCurrentWidget(self.rules)
        if self.close_question is not None and self.close_question.isVisible():
            self.close_question.raise_()
            return
        self.close_question = confirm(
            self,
            self.tr("Close the follow-ups and throw away the rule changes not saved?"),
            self.tr("Discard and close"),
            self._close_anyway,
            name="closeFollowUps",
            details="\n".join(f"• {line}" for line in work),
        )

    def _close_anyway(self) -> None:
        self._closing_anyway = True
        self.rules.revert()
        self.close()

    async def aclose(self) -> None:
        self._unsubscribe()
        self._reread.stop()
        self._tick.stop()
        await self.tasks.aclose()


def open_follow_ups(workspace: Workspace, parent: QWidget | None = None) -> FollowUpsWindow:
    """A Follow-ups window on ``workspace``, shown and reading: the caller keeps it (and
    shows it again with ``present()``), wires ``workOrderRequested`` to its work order
    editor, and awaits ``aclose()`` at the end."""
    window = FollowUpsWindow(workspace, parent)
    window.present()
    return window
