"""The layers stay apart: no Qt below the UI or in the board's logic, no database in the
domain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_core_layers_load_without_qt() -> None:
    """Importing every non-UI module pulls in no Qt at run time either."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import dispatch_app\n"
        "for m in pkgutil.walk_packages(dispatch_app.__path__, 'dispatch_app.'):\n"
        "    if not m.name.startswith('dispatch_app.ui'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('PySide6', 'shiboken6', 'qasync'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The board's logic: times and pixels, rows, the day by row, block layout, move planning.
BOARD_LOGIC = ("grid", "rows", "lanes", "row_index", "layout", "planner", "fitting")


def test_board_logic_loads_without_qt() -> None:
    """The board's planning and geometry run (and are tested) without Qt."""
    code = (
        "import importlib, sys\n"
        f"for name in {BOARD_LOGIC!r}:\n"
        "    importlib.import_module('dispatch_app.ui.board.' + name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('PySide6', 'shiboken6', 'qasync'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
