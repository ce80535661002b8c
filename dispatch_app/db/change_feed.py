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
from typing import Any

import psycopg

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import APPLICATION_NAME, connect_args
from dispatch_app.db.models import CHANGE_CHANNEL
from dispatch_app.domain.ids import is_row_id, is_version

log = logging.getLogger(__name__)

# How the listener's backend shows in pg_stat_activity.
LISTENER_APPLICATION_NAME = f"{APPLICATION_NAME} listener"


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"  # lost moments ago; trying again
    OFFLINE = "offline"  # still gone after a few tries; the app works read-only
    STOPPED = "stopped"


# Quiet for this long → ask the server whether it is still there, and give it this long
# to answer: a dead or silent server is noticed within their sum (under 5 s).
QUIET_CHECK_S = 1.5
LIVENESS_TIMEOUT_S = 2.0
# Failed reconnects before the state reads "offline" rather than "reconnecting".
OFFLINE_AFTER_ATTEMPTS = 3


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
            hint = cls(
                str(data["table"]),
                int(data["id"]),
                str(data["op"]),
                None if data.get("version") is None else int(data["version"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            hint = None
        # Any login may NOTIFY on the channel: an id no row can have would only make
        # the re-read fail ("bigint out of range").
        if (
            hint is None
            or not is_row_id(hint.id)
            or not (hint.version is None or is_version(hint.version))
        ):
            log.warning("ignoring malformed change hint %r", payload[:200])
            return None
        return hint


def feed_connect_args(url: str) -> dict[str, Any]:
    args = connect_args(url)
    args["application_name"] = LISTENER_APPLICATION_NAME
    return args


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
        quiet_check_s: float = QUIET_CHECK_S,
        frame_s: float = 0.0,
        max_backoff_s: float = 5.0,
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
        self._stop_event = asyncio.Event()
        self.state = FeedState.CONNECTING
        self.since = dt.datetime.now().astimezone()
        self.backend_pid: int | None = None  # the listener's server process, for operators
        self.connects = 0

    def _set_state(self, state: FeedState, since: dt.datetime | None = None) -> None:
        if state != self.state:
            self.state = state
            if since is not None or state in (FeedState.LIVE, FeedState.CONNECTING):
                self.since = since or dt.datetime.now().astimezone()
            self._on_state(state, self.since)

    async def run(self) -> None:
        """Listen until ``stop()``; survives server restarts and dropped connections."""
        backoff = 0.1
        failures = 0
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, **feed_connect_args(self._url)
                ) as connection:
                    await connection.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    self.connects += 1
                    failures, backoff = 0, 0.1
                    self._set_state(FeedState.LIVE)
                    # Whatever was sent while we were away is lost: readers resync now.
                    if self._on_connected is not None:
                        self._on_connected()
                    await self._listen(connection)
            except (psycopg.Error, OSError, TimeoutError) as error:
                if self._stopping:
                    break
                failures += 1
                log.info("change feed lost its connection: %s", str(error).strip()[:200])
                if failures == 1:
                    self._set_state(FeedState.RECONNECTING, dt.datetime.now().astimezone())
                elif failures >= OFFLINE_AFTER_ATTEMPTS:
                    self._set_state(FeedState.OFFLINE)
                # Sleep, but wake at once for stop().
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
        self._set_state(FeedState.STOPPED)

    async def _listen(self, connection: psycopg.AsyncConnection) -> None:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        while not self._stopping:
            # ``notifies(timeout=)`` bounds the whole batch, not the silence: wait only for
            # what is left of the quiet period, so a busy feed costs no probes.
            left = self._quiet_check_s - (loop.time() - last_heard)
            async for notify in connection.notifies(timeout=max(0.05, left)):
                last_heard = loop.time()
                hint = ChangeHint.parse(notify.payload)
                if hint is not None:
                    self._queue(hint)
            if loop.time() - last_heard >= self._quiet_check_s:
                # Quiet for a while: make sure the server is still there.
                await _probe(connection)
                last_heard = loop.time()

    def _queue(self, hint: ChangeHint) -> None:
        self._pending.append(hint)
        if self._flush_handle is None:
            # Hints already read from the socket in this pass go out together; a burst
            # that keeps coming is collapsed further by the store's queue.
            loop = asyncio.get_running_loop()
            self._flush_handle = loop.call_later(self._frame_s, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        hints, self._pending = coalesce(self._pending), []
        if hints:
            self._on_hints(hints)

    def stop(self) -> None:
        self._stopping = True
        self._stop_event.set()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None


async def _probe(connection: psycopg.AsyncConnection) -> None:
    """``SELECT 1``, or ``TimeoutError`` after ``LIVENESS_TIMEOUT_S``.

    A timed-out probe closes the connection outright: cancelling the query politely
    makes psycopg wait seconds more for a server that is not answering.
    """
    probe = asyncio.ensure_future(connection.execute("SELECT 1"))
    try:
        done, _ = await asyncio.wait({probe}, timeout=LIVENESS_TIMEOUT_S)
        if probe in done:
            probe.result()
            return
        await connection.close()
        raise TimeoutError("the database server did not answer a liveness check")
    finally:
        if not probe.done():  # timed out, or the feed is stopping
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                await probe


async def stop_feed(feed: ChangeFeed, task: asyncio.Task[None]) -> None:
    feed.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
