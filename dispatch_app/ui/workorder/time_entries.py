"""The Time tab: who worked on the job and for how long, and adding an entry."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, local_now
from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.work_order_record import duration_text
from dispatch_app.services.work_order.rows import TimeEntryRow, WorkOrderRecord
from dispatch_app.services.work_order.time_entries import add_time_entry, remove_time_entry
from dispatch_app.ui.workorder.common import (
    RecordHost,
    date_time_edit,
    error_label,
    muted,
    section_title,
    set_wall_time,
    show_error,
    side_card,
    wall_time,
)


class TimeTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock: Clock = SYSTEM_CLOCK
        self.host = host
        self.entries: tuple[TimeEntryRow, ...] = ()
        self._record: WorkOrderRecord | None = None
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("timeTable")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Technician"),
                self.tr("Start"),
                self.tr("End"),
                self.tr("Duration"),
                self.tr("Note"),
                self.tr("Entered by"),
            ]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.total = QLabel()
        self.total.setObjectName("timeTotal")
        self.remove_button = QPushButton(self.tr("Remove selected"))
        self.remove_button.setObjectName("removeTime")
        self.table_error = error_label()
        below = QHBoxLayout()
        below.addWidget(self.remove_button)
        below.addStretch()
        below.addWidget(self.total)
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addWidget(self.table_error)
        left.addLayout(below)

        self.technician = QComboBox()
        self.technician.setObjectName("timeTechnician")
        self.started = date_time_edit("timeStart")
        self.ended = date_time_edit("timeEnd")
        self.note = QLineEdit()
        self.note.setObjectName("timeNote")
        self.note.setPlaceholderText(self.tr("optional: travel, diagnosis…"))
        self.add_button = QPushButton(self.tr("Add time"))
        self.add_button.setObjectName("addTime")
        self.errors = {
            name: error_label(f"timeError_{name}")
            for name in ("technician", "started_at", "ended_at", "note", "other")
        }
        form = QFormLayout()
        form.addRow(self.tr("Technician"), self.technician)
        form.addRow("", self.errors["technician"])
        form.addRow(self.tr("Started"), self.started)
        form.addRow("", self.errors["started_at"])
        form.addRow(self.tr("Ended"), self.ended)
        form.addRow("", self.errors["ended_at"])
        form.addRow(self.tr("Note"), self.note)
        form.addRow("", self.errors["note"])
        side, side_layout = side_card("timeSide", 400)
        side_layout.addWidget(section_title(self.tr("Add time")))
        side_layout.addLayout(form)
        side_layout.addWidget(self.errors["other"])
        side_layout.addWidget(self.add_button)
        side_layout.addWidget(muted(self.tr("One entry covers at most 24 hours.")))
        side_layout.addStretch()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(16)
        layout.addLayout(left, 1)
        layout.addWidget(side)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove_selected)
        self._times_set = False
        # What the form offered (start, end), and whether the user picked the technician:
        # anything else in the form is the user's own typing.
        self._offered: tuple[QDateTime, QDateTime] | None = None
        self._technician_picked = False
        self.technician.activated.connect(self._pick_technician)

    def _pick_technician(self, _index: int) -> None:
        self._technician_picked = True

    def _offer_current(self) -> None:
        self._offered = (self.started.dateTime(), self.ended.dateTime())
        self._technician_picked = False

    def typed_input(self) -> list[str]:
        """A time entry begun in the form and not added yet."""
        changed_times = self._offered is not None and self._offered != (
            self.started.dateTime(),
            self.ended.dateTime(),
        )
        if self.note.text().strip() or changed_times or self._technician_picked:
            return [self.tr("a time entry being entered")]
        return []

    def show_record(self, record: WorkOrderRecord) -> None:
        self._record = record
        chosen = self.technician.currentData()
        self.technician.clear()
        for technician in record.technicians:
            self.technician.addItem(technician.label, technician.id)
        if chosen is not None and self.technician.findData(chosen) >= 0:
            self.technician.setCurrentIndex(self.technician.findData(chosen))
        elif record.visits and record.visits[0].crew:
            lead = record.visits[0].crew[0].technician_id
            self.technician.setCurrentIndex(max(0, self.technician.findData(lead)))
        if not self._times_set:
            # First show: offer the first visit's booked time, else the last hour.
            self._times_set = True
            first = record.visits[0] if record.visits else None
            if first is not None and first.starts is not None and first.ends is not None:
                start, end = first.starts, first.ends
            else:
                end = local_now(self.clock, record.timezone).replace(second=0, microsecond=0)
                start = end - dt.timedelta(hours=1)
            set_wall_time(self.started, start, record.timezone)
            set_wall_time(self.ended, end, record.timezone)
            self._offer_current()

        self.entries = record.time_entries
        self.table.setRowCount(len(self.entries))
        total = dt.timedelta()
        for row, entry in enumerate(self.entries):
            total += entry.duration
            cells = (
                entry.technician,
                entry.started_at.strftime("%a %d %b %H:%M"),
                entry.ended_at.strftime(
                    "%H:%M"
                    if entry.ended_at.date() == entry.started_at.date()
                    else "%a %d %b %H:%M"
                ),
                duration_text(entry.duration),
                entry.note,
                entry.created_by,
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.total.setText(self.tr("Total {0}").format(duration_text(total)))

    def add(self) -> None:
        self.host.spawn(self._add())

    async def _add(self) -> None:
        record = self._record
        if record is None:
            return
        self.add_button.setEnabled(False)
        self._show_errors({})
        try:
            technician = self.technician.currentData()
            if technician is None:
                self._show_errors({"technician": self.tr("Choose the technician.")})
                return
            done = await self.host.attempt(
                self.host.workspace.run(
                    add_time_entry,
                    work_order_id=self.host.work_order_id,
                    technician_id=technician,
                    started_at=wall_time(self.started, record.timezone),
                    ended_at=wall_time(self.ended, record.timezone),
                    note=self.note.text(),
                ),
                show_errors=self._show_errors,
                parts=(RecordPart.TIME,),
            )
            if done:
                self.note.clear()
                self._offer_current()  # the times stay as a start for the next entry
        finally:
            self.add_button.setEnabled(True)

    def _show_errors(self, errors: dict[str, str]) -> None:
        rest = [s for name, s in errors.items() if name not in self.errors or name == "other"]
        for name, label in self.errors.items():
            show_error(label, " ".join(rest) if name == "other" else errors.get(name))

    def remove_selected(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        for row in sorted(rows):
            entry_id = self.entries[row].id
            self.host.spawn(self._remove(entry_id))

    async def _remove(self, entry_id: int) -> None:
        await self.host.attempt(
            self.host.workspace.run(remove_time_entry, time_entry_id=entry_id),
            show_errors=lambda errors: show_error(self.table_error, " ".join(errors.values())),
            parts=(RecordPart.TIME,),
        )
