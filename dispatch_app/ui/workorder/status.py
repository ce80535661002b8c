"""The work order's status in the editor's header: a coloured badge, a menu offering only
the changes the state machine allows, and the reason a cancel or no-show asks for."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.vocabulary import WorkOrderStatus
from dispatch_app.domain.work_order_status import LABELS, next_statuses
from dispatch_app.ui.workorder.common import error_label, muted, show_error

_W = WorkOrderStatus
# Badge colours: fill and text, readable side by side with the board's visit colours.
BADGE = {
    _W.NEW: ("#e9ecef", "#37414b"),
    _W.SCHEDULED: ("#d6e6fb", "#1d4f91"),
    _W.DISPATCHED: ("#c9d3fa", "#2f3b9c"),
    _W.EN_ROUTE: ("#ffe2a8", "#7a5200"),
    _W.ON_SITE: ("#c8efd4", "#1d6b3b"),
    _W.COMPLETED: ("#d3f0e0", "#17603a"),
    _W.INVOICED: ("#e8dcf7", "#5a2f91"),
    _W.CLOSED: ("#dfe3e8", "#4a5561"),
    _W.CANCELLED: ("#f6d5d5", "#8f2a27"),
    _W.NO_SHOW: ("#f6d5d5", "#8f2a27"),
}
# The menu says what the step does, in the office's words.
ACTIONS = {
    _W.NEW: "Back to new (unscheduled)",
    _W.SCHEDULED: "Scheduled",
    _W.DISPATCHED: "Dispatched",
    _W.EN_ROUTE: "En route",
    _W.ON_SITE: "On site",
    _W.COMPLETED: "Completed",
    _W.INVOICED: "Invoiced",
    _W.CLOSED: "Closed",
    _W.CANCELLED: "Cancel work order…",
    _W.NO_SHOW: "Customer no-show…",
}


class StatusBadge(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBadge")
        self.status = ""

    def set_status(self, status: str) -> None:
        self.status = status
        fill, text = BADGE.get(WorkOrderStatus(status), ("#e9ecef", "#37414b"))
        self.setText(self.tr(LABELS.get(status, status)).upper())
        self.setStyleSheet(
            f"background: {fill}; color: {text}; border-radius: 11px; padding: 3px 12px;"
            "font-weight: 600; letter-spacing: 1px;"
        )


class StatusButton(QPushButton):
    """ "Change status ▾": the allowed next statuses; emits the one chosen."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusButton")
        self.setText(self.tr("Change status"))
        self.menu_ = QMenu(self)
        self.menu_.setObjectName("statusMenu")
        self.setMenu(self.menu_)
        self.may_set: Callable[[str], bool] = lambda _target: True  # the person's role
        self.set_status("")

    def set_status(self, status: str) -> None:
        self.menu_.clear()
        targets = [t for t in (next_statuses(status) if status else []) if self.may_set(t)]
        for target in targets:
            action = QAction(self.tr(ACTIONS[WorkOrderStatus(target)]), self.menu_)
            action.setObjectName(f"status:{target}")
            action.setData(target)
            action.triggered.connect(lambda _checked=False, t=target: self.chosen.emit(t))
            self.menu_.addAction(action)
        self.setEnabled(bool(targets))

    def offered(self) -> list[str]:
        return [action.data() for action in self.menu_.actions()]

    def action_for(self, status: str) -> QAction | None:
        return next((a for a in self.menu_.actions() if a.data() == status), None)


class ReasonDialog(QDialog):
    """Asks why a work order is cancelled or a no-show; stays open (keeping the text)
    when the reason is refused, until the change is made or the user steps back."""

    submitted = Signal(str, str)  # target status, reason

    def __init__(self, number: str, target: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reasonDialog")
        self.target = target
        cancelling = target == WorkOrderStatus.CANCELLED
        self.setWindowTitle(
            self.tr("Cancel {0}").format(number)
            if cancelling
            else self.tr("{0}: customer no-show").format(number)
        )
        self.resize(480, 260)
        question = QLabel(
            self.tr("Why is {0} cancelled?").format(number)
            if cancelling
            else self.tr("What happened at {0}?").format(number)
        )
        question.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText(
            self.tr("e.g. Customer sold the house; furnace came back on after a reset")
        )
        self.error = error_label("reasonError")
        note = muted(self.tr("Its open visits come off the board. The office will call back."))
        self.confirm = QPushButton(
            self.tr("Cancel work order") if cancelling else self.tr("Mark no-show")
        )
        self.confirm.setObjectName("confirmReason")
        self.confirm.setDefault(True)
        back = QPushButton(self.tr("Keep it open"))
        back.setObjectName("keepOpen")
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(back)
        buttons.addWidget(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(self.reason, 1)
        layout.addWidget(self.error)
        layout.addWidget(note)
        layout.addLayout(buttons)
        self.confirm.clicked.connect(
            lambda: self.submitted.emit(self.target, self.reason.toPlainText())
        )
        back.clicked.connect(self.reject)

    def refuse(self, sentence: str) -> None:
        show_error(self.error, sentence)
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def busy(self, busy: bool) -> None:
        self.confirm.setEnabled(not busy)
