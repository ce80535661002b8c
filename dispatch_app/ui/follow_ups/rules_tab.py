"""The Rules tab: one line per follow-up rule — on or off, how many hours it waits (and
what from), whether it makes a task, sends the customer a message, and whom its tasks
go to. A manager edits them and saves them together; everyone else reads them.

A refusal (a missed call always makes a callback task, say) is said under the rules and
what was typed stays for a fix; a rule a colleague saved meanwhile is read again. Lines
not being edited follow a colleague's save at once.

Threading contract: GUI thread only; reads and writes run as tasks on the qasync loop
through the workspace, and only their answers touch widgets.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.follow_ups import RuleKind
from dispatch_app.domain.roles import Action, refusal
from dispatch_app.errors import ConflictError, UserFacingError
from dispatch_app.services.follow_ups import tasks
from dispatch_app.services.follow_ups.tasks import RuleRow
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import DONE_STYLE, error_label, muted, show_error
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.office.common import CARD_BORDER, headline
from dispatch_app.ui.tasks import WindowTasks

MAX_WAIT_HOURS = 17_520  # two years, as the rules table allows
COLUMNS = ("Rule", "On", "Wait", "Makes a task", "Sends a message", "Assign tasks to")


def days_hint(hours: int) -> str:
    """The wait in days, for a wait long enough to be thought of in days."""
    if hours == 0:
        return "at once"
    if hours < 24:
        return ""
    days, rest = divmod(hours, 24)
    text = f"= {days} day" + ("" if days == 1 else "s")
    return text + (f" {rest} h" if rest else "")


@dataclass(frozen=True, slots=True)
class Typed:
    """What a rule's line holds now."""

    enabled: bool
    wait_hours: int
    makes_task: bool
    sends_message: bool
    assign_to: str | None


def typed_of(rule: RuleRow) -> Typed:
    return Typed(
        rule.enabled, rule.wait_hours, rule.makes_task, rule.sends_message, rule.assign_to or None
    )


class RuleLine:
    """The widgets of one rule's line, and the rule as last read."""

    def __init__(self, rule: RuleRow, parent: QWidget) -> None:
        self.rule = rule
        kind = rule.kind
        name = kind.value
        self.label = QLabel(parent.tr(kind.label))
        self.label.setObjectName(f"rule_{name}")
        self.enabled = QCheckBox()
        self.enabled.setObjectName(f"enabled_{name}")
        self.enabled.setToolTip(parent.tr("The worker runs this rule"))
        self.wait = QSpinBox()
        self.wait.setObjectName(f"wait_{name}")
        self.wait.setRange(0, MAX_WAIT_HOURS)
        self.wait.setGroupSeparatorShown(True)
        self.wait.setMinimumWidth(90)
        self.wait.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.means = muted(parent.tr(kind.wait_means))
        self.means.setWordWrap(False)
        self.days = QLabel()
        self.days.setObjectName(f"days_{name}")
        self.days.setStyleSheet(f"color: {theme.TEXT.name()}; font-weight: 600;")
        self.makes_task = QCheckBox()
        self.makes_task.setObjectName(f"makesTask_{name}")
        self.sends_message = QCheckBox()
        self.sends_message.setObjectName(f"sendsMessage_{name}")
        event = kind.message_event
        self.sends_message.setToolTip(
            parent.tr("Queue the “{0}” message to the customer").format(event.label)
            if event is not None
            else parent.tr("This rule has no customer message")
        )
        self.assign_to = QLineEdit()
        self.assign_to.setObjectName(f"assignTo_{name}")
        self.assign_to.setPlaceholderText(parent.tr("anyone"))
        self.assign_to.setMaxLength(200)
        self.assign_to.setMinimumWidth(130)
        self.wait.valueChanged.connect(self._show_days)
        self.show(rule)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.enabled, self.wait, self.makes_task, self.sends_message, self.assign_to)

    def show(self, rule: RuleRow) -> None:
        self.rule = rule
        for widget in self.widgets():
            widget.blockSignals(True)
        self.enabled.setChecked(rule.enabled)
        self.wait.setValue(rule.wait_hours)
        self.makes_task.setChecked(rule.makes_task)
        self.sends_message.setChecked(rule.sends_message)
        self.assign_to.setText(rule.assign_to or "")
        for widget in self.widgets():
            widget.blockSignals(False)
        self._show_days()

    def _show_days(self) -> None:
        self.days.setText(days_hint(self.wait.value()))

    def typed(self) -> Typed:
        return Typed(
            self.enabled.isChecked(),
            self.wait.value(),
            self.makes_task.isChecked(),
            self.sends_message.isChecked(),
            self.assign_to.text().strip() or None,
        )

    def is_dirty(self) -> bool:
        return self.typed() != typed_of(self.rule)

    def set_editable(self, editable: bool) -> None:
        for widget in self.widgets():
            widget.setEnabled(editable)
        if self.rule.kind.message_event is None:
            self.sends_message.setEnabled(False)


class RulesTab(QWidget):
    listed = Signal()  # the rules were read and are shown (tests wait for it)
    saved = Signal()  # a save ended, written or refused (tests wait for it)

    def __init__(self, workspace: Workspace, window_tasks: WindowTasks) -> None:
        super().__init__()
        self.workspace = workspace
        self.tasks = window_tasks
        self.may_edit = workspace.may(Action.PRICE_BOOK)  # a manager's, as the database says
        self.stale = True
        self.saving = False
        self.lines: dict[RuleKind, RuleLine] = {}

        title = headline("rulesTitle")
        title.setText(self.tr("Follow-up rules"))
        intro = muted(
            self.tr(
                "The worker looks at these every minute. Each occasion (a job cancelled, "
                "a repair done) makes one task and one message at most."
            )
        )
        self.card = QFrame()
        self.card.setObjectName("rulesCard")
        self.card.setStyleSheet(
            f"QFrame#rulesCard {{ background: #ffffff; border: 1px solid {CARD_BORDER};"
            " border-radius: 4px; }"
        )
        self.grid = QGridLayout(self.card)
        self.grid.setContentsMargins(14, 10, 14, 10)
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(8)
        for column, text in enumerate(COLUMNS):
            header = QLabel(self.tr(text))
            header.setStyleSheet(f"color: {theme.MUTED_TEXT.name()}; font-weight: 600;")
            span = 3 if text == "Wait" else 1
            self.grid.addWidget(header, 0, self._column(column), 1, span)

        self.error = error_label("rulesError")
        self.done = QLabel()
        self.done.setObjectName("rulesSaved")
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.role_note = muted()
        self.role_note.setObjectName("rulesRoleNote")
        self.revert_button = QPushButton(self.tr("Revert"))
        self.revert_button.setObjectName("revertRules")
        self.save_button = QPushButton(self.tr("Save rules"))
        self.save_button.setObjectName("saveRules")
        self.save_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.role_note, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(6)
        # As wide as the rules need: a wait's days stay beside what it counts from.
        layout.addWidget(self.card, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addWidget(self.done)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.reads: LatestRequest[Hashable, list[RuleRow]] = LatestRequest(
            lambda _none: self.workspace.read(tasks.follow_up_rules),
            show=lambda _none, rules: self._fill(rules),
            fail=lambda _none, error: show_error(self.error, str(error)),
            spawn=self.tasks.spawn,
        )
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.role_note.setText(
            "" if self.may_edit else refusal(workspace.role, self.tr("change the follow-up rules"))
        )
        self.save_button.setVisible(self.may_edit)
        self.revert_button.setVisible(self.may_edit)
        self._update_buttons()

    @staticmethod
    def _column(column: int) -> int:
        """The grid column of a heading: "Wait" spans its box, its meaning and its days."""
        return column if column <= 2 else column + 2

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        if self.tasks.closed:
            return
        self.stale = False
        self.reads.ask(None)

    @property
    def reading(self) -> bool:
        return self.reads.running

    def _fill(self, rules: list[RuleRow], overwrite: frozenset[RuleKind] = frozenset()) -> None:
        """Show the rules as read; a line being edited keeps what was typed (and the
        version seen, so a colleague's save meanwhile is caught when it is saved)."""
        for rule in rules:
            line = self.lines.get(rule.kind)
            if line is None:
                self._add_line(rule)
            elif rule.kind in overwrite or not line.is_dirty():
                line.show(rule)
        self._update_buttons()
        self.listed.emit()

    def _add_line(self, rule: RuleRow) -> None:
        line = RuleLine(rule, self)
        row = len(self.lines) + 1
        self.grid.addWidget(line.label, row, 0)
        self.grid.addWidget(line.enabled, row, 1, Qt.AlignmentFlag.AlignHCenter)
        self.grid.addWidget(line.wait, row, 2)
        self.grid.addWidget(line.means, row, 3)
        self.grid.addWidget(line.days, row, 4)
        self.grid.addWidget(line.makes_task, row, 5, Qt.AlignmentFlag.AlignHCenter)
        self.grid.addWidget(line.sends_message, row, 6, Qt.AlignmentFlag.AlignHCenter)
        self.grid.addWidget(line.assign_to, row, 7)
        line.set_editable(self.may_edit)
        for widget in (line.enabled, line.makes_task, line.sends_message):
            assert isinstance(widget, QCheckBox)
            widget.toggled.connect(self._edited)
        line.wait.valueChanged.connect(self._edited)
        line.assign_to.textEdited.connect(self._edited)
        self.lines[rule.kind] = line

    # -- editing ------------------------------------------------------------------------
    def is_dirty(self) -> bool:
        return any(line.is_dirty() for line in self.lines.values())

    def unsaved_work(self) -> list[str]:
        return [
            self.tr("{0}: changes not saved").format(line.rule.kind.label)
            for line in self.lines.values()
            if line.is_dirty()
        ]

    def _edited(self) -> None:
        self.done.hide()
        self._update_buttons()

    def _update_buttons(self) -> None:
        dirty = self.is_dirty()
        self.save_button.setEnabled(self.may_edit and dirty and not self.saving)
        self.revert_button.setEnabled(dirty and not self.saving)
        for line in self.lines.values():
            font = line.label.font()
            font.setBold(line.is_dirty())  # what Save would write
            line.label.setFont(font)

    def revert(self) -> None:
        for line in self.lines.values():
            line.show(line.rule)
        show_error(self.error, None)
        self._update_buttons()

    def save(self) -> None:
        if self.may_edit and self.is_dirty() and not self.saving and not self.tasks.closed:
            self.saving = True
            self._update_buttons()
            self.tasks.spawn(self._save())

    async def _save(self) -> None:
        """Write each changed rule in turn; the first refusal stops there and is said."""
        show_error(self.error, None)
        self.done.hide()
        written = 0
        try:
            for line in list(self.lines.values()):
                if not line.is_dirty():
                    continue
                rule, typed = line.rule, line.typed()
                try:
                    await self.workspace.run(
                        tasks.save_rule,
                        rule.id,
                        rule.version,
                        enabled=typed.enabled,
                        wait_hours=typed.wait_hours,
                        makes_task=typed.makes_task,
                        sends_message=typed.sends_message,
                        assign_to=typed.assign_to,
                    )
                except ConflictError as error:
                    show_error(self.error, str(error))
                    await self._reread(overwrite=frozenset({rule.kind}))
                    return
                except UserFacingError as error:
                    show_error(self.error, f"{rule.kind.label}: {error}")  # typed words stay
                    return
                written += 1
            await self._reread()
            self.done.setText(self.tr("Saved. The worker follows the new rules from its next run."))
            self.done.show()
        finally:
            if written and self.error.isVisible():
                await self._reread()  # what was written before the refusal, as stored
            self.saving = False
            self._update_buttons()
            self.saved.emit()

    async def _reread(self, overwrite: frozenset[RuleKind] = frozenset()) -> None:
        try:
            rules = await self.workspace.read(tasks.follow_up_rules)
        except UserFacingError as error:
            show_error(self.error, str(error))
            return
        # What was just written is stored: those lines take the stored versions.
        written = frozenset(kind for kind, line in self.lines.items() if _matches(line, rules))
        self._fill(rules, overwrite | written)


def _matches(line: RuleLine, rules: list[RuleRow]) -> bool:
    stored = next((r for r in rules if r.kind == line.rule.kind), None)
    return stored is not None and typed_of(stored) == line.typed()
