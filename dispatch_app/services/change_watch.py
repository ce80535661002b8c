"""``python main.py watch``: the change feed as JSON lines, for operators and scripts.

Each committed change prints ``{"table", "id", "op", "version"}``. The feed's own life
prints too: ``{"event": "listening"}`` once connected, ``{"event": "disconnect"}``,
``{"event": "reconnect"}``, and after every
reconnect ``{"event": "resync", "rows": N}`` preceded by one line per row changed while
the feed was away (``"op": "resync"``; rows deleted meanwhile cannot be listed).

Output that cannot be written ends the watch: a reader that went away (``watch | head``)
quietly, a full disk with one sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import signal
import sys
from typing import TextIO

from sqlalchemy import text

from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState, stop_feed
from dispatch_app.db.engine import make_async_engine
from dispatch_app.db.models import VERSIONED_TABLES
from dispatch_app.errors import OutputFailed

# Transactions stamp ``updated_at`` when they start, not when they commit: look back
# this far so a long transaction that committed while we were away is not missed.
RESYNC_MARGIN = dt.timedelta(minutes=5)


class Watcher:
    def __init__(self, url: str, out: TextIO = sys.stdout) -> None:
        self._url = url
        self._out = out
        self._engine = make_async_engine(url, pool_size=1)
        self._since: dt.datetime | None = None
        self._resyncs: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self.output_error: OSError | None = None
        self.feed = ChangeFeed(
            url,
            on_hints=self._print_hints,
            on_state=self._print_state,
            on_connected=self._on_connected,
        )

    def _emit(self, record: dict[str, object]) -> None:
        if self.output_error is not None:
            return
        try:
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._out.flush()
        except OSError as error:
            # Not the feed's trouble: left to it, it would reconnect and fail forever.
            self.output_error = error
            self._stop.set()

    def _print_hints(self, hints: list[ChangeHint]) -> None:
        for hint in hints:
            self._emit({"table": hint.table, "id": hint.id, "op": hint.op, "version": hint.version})

    def _print_state(self, state: FeedState, since: dt.datetime) -> None:
        if state == FeedState.RECONNECTING:
            self._emit({"event": "disconnect", "at": since.isoformat(timespec="seconds")})
        elif state == FeedState.OFFLINE:
            self._emit({"event": "offline", "since": since.isoformat(timespec="seconds")})

    def _on_connected(self) -> None:
        self._emit({"event": "reconnect" if self.feed.connects > 1 else "listening"})
        task = asyncio.ensure_future(self._resync())
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def _resync(self) -> None:
        async with self._engine.connect() as connection:
            now = (await connection.execute(text("SELECT now()"))).scalar_one()
            previous, self._since = self._since, now
            if previous is None:
                return  # first connect: nothing was missed
            rows = 0
            for table in VERSIONED_TABLES:
                result = await connection.execute(
                    text(
                        f"SELECT id, version FROM {table} WHERE updated_at >= :since "
                        "ORDER BY updated_at, id"
                    ),
                    {"since": previous - RESYNC_MARGIN},
                )
                for row_id, version in result:
                    rows += 1
                    self._emit({"table": table, "id": row_id, "op": "resync", "version": version})
        self._emit({"event": "resync", "rows": rows})

    async def run(self, until: asyncio.Event | None = None) -> None:
        """Print until ``until`` is set or the output cannot be written."""
        stop = until or asyncio.Event()
        task = asyncio.ensure_future(self.feed.run())
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await stop_feed(self.feed, task)
            for pending in list(self._resyncs):
                pending.cancel()
            await asyncio.gather(*self._resyncs, return_exceptions=True)
            await self._engine.dispose()


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
