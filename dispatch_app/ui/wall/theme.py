"""The wall display's dark, high-contrast look: colours and type sizes read across a room.

Sizes are in pixels (``QFont.setPixelSize``), not points: a TV's reported DPI says
nothing about how far away its watchers sit, and at 1920×1080 the smallest text on the
board must be at least 20 px high.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

BACKGROUND = QColor("#0b0f14")
PANEL = QColor("#151b23")
ON_SHIFT = QColor("#1d2530")
OFF_SHIFT = QColor("#10151c")
GRID = QColor("#2b3440")
TEXT = QColor("#f2f5f8")
MUTED = QColor("#a9b4c0")
DARK_TEXT = QColor("#0b0f14")  # on the pale blocks of open work
NOW_LINE = QColor("#ff4d4d")
LATE = QColor("#ff4d4d")
LIVE = QColor("#3fd17a")
WARNING = QColor("#ffb020")
# Finished work steps back: dark blocks with light text.
COMPLETED_FILL = QColor("#26352c")
COMPLETED_TEXT = QColor("#b9d8c3")
ENDED_EARLY_FILL = QColor("#3a2326")
ENDED_EARLY_TEXT = QColor("#f0b3b3")

# Pixel sizes: the smallest on a block is DETAIL_PX.
TITLE_PX = 26  # a block's job type, a technician's name
DETAIL_PX = 22  # a block's customer, number and times; a technician's status
HOURS_PX = 22
HEADER_PX = 30
CLOCK_PX = 56
FIGURE_PX = 48
FIGURE_LABEL_PX = 22
STATUS_LINE_PX = 24


def font(pixels: int, *, bold: bool = False) -> QFont:
    chosen = QFont()
    chosen.setPixelSize(pixels)
    chosen.setBold(bold)
    return chosen


def css(colour: QColor) -> str:
    return colour.name()
