"""Read-only details of the selected visit."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.vocabulary import Priority, VisitStatus
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.ui import theme


class DetailsDock(QDockWidget):
    workOrderRequested = Signal(int)  # work order id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Details"), parent)
        self.setObjectName("detailsDock")
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setWordWrap(True)
        self.label.setMargin(10)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton(self.tr("Open work order"))
        self.open_button.setObjectName("openWorkOrder")
        self.open_button.clicked.connect(self._open)
        self._work_order_id = 0
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.label)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.show_visit(None, (), None)

    def _open(self) -> None:
        if self._work_order_id:
            self.workOrderRequested.emit(self._work_order_id)

    def show_visit(
        self,
        visit: VisitBlock | None,
        technicians: tuple[TechnicianRow, ...],
        timezone: ZoneInfo | None,
    ) -> None:
        self._work_order_id = visit.work_order_id if visit is not None else 0
        self.open_button.setVisible(visit is not None)
        if visit is None or timezone is None:
            self.label.setText(
                f"<p style='color:{theme.MUTED_TEXT.name()}'>"
                + escape(self.tr("Select a visit on the board to see its details."))
                + "</p>"
            )
            return
        names = {t.id: t.name for t in technicians}
        crew = ", ".join(escape(names.get(i, f"#{i}")) for i in visit.technician_ids)
        priority = Priority(visit.priority)
        colour = theme.PRIORITY_COLOUR[priority].name()
        window = visit.arrival_window
        arrival = (
            f"{window.start.astimezone(timezone):%H:%M}–{window.end.astimezone(timezone):%H:%M}"
            if window
            else "—"
        )
        rows = [
            ("Customer", escape(visit.customer)),
            ("City", escape(visit.city)),
            ("Booked", f"{visit.starts:%a %d %b, %H:%M}–{visit.ends:%H:%M}"),
            ("Arrival window", arrival),
            ("Status", theme.STATUS_LABEL[VisitStatus(visit.status)]),
            (
                "Priority",
                f"<span style='color:{colour};font-weight:600'>"
                f"{theme.PRIORITY_LABEL[priority]}</span>",
            ),
            ("Crew" if len(visit.technician_ids) > 1 else "Technician", crew),
        ]
        table = "".join(
            f"<tr><td style='color:{theme.MUTED_TEXT.name()};padding-right:12px'>{k}</td>"
            f"<td>{v}</td></tr>"
            for k, v in rows
        )
        self.label.setText(
            f"<h3 style='margin:0'>{escape(visit.number)} · {escape(visit.job_type)}</h3>"
            f"<table style='margin-top:8px'>{table}</table>"
        )
