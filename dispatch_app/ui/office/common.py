"""What the Billing & stock window's tabs share: reading a list off the GUI thread
(latest request wins), the look of their tables, and the words for amounts.

Threading contract: GUI thread only; reads run as tasks on the qasync loop through the
workspace, and only their answers touch widgets.
"""

from __future__ import annotations

import decimal
from collections.abc import Hashable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from dispatch_app.errors import UserFacingError
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import error_label, show_error
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.office.rows import RecordsModel
from dispatch_app.ui.tasks import WindowTasks

# Cards and headers as the work-order editor draws them.
CARD_BORDER = "#dde2e8"
# Rows tall enough to read from a step back, whatever the system's font size.
ROW_HEIGHT = 1.9
CELL_PADDING = 10  # pixels each side of a cell's text


class OfficeTab(QWidget):
    """A tab that shows one list: read when the tab is first looked at, and again
    when rows of its ``tables`` change on any workstation while it is on screen."""

    read = Signal()  # the list was read and is shown (tests wait for it)
    tables: frozenset[str] = frozenset()

    def __init__(self, workspace: Workspace, tasks: WindowTasks) -> None:
        super().__init__()
        self.workspace = workspace
        self.tasks = tasks
        self.stale = True  # nothing read yet, or something changed since
        self.problem = error_label(f"{type(self).__name__}Problem")
        self._latest: LatestRequest[Hashable, Any] = LatestRequest(
            self.fetch, show=self._answered, fail=self._failed, spawn=tasks.spawn
        )

    def wanted(self) -> Hashable:
        """What to read (a location, a filter); the list reads again when it changes."""
        return None

    async def fetch(self, wanted: Any) -> Any:
        raise NotImplementedError

    def show_answer(self, wanted: Any, answer: Any) -> None:
        raise NotImplementedError

    def reload(self) -> None:
        self.stale = False
        self._latest.ask(self.wanted())

    @property
    def reading(self) -> bool:
        return self._latest.running

    def _answered(self, wanted: Hashable, answer: Any) -> None:
        show_error(self.problem, None)
        self.show_answer(wanted, answer)
        self.read.emit()

    def _failed(self, _wanted: Hashable, error: UserFacingError) -> None:
        show_error(self.problem, str(error))
        self.stale = True  # read again on the next change or visit


class PaddedCells(QStyledItemDelegate):
    """Text kept clear of the cell's edges: the selection still fills the whole row, and
    a column sized to its contents is wide enough for text and padding both."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return super().sizeHint(option, index) + QSize(2 * CELL_PADDING, 0)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        style = cell.widget.style() if cell.widget is not None else QApplication.style()
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, cell, painter, cell.widget
        )
        cell.rect = cell.rect.adjusted(CELL_PADDING, 0, -CELL_PADDING, 0)
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, cell.widget)


def records_view(name: str, model: QAbstractItemModel, *, stretch: int = 1) -> QTableView:
    """A read-only list of records, one selected at a time, ``stretch`` taking the
    width left over."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setItemDelegate(PaddedCells(view))
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(round(view.fontMetrics().height() * ROW_HEIGHT))
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    # The header sizes its columns to their contents only when asked: ask once after
    # each update, however many rows it touched.
    fit = QTimer(view)
    fit.setSingleShot(True)
    fit.setInterval(0)
    fit.timeout.connect(header.resizeSections)
    for changed in (
        model.rowsInserted,
        model.rowsRemoved,
        model.dataChanged,
        model.modelReset,
        model.layoutChanged,
    ):
        changed.connect(lambda *_args: fit.start())
    view.setStyleSheet(
        f"QTableView#{name} {{ border: 1px solid {CARD_BORDER}; background: #ffffff;"
        f" alternate-background-color: {theme.HEADER_BG.name()}; }}"
        f"QTableView#{name} QHeaderView::section {{ background: {theme.HEADER_BG.name()};"
        f" color: {theme.MUTED_TEXT.name()}; font-weight: 600; padding: 6px {CELL_PADDING + 3}px;"
        f" border: none; border-bottom: 1px solid {CARD_BORDER}; }}"
    )
    return view


def selected_record(view: QTableView) -> Any:
    """The record on the selected row, or None."""
    rows = view.selectionModel().selectedRows()
    model = view.model()
    if not rows or not isinstance(model, RecordsModel):
        return None
    return model.record(rows[0].row())


def headline(name: str) -> QLabel:
    """The tab's one-sentence summary, a size above the text."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    label.setStyleSheet(f"color: {theme.TEXT.name()};")
    return label


def amount_text(value: decimal.Decimal) -> str:
    """A stock quantity as counted: ``12``, ``2.5``, ``-1`` — never ``12.0000``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
