"""Running the whole desktop app inside a test, on a qasync loop over pytest-qt's app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QMessageBox

from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.clock import Clock
from dispatch_app.ui.app import DispatchApp, GuiOptions
from tests.companies import DAY, clock_at


def options_for(url: str, data_dir, clock: Clock | None = None) -> GuiOptions:
    """The app on the test company's day, with its clock at 07:00 that morning; given a
    ``clock``, the app runs at its moment and opens on its today."""
    return GuiOptions(
        database=DatabaseChoice(url, "command line"),
        data_dir=data_dir,
        size=QSize(1400, 800),
        day=DAY if clock is None else None,
        clock=clock or clock_at(7),
    )


def finish(loop: asyncio.AbstractEventLoop, app: DispatchApp, task: asyncio.Task[int]) -> int:
    """Close the app as a user does; if it asks about unsaved work, discard it."""
    app.window.close()
    question = app.window.quit_question
    if not task.done() and question is not None and question.isVisible():
        discard(question)
    return loop.run_until_complete(asyncio.wait_for(task, 30))


def discard(question: QMessageBox) -> None:
    """Press the destructive choice ("Discard and quit", "Remove"…) of a question."""
    (button,) = [
        b
        for b in question.buttons()
        if question.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    ]
    button.click()


def wait_for(loop: asyncio.AbstractEventLoop, event: asyncio.Event, task: asyncio.Task) -> None:
    done, _ = loop.run_until_complete(
        asyncio.wait(
            [loop.create_task(event.wait()), task], timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
    )
    assert done, "timed out"
    if task in done:
        raise AssertionError(f"the app stopped early with {task.result()}")


def pump_until(
    loop: asyncio.AbstractEventLoop, predicate: Callable[[], object], timeout: float = 30
) -> None:
    """Run the Qt and asyncio loop until ``predicate()`` is true; fail after ``timeout``."""

    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.01)  # hands control back to the Qt event loop

    loop.run_until_complete(wait())


def act(loop: asyncio.AbstractEventLoop, gesture: Callable[[], object]) -> None:
    """Perform a user gesture (click, typing) as the running app would receive it.

    QTest processes Qt events while it types and clicks, and with qasync those events
    step asyncio tasks. So the gesture runs as a plain loop callback: inside a running
    loop (as in the app), but not inside a task, where stepping another task would be
    re-entrant.
    """
    done: asyncio.Future[None] = loop.create_future()

    def perform() -> None:
        try:
            gesture()
        except BaseException as error:  # handed to the test below
            done.set_exception(error)
        else:
            done.set_result(None)

    loop.call_soon(perform)
    loop.run_until_complete(done)
