"""The two questions a task can ask before it is written: until when and why it waits
(Snooze…), and why the customer was lost (Lost…). Each says nothing is written until
its reason is typed; both are window-modal and never block the event loop.

Threading contract: GUI thread only.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.services.follow_ups.tasks import MAX_REASON, FollowUpRow
from dispatch_app.ui.forms import muted, section_title

MORNING = dt.time(9, 0)  # when the office starts calling


def quick_picks(now: dt.datetime, zone: dt.tzinfo) -> list[tuple[str, dt.datetime]]:
    """The usual answers to "until when?": tomorrow and next Monday at 9:00 on the
    company's wall clock, and this time next week."""
    local = now.astimezone(zone)
    tomorrow = local.date() + dt.timedelta(days=1)
    monday = local.date() + dt.timedelta(days=7 - local.weekday())
    return [
        ("Tomorrow 9:00", dt.datetime.combine(tomorrow, MORNING, tzinfo=zone)),
        ("Monday 9:00", dt.datetime.combine(monday, MORNING, tzinfo=zone)),
        ("In a week", local + dt.timedelta(days=7)),
    ]


class ReasonDialog(QDialog):
    """Ask for a reason (required); ``answered`` carries it once OK is pressed."""

    answered = Signal(str)

    def __init__(self, parent: QWidget, title: str, question: str, hint: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self.question = QLabel(question)
        self.question.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setPlaceholderText(hint)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self._check()

    def ready(self) -> bool:
        return bool(self.reason.text().strip())

    def _check(self) -> None:
        self.ok.setEnabled(self.ready())

    def _accept(self) -> None:
        if self.ready():
            self.accept()
            self.answered.emit(self.reason.text().strip())


def lost_dialog(parent: QWidget, task: FollowUpRow) -> ReasonDialog:
    who = task.customer_name or parent.tr("the customer")
    dialog = ReasonDialog(
        parent,
        parent.tr("Lost"),
        parent.tr("Why was {0} lost? ({1})").format(who, task.title),
        parent.tr("went with another company, fixed it themselves…"),
    )
    dialog.setObjectName("lostQuestion")
    return dialog


class SnoozeDialog(QDialog):
    """Until when and why a task waits; ``answered`` carries both once OK is pressed."""

    answered = Signal(object, str)  # the aware moment it comes back, the reason

    def __init__(
        self, parent: QWidget, task: FollowUpRow, now: dt.datetime, zone: dt.tzinfo
    ) -> None:
        super().__init__(parent)
        self.setObjectName("snoozeQuestion")
        self.setWindowTitle(self.tr("Snooze"))
        self.setMinimumWidth(460)
        self.now = now
        self.zone = zone
        title = section_title(self.tr("Snooze “{0}”").format(task.title))
        title.setWordWrap(True)

        picks = QHBoxLayout()
        self.pick_buttons: dict[str, QPushButton] = {}
        for text, moment in quick_picks(now, zone):
            button = QPushButton(self.tr(text))
            button.setObjectName("pick" + text.title().replace(" ", "").replace(":", ""))
            button.clicked.connect(lambda _checked=False, m=moment: self.set_until(m))
            picks.addWidget(button)
            self.pick_buttons[text] = button
        picks.addStretch()
        self.until = QDateTimeEdit()
        self.until.setObjectName("snoozeUntil")
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("ddd MMM d, yyyy  h:mm AP")
        self.zone_note = muted(self.tr("Company time ({0})").format(zone))
        self.reason = QLineEdit()
        self.reason.setObjectName("snoozeReason")
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setPlaceholderText(self.tr("customer away until Monday, waiting for a quote…"))
        self.problem = muted()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(self.tr("Snooze"))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(QLabel(self.tr("Until")))
        layout.addLayout(picks)
        until_row = QHBoxLayout()
        until_row.addWidget(self.until)
        until_row.addWidget(self.zone_note, 1)
        layout.addLayout(until_row)
        layout.addWidget(QLabel(self.tr("Why it waits (required)")))
        layout.addWidget(self.reason)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        self.until.dateTimeChanged.connect(self._check)
        self.reason.textChanged.connect(self._check)
        self.set_until(quick_picks(now, zone)[0][1])
        self.reason.setFocus()

    def set_until(self, moment: dt.datetime) -> None:
        local = moment.astimezone(self.zone)
        self.until.setDateTime(
            QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))
        )

    def chosen_until(self) -> dt.datetime:
        """The moment typed, read on the company's wall clock."""
        shown = self.until.dateTime()
        day, time = shown.date(), shown.time()
        return dt.datetime(
            day.year(), day.month(), day.day(), time.hour(), time.minute(), tzinfo=self.zone
        )

    def ready(self) -> bool:
        return bool(self.reason.text().strip()) and self.chosen_until() > self.now

    def _check(self) -> None:
        future = self.chosen_until() > self.now
        self.problem.setText("" if future else self.tr("Choose a time still to come."))
        self.problem.setVisible(not future)
        self.ok.setEnabled(self.ready())

    def _accept(self) -> None:
        if self.ready():
            self.accept()
            self.answered.emit(self.chosen_until(), self.reason.text().strip())
