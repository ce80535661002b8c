"""A day store kept current by the change feed: the wiring every workstation runs.

Hints go to the store; every (re)connect of the feed re-reads the day, because changes
made while it was away were never announced; after an outage the connection pool is
emptied first, since its connections died with the server.

Once the first day is read, what the process has built so far is moved out of the
garbage collector's sight (``gc.freeze``): otherwise every workstation pauses for a full
collection of its start-up objects now and then, all of them at the same change, since
they all do the same work.

Threading contract: coroutines and callbacks for the app's event loop; no Qt here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState, HintTrace, stop_feed
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.services.day_store import DayStore

log = logging.getLogger(__name__)

# Database work still running at stop gets this long to finish by itself: cancelling a
# task inside an open session leaves SQLAlchemy closing it in a task of its own.
STOP_GRACE_S = 5.0


class LiveDay:
    def __init__(
        self,
        url: str,
        sessions: async_sessionmaker[AsyncSession],
        day: dt.date | None = None,
        *,
        on_state: Callable[[FeedState, dt.datetime], None] | None = None,
        on_hints: Callable[[list[ChangeHint]], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        trace: HintTrace | None = None,
    ) -> None:
        self.store = DayStore(sessions, day, clock=clock, trace=trace)
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._on_state = on_state
        self._on_hints = on_hints
        self._on_error = on_error
        self._work: set[asyncio.Task[None]] = set()
        self._feed_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.feed = ChangeFeed(
            url,
            on_hints=self._hints,
            on_state=self._state,
            on_connected=self._connected,
            trace=trace,
        )

    async def start(self) -> None:
        """Read the day, then start listening (each connect reads it again)."""
        await self.store.resync()
        freeze_start_up_objects()
        self._feed_task = asyncio.ensure_future(self.feed.run())

    async def reread(self) -> None:
        """Read the day again on fresh connections: the database's contents were replaced
        (a restore), so nothing held, not even a pooled connection's plans, is kept."""
        await self.store.close()
        await self._engine.dispose()
        await self.store.resync()

    async def stop(self) -> None:
        self._stopping = True
        if self._feed_task is not None:
            await stop_feed(self.feed, self._feed_task)
            self._feed_task = None
        await finish_or_cancel(self._work, STOP_GRACE_S)
        await self.store.close()

    def _state(self, state: FeedState, since: dt.datetime) -> None:
        if self._on_state is not None:
            self._on_state(state, since)

    def _hints(self, hints: list[ChangeHint]) -> None:
        if self._stopping:
            return
        if self._on_hints is not None:
            self._on_hints(hints)
        self._spawn(self.store.apply_hints(hints))

    def _connected(self) -> None:
        if not self._stopping:
            self._spawn(self._resync(after_outage=self.feed.connects > 1))

    async def _resync(self, *, after_outage: bool) -> None:
        if after_outage:
            await self.store.close()
            await self._engine.dispose()
        await self.store.resync()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(self._quietly(work))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _quietly(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except Exception as error:  # the feed reports the connection; keep what is held
            log.warning("could not refresh the day: %s", error)
            if self._on_error is not None:
                self._on_error(error)


_frozen = False


def freeze_start_up_objects() -> None:
    """Once per process: collect, then exempt everything alive from later collections.

    Modules, mapped classes, windows and the first day live as long as the process, yet
    a full collection walks all of them: 50 ms of CPU in a workstation without Qt,
    measured by ``benchmarks.live_sync``. Twenty workstations on one PC reach that
    collection at the same change, and the change then took a second to show.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


async def finish_or_cancel(tasks: set[asyncio.Task[None]], grace_s: float) -> None:
    """Let running work end by itself; cancel only what overstays ``grace_s``."""
    pending = set(tasks)
    if not pending:
        return
    _done, late = await asyncio.wait(pending, timeout=grace_s)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
