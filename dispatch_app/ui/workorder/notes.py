"""The Notes tab: what people wrote about the job, newest first, signed and timed."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.tables import RecordPart
from dispatch_app.services.work_order.notes import add_note
from dispatch_app.services.work_order.rows import NoteRow, WorkOrderRecord
from dispatch_app.ui.workorder.common import (
    CARD_STYLE,
    MUTED_STYLE,
    RecordHost,
    error_label,
    muted,
    show_error,
)

# A note longer than this shows its start; the whole text is one click away.
PREVIEW_CHARS = 4000


class NoteCard(QFrame):
    def __init__(self, note: NoteRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = note
        self.setObjectName("noteCard")
        self.setStyleSheet(f"QFrame#noteCard {{ {CARD_STYLE} }}")
        who = QLabel(f"<b>{escape(note.author)}</b>")
        who.setTextFormat(Qt.TextFormat.RichText)
        when = QLabel(note.created_at.strftime("%a %d %b %Y · %H:%M"))
        when.setStyleSheet(MUTED_STYLE)
        top = QHBoxLayout()
        top.addWidget(who)
        top.addWidget(when)
        top.addStretch()
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.addLayout(top)
        layout.addWidget(self.body)
        if len(note.body) > PREVIEW_CHARS:
            self.body.setText(note.body[:PREVIEW_CHARS] + "…")
            more = QPushButton(self.tr("Show all {0:,} characters").format(len(note.body)))
            more.setFlat(True)
            more.clicked.connect(lambda: self._show_all(more))
            layout.addWidget(more, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            self.body.setText(note.body)

    def _show_all(self, more: QPushButton) -> None:
        self.body.setText(self.note.body)
        more.hide()


class NotesTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self._shown: tuple[NoteRow, ...] | None = None
        self.new_note = QPlainTextEdit()
        self.new_note.setObjectName("newNote")
        self.new_note.setPlaceholderText(
            self.tr("Write a note for the office and the technicians…")
        )
        self.new_note.setFixedHeight(90)
        self.add_button = QPushButton(self.tr("Add note"))
        self.add_button.setObjectName("addNote")
        self.error = error_label("noteError")
        adding = QHBoxLayout()
        adding.addWidget(self.new_note, 1)
        adding.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.cards = QVBoxLayout()
        self.cards.setSpacing(8)
        self.empty = muted(self.tr("No notes yet."))
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.addWidget(self.empty)
        holder_layout.addLayout(self.cards)
        holder_layout.addStretch()
        self.list_area = QScrollArea()
        self.list_area.setWidgetResizable(True)
        self.list_area.setFrameShape(QFrame.Shape.NoFrame)
        self.list_area.setWidget(holder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(adding)
        layout.addWidget(self.error)
        layout.addWidget(self.list_area, 1)
        self.add_button.clicked.connect(self.add)

    def show_record(self, record: WorkOrderRecord) -> None:
        if record.notes == self._shown:
            return
        self._shown = record.notes
        while self.cards.count():
            item = self.cards.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for note in record.notes:
            self.cards.addWidget(NoteCard(note))
        self.empty.setVisible(not record.notes)

    def card_texts(self) -> list[tuple[str, str]]:
        """(author, body) of each note shown, top to bottom."""
        found = []
        for index in range(self.cards.count()):
            item = self.cards.itemAt(index)
            card = item.widget() if item is not None else None
            if isinstance(card, NoteCard):
                found.append((card.note.author, card.note.body))
        return found

    def typed_input(self) -> list[str]:
        """What is typed here and not saved yet, in a few words each."""
        return [self.tr("a note being written")] if self.new_note.toPlainText().strip() else []

    def add(self) -> None:
        self.host.spawn(self._add())

    async def _add(self) -> None:
        self.add_button.setEnabled(False)
        show_error(self.error, None)
        try:
            done = await self.host.attempt(
                self.host.workspace.run(
                    add_note,
                    work_order_id=self.host.work_order_id,
                    body=self.new_note.toPlainText(),
                ),
                show_errors=lambda errors: show_error(self.error, " ".join(errors.values())),
                parts=(RecordPart.NOTES,),
            )
            if done:
                self.new_note.clear()
        finally:
            self.add_button.setEnabled(True)
