"""Importing and exporting the price book (``domain/price_book_csv`` reads and writes the
file).

An import writes nothing unless every row of the file is good, then adds and changes
parts by code in one transaction; a part whose row is the same as the book's is left
alone (its version does not move), and parts the file does not name stay as they are
(an import never removes: mark a part inactive instead). Only a manager may change the
price book: the database refuses anyone else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.price_book_csv import (
    PriceBookFileError,
    PriceBookRow,
    read_price_book,
    write_price_book,
)
from dispatch_app.errors import ValidationError

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


def checked_rows(data: bytes) -> list[PriceBookRow]:
    try:
        return read_price_book(data)
    except PriceBookFileError as bad:
        raise PriceBookRefused(bad.problems) from None


UPSERT = text(
    """
    INSERT INTO parts (sku, name, kind, trade, unit, cost, unit_price, taxable, active)
    VALUES (:code, :name, :kind, :trade, :unit, :cost, :price, :taxable, :active)
    ON CONFLICT (sku) DO UPDATE SET
        name = excluded.name, kind = excluded.kind, trade = excluded.trade,
        unit = excluded.unit, cost = excluded.cost, unit_price = excluded.unit_price,
        taxable = excluded.taxable, active = excluded.active
    WHERE (parts.name, parts.kind, parts.trade, parts.unit, parts.cost, parts.unit_price,
           parts.taxable, parts.active)
          IS DISTINCT FROM
          (excluded.name, excluded.kind, excluded.trade, excluded.unit, excluded.cost,
           excluded.unit_price, excluded.taxable, excluded.active)
    RETURNING (xmax = 0) AS added
    """
)


def import_rows(connection: Connection, rows: list[PriceBookRow]) -> ImportResult:
    """Write checked rows in the caller's transaction."""
    added = changed = 0
    for row in rows:
        done = connection.execute(
            UPSERT,
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
    return import_rows(connection, checked_rows(data))


def export_price_book(connection: Connection) -> bytes:
    return write_price_book(book_rows(connection))


async def import_price_book_file(
    sessions: async_sessionmaker[AsyncSession], data: bytes
) -> ImportResult:
    """The app's import: the file checked first, then one transaction."""
    rows = checked_rows(data)
    async with sessions() as session, session.begin():
        return await session.run_sync(lambda sync: import_rows(sync.connection(), rows))


async def export_price_book_file(sessions: async_sessionmaker[AsyncSession]) -> bytes:
    async with sessions() as session:
        rows = await session.run_sync(lambda sync: book_rows(sync.connection()))
    return write_price_book(rows)
