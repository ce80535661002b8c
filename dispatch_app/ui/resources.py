"""The ``resources/`` folder and a cached loader for its icons."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

RESOURCES_DIR = Path(__file__).resolve().parents[2] / "resources"


@cache
def icon(name: str) -> QIcon:
    """``icon("app")`` loads ``resources/icons/app.svg`` once per process."""
    return QIcon(str(RESOURCES_DIR / "icons" / f"{name}.svg"))
