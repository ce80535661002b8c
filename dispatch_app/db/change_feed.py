"""The change feed: one LISTENing connection that turns row triggers into change hints.

A hint says only *which* row changed (table, id, operation, version); readers re-query
what they show. The feed owns a dedicated autocommit psycopg connection outside any
pool, re-issues LISTEN after every connect, checks the server is alive when it has been
quiet, and reconnects with backoff. Notifications sent while disconnected are lost, so
every (re)connect is reported through ``on_connected`` and the reader resyncs.

Threading contract: ``run()`` is a coroutine for the app's event loop; its callbacks are
called on that loop (the GUI thread under qasync) and must not block.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import psycopg

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import APPLICATION_NAME, CONNECT_TIMEOUT_S
from dispatch_app.db.models import CHANGE_CHANNEL

log = logging.getLogger(__name__)


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ChangeHint:
    table: str
    id: int
    op: str  # insert / update / delete
    version: int | None

    @classmethod
    def parse(cls, payload: str) -> ChangeHint | None:
        try:
            data = json.loads(payload)
            return cls(str(data["table"]), int(data["id"]), str(data["op"]),
                       None if data.get("version") is None else int(data["version"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed change hint %r", payload[:200])
            return None


def coalesce(hints: list[ChangeHint]) -> list[ChangeHint]:
    """One hint per row, the newest (a delete wins over anything before it)."""
    newest: dict[tuple[str, int], ChangeHint] = {}
    for hint in hints:
        newest[(hint.table, hint.id)] = hint
    return list(newest.values())


class ChangeFeed:
    def __init__(
        self,
        url: str,
        *,
        on_hints: Callable[[list[ChangeHint]], None],
        on_state: Callable[[FeedState, dt.datetime], None],
        on_connected: Callable[[], None] | None = None,
        quiet_check_s: float = 2.0,
        frame_s: float = 0.008,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._url = libpq_url(url)
        self._on_hints = on_hints
        self._on_state = on_state
        self._on_connected = on_connected
        self._quiet_check_s = quiet_check_s
        self._frame_s = frame_s
        self._max_backoff_s = max_backoff_s
        self._pending: list[ChangeHint] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._stopping = False
        self.state = FeedState.CONNECTING

    def _set_state(self, state: FeedState) -> None:
        if state != self.state:
            self.state = state
            self._on_state(state, dt.datetime.now().astimezone())

    async def run(self) -> None:
        """Listen until ``stop()``; survives server restarts and dropped connections."""
        backoff = 0.25
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    application_name=f"{APPLICATION_NAME} listener",
                ) as connection:
                    await connection.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self._set_state(FeedState.LIVE)
                    backoff = 0.25
                    if self._on_connected is not None:
                        self._on_connected()
                    await self._listen(connection)
            except (psycopg.Error, OSError, TimeoutError) as error:
                if self._stopping:
                    break
                log.info("change feed lost its connection: %s", str(error).strip()[:200])
                self._set_state(FeedState.RECONNECTING)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
        self._set_state(FeedState.STOPPED)

    async def _listen(self, connection: psycopg.AsyncConnection) -> None:
        while not self._stopping:
            async for notify in connection.notifies(timeout=self._quiet_check_s):
                hint = ChangeHint.parse(notify.payload)
                if hint is not None:
                    self._queue(hint)
            # Quiet for a while: make sure the server is still there.
            await asyncio.wait_for(connection.execute("SELECT 1"), timeout=CONNECT_TIMEOUT_S)

    def _queue(self, hint: ChangeHint) -> None:
        self._pending.append(hint)
        if self._flush_handle is None:
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._frame_s, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        hints, self._pending = coalesce(self._pending), []
        if hints:
            self._on_hints(hints)

    def stop(self) -> None:
        self._stopping = True
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None


async def stop_feed(feed: ChangeFeed, task: asyncio.Task[None]) -> None:
    feed.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
