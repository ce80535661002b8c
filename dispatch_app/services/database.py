"""Opening the company database: the embedded server or a shared one, checked first.

``open_database`` is what every entry point calls. It never migrates a shared server
(``python main.py db upgrade`` does); the private embedded server is the app's own, so
it is migrated on start. Blocking work (starting a server, Alembic) runs in a worker
thread so a GUI event loop keeps turning. An app ended while that work runs (Ctrl+C
during the start) waits for the thread, then stops the server it started: this process
may be the server's last owner, and a server nobody owns would run on for ever.

Threading contract: the coroutines here touch no widgets; call them from the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from dispatch_app.config import DatabaseChoice, describe_url
from dispatch_app.db import migrate
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.db.engine import (
    explain_connection_error,
    make_async_engine,
    make_sync_engine,
    session_factory,
)
from dispatch_app.db.migrate import SchemaState
from dispatch_app.domain.clock import Clock
from dispatch_app.errors import PermissionDenied
from dispatch_app.services.people import NOT_ASKED, SignedIn, who_am_i

log = logging.getLogger(__name__)

T = TypeVar("T")


async def run_to_the_end(function: Callable[[], T]) -> T:
    """Run blocking ``function`` in a worker thread and wait for it to finish even when
    cancelled: a thread cannot be stopped, and what it did (started a server, say) must
    be known before it can be undone. A cancellation is raised once the thread is done."""
    work = asyncio.ensure_future(asyncio.to_thread(function))
    cancelled = False
    while not work.done():
        try:
            await asyncio.wait([work])
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not work.cancelled() and work.exception() is not None:
            log.info("ended while %s failed: %s", function, work.exception())
        raise asyncio.CancelledError
    return work.result()


@dataclass
class CompanyDatabase:
    """An open, schema-checked database and what is needed to use and close it."""

    url: str
    label: str  # for the status bar: "Embedded database" or "host:5432/dispatch"
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedServer | None  # set when this app runs the server itself
    is_empty_company: bool  # no technicians yet: offer the demo company
    # Who the database says this login is (a client that only reads may not ask).
    signed_in: SignedIn = NOT_ASKED

    async def reconnected(self) -> None:
        """The server came back: drop pooled connections that died with it."""
        await self.engine.dispose()

    async def close(self) -> None:
        """Let go of the database; stop the embedded server if no other app uses it."""
        try:
            await self.engine.dispose()
        finally:
            if self.embedded is not None:
                server, self.embedded = self.embedded, None
                await run_to_the_end(server.stop)


def migrate_now(url: str) -> SchemaState:
    """Blocking: upgrade ``url`` to head (for ``db upgrade`` and the embedded server)."""
    engine = make_sync_engine(url)
    try:
        return migrate.upgrade(engine)
    except OperationalError as error:
        raise explain_connection_error(error, url) from None
    finally:
        engine.dispose()


async def open_database(choice: DatabaseChoice, *, data_dir: Path) -> CompanyDatabase:
    """Open the chosen database or raise a ``UserFacingError`` saying why not."""
    embedded = None
    if choice.url is None:
        embedded = EmbeddedServer(data_dir)
        label = "Embedded database"
        try:
            url = await run_to_the_end(embedded.start)
            await run_to_the_end(lambda: migrate_now(url))
        except BaseException:
            await run_to_the_end(embedded.stop)  # nothing to stop if it never started
            raise
    else:
        url = choice.url
        label = describe_url(url)

    engine = make_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(migrate.check_schema, url)
            signed_in = await connection.run_sync(who_am_i)
            if signed_in.role is None:
                raise PermissionDenied(
                    f"{signed_in.login} may open the database at {label} but has no role "
                    "in Dispatch Board: ask an admin to give it one (python main.py admin "
                    f"set-role {signed_in.login} --role csr)."
                )
            technicians = (
                await connection.execute(text("SELECT count(*) FROM technicians"))
            ).scalar_one()
    except (OperationalError, DBAPIError, OSError) as error:
        await _let_go(engine, embedded)
        raise explain_connection_error(error, url) from None
    except BaseException:
        await _let_go(engine, embedded)
        raise
    log.info("opened %s", label)
    return CompanyDatabase(
        url=url,
        label=label,
        engine=engine,
        sessions=session_factory(engine),
        embedded=embedded,
        is_empty_company=technicians == 0,
        signed_in=signed_in,
    )


async def _let_go(engine: AsyncEngine, embedded: EmbeddedServer | None) -> None:
    """After a failed or cancelled open: drop the engine, stop the server we started."""
    try:
        await engine.dispose()
    finally:
        if embedded is not None:
            await run_to_the_end(embedded.stop)


def prepare_demo_company(url: str, clock: Clock) -> str | None:
    """Blocking (a worker thread): the demo company as it stands at the clock's moment;
    a sentence to show when it was kept as it is (see ``demo_for_now``)."""
    # Imported here: the demo's data tables are large, and only a demo start needs them.
    from dispatch_app.services.demo import demo_for_now

    engine = make_sync_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return demo_for_now(session, clock=clock)
    finally:
        engine.dispose()
