"""Live sync latency: a committed move → every workstation's day store holds it.

    python -m benchmarks.live_sync --clients N [--moves 300] [--interval-ms 10]
                                   [--day 2026-12-01] [--server auto|private]

Seeds the demo company in a throwaway database, starts N client processes that each run
the real ChangeFeed + DayStore on asyncio, and commits ``--moves`` visit moves through
``move_visit`` at a steady pace. Each client stamps the moment its store holds a new
version; the latency is that stamp minus the moment the writer's commit returned
(``time.perf_counter_ns``: CLOCK_MONOTONIC on Linux, QueryPerformanceCounter on Windows,
both system-wide, so stamps compare across processes). A second phase measures bare
LISTEN/NOTIFY on the same channel with N plain psycopg listener processes and plain
UPDATE commits, which is the floor under our layers.

Where the time goes: the clients pass a trace to their ``LiveDay``, which stamps every
hint at each stage — the loop saw the listener's socket readable, the feed handed the
hint over, the store's read for it started, its rows came back, the store applied them —
and the report gives each stage's share, over all deliveries and over the slowest 1 %.
Beside it, what a stall would need: each client's CPU per change, how long it waited
for a CPU (Linux schedstat), and its longest garbage-collector pause.

``--server private`` runs on a private embedded server sized for 2N connections (each
client holds two), for when the usual server has too few to spare. The last line of the
output is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import datetime as dt
import gc
import json
import math
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psutil
import psycopg
from sqlalchemy.orm import Session

from dispatch_app.config import DATABASE_URL_ENV, libpq_url
from dispatch_app.db.change_feed import ChangeHint, FeedState
from dispatch_app.db.engine import make_async_engine, make_sync_engine, session_factory
from dispatch_app.db.models import CHANGE_CHANNEL
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.visit_status import FINISHED_STATUSES
from dispatch_app.services.database import migrate_now
from dispatch_app.services.day_board import load_day
from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.demo import seed_demo
from dispatch_app.services.live_day import LiveDay
from dispatch_app.services.visits import move_visit

DAY = dt.date(2026, 12, 1)
STEP = dt.timedelta(minutes=15)
# How long clients keep waiting for the last versions after the last commit.
GRACE_S = 10.0
# Children that ignore SIGTERM this long are killed.
TERMINATE_WAIT_S = 5.0
ROOT = Path(__file__).resolve().parents[1]

Record = tuple[int, int, int]  # visit id, version, time.perf_counter_ns()

# The trace's stages in order; each row of the breakdown is the step into one of them.
STAGES: tuple[tuple[str, str], ...] = (
    ("readable", "commit → socket readable"),
    ("handed", "readable → hint handed over"),
    ("reading", "handed → store read starts"),
    ("fetched", "read starts → rows back"),
    ("applied", "rows back → store applied"),
)


# -- figures --------------------------------------------------------------------------


def ms(ns: float) -> float:
    return ns / 1e6


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value at or above ``q`` of the sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def first_holding(commits: Sequence[Record], records: Sequence[Record]) -> list[float | None]:
    """Per commit, ns from its return until a record of that version or a newer one.

    A coalesced hint may skip an intermediate version; the store then holds data at
    least that new from the moment the newer version arrived.
    """
    by_visit: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for visit_id, version, stamp in records:
        by_visit[visit_id].append((version, stamp))
    # Per visit: versions ascending, and the earliest stamp of that version or newer.
    earliest: dict[int, tuple[list[int], list[int]]] = {}
    for visit_id, held in by_visit.items():
        held.sort()
        versions = [version for version, _ in held]
        soonest = [stamp for _, stamp in held]
        for i in range(len(soonest) - 2, -1, -1):
            soonest[i] = min(soonest[i], soonest[i + 1])
        earliest[visit_id] = versions, soonest
    latencies: list[float | None] = []
    for visit_id, version, committed in commits:
        versions, soonest = earliest.get(visit_id, ([], []))
        at = bisect.bisect_left(versions, version)
        latencies.append(soonest[at] - committed if at < len(versions) else None)
    return latencies


# -- children -------------------------------------------------------------------------


class Children:
    """Child processes with line-reading threads; ``close()`` ends every one of them."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        self.lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
        # One stderr file per child: a shared one would interleave and overwrite.
        self._logs = Path(tempfile.mkdtemp(prefix="live_sync_"))

    def start(self, argv: list[str]) -> None:
        index = len(self.processes)
        with open(self._logs / f"{index}.log", "w") as stderr:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        self.processes.append(process)
        threading.Thread(target=self._read, args=(index, process.stdout), daemon=True).start()

    def _read(self, index: int, stream: TextIO | None) -> None:
        assert stream is not None
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                self.lines.put((index, line.rstrip("\n")))
        self.lines.put((index, None))

    def collect(self, wanted: Callable[[str], bool], timeout: float, what: str) -> dict[int, str]:
        """The first wanted line of every child, or an error naming who is late."""
        found: dict[int, str] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(self.processes):
            try:
                index, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                late = sorted(set(range(len(self.processes))) - set(found))
                raise TimeoutError(
                    f"{len(late)} children not {what} within {timeout:.0f} s "
                    f"(#{late[:5]}){self.stderr_of(late[0])}"
                ) from None
            if line is None and index not in found:
                raise RuntimeError(f"child #{index} exited before {what}{self.stderr_of(index)}")
            if line is not None and index not in found and wanted(line):
                found[index] = line
        return found

    def send(self, line: str) -> None:
        for process in self.processes:
            if process.stdin is not None and process.poll() is None:
                with contextlib.suppress(OSError):
                    process.stdin.write(line + "\n")
                    process.stdin.flush()

    def stderr_of(self, index: int, lines: int = 8) -> str:
        try:
            tail = (self._logs / f"{index}.log").read_text().strip().splitlines()[-lines:]
        except OSError:
            return ""
        return ("\n  its stderr:\n  " + "\n  ".join(tail)) if tail else ""

    def complaints(self) -> list[str]:
        """The first stderr line of each child that wrote any."""
        found = []
        for index in range(len(self.processes)):
            with contextlib.suppress(OSError):
                text = (self._logs / f"{index}.log").read_text().strip()
                if text:
                    found.append(f"#{index}: {text.splitlines()[0][:160]}")
        return found

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + TERMINATE_WAIT_S
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=TERMINATE_WAIT_S)
        for process in self.processes:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        shutil.rmtree(self._logs, ignore_errors=True)


def child_argv(mode: str, url: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.live_sync",
        mode,
        url,
        "--day",
        args.day.isoformat(),
        "--max-seconds",
        str(args.child_max_s),
    ]


def stdin_line_future(loop: asyncio.AbstractEventLoop) -> asyncio.Future[str]:
    """The next stdin line ('' on EOF), read by a daemon thread so exit never waits."""
    future: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not future.done():
            future.set_result(line)

    def read() -> None:
        line = sys.stdin.readline()
        loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, daemon=True).start()
    return future


# -- the store client (a child process) -------------------------------------------------


async def store_client(url: str, day: dt.date) -> None:
    """One workstation: the app's own ``LiveDay`` wiring, timed from the outside."""
    applied: list[Record] = []
    hinted: list[Record] = []
    stages: dict[str, list[Record]] = {stage: [] for stage, _ in STAGES}
    refreshes: list[tuple[int, int, int]] = []  # apply_hints called, returned, hints
    errors: list[str] = []
    pauses: list[tuple[int, int]] = []  # garbage collections: generation, ns

    def on_change(change: StoreChange) -> None:
        now = time.perf_counter_ns()
        for visit in change.visits_upserted:
            applied.append((visit.id, visit.version, now))

    def on_hints(hints: list[ChangeHint]) -> None:
        now = time.perf_counter_ns()
        hinted.extend((h.id, h.version or 0, now) for h in hints if h.table == "visits")

    def trace(stage: str, hints: Sequence[ChangeHint], at: int) -> None:
        stages[stage].extend(
            (h.id, h.version, at) for h in hints if h.table == "visits" and h.version is not None
        )

    collecting: list[int] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting[:] = [time.perf_counter_ns()]
        elif collecting:
            pauses.append((info["generation"], time.perf_counter_ns() - collecting[0]))

    engine = make_async_engine(url)
    live = LiveDay(url, session_factory(engine), day, on_hints=on_hints, trace=trace)
    store = live.store
    apply_hints = store.apply_hints

    async def timed_apply(hints: Iterable[ChangeHint]) -> StoreChange:
        batch = list(hints)
        called = time.perf_counter_ns()
        try:
            return await apply_hints(batch)
        except Exception as error:  # a lost refresh shows as missing versions
            errors.append(repr(error)[:200])
            raise
        finally:
            refreshes.append((called, time.perf_counter_ns(), len(batch)))

    store.apply_hints = timed_apply  # type: ignore[method-assign]
    store.subscribe(on_change)
    await live.start()
    try:
        while live.feed.state != FeedState.LIVE:
            await asyncio.sleep(0.005)
        cpu_at_ready = time.process_time()
        waited_at_ready = cpu_wait_ns()
        gc.callbacks.append(on_collection)
        print("ready", flush=True)
        line = await stdin_line_future(asyncio.get_running_loop())
        if not line:
            return  # the parent is gone
        cpu_s = time.process_time() - cpu_at_ready
        waited = cpu_wait_ns()
        order = json.loads(line)
        final = {int(k): v for k, v in order["final"].items()}
        deadline = time.monotonic() + order["grace_s"]
        while time.monotonic() < deadline and any(
            (store.version_of(visit_id) or 0) < version for visit_id, version in final.items()
        ):
            await asyncio.sleep(0.005)
        print(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "applied": applied,
                    "hinted": hinted,
                    "stages": stages,
                    "refreshes": refreshes,
                    "errors": errors,
                    "connects": live.feed.connects,
                    "cpu_s": cpu_s,
                    "cpu_wait_s": None
                    if waited is None or waited_at_ready is None
                    else (waited - waited_at_ready) / 1e9,
                    "gc_pauses": pauses,
                }
            ),
            flush=True,
        )
    finally:
        gc.callbacks[:] = [c for c in gc.callbacks if c is not on_collection]
        await live.stop()
        await engine.dispose()


def cpu_wait_ns() -> int | None:
    """How long this process has waited, runnable, for a CPU (Linux only)."""
    try:
        with open("/proc/self/schedstat") as stats:
            return int(stats.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None


# -- the raw listener (a child process) ------------------------------------------------


def raw_listener(url: str, max_s: float) -> None:
    """LISTEN with nothing on top: stamp each notification as psycopg hands it over."""
    deadline = time.monotonic() + max_s
    orders: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: orders.put(sys.stdin.readline()), daemon=True).start()
    received: list[tuple[str, int]] = []
    held: dict[int, int] = {}
    final: dict[int, int] | None = None
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as connection:
        connection.execute(f"LISTEN {CHANGE_CHANNEL}")
        print("ready", flush=True)
        while time.monotonic() < deadline:
            seen = len(received)
            for notify in connection.notifies(timeout=0.1):
                received.append((notify.payload, time.perf_counter_ns()))
            # Parsed only between waits, so the stamps carry no parsing.
            for payload, _ in received[seen:]:
                hint = ChangeHint.parse(payload)
                if hint is not None and hint.version is not None:
                    held[hint.id] = max(held.get(hint.id, 0), hint.version)
            if final is None:
                with contextlib.suppress(queue.Empty):
                    line = orders.get_nowait()
                    if not line:
                        return  # the parent is gone
                    order = json.loads(line)
                    final = {int(k): v for k, v in order["final"].items()}
                    deadline = min(deadline, time.monotonic() + order["grace_s"])
            if final is not None and all(held.get(v, 0) >= n for v, n in final.items()):
                break
    records = []
    for payload, stamp in received:
        hint = ChangeHint.parse(payload)
        if hint is not None and hint.table == "visits" and hint.version is not None:
            records.append((hint.id, hint.version, stamp))
    print(json.dumps({"pid": os.getpid(), "applied": records}), flush=True)


# -- the parent: server, data, writers ------------------------------------------------


@contextlib.contextmanager
def private_server(connections: int) -> Iterator[str]:
    """A private embedded server allowing ``connections``; gone afterwards."""
    from dispatch_app.db.embedded import EmbeddedServer

    folder = Path(tempfile.mkdtemp(prefix="dsl"))  # short: the socket path has a limit
    server = EmbeddedServer(folder)
    try:
        url = server.start()
        with psycopg.connect(libpq_url(url), autocommit=True) as admin:
            admin.execute(f"ALTER SYSTEM SET max_connections = {int(connections)}")
        server.stop()  # max_connections takes a restart
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def describe_server(url: str, origin: str) -> str:
    with psycopg.connect(libpq_url(url)) as db:
        version = db.execute("SHOW server_version").fetchone()
        over = db.execute("SELECT coalesce(inet_server_addr()::text, 'Unix socket')").fetchone()
    return f"{origin}, PostgreSQL {version[0] if version else '?'} via {over[0] if over else '?'}"


def spare_connections(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend'"
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Mover:
    """Round-robin over the day's assigned open visits (finished ones stay put); each
    goes 15 min out and back again."""

    visits: list[tuple[int, dt.datetime, dt.datetime]]  # id, starts, ends as seeded
    versions: dict[int, int]
    clock: FixedClock  # the company's now: that day, so the moves are within reach
    moves: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    turn: int = 0

    def next(self) -> tuple[int, int, dt.datetime, dt.datetime]:
        visit_id, starts, ends = self.visits[self.turn % len(self.visits)]
        self.turn += 1
        # Out later, unless that would leave the day; then out earlier.
        step = STEP if (ends + STEP).date() == starts.date() else -STEP
        shift = step if self.moves[visit_id] % 2 == 0 else dt.timedelta(0)
        self.moves[visit_id] += 1
        return visit_id, self.versions[visit_id], starts + shift, ends + shift


def seeded_mover(url: str, day: dt.date) -> Mover:
    engine = make_sync_engine(url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo(
                session, seed=7, now=dt.datetime.combine(day, dt.time(17), tzinfo=dt.UTC)
            )  # 11:00 in Chicago
    finally:
        engine.dispose()

    async def the_day() -> Mover:
        engine = make_async_engine(url)
        try:
            async with session_factory(engine)() as session:
                snapshot = await load_day(session, day)
        finally:
            await engine.dispose()
        visits = [
            (v.id, v.starts, v.ends) for v in snapshot.visits if v.status not in FINISHED_STATUSES
        ]
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=snapshot.timezone)
        return Mover(visits, {v.id: v.version for v in snapshot.visits}, FixedClock(noon))

    mover = asyncio.run(the_day())
    if not mover.visits:
        raise SystemExit(f"the demo company has no assigned visits on {day}")
    return mover


def pacing(count: int, interval_s: float) -> Iterator[int]:
    """Yield 0..count-1 at most once per interval; a late commit is not made up for
    with a burst, so the figures measure latency rather than a queue."""
    due = time.monotonic()
    for index in range(count):
        time.sleep(max(0.0, due - time.monotonic()))
        yield index
        due = max(due + interval_s, time.monotonic())


def move_with_dispatch_app(
    url: str, mover: Mover, count: int, interval_s: float
) -> tuple[list[Record], list[float]]:
    """Commits through ``move_visit``; the stamps are taken as each one returns."""

    async def write() -> tuple[list[Record], list[float]]:
        engine = make_async_engine(url, pool_size=1, editor="live_sync")
        sessions = session_factory(engine)
        commits: list[Record] = []
        durations: list[float] = []
        try:
            due = time.monotonic()
            for _ in range(count):
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                visit_id, seen, starts, ends = mover.next()
                began = time.perf_counter_ns()
                version = await move_visit(
                    sessions,
                    visit_id=visit_id,
                    seen_version=seen,
                    starts=starts,
                    ends=ends,
                    clock=mover.clock,
                )
                done = time.perf_counter_ns()
                mover.versions[visit_id] = version
                commits.append((visit_id, version, done))
                durations.append(done - began)
                due = max(due + interval_s, time.monotonic())
        finally:
            await engine.dispose()
        return commits, durations

    return asyncio.run(write())


def move_with_plain_sql(
    url: str, mover: Mover, count: int, interval_s: float
) -> tuple[list[Record], list[float]]:
    """The same moves as bare autocommit UPDATEs (the row triggers still NOTIFY)."""
    commits: list[Record] = []
    durations: list[float] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        for _ in pacing(count, interval_s):
            visit_id, seen, starts, ends = mover.next()
            began = time.perf_counter_ns()
            row = db.execute(
                "UPDATE visits SET starts = %s, ends = %s WHERE id = %s AND version = %s "
                "RETURNING version",
                (starts, ends, visit_id, seen),
            ).fetchone()
            done = time.perf_counter_ns()
            if row is None:
                raise RuntimeError(f"visit {visit_id} changed under the benchmark")
            mover.versions[visit_id] = row[0]
            commits.append((visit_id, row[0], done))
            durations.append(done - began)
    return commits, durations


class CpuMeter:
    """CPU seconds used meanwhile: by this benchmark, by the database server, by the rest.

    Other work on the machine skews every figure here, so it is shown. Processes that
    came and went meanwhile are missed, so "the rest" is a lower bound.
    """

    def __init__(self, ours: Callable[[], set[int]]) -> None:
        self._ours = ours

    def __enter__(self) -> CpuMeter:
        self.began = time.monotonic()
        self.load_before = os.getloadavg()[0]
        self.machine = psutil.cpu_times()
        self.processes = self._processes()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_s = time.monotonic() - self.began
        after = psutil.cpu_times()
        self.busy_s = (sum(after) - after.idle - after.iowait) - (
            sum(self.machine) - self.machine.idle - self.machine.iowait
        )
        ours = self._ours() | {os.getpid()}
        self.ours_s = self.server_s = 0.0
        self.rest: dict[str, float] = defaultdict(float)
        for pid, (name, cpu) in self._processes().items():
            used = cpu - self.processes.get(pid, (name, 0.0))[1]
            if pid in ours:
                self.ours_s += used
            elif name.startswith("postgres"):
                self.server_s += used
            else:
                self.rest[name] += used

    @staticmethod
    def _processes() -> dict[int, tuple[str, float]]:
        found = {}
        for process in psutil.process_iter(["name", "cpu_times"]):
            times = process.info["cpu_times"]
            if times is not None:
                name = process.info["name"] or ""
                used = times.user + times.system
                if name.startswith("postgres"):
                    # Backends that ended meanwhile live on in the postmaster's figures.
                    used += times.children_user + times.children_system
                found[process.pid] = (name, used)
        return found

    def describe(self) -> str:
        cores = psutil.cpu_count() or 1
        heaviest = sorted(self.rest.items(), key=lambda item: -item[1])[:2]
        named = ", ".join(f"{name} {used:.1f}" for name, used in heaviest if used >= 0.05)
        return (
            f"{self.wall_s:.1f} s, machine CPU busy {self.busy_s / self.wall_s / cores:.0%} "
            f"of {cores} cores: benchmark processes {self.ours_s:.1f} CPU-s, postgres (all "
            f"databases) {self.server_s:.1f}, everything else ≥ {sum(self.rest.values()):.1f}"
            f"{f' ({named})' if named else ''}; 1-min load average before: "
            f"{self.load_before:.1f}"
        )


@dataclass
class Phase:
    """One measured phase: the commits and what each child reported."""

    commits: list[Record]
    durations: list[float]
    reports: list[dict[str, Any]]
    cpu: CpuMeter
    complaints: list[str]
    latencies: list[list[float | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.latencies = [first_holding(self.commits, r["applied"]) for r in self.reports]

    def received(self) -> list[float]:
        return [ms(x) for per_client in self.latencies for x in per_client if x is not None]

    @property
    def expected(self) -> int:
        return len(self.commits) * len(self.reports)


def run_phase(
    mode: str,
    url: str,
    args: argparse.Namespace,
    mover: Mover,
    write: Callable[[str, Mover, int, float], tuple[list[Record], list[float]]],
) -> Phase:
    interval_s = args.interval_ms / 1000
    children = Children()
    try:
        for _ in range(args.clients):
            children.start(child_argv(mode, url, args))
        children.collect(lambda line: line == "ready", args.ready_s, "ready")
        before = dict(mover.versions)
        if args.warmup:
            # First queries of each shape compile and plan; a running app has done that.
            write(url, mover, args.warmup, interval_s)
            time.sleep(0.5)
        with CpuMeter(lambda: {p.pid for p in children.processes}) as cpu:
            commits, durations = write(url, mover, args.moves, interval_s)
            # A raw listener knows only what it was told, so only what moved in this phase.
            final = {v: n for v, n in mover.versions.items() if before.get(v) != n}
            children.send(json.dumps({"final": final, "grace_s": args.grace_s}))
            lines = children.collect(
                lambda line: line.startswith("{"), args.grace_s + 30, "reported"
            )
        reports = [json.loads(lines[index]) for index in range(args.clients)]
        complaints = children.complaints()
    finally:
        children.close()
    return Phase(commits, durations, reports, cpu, complaints)


# -- the report -----------------------------------------------------------------------


def refresh_service_ms(refreshes: Sequence[Sequence[int]]) -> list[float]:
    """Per apply_hints call: time from when it could start (called, and the previous one
    done: the store refreshes one at a time) until it returned."""
    service, previous_done = [], 0
    for called, done in sorted((called, done) for called, done, _ in refreshes):
        service.append(ms(done - max(called, previous_done)))
        previous_done = max(previous_done, done)
    return service


def stage_breakdown(store: Phase) -> list[str]:
    """Per step of the path, its latency over every delivery and its share of the slowest
    1 %: where the p99 goes."""
    steps: list[list[float]] = [[] for _ in STAGES]
    totals: list[float] = []
    stamped = 0
    for result in store.reports:
        reached = [first_holding(store.commits, result["stages"][stage]) for stage, _ in STAGES]
        for at in zip(*reached, strict=True):
            if any(t is None for t in at):
                continue
            stamped += 1
            previous = 0.0
            for step, t in zip(steps, at, strict=True):
                assert t is not None
                step.append(ms(t) - previous)
                previous = ms(t)
            totals.append(previous)
    lines = [
        f"where the time goes: ms per step, over {stamped}/{store.expected} deliveries stamped "
        "at every stage; the last columns are the slowest 1 % (commit → applied ≥ its p99)",
        f"{'step':32s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s}   "
        f"{'slow 1 %':>8s} {'share':>6s}",
    ]
    if not totals:
        return lines
    tail_from = percentile(totals, 0.99)
    tail = [i for i, total in enumerate(totals) if total >= tail_from]
    tail_total = statistics.fmean(totals[i] for i in tail)
    for (_, name), step in zip(STAGES, steps, strict=True):
        tail_mean = statistics.fmean(step[i] for i in tail)
        lines.append(
            f"{name:32s} {fmt(percentile(step, 0.5))} {fmt(percentile(step, 0.9))} "
            f"{fmt(percentile(step, 0.99))} {fmt(max(step))}   {fmt(tail_mean, 8)} "
            f"{tail_mean / tail_total if tail_total else math.nan:6.0%}"
        )
    lines.append(
        f"{'commit → store applied':32s} {fmt(percentile(totals, 0.5))} "
        f"{fmt(percentile(totals, 0.9))} {fmt(percentile(totals, 0.99))} {fmt(max(totals))}   "
        f"{fmt(tail_total, 8)}"
    )
    pauses = [ns for r in store.reports for _, ns in r["gc_pauses"]]
    full = [ns for r in store.reports for gen, ns in r["gc_pauses"] if gen == 2]
    waits = [r["cpu_wait_s"] for r in store.reports if r["cpu_wait_s"] is not None]
    lines.append(
        f"clients: {len(pauses)} garbage collections, {len(full)} of them full "
        f"(longest {ms(max(full, default=0)):.1f} ms); waited for a CPU "
        f"{statistics.fmean(waits) if waits else math.nan:.2f} s each on average"
    )
    return lines


def fmt(value: float, width: int = 7) -> str:
    return f"{'-':>{width}}" if math.isnan(value) else f"{value:{width}.1f}"


def rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def report(args: argparse.Namespace, server: str, store: Phase, raw: Phase) -> dict[str, Any]:
    span_s = max(1e-9, ms(store.commits[-1][2] - store.commits[0][2]) / 1000)
    print(f"server   {server}")
    print(
        f"writer   {args.moves} moves via move_visit (after {args.warmup} unmeasured), one per "
        f"{args.interval_ms:g} ms: {(len(store.commits) - 1) / span_s:.0f}/s achieved, "
        f"commit p50 {percentile([ms(d) for d in store.durations], 0.5):.1f} ms"
    )
    print(f"load     {store.cpu.describe()}")
    print()
    print(f"{args.clients} client processes, each a ChangeFeed + DayStore on asyncio:")
    print(
        "client      pid  p50 ms  p99 ms  max ms   received  hint p50  refreshes  refresh ms"
        "  cpu ms/chg  cpu wait s  gc max ms"
    )
    changes = len(store.commits) + args.warmup
    hint_latencies: list[float] = []
    for index, (result, latencies) in enumerate(zip(store.reports, store.latencies, strict=True)):
        got = [ms(x) for x in latencies if x is not None]
        hints = [ms(x) for x in first_holding(store.commits, result["hinted"]) if x is not None]
        hint_latencies += hints
        service = refresh_service_ms(result["refreshes"])
        extra = ""
        if result["errors"] or result["connects"] != 1:
            extra = f"  ({len(result['errors'])} errors, {result['connects']} connects)"
        print(
            f"#{index:<4} {result['pid']:>8} {fmt(percentile(got, 0.5))} "
            f"{fmt(percentile(got, 0.99))} {fmt(max(got, default=math.nan))} "
            f"{len(got):5d}/{len(latencies):<5d} {fmt(percentile(hints, 0.5), 8)}  "
            f"{len(result['refreshes']):9d}  {fmt(statistics.fmean(service or [math.nan]), 10)}"
            f"  {fmt(1000 * result['cpu_s'] / changes, 10)}"
            f"  {fmt(math.nan if result['cpu_wait_s'] is None else result['cpu_wait_s'], 10)}"
            f"  {fmt(max((ms(ns) for _, ns in result['gc_pauses']), default=0.0), 9)}"
            f"{extra}"
        )
    received = store.received()
    p50, p99 = percentile(received, 0.5), percentile(received, 0.99)
    print(
        f"{'all':14s} {fmt(p50)} {fmt(p99)} {fmt(max(received, default=math.nan))} "
        f"{len(received):5d}/{store.expected:<5d} {fmt(percentile(hint_latencies, 0.5), 8)}  "
        f"{sum(len(r['refreshes']) for r in store.reports):9d}"
    )
    print(
        f"  p50/p99/max: commit returned → the store holds that version (or a newer one);\n"
        f"  received: held within {args.grace_s:g} s of the last commit;\n"
        f"  hint p50: commit returned → the feed hands the hint over, "
        f"p99 {percentile(hint_latencies, 0.99):.1f} ms over all;\n"
        f"  refresh ms: mean time apply_hints took once it could start (refreshes queue);\n"
        f"  cpu ms/chg: the client's CPU time per committed change (warm-up included);\n"
        f"  cpu wait s: time runnable but waiting for a CPU; gc max ms: longest collection"
    )
    print()
    for line in stage_breakdown(store):
        print(line)
    print()
    raw_received = raw.received()
    raw_p50, raw_p99 = percentile(raw_received, 0.5), percentile(raw_received, 0.99)
    print(
        f"raw LISTEN/NOTIFY: {args.clients} listener processes (plain psycopg, one connection "
        f"each, nothing on top); the same moves as plain UPDATEs, one per {args.interval_ms:g} ms"
    )
    print(
        f"         commit returned → notification: p50 {raw_p50:.2f} ms, p99 {raw_p99:.2f} ms, "
        f"max {max(raw_received, default=math.nan):.2f} ms; received {len(raw_received)}/"
        f"{raw.expected}; commit p50 {percentile([ms(d) for d in raw.durations], 0.5):.1f} ms"
    )
    print(f"load     {raw.cpu.describe()}")
    for phase, name in ((store, "store clients"), (raw, "raw listeners")):
        if phase.complaints:
            print(f"{name} wrote to stderr: " + "; ".join(phase.complaints[:3]))
    return {
        "clients": args.clients,
        "moves": args.moves,
        "interval_ms": args.interval_ms,
        "p50_ms": rounded(p50),
        "p99_ms": rounded(p99),
        "max_ms": rounded(max(received, default=math.nan)),
        "received": len(received),
        "expected": store.expected,
        "hint_p50_ms": rounded(percentile(hint_latencies, 0.5)),
        "hint_p99_ms": rounded(percentile(hint_latencies, 0.99)),
        "raw_notify_p50_ms": rounded(raw_p50),
        "raw_notify_p99_ms": rounded(raw_p99),
        "raw_received": len(raw_received),
        "raw_expected": raw.expected,
        "server": server,
    }


def benchmark(args: argparse.Namespace) -> None:
    needed = 2 * args.clients + 3  # listener + query connection each, the writer, slack
    with contextlib.ExitStack() as stack:
        if args.server == "private":
            url = stack.enter_context(private_server(needed + 20))
            saved = os.environ.get(DATABASE_URL_ENV)
            os.environ[DATABASE_URL_ENV] = url
            try:
                scratch = ScratchServer()
            finally:
                if saved is None:
                    os.environ.pop(DATABASE_URL_ENV, None)
                else:
                    os.environ[DATABASE_URL_ENV] = saved
        else:
            scratch = ScratchServer()
        stack.callback(scratch.close)
        origin = "private embedded server" if args.server == "private" else scratch.origin
        url = stack.enter_context(scratch.database())
        spare = spare_connections(url)
        if spare < needed:
            raise SystemExit(
                f"{args.clients} clients need {needed} connections and the "
                f"server has {spare} to spare: run with --server private"
            )
        migrate_now(url)
        mover = seeded_mover(url, args.day)
        server = describe_server(url, origin)
        store = run_phase("--client", url, args, mover, move_with_dispatch_app)
        raw = run_phase("--raw-listener", url, args, mover, move_with_plain_sql)
    print(json.dumps(report(args, server, store, raw)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured moves first")
    parser.add_argument(
        "--grace-s",
        type=float,
        default=GRACE_S,
        help="how long after the last commit a version may still arrive",
    )
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DAY)
    parser.add_argument(
        "--server",
        choices=("auto", "private"),
        default="auto",
        help="auto: as tests choose; private: an embedded server sized for N",
    )
    # The children's modes.
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--raw-listener", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.client:
        asyncio.run(asyncio.wait_for(store_client(args.client, args.day), args.max_seconds))
        return
    if args.raw_listener:
        raw_listener(args.raw_listener, args.max_seconds)
        return
    if args.clients < 1 or args.moves < 1 or args.interval_ms < 0:
        parser.error("--clients and --moves must be positive, --interval-ms not negative")
    # Every wait is bounded: starting N processes on a small machine takes a while.
    args.ready_s = 60 + 2 * args.clients
    writing_s = (args.moves + args.warmup) * (args.interval_ms / 1000 + 0.1)
    args.child_max_s = args.ready_s + 2 * writing_s + args.grace_s + 60
    # A plain kill should still end the children and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        benchmark(args)
    except KeyboardInterrupt:
        sys.exit(130)  # the finally-blocks have ended the children and dropped the database


if __name__ == "__main__":
    main()
