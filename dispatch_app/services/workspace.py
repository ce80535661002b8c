"""The application core: one open company database and everything that follows it.

Every client — the desktop app's windows, the map window, the coming worker and wall
display — works through a ``Workspace``. It owns the engine and its sessions, the day
kept live by the change feed, the routes that hand changes to the views showing them,
and the feeds it starts, with one shutdown. Windows never see a session, SQLAlchemy or
psycopg: an operation (a function of ``services`` taking the sessions first) runs
through ``run`` or ``read``, and whatever the database or the network throws comes out
as a ``UserFacingError`` carrying a sentence — ``DatabaseUnreachable`` for a server that
did not answer, ``PermissionDenied`` for a refusal of the login's roles — besides the
operation's own ``ValidationError`` and ``ConflictError``.

A write's change report (``report``) takes the same road as a colleague's change from
the feed: the day store and the views hear it at once, and the feed's hint for the same
rows later costs nothing (the store already holds that version).

Threading contract: coroutines and callbacks for the app's event loop. No Qt.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import DatabaseChoice, describe_url
from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState, stop_feed
from dispatch_app.db.engine import explain_permission_error, make_async_engine, session_factory
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.roles import Action, Role, may
from dispatch_app.errors import DatabaseUnreachable, UserFacingError
from dispatch_app.services.billing import books_refusal
from dispatch_app.services.change_routes import ChangeRoutes
from dispatch_app.services.database import CompanyDatabase, open_database
from dispatch_app.services.day_store import DayStore
from dispatch_app.services.live_day import LiveDay

if TYPE_CHECKING:
    from dispatch_app.services.leads.endpoint import LeadEndpoint, RateLimit
    from dispatch_app.services.outbox.worker import OutboxWorker, WorkerOptions

log = logging.getLogger(__name__)

# A worker finishing the message in hand: at most one provider call's timeout.
WORKER_STOP_S = 45.0

P = ParamSpec("P")
T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class ChangeReport:
    """What a write changed: rows by table, their new versions, and (where known) the
    work order each belongs to."""

    table: str
    versions: Mapping[int, int]
    op: str = "update"
    work_orders: Mapping[int, int] = field(default_factory=dict)

    @property
    def hints(self) -> list[ChangeHint]:
        return [
            ChangeHint(self.table, row, self.op, v, self.work_orders.get(row))
            for row, v in self.versions.items()
        ]


def explain_database_error(
    error: BaseException, url: str, role: Role | None = None
) -> UserFacingError:
    """The sentence for a failure of the database or the network during an operation;
    a refusal of the login's role as "Your role (CSR) may not …"."""
    denied = explain_permission_error(error, url, role)
    if denied is not None:
        return denied
    refused = books_refusal(error)
    if refused is not None:
        return refused
    original = error.orig if isinstance(error, DBAPIError) and error.orig else error
    detail = str(original).strip().splitlines()[0] if str(original).strip() else ""
    log.warning("the database at %s failed: %s", describe_url(url), detail or repr(error))
    return DatabaseUnreachable(f"The database at {describe_url(url)} did not answer.")


class Workspace:
    def __init__(self, database: CompanyDatabase, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.database = database
        self.clock = clock
        self.changes = ChangeRoutes()
        self.day: LiveDay | None = None
        self._feeds: list[tuple[ChangeFeed, asyncio.Task[None]]] = []
        self._workers: list[tuple[asyncio.Event, asyncio.Task[None], Callable[[], None]]] = []
        self._endpoints: list[LeadEndpoint] = []
        self._closed = False

    @classmethod
    async def open(
        cls, choice: DatabaseChoice, *, data_dir: Path, clock: Clock = SYSTEM_CLOCK
    ) -> Workspace:
        """Open the chosen database (starting the embedded server when none is given),
        or raise the sentence saying why not."""
        return cls(await open_database(choice, data_dir=data_dir), clock=clock)

    @classmethod
    def connect(cls, url: str, *, clock: Clock = SYSTEM_CLOCK) -> Workspace:
        """A workspace on a database another process opened and checked (the map
        window, started by the app), or that only listens (``watch``)."""
        engine = make_async_engine(url)
        database = CompanyDatabase(
            url=url,
            label=describe_url(url),
            engine=engine,
            sessions=session_factory(engine),
            embedded=None,
            is_empty_company=False,
        )
        return cls(database, clock=clock)

    # -- what it is -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.database.url

    @property
    def label(self) -> str:
        return self.database.label

    @property
    def embedded(self) -> bool:
        return self.database.embedded is not None

    @property
    def role(self) -> Role:
        """What the database lets this login do (the single-PC owner may do all). A
        workspace that never asked (``connect``) offers everything: screens only hide
        what would be refused, and the database still decides."""
        return self.database.signed_in.role or Role.OWNER

    @property
    def login(self) -> str:
        return self.database.signed_in.login

    def may(self, action: Action) -> bool:
        """Whether to offer ``action`` at all; the database decides if it is done."""
        return may(self.role, action)

    @property
    def store(self) -> DayStore | None:
        return self.day.store if self.day is not None else None

    # -- the live day ---------------------------------------------------------------------
    def prepare_day(
        self,
        day: dt.date | None = None,
        *,
        on_state: Callable[[FeedState, dt.datetime], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> DayStore:
        """The day store, empty until ``start_day``: views can bind to it first. The
        feed's hints go to the store and to the views subscribed to ``changes``."""
        assert self.day is None, "the day is already prepared"
        self.day = LiveDay(
            self.url,
            self.database.sessions,
            day,
            clock=self.clock,
            on_state=on_state,
            on_hints=self.changes.publish,
            on_error=on_error,
        )
        return self.day.store

    async def start_day(self) -> DayStore:
        """Read the day, then keep it live."""
        if self.day is None:
            self.prepare_day()
        assert self.day is not None
        await self.run_plain(self.day.start())
        return self.day.store

    @property
    def feed(self) -> ChangeFeed | None:
        return self.day.feed if self.day is not None else None

    def listen(
        self,
        *,
        on_hints: Callable[[list[ChangeHint]], None],
        on_state: Callable[[FeedState, dt.datetime], None],
        on_connected: Callable[[], None] | None = None,
    ) -> ChangeFeed:
        """A change feed without a day (``watch``, the worker): hints go to ``on_hints``
        and to ``changes``; it runs until ``aclose``."""

        def hints(received: list[ChangeHint]) -> None:
            self.changes.publish(received)
            on_hints(received)

        feed = ChangeFeed(self.url, on_hints=hints, on_state=on_state, on_connected=on_connected)
        self._feeds.append((feed, asyncio.ensure_future(feed.run())))
        return feed

    def start_outbox_worker(
        self,
        options: WorkerOptions | None = None,
        *,
        stop: asyncio.Event | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> tuple[OutboxWorker, asyncio.Task[None]]:
        """Send the outbox from this process until ``stop`` is set or ``aclose``: the
        desktop app on a single PC, and ``python main.py worker``. It wakes on the hints
        of whichever feed this workspace runs (the day's, or ``listen``'s)."""
        from dispatch_app.services.outbox.worker import OutboxWorker

        worker = OutboxWorker(
            self.database.sessions, clock=self.clock, options=options, environ=environ
        )

        def heard(hints: list[ChangeHint]) -> None:
            if any(hint.table == "app_settings" for hint in hints):
                worker.settings_changed()
            elif any(hint.op == "insert" for hint in hints):
                worker.wake()

        unsubscribe = self.changes.watch_tables(("outbox_messages", "app_settings"), heard)
        stopping = stop or asyncio.Event()
        task = asyncio.ensure_future(worker.run(stopping))
        self._workers.append((stopping, task, unsubscribe))
        return worker, task

    async def start_lead_endpoint(
        self, address: str | None = None, *, limit: RateLimit | None = None
    ) -> LeadEndpoint:
        """Take leads over HTTP from this process until ``aclose``: ``python main.py
        worker``. ``address`` is ``host:port`` (port 0: any free one), by default the
        ``lead_endpoint`` setting's. A malformed address or a port in use is
        ``ConfigurationError``; the database not answering, its usual sentence."""
        from dispatch_app.services.leads import endpoint as leads

        sessions = self.database.sessions
        if address is None:
            host, port = await self.run(leads.configured_address)
        else:
            host, port = leads.parse_address(address, named="The lead endpoint's address")
        served = leads.LeadEndpoint(sessions, clock=self.clock, host=host, port=port, limit=limit)
        await served.start()
        self._endpoints.append(served)
        return served

    @property
    def lead_endpoints(self) -> tuple[LeadEndpoint, ...]:
        """The lead endpoints this workspace serves (none, or the one)."""
        return tuple(self._endpoints)

    async def reread(self) -> None:
        """Everything again from scratch (the database's contents were replaced)."""
        if self.day is not None:
            await self.run_plain(self.day.reread())

    async def show_days(self, day: dt.date | None, days: int) -> None:
        """Show other days on the board (the date picker, zoom)."""
        if self.day is not None:
            await self.run_plain(self.day.store.show(day, days))

    async def report(self, report: ChangeReport) -> None:
        """A write of this workstation, shown now without waiting for its hint."""
        store = self.store
        if report.table == "visits" and not report.work_orders and store is not None:
            # The day knows whose visits they are: only those work orders' views hear.
            held = {row: store.visit(row) for row in report.versions}
            owners = {row: v.work_order_id for row, v in held.items() if v is not None}
            report = dataclasses.replace(report, work_orders=owners)
        hints = report.hints
        self.changes.publish(hints)
        if self.day is not None:
            try:
                await self.day.store.apply_hints(hints)
            except (DBAPIError, OSError) as error:  # the feed's resync will catch up
                log.info("could not re-read a change just written: %s", error)

    # -- operations -----------------------------------------------------------------------
    async def run(
        self,
        operation: Callable[Concatenate[Sessions, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``operation(sessions, …)``, its failures as one sentence each."""
        return await self.run_plain(operation(self.database.sessions, *args, **kwargs))

    # Reads and writes fail the same way; the name says which a caller means.
    read = run

    async def run_plain(self, work: Awaitable[T]) -> T:
        try:
            return await work
        except UserFacingError:
            raise
        except (DBAPIError, OSError) as error:
            raise explain_database_error(error, self.url, self.role) from error

    # -- the end --------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Stop the feeds and the live day (its work ends or is cancelled), let go of the
        database (stopping the embedded server if this was its last user). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            for served in self._endpoints:  # first: no lead taken that cannot be stored
                await served.aclose()
            for stop, running, unsubscribe in self._workers:
                unsubscribe()
                stop.set()  # the message in hand is finished, the rest of the claim let go
                await asyncio.wait([running], timeout=WORKER_STOP_S)
                if not running.done():
                    running.cancel()
                    await asyncio.wait([running])
            for feed, task in self._feeds:
                await stop_feed(feed, task)
            if self.day is not None:
                await self.day.stop()
        finally:
            await self.database.close()


__all__ = [
    "ChangeHint",
    "ChangeReport",
    "FeedState",
    "Sessions",
    "Workspace",
    "explain_database_error",
]
