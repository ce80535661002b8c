"""``python main.py pricebook import FILE.csv`` and ``pricebook export FILE.csv``: the
price book to and from a spreadsheet (columns in ``domain/price_book_csv``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.price_book_csv import too_big
from dispatch_app.errors import ConfigurationError, OutputFailed


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


def read_csv_file(path: Path) -> bytes:
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


def write_file_atomically(path: Path, data: bytes, *, replace: bool) -> None:
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


def run_price_book_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import checked_database, connected
    from dispatch_app.domain.price_book_csv import write_price_book
    from dispatch_app.services.price_book import (
        PriceBookRefused,
        book_rows,
        checked_rows,
        import_rows,
    )

    path: Path = args.path
    if args.pricebook_command == "import":
        data = read_csv_file(path)
        try:
            rows = checked_rows(data)  # the whole file, before the database is opened
        except PriceBookRefused as refused:
            print(refused.fields["file"], file=sys.stderr)
            return refused.exit_code
        with checked_database(choice) as url, connected(url) as connection:
            result = import_rows(connection, rows)
            connection.commit()
        print(result.sentence(path.name))
        return 0
    if path.exists() and not args.replace:
        raise ConfigurationError(f"{path} already exists; add --replace to overwrite it.")
    with checked_database(choice) as url, connected(url) as connection:
        book = book_rows(connection)
    write_file_atomically(path, write_price_book(book), replace=args.replace)
    print(f"Wrote {len(book)} parts and services to {path}.")
    return 0
