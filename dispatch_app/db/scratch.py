"""Throwaway databases for tests and benchmarks, on whichever server is at hand.

The server is ``DISPATCH_DATABASE_URL`` when set, else PostgreSQL on 127.0.0.1:5432 when
it answers, else a private embedded server in a temporary folder. Each throwaway
database has a unique ``dispatch_scratch_…`` name, is created here and dropped here;
so is each throwaway login (``scratch…_name``, a member of one of the app's groups, for
tests of what a role may do): nothing else on the server is ever written, beyond the
app's own group roles its migration creates.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
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
        # Logins made here, and the prefix of any a test makes through the app's own
        # people functions: all dropped by ``drop_logins``.
        self.login_prefix = f"scratch{uuid.uuid4().hex[:6]}_"
        self._logins: set[str] = set()

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

    def login(self, database_url: str, group: str, name: str = "") -> str:
        """A new LOGIN role in ``dispatch_<group>`` (made by the app's migration) and
        its URL for ``database_url``'s database; dropped by ``drop_logins``."""
        login = self.login_prefix + (name or f"{group}{len(self._logins)}")
        password = secrets.token_urlsafe(16)
        with self._admin() as admin:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(login),
                    sql.Literal(password),
                    sql.Identifier(f"dispatch_{group}"),
                )
            )
        self._logins.add(login)
        return (
            make_url(database_url)
            .set(username=login, password=password)
            .render_as_string(hide_password=False)
        )

    def drop_logins(self) -> None:
        """Ends the sessions of every login made here (or named with the prefix) and
        drops them."""
        with self._admin() as admin:
            names = [
                row[0]
                for row in admin.execute(
                    "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)",
                    (self.login_prefix,),
                )
            ]
            for name in sorted(set(names) | self._logins):
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                    (name,),
                )
                # Privileges on the server's databases go with it (a test may grant some).
                admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
                admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        self._logins.clear()

    def close(self) -> None:
        self.drop_logins()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self._embedded_dir is not None:
            shutil.rmtree(self._embedded_dir, ignore_errors=True)
            self._embedded_dir = None
