"""Where the app keeps its data and which database it talks to.

Precedence for the database: ``--database-url`` on the command line, then the
``DISPATCH_DATABASE_URL`` environment variable, then the private embedded server in
the data directory. The data directory is ``DISPATCH_DATA_DIR`` when set (tests and
portable installs), else the platform's per-user data folder.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from dispatch_app import ORGANIZATION
from dispatch_app.errors import ConfigurationError

DATABASE_URL_ENV = "DISPATCH_DATABASE_URL"
# The certificate authority a shared server's TLS certificate must come from: with it,
# the connection is encrypted and the server's name checked (``sslmode=verify-full``).
CA_FILE_ENV = "DISPATCH_CA_FILE"
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


def choose_database(
    cli_url: str | None, environ: dict[str, str] | None = None, *, ca_file: str | None = None
) -> DatabaseChoice:
    """The database to open; with a CA file (``--ca-file`` or ``DISPATCH_CA_FILE``), a
    shared server is reached over TLS whose certificate is checked against it."""
    env = os.environ if environ is None else environ
    authority = ca_file or env.get(CA_FILE_ENV) or None
    if cli_url:
        url = normalise_url(cli_url, origin="--database-url")
        return DatabaseChoice(verified_tls(url, authority), "command line")
    if env.get(DATABASE_URL_ENV):
        url = normalise_url(env[DATABASE_URL_ENV], origin=DATABASE_URL_ENV)
        return DatabaseChoice(verified_tls(url, authority), DATABASE_URL_ENV)
    return DatabaseChoice(None, "embedded")


def verified_tls(url: str, ca_file: str | None) -> str:
    """``url`` with ``sslmode=verify-full`` against ``ca_file``; unchanged without one."""
    if not ca_file:
        return url
    from sqlalchemy.engine import make_url

    path = Path(ca_file).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"The CA file {path} does not exist (--ca-file / {CA_FILE_ENV}).")
    parsed = make_url(url).update_query_dict(
        {"sslmode": "verify-full", "sslrootcert": str(path.resolve())}
    )
    return parsed.render_as_string(hide_password=False)


def normalise_url(url: str, *, origin: str = "the database URL") -> str:
    """A SQLAlchemy URL on the psycopg 3 driver, from any spelling a user may paste.

    Accepts ``postgresql://``, ``postgres://`` and ``postgresql+psycopg://``; refuses
    anything else with one sentence naming where the URL came from: another scheme, a
    host or port that cannot be one (``[::1`` without its bracket, a space, port 99999),
    a control character anywhere (``%00`` too, once decoded), no database name.
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
    except (ArgumentError, ValueError):  # ValueError: a port that is no number ("[::1/db")
        raise ConfigurationError(
            f"The database URL from {origin} is not a URL like "
            "postgresql://user@host:5432/dispatch."
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"The database URL from {origin} is for {parsed.get_backend_name()!r}; "
            "this app needs PostgreSQL (postgresql://user@host:5432/dispatch)."
        )
    parts = [parsed.username, parsed.password, parsed.host, parsed.database]
    for value in parsed.query.values():
        parts.extend([value] if isinstance(value, str) else value)
    if any(_invisible(str(part)) for part in parts if part is not None):
        raise ConfigurationError(
            f"The database URL from {origin} contains an invisible control character; "
            "type it again."
        )
    if parsed.host is not None and (
        not parsed.host or any(char.isspace() or char in "[]/\\@?#" for char in parsed.host)
    ):
        raise ConfigurationError(
            f"The database URL from {origin} names the host {parsed.host!r}, which is not a "
            "host name or address (an IPv6 address goes in brackets: "
            "postgresql://user@[::1]/dispatch)."
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigurationError(
            f"The database URL from {origin} names port {parsed.port}; a port is 1 to 65535."
        )
    if not parsed.database:
        raise ConfigurationError(
            f"The database URL from {origin} names no database "
            "(add it after the host, e.g. postgresql://user@host:5432/dispatch)."
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _invisible(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in text)


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
