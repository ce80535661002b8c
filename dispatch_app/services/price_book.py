"""Importing and exporting the price book (``domain/price_book_csv`` reads and writes the
file).

An import writes nothing unless every row of the file is good, then adds and changes
parts by code in one transaction; a part whose row is the same as the book's is left
alone (its version does not move), and parts the file does not name stay as they are
(an import never removes: mark a part inactive instead). Only a manager may change the
price book: the database refuses anyone else.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.price_book_csv import (
    PriceBookFileError,
    PriceBookRow,
    read_price_book_columns,
    too_big,
    write_price_book,
)
from dispatch_app.errors import ConfigurationError, OutputFailed, ValidationError

# Problems shown at most; the rest are counted.
MOST_SHOWN = 50


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int

    def sentence(self, name: str) -> str:
        return (
            f"Imported {name}: {self.added} added, {self.changed} changed, "
            f"{self.unchanged} unchanged."
        )


class PriceBookRefused(ValidationError):
    """The file has problems; nothing was imported. ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MOST_SHOWN]
        if len(problems) > MOST_SHOWN:
            shown.append(f"… and {len(problems) - MOST_SHOWN} more.")
        super().__init__({"file": "\n".join([*shown, "Nothing was imported."])})
        self.problems = problems


def checked_rows(data: bytes) -> tuple[list[PriceBookRow], frozenset[str]]:
    """The file's rows and columns, once every row is good."""
    try:
        return read_price_book_columns(data)
    except PriceBookFileError as bad:
        raise PriceBookRefused(bad.problems) from None


# The book's column for each of the file's, in the order of the insert.
COLUMNS = {
    "name": "name",
    "kind": "kind",
    "trade": "trade",
    "unit": "unit",
    "cost": "cost",
    "price": "unit_price",
    "taxable": "taxable",
    "active": "active",
}


def upsert(columns: frozenset[str]) -> TextClause:
    """Add a part, or change the columns the file has where they differ."""
    changed = [column for name, column in COLUMNS.items() if name in columns]
    mine = ", ".join(f"parts.{column}" for column in changed)
    theirs = ", ".join(f"excluded.{column}" for column in changed)
    return text(
        "INSERT INTO parts (sku, name, kind, trade, unit, cost, unit_price, taxable, active) "
        "VALUES (:code, :name, :kind, :trade, :unit, :cost, :price, :taxable, :active) "
        "ON CONFLICT (sku) DO UPDATE SET "
        + ", ".join(f"{column} = excluded.{column}" for column in changed)
        + f" WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs}) RETURNING (xmax = 0) AS added"
    )


def import_rows(
    connection: Connection, rows: list[PriceBookRow], columns: frozenset[str] = frozenset(COLUMNS)
) -> ImportResult:
    """Write checked rows in the caller's transaction."""
    statement = upsert(columns | {"name", "price"})
    added = changed = 0
    for row in rows:
        done = connection.execute(
            statement,
            {
                "code": row.code,
                "name": row.name,
                "kind": row.kind,
                "trade": row.trade,
                "unit": row.unit,
                "cost": row.cost,
                "price": row.price,
                "taxable": row.taxable,
                "active": row.active,
            },
        ).first()
        if done is None:
            continue  # the same as the book's
        if done.added:
            added += 1
        else:
            changed += 1
    return ImportResult(added, changed, len(rows) - added - changed)


def book_rows(connection: Connection) -> list[PriceBookRow]:
    found = connection.execute(
        text(
            "SELECT sku, name, kind, trade, unit, cost, unit_price, taxable, active "
            "FROM parts ORDER BY sku"
        )
    )
    return [PriceBookRow(*row) for row in found]


def import_price_book(connection: Connection, data: bytes) -> ImportResult:
    """Check the whole file, then write it in the caller's transaction."""
    rows, columns = checked_rows(data)
    return import_rows(connection, rows, columns)


def export_price_book(connection: Connection) -> bytes:
    return write_price_book(book_rows(connection))


async def import_price_book_file(
    sessions: async_sessionmaker[AsyncSession], data: bytes
) -> ImportResult:
    """The app's import: the file checked first, then one transaction."""
    rows, columns = checked_rows(data)
    async with sessions() as session, session.begin():
        return await session.run_sync(lambda sync: import_rows(sync.connection(), rows, columns))


async def export_price_book_file(sessions: async_sessionmaker[AsyncSession]) -> bytes:
    async with sessions() as session:
        rows = await session.run_sync(lambda sync: book_rows(sync.connection()))
    return write_price_book(rows)


# -- files -------------------------------------------------------------------------
def read_price_book_file(path: Path) -> bytes:
    """The file's bytes, once it is known to be an ordinary file of a sensible size."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(f"There is no file {path}.") from None
    except OSError as error:
        raise ConfigurationError(f"{path} cannot be read ({error.strerror}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"{path} is not an ordinary file.")
    problem = too_big(info.st_size)
    if problem:
        raise ConfigurationError(problem)
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"{path} cannot be read ({error.strerror}).") from None


def write_price_book_file(path: Path, data: bytes, *, replace: bool) -> None:
    """Write beside the target, then move into place: a reader never sees half a file."""
    if path.is_dir():
        raise ConfigurationError(f"{path} is a folder; give the CSV file's name.")
    if path.exists() and not replace:
        raise ConfigurationError(f"{path} already exists; add --replace to overwrite it.")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".pricebook-", dir=folder)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(temporary)
        raise OutputFailed(f"{path} could not be written ({error.strerror}).") from None


async def price_book(sessions: async_sessionmaker[AsyncSession]) -> list[PriceBookRow]:
    """Every part and service, by code."""
    async with sessions() as session:
        return await session.run_sync(lambda sync: book_rows(sync.connection()))
