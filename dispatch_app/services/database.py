"""Opening the company database: the embedded server or a shared one, checked first.

``open_database`` is what every entry point calls. It never migrates a shared server
(``python main.py db upgrade`` does); the private embedded server is the app's own, so
it is migrated on start. Blocking work (starting a server, Alembic) runs in a worker
thread so a GUI event loop keeps turning.

Threading contract: the coroutines here touch no widgets; call them from the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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

log = logging.getLogger(__name__)


@dataclass
class CompanyDatabase:
    """An open, schema-checked database and what is needed to use and close it."""

    url: str
    label: str  # for the status bar: "Embedded database" or "host:5432/dispatch"
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedServer | None  # set when this app runs the server itself
    is_empty_company: bool  # no technicians yet: offer the demo company

    async def reconnected(self) -> None:
        """The server came back: drop pooled connections that died with it."""
        await self.engine.dispose()

    async def close(self) -> None:
        await self.engine.dispose()
        if self.embedded is not None:
            server, self.embedded = self.embedded, None
            await asyncio.to_thread(server.stop)


def _start_embedded(data_dir: Path) -> tuple[EmbeddedServer, str]:
    server = EmbeddedServer(data_dir)
    url = server.start()
    return server, url


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
        embedded, url = await asyncio.to_thread(_start_embedded, data_dir)
        label = "Embedded database"
        try:
            await asyncio.to_thread(migrate_now, url)
        except BaseException:
            await asyncio.to_thread(embedded.stop)
            raise
    else:
        url = choice.url
        label = describe_url(url)

    engine = make_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(migrate.check_schema, url)
            technicians = (
                await connection.execute(text("SELECT count(*) FROM technicians"))
            ).scalar_one()
    except (OperationalError, DBAPIError, OSError) as error:
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        raise explain_connection_error(error, url) from None
    except BaseException:
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        raise
    log.info("opened %s", label)
    return CompanyDatabase(
        url=url,
        label=label,
        engine=engine,
        sessions=session_factory(engine),
        embedded=embedded,
        is_empty_company=technicians == 0,
    )
