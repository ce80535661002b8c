"""Colours and fonts shared by the board, the queue, the map and the details panel."""

from __future__ import annotations

from PySide6.QtGui import QColor

from dispatch_app.domain.statuses import VISIT_LABELS
from dispatch_app.domain.vocabulary import Priority, VisitStatus, WorkOrderSource

# Fill colours for visit blocks; chosen to stay readable with dark text all day long.
STATUS_FILL = {
    VisitStatus.UNSCHEDULED: QColor("#e0e0e0"),
    VisitStatus.SCHEDULED: QColor("#d6e6fb"),
    VisitStatus.DISPATCHED: QColor("#c9d3fa"),
    VisitStatus.EN_ROUTE: QColor("#ffe2a8"),
    VisitStatus.ON_SITE: QColor("#c8efd4"),
    VisitStatus.COMPLETED: QColor("#e9ecef"),
    VisitStatus.CANCELLED: QColor("#f6d5d5"),
    VisitStatus.NO_SHOW: QColor("#f6d5d5"),
}
STATUS_EDGE = {
    VisitStatus.UNSCHEDULED: QColor("#9e9e9e"),
    VisitStatus.SCHEDULED: QColor("#4a84d4"),
    VisitStatus.DISPATCHED: QColor("#5865d8"),
    VisitStatus.EN_ROUTE: QColor("#d9960b"),
    VisitStatus.ON_SITE: QColor("#2e9d57"),
    VisitStatus.COMPLETED: QColor("#a5adb5"),
    VisitStatus.CANCELLED: QColor("#c0504d"),
    VisitStatus.NO_SHOW: QColor("#c0504d"),
}
STATUS_LABEL = VISIT_LABELS
PRIORITY_COLOUR = {
    Priority.NORMAL: QColor("#6c757d"),
    Priority.URGENT: QColor("#e67e22"),
    Priority.EMERGENCY: QColor("#d62828"),
}
SOURCE_LABEL = {
    WorkOrderSource.PHONE: "Phone call",
    WorkOrderSource.WEB: "Web form",
    WorkOrderSource.REFERRAL: "Referral",
    WorkOrderSource.REPEAT: "Repeat customer",
    WorkOrderSource.LEAD: "Lead service",
    WorkOrderSource.AGREEMENT: "Maintenance agreement",
}
PRIORITY_LABEL = {
    Priority.NORMAL: "Normal",
    Priority.URGENT: "Urgent",
    Priority.EMERGENCY: "Emergency",
}

TEXT = QColor("#1f2933")
MUTED_TEXT = QColor("#66727f")
GRID = QColor("#e4e7eb")
OFF_SHIFT = QColor("#f1f3f5")
ON_SHIFT = QColor("#ffffff")
HEADER_BG = QColor("#f8f9fa")
NOW_LINE = QColor("#d62828")
SELECTION = QColor("#1769e0")
# A truck lacks a part the job needs: darker than the amber of an en-route block's edge,
# so that its badge reads as one of its own.
PARTS_SHORT = QColor("#b35c00")


def status_fill(status: str) -> QColor:
    return STATUS_FILL.get(VisitStatus(status), STATUS_FILL[VisitStatus.SCHEDULED])


def status_edge(status: str) -> QColor:
    return STATUS_EDGE.get(VisitStatus(status), STATUS_EDGE[VisitStatus.SCHEDULED])
