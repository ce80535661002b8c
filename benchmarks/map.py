"""The live map's cost on a large day: first load, one change, a burst of changes.

    python -m benchmarks.map --dataset ../shared/bench/board-200x2000.json [--runs 5]

Loads a dataset written by ``make_board_dataset.py`` into the real ``MapDock`` (folium's
page in Qt WebEngine, offscreen, software rendering), without a database: the JSON
becomes the day store's dataclasses as ``benchmarks.board`` builds them, plus the
dataset's unassigned visits as queue jobs, and reaches the dock as ``StoreChange``s,
exactly as ``MainWindow.apply`` passes them on. No tiles are configured to load (a
folder that does not exist), so the figures measure the markers, not a tile server.

Figures, in milliseconds of wall clock (``time.perf_counter``):

page_ready_ms    a new ``MapDock`` (folium's page handed to Qt WebEngine) → the page has
                 loaded, taken every technician and visit marker and answered with its
                 marker counts; median over ``--runs`` fresh docks.
one_change_ms    one visit's site moved by a store change → the page has moved that
                 marker (and redrawn its technician's route) and said so: the dock's
                 answer from ``runJavaScript`` is the round trip; median of 50.
burst_200_ms     200 store changes, each moving a different visit, applied back to back
                 → the page has moved all 200 and said so; median of 5 bursts.
page_load_ms     the part of page_ready_ms before any marker: HTML to ``loadFinished``.

After the timed runs the page is asked where the moved markers are, and the run fails
if any is not where the store says. The last line of the output is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Before Qt is imported: measured offscreen, on any machine.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

from PySide6.QtCore import QEvent, QEventLoop, QTimer, qVersion
from PySide6.QtWidgets import QApplication

from benchmarks.board import BoardDay, load_board_day, visit_block
from dispatch_app.domain.clock import Clock, FixedClock
from dispatch_app.domain.vocabulary import Priority
from dispatch_app.services.day_board import (
    BoardSettings,
    DayWindow,
    TechnicianRow,
    UnassignedJob,
    VisitBlock,
)
from dispatch_app.services.day_store import StoreChange
from dispatch_app.ui.map.page import TILES_ENVIRONMENT

ONE_CHANGES = 50
BURST = 200
BURSTS = 5
STEP_DEG = 0.002  # about 200 m: a visibly different place on the map
TIMEOUT_S = 60.0  # a page that has not answered by then is broken, not slow
GOALS = {"one_change_ms": 10.0, "burst_200_ms": 100.0}


@dataclasses.dataclass
class BenchDay:
    """The dataset as the day store would hold it (the dock's ``DaySource``)."""

    window: DayWindow
    settings: BoardSettings
    technicians: tuple[TechnicianRow, ...]
    held: dict[int, VisitBlock]
    waiting: list[UnassignedJob]
    clock: Clock  # the dataset's day at noon: technicians are mid-shift

    def visits(self) -> list[VisitBlock]:
        return sorted(self.held.values(), key=lambda v: (v.starts, v.id))

    def unassigned(self) -> list[UnassignedJob]:
        return list(self.waiting)


def waiting_jobs(path: Path, board_day: BoardDay) -> list[UnassignedJob]:
    """The dataset's visits without a technician, as the queue holds them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    jobs = []
    for raw in data["visits"]:
        if raw["technician_id"] is not None:
            continue
        block = visit_block({**raw, "technician_id": 0}, "", board_day.timezone)
        jobs.append(
            UnassignedJob(
                work_order_id=block.work_order_id,
                visit_id=block.id,
                number=block.number,
                priority=block.priority,
                job_type=block.job_type,
                trade="",
                customer=block.customer,
                city=block.city,
                description="",
                created_at=block.starts,
                starts=None,
                duration_min=int((block.ends - block.starts).total_seconds() // 60),
                lat=block.lat,
                lon=block.lon,
                zip=block.zip,
            )
        )
    return jobs


def wait(app: QApplication, done: Callable[[], bool], what: str) -> None:
    """Process events until ``done()``; fail after ``TIMEOUT_S``."""
    deadline = time.perf_counter() + TIMEOUT_S
    while not done():
        if time.perf_counter() > deadline:
            raise SystemExit(f"the map page did not answer in time: {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 5)


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def evaluate(app: QApplication, dock: Any, script: str) -> Any:
    answers: list[Any] = []
    dock.view.run(f"JSON.stringify({script})", answers.append)
    wait(app, lambda: bool(answers), script)
    return json.loads(answers[0])


class Run:
    """One fresh dock showing the day."""

    def __init__(self, app: QApplication, day: BenchDay, size: tuple[int, int]) -> None:
        from dispatch_app.ui.map.dock import MapDock

        self.app = app
        self.day = day
        self.answers = 0
        started = time.perf_counter()
        self.dock = MapDock()
        self.dock.updated.connect(self._answered)
        self.dock.resize(*size)
        self.dock.show()
        self.dock.apply(StoreChange(day_changed=True), day)
        wait(app, lambda: self.dock.view.is_ready, "page load")
        self.page_load_s = time.perf_counter() - started
        expected = (len(day.technicians), len(day.held) + len(day.waiting))
        wait(
            app,
            lambda: (
                (self.dock.counts.get("technicians"), self.dock.counts.get("visits")) == expected
            ),
            "first markers",
        )
        self.page_ready_s = time.perf_counter() - started
        self.moved: dict[int, VisitBlock] = {}

    def _answered(self) -> None:
        self.answers += 1

    def move(self, visits: list[VisitBlock], sign: int) -> float:
        """Move ``visits`` one step by separate store changes; seconds until the page
        has applied them all and answered."""
        before = self.answers
        started = time.perf_counter()
        for visit in visits:
            assert visit.lat is not None and visit.lon is not None
            moved = dataclasses.replace(
                visit,
                lat=visit.lat + sign * STEP_DEG,
                lon=visit.lon + sign * STEP_DEG,
                version=visit.version + 1,
            )
            self.day.held[visit.id] = moved
            self.moved[visit.id] = moved
            self.dock.apply(StoreChange(visits_upserted=(moved,)), self.day)
        wait(self.app, lambda: self.answers > before, "an update")
        return time.perf_counter() - started

    def check_moved(self) -> None:
        ids = sorted(self.moved)
        where = evaluate(
            self.app, self.dock, f"{json.dumps(ids)}.map(id => dispatchMap.where('visit', id))"
        )
        for visit_id, place in zip(ids, where, strict=True):
            visit = self.moved[visit_id]
            if place is None or (
                abs(place["lat"] - (visit.lat or 0)) > 1e-9
                or abs(place["lon"] - (visit.lon or 0)) > 1e-9
            ):
                raise SystemExit(f"visit {visit_id} is at {place} on the map, not where it moved")

    def errors(self) -> list[str]:
        return [m.text for m in self.dock.view.map_page.console if m.is_error]

    def close(self) -> None:
        self.dock.close()
        self.dock.deleteLater()
        # The page must go before Qt WebEngine's profile does, at exit.
        self.app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.map", description=__doc__)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5, help="fresh docks for page_ready_ms")
    parser.add_argument("--size", default="1200x800", help="the dock's size, e.g. 1200x800")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.lower().split("x"))

    board_day = load_board_day(args.dataset)
    waiting = waiting_jobs(args.dataset, board_day)
    window = DayWindow(board_day.day, board_day.timezone)

    def fresh_day() -> BenchDay:
        return BenchDay(
            window,
            BoardSettings(),
            board_day.technicians,
            {v.id: v for v in board_day.visits},
            waiting,
            FixedClock(dt.datetime.combine(board_day.day, dt.time(12), board_day.timezone)),
        )

    # Tiles from a folder that is not there: no network, and the same on every machine.
    no_tiles = tempfile.mkdtemp(prefix="map-bench-")
    os.environ[TILES_ENVIRONMENT] = str(Path(no_tiles) / "missing")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)

    page_load, page_ready = [], []
    run = None
    for attempt in range(max(1, args.runs)):
        if run is not None:
            run.close()
        run = Run(app, fresh_day(), (width, height))
        page_load.append(run.page_load_s)
        page_ready.append(run.page_ready_s)
        print(
            f"run {attempt + 1}: page loaded in {ms(run.page_load_s)} ms, "
            f"{run.dock.counts['technicians']} technicians and {run.dock.counts['visits']} "
            f"visits shown in {ms(run.page_ready_s)} ms"
        )
    assert run is not None

    # The visits that move: on-board ones, spread over the day and the technicians.
    movable = [
        v for v in board_day.visits if v.lat is not None and v.priority != Priority.EMERGENCY
    ]
    one = []
    for n in range(ONE_CHANGES):
        visit = run.day.held[movable[(n * 37) % len(movable)].id]
        one.append(run.move([visit], +1 if n % 2 == 0 else -1))
    bursts: list[float] = []
    burst_page: list[float] = []  # of that, the page's own apply (parse, markers, route)
    for n in range(BURSTS):
        chosen = [run.day.held[v.id] for v in movable[n * BURST : (n + 1) * BURST]]
        if len(chosen) < BURST:
            chosen = [run.day.held[v.id] for v in movable[:BURST]]
        bursts.append(run.move(chosen, +1))
        burst_page.append(float(run.dock.counts.get("lastApplyMs", 0.0)) / 1000.0)
    run.check_moved()
    errors = run.errors()
    loads = run.dock.view.load_count
    run.close()
    if errors:
        raise SystemExit(f"the map page reported errors: {errors[:3]}")
    if loads != 1:
        raise SystemExit(f"the page was loaded {loads} times; it must load once")

    result = {
        "page_ready_ms": ms(statistics.median(page_ready)),
        "one_change_ms": ms(statistics.median(one)),
        "burst_200_ms": ms(statistics.median(bursts)),
        "page_load_ms": ms(statistics.median(page_load)),
        "one_change_p95_ms": ms(sorted(one)[int(0.95 * (len(one) - 1))]),
        "burst_200_in_page_ms": ms(statistics.median(burst_page)),
        "technicians": len(board_day.technicians),
        "visits": len(board_day.visits) + len(waiting),
        "qt": qVersion(),
        "day": dt.date.isoformat(board_day.day),
    }
    for key, goal in GOALS.items():
        verdict = "meets" if result[key] <= goal else "MISSES"
        print(f"{key}: {result[key]} ms ({verdict} the goal of {goal:g} ms)")
    print(f"page_ready_ms: {result['page_ready_ms']} ms (page load {result['page_load_ms']} ms)")
    print(json.dumps(result))
    QTimer.singleShot(0, app.quit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
