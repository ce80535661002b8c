"""Ctrl+C and SIGTERM for a Qt window on qasync's loop: the desktop app and the wall
display both end on them as on their close box."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from PySide6.QtCore import QTimer

# The signals that end a window as its close box does (Ctrl+C, `kill`, logout).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Where the event loop cannot watch signals itself (Windows), Python gets a moment this
# often to run its handler: Qt's loop otherwise never hands control back for it.
SIGNAL_POLL_MS = 200


def listen_for_stop_signals(
    loop: asyncio.AbstractEventLoop, handler: Callable[[int], None]
) -> Callable[[], None]:
    """Call ``handler(signum)`` on the event loop for Ctrl+C and SIGTERM; returns the undo.

    Python runs a signal handler only when the interpreter gets control, and Qt's event
    loop, busy in C++, never hands it over for that (so Ctrl+C did nothing). On Unix the
    selector loop watches signals itself: its wake-up pipe wakes Qt like any socket. On
    Windows (no ``add_signal_handler``) a timer lets Python in now and then instead.
    """
    try:
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, handler, signum)
    except NotImplementedError:
        pass
    else:

        def remove() -> None:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

        return remove

    def on_signal(signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(handler, signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    wake_up = QTimer()
    wake_up.timeout.connect(lambda: None)
    wake_up.start(SIGNAL_POLL_MS)

    def restore() -> None:
        wake_up.stop()
        for signum, handler_before in previous.items():
            # None: a handler set outside Python, which cannot be put back; the default is.
            signal.signal(signum, signal.SIG_DFL if handler_before is None else handler_before)

    return restore
