"""Editing a work order without ever losing what was typed.

The editor is a header (number, customer, site, status badge and the status menu) over
tabs: Details (the form), Visits, Line items, Invoices, Messages, Notes, Photos, Time,
History and Audit.

The Details form is saved with Save. A failed save keeps the form as it is: a validation
error shows beside its field, a dropped connection says so and waits for another try,
and a conflicting edit offers the three ways out — reload theirs, reapply mine on top,
copy mine. The other tabs write as soon as their button is pressed; a refused write
shows its sentence beside that tab's inputs and keeps what was typed there.

Closing asks first while anything is unsaved — the form, or input typed in any tab
(``unsaved_work`` names each); the app asks the same before it quits.

Everything shown comes from one ``load_record``. The editor subscribes to its own work
order's changes (``Workspace.changes``): a change reads again only the parts of the
record it touched — a new line item the charges, a note the notes — and only this
editor's (``parts_changed``); the audit is read when its tab is looked at. The form only
follows when the user has not typed in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.conflicts import contested_fields, reapply_on_top
from dispatch_app.domain.roles import Action, Role, may, may_set_status, refusal
from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.work_order_record import money
from dispatch_app.domain.work_order_status import REASON_REQUIRED
from dispatch_app.domain.work_orders import EDITABLE_FIELDS
from dispatch_app.errors import ConflictError, DatabaseUnreachable, UserFacingError, ValidationError
from dispatch_app.services.change_routes import ChangeHint
from dispatch_app.services.leads.inbox import LeadRow, lead_of_work_order
from dispatch_app.services.work_order.record import load_parts, load_record
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.services.work_order.status import change_status
from dispatch_app.services.work_orders import save_work_order
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.tasks import WindowTasks
from dispatch_app.ui.workorder.common import BANNER_STYLE, ERROR_STYLE, MUTED_STYLE, ShowsRecord
from dispatch_app.ui.workorder.details import DetailsForm, form_view
from dispatch_app.ui.workorder.history import AuditTab, HistoryTab
from dispatch_app.ui.workorder.invoices import InvoicesTab
from dispatch_app.ui.workorder.line_items import LineItemsTab
from dispatch_app.ui.workorder.messages import MessagesTab
from dispatch_app.ui.workorder.notes import NotesTab
from dispatch_app.ui.workorder.photos import PhotosTab
from dispatch_app.ui.workorder.status import ReasonDialog, StatusBadge, StatusButton
from dispatch_app.ui.workorder.time_entries import TimeTab
from dispatch_app.ui.workorder.visits import VisitsTab

log = logging.getLogger(__name__)

__all__ = ["BANNER_STYLE", "ERROR_STYLE", "WorkOrderEditor"]

# Hints come in bursts (a save touches a row and its audit, a drop adds several photos):
# one read of the record after the burst.
REFRESH_DELAY_MS = 120
TAB_NAMES = (
    "details",
    "visits",
    "lineItems",
    "invoices",
    "messages",
    "notes",
    "photos",
    "time",
    "history",
    "audit",
)


class WorkOrderEditor(QDialog):
    saved = Signal(int)  # the work order's new version
    busyChanged = Signal(bool)  # a load or save is running
    recordShown = Signal()  # a freshly read record is on screen

    def __init__(
        self,
        workspace: Workspace,
        work_order_id: int,
        parent: QWidget | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workOrderEditor")
        self.clock = clock
        self.workspace = workspace
        self.work_order_id = work_order_id
        # The parts of the record changed since it was read, waiting for the next read;
        # the audit waits until its tab is shown.
        self._stale: set[RecordPart] = set()
        self._audit_stale = False
        self._unsubscribe = workspace.changes.watch_work_order(work_order_id, self.parts_changed)
        self.finished.connect(lambda _result: self._unsubscribe())
        self.record: WorkOrderRecord | None = None
        self._original: dict[str, Any] = {}
        self._theirs: dict[str, Any] | None = None
        self._version = 0
        self._number = ""
        self._closing_anyway = False  # the user chose to discard: the next close goes through
        self.close_question: QMessageBox | None = None
        self.tasks = WindowTasks("work order editor")
        # Loads and saves queue up rather than overlap: a second Save waits its turn.
        self._one_at_a_time = asyncio.Lock()
        self._reason_dialog: ReasonDialog | None = None
        self.setWindowTitle(self.tr("Work order"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1320, 820)

        # -- header ----------------------------------------------------------------------
        self.title = QLabel()
        self.title.setObjectName("title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() + 7)
        font.setBold(True)
        self.title.setFont(font)
        self.badge = StatusBadge()
        self.priority_badge = QLabel()
        self.priority_badge.setObjectName("priorityBadge")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setTextFormat(Qt.TextFormat.RichText)
        self.subtitle.setStyleSheet(MUTED_STYLE)
        self.total_label = QLabel()
        self.total_label.setObjectName("headerTotal")
        self.total_label.setStyleSheet(MUTED_STYLE)
        self.status_button = StatusButton()
        first_line = QHBoxLayout()
        first_line.setSpacing(12)
        first_line.addWidget(self.title)
        first_line.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignVCenter)
        first_line.addWidget(self.priority_badge, 0, Qt.AlignmentFlag.AlignVCenter)
        first_line.addStretch()
        first_line.addWidget(self.total_label)
        first_line.addSpacing(12)
        first_line.addWidget(self.status_button)
        header = QFrame()
        header.setObjectName("editorHeader")
        header.setStyleSheet(
            "QFrame#editorHeader { background: #f8f9fa; border-bottom: 1px solid #dde2e8; }"
        )
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(18, 12, 18, 12)
        header_layout.setSpacing(4)
        header_layout.addLayout(first_line)
        header_layout.addWidget(self.subtitle)
        # "From lead: Missed call Dec 5": the call this work order was booked from.
        self.lead_label = QLabel()
        self.lead_label.setObjectName("fromLead")
        self.lead_label.setStyleSheet(MUTED_STYLE)
        self.lead_label.hide()
        self.from_lead: LeadRow | None = None
        header_layout.addWidget(self.lead_label)

        # -- messages --------------------------------------------------------------------
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

        # -- tabs ------------------------------------------------------------------------
        self.details = DetailsForm()
        self.details.clock = clock
        self.description = self.details.description
        self.priority = self.details.priority
        self.field_errors = self.details.errors
        self.visits_tab = VisitsTab()
        self.line_items = LineItemsTab(self)
        self.invoices = InvoicesTab(self)
        self.messages_tab = MessagesTab(self)
        self.notes = NotesTab(self)
        self.photos = PhotosTab(self)
        self.time = TimeTab(self)
        self.time.clock = clock
        self.history = HistoryTab()
        self.audit = AuditTab()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("editorTabs")
        self.tabs.setDocumentMode(True)
        for widget, label, name in (
            (self.details, self.tr("Details"), "details"),
            (self.visits_tab, self.tr("Visits"), "visits"),
            (self.line_items, self.tr("Line items"), "lineItems"),
            (self.invoices, self.tr("Invoices"), "invoices"),
            (self.messages_tab, self.tr("Messages"), "messages"),
            (self.notes, self.tr("Notes"), "notes"),
            (self.photos, self.tr("Photos"), "photos"),
            (self.time, self.tr("Time"), "time"),
            (self.history, self.tr("History"), "history"),
            (self.audit, self.tr("Audit"), "audit"),
        ):
            widget.setObjectName(f"{name}Tab")
            self.tabs.addTab(widget, label)
        self._tab_labels = [self.tabs.tabText(i) for i in range(self.tabs.count())]

        # -- buttons ---------------------------------------------------------------------
        self.role_note = QLabel()  # what this person's role leaves out, in its words
        self.role_note.setObjectName("roleNote")
        self.role_note.setStyleSheet(MUTED_STYLE)
        self.role_note.hide()
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.updated_label = QLabel()
        self.updated_label.setObjectName("updatedLabel")
        self.updated_label.setStyleSheet(MUTED_STYLE)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(18, 6, 18, 12)
        buttons.addWidget(self.updated_label)
        buttons.addSpacing(24)
        buttons.addWidget(self.role_note, 1)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)

        messages = QVBoxLayout()
        messages.setContentsMargins(18, 8, 18, 0)
        messages.addWidget(self.banner)
        messages.addWidget(self.conflict)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addLayout(messages)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self._read_stale)
        self.tabs.currentChanged.connect(self._tab_shown)

        self._offer_what_the_role_may(workspace.role)
        if not may(workspace.role, Action.BOOK_CALLS):
            self.save_button.hide()
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        self.reload_theirs.clicked.connect(self.take_theirs)
        self.reapply_mine.clicked.connect(self.reapply)
        self.copy_mine.clicked.connect(self.copy_and_take_theirs)
        self.status_button.chosen.connect(self.choose_status)
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)
        self.details.edited.connect(self._update_title)

    def _offer_what_the_role_may(self, role: Role) -> None:
        """Hide what the signed-in person's role may not do (the database refuses it
        anyway); each tab that loses its controls says why."""
        self.status_button.may_set = lambda target: may_set_status(role, target)
        hidden: list[tuple[QWidget, Action]] = []
        if not may(role, Action.CHARGES):
            hidden += [
                (self.line_items.add_labour_button, Action.CHARGES),
                (self.line_items.add_material_button, Action.CHARGES),
                (self.line_items.remove_button, Action.CHARGES),
                (self.time.add_button, Action.CHARGES),
                (self.time.remove_button, Action.CHARGES),
            ]
        if not may(role, Action.REMOVE_PHOTOS):
            hidden.append((self.photos.remove_button, Action.REMOVE_PHOTOS))
        if not may(role, Action.BOOK_CALLS):
            hidden += [
                (self.notes.add_button, Action.BOOK_CALLS),
                (self.photos.attach_button, Action.BOOK_CALLS),
            ]
            self.details.setEnabled(False)
            self.status_button.hide()
        for widget, _action in hidden:
            widget.hide()
        said = {action for _widget, action in hidden}
        self.role_note.setText(
            " ".join(refusal(role, action) for action in Action if action in said)
        )
        self.role_note.setVisible(bool(said))

    # -- the form -------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        return self.details.values()

    def is_dirty(self) -> bool:
        return bool(self._original) and self.values() != self._original

    def _show(self, fields: dict[str, Any], *, as_loaded: bool) -> None:
        self.details.show_fields(fields)
        if as_loaded:
            self._original = form_view(fields, self.details.tz)
            self._version = fields["version"]
            self._number = fields["number"]
        self._update_title()

    def _update_title(self) -> None:
        dirty = self.is_dirty()
        self.title.setText(self._number + (" •" if dirty else ""))
        self.setWindowTitle(self.tr("Work order {0}").format(self._number))
        details = self.tabs.indexOf(self.details)
        self.tabs.setTabText(details, self._tab_labels[details] + (" •" if dirty else ""))

    def _clear_messages(self) -> None:
        self.details.show_errors({})
        self.banner.hide()

    def _say(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.busyChanged.emit(busy)

    def show_tab(self, name: str) -> QWidget:
        """Bring a tab to the front by its name (``"photos"``); returns it."""
        index = TAB_NAMES.index(name)
        self.tabs.setCurrentIndex(index)
        return self.tabs.currentWidget()

    # -- the record -------------------------------------------------------------------------
    def _show_record(
        self, record: WorkOrderRecord, parts: frozenset[RecordPart] = frozenset(RecordPart)
    ) -> None:
        """Everything but the form's own values (header, lists, tabs), or only ``parts``."""
        self.record = record
        self.total_label.setText(self.tr("Total {0}").format(money(record.total)))
        tabs: dict[RecordPart, ShowsRecord] = {
            RecordPart.HEADER: self.details,
            RecordPart.VISITS: self.visits_tab,
            RecordPart.CHARGES: self.line_items,
            RecordPart.BILLING: self.invoices,
            RecordPart.MESSAGES: self.messages_tab,
            RecordPart.NOTES: self.notes,
            RecordPart.PHOTOS: self.photos,
            RecordPart.TIME: self.time,
            RecordPart.HISTORY: self.history,
            RecordPart.AUDIT: self.audit,
        }
        for part, tab in tabs.items():
            if part in parts:
                tab.show_record(record)
        self._count_tabs(record)
        if RecordPart.HEADER in parts:
            self._show_header(record)
        self._update_title()
        self.recordShown.emit()

    def _show_header(self, record: WorkOrderRecord) -> None:
        self._number = record.number
        self.badge.set_status(record.status)
        self.status_button.set_status(record.status)
        priority = record.fields["priority"]
        colour = theme.PRIORITY_COLOUR.get(priority, theme.MUTED_TEXT).name()
        self.priority_badge.setText(self.tr(theme.PRIORITY_LABEL.get(priority, priority)))
        self.priority_badge.setVisible(priority != "normal")  # only what needs attention
        self.priority_badge.setStyleSheet(
            f"color: {colour}; border: 1px solid {colour}; border-radius: 11px;"
            "padding: 2px 10px; font-weight: 600;"
        )
        subtitle = (
            f"<b style='color:#1f2933'>{escape(record.customer_name)}</b> · "
            f"{escape(record.site_address)} · {escape(record.job_type)}"
        )
        if record.cancel_reason:
            subtitle += " · " + self.tr("Reason: {0}").format(escape(record.cancel_reason))
        self.subtitle.setText(subtitle)
        self._show_lead()
        self.updated_label.setText(
            self.tr("Last changed by {0} at {1}").format(
                record.updated_by, record.updated_at.strftime("%d %b %H:%M")
            )
        )

    def _count_tabs(self, record: WorkOrderRecord) -> None:
        for tab, count in (
            (self.visits_tab, len(record.visits)),
            (self.line_items, len(record.line_items)),
            (self.invoices, len(record.invoices)),
            (self.messages_tab, len(record.messages)),
            (self.notes, len(record.notes)),
            (self.photos, len(record.photos)),
            (self.time, len(record.time_entries)),
        ):
            index = self.tabs.indexOf(tab)
            label = self._tab_labels[index]
            self.tabs.setTabText(index, f"{label} ({count})" if count else label)

    # -- talking to the database ------------------------------------------------------------
    def load_soon(self) -> None:
        self._spawn(self._load_with_lead())

    async def _load_with_lead(self) -> None:
        # One after the other: a workstation holds few connections.
        await self.load()
        await self._read_lead()

    async def _read_lead(self) -> None:
        """The lead this work order was booked from, if any (set once, at booking)."""
        try:
            self.from_lead = await self.workspace.read(lead_of_work_order, self.work_order_id)
        except UserFacingError as error:
            log.info("reading the lead of %s failed: %s", self.work_order_id, error)
            return
        self._show_lead()

    def _show_lead(self) -> None:
        lead = self.from_lead
        if lead is None or self.record is None:
            self.lead_label.hide()
            return
        received = lead.received_at.astimezone(self.record.timezone)
        self.lead_label.setText(
            self.tr("From lead: {0} {1:%b} {1.day}").format(self.tr(lead.source.label), received)
        )
        self.lead_label.setToolTip(lead.request)
        self.lead_label.show()

    def refresh_soon(self, parts: Collection[RecordPart] | None = None) -> None:
        """Read ``parts`` of the record (all of it when None) again shortly: hints arrive
        in bursts, and one read follows the burst."""
        if self.tasks.closed:
            return
        self._stale |= set(RecordPart) if parts is None else set(parts)
        if RecordPart.AUDIT in self._stale and self.tabs.currentWidget() is not self.audit:
            self._stale.discard(RecordPart.AUDIT)
            self._audit_stale = True
        if self._stale:
            self._refresh_timer.start()

    def parts_changed(self, parts: frozenset[RecordPart], hints: list[ChangeHint]) -> None:
        """Something of this work order changed (the workspace's routes call this)."""
        del hints  # which rows does not matter: a part is read whole
        self.refresh_soon(parts)

    def _read_stale(self) -> None:
        parts, self._stale = frozenset(self._stale), set()
        if parts:
            self._spawn(self.load(parts))

    def _tab_shown(self, _index: int) -> None:
        if self._audit_stale and self.tabs.currentWidget() is self.audit:
            self._audit_stale = False
            self.refresh_soon((RecordPart.AUDIT,))

    async def load(self, parts: frozenset[RecordPart] | None = None) -> None:
        """Read the record (or only ``parts`` of it) and show it."""
        typed_before = self.values()
        async with self._one_at_a_time:
            held = self.record
            whole = held is None or parts is None or parts >= frozenset(RecordPart)
            wanted = frozenset(RecordPart) if whole or parts is None else parts
            try:
                if held is None or whole:
                    record = await self.workspace.read(load_record, self.work_order_id)
                else:
                    record = await self.workspace.read(load_parts, held, wanted)
            except ConflictError as gone:
                self._say(str(gone))
                return
            except DatabaseUnreachable as error:
                log.warning("reading %s failed: %s", self.work_order_id, error)
                self._stale |= wanted  # still to be read: the next change or save retries
                self._say(
                    self.tr(
                        "Could not refresh: the database did not answer. What you typed is kept."
                    )
                )
                return
            except UserFacingError as error:
                self._say(str(error))
                return
        if RecordPart.AUDIT in wanted:
            self._audit_stale = False
        first = not self._original
        self._show_record(record, wanted)
        if RecordPart.HEADER not in wanted:
            return  # the form's fields were not read: nothing for it to follow
        fields = record.fields
        theirs = form_view(fields, record.timezone)
        typed_meanwhile = self.values() != typed_before
        if first:
            self._show(fields, as_loaded=True)
        elif theirs == self._original:
            # Nobody changed what the form edits (a status, a line item…): keep what is
            # typed, and save against the new version.
            self._version = fields["version"]
        elif typed_meanwhile or self.is_dirty():
            # The user typed while it loaded, or has unsaved edits: keep their text; saving
            # will offer choices.
            self._say(
                self.tr(
                    "Someone else just changed this work order. Saving "
                    "will let you choose whose version to keep."
                )
            )
        else:
            self._show(fields, as_loaded=True)

    def save(self) -> None:
        # Read the form when the save actually runs, so nothing typed meanwhile is lost.
        self._spawn(self._save(None))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the event loop; ``aclose()`` waits for what is still running."""
        self._spawn(work)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self.tasks.spawn(work)

    async def attempt(
        self,
        work: Awaitable[Any],
        *,
        show_errors: Callable[[dict[str, str]], None],
        parts: Collection[RecordPart] | None = None,
    ) -> bool:
        """Run one write of a tab; say what went wrong where it belongs. True if written.

        A refusal goes to ``show_errors`` (beside the tab's inputs), a conflict or a lost
        server to the banner; the tab keeps what was typed either way.
        """
        try:
            await work
        except ValidationError as invalid:
            show_errors(invalid.fields)
            return False
        except ConflictError as conflict:
            self._say(str(conflict))
            self.refresh_soon()
            return False
        except DatabaseUnreachable as error:
            log.warning("writing to %s failed: %s", self.work_order_id, error)
            self._say(
                self.tr(
                    "Could not save: the database did not answer. "
                    "What you typed is kept; try again."
                )
            )
            return False
        except UserFacingError as error:  # refused by the login's roles, say
            self._say(str(error))
            return False
        self.banner.hide()
        # Shown at once, whether or not the feed is live; the write's own hints then find
        # the same versions.
        self.refresh_soon(None if parts is None else {*parts, RecordPart.AUDIT})
        return True

    async def aclose(self) -> None:
        """Stop what is still running (the app is shutting down)."""
        self._unsubscribe()
        self._refresh_timer.stop()
        await self.tasks.aclose()

    async def _save(self, fields: dict[str, Any] | None) -> None:
        async with self._one_at_a_time:
            await self._save_now(self.values() if fields is None else fields)

    async def _save_now(self, fields: dict[str, Any]) -> None:
        self._clear_messages()
        self._set_busy(True)
        try:
            saved = await self.workspace.run(
                save_work_order,
                work_order_id=self.work_order_id,
                seen_version=self._version,
                fields=fields,
            )
        except ValidationError as invalid:
            self.details.show_errors(invalid.fields)
            self.show_tab("details")
        except ConflictError as conflict:
            self._offer_choices(conflict)
        except DatabaseUnreachable as error:
            log.warning("saving %s failed: %s", self.work_order_id, error)
            self._say(
                self.tr(
                    "Could not save: the database did not answer. "
                    "Your changes are kept; press Save to try again."
                )
            )
        except UserFacingError as error:
            self._say(str(error))
        else:
            self._show(saved, as_loaded=True)
            self.conflict.hide()
            self.saved.emit(saved["version"])
            self.refresh_soon()
        finally:
            self._set_busy(False)

    def _offer_choices(self, conflict: ConflictError) -> None:
        self._theirs = dict(conflict.current) if conflict.current else None
        text = str(conflict)
        if self._theirs is not None:
            theirs = form_view(self._theirs, self.details.tz)
            both = contested_fields(self._original, self.values(), theirs)
            if both:
                text += " " + self.tr("Both of you changed: {0}.").format(
                    ", ".join(sorted(name.replace("_", " ") for name in both))
                )
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
        theirs = self._theirs
        mine = reapply_on_top(self._original, self.values(), form_view(theirs, self.details.tz))
        self._show(theirs, as_loaded=True)  # their version is now the base
        self._show({**theirs, **mine}, as_loaded=False)
        self.conflict.hide()
        self._spawn(self._save({name: mine[name] for name in EDITABLE_FIELDS}))

    def copy_and_take_theirs(self) -> None:
        mine = self.values()
        QGuiApplication.clipboard().setText(
            f"{self._number}\n{self.tr('Priority')}: {mine['priority']}\n\n{mine['description']}"
        )
        self.take_theirs()
        self._say(self.tr("Your version is on the clipboard."))

    # -- status -----------------------------------------------------------------------------
    def choose_status(self, target: str) -> None:
        record = self.record
        if record is None:
            return
        if target in REASON_REQUIRED:
            if self._reason_dialog is not None:
                self._reason_dialog.close()
            dialog = ReasonDialog(record.number, target, self)
            dialog.submitted.connect(
                lambda status, reason: self._spawn(self._change_status(status, reason))
            )
            self._reason_dialog = dialog
            dialog.open()
            return
        self._spawn(self._change_status(target, None))

    @property
    def reason_dialog(self) -> ReasonDialog | None:
        return self._reason_dialog

    async def _change_status(self, target: str, reason: str | None) -> None:
        record = self.record
        if record is None:
            return
        dialog = self._reason_dialog if reason is not None else None
        if dialog is not None:
            dialog.busy(True)
        self.status_button.setEnabled(False)

        def refused(errors: dict[str, str]) -> None:
            sentence = " ".join(errors.values())
            if dialog is not None and dialog.isVisible():
                dialog.refuse(sentence)
            else:
                self._say(sentence)

        try:
            done = await self.attempt(
                self.workspace.run(
                    change_status,
                    work_order_id=self.work_order_id,
                    seen_status=record.status,
                    status=target,
                    reason=reason,
                ),
                show_errors=refused,
            )
        finally:
            self.status_button.setEnabled(True)
            if dialog is not None:
                dialog.busy(False)
        if done and dialog is not None:
            dialog.accept()
            self._reason_dialog = None

    # -- closing ------------------------------------------------------------------------------
    def unsaved_work(self) -> list[str]:
        """What closing would throw away, one readable line each ("WO-10023: a note being
        written"): the form's changes and whatever is typed in any tab or the reason asked."""
        found = []
        if self.is_dirty():
            found.append(self.tr("changes to the details not saved"))
        for tab in (self.line_items, self.invoices, self.notes, self.photos, self.time):
            found.extend(tab.typed_input())
        dialog = self._reason_dialog
        if dialog is not None and dialog.isVisible() and dialog.reason.toPlainText().strip():
            found.append(self.tr("a reason being written ({0})").format(dialog.windowTitle()))
        number = self._number or self.tr("Work order")
        return [f"{number}: {what}" for what in found]

    def closeEvent(self, event: QCloseEvent) -> None:
        work = [] if self._closing_anyway else self.unsaved_work()
        self._closing_anyway = False  # one "discard" covers one close, never a later one
        if not work:
            super().closeEvent(event)
            return
        event.ignore()
        if self.close_question is not None and self.close_question.isVisible():
            self.close_question.raise_()
            return
        self.close_question = confirm(
            self,
            self.tr("Close {0} and throw away what is not saved?").format(
                self._number or self.tr("this work order")
            ),
            self.tr("Discard and close"),
            self._close_anyway,
            name="closeQuestion",
            details="\n".join(f"• {line}" for line in work),
        )

    def _close_anyway(self) -> None:
        self._closing_anyway = True
        self.close()

    def keyPressEvent(self, event: Any) -> None:
        # Escape would close the dialog past the unsaved-changes check: route it there.
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)
