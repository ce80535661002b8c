"""The Details tab: the work order's own fields, beside who and where the job is for.

The form is the part of the editor a person types in; it is saved with Save (and the
conflict choices), while every other tab writes as soon as its button is pressed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QWidget,
)

from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.clock import today as clock_today
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.vocabulary import Priority, WorkOrderSource
from dispatch_app.domain.work_orders import EDITABLE_FIELDS
from dispatch_app.services.work_order.rows import WorkOrderRecord
from dispatch_app.ui import theme
from dispatch_app.ui.workorder.common import (
    date_time_edit,
    error_label,
    section_title,
    set_wall_time,
    side_card,
    wall_time,
)


def _minute(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone(tz).replace(second=0, microsecond=0)


def form_view(fields: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The editable fields as the form can show them (times to the minute, in the
    company's zone), so an untouched form compares equal to what was loaded."""
    view = {name: fields.get(name) for name in EDITABLE_FIELDS}
    for name in ("requested_start", "requested_end"):
        view[name] = _minute(view[name], tz)
    return view


class DetailsForm(QWidget):
    edited = Signal()  # anything in the form changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = ZoneInfo("UTC")
        self.clock: Clock = SYSTEM_CLOCK

        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText(self.tr("What the customer reported"))
        self.priority = QComboBox()
        self.priority.setObjectName("priority")
        for value in Priority:
            self.priority.addItem(self.tr(theme.PRIORITY_LABEL[value]), value.value)
        self.source = QComboBox()
        self.source.setObjectName("source")
        for source in WorkOrderSource:
            self.source.addItem(self.tr(theme.SOURCE_LABEL[source]), source.value)
        self.equipment = QComboBox()
        self.equipment.setObjectName("equipment")
        for combo in (self.priority, self.source, self.equipment):
            combo.setMinimumWidth(260)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.has_window = QCheckBox(self.tr("Customer asked for a time"))
        self.has_window.setObjectName("hasWindow")
        self.window_start = date_time_edit("requestedStart")
        self.window_end = date_time_edit("requestedEnd")
        window = QHBoxLayout()
        window.addWidget(self.has_window)
        window.addWidget(self.window_start)
        window.addWidget(QLabel(self.tr("to")))
        window.addWidget(self.window_end)
        window.addStretch()

        self.errors = {name: error_label(f"error_{name}") for name in EDITABLE_FIELDS}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow(self.tr("Problem"), self.description)
        form.addRow("", self.errors["description"])
        form.addRow(self.tr("Priority"), self.priority)
        form.addRow("", self.errors["priority"])
        form.addRow(self.tr("Source"), self.source)
        form.addRow("", self.errors["source"])
        form.addRow(self.tr("Equipment"), self.equipment)
        form.addRow("", self.errors["equipment_id"])
        form.addRow(self.tr("Requested"), window)
        form.addRow("", self.errors["requested_start"])
        form.addRow("", self.errors["requested_end"])

        self.customer_card = QLabel()
        self.customer_card.setObjectName("customerCard")
        self.customer_card.setTextFormat(Qt.TextFormat.RichText)
        self.customer_card.setWordWrap(True)
        self.customer_card.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.customer_card.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answers_card = QLabel()
        self.answers_card.setObjectName("answersCard")
        self.answers_card.setTextFormat(Qt.TextFormat.RichText)
        self.answers_card.setWordWrap(True)
        self.answers_card.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side, side_layout = side_card("detailsSide", 380)
        side_layout.addWidget(section_title(self.tr("Customer and site")))
        side_layout.addWidget(self.customer_card)
        side_layout.addSpacing(8)
        side_layout.addWidget(section_title(self.tr("Intake answers")))
        side_layout.addWidget(self.answers_card)
        side_layout.addStretch()

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(16)
        layout.addLayout(form, 1)
        layout.addWidget(side)

        self.has_window.toggled.connect(self._window_toggled)
        self._window_toggled(False)
        self.description.textChanged.connect(self.edited)
        for combo in (self.priority, self.source, self.equipment):
            combo.currentIndexChanged.connect(self.edited)
        self.has_window.toggled.connect(self.edited)
        self.window_start.dateTimeChanged.connect(self.edited)
        self.window_end.dateTimeChanged.connect(self.edited)

    def _window_toggled(self, on: bool) -> None:
        self.window_start.setEnabled(on)
        self.window_end.setEnabled(on)

    # -- the form ------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        window = self.has_window.isChecked()
        return {
            "description": self.description.toPlainText(),
            "priority": self.priority.currentData(),
            "source": self.source.currentData(),
            "equipment_id": self.equipment.currentData(),
            "requested_start": wall_time(self.window_start, self.tz) if window else None,
            "requested_end": wall_time(self.window_end, self.tz) if window else None,
        }

    def show_fields(self, fields: Mapping[str, Any]) -> None:
        """Put ``fields`` in the form (an unknown choice is added, never lost)."""
        self.description.setPlainText(fields["description"])
        self._choose(self.priority, fields["priority"])
        self._choose(self.source, fields["source"])
        self._choose(self.equipment, fields["equipment_id"])
        start, end = fields["requested_start"], fields["requested_end"]
        self.has_window.setChecked(start is not None)
        if start is None or end is None:
            # Ready for a time the customer asks for: tomorrow morning.
            tomorrow = clock_today(self.clock, self.tz) + dt.timedelta(days=1)
            start = dt.datetime.combine(tomorrow, dt.time(8), tzinfo=self.tz)
            end = dt.datetime.combine(tomorrow, dt.time(12), tzinfo=self.tz)
        set_wall_time(self.window_start, start, self.tz)
        set_wall_time(self.window_end, end, self.tz)

    @staticmethod
    def _choose(combo: QComboBox, value: Any) -> None:
        index = combo.findData(value)
        if index < 0:
            combo.addItem(str(value), value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for name, label in self.errors.items():
            sentence = errors.get(name)
            label.setText(sentence or "")
            label.setVisible(bool(sentence))

    # -- what is shown beside the form ---------------------------------------------------------
    def show_record(self, record: WorkOrderRecord) -> None:
        """Refresh what the form does not edit: lists to choose from and the side card."""
        self.tz = record.timezone
        chosen = self.equipment.currentData()
        self.equipment.blockSignals(True)
        self.equipment.clear()
        self.equipment.addItem(self.tr("Not recorded"), None)
        for unit in record.equipment:
            self.equipment.addItem(unit.label, unit.id)
        self._choose(self.equipment, chosen)
        self.equipment.blockSignals(False)

        phones = "<br>".join(escape(display_phone(p)) for p in record.customer_phones) or "—"
        lines = [
            f"<b style='font-size:13pt'>{escape(record.customer_name)}</b>",
            phones,
        ]
        if record.customer_email:
            lines.append(escape(record.customer_email))
        lines += [
            "",
            f"<b>{escape(record.site_label)}</b> · {escape(record.site_address)}",
        ]
        if record.access_notes:
            lines.append(f"<i>{escape(record.access_notes)}</i>")
        lines += [
            "",
            self.tr("<b>Job</b> {0} ({1})").format(
                escape(record.job_type), escape(record.trade.upper())
            ),
            self.tr("Created {0} by {1}").format(
                record.created_at.strftime("%d %b %Y %H:%M"), escape(record.created_by)
            ),
        ]
        self.customer_card.setText("<br>".join(lines))
        if record.answers:
            rows = "".join(
                f"<tr><td style='color:#66727f;padding-right:8px'>{escape(q)}</td>"
                f"<td>{escape(a)}</td></tr>"
                for q, a in record.answers
            )
            self.answers_card.setText(f"<table>{rows}</table>")
        else:
            self.answers_card.setText(
                f"<span style='color:#66727f'>{self.tr('No questions were asked.')}</span>"
            )
