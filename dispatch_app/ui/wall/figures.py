"""The strip of today's figures across the wall display: a big number over its name.

The words are ``services/wall``'s (what each counts is said there and in the README);
"running late" turns red when it is not zero. Money shows in whole dollars: across a
room the cents are noise. A figure not known yet (the money before its first read)
shows a dash, never a made-up zero.
"""

from __future__ import annotations

import decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from dispatch_app.services.wall import DayFigures
from dispatch_app.ui.wall import theme

# The figures in the order shown: key, label.
FIGURES = (
    ("scheduled", "Scheduled"),
    ("in_progress", "In progress"),
    ("completed", "Completed"),
    ("unassigned", "Unassigned"),
    ("running_late", "Running late"),
    ("ended_early", "Cancelled / no-show"),
    ("booked", "Booked today"),
    ("invoiced", "Invoiced today"),
)
UNKNOWN = "—"
WHOLE_DOLLAR = decimal.Decimal(1)


def dollars(amount: decimal.Decimal) -> str:
    """``$12,346`` for 12,345.50: whole dollars, half up."""
    return f"${amount.quantize(WHOLE_DOLLAR, rounding=decimal.ROUND_HALF_UP):,}"


class FiguresStrip(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wallFigures")
        self.setStyleSheet(
            f"#wallFigures {{ background: {theme.css(theme.PANEL)}; border-radius: 8px; }}"
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(8)
        self.values: dict[str, QLabel] = {}
        for key, label in FIGURES:
            tile = QVBoxLayout()
            tile.setSpacing(0)
            value = QLabel(UNKNOWN, self)
            value.setObjectName(f"figure_{key}")
            value.setFont(theme.font(theme.FIGURE_PX, bold=True))
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel(self.tr(label), self)
            caption.setFont(theme.font(theme.FIGURE_LABEL_PX))
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)  # a narrower screen: two lines rather than touching
            caption.setStyleSheet(f"color: {theme.css(theme.MUTED)};")
            tile.addWidget(value)
            tile.addWidget(caption)
            row.addLayout(tile, 1)
            self.values[key] = value
        self.show_figures(DayFigures())

    def show_figures(self, figures: DayFigures) -> None:
        counts = figures.counts
        shown = {
            "scheduled": str(counts.scheduled),
            "in_progress": str(counts.in_progress),
            "completed": str(counts.completed),
            "unassigned": str(counts.unassigned),
            "running_late": str(counts.running_late),
            "ended_early": str(counts.ended_early),
            "booked": dollars(figures.money.booked) if figures.money else UNKNOWN,
            "invoiced": dollars(figures.money.invoiced) if figures.money else UNKNOWN,
        }
        for key, text in shown.items():
            label = self.values[key]
            label.setText(text)
            alarm = key == "running_late" and counts.running_late > 0
            colour = theme.LATE if alarm else theme.TEXT
            label.setStyleSheet(f"color: {theme.css(colour)};")

    def text_of(self, key: str) -> str:
        """What the figure named ``key`` shows (``FIGURES``' keys)."""
        return self.values[key].text()
