"""The office's Billing & stock window (File ▸ Billing & stock…, Ctrl+Shift+B): work
not invoiced, invoices unpaid by age, each location's stock, the price book, and the
maintenance plans and agreements — one tab each, every role reads them, and what a
role may not do is not offered.

Nobody presses refresh: the window hears the change feed's hints for its tables (a
colleague's payment, a delivery booked at the warehouse) and the tab on screen reads
its list again; a tab out of sight is only marked stale and reads when it is looked
at, as does the whole window when it is opened again.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.office.aging import AgingTab
from dispatch_app.ui.office.agreements import AgreementsTab
from dispatch_app.ui.office.common import OfficeTab
from dispatch_app.ui.office.not_invoiced import NotInvoicedTab
from dispatch_app.ui.office.price_book import PriceBookTab
from dispatch_app.ui.office.stock import StockTab
from dispatch_app.ui.tasks import WindowTasks

GEOMETRY_KEY = "officeWindow/geometry"
TAB_KEY = "officeWindow/tab"
# Hints come in bursts (a payment changes the invoice and adds a payment row): one read
# after the burst.
BURST_MS = 100


class OfficeWindow(QWidget):
    openWorkOrder = Signal(int)  # work order id: the user wants it in the editor

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("officeWindow")
        self.setWindowTitle(self.tr("Billing & stock — {0}").format(workspace.label))
        self.workspace = workspace
        self.tasks = WindowTasks("billing & stock window")
        self.not_invoiced = NotInvoicedTab(workspace, self.tasks)
        self.aging = AgingTab(workspace, self.tasks)
        self.stock = StockTab(workspace, self.tasks)
        self.price_book = PriceBookTab(workspace, self.tasks)
        self.agreements = AgreementsTab(workspace, self.tasks)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("officeTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.not_invoiced, self.tr("Not invoiced"))
        self.tabs.addTab(self.aging, self.tr("Unpaid by age"))
        self.tabs.addTab(self.stock, self.tr("Stock"))
        self.tabs.addTab(self.price_book, self.tr("Price book"))
        self.tabs.addTab(self.agreements, self.tr("Agreements"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.tabs)
        self.not_invoiced.openWorkOrder.connect(self.openWorkOrder)
        self.agreements.openWorkOrder.connect(self.openWorkOrder)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)

        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(BURST_MS)
        self._reread.timeout.connect(self._read_stale)
        watched = frozenset().union(*(page.tables for page in self.pages))
        self._unsubscribe = workspace.changes.watch_tables(watched, self._changed)

        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1120, 720)
        tab = settings.value(TAB_KEY)
        if str(tab or "").isdigit() and int(str(tab)) < self.tabs.count():
            self.tabs.setCurrentIndex(int(str(tab)))
        self.tabs.currentChanged.connect(self._tab_chosen)

    @property
    def pages(self) -> tuple[OfficeTab, ...]:
        return (self.not_invoiced, self.aging, self.stock, self.price_book, self.agreements)

    def current(self) -> OfficeTab:
        page = self.tabs.currentWidget()
        assert isinstance(page, OfficeTab)
        return page

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        """Everything may have changed (the window is opened again): each tab reads
        when it is next on screen, the one showing now at once."""
        for page in self.pages:
            page.stale = True
        self._read_stale()

    def _changed(self, hints: list[ChangeHint]) -> None:
        if self.tasks.closed:
            return
        touched = {hint.table for hint in hints}
        for page in self.pages:
            if page.tables & touched:
                page.stale = True
        self._reread.start()

    def _read_stale(self) -> None:
        if self.isVisible() and not self.tasks.closed and self.current().stale:
            self.current().reload()

    def _tab_chosen(self, index: int) -> None:
        QSettings().setValue(TAB_KEY, index)
        self._read_stale()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._read_stale()

    # -- the end ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue(GEOMETRY_KEY, self.saveGeometry())
        self._reread.stop()
        super().closeEvent(event)

    async def aclose(self) -> None:
        self._unsubscribe()
        self._reread.stop()
        await self.tasks.aclose()
