"""The change feed: one LISTENing connection that turns row triggers into change hints.

A hint says only *which* row changed (table, id, operation, version, and the work order
it belongs to); readers re-query what they show. The feed owns a dedicated autocommit
psycopg connection outside any pool, re-issues LISTEN after every connect, checks the
server is alive when it has been quiet, and reconnects with backoff. Notifications sent
while disconnected are lost, so every (re)connect is reported through ``on_connected``
and the reader resyncs.

Any login may ``NOTIFY dispatch_changes`` with any text, so a payload is trusted only
when every field is what the trigger sends; anything else is dropped with a log line
(a few a minute at most). Whatever else goes wrong while listening — a bug, a reader's
callback that raises — leaves the Live state and reconnects like a lost connection
would, so the status bar never says Live over a feed that has stopped.

Notifications are read by a reader callback on the connection's socket: the loop runs
it as soon as the socket is readable, and it hands the hints over there and then.

Threading contract: ``run()`` is a coroutine for the app's event loop; its callbacks are
called on that loop (the GUI thread under qasync) and must not block.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import APPLICATION_NAME, connect_args
from dispatch_app.db.models import CHANGE_CHANNEL
from dispatch_app.domain.tables import TABLES

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
# A connection that ended by an unexpected error sooner than this after connecting does
# not reset the backoff, so a fault that recurs at once cannot hammer the server.
STEADY_S = 30.0

# What a trigger's hint can hold: ids are bigint identities, versions int4 counters.
HINT_OPS = frozenset({"insert", "update", "delete"})
BIGINT_MAX = 2**63 - 1
INT4_MAX = 2**31 - 1
# A trigger's hint is under 120 characters; a longer payload is not one of ours, and is
# never parsed (8,000 characters of nested brackets would exhaust the JSON parser).
MAX_HINT_CHARS = 500

# Latency tracing, off unless asked for (``benchmarks.live_sync``): called with a stage
# name, the hints that reached it and ``time.perf_counter_ns()`` when they did. The
# feed's stages are "readable" (the loop saw the socket readable) and "handed" (parsed
# and given to ``on_hints``); the day store adds its own.
HintTrace = Callable[[str, Sequence["ChangeHint"], int], None]


class IgnoredPayloads:
    """One warning per ignored payload, but at most ``burst`` a minute: a flood of junk
    NOTIFYs must not fill the disk. The next line allowed says how many went unlogged."""

    def __init__(self, burst: int = 5, period_s: float = 60.0) -> None:
        self._burst = burst
        self._period_s = period_s
        self._window_began = -period_s
        self._logged = 0
        self.unlogged = 0

    def __call__(self, payload: str, reason: str) -> None:
        now = time.monotonic()
        if now - self._window_began >= self._period_s:
            self._window_began, self._logged = now, 0
        if self._logged >= self._burst:
            self.unlogged += 1
            return
        self._logged += 1
        unlogged, self.unlogged = self.unlogged, 0
        log.warning(
            "ignoring a change hint that is not one of ours (%s): %r%s",
            reason,
            payload[:80],
            f"; {unlogged} more ignored without a line" if unlogged else "",
        )


# One for the process: junk arrives on every feed alike.
ignored_payloads = IgnoredPayloads()


@dataclass(frozen=True, slots=True)
class ChangeHint:
    table: str
    id: int
    op: str  # insert / update / delete
    version: int | None
    # The work order the row belongs to (``domain/tables.py``: Owner), when it has one:
    # only views of that work order need to look.
    work_order_id: int | None = None

    @classmethod
    def parse(cls, payload: str) -> ChangeHint | None:
        """The hint in ``payload``, or None (and a rate-limited log line) for anything a
        trigger would not have sent. Never raises."""
        hint = _read_hint(payload)
        if isinstance(hint, str):
            ignored_payloads(payload, hint)
            return None
        return hint


def _read_hint(payload: str) -> ChangeHint | str:
    """The hint, or why the payload is not one."""
    if len(payload) > MAX_HINT_CHARS:
        return f"{len(payload)} characters"
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(data, dict):
        return "not a JSON object"
    table, row_id, op, version, owner = (
        data.get(k) for k in ("table", "id", "op", "version", "work_order")
    )
    if not isinstance(table, str) or table not in TABLES:
        return "unknown table"
    if not isinstance(op, str) or op not in HINT_OPS:
        return "unknown operation"
    # ``type(...) is int``: JSON true is a Python bool, 1e999 a float (inf).
    if type(row_id) is not int or not 1 <= row_id <= BIGINT_MAX:
        return "id is not a row id"
    if version is not None and (type(version) is not int or not 1 <= version <= INT4_MAX):
        return "version is not a row version"
    if owner is not None and (type(owner) is not int or not 1 <= owner <= BIGINT_MAX):
        return "work order is not a row id"
    return ChangeHint(table, row_id, op, version, owner)


class _Payloads:
    """Notification payloads psycopg read itself, waiting to be handed over."""

    def __init__(self) -> None:
        self._payloads: list[str] = []

    def keep(self, notify: psycopg.Notify) -> None:
        self._payloads.append(notify.payload)

    def take(self) -> list[str]:
        payloads, self._payloads = self._payloads, []
        return payloads


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
        max_backoff_s: float = 5.0,
        trace: HintTrace | None = None,
    ) -> None:
        self._url = libpq_url(url)
        self._on_hints = on_hints
        self._on_state = on_state
        self._on_connected = on_connected
        self._quiet_check_s = quiet_check_s
        self._max_backoff_s = max_backoff_s
        self._trace = trace
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._ended: asyncio.Future[None] | None = None  # the current connection's end
        self._heard = 0.0  # loop time the server last said anything
        self.state = FeedState.CONNECTING
        self.since = dt.datetime.now().astimezone()
        self.backend_pid: int | None = None  # the listener's server process, for operators
        self.connects = 0

    def _set_state(self, state: FeedState, since: dt.datetime | None = None) -> None:
        if state != self.state:
            self.state = state
            if since is not None or state in (FeedState.LIVE, FeedState.CONNECTING):
                self.since = since or dt.datetime.now().astimezone()
            try:
                self._on_state(state, self.since)
            except Exception:  # a listener's fault; the state itself has changed
                log.exception("a change feed state listener failed")

    async def run(self) -> None:
        """Listen until ``stop()``; survives server restarts, dropped connections and any
        error while listening (each leaves Live, then reconnects with backoff)."""
        loop = asyncio.get_running_loop()
        backoff = 0.1
        failures = 0
        crashes = 0  # unexpected errors in a row
        connected_at = loop.time()
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, **feed_connect_args(self._url)
                ) as connection:
                    # Notifications psycopg reads with a query's answer (LISTEN's own, the
                    # liveness check's) come through here rather than the socket reader.
                    by_psycopg = _Payloads()
                    connection.add_notify_handler(by_psycopg.keep)
                    await connection.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    self.connects += 1
                    connected_at = loop.time()
                    failures, backoff = 0, 0.1
                    self._set_state(FeedState.LIVE)
                    # Whatever was sent while we were away is lost: readers resync now.
                    if self._on_connected is not None:
                        self._on_connected()
                    await self._listen(connection, by_psycopg)
            except Exception as error:
                if self._stopping:
                    break
                failures += 1
                if isinstance(error, (psycopg.Error, OSError, TimeoutError)):
                    log.info("change feed lost its connection: %s", str(error).strip()[:200])
                    delay = backoff
                else:
                    log.exception("change feed stopped by an error; reconnecting")
                    if loop.time() - connected_at >= STEADY_S:
                        crashes = 0
                    crashes += 1
                    delay = max(backoff, min(0.1 * 2**crashes, self._max_backoff_s))
                if failures == 1:
                    self._set_state(FeedState.RECONNECTING, dt.datetime.now().astimezone())
                elif failures >= OFFLINE_AFTER_ATTEMPTS:
                    self._set_state(FeedState.OFFLINE)
                # Sleep, but wake at once for stop().
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), delay)
                backoff = min(backoff * 2, self._max_backoff_s)
        self._set_state(FeedState.STOPPED)

    async def _listen(
        self, connection: psycopg.AsyncConnection[Any], by_psycopg: _Payloads
    ) -> None:
        """Read hints off the socket until the connection ends or the feed stops; a quiet
        server is asked whether it is still there."""
        loop = asyncio.get_running_loop()
        pgconn = connection.pgconn
        socket = pgconn.socket
        encoding = connection.info.encoding
        ended: asyncio.Future[None] = loop.create_future()
        self._ended = ended
        self._heard = loop.time()

        def take(read_at: int) -> None:
            """Hand over what psycopg read and what libpq holds parsed (a query's last
            packet can carry notifications that nobody has asked libpq for yet)."""
            payloads = by_psycopg.take()
            while (notify := pgconn.notifies()) is not None:
                payloads.append(notify.extra.decode(encoding, "replace"))
            self._hand_over(payloads, read_at)

        def readable() -> None:
            # Runs inside the loop's own socket check: no task switch between the socket
            # turning readable and the reader holding its hints.
            at = time.perf_counter_ns()
            try:
                pgconn.consume_input()  # raises once the server has gone
                self._heard = loop.time()
                take(at)
            except Exception as error:  # ends this connection; run() reconnects
                loop.remove_reader(socket)
                if not ended.done():
                    ended.set_exception(error)

        take(time.perf_counter_ns())
        loop.add_reader(socket, readable)
        try:
            while not self._stopping:
                left = self._quiet_check_s - (loop.time() - self._heard)
                if left > 0:
                    await asyncio.wait([ended], timeout=left)
                    if ended.done():
                        ended.result()  # the connection's error, if it ended by one
                        return
                    continue
                # Quiet for a while: make sure the server is still there. psycopg waits
                # on the socket itself meanwhile.
                loop.remove_reader(socket)
                at = time.perf_counter_ns()
                await _probe(connection)
                self._heard = loop.time()
                take(at)
                loop.add_reader(socket, readable)
        finally:
            self._ended = None
            if ended.done() and not ended.cancelled():
                ended.exception()  # raised above, or moot now that the feed stops
            # A connection the liveness check closed gave its socket up already, and the
            # number may belong to another connection by now.
            if not connection.closed:
                loop.remove_reader(socket)

    def _hand_over(self, payloads: list[str], readable_at: int) -> None:
        """Parse what was read and give it to the reader at once, as one batch."""
        if not payloads:
            return
        hints = [hint for payload in payloads if (hint := ChangeHint.parse(payload)) is not None]
        if not hints:
            return
        hints = coalesce(hints)
        trace = self._trace
        if trace is not None:
            trace("readable", hints, readable_at)
            trace("handed", hints, time.perf_counter_ns())
        self._on_hints(hints)

    def stop(self) -> None:
        self._stopping = True
        self._stop_event.set()
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)


async def _probe(connection: psycopg.AsyncConnection[Any]) -> None:
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
