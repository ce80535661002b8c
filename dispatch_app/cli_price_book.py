"""``python main.py pricebook import FILE.csv`` and ``pricebook export FILE.csv``: the
price book to and from a spreadsheet (columns in ``domain/price_book_csv``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from dispatch_app.config import DatabaseChoice
from dispatch_app.errors import ConfigurationError, PermissionDenied


def add_price_book_parser(commands: argparse._SubParsersAction[Any]) -> None:
    book = commands.add_parser("pricebook", help="the price book to and from a CSV file")
    actions = book.add_subparsers(dest="pricebook_command", metavar="ACTION", required=True)
    bring = actions.add_parser(
        "import", help="add and change parts and services from a CSV file (all or nothing)"
    )
    bring.add_argument("path", type=Path, metavar="FILE.csv")
    out = actions.add_parser("export", help="write the whole price book to a CSV file")
    out.add_argument("path", type=Path, metavar="FILE.csv")
    out.add_argument("--replace", action="store_true", help="overwrite FILE.csv if it exists")


def run_price_book_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import checked_database, connected
    from dispatch_app.domain.price_book_csv import write_price_book
    from dispatch_app.services.price_book import (
        PriceBookRefused,
        book_rows,
        checked_rows,
        import_rows,
        read_price_book_file,
        write_price_book_file,
    )

    path: Path = args.path
    if args.pricebook_command == "import":
        data = read_price_book_file(path)
        try:
            rows, columns = checked_rows(data)  # the whole file, before the database opens
        except PriceBookRefused as refused:
            print(refused.fields["file"], file=sys.stderr)
            return refused.exit_code
        with checked_database(choice) as url, connected(url) as connection:
            try:
                result = import_rows(connection, rows, columns)
            except DBAPIError as error:
                denied = _refusal(error, url)
                if denied is None:
                    raise
                raise denied from None
            connection.commit()
        print(result.sentence(path.name))
        return 0
    if path.exists() and not args.replace:
        raise ConfigurationError(f"{path} already exists; add --replace to overwrite it.")
    with checked_database(choice) as url, connected(url) as connection:
        book = book_rows(connection)
    write_price_book_file(path, write_price_book(book), replace=args.replace)
    print(f"Wrote {len(book)} parts and services to {path}.")
    return 0


def _refusal(error: DBAPIError, url: str) -> PermissionDenied | None:
    """The grants' refusal said as what it means here; None for any other failure."""
    import psycopg

    if not isinstance(error.orig, psycopg.errors.InsufficientPrivilege):
        return None
    login = make_url(url).username or "this login"
    return PermissionDenied(
        f"Only a manager may change the price book, and the database refused {login}; "
        "nothing was imported."
    )
