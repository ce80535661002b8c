"""``python main.py invoice pdf NUMBER --out FILE.pdf``: a posted invoice as a PDF file,
laid out by Qt's own text engine (no browser, no screen needed)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dispatch_app.config import DatabaseChoice
from dispatch_app.errors import ConfigurationError


def add_invoice_parser(commands: argparse._SubParsersAction[Any]) -> None:
    invoice = commands.add_parser("invoice", help="posted invoices: write one as a PDF file")
    actions = invoice.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)
    pdf = actions.add_parser("pdf", help="write a posted invoice as a PDF file (Letter)")
    pdf.add_argument("number", metavar="NUMBER", help="the invoice's number: INV-1001 or 1001")
    pdf.add_argument(
        "--out", required=True, type=Path, metavar="FILE.pdf", help="the PDF file to write"
    )
    pdf.add_argument(
        "--replace", action="store_true", help="overwrite FILE.pdf if it already exists"
    )


def run_invoice_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import checked_database, connected
    from dispatch_app.services.invoice_print import invoice_number, read_invoice_document

    # Everything the command line alone can refuse is said before a database is opened.
    number = invoice_number(args.number)
    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        raise ConfigurationError(f"The file {out} must end in .pdf.")
    if out.is_dir():
        raise ConfigurationError(f"{out} is a folder; give the PDF file's name.")
    if out.exists() and not args.replace:
        raise ConfigurationError(f"{out} already exists; add --replace to overwrite it.")
    with checked_database(choice) as url, connected(url) as connection:
        document = read_invoice_document(connection, number)
    # Qt lays out text only with an application object, which needs no screen offscreen.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from dispatch_app.ui.invoice_pdf import write_invoice_pdf

    try:
        write_invoice_pdf(document, out, replace=args.replace)
    except FileExistsError:
        raise ConfigurationError(f"{out} already exists; add --replace to overwrite it.") from None
    print(f"Wrote {document.number} to {out}.")
    return 0
