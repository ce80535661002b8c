"""The wall display from the command line:

    python main.py wall [--windowed] [--no-map] [--screenshot PATH] [--size WxH]
                        [--day YYYY-MM-DD] [--now MOMENT]

A read-only full-screen view for a TV: today's board, figures, map and clock, live
through any outage. On a shared server it logs in as the URL's login (a viewer is
enough); without one it opens the single PC's embedded database, as the app does.
``--screenshot``, ``--size``, ``--day`` and ``--now`` may also come before ``wall``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from dispatch_app.cli import _clock, _date, _moment, _size, writable_data_dir
from dispatch_app.config import DatabaseChoice, data_dir
from dispatch_app.errors import ConfigurationError


def add_wall_parser(commands: argparse._SubParsersAction[Any]) -> None:
    wall = commands.add_parser(
        "wall", help="the read-only wall display: today's board, figures and map, full screen"
    )
    wall.add_argument(
        "--windowed", action="store_true", help="a 1600x900 window instead of full screen"
    )
    wall.add_argument(
        "--no-map", action="store_true", help="the board across the whole width, no map"
    )
    # The top-level options again, so they may follow the command; given nowhere, the
    # top level's defaults stand.
    keep = argparse.SUPPRESS
    wall.add_argument(
        "--screenshot",
        type=Path,
        metavar="PATH",
        default=keep,
        help="start offscreen at 1920x1080, save the loaded display as a PNG and exit",
    )
    wall.add_argument("--size", type=_size, metavar="WxH", default=keep, help="window size")
    wall.add_argument(
        "--day", type=_date, metavar="YYYY-MM-DD", default=keep, help="another day than today"
    )
    wall.add_argument(
        "--now", type=_moment, metavar="MOMENT", default=keep, help="run as if it were then"
    )


def run_wall_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    if args.screenshot is not None:
        # A screenshot needs no screen: render offscreen unless told otherwise.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if args.screenshot.suffix.lower() != ".png":
            raise ConfigurationError(f"The screenshot path {args.screenshot} must end in .png.")
    # The embedded server lives in the data folder; a shared server needs nothing there.
    folder = writable_data_dir() if choice.embedded else data_dir()
    from PySide6.QtCore import QSize

    from dispatch_app.ui.wall.app import WallOptions, run_wall

    size = QSize(*args.size) if args.size else (QSize(1600, 900) if args.windowed else None)
    return run_wall(
        WallOptions(
            database=choice,
            data_dir=folder,
            screenshot=args.screenshot,
            size=size,
            day=args.day,
            clock=_clock(args),
            show_map=not args.no_map,
        )
    )
