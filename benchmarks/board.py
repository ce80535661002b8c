"""The day board's paint cost on a large day: first paint, one update, dragging, panning.

    python -m benchmarks.board --dataset ../shared/bench/board-200x2000.json
                               [--runs 5] [--size 1600x900] [--full-repaint]

Loads a dataset written by ``make_board_dataset.py`` into the real ``DayBoardView``,
offscreen and without a database: the JSON becomes the same ``TechnicianRow`` and
``VisitBlock`` dataclasses the day store hands the board, in the store's order, and
they reach the view through its models as ``MainWindow.apply`` passes them on.
Unassigned visits are counted but not shown: they belong to the queue, not the board.

Figures, in milliseconds of wall clock (``time.perf_counter``):

first_paint_ms     the data handed over (``set_technicians``, ``VisitModel.apply`` of a
                   new day, ``set_day``) → the first full paint of the visible area has
                   returned (a synchronous ``viewport().repaint()``); median over
                   ``--runs`` fresh views.
update_one_ms      one visit on screen moved 15 minutes by a store change → the view
                   has painted: ``VisitModel.apply`` of the upserted visit, then events
                   processed until the view's next paint, as the app's event loop
                   would; median of 50 (moving it there and back).
drag_frame_p95_ms  a scripted drag of an on-screen block right across the visible
                   timeline: one frame is ``QTest.mouseMove`` → the view has painted
                   (events processed as for an update); 95th percentile of 200 moves,
                   less those made before the press turns into a drag (they show
                   nothing new). Escape then cancels it.
pan_frame_p95_ms   the horizontal scroll bar stepped over its whole range in 200 steps,
                   then the vertical one: one frame is ``setValue`` → the view has
                   painted; 95th percentile over both sweeps.
peak_rss_mb        the process's peak resident set size at the end (``ru_maxrss``).

A frame ends when the view has painted what the input changed, as the app's event loop
would paint it, the scroll bar's own repaint included: the view repaints only what
changed (the rows a dragged ghost leaves and enters; the strip a scroll brings into
view, the rest being moved, not repainted), so forcing a repaint of the whole viewport
would time work no user waits for. ``--full-repaint`` times drag and pan frames as
this benchmark first did: each input, then a synchronous repaint of the whole
viewport, no events processed.

The update, drag and pan figures come from the last of the fresh views. Offscreen, a
frame's flush is a memory copy: on a real display the compositor adds its share. The
last line of the output is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Before Qt is imported: the board is measured offscreen, on any machine.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import (
    QEvent,
    QMessageLogContext,
    QPoint,
    QRectF,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
    qVersion,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from dispatch_app.domain.scheduling import TimeSpan
from dispatch_app.domain.vocabulary import (
    TRADE_COLOURS,
    Priority,
    Trade,
    VisitStatus,
)
from dispatch_app.services.day_board import TechnicianRow, VisitBlock
from dispatch_app.services.day_store import StoreChange
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.models import TechnicianModel, VisitModel

UPDATES = 50
DRAG_STEPS = 200
PAN_STEPS = 200
MOVE = dt.timedelta(minutes=15)
SKILL_LEVEL = 3  # the dataset names skills without levels; 3 is a seasoned hand
# A paint that does not come within this long is a broken view, not a slow one.
PAINT_TIMEOUT_S = 5.0
GOALS = {
    "first_paint_ms": 100.0,
    "update_one_ms": 5.0,
    "drag_frame_p95_ms": 8.0,
    "pan_frame_p95_ms": 8.0,
    "peak_rss_mb": 300.0,
}


# -- the dataset ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardDay:
    """A dataset as the day store would hold it."""

    day: dt.date
    timezone: ZoneInfo
    technicians: tuple[TechnicianRow, ...]  # trade, then name, as the store orders them
    visits: list[VisitBlock]  # by start, as ``DayStore.visits()`` returns them
    unassigned: int  # visits in the dataset without a technician, left out


def wall_clock(day: dt.date, hhmm: str, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=zone)


def technician_row(raw: dict[str, Any], day: dt.date, zone: ZoneInfo) -> TechnicianRow:
    starts = wall_clock(day, raw["shift_start"], zone)
    ends = wall_clock(day, raw["shift_end"], zone)
    if ends <= starts:  # a night shift ends the next morning
        ends = wall_clock(day + dt.timedelta(days=1), raw["shift_end"], zone)
    shift = TimeSpan(starts, ends)
    skills = tuple(str(skill) for skill in raw["skills"])
    return TechnicianRow(
        id=int(raw["id"]),
        name=str(raw["name"]),
        trade=Trade(raw["trade"]).value,
        colour=TRADE_COLOURS[Trade(raw["trade"])],
        skills=skills,
        shift=shift,
        version=1,
        shifts=(shift,),
        skill_levels=tuple((code, SKILL_LEVEL) for code in sorted(skills)),
        home=(float(raw["home_lat"]), float(raw["home_lon"])),
    )


def visit_block(raw: dict[str, Any], trade: str, zone: ZoneInfo) -> VisitBlock:
    address = str(raw["address"])
    _street, comma, rest = address.partition(",")
    zip_code = address.rsplit(" ", 1)[-1]
    return VisitBlock(
        id=int(raw["id"]),
        work_order_id=int(str(raw["work_order"]).rpartition("-")[2]),
        number=str(raw["work_order"]),
        technician_ids=(int(raw["technician_id"]),),
        starts=dt.datetime.fromisoformat(raw["start"]).astimezone(zone),
        ends=dt.datetime.fromisoformat(raw["end"]).astimezone(zone),
        status=VisitStatus(raw["status"]).value,
        priority=Priority(raw["priority"]).value,
        job_type=str(raw["job_type"]),
        customer=str(raw["customer"]),
        city=rest.strip() if comma else address,
        arrival_window=None,
        lat=float(raw["lat"]),
        lon=float(raw["lon"]),
        version=1,
        trade=trade,
        zip=zip_code if zip_code.isdigit() else "",
    )


def load_board_day(path: Path) -> BoardDay:
    """The dataset at ``path``; ``SystemExit`` with the reason when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SystemExit(f"cannot read the dataset {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SystemExit(f"{path} is not JSON: {error}") from None
    try:
        day = dt.date.fromisoformat(data["day"])
        zone = ZoneInfo(data["timezone"])
        technicians = sorted(
            (technician_row(raw, day, zone) for raw in data["technicians"]),
            key=lambda row: (row.trade, row.name, row.id),
        )
        trade_of = {row.id: row.trade for row in technicians}
        assigned = [raw for raw in data["visits"] if raw["technician_id"] is not None]
        visits = sorted(
            (visit_block(raw, trade_of[int(raw["technician_id"])], zone) for raw in assigned),
            key=lambda visit: (visit.starts, visit.id),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # ZoneInfoNotFoundError is a KeyError; a bad span or enum word a ValueError.
        raise SystemExit(
            f"{path} is not a board dataset (see make_board_dataset.py): "
            f"{type(error).__name__}: {error}"
        ) from None
    return BoardDay(day, zone, tuple(technicians), visits, len(data["visits"]) - len(assigned))


# -- the board under test -------------------------------------------------------------


@dataclass
class Noticed:
    """What happened under the view that the figures alone would not show."""

    # Exceptions raised in the view's Qt overrides during event processing: PySide hands
    # them to sys.excepthook and carries on, which would look like a view never painting.
    raised: list[str] = field(default_factory=list)
    # QTest warns for every mouse event the view leaves unaccepted (no dragging yet).
    unaccepted_mouse_events: int = 0


NOTICED = Noticed()


def watch_the_view() -> None:
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        NOTICED.raised.append(f"{kind.__name__}: {error}")
        previous(kind, error, trace)

    def on_message(_mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        if message.startswith("Mouse event") and message.endswith(
            "not accepted by receiving widget"
        ):
            NOTICED.unaccepted_mouse_events += 1
        else:
            print(message, file=sys.stderr)

    sys.excepthook = hook
    qInstallMessageHandler(on_message)


class Board:
    """A fresh view with its models, shown at ``size``; counts the view's paints."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.technicians = TechnicianModel()
        self.visits = VisitModel()
        self.view = DayBoardView()
        self.view.set_models(self.technicians, self.visits)
        self.paints = 0
        self.view.painted.connect(self._count)
        self.view.resize(*size)
        self.view.show()
        self.process_until_painted(since=0)  # the empty board: exposed and painted once

    def _count(self) -> None:
        self.paints += 1

    def load(self, board_day: BoardDay) -> None:
        """Hand a new day over as ``MainWindow.apply`` does."""
        self.technicians.set_technicians(board_day.technicians, new_day=True)
        self.visits.apply(StoreChange(day_changed=True), board_day.visits)
        self.view.set_day(board_day.day, board_day.timezone)

    def repaint(self) -> None:
        """Paint the viewport now; fail if the view did not actually paint."""
        before = self.paints
        self.view.viewport().repaint()
        if self.paints == before:
            raise RuntimeError("viewport().repaint() did not paint: is the view shown?")

    def process_until_painted(self, since: int) -> None:
        """Run the event loop's work, as the app's loop would, until the view has painted
        more than ``since`` times (counting from the view's creation)."""
        app = QApplication.instance()
        assert app is not None
        deadline = time.perf_counter() + PAINT_TIMEOUT_S
        while self.paints <= since:
            if NOTICED.raised:
                raise RuntimeError(f"the view raised while handling events: {NOTICED.raised[0]}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the view did not paint within {PAINT_TIMEOUT_S:g} s")
            app.processEvents()

    def settle(self) -> None:
        """Deliver whatever is pending (paints included) so the next timing starts clean."""
        QApplication.processEvents()

    def visible_blocks(self, visits: Sequence[VisitBlock]) -> list[tuple[QRectF, VisitBlock]]:
        """Blocks wholly inside the viewport at the last paint, left to right."""
        area = QRectF(self.view.viewport().rect())
        found = []
        for visit in visits:
            rect = self.view.block_rect(visit.id)
            if rect is not None and area.contains(QRectF(rect)):
                found.append((QRectF(rect), visit))
        return sorted(found, key=lambda item: (item[0].left(), item[0].top()))

    def close(self) -> None:
        self.view.close()
        for thing in (self.view, self.technicians, self.visits):
            thing.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# -- the figures ----------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank: the smallest value at or above ``q`` of the sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def first_paint_ms(
    board_day: BoardDay, size: tuple[int, int], runs: int
) -> tuple[list[float], Board]:
    """Per run, a fresh board: data handed over → first full paint. Returns the last board."""
    times: list[float] = []
    board: Board | None = None
    for _ in range(runs):
        if board is not None:
            board.close()
        board = Board(size)
        began = time.perf_counter()
        board.load(board_day)
        board.repaint()
        times.append(ms(time.perf_counter() - began))
    assert board is not None
    board.settle()
    return times, board


def update_one_ms(board: Board, board_day: BoardDay) -> list[float]:
    """Move one on-screen visit 15 minutes later and back, through the model, as the
    store's change report would; each time until the view's next paint."""
    shown = board.visible_blocks(board_day.visits)
    if not shown:
        raise RuntimeError("no visit block is wholly on screen after the first paint")
    _rect, original = shown[len(shown) // 2]
    times = []
    for n in range(1, UPDATES + 1):
        shift = MOVE if n % 2 else dt.timedelta(0)
        moved = replace(
            original,
            starts=original.starts + shift,
            ends=original.ends + shift,
            version=original.version + n,
        )
        board.settle()
        painted = board.paints
        began = time.perf_counter()
        board.visits.apply(StoreChange(visits_upserted=(moved,)), [])
        board.process_until_painted(since=painted)
        times.append(ms(time.perf_counter() - began))
    return times


def frame_ms(
    board: Board,
    act: Callable[[], object],
    full_repaint: bool,
    paints: Callable[[], bool] = lambda: True,
) -> float | None:
    """The time from ``act`` (an input) until the view has painted its effect; None when
    ``paints()``, asked after the input, says it has nothing to show."""
    painted = board.paints
    began = time.perf_counter()
    act()
    if full_repaint:
        board.view.viewport().repaint()
    elif paints():
        board.process_until_painted(since=painted)
    else:
        return None
    return ms(time.perf_counter() - began)


def drag_frames_ms(
    board: Board, board_day: BoardDay, full_repaint: bool = False
) -> tuple[list[float], float]:
    """Press on the leftmost block in view, sweep right to the viewport's edge, cancel.
    Returns the frame times and the paints per frame."""
    board.repaint()
    shown = board.visible_blocks(board_day.visits)
    if not shown:
        raise RuntimeError("no visit block is wholly on screen to drag")
    viewport = board.view.viewport()
    # The leftmost block clear of the names column (whatever its width): the most road
    # ahead, and a press that lands on the block, not on the gutter over it.
    clear = [item for item in shown if item[0].left() >= viewport.width() / 5]
    rect, _visit = (clear or shown)[0]
    start = rect.center().toPoint()
    right = viewport.width() - 4
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    board.settle()
    before = board.paints
    times = []
    point = start
    for step in range(1, DRAG_STEPS + 1):
        to = QPoint(start.x() + (right - start.x()) * step // DRAG_STEPS, start.y())
        if to == point:  # a pointer that does not move sends no event: nothing to wait for
            continue
        point = to
        # Until the pointer has gone the start-drag distance it is a press, not a drag:
        # the view has nothing new to show.
        frame = frame_ms(
            board,
            partial(QTest.mouseMove, viewport, to),
            full_repaint,
            paints=lambda: board.view.drag_verdict() is not None,
        )
        if frame is not None:
            times.append(frame)
    paints_per_frame = (board.paints - before) / max(1, len(times))
    QTest.keyClick(board.view, Qt.Key.Key_Escape)  # the view has the focus, as after a press
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    board.settle()
    return times, paints_per_frame


def sweep(low: int, high: int, steps: int) -> list[int]:
    if high <= low:
        return []
    return [low + (high - low) * step // steps for step in range(steps + 1)]


def pan_frames_ms(board: Board, full_repaint: bool = False) -> tuple[list[float], list[float]]:
    """Step each scroll bar over its whole range; returns sideways and downward frames."""
    frames: tuple[list[float], list[float]] = ([], [])
    for bar, times in zip(
        (board.view.horizontalScrollBar(), board.view.verticalScrollBar()), frames, strict=True
    ):
        home = bar.value()
        board.settle()
        for value in sweep(bar.minimum(), bar.maximum(), PAN_STEPS):
            if value == bar.value():  # no scroll, nothing to paint
                continue
            frame = frame_ms(board, partial(bar.setValue, value), full_repaint)
            assert frame is not None
            times.append(frame)
        bar.setValue(home)
        board.settle()
    return frames


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- the report -----------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if width < 400 or height < 200:
        raise argparse.ArgumentTypeError("the board needs at least 400x200")
    return width, height


def line(name: str, value: float, detail: str = "") -> None:
    goal = GOALS.get(name)
    verdict = ""
    if goal is not None:
        verdict = f"goal ≤ {goal:g}  {'ok' if value <= goal else 'OVER'}"
    print(f"{name:20s} {value:9.1f}   {verdict:18s} {detail}".rstrip())


def spread(values: Sequence[float]) -> str:
    if not values:
        return "none"
    return (
        f"{len(values)} frames, p50 {percentile(values, 0.5):.1f}, "
        f"p95 {percentile(values, 0.95):.1f}, max {max(values):.1f}"
    )


def measure(
    board_day: BoardDay, size: tuple[int, int], runs: int, full_repaint: bool = False
) -> dict[str, float]:
    """Run every measurement, print the figures, return them."""
    first, board = first_paint_ms(board_day, size, runs)
    try:
        updates = update_one_ms(board, board_day)
        drag, paints_per_drag_frame = drag_frames_ms(board, board_day, full_repaint)
        sideways, downward = pan_frames_ms(board, full_repaint)
    finally:
        board.close()
    figures = {
        "first_paint_ms": statistics.median(first),
        "update_one_ms": statistics.median(updates),
        "drag_frame_p95_ms": percentile(drag, 0.95),
        "pan_frame_p95_ms": percentile(sideways + downward, 0.95),
        "peak_rss_mb": peak_rss_mb(),
    }
    line(
        "first_paint_ms", figures["first_paint_ms"], "runs " + ", ".join(f"{t:.1f}" for t in first)
    )
    line(
        "update_one_ms",
        figures["update_one_ms"],
        f"of {spread(updates)}".replace("frames", "moves"),
    )
    line(
        "drag_frame_p95_ms",
        figures["drag_frame_p95_ms"],
        f"{spread(drag)}; {paints_per_drag_frame:.2f} paints a frame",
    )
    line(
        "pan_frame_p95_ms",
        figures["pan_frame_p95_ms"],
        f"sideways {spread(sideways)}; down {spread(downward)}",
    )
    line("peak_rss_mb", figures["peak_rss_mb"])
    if NOTICED.unaccepted_mouse_events:
        print(
            f"note: the view left {NOTICED.unaccepted_mouse_events} mouse events unaccepted "
            "(it does not drag yet: the drag frames are hover moves plus a repaint)"
        )
    if not sideways:
        print("note: the day fits the view's width: there is nothing to pan sideways")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a make_board_dataset.py file")
    parser.add_argument("--runs", type=int, default=5, help="fresh views for the first paint")
    parser.add_argument("--size", type=parse_size, default=(1600, 900), help="WIDTHxHEIGHT")
    parser.add_argument(
        "--full-repaint",
        action="store_true",
        help="time drag and pan frames with a synchronous repaint of the whole viewport",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    board_day = load_board_day(args.dataset)
    watch_the_view()
    _app = QApplication.instance() or QApplication([])
    print(
        f"dataset  {args.dataset.name}: {len(board_day.technicians)} technicians, "
        f"{len(board_day.visits)} visits on the board (+{board_day.unassigned} unassigned, "
        f"left out), {board_day.day} {board_day.timezone.key}; view "
        f"{args.size[0]}x{args.size[1]} on {QApplication.platformName()}, Qt {qVersion()}"
    )
    try:
        figures = measure(board_day, args.size, args.runs, args.full_repaint)
    except RuntimeError as error:
        raise SystemExit(f"board benchmark stopped: {error}") from None
    result: dict[str, Any] = {
        key: None if math.isnan(value) else round(value, 2) for key, value in figures.items()
    }
    result |= {
        "technicians": len(board_day.technicians),
        "visits": len(board_day.visits) + board_day.unassigned,  # as the dataset counts them
        "runs": args.runs,
        "full_repaint": args.full_repaint,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
