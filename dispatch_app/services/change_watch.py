"""``python main.py watch``: the change feed as JSON lines, for operators and scripts.

Each committed change prints ``{"table", "id", "op", "version", "work_order"}``. The
feed's own life prints too: ``{"event": "listening"}`` once connected,
``{"event": "disconnect"}``, ``{"event": "reconnect"}``, and after every reconnect
``{"event": "resync", "rows": N}`` preceded by one line per row changed while the feed
was away (``"op": "resync"``; rows deleted meanwhile cannot be listed).

Output that cannot be written ends the watch: a reader that went away (``watch | head``)
quietly, a full disk with one sentence. The resync after a server restart reads on a
fresh connection (the pool's died with the server) and tries again until it succeeds, so
a restart costs no lines; a later reconnect's resync waits for it and covers the same
ground.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import signal
import sys
from typing import TextIO

from sqlalchemy import text

from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState
from dispatch_app.db.models import VERSIONED_TABLES
from dispatch_app.errors import OutputFailed, UserFacingError
from dispatch_app.services.workspace import Workspace

# Transactions stamp ``updated_at`` when they start, not when they commit: look back
# this far so a long transaction that committed while we were away is not missed.
RESYNC_MARGIN = dt.timedelta(minutes=5)
# A resync that fails (the server is still starting, say) is tried again after this,
# doubling up to the longest wait.
RESYNC_RETRY_S = 0.2
RESYNC_RETRY_MAX_S = 5.0

log = logging.getLogger(__name__)


class Watcher:
    def __init__(self, url: str, out: TextIO = sys.stdout) -> None:
        self._url = url
        self._out = out
        self.workspace = Workspace.connect(url)
        self._engine = self.workspace.database.engine
        self._since: dt.datetime | None = None  # server time of the last good resync
        self._resync_lock = asyncio.Lock()  # one resync at a time, in order
        self._resyncs: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._stop = asyncio.Event()  # the output cannot be written: end the watch
        self.output_error: OSError | None = None
        self.feed: ChangeFeed | None = None  # listening from ``run`` on

    def _emit(self, record: dict[str, object]) -> None:
        if self.output_error is not None:
            return
        try:
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._out.flush()
        except (OSError, ValueError) as error:  # ValueError: our stdout was closed
            # Not the feed's trouble: left to it, it would reconnect and fail forever.
            self.output_error = error if isinstance(error, OSError) else BrokenPipeError()
            self._stop.set()

    def _print_hints(self, hints: list[ChangeHint]) -> None:
        for hint in hints:
            self._emit(
                {
                    "table": hint.table,
                    "id": hint.id,
                    "op": hint.op,
                    "version": hint.version,
                    "work_order": hint.work_order_id,
                }
            )

    def _print_state(self, state: FeedState, since: dt.datetime) -> None:
        if state == FeedState.RECONNECTING:
            self._emit({"event": "disconnect", "at": since.isoformat(timespec="seconds")})
        elif state == FeedState.OFFLINE:
            self._emit({"event": "offline", "since": since.isoformat(timespec="seconds")})

    def _on_connected(self) -> None:
        assert self.feed is not None
        after_outage = self.feed.connects > 1
        self._emit({"event": "reconnect" if after_outage else "listening"})
        task = asyncio.ensure_future(self._resync(after_outage=after_outage))
        self._resyncs.add(task)
        task.add_done_callback(self._resync_done)

    def _resync_done(self, task: asyncio.Task[None]) -> None:
        self._resyncs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("resync failed", exc_info=task.exception())

    async def _resync(self, *, after_outage: bool) -> None:
        """Print what changed since the last resync; retried until it gets through."""
        async with self._resync_lock:
            if after_outage:
                # The pool's connection died with the server (or may have): start afresh.
                await self._engine.dispose()
            delay = RESYNC_RETRY_S
            while not self._stopping:
                try:
                    now, rows = await self.workspace.run_plain(self._changed_since(self._since))
                except UserFacingError as error:
                    log.info("resync failed, trying again: %s", str(error).strip()[:200])
                    await self._engine.dispose()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESYNC_RETRY_MAX_S)
                    continue
                first, self._since = self._since is None, now
                if not first:  # on the first connect nothing was missed
                    for table, row_id, version in rows:
                        self._emit(
                            {"table": table, "id": row_id, "op": "resync", "version": version}
                        )
                    self._emit({"event": "resync", "rows": len(rows)})
                return

    async def _changed_since(
        self, since: dt.datetime | None
    ) -> tuple[dt.datetime, list[tuple[str, int, int]]]:
        """The server's now, and every row updated since ``since`` (less a margin)."""
        rows: list[tuple[str, int, int]] = []
        async with self._engine.connect() as connection:
            now = (await connection.execute(text("SELECT now()"))).scalar_one()
            if since is None:
                return now, rows
            for table in VERSIONED_TABLES:
                result = await connection.execute(
                    text(
                        f"SELECT id, version FROM {table} WHERE updated_at >= :since "
                        "ORDER BY updated_at, id"
                    ),
                    {"since": since - RESYNC_MARGIN},
                )
                rows += [(table, row_id, version) for row_id, version in result]
        return now, rows

    async def run(self, until: asyncio.Event | None = None) -> None:
        """Print until ``until`` is set or the output cannot be written."""
        stop = until or asyncio.Event()
        self.feed = self.workspace.listen(
            on_hints=self._print_hints,
            on_state=self._print_state,
            on_connected=self._on_connected,
        )
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._stopping = True
            for wait in waits:
                wait.cancel()
            for pending in list(self._resyncs):
                pending.cancel()
            await asyncio.gather(*self._resyncs, return_exceptions=True)
            await self.workspace.aclose()


def watch(url: str) -> int:
    """Print the feed until interrupted (Ctrl+C or SIGTERM); exit code 0."""

    async def main() -> OSError | None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
                installed.append(signum)
            except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C raises instead
                pass
        watcher = Watcher(url)
        try:
            await watcher.run(stop)
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
        return watcher.output_error

    if sys.platform == "win32":  # psycopg's async mode needs a selector loop there
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined]
    failure = None
    with contextlib.suppress(KeyboardInterrupt):
        failure = asyncio.run(main())
    if failure is not None and not isinstance(failure, BrokenPipeError):
        raise OutputFailed(
            f"The change feed could not be written ({failure.strerror or failure}); "
            "the watch stopped."
        )
    return 0
