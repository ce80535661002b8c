"""What the roles cost a write: the same operations as the server's owner and as a
person's own login, whose writes pass the grants, the CSR guards, row-level security
and the audit trigger with the login's name.

    python -m benchmarks.roles [--moves 300] [--notes 300]

Seeds the demo company in a throwaway database with a dispatcher and a CSR login (both
dropped afterwards). Measures, one at a time with a short pause: a board move
(``move_visit``: the visit, its technicians' placement locks, the overlap check, the
audit row) as the owner and as the dispatcher; a note (``add_note``: row-level security
and the audit) as the owner and as the CSR; and the CSR's refusal of a move (the guard
raising its sentence). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from benchmarks.live_sync import DAY, Mover, seeded_mover
from dispatch_app.db import migrate
from dispatch_app.db.engine import make_async_engine, make_sync_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.errors import PermissionDenied
from dispatch_app.services.visits import move_visit
from dispatch_app.services.work_order.notes import add_note
from dispatch_app.services.workspace import explain_database_error

PAUSE_S = 0.005


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def timed(count: int, step: Callable[[int], Awaitable[None]]) -> list[float]:
    durations = []
    for index in range(count):
        began = time.perf_counter()
        await step(index)
        durations.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(PAUSE_S)
    return durations


async def measure(
    mover: Mover, owner_url: str, logins: dict[str, str], moves: int, notes: int
) -> dict[str, float]:
    engines = {who: make_async_engine(url) for who, url in {"owner": owner_url, **logins}.items()}
    sessions = {who: session_factory(engine) for who, engine in engines.items()}
    order_of = {}
    try:
        async with sessions["owner"]() as session:
            rows = await session.execute(text("SELECT id, work_order_id FROM visits"))
            order_of = dict(rows.all())

        def mover_for(who: str) -> Callable[[int], Awaitable[None]]:
            async def step(_index: int) -> None:
                visit_id, seen, starts, ends = mover.next()
                mover.versions[visit_id] = await move_visit(
                    sessions[who],
                    visit_id=visit_id,
                    seen_version=seen,
                    starts=starts,
                    ends=ends,
                    clock=mover.clock,
                )

            return step

        def noter(who: str) -> Callable[[int], Awaitable[None]]:
            orders = sorted(set(order_of.values()))

            async def step(index: int) -> None:
                await add_note(
                    sessions[who],
                    work_order_id=orders[index % len(orders)],
                    body=f"Called ahead, gate code {index:04d}",
                )

            return step

        async def refused(_index: int) -> None:
            visit_id, seen, starts, ends = mover.next()
            mover.turn -= 1  # the visit stays where it is: the next mover takes it
            mover.moves[visit_id] -= 1
            try:
                await move_visit(
                    sessions["csr"],
                    visit_id=visit_id,
                    seen_version=seen,
                    starts=starts,
                    ends=ends,
                    clock=mover.clock,
                )
            except Exception as error:
                said = explain_database_error(error, logins["csr"])
                if not isinstance(said, PermissionDenied):
                    raise
                return
            raise SystemExit("the CSR's move was not refused")

        # Warm each connection and plan cache first, unmeasured.
        for who in ("owner", "dispatcher"):
            await timed(5, mover_for(who))
        await timed(5, noter("owner"))
        await timed(5, noter("csr"))
        figures = {}
        for label, count, step in (
            ("move_owner", moves, mover_for("owner")),
            ("move_dispatcher", moves, mover_for("dispatcher")),
            ("note_owner", notes, noter("owner")),
            ("note_csr", notes, noter("csr")),
            ("refused_move_csr", min(moves, 100), refused),
        ):
            durations = await timed(count, step)
            figures[f"{label}_p50_ms"] = round(statistics.median(durations), 2)
            figures[f"{label}_p99_ms"] = round(percentile(durations, 0.99), 2)
            print(f"{label:<18} p50 {figures[f'{label}_p50_ms']:6.2f} ms   "
                  f"p99 {figures[f'{label}_p99_ms']:6.2f} ms   ({count})", flush=True)  # fmt: skip
        return figures
    finally:
        for engine in engines.values():
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--notes", type=int, default=300)
    args = parser.parse_args()
    scratch = ScratchServer()
    try:
        with scratch.database() as url:
            engine = make_sync_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            logins = {
                "dispatcher": scratch.login(url, "dispatcher"),
                "csr": scratch.login(url, "csr"),
            }
            mover = seeded_mover(url, DAY)
            figures = asyncio.run(measure(mover, url, logins, args.moves, args.notes))
            scratch.drop_logins()
    finally:
        scratch.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
