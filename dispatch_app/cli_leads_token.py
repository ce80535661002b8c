"""``python main.py leads set-token --token-stdin | --generate``: the lead endpoint's
bearer token, kept hashed in the ``lead_token`` setting (an admin's right).

The token is never an argument (a process list shows those): it comes on standard
input, or is made here and printed once — alone on stdout, so a script can capture
it, with the sentence on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from dispatch_app.config import DatabaseChoice
from dispatch_app.errors import ConfigurationError


def run_set_token(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import _clock, checked_database
    from dispatch_app.services.leads.token import new_token

    if args.generate:
        token = new_token()
    else:
        if sys.stdin.isatty():
            raise ConfigurationError(
                "--token-stdin reads the token from standard input: pipe it in "
                '(printf %s "$TOKEN" | python main.py leads set-token --token-stdin), '
                "or use --generate."
            )
        token = _one_line(sys.stdin.read())
    with checked_database(choice) as url:
        asyncio.run(_set(url, token, _clock(args)))
    if args.generate:
        print(
            "The lead endpoint's new token is below. It is not shown again: put it in the "
            "web form's or answering service's settings now.",
            file=sys.stderr,
        )
        print(token)
    else:
        print("The lead endpoint's token is set.")
    return 0


def _one_line(read: str) -> str:
    """What was piped in, less the one line break ``echo`` adds."""
    if read.endswith("\r\n"):
        return read[:-2]
    return read.removesuffix("\n")


async def _set(url: str, token: str, clock: Any) -> None:
    from dispatch_app.services.leads.token import set_lead_token
    from dispatch_app.services.workspace import Workspace

    workspace = Workspace.connect(url, clock=clock)
    try:
        await workspace.run(set_lead_token, token)
    finally:
        await workspace.aclose()
