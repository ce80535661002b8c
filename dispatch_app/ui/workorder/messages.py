"""The Messages tab: what the customer was sent about this work order, newest first.

The database queues the on-the-way and job-done texts itself when a visit starts out or
ends; the worker sends them. Here the office sees each one's fate and the words the
customer read, resends one that was sent, failed or cancelled (a CSR's), and cancels one
still waiting (a dispatcher's). A refusal shows its sentence above the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.messages import Channel, MessageState
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.roles import Action
from dispatch_app.domain.tables import RecordPart
from dispatch_app.errors import UserFacingError
from dispatch_app.services.outbox import queue
from dispatch_app.services.outbox.queue import MessageRow
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.ui.workorder.common import (
    RecordHost,
    error_label,
    muted,
    section_title,
    show_error,
    side_card,
)

COLUMNS = ("Queued", "About", "Via", "To", "Status")
STATUS_COLUMN = 4
# A message that went wrong, or never will go, stands out in the list.
STATE_COLOUR = {
    MessageState.FAILED: "#b42318",
    MessageState.CANCELLED: "#66727f",
    MessageState.SENT: "#1e7b45",
}
RESENDABLE = (MessageState.SENT, MessageState.FAILED, MessageState.CANCELLED)


def moment_text(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """ "Dec 5, 10:42 AM" in the company's time."""
    local = moment.astimezone(zone)
    return f"{local:%b} {local.day}, {local.strftime('%I:%M %p').lstrip('0')}"


class MessagesTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.zone: dt.tzinfo = dt.UTC
        self._shown: tuple[MessageRow, ...] | None = None
        self._select_next: int | None = None  # a message just queued by Resend

        self.note = muted(
            self.tr(
                "Texts and emails go out by themselves when a visit starts out or ends, "
                "if the customer agreed to them."
            )
        )
        self.note.setObjectName("messagesNote")
        self.note.setWordWrap(True)
        self.error = error_label("messageError")

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("messages")
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.empty = muted(self.tr("Nothing was sent to the customer about this work order yet."))
        self.empty.setObjectName("noMessages")

        card, side = side_card("messageCard", 380)
        self.detail_title = section_title("")
        self.detail = QLabel()
        self.detail.setObjectName("messageDetail")
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setWordWrap(True)
        self.body = QTextBrowser()
        self.body.setObjectName("messageBody")
        self.body.setOpenLinks(False)
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.resend_button = QPushButton(self.tr("Resend"))
        self.resend_button.setObjectName("resendMessage")
        self.resend_button.setToolTip(self.tr("Queue the same words to the same address again"))
        self.cancel_button = QPushButton(self.tr("Cancel message"))
        self.cancel_button.setObjectName("cancelMessage")
        self.cancel_button.setToolTip(self.tr("Do not send it; it stays listed as cancelled"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.resend_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        side.addWidget(self.detail_title)
        side.addWidget(self.detail)
        side.addWidget(self.body, 1)
        side.addLayout(buttons)
        self.card = card

        body = QHBoxLayout()
        listing = QVBoxLayout()
        listing.addWidget(self.table, 1)
        listing.addWidget(self.empty)
        listing.addStretch(0)
        body.addLayout(listing, 1)
        body.addWidget(card)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addLayout(body, 1)

        self.resend_button.clicked.connect(self.resend_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.itemSelectionChanged.connect(self._show_selected)

    # -- showing ------------------------------------------------------------------------
    def show_record(self, record: WorkOrderRecord) -> None:
        self.zone = record.timezone
        if record.messages == self._shown:
            return
        chosen = self.selected()
        keep = self._select_next
        if keep is None and chosen is not None:
            keep = chosen.id
        elif any(m.id == keep for m in record.messages):
            self._select_next = None
        self._shown = record.messages
        self._fill(record.messages, keep)

    def _fill(self, messages: tuple[MessageRow, ...], keep: int | None) -> None:
        self.table.setRowCount(len(messages))
        select = 0
        for index, row in enumerate(messages):
            cells = (
                moment_text(row.created_at, self.zone),
                row.event.label,
                row.channel.label,
                recipient_text(row),
                row.status_text(self.zone),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == STATUS_COLUMN:
                    item.setToolTip(text)
                    colour = STATE_COLOUR.get(row.state)
                    if colour:
                        item.setForeground(QBrush(QColor(colour)))
                self.table.setItem(index, column, item)
            if row.id == keep:
                select = index
        self.empty.setVisible(not messages)
        self.table.setVisible(bool(messages))
        if messages:
            self.table.selectRow(select)
        self._show_selected()

    def selected(self) -> MessageRow | None:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        if not rows or self._shown is None or rows[0].row() >= len(self._shown):
            return None
        return self._shown[rows[0].row()]

    def _show_selected(self) -> None:
        row = self.selected()
        self.card.setVisible(row is not None)
        if row is None:
            return
        self.detail_title.setText(f"{row.event.label} · {row.channel.label}")
        self.detail.setText(message_html(row, self.zone))
        words = f"{row.subject}\n\n{row.body}" if row.channel == Channel.EMAIL else row.body
        self.body.setPlainText(words)
        workspace = self.host.workspace
        self.resend_button.setVisible(
            row.state in RESENDABLE and workspace.may(Action.RESEND_MESSAGES)
        )
        self.cancel_button.setVisible(
            row.state == MessageState.QUEUED and workspace.may(Action.CANCEL_MESSAGES)
        )

    def typed_input(self) -> list[str]:
        return []  # nothing is typed here

    # -- writing ------------------------------------------------------------------------
    def resend_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.host.spawn(self._resend(row))

    async def _resend(self, row: MessageRow) -> None:
        made = await self._write(
            self.resend_button, self.host.workspace.run(queue.resend_message, row.id)
        )
        if isinstance(made, int):
            self._select_next = made  # the new row is the one to look at

    def cancel_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.host.spawn(self._cancel(row))

    async def _cancel(self, row: MessageRow) -> None:
        await self._write(
            self.cancel_button,
            self.host.workspace.run(queue.cancel_message, row.id, row.version),
        )

    async def _write(self, button: QPushButton, work: Awaitable[Any]) -> Any:
        """Run one change; a refusal is said above the list. The list is read again
        either way: a message refused as changed meanwhile is shown as it is now."""
        show_error(self.error, None)
        button.setEnabled(False)
        try:
            return await work
        except UserFacingError as error:
            show_error(self.error, str(error))
            return None
        finally:
            button.setEnabled(True)
            self.host.refresh_soon((RecordPart.MESSAGES,))


def recipient_text(row: MessageRow) -> str:
    """A number as the office writes it; an address or a name as it is."""
    return display_phone(row.recipient) if row.channel == Channel.SMS else row.recipient


def message_html(row: MessageRow, zone: dt.tzinfo) -> str:
    """The selected message's facts, every text escaped."""
    facts = [
        ("To", recipient_text(row)),
        ("Queued", moment_text(row.created_at, zone)),
        ("Status", row.status_text(zone)),
    ]
    if row.attempts:
        facts.append(("Attempts", str(row.attempts)))
    if row.provider_id:
        facts.append(("Provider id", row.provider_id))
    if row.resend_of_id:
        facts.append(("Resend of", f"message #{row.resend_of_id}"))
    cells = "".join(
        f"<tr><td style='color:#66727f; padding-right:8px'>{escape(name)}</td>"
        f"<td>{escape(value)}</td></tr>"
        for name, value in facts
    )
    return f"<table cellspacing='0' cellpadding='1'>{cells}</table>"
