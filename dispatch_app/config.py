"""Where the app keeps its data and which database it talks to.

Precedence for the database: ``--database-url`` on the command line, then the
``DISPATCH_DATABASE_URL`` environment variable, then the private embedded server in
the data directory. The data directory is ``DISPATCH_DATA_DIR`` when set (tests and
portable installs), else the platform's per-user data folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from dispatch_app import ORGANIZATION
from dispatch_app.errors import ConfigurationError

DATABASE_URL_ENV = "DISPATCH_DATABASE_URL"
DATA_DIR_ENV = "DISPATCH_DATA_DIR"
APP_DIR_NAME = "DispatchBoard"


@dataclass(frozen=True, slots=True)
class DatabaseChoice:
    """Either a shared server's URL, or ``None`` meaning the embedded server."""

    url: str | None
    origin: str  # "command line", "DISPATCH_DATABASE_URL" or "embedded"

    @property
    def embedded(self) -> bool:
        return self.url is None


def choose_database(cli_url: str | None, environ: dict[str, str] | None = None) -> DatabaseChoice:
    env = os.environ if environ is None else environ
    if cli_url:
        return DatabaseChoice(normalise_url(cli_url, origin="--database-url"), "command line")
    if env.get(DATABASE_URL_ENV):
        return DatabaseChoice(
            normalise_url(env[DATABASE_URL_ENV], origin=DATABASE_URL_ENV), DATABASE_URL_ENV
        )
    return DatabaseChoice(None, "embedded")


def normalise_url(url: str, *, origin: str = "the database URL") -> str:
    """A SQLAlchemy URL on the psycopg 3 driver, from any spelling a user may paste.

    Accepts ``postgresql://``, ``postgres://`` and ``postgresql+psycopg://``; refuses
    anything else with one sentence naming where the URL came from.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = url.strip()
    if "\x00" in text:
        raise ConfigurationError(f"The database URL from {origin} contains a NUL byte.")
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise ConfigurationError(
            f"The database URL from {origin} is not a URL like "
            "postgresql://user@host:5432/dispatch."
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"The database URL from {origin} is for {parsed.get_backend_name()!r}; "
            "this app needs PostgreSQL (postgresql://user@host:5432/dispatch)."
        )
    if not parsed.database:
        raise ConfigurationError(
            f"The database URL from {origin} names no database "
            "(add it after the host, e.g. postgresql://user@host:5432/dispatch)."
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL as psycopg's own ``connect()`` understands it."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def describe_url(sqlalchemy_url: str) -> str:
    """``host:port/db`` (password hidden) for the status bar and messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(sqlalchemy_url)
    except ArgumentError:
        return "the database"
    host = parsed.host or parsed.query.get("host") or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    if str(host).startswith("/"):
        host = "local socket"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database}"


def data_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, ORGANIZATION, roaming=False))
