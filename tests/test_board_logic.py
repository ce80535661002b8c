"""The board's logic without the board: the time grid, the rows, the day by row, where
blocks are drawn and hit, and the move planner. No Qt, no database: these run in
milliseconds, so the board's rules can grow without slowing the suite."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from dispatch_app.domain.dispatch_rules import Rule
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.domain.statuses import Activity
from dispatch_app.services.day_board import BoardSettings
from dispatch_app.ui.board.grid import DAY_GAP, TimeGrid
from dispatch_app.ui.board.layout import (
    BLOCK_HEIGHT,
    BLOCK_TOP,
    BlockLayout,
    BlockPart,
    LaneFrame,
    block_extent,
    ghost_box,
    placed,
)
from dispatch_app.ui.board.planner import (
    DIFFERENT_ROWS,
    DROP_ON_A_ROW,
    Edge,
    MovePlanner,
    swap_crew,
)
from dispatch_app.ui.board.row_index import RowIndex
from dispatch_app.ui.board.rows import HEADER_HEIGHT, ROW_HEIGHT, RowLayout
from tests.board_day import at, job, technician, visit
from tests.companies import DAY, TZ

AVA, MARCUS, NOOR = 1, 2, 3
BOILER = (("boiler", 3),)


# -- the time grid --------------------------------------------------------------------
def test_the_grid_turns_times_into_pixels_and_back() -> None:
    grid = TimeGrid.build([DAY], 7, 18, TZ, 100.0).scrolled(250.0)
    assert grid.x_of(at(7)) == 250.0
    assert grid.x_of(at(12, 30)) == 800.0
    assert grid.time_at(800.0) == at(12, 30)
    assert grid.content_width == 1100.0 and grid.right == 1350.0
    # Times outside the hours shown sit at the edge of the day; pixels outside, likewise.
    assert grid.x_of(at(5)) == 250.0 and grid.x_of(at(20)) == 1350.0
    assert grid.time_at(100.0) == at(7) and grid.time_at(2000.0) == at(18)


def test_several_days_sit_side_by_side_with_the_nights_left_out() -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    grid = TimeGrid.build(days, 7, 18, TZ, 12.0)
    second = grid.pieces[1]
    assert second.day == days[1] and second.x == 11 * 12.0 + DAY_GAP
    wednesday_nine = at(9, day=days[1])
    assert grid.x_of(wednesday_nine) == second.x + 2 * 12.0
    assert grid.time_at(grid.x_of(wednesday_nine)) == wednesday_nine
    # The gap between two days is the evening of the first; the night is not shown.
    assert grid.time_at(second.x - DAY_GAP / 2) == at(18)
    assert grid.x_of(at(23)) == grid.x_of(at(18))
    assert grid.content_width == 3 * 11 * 12.0 + 2 * DAY_GAP


def test_the_grid_keeps_time_on_the_night_the_clocks_go_forward() -> None:
    """On 14 March 2027 Chicago's 02:00–03:00 does not happen: midnight to 06:00 is five
    hours that day, and an hour on the board is an hour of elapsed time."""
    day = dt.date(2027, 3, 14)
    grid = TimeGrid.build([day], 0, 6, TZ, 100.0)
    assert grid.content_width == 500.0
    one_thirty = dt.datetime(2027, 3, 14, 1, 30, tzinfo=TZ)  # CST
    three_thirty = dt.datetime(2027, 3, 14, 3, 30, tzinfo=TZ)  # CDT: an hour later
    assert grid.x_of(three_thirty) - grid.x_of(one_thirty) == 100.0
    for moment in (one_thirty, three_thirty):
        assert grid.time_at(grid.x_of(moment)).timestamp() == moment.timestamp()
    assert [mark.long for mark in grid.marks()] == [
        "00:00",
        "01:00",
        "03:00",
        "04:00",
        "05:00",
        "06:00",
    ]


# -- rows -------------------------------------------------------------------------------
def test_rows_are_the_technicians_a_filter_keeps_one_under_the_other() -> None:
    rows = RowLayout()
    rows.set_technicians(
        [technician(AVA, "Ava"), technician(MARCUS, "Marcus"), technician(NOOR, "Noor")]
    )
    assert len(rows) == 3 and rows.index_of(NOOR) == 2
    assert rows.top_of(1, 0) == HEADER_HEIGHT + ROW_HEIGHT
    assert rows.top_of(1, 30) == HEADER_HEIGHT + ROW_HEIGHT - 30
    assert rows.row_at(HEADER_HEIGHT - 1, 0) is None  # the hours, not a row
    assert rows.row_at(HEADER_HEIGHT, 0) == 0
    assert rows.row_at(HEADER_HEIGHT + ROW_HEIGHT - 1, 0) == 0
    assert rows.row_at(HEADER_HEIGHT + ROW_HEIGHT, 0) == 1
    assert rows.row_at(HEADER_HEIGHT + 3 * ROW_HEIGHT, 0) is None  # below the last
    assert rows.row_at(HEADER_HEIGHT + 10, ROW_HEIGHT) == 1  # scrolled down a row
    assert rows.visible(ROW_HEIGHT + 5, ROW_HEIGHT) == range(1, 3)
    assert rows.content_height() == HEADER_HEIGHT + 3 * ROW_HEIGHT

    rows.set_filter(lambda t: t.id != MARCUS)
    assert [t.id for t in rows.rows] == [AVA, NOOR]
    assert rows.index_of(MARCUS) is None and rows.index_of(NOOR) == 1
    assert len(rows.all_technicians()) == 3  # the filter hides, it does not forget
    rows.set_filter(None)
    assert rows.index_of(MARCUS) == 1


# -- the day by row ---------------------------------------------------------------------
def small_day() -> RowIndex:
    """Ava and Marcus 07:00–15:30; Noor off. Ava 08:00–09:30; Ava and Marcus together
    10:00–12:00; Marcus 13:00–14:00."""
    index = RowIndex()
    index.set_technicians(
        [
            technician(AVA, "Ava Kowalski"),
            technician(MARCUS, "Marcus Lee"),
            technician(NOOR, "Noor Haddad", shift=None),
        ]
    )
    index.set_day(DAY, TZ)
    index.reset(
        [
            visit(3, (MARCUS,), at(13), at(14)),
            visit(1, (AVA,), at(8), at(9, 30)),
            visit(2, (AVA, MARCUS), at(10), at(12)),
        ]
    )
    return index


def ids(visits) -> list[int]:
    return [v.id for v in visits]


def test_each_row_holds_its_visits_in_time_order_a_crew_in_every_row() -> None:
    index = small_day()
    assert ids(index.visits_of(AVA)) == [1, 2]
    assert ids(index.visits_of(MARCUS)) == [2, 3]
    assert ids(index.visits_of(NOOR)) == []
    assert index.visit(2).technician_ids == (AVA, MARCUS)
    assert 3 in index and 99 not in index


def test_a_moved_visit_leaves_its_rows_and_joins_the_new_ones() -> None:
    index = small_day()
    ava_lane, marcus_lane = index.lane(AVA), index.lane(MARCUS)
    moved = visit(3, (AVA,), at(7), at(7, 45), version=2)
    assert index.unplace(3) == {MARCUS}
    assert index.place(moved) == {AVA}
    assert ids(index.visits_of(AVA)) == [3, 1, 2]
    assert ids(index.visits_of(MARCUS)) == [2]
    assert index.visit(3).version == 2
    # Both rows' lanes are built afresh; an untouched row keeps its own.
    assert index.lane(AVA) is not ava_lane and index.lane(MARCUS) is not marcus_lane
    noor_lane = index.lane(NOOR)
    index.unplace(1)
    assert index.lane(NOOR) is noor_lane
    assert index.unplace(1) == set()  # already gone


def test_a_row_orders_by_instant_on_the_night_the_clocks_go_back() -> None:
    """On 1 November 2026 the first 01:30 (daylight time) comes before the second 01:15."""
    day = dt.date(2026, 11, 1)
    index = RowIndex()
    index.set_technicians([technician(AVA, "Ava", shift=None)])
    first = visit(1, (AVA,), dt.datetime(2026, 11, 1, 1, 30, tzinfo=TZ), at(4, day=day))
    second = visit(2, (AVA,), dt.datetime(2026, 11, 1, 1, 15, fold=1, tzinfo=TZ), at(5, day=day))
    index.reset([second, first])
    assert ids(index.visits_of(AVA)) == [1, 2]
    index.unplace(1)
    index.place(first)
    assert ids(index.visits_of(AVA)) == [1, 2]


def test_the_hours_shown_reach_an_hour_past_the_days_work() -> None:
    index = small_day()
    assert index.hour_range() == (6, 17)  # shifts 07:00–15:30, an hour either side
    assert index.hours_known
    index.place(visit(4, (AVA,), at(14), at(15)))  # inside: the scale stays
    assert index.hours_known
    index.place(visit(5, (MARCUS,), at(19), at(20, 30)))  # an evening call
    assert not index.hours_known
    assert index.hour_range() == (6, 22)

    empty = RowIndex()
    empty.set_day(DAY, TZ)
    assert empty.hour_range() == (7, 18)  # nothing booked: an ordinary working day
    night = RowIndex()
    night.set_day(DAY, TZ)
    # A night shift from the evening before says nothing about where today starts.
    night.set_technicians(
        [technician(AVA, "Ava", shift=(at(22, day=DAY - dt.timedelta(days=1)), at(6)))]
    )
    night.reset([visit(1, (AVA,), at(9), at(10))])
    assert night.hour_range() == (8, 14)  # 09:00–10:00 and at least six hours


def test_a_row_says_what_its_technician_is_doing() -> None:
    index = small_day()
    assert index.status_of(AVA, at(9)).text == "Available · next 10:00"
    assert index.status_of(AVA, at(16)).text == "Off shift"
    index.unplace(2)
    index.place(visit(2, (AVA, MARCUS), at(10), at(12), status="on_site"))
    assert index.status_of(MARCUS, at(10, 30)).text == "On site · WO-10002"
    assert index.status_of(NOOR, at(10, 30)).activity == Activity.OFF_TODAY
    assert index.status_of(99, at(9)) is None


# -- where blocks are ---------------------------------------------------------------------
def test_a_block_is_inset_from_its_times_and_never_vanishes_to_nothing() -> None:
    assert block_extent(100.0, 200.0) == (101.5, 97.0)
    assert block_extent(100.0, 102.0) == (101.5, 2.0)  # a sliver, still drawn
    assert block_extent(100.0, 100.5) is None  # less than a pixel shown: not drawn
    assert placed(10.06) == 10.0 and placed(10.07) == 10.125 and placed(10.99) == 11.0
    frame = LaneFrame.of(TimeGrid.build([DAY], 7, 18, TZ, 100.0).scrolled(250.3))
    assert frame.origin == 250 and frame.phase_steps == round(0.3 * 1024)


def layout_for(index: RowIndex, left: float = 250.0, hour_width: float = 100.0) -> BlockLayout:
    grid = TimeGrid.build([DAY], *index.hour_range(), TZ, hour_width).scrolled(left)
    return BlockLayout(grid, DriveEstimate())


def test_a_block_is_hit_on_every_pixel_it_is_drawn_on_and_no_further() -> None:
    """Ava's 08:00–09:30 block on a grid from 06:00 at 100 px an hour, the timeline at
    x 250: the block spans 451.5 to 598.5 and its 1 px outline reaches half a pixel
    further."""
    index = small_day()
    layout = layout_for(index)
    lane, top = index.lane(AVA), 100
    box = layout.box(lane, 0, top)
    assert (box.left, box.width, box.top, box.height) == (
        451.5,
        147.0,
        top + BLOCK_TOP,
        BLOCK_HEIGHT,
    )
    middle = top + BLOCK_TOP + BLOCK_HEIGHT / 2

    def hit(x: float, y: float = middle, selected: frozenset[int] = frozenset()):
        found = layout.hit(lane, top, x, y, selected)
        return (lane.visits[found[0]].id, found[1]) if found else None

    assert hit(451) == (1, BlockPart.START)  # the outermost drawn column, left...
    assert hit(450) is None
    assert hit(598) == (1, BlockPart.END)  # ... and right
    assert hit(599) is None
    assert hit(500) == (1, BlockPart.BODY)
    assert hit(500.9) == (1, BlockPart.BODY)  # anywhere in a pixel is that pixel
    assert hit(500, top + BLOCK_TOP - 1) == (1, BlockPart.BODY)  # half covered: drawn
    assert hit(500, top + BLOCK_TOP - 2) is None
    assert hit(500, top + BLOCK_TOP + BLOCK_HEIGHT) == (1, BlockPart.BODY)
    assert hit(500, top + BLOCK_TOP + BLOCK_HEIGHT + 1) is None
    # Selected, the outline is 2.5 px wide: a pixel more on each side is drawn.
    assert hit(450, selected=frozenset({1})) == (1, BlockPart.START)
    assert hit(449, selected=frozenset({1})) is None
    assert hit(599, selected=frozenset({1})) == (1, BlockPart.END)
    assert hit(600, selected=frozenset({1})) is None


def test_where_blocks_overlap_the_one_drawn_on_top_is_hit() -> None:
    index = small_day()
    index.place(visit(4, (AVA,), at(9), at(10, 30)))  # over the end of 08:00–09:30
    layout = layout_for(index)
    lane = index.lane(AVA)
    later = layout.box_of(lane, 4, 0)
    found = layout.hit(lane, 0, later.left + 10, later.top + 10, frozenset())
    assert found is not None and lane.visits[found[0]].id == 4
    found = layout.hit(lane, 0, later.left - 5, later.top + 10, frozenset())
    assert found is not None and lane.visits[found[0]].id == 1


def test_a_short_block_moves_from_end_to_end_and_is_not_resized() -> None:
    index = small_day()
    index.place(visit(4, (NOOR,), at(8), at(8, 10)))  # 17 px at 100 px an hour
    layout = layout_for(index)
    lane = index.lane(NOOR)
    box = layout.box(lane, 0, 0)
    for x in (box.left, box.centre[0], box.right - 1):
        assert layout.hit(lane, 0, x, 20, frozenset()) == (0, BlockPart.BODY)


def test_blocks_at_a_fractional_scroll_are_hit_where_they_are_drawn() -> None:
    index = small_day()
    for left in (250.0, 250.3, 250.55, 311.875, 249.999):
        layout = layout_for(index, left, hour_width=87.3)
        lane = index.lane(MARCUS)
        for number in range(len(lane.visits)):
            box = layout.box(lane, number, 0)
            drawn_from, drawn_to = box.left - 0.5, box.right + 0.5
            first = math.ceil(drawn_from - 0.5)  # the first pixel at least half covered
            last = math.floor(drawn_to - 0.5)
            y = box.top + 10
            assert layout.hit(lane, 0, first, y, frozenset()) is not None
            assert layout.hit(lane, 0, last, y, frozenset()) is not None
            assert layout.hit(lane, 0, first - 1, y, frozenset()) is None
            assert layout.hit(lane, 0, last + 1, y, frozenset()) is None
            # The outline is drawn at 1/8 px: within 1/16 of where the visit's time is.
            grid = layout.grid
            assert abs(box.left - (grid.x_of(lane.visits[number].starts) + 1.5)) <= 1 / 16 + 1e-9


def test_a_ghost_shows_where_the_block_would_land() -> None:
    grid = TimeGrid.build([DAY], 6, 17, TZ, 100.0).scrolled(250.0)
    box = ghost_box(grid, at(9), at(10), 40)
    assert (box.left, box.width, box.top) == (551.5, 97.0, 40 + BLOCK_TOP)
    assert ghost_box(grid, at(9), at(9), 0).width == 4.0  # never thinner than that


# -- planning moves -------------------------------------------------------------------
def planner(index: RowIndex | None = None) -> MovePlanner:
    return MovePlanner(index or small_day(), BoardSettings(snap_minutes=15), TZ)


def row(index: RowIndex, tech_id: int):
    found = index.technician(tech_id)
    assert found is not None
    return found


def test_a_block_dragged_sideways_starts_on_the_snap_grid_and_keeps_its_length() -> None:
    plan = planner()
    first = plan.index.visit(1)
    verdict = plan.move(
        [first],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8, 30),
        pointer_at=at(8, 37),
        target=row(plan.index, AVA),
    )
    [move] = verdict.moves
    assert (move.starts, move.ends, move.technician_ids) == (at(8), at(9, 30), (AVA,))
    assert not verdict.changes()  # let go where it was: a click, not a change
    verdict = plan.move(
        [first],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8, 30),
        pointer_at=at(8, 50),
        target=row(plan.index, AVA),
    )
    assert (verdict.moves[0].starts, verdict.moves[0].ends) == (at(8, 15), at(9, 45))
    assert verdict.level == "ok" and verdict.changes()  # ends before the 10:00 crew visit


def test_dragging_into_another_visit_is_refused_with_its_number() -> None:
    plan = planner()
    first = plan.index.visit(1)
    verdict = plan.move(
        [first],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8),
        pointer_at=at(9, 15),
        target=row(plan.index, AVA),
    )
    assert verdict.moves[0].starts == at(9, 15)
    assert verdict.level == "refuse" and "WO-10002" in verdict.message()
    assert any(f.rule == Rule.OVERLAP for f in verdict.findings)
    assert verdict.changes()


def test_a_crew_member_is_swapped_for_the_row_dropped_on_the_rest_stay() -> None:
    plan = planner()
    crew_visit = plan.index.visit(2)
    noor = row(plan.index, NOOR)
    from_ava = plan.move(
        [crew_visit],
        grabbed=crew_visit,
        from_row=AVA,
        grabbed_at=at(10),
        pointer_at=at(10),
        target=noor,
    )
    assert from_ava.moves[0].technician_ids == (NOOR, MARCUS)
    assert from_ava.level == "ask" and any(f.rule == Rule.OFF_TODAY for f in from_ava.findings)
    from_marcus = plan.move(
        [crew_visit],
        grabbed=crew_visit,
        from_row=MARCUS,
        grabbed_at=at(10),
        pointer_at=at(10),
        target=noor,
    )
    assert from_marcus.moves[0].technician_ids == (AVA, NOOR)
    # One rule for the mouse and the keys: the same gesture, the same crew.
    by_key = plan.keys([crew_visit], by=dt.timedelta(0), from_row=MARCUS, target=noor)
    assert by_key.moves == from_marcus.moves and by_key.findings == from_marcus.findings


def test_a_crew_cannot_take_someone_twice_and_several_rows_move_in_time_only() -> None:
    plan = planner()
    crew_visit, first, last = (plan.index.visit(n) for n in (2, 1, 3))
    verdict = plan.keys(
        [crew_visit], by=dt.timedelta(0), from_row=AVA, target=row(plan.index, MARCUS)
    )
    assert verdict.level == "refuse"
    assert verdict.problem == "Marcus Lee is already on WO-10002."
    verdict = plan.move(
        [first, last],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8),
        pointer_at=at(8),
        target=row(plan.index, NOOR),
    )
    assert verdict.problem == DIFFERENT_ROWS
    # Dropped back on the row it came from, nobody is swapped.
    assert swap_crew(crew_visit, AVA, row(plan.index, AVA)) == ((AVA, MARCUS), "")
    assert swap_crew(crew_visit, AVA, None) == ((AVA, MARCUS), "")


def test_visits_dragged_together_keep_their_distance() -> None:
    plan = planner()
    first, crew_visit = plan.index.visit(1), plan.index.visit(2)
    verdict = plan.move(
        [first, crew_visit],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8),
        pointer_at=at(8, 30),
        target=row(plan.index, AVA),
    )
    assert [(m.starts, m.ends) for m in verdict.moves] == [
        (at(8, 30), at(10)),
        (at(10, 30), at(12, 30)),
    ]
    assert verdict.level == "ok"  # checked at their new times, not against where they were
    assert [v.id for v in verdict.seen] == [1, 2]


def test_arrow_keys_move_one_snap_and_one_row() -> None:
    plan = planner()
    first = plan.index.visit(1)
    later = plan.keys([first], by=dt.timedelta(minutes=15), from_row=AVA, target=None)
    assert (later.moves[0].starts, later.moves[0].ends) == (at(8, 15), at(9, 45))
    down = plan.keys([first], by=dt.timedelta(0), from_row=AVA, target=row(plan.index, MARCUS))
    assert down.moves[0].technician_ids == (MARCUS,) and down.level == "ok"


def test_an_edge_follows_the_pointer_but_a_visit_lasts_at_least_one_snap() -> None:
    plan = planner()
    first = plan.index.visit(1)
    assert plan.resize(first, Edge.END, at(9, 50)).moves[0].ends == at(9, 45)
    assert plan.resize(first, Edge.END, at(7, 20)).moves[0].ends == at(8, 15)
    assert plan.resize(first, Edge.START, at(7, 35)).moves[0].starts == at(7, 30)
    assert plan.resize(first, Edge.START, at(9, 40)).moves[0].starts == at(9, 15)
    longer = plan.resize(first, Edge.END, at(10, 20))
    assert longer.level == "refuse" and "WO-10002" in longer.message()


def test_a_queue_job_dropped_on_a_row_takes_its_job_types_length() -> None:
    plan = planner()
    waiting = job(7, minutes=90)
    verdict = plan.queue_drop(waiting, pointer_at=at(13, 5), target=row(plan.index, AVA))
    [move] = verdict.moves
    assert (move.starts, move.ends, move.technician_ids) == (at(13), at(14, 30), (AVA,))
    assert move.seen_version == 3 and verdict.level == "ok"
    assert plan.queue_drop(waiting, pointer_at=at(13), target=None).problem == DROP_ON_A_ROW
    # Over Marcus at 13:00 it meets his 13:00 visit.
    assert (
        plan.queue_drop(waiting, pointer_at=at(13), target=row(plan.index, MARCUS)).level
        == "refuse"
    )


def test_what_the_rules_refuse_is_refused_whatever_the_gesture() -> None:
    index = small_day()
    index.place(visit(8, (NOOR,), at(8), at(9), status="completed"))
    index.place(visit(9, (NOOR,), at(10), at(11), skills=BOILER))
    plan = planner(index)
    done = index.visit(8)
    verdict = plan.keys([done], by=dt.timedelta(minutes=15), from_row=NOOR, target=None)
    assert verdict.level == "refuse" and "completed" in verdict.message()
    needs_boiler = index.visit(9)
    verdict = plan.move(
        [needs_boiler],
        grabbed=needs_boiler,
        from_row=NOOR,
        grabbed_at=at(10),
        pointer_at=at(10),
        target=row(index, AVA),
    )
    assert verdict.level == "refuse" and any(f.rule == Rule.MISSING_SKILL for f in verdict.findings)
    # With no day shown yet there is nothing to check against.
    quiet = MovePlanner(index, BoardSettings(), None).verdict(verdict.moves)
    assert quiet.findings == () and quiet.level == "ok"


@pytest.mark.parametrize("snap", [5, 15, 30])
def test_moves_snap_to_the_companys_grid(snap: int) -> None:
    index = small_day()
    plan = MovePlanner(index, BoardSettings(snap_minutes=snap), TZ)
    first = index.visit(1)
    verdict = plan.move(
        [first],
        grabbed=first,
        from_row=AVA,
        grabbed_at=at(8),
        pointer_at=at(7, 23),
        target=row(index, AVA),
    )
    assert verdict.moves[0].starts.minute % snap == 0
