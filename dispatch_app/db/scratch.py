"""Throwaway databases for tests and benchmarks, on whichever server is at hand.

The server is ``DISPATCH_DATABASE_URL`` when set, else PostgreSQL on 127.0.0.1:5432 when
it answers, else a private embedded server in a temporary folder. Each throwaway
database has a unique ``dispatch_scratch_…`` name, is created here and dropped here:
nothing else on the server is ever written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from dispatch_app.config import DATABASE_URL_ENV, libpq_url, normalise_url

log = logging.getLogger(__name__)

LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PREFIX = "dispatch_scratch_"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class ScratchServer:
    """A server on which throwaway databases are made; ``close()`` stops what it started."""

    def __init__(self) -> None:
        self._embedded = None
        self._embedded_dir: Path | None = None
        given = os.environ.get(DATABASE_URL_ENV)
        if given:
            self.admin_url = make_url(normalise_url(given)).set(database="postgres")
            self.origin = DATABASE_URL_ENV
        elif _answers("127.0.0.1", 5432):
            self.admin_url = make_url(LOCAL_SERVER)
            self.origin = "127.0.0.1:5432"
        else:
            from dispatch_app.db.embedded import EmbeddedServer

            # Short path: the server's Unix socket path must stay under ~100 bytes.
            self._embedded_dir = Path(tempfile.mkdtemp(prefix="dsx"))
            self._embedded = EmbeddedServer(self._embedded_dir)
            self.admin_url = make_url(self._embedded.start()).set(database="postgres")
            self.origin = "embedded"
        log.info("throwaway databases on %s", self.origin)

    def url_for(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(libpq_url(self.url_for("postgres")), autocommit=True)

    def create(self, template: str | None = None) -> str:
        name = PREFIX + uuid.uuid4().hex[:12]
        with self._admin() as admin:
            if template:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                admin.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop(self, name: str) -> None:
        assert name.startswith(PREFIX), f"refusing to drop {name!r}: not a throwaway database"
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A fresh database's SQLAlchemy URL for the duration of the block."""
        name = self.create(template)
        try:
            yield self.url_for(name)
        finally:
            self.drop(name)

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self._embedded_dir is not None:
            shutil.rmtree(self._embedded_dir, ignore_errors=True)
            self._embedded_dir = None
