"""Leads from the command line:

    python main.py leads import FILE.csv
    python main.py leads set-token --token-stdin | --generate

``import`` reads a phone system's call log (time, caller number, caller name, duration,
answered or missed): every row is checked first, and nothing is stored unless all of
them are good; a call already imported is skipped. ``set-token`` keeps the lead
endpoint's bearer token, hashed, in the ``lead_token`` setting.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from dispatch_app.config import DatabaseChoice


def add_leads_parser(commands: argparse._SubParsersAction[Any]) -> None:
    leads = commands.add_parser("leads", help="leads: import a call log, the endpoint's token")
    actions = leads.add_subparsers(dest="leads_command", metavar="ACTION", required=True)
    bring = actions.add_parser(
        "import", help="add the calls of a phone system's call log (CSV; all or nothing)"
    )
    bring.add_argument("path", type=Path, metavar="FILE.csv")
    token = actions.add_parser(
        "set-token", help="the bearer token web forms send to the lead endpoint (kept hashed)"
    )
    how = token.add_mutually_exclusive_group(required=True)
    how.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    how.add_argument(
        "--generate", action="store_true", help="make a new random token and print it once"
    )


def run_leads_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    if args.leads_command == "import":
        from dispatch_app.cli_leads_import import run_import

        return run_import(args, choice)
    from dispatch_app.cli_leads_token import run_set_token

    return run_set_token(args, choice)
