"""Editing a work order without ever losing what was typed.

A failed save keeps the form as it is: a validation error shows beside its field, a
dropped connection says so and waits for another try, and a conflicting edit offers the
three ways out — reload theirs, reapply mine on top, copy mine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.conflicts import contested_fields, reapply_on_top
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.errors import ConflictError, DatabaseUnreachable, ValidationError
from dispatch_app.services.live_day import STOP_GRACE_S, finish_or_cancel
from dispatch_app.services.work_orders import load_work_order, save_work_order
from dispatch_app.ui import theme

log = logging.getLogger(__name__)

ERROR_STYLE = f"color: {theme.PRIORITY_COLOUR[Priority.EMERGENCY].name()};"
# The fields this form edits (the service accepts more).
EDITABLE_FIELDS = ("description", "priority")
BANNER_STYLE = "background: #fff4e5; border: 1px solid #f0b35a; border-radius: 4px; padding: 6px;"


class WorkOrderEditor(QDialog):
    saved = Signal(int)  # the work order's new version
    busyChanged = Signal(bool)  # a load or save is running

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        work_order_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workOrderEditor")
        self.sessions = sessions
        self.work_order_id = work_order_id
        self._original: dict[str, Any] = {}
        self._theirs: dict[str, Any] | None = None
        self._version = 0
        self._closing_anyway = False
        self._tasks: set[asyncio.Task[None]] = set()
        # Loads and saves queue up rather than overlap: a second Save waits its turn.
        self._one_at_a_time = asyncio.Lock()
        self._closed = False
        self.setWindowTitle(self.tr("Work order"))
        self.resize(560, 420)

        self.title = QLabel()
        self.title.setObjectName("title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() + 3)
        font.setBold(True)
        self.title.setFont(font)

        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.priority = QComboBox()
        self.priority.setObjectName("priority")
        for value in Priority:
            self.priority.addItem(self.tr(theme.PRIORITY_LABEL[value]), value.value)
        self.field_errors = {name: self._error_label() for name in EDITABLE_FIELDS}

        form = QFormLayout()
        form.addRow(self.tr("Problem"), self.description)
        form.addRow("", self.field_errors["description"])
        form.addRow(self.tr("Priority"), self.priority)
        form.addRow("", self.field_errors["priority"])

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()

        self.conflict = QFrame()
        self.conflict.setObjectName("conflict")
        # Selector by name: a bare style would box every label inside the frame too.
        self.conflict.setStyleSheet(f"QFrame#conflict {{ {BANNER_STYLE} }}")
        self.conflict_text = QLabel()
        self.conflict_text.setWordWrap(True)
        self.reload_theirs = QPushButton(self.tr("Reload theirs"))
        self.reload_theirs.setObjectName("reloadTheirs")
        self.reapply_mine = QPushButton(self.tr("Reapply mine on top"))
        self.reapply_mine.setObjectName("reapplyMine")
        self.copy_mine = QPushButton(self.tr("Copy mine"))
        self.copy_mine.setObjectName("copyMine")
        choices = QHBoxLayout()
        for button in (self.reload_theirs, self.reapply_mine, self.copy_mine):
            choices.addWidget(button)
        choices.addStretch()
        conflict_layout = QVBoxLayout(self.conflict)
        conflict_layout.addWidget(self.conflict_text)
        conflict_layout.addLayout(choices)
        self.conflict.hide()

        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.close_button = QPushButton(self.tr("Close"))
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.conflict)
        layout.addLayout(form)
        layout.addLayout(buttons)

        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        self.reload_theirs.clicked.connect(self.take_theirs)
        self.reapply_mine.clicked.connect(self.reapply)
        self.copy_mine.clicked.connect(self.copy_and_take_theirs)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        self.description.textChanged.connect(self._update_title)
        self.priority.currentIndexChanged.connect(self._update_title)

    @staticmethod
    def _error_label() -> QLabel:
        label = QLabel()
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        return label

    # -- the form -------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        return {
            "description": self.description.toPlainText(),
            "priority": self.priority.currentData(),
        }

    def is_dirty(self) -> bool:
        return bool(self._original) and self.values() != {
            name: self._original[name] for name in EDITABLE_FIELDS
        }

    def _show(self, record: dict[str, Any], *, as_loaded: bool) -> None:
        self.description.setPlainText(record["description"])
        self.priority.setCurrentIndex(self.priority.findData(record["priority"]))
        if as_loaded:
            self._original = {name: record[name] for name in EDITABLE_FIELDS}
            self._version = record["version"]
            self._number = record["number"]
        self._update_title()

    def _update_title(self) -> None:
        number = getattr(self, "_number", "")
        self.title.setText(number + (" •" if self.is_dirty() else ""))
        self.setWindowTitle(self.tr("Work order {0}").format(number))

    def _clear_messages(self) -> None:
        for label in self.field_errors.values():
            label.hide()
        self.banner.hide()

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.busyChanged.emit(busy)

    # -- talking to the database ------------------------------------------------------------
    def load_soon(self) -> None:
        self._spawn(self.load())

    async def load(self) -> None:
        typed_before = self.values()
        async with self._one_at_a_time:
            record = await load_work_order(self.sessions, self.work_order_id)
        if self._original and self.values() != typed_before:
            # The user typed while it loaded: keep their text; saving will offer choices.
            self.banner.setText(
                self.tr(
                    "Someone else just changed this work order. Saving "
                    "will let you choose whose version to keep."
                )
            )
            self.banner.show()
            return
        self._show(record, as_loaded=True)

    def save(self) -> None:
        # Read the form when the save actually runs, so nothing typed meanwhile is lost.
        self._spawn(self._save(None))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the event loop; ``aclose()`` waits for what is still running."""
        if self._closed:
            work.close()
            return
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("work order editor task failed", exc_info=task.exception())

    async def aclose(self) -> None:
        """Stop what is still running (the app is shutting down)."""
        self._closed = True
        await finish_or_cancel(self._tasks, STOP_GRACE_S)

    async def _save(self, fields: dict[str, Any] | None) -> None:
        async with self._one_at_a_time:
            await self._save_now(self.values() if fields is None else fields)

    async def _save_now(self, fields: dict[str, Any]) -> None:
        self._clear_messages()
        self._set_busy(True)
        try:
            saved = await save_work_order(
                self.sessions,
                work_order_id=self.work_order_id,
                seen_version=self._version,
                fields=fields,
            )
        except ValidationError as invalid:
            for name, sentence in invalid.fields.items():
                label = self.field_errors.get(name)
                if label is not None:
                    label.setText(sentence)
                    label.show()
        except ConflictError as conflict:
            self._offer_choices(conflict)
        except (DBAPIError, OSError, DatabaseUnreachable) as error:
            log.warning("saving %s failed: %s", self.work_order_id, error)
            self.banner.setText(
                self.tr(
                    "Could not save: the database did not answer. "
                    "Your changes are kept; press Save to try again."
                )
            )
            self.banner.show()
        else:
            self._show(saved, as_loaded=True)
            self.conflict.hide()
            self.saved.emit(saved["version"])
        finally:
            self._set_busy(False)

    def _offer_choices(self, conflict: ConflictError) -> None:
        self._theirs = dict(conflict.current) if conflict.current else None
        text = str(conflict)
        if self._theirs is not None:
            both = contested_fields(self._original, self.values(), self._theirs)
            if both:
                text += " " + self.tr("Both of you changed: {0}.").format(", ".join(sorted(both)))
        self.conflict_text.setText(text)
        self.reapply_mine.setEnabled(self._theirs is not None)
        self.reload_theirs.setEnabled(self._theirs is not None)
        self.conflict.show()

    def take_theirs(self) -> None:
        if self._theirs is not None:
            self._show(self._theirs, as_loaded=True)
        self.conflict.hide()

    def reapply(self) -> None:
        if self._theirs is None:
            return
        mine = reapply_on_top(self._original, self.values(), self._theirs)
        self._show(self._theirs, as_loaded=True)  # their version is now the base
        self._show(mine, as_loaded=False)
        self.conflict.hide()
        self._spawn(self._save({name: mine[name] for name in EDITABLE_FIELDS}))

    def copy_and_take_theirs(self) -> None:
        mine = self.values()
        QGuiApplication.clipboard().setText(
            f"{getattr(self, '_number', '')}\n"
            f"{self.tr('Priority')}: {mine['priority']}\n\n{mine['description']}"
        )
        self.take_theirs()
        self.banner.setText(self.tr("Your version is on the clipboard."))
        self.banner.show()

    def remote_changed(self) -> None:
        """Someone saved this work order: follow them, unless the user is mid-edit."""
        if self.is_dirty():
            self.banner.setText(
                self.tr(
                    "Someone else just changed this work order. Saving "
                    "will let you choose whose version to keep."
                )
            )
            self.banner.show()
        elif self.save_button.isEnabled():
            self._spawn(self.load())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_dirty() and not self._closing_anyway:
            event.ignore()
            self.banner.setText(
                self.tr(
                    "You have unsaved changes. Save them, or press Close again to discard them."
                )
            )
            self.banner.show()
            self._closing_anyway = True  # a second Close means it
            return
        super().closeEvent(event)

    def keyPressEvent(self, event: Any) -> None:
        # Escape would close the dialog past the unsaved-changes check: route it there.
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)
