"""The company's people on a shared server: logins, their roles, their passwords.

Each person is a PostgreSQL login in one group (``domain/roles.py``). An admin adds,
changes, disables and re-enables them through the database's own ``SECURITY DEFINER``
functions (migration 0007), which check the caller and touch only the app's logins. A
password never leaves this computer: libpq turns it into a SCRAM-SHA-256 verifier here
and only the verifier is sent, so no server log, ``pg_stat_activity`` or error text can
show it. Each function works on a sync connection in the caller's transaction (the
command line commits); ``manage`` runs one for the app's People window.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Row, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.roles import Action, Role, check_login_name, refusal, role_named

__all__ = [
    "NOT_ASKED",
    "Person",
    "SignedIn",
    "add_user",
    "check_login_name",
    "check_password",
    "disable_user",
    "enable_user",
    "manage",
    "people",
    "reset_password",
    "set_role",
    "who_am_i",
]
from dispatch_app.errors import ConfigurationError, PermissionDenied, UserFacingError

T = TypeVar("T")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Person:
    login: str
    role: Role
    can_log_in: bool
    connection_limit: int


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who this session is: the login and the role the database says it has."""

    login: str
    role: Role | None  # None: a login in none of the app's groups (or not asked)


NOT_ASKED = SignedIn("", None)


def check_password(password: str) -> str:
    """A new password, or ``ConfigurationError`` saying what is wrong (never echoing it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigurationError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ConfigurationError(f"A password may have {MAX_PASSWORD_LENGTH} characters at most.")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in password):
        raise ConfigurationError("A password cannot hold control characters or line breaks.")
    return password


def who_am_i(connection: Connection) -> SignedIn:
    login, role = connection.execute(text("SELECT session_user::text, dispatch_my_role()")).one()
    return SignedIn(login, Role(role) if role else None)


def people(connection: Connection) -> list[Person]:
    rows = _call(connection, "SELECT * FROM dispatch_people()", {})
    return [
        Person(row.login, Role(row.role_name), row.can_login, row.connection_limit) for row in rows
    ]


def add_user(connection: Connection, login: str, role: str | Role, password: str) -> Person:
    name = check_login_name(login)
    group = role if isinstance(role, Role) else role_named(role)
    verifier = _verifier(connection, name, check_password(password))
    _call(
        connection,
        "SELECT dispatch_add_user(:login, :role, :verifier)",
        {"login": name, "role": group.value, "verifier": verifier},
    )
    return _one(connection, name)


def set_role(connection: Connection, login: str, role: str | Role) -> Person:
    group = role if isinstance(role, Role) else role_named(role)
    _call(
        connection,
        "SELECT dispatch_set_role(:login, :role)",
        {"login": login.strip(), "role": group.value},
    )
    return _one(connection, login.strip())


def disable_user(connection: Connection, login: str) -> int:
    """Takes the login away and ends its open sessions; returns how many were ended."""
    rows = _call(connection, "SELECT dispatch_disable_user(:login)", {"login": login.strip()})
    return int(rows[0][0])


def enable_user(connection: Connection, login: str) -> Person:
    _call(connection, "SELECT dispatch_enable_user(:login)", {"login": login.strip()})
    return _one(connection, login.strip())


def reset_password(connection: Connection, login: str, password: str) -> None:
    name = login.strip()
    verifier = _verifier(connection, name, check_password(password))
    _call(
        connection,
        "SELECT dispatch_reset_password(:login, :verifier)",
        {"login": name, "verifier": verifier},
    )


async def manage(
    sessions: async_sessionmaker[AsyncSession], work: Callable[..., T], *args: Any
) -> T:
    """``work(connection, *args)`` (one of the functions above) in a transaction of its
    own on the app's connection: for the People window, through ``Workspace.run``."""
    async with sessions() as session, session.begin():
        return await session.run_sync(lambda sync: work(sync.connection(), *args))


def _one(connection: Connection, login: str) -> Person:
    for person in people(connection):
        if person.login == login:
            return person
    raise ConfigurationError(f"There is no user named {login}.")


def _verifier(connection: Connection, login: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL keeps instead of the password, made by
    libpq on this computer (with PostgreSQL's own SASLprep of non-ASCII passwords)."""
    driver = connection.connection.driver_connection
    pgconn = getattr(driver, "pgconn", None)
    if pgconn is None:  # pragma: no cover - always psycopg 3 here
        raise ConfigurationError("This database driver cannot make a password verifier.")
    return bytes(
        pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    ).decode("ascii")


def _call(connection: Connection, statement: str, values: dict[str, str]) -> list[Row[Any]]:
    """Runs one of the people functions in a savepoint (the caller commits); the
    database's refusal becomes one sentence, and the statement (which may hold a
    verifier) is never part of it."""
    savepoint = connection.begin_nested()
    try:
        result = connection.execute(text(statement), values)
        rows = list(result.all()) if result.returns_rows else []
    except DBAPIError as error:
        savepoint.rollback()
        raise _sentence(connection, error) from None
    savepoint.commit()
    return rows


def _sentence(connection: Connection, error: DBAPIError) -> UserFacingError:
    original = error.orig
    message = ""
    if isinstance(original, psycopg.Error) and original.diag.message_primary:
        message = original.diag.message_primary
    if isinstance(original, psycopg.errors.InsufficientPrivilege):
        if message.startswith("Your role"):
            return PermissionDenied(message)
        # Refused before the function ran (only admins may call it): say it the same way.
        role = who_am_i(connection).role
        if role is None:
            return PermissionDenied("Only an admin may add or change users.")
        return PermissionDenied(refusal(role, Action.PEOPLE))
    if isinstance(original, psycopg.errors.UndefinedFunction):
        return ConfigurationError(
            "This database has no people yet: run python main.py db upgrade on it first."
        )
    sqlstate = original.sqlstate if isinstance(original, psycopg.Error) else None
    if sqlstate in ("22023", "42710", "42704") and message:
        return ConfigurationError(message)
    return ConfigurationError(f"The server refused the change ({type(original).__name__}).")
