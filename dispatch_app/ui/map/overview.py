"""An offline overview of the day's geography: technicians and jobs as points.

It needs no tiles and no web engine, so it draws the same on every workstation: an
equirectangular projection of the points' bounding box with a kilometre scale.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QDockWidget, QWidget

from dispatch_app.domain.vocabulary import Priority
from dispatch_app.services.day_board import DaySnapshot
from dispatch_app.ui import theme

EARTH_KM_PER_DEG = 111.32


class MapOverview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._snapshot: DaySnapshot | None = None
        self._selected_visit = 0
        self.setMinimumSize(220, 180)

    def set_snapshot(self, snapshot: DaySnapshot) -> None:
        self._snapshot = snapshot
        self.update()

    def select_visit(self, visit_id: int) -> None:
        self._selected_visit = visit_id
        self.update()

    def _points(
        self,
    ) -> tuple[
        list[tuple[float, float, QColor, str]], list[tuple[float, float, QColor, bool, int]]
    ]:
        technicians: list[tuple[float, float, QColor, str]] = []
        jobs: list[tuple[float, float, QColor, bool, int]] = []
        snapshot = self._snapshot
        if snapshot is None:
            return technicians, jobs
        for visit in snapshot.visits:
            if visit.lat is not None and visit.lon is not None:
                jobs.append(
                    (
                        visit.lat,
                        visit.lon,
                        theme.status_edge(visit.status),
                        visit.priority == Priority.EMERGENCY,
                        visit.id,
                    )
                )
        for job in snapshot.unassigned:
            if job.lat is not None and job.lon is not None:
                jobs.append(
                    (job.lat, job.lon, QColor("#6c757d"), job.priority == Priority.EMERGENCY, 0)
                )
        # A technician is drawn at the site of the latest visit that has begun.
        for row in snapshot.technicians:
            visits = [v for v in snapshot.visits_of(row.id) if v.lat is not None]
            if visits:
                latest = visits[0]
                for visit in visits:
                    if visit.status in ("on_site", "en_route", "completed"):
                        latest = visit
                assert latest.lat is not None and latest.lon is not None
                initials = "".join(part[0] for part in row.name.split()[:2])
                technicians.append((latest.lat, latest.lon, QColor(row.colour), initials))
        return technicians, jobs

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#eef2f5"))
        technicians, jobs = self._points()
        coords = [(p[0], p[1]) for p in technicians] + [(p[0], p[1]) for p in jobs]
        if not coords:
            painter.setPen(theme.MUTED_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No locations yet")
            painter.end()
            return
        lats = [c[0] for c in coords]
        lons = [c[1] for c in coords]
        mid_lat = (min(lats) + max(lats)) / 2
        x_scale = math.cos(math.radians(mid_lat))
        span_x = max((max(lons) - min(lons)) * x_scale, 1e-3)
        span_y = max(max(lats) - min(lats), 1e-3)
        margin = 22
        area = QRectF(margin, margin, self.width() - 2 * margin, self.height() - 2 * margin - 16)
        scale = min(area.width() / span_x, area.height() / span_y)
        cx = (min(lons) + max(lons)) / 2
        cy = (min(lats) + max(lats)) / 2

        def at(lat: float, lon: float) -> QPointF:
            return QPointF(
                area.center().x() + (lon - cx) * x_scale * scale,
                area.center().y() - (lat - cy) * scale,
            )

        painter.setPen(QPen(QColor("#dde3e8"), 1))
        for i in range(1, 6):
            x = area.left() + area.width() * i / 6
            y = area.top() + area.height() * i / 6
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))

        for lat, lon, colour, emergency, visit_id in jobs:
            point = at(lat, lon)
            selected = visit_id and visit_id == self._selected_visit
            if emergency:
                painter.setBrush(theme.PRIORITY_COLOUR[Priority.EMERGENCY])
                painter.setPen(QPen(QColor("white"), 1.5))
                triangle = QPolygonF(
                    [point + QPointF(0, -8), point + QPointF(7, 5), point + QPointF(-7, 5)]
                )
                painter.drawPolygon(triangle)
            else:
                painter.setBrush(colour)
                painter.setPen(
                    QPen(theme.SELECTION if selected else QColor("white"), 3 if selected else 1)
                )
                painter.drawRect(QRectF(point.x() - 4, point.y() - 4, 8, 8))

        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() - 2.5))
        font.setBold(True)
        painter.setFont(font)
        for lat, lon, colour, initials in technicians:
            point = at(lat, lon)
            painter.setBrush(colour)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawEllipse(point, 10, 10)
            painter.setPen(QColor("white"))
            painter.drawText(
                QRectF(point.x() - 10, point.y() - 10, 20, 20),
                Qt.AlignmentFlag.AlignCenter,
                initials,
            )

        # Scale bar: a round number of kilometres about a quarter of the width.
        km_per_px = 1 / scale * EARTH_KM_PER_DEG
        target = area.width() / 4 * km_per_px
        step = 10 ** math.floor(math.log10(target)) if target > 0 else 1
        km = max(step, round(target / step) * step)
        length = km / km_per_px
        y = self.height() - 14
        painter.setPen(QPen(theme.TEXT, 2))
        painter.drawLine(QPointF(margin, y), QPointF(margin + length, y))
        painter.setFont(self.font())
        painter.drawText(QPointF(margin + length + 6, y + 4), f"{km:g} km")
        painter.end()


class MapDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Map"), parent)
        self.setObjectName("mapDock")
        self.overview = MapOverview(self)
        self.setWidget(self.overview)
