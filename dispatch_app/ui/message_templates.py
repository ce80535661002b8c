"""The Message templates window (File ▸ Message templates…): the words of each customer
message, per event and per channel, edited by a manager.

On the left every event × channel (text message, email); on the right its subject (email
only), its body, a button per placeholder that types ``{name}`` at the cursor, and a
preview filled in with this company's name and a made-up visit, read through the
workspace a moment after typing stops. Saving checks the placeholders: a refusal is said
under the editor and what was typed stays. Leaving a template with changes not saved
asks first, as does closing the window.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain import messages as rules
from dispatch_app.domain.messages import Channel, MessageEvent
from dispatch_app.domain.roles import Action, refusal
from dispatch_app.errors import UserFacingError
from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.outbox import queue
from dispatch_app.services.outbox.queue import TemplateRow
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui.forms import (
    DONE_STYLE,
    MUTED_STYLE,
    confirm,
    error_label,
    muted,
    section_title,
    show_error,
)
from dispatch_app.ui.latest import LatestRequest
from dispatch_app.ui.tasks import WindowTasks

GEOMETRY_KEY = "messageTemplates/geometry"
PREVIEW_DELAY_MS = 300  # the preview follows once typing pauses, not every keystroke
KEY_ROLE = Qt.ItemDataRole.UserRole
# The channels a template is written for: the log channel writes the text message's words.
CHANNELS = (Channel.SMS, Channel.EMAIL)

Key = tuple[MessageEvent, Channel]


def entry_title(key: Key) -> str:
    event, channel = key
    return f"{event.label} — {channel.label}"


class MessageTemplatesWindow(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("messageTemplates")
        self.setWindowTitle(self.tr("Message templates — {0}").format(workspace.label))
        self.workspace = workspace
        self.tasks = WindowTasks("message templates window")
        self.templates: dict[Key, TemplateRow] = {}
        self.current: Key | None = None
        self.reading = False
        self.close_question: QMessageBox | None = None
        self.switch_question: QMessageBox | None = None
        self._closing_anyway = False
        self._loaded: tuple[str, str] = ("", "")  # what the editor held when shown
        self.may_edit = workspace.may(Action.TEMPLATES)

        self.list = QListWidget()
        self.list.setObjectName("templateList")
        self.list.setMinimumWidth(280)
        self.list.setStyleSheet("QListWidget::item { padding: 5px 6px; }")
        for event in MessageEvent:
            for channel in CHANNELS:
                item = QListWidgetItem(entry_title((event, channel)))
                item.setData(KEY_ROLE, (event, channel))
                self.list.addItem(item)

        self.title = section_title("")
        self.subject_label = QLabel(self.tr("Subject"))
        self.subject = QLineEdit()
        self.subject.setObjectName("subject")
        self.subject.setMaxLength(200)
        self.body = QPlainTextEdit()
        self.body.setObjectName("body")
        self.body.setTabChangesFocus(True)
        # A placeholder goes where the cursor was last: in the subject or the body.
        self._typing_in: QLineEdit | QPlainTextEdit = self.body
        self.subject.installEventFilter(self)
        self.body.installEventFilter(self)
        self.placeholder_buttons: dict[str, QPushButton] = {}
        placeholders = QHBoxLayout()
        placeholders.setSpacing(4)
        placeholders.addWidget(muted(self.tr("Insert:")))
        for name in rules.PLACEHOLDERS:
            button = QPushButton(f"{{{name}}}")
            button.setObjectName(f"insert_{name}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the cursor stays in the text
            button.setToolTip(self.tr("Put {{{0}}} at the cursor").format(name))
            button.clicked.connect(lambda _checked=False, n=name: self.insert_placeholder(n))
            placeholders.addWidget(button)
            self.placeholder_buttons[name] = button
        placeholders.addStretch()

        self.preview_title = section_title(self.tr("Preview"))
        self.preview = QTextBrowser()
        self.preview.setObjectName("preview")
        self.preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.preview.setMaximumHeight(170)
        self.length = QLabel()
        self.length.setObjectName("smsLength")
        self.length.setStyleSheet(MUTED_STYLE)
        self.error = error_label("templateError")
        self.done = QLabel()
        self.done.setObjectName("templateSaved")
        self.done.setStyleSheet(DONE_STYLE)
        self.done.hide()
        self.role_note = muted()
        self.role_note.setObjectName("templatesRoleNote")
        self.revert_button = QPushButton(self.tr("Revert"))
        self.revert_button.setObjectName("revertTemplate")
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("saveTemplate")
        self.save_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.role_note, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        editor = QVBoxLayout()
        editor.addWidget(self.title)
        editor.addWidget(self.subject_label)
        editor.addWidget(self.subject)
        editor.addWidget(QLabel(self.tr("Message")))
        editor.addWidget(self.body, 1)
        editor.addLayout(placeholders)
        editor.addWidget(self.error)
        editor.addWidget(self.done)
        editor.addWidget(self.preview_title)
        editor.addWidget(self.preview)
        editor.addWidget(self.length)
        editor.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(editor, 1)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._ask_preview)
        self.previews: LatestRequest[tuple[str, str], tuple[str, str]] = LatestRequest(
            lambda typed: self.workspace.read(queue.preview, subject=typed[0], body=typed[1]),
            show=lambda _typed, shown: self._show_preview(*shown),
            fail=lambda _typed, error: self.preview.setPlainText(str(error)),
            spawn=self.tasks.spawn,
        )
        self.subject.textEdited.connect(self._edited)
        self.body.textChanged.connect(self._edited)
        self.list.currentItemChanged.connect(self._chosen)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        self._unsubscribe = workspace.changes.watch_tables(("message_templates",), self._changed)
        self._offer_what_the_role_may()

        geometry = QSettings().value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(1040, 660)

    def _offer_what_the_role_may(self) -> None:
        editable = self.may_edit
        self.subject.setReadOnly(not editable)
        self.body.setReadOnly(not editable)
        for button in (self.save_button, self.revert_button, *self.placeholder_buttons.values()):
            button.setVisible(editable)
        self.role_note.setText("" if editable else refusal(self.workspace.role, Action.TEMPLATES))

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        self.tasks.spawn(self._read())

    async def _read(self) -> None:
        self.reading = True
        try:
            rows = await self.workspace.read(queue.message_templates)
        except UserFacingError as error:
            show_error(self.error, str(error))
            return
        finally:
            self.reading = False
        self.templates = {(row.event, row.channel): row for row in rows}
        for index in range(self.list.count()):
            item = self.list.item(index)
            key = item.data(KEY_ROLE)
            font = item.font()
            font.setItalic(key not in self.templates)  # none written yet
            item.setFont(font)
        if self.current is None:
            self.list.setCurrentRow(0)
        elif not self.is_dirty():
            self._show(self.current)  # a colleague's save, shown as theirs

    def _changed(self, hints: list[ChangeHint]) -> None:
        del hints  # a handful of rows: read them all again
        if not self.tasks.closed:
            self.reload()

    # -- the editor ---------------------------------------------------------------------
    def _chosen(self, item: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if item is None:
            return
        key = item.data(KEY_ROLE)
        if key == self.current:
            return
        if self.is_dirty() and previous is not None:
            # Back to the template being edited until the user says to drop the changes.
            self.list.blockSignals(True)
            self.list.setCurrentItem(previous)
            self.list.blockSignals(False)
            self.switch_question = confirm(
                self,
                self.tr("Throw away your changes to {0}?").format(entry_title(self.current_key)),
                self.tr("Discard changes"),
                lambda: self._switch_to(item),
                name="discardTemplate",
            )
            return
        self._show(key)

    def _switch_to(self, item: QListWidgetItem) -> None:
        self._loaded = self.typed()  # nothing to keep any more
        self.list.setCurrentItem(item)

    @property
    def current_key(self) -> Key:
        assert self.current is not None
        return self.current

    def _show(self, key: Key) -> None:
        if key != self.current:
            self.done.hide()  # "Saved" was about the template left
        self.current = key
        row = self.templates.get(key)
        email = key[1] == Channel.EMAIL
        self.title.setText(entry_title(key))
        self.subject_label.setVisible(email)
        self.subject.setVisible(email)
        self.subject.setText(row.subject if row else "")
        self.body.blockSignals(True)
        self.body.setPlainText(row.body if row else "")
        self.body.blockSignals(False)
        self._loaded = self.typed()
        show_error(self.error, None)
        self._typing_in = self.body
        self._update_title()
        self._ask_preview()

    def typed(self) -> tuple[str, str]:
        return self.subject.text(), self.body.toPlainText()

    def is_dirty(self) -> bool:
        return self.current is not None and self.typed() != self._loaded

    def _edited(self) -> None:
        self.done.hide()
        self._update_title()
        self._preview_timer.start()

    def _update_title(self) -> None:
        if self.current is not None:
            self.title.setText(entry_title(self.current) + (" •" if self.is_dirty() else ""))
        self.save_button.setEnabled(self.is_dirty())
        self.revert_button.setEnabled(self.is_dirty())

    def insert_placeholder(self, name: str) -> None:
        text = f"{{{name}}}"
        if self._typing_in is self.subject and self.subject.isVisible():
            self.subject.insert(text)
            self._edited()  # ``insert`` is not an edit by the user's keys: say so here
            self.subject.setFocus()
        else:
            self.body.insertPlainText(text)
            self.body.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and watched in (self.subject, self.body):
            self._typing_in = self.subject if watched is self.subject else self.body
        return super().eventFilter(watched, event)

    # -- preview ------------------------------------------------------------------------
    def _ask_preview(self) -> None:
        if not self.tasks.closed:
            subject, body = self.typed()
            self.previews.ask((subject if self._is_email() else "", body))

    def _is_email(self) -> bool:
        return self.current is not None and self.current[1] == Channel.EMAIL

    def _show_preview(self, subject: str, body: str) -> None:
        if self._is_email():
            self.preview.setPlainText(self.tr("Subject: {0}").format(subject) + f"\n\n{body}")
        else:
            self.preview.setPlainText(body)
        if self._is_email():
            self.length.hide()
            return
        segments = rules.sms_segments(body)
        sent_as = (
            self.tr("sent as one text message")
            if segments == 1
            else self.tr("sent as {0} text messages, billed each").format(segments)
        )
        self.length.setText(self.tr("{0} characters · {1}").format(len(body), sent_as))
        self.length.show()

    # -- writing ------------------------------------------------------------------------
    def save(self) -> None:
        if self.current is not None and self.may_edit:
            self.tasks.spawn(self._save(self.current, *self.typed()))

    async def _save(self, key: Key, subject: str, body: str) -> None:
        event, channel = key
        row = self.templates.get(key)
        show_error(self.error, None)
        self.save_button.setEnabled(False)
        try:
            version = await self.workspace.run(
                queue.save_template,
                event=event,
                channel=channel,
                subject=subject,
                body=body,
                seen_version=row.version if row else None,
            )
        except UserFacingError as error:
            show_error(self.error, str(error))  # what was typed stays for a fix
            self._update_title()
            return
        self.templates[key] = TemplateRow(
            row.id if row else 0, version, event, channel, subject.strip(), body
        )
        if key == self.current and self.typed() == (subject, body):
            self._loaded = (subject, body)
            self.done.setText(self.tr("Saved. Messages queued from now on use these words."))
            self.done.show()
        self._update_title()

    def revert(self) -> None:
        if self.current is not None:
            self._show(self.current)

    # -- the end ------------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        if not self.is_dirty():
            return []
        return [self.tr("{0}: changes not saved").format(entry_title(self.current_key))]

    def closeEvent(self, event: QCloseEvent) -> None:
        work = [] if self._closing_anyway else self.unsaved_work()
        self._closing_anyway = False
        if not work:
            QSettings().setValue(GEOMETRY_KEY, self.saveGeometry())
            self._preview_timer.stop()
            super().closeEvent(event)
            return
        event.ignore()
        if self.close_question is not None and self.close_question.isVisible():
            self.close_question.raise_()
            return
        self.close_question = confirm(
            self,
            self.tr("Close the templates and throw away what is not saved?"),
            self.tr("Discard and close"),
            self._close_anyway,
            name="closeTemplates",
            details="\n".join(f"• {line}" for line in work),
        )

    def _close_anyway(self) -> None:
        self._closing_anyway = True
        self.close()

    async def aclose(self) -> None:
        self._unsubscribe()
        self._preview_timer.stop()
        await self.tasks.aclose()
