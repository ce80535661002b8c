"""How long the app takes to become useful.

    python -m benchmarks.startup [--runs 5]

Measures the embedded server's start on a fresh and on an existing data folder, its
stop, migrating an empty database to head, loading the demo company's day, backing the
demo company up (the daily backup at start) and restoring it into an empty database,
and the whole ``main.py --screenshot`` process on the demo company (start → PNG written).
Everything runs in throwaway folders and databases. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.db.engine import make_async_engine, make_sync_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.services.backup import back_up, restore_backup
from dispatch_app.services.database import migrate_now
from dispatch_app.services.day_board import load_day
from dispatch_app.services.demo import seed_demo

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 12, 1)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def embedded_figures(runs: int) -> dict[str, float]:
    fresh, existing, stop = [], [], []
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="dsb"))
        try:
            server = EmbeddedServer(folder)
            began = time.perf_counter()
            server.start()
            fresh.append(time.perf_counter() - began)
            began = time.perf_counter()
            server.stop()
            stop.append(time.perf_counter() - began)
            began = time.perf_counter()
            server.start()
            existing.append(time.perf_counter() - began)
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "embedded_fresh_start_ms": ms(statistics.median(fresh)),
        "embedded_existing_start_ms": ms(statistics.median(existing)),
        "embedded_stop_ms": ms(statistics.median(stop)),
    }


async def load_day_ms(url: str, runs: int) -> float:
    engine = make_async_engine(url)
    sessions = session_factory(engine)
    times = []
    try:
        for _ in range(runs):
            async with sessions() as session:
                began = time.perf_counter()
                await load_day(session, DAY)
                times.append(time.perf_counter() - began)
    finally:
        await engine.dispose()
    return ms(statistics.median(times))


def backup_figures(scratch: ScratchServer, url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        dump = back_up(url, Path(folder) / "demo.dump")
        backed_up = time.perf_counter() - began
        with scratch.database() as empty:
            began = time.perf_counter()
            restore_backup(
                empty,
                dump,
                replace=False,
                embedded=False,
                safety_folder=Path(folder),
                moment=dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC),
            )
            restored = time.perf_counter() - began
    return {
        "backup_demo_ms": ms(backed_up),
        "backup_demo_kb": round(dump.size_bytes / 1000, 1),
        "restore_demo_into_empty_ms": ms(restored),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    figures: dict[str, float] = embedded_figures(args.runs)
    scratch = ScratchServer()
    try:
        with scratch.database() as url:
            began = time.perf_counter()
            migrate_now(url)
            figures["migrate_empty_to_head_ms"] = ms(time.perf_counter() - began)
            engine = make_sync_engine(url)
            with Session(engine) as session, session.begin():
                began = time.perf_counter()
                seed_demo(
                    session, seed=7, now=dt.datetime.combine(DAY, dt.time(17), tzinfo=dt.UTC)
                )  # 11:00 in Chicago
            figures["seed_demo_ms"] = ms(time.perf_counter() - began)
            engine.dispose()
            figures["load_day_ms"] = asyncio.run(load_day_ms(url, args.runs))
            figures.update(backup_figures(scratch, url))

            shots = []
            with tempfile.TemporaryDirectory() as folder:
                env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DISPATCH_DATA_DIR": folder}
                env.pop("DISPATCH_DATABASE_URL", None)
                for run in range(args.runs):
                    png = Path(folder) / f"shot{run}.png"
                    began = time.perf_counter()
                    subprocess.run(
                        [
                            sys.executable,
                            str(ROOT / "main.py"),
                            "--database-url",
                            url,
                            "--day",
                            DAY.isoformat(),
                            "--screenshot",
                            str(png),
                        ],
                        check=True,
                        capture_output=True,
                        env=env,
                        timeout=120,
                    )
                    shots.append(time.perf_counter() - began)
            figures["screenshot_process_ms"] = ms(statistics.median(shots))
    finally:
        scratch.close()

    for key, value in figures.items():
        print(f"{key:32s} {value:10.1f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
