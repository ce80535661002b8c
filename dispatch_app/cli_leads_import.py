"""``python main.py leads import FILE.csv``: a phone system's call log added as leads
(the columns it reads are in ``domain/call_log``; all rows or none)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.call_log import MOST_BYTES, too_big
from dispatch_app.domain.clock import Clock
from dispatch_app.services.files import read_bounded_file

if TYPE_CHECKING:
    from dispatch_app.services.leads.call_log import CallLogImport


def run_import(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import _clock, checked_database

    data = read_call_log_file(args.path)  # before the database: a wrong path says so at once
    with checked_database(choice) as url:
        imported = asyncio.run(_import(url, data, _clock(args)))
    print(imported.sentence())
    return 0


async def _import(url: str, data: bytes, clock: Clock) -> CallLogImport:
    from dispatch_app.services.leads.call_log import import_call_log
    from dispatch_app.services.workspace import Workspace

    workspace = Workspace.connect(url, clock=clock)
    try:
        # A bad file is a ValidationError whose sentence lists its rows: the CLI's main
        # prints it on stderr and exits non-zero.
        return await workspace.run(import_call_log, data, clock=clock)
    finally:
        await workspace.aclose()


def read_call_log_file(path: Path) -> bytes:
    """The file's bytes, once it is known to be an ordinary file of a sensible size."""
    return read_bounded_file(path, most_bytes=MOST_BYTES, too_big=too_big)
