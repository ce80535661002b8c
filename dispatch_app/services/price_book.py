"""Importing and exporting the price book (``domain/price_book_csv`` reads and writes the
file).

An import writes nothing unless every row of the file is good, then adds and changes
parts by code in one transaction; a part whose row is the same as the book's is left
alone (its version does not move), and parts the file does not name stay as they are
(an import never removes: mark a part inactive instead). Only a manager may change the
price book: the database refuses anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.price_book_csv import (
    MOST_BYTES,
    PriceBookFileError,
    PriceBookRow,
    read_price_book_columns,
    too_big,
    write_price_book,
)
from dispatch_app.errors import ConfigurationError, OutputFailed, ValidationError
from dispatch_app.services.files import read_bounded_file

# Windows opens files as text unless told otherwise; elsewhere there is no such flag.
O_BINARY = getattr(os, "O_BINARY", 0)
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
# Rows sent in one statement: a 20,000-part book is 20 round trips, not 20,000, which
# matters on an office's server across a VPN.
BATCH = 1_000


def upsert(columns: frozenset[str]) -> TextClause:
    """Add parts, or change the columns the file has where they differ; one row back for
    each part added or changed (``added`` says which)."""
    changed = [column for name, column in COLUMNS.items() if name in columns]
    mine = ", ".join(f"parts.{column}" for column in changed)
    theirs = ", ".join(f"excluded.{column}" for column in changed)
    return text(
        "INSERT INTO parts (sku, name, kind, trade, unit, cost, unit_price, taxable, active) "
        "SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), "
        "CAST(:kinds AS text[]), CAST(:trades AS text[]), CAST(:units AS text[]), "
        "CAST(:costs AS numeric[]), CAST(:prices AS numeric[]), "
        "CAST(:taxables AS boolean[]), CAST(:actives AS boolean[])) "
        "ON CONFLICT (sku) DO UPDATE SET "
        + ", ".join(f"{column} = excluded.{column}" for column in changed)
        + f" WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs}) RETURNING (xmax = 0) AS added"
    )


def import_rows(
    connection: Connection, rows: list[PriceBookRow], columns: frozenset[str] = frozenset(COLUMNS)
) -> ImportResult:
    """Write checked rows (their codes unique) in the caller's transaction."""
    statement = upsert(columns | {"name", "price"})
    added = changed = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        done = connection.execute(
            statement,
            {
                "codes": [row.code for row in batch],
                "names": [row.name for row in batch],
                "kinds": [row.kind for row in batch],
                "trades": [row.trade for row in batch],
                "units": [row.unit for row in batch],
                "costs": [row.cost for row in batch],
                "prices": [row.price for row in batch],
                "taxables": [row.taxable for row in batch],
                "actives": [row.active for row in batch],
            },
        ).all()
        # Parts the same as the book's are not returned.
        news = sum(1 for row in done if row.added)
        added += news
        changed += len(done) - news
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
    """The app's import: the file checked first, then one transaction. The check runs in
    a worker thread: a big file takes seconds, and the caller's loop is the GUI's."""
    rows, columns = await asyncio.to_thread(checked_rows, data)
    async with sessions() as session, session.begin():
        return await session.run_sync(lambda sync: import_rows(sync.connection(), rows, columns))


async def export_price_book_file(sessions: async_sessionmaker[AsyncSession]) -> bytes:
    async with sessions() as session:
        rows = await session.run_sync(lambda sync: book_rows(sync.connection()))
    return write_price_book(rows)


# -- files -------------------------------------------------------------------------
def read_price_book_file(path: Path) -> bytes:
    """The file's bytes, once it is known to be an ordinary file of a sensible size."""
    return read_bounded_file(path, most_bytes=MOST_BYTES, too_big=too_big)


def write_price_book_file(path: Path, data: bytes, *, replace: bool) -> None:
    """Write beside the target, then move into place: a reader never sees half a file."""
    if path.is_dir():
        raise ConfigurationError(f"{path} is a folder; give the CSV file's name.")
    if path.exists() and not replace:
        raise ConfigurationError(f"{path} already exists; add --replace to overwrite it.")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        # 0o666 less the umask, as any other file the person saves (mkstemp's is 0o600).
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, 0o666)
    except OSError as error:
        raise OutputFailed(f"{path} could not be written ({error.strerror}).") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on disk before it takes the name
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise OutputFailed(f"{path} could not be written ({error.strerror}).") from None


async def price_book(sessions: async_sessionmaker[AsyncSession]) -> list[PriceBookRow]:
    """Every part and service, by code."""
    async with sessions() as session:
        return await session.run_sync(lambda sync: book_rows(sync.connection()))
