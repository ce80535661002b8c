"""Guards the PySide6 pin: 6.12.0 on Python 3.11 leaks references *away* from None
(each ``setText``/``emit``/``singleShot`` drops one) until the interpreter aborts with
``none_dealloc``. When these pass on a newer PySide6, the pin can be lifted."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

CALLS = 10_000
# Unrelated code may take or drop a handful of references meanwhile.
TOLERANCE = 200

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None is immortal from Python 3.12: refcount is fixed"
)


def test_set_text_keeps_references_to_none(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(CALLS):
        label.setText(str(i))
    assert sys.getrefcount(None) >= before - TOLERANCE


class _Emitter(QObject):
    changed = Signal(int)


def test_signal_emit_keeps_references_to_none(qtbot) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    before = sys.getrefcount(None)
    for i in range(CALLS):
        emitter.changed.emit(i)
    assert received[-1] == CALLS - 1
    assert sys.getrefcount(None) >= before - TOLERANCE


def test_single_shot_callbacks_keep_references_to_none(qtbot) -> None:
    fired: list[int] = []
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: len(fired) == CALLS, timeout=30_000)
    assert sys.getrefcount(None) >= before - TOLERANCE
