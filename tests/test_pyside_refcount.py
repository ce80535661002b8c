"""Guards the PySide6 pin: 6.12.0 on Python 3.11 leaks references *away* from None
(each ``setText``/``emit``/``singleShot`` drops one) until the interpreter aborts with
``none_dealloc``. When these pass on a newer PySide6, the pin can be lifted."""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

CALLS = 20_000
# The leak drops one reference per call (20,000 here); unrelated objects freed meanwhile
# drop far fewer.
TOLERANCE = 5_000

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None is immortal from Python 3.12: refcount is fixed"
)


def settled_refcount() -> int:
    """None's reference count once earlier tests' leftovers are gone."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    gc.collect()
    return sys.getrefcount(None)


def test_set_text_keeps_references_to_none(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = settled_refcount()
    for i in range(CALLS):
        label.setText(str(i))
    assert sys.getrefcount(None) >= before - TOLERANCE


class _Emitter(QObject):
    changed = Signal(int)


def test_signal_emit_keeps_references_to_none(qtbot) -> None:
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    before = settled_refcount()
    for i in range(CALLS):
        emitter.changed.emit(i)
    assert received[-1] == CALLS - 1
    assert sys.getrefcount(None) >= before - TOLERANCE


def test_single_shot_callbacks_keep_references_to_none(qtbot) -> None:
    fired: list[int] = []
    before = settled_refcount()
    for _ in range(CALLS):
        QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: len(fired) == CALLS, timeout=30_000)
    assert sys.getrefcount(None) >= before - TOLERANCE
