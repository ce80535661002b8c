"""The asyncio work a window starts: kept until done (qasync runs tasks nobody holds only
by luck), its failures logged, and all of it finished or cancelled when the window goes.

Threading contract: GUI thread only, on the qasync loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from dispatch_app.services.live_day import STOP_GRACE_S, finish_or_cancel

log = logging.getLogger(__name__)


class WindowTasks:
    def __init__(self, owner: str) -> None:
        self._owner = owner  # for the log: "call intake", "work order editor"
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the event loop; after ``aclose`` nothing new starts."""
        if self.closed:
            work.close()
            return
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s task failed", self._owner, exc_info=task.exception())

    def idle(self) -> bool:
        """Nothing is running (tests wait for this)."""
        return not self._tasks

    async def aclose(self) -> None:
        """Stop starting work, and let what runs finish (or cancel it after a grace)."""
        self.closed = True
        await finish_or_cancel(self._tasks, STOP_GRACE_S)
