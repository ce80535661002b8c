"""Engines and sessions, and the translation of connection failures into one sentence.

A workstation keeps a small pool for queries (see ``make_async_engine``) besides the
change feed's listener. ``connect_timeout`` keeps an unreachable server from hanging
the app.
"""

from __future__ import annotations

import getpass
import re
from typing import Any

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from dispatch_app.config import describe_url
from dispatch_app.domain.roles import (
    IDLE_IN_TRANSACTION_TIMEOUT,
    STATEMENT_TIMEOUT,
    Role,
    refusal,
)
from dispatch_app.errors import (
    DatabaseUnreachable,
    LoginRefused,
    PermissionDenied,
    UserFacingError,
)

CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "dispatch-board"

# Notice a vanished server within seconds rather than the OS default of hours.
_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
}


def editor_name() -> str:
    """Who is at this workstation, as change stamps and conflict messages name them."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = ""
    # Kept to characters that need no quoting inside libpq's ``options``.
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name)[:63] or "unknown"


def connect_args(url: str, editor: str | None = None, *, screen: bool = False) -> dict[str, Any]:
    """psycopg connection options: time-outs, keepalives, and the editor's name (believed
    by the database only from the single-PC owner: elsewhere the login is the name).

    ``screen``: a connection behind a window, whose statements may not run longer than a
    person waits, nor leave a transaction open; the command-line tools (migrations, the
    demo) may take longer.
    """
    options = f"-c dispatch.editor={editor or editor_name()}"
    if screen:
        options += (
            f" -c statement_timeout={STATEMENT_TIMEOUT}"
            f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT}"
        )
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "application_name": APPLICATION_NAME,
        "options": options,
    }
    # TCP keepalive options mean nothing on Unix-socket connections (the embedded server).
    if not ("host=/" in url or "@/" in url):
        args.update(_KEEPALIVES)
    return args


def make_async_engine(url: str, *, pool_size: int = 1, editor: str | None = None) -> AsyncEngine:
    """The app's query connections: the day store keeps one for its reads, and one more
    opens for a save or a whole-day read; with the change feed's listener, a workstation
    holds two or three connections to the server.

    No pre-ping: it costs a round trip on every checkout. A dead server is noticed by
    the change feed, which then empties the pool; a write on a dead connection fails
    with a clear message and the next try gets a fresh one.
    """
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=1,
        pool_pre_ping=False,
        connect_args=connect_args(url, editor, screen=True),
    )


def make_sync_engine(url: str, *, editor: str | None = None) -> Engine:
    """For migrations and command-line tools, which have no event loop to spare."""
    return create_engine(url, pool_size=1, max_overflow=0, connect_args=connect_args(url, editor))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def explain_connection_error(error: BaseException, url: str) -> UserFacingError:
    """One sentence for a failed connection: which server, and what it said.

    A login the server let in but that may not read the tables (no role granted yet)
    is ``PermissionDenied``, not "unreachable": the fix is a grant, not a network.
    """
    denied = explain_permission_error(error, url)
    if denied is not None:
        return denied
    where = describe_url(url)
    original = error.orig if isinstance(error, DBAPIError) and error.orig else error
    detail = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
    )
    lowered = detail.lower()
    if "does not exist" in lowered and "database" in lowered:
        reason = "the database does not exist on that server"
    elif "password authentication failed" in lowered or "no password supplied" in lowered:
        return LoginRefused(
            f"Cannot open the database at {where}: the server refused the user name or password."
        )
    elif "role" in lowered and "does not exist" in lowered:
        reason = "the server has no such user"
    elif "timeout" in lowered or "timed out" in lowered:
        reason = f"the server did not answer within {CONNECT_TIMEOUT_S} seconds"
    elif "does not support ssl" in lowered:
        reason = "the server does not offer TLS, which the CA file setting requires"
    elif "certificate" in lowered or "does not match host name" in lowered:
        reason = "its TLS certificate is not vouched for by the CA file, or names another host"
    elif "connection refused" in lowered:
        reason = "nothing is listening there (connection refused)"
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        reason = "the host name is unknown"
    else:
        reason = detail
    return DatabaseUnreachable(f"Cannot open the database at {where}: {reason}.")


def explain_permission_error(
    error: BaseException, url: str, role: Role | None = None
) -> PermissionDenied | None:
    """``PermissionDenied`` when ``error`` is PostgreSQL's "permission denied" (SQLSTATE
    42501); ``None`` for any other error.

    The database's own refusals already are the sentence ("Your role (CSR) may not
    reopen finished work."); a grant's refusal is said the same way when the login's
    role is known, else it names the login and what it may not touch.
    """
    original = error.orig if isinstance(error, DBAPIError) and error.orig else error
    if not isinstance(original, psycopg.errors.InsufficientPrivilege):
        return None
    detail = original.diag.message_primary or str(original).strip() or "permission denied"
    detail = detail.splitlines()[0]
    if detail.startswith("Your role ("):
        return PermissionDenied(detail)
    if role is not None:
        found = re.match(r"permission denied for (?:table|relation|sequence|view) (\w+)", detail)
        # A query refused is a read; anything else refused is a change.
        statement = error.statement if isinstance(error, DBAPIError) else None
        reading = (statement or "").lstrip().upper().startswith(("SELECT", "WITH"))
        verb = "read" if reading else "change"
        what = f"{verb} {found.group(1).replace('_', ' ')}" if found else "do that"
        return PermissionDenied(refusal(role, what))
    try:
        login = make_url(url).username or "this login"
    except (ArgumentError, ValueError):
        login = "this login"
    return PermissionDenied(
        f"The database at {describe_url(url)} refused {login} ({detail}); ask an admin to "
        f"give this login a role (python main.py admin set-role {login} --role csr)."
    )
