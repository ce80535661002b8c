"""The board widget on a day made in memory (no database, no app): a click lands on what
is drawn under the pointer, to the pixel, and arrow keys move a crew's member from the
row the visit was picked in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from dispatch_app.domain.clock import FixedClock
from dispatch_app.services.day_store import StoreChange
from dispatch_app.ui import theme
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.models import TechnicianModel, VisitModel
from dispatch_app.ui.board.rows import HEADER_HEIGHT, ROW_HEIGHT
from tests.board_day import at, technician, visit
from tests.companies import DAY, TZ

AVA, MARCUS, NOOR = 1, 2, 3
BLOCK_TOP, BLOCK_BOTTOM = 4, ROW_HEIGHT - 10  # a block's edges within its row
# A pixel is drawn when at least half of it is covered: its colour is at least half way
# from what is under it to the outline's. Edges fall on eighths of a pixel, so a pixel
# is covered 3/8 or 4/8, never in between: the threshold sits between the two.
HALF = 0.44


@dataclasses.dataclass
class Board:
    view: DayBoardView
    technicians: TechnicianModel
    visits: VisitModel

    def row_top(self, tech_id: int) -> int:
        row = self.view.rows.index_of(tech_id)
        assert row is not None
        return self.view.rows.top_of(row, self.view.verticalScrollBar().value())

    def x(self, moment: dt.datetime) -> float:
        return self.view.grid().x_of(moment)

    def picture(self) -> QImage:
        return self.view.viewport().grab().toImage()

    def click(self, x: int, y: int, modifiers=Qt.KeyboardModifier.NoModifier) -> list[int]:
        """Click the pixel at (x, y); the ids of the visits selected after it."""
        QTest.mouseClick(self.view.viewport(), Qt.MouseButton.LeftButton, modifiers, QPoint(x, y))
        return [v.id for v in self.view.selected_visits()]


def show_board(qtbot, visits: Iterable, *, width: int = 1400) -> Board:
    view = DayBoardView()
    qtbot.addWidget(view)
    # The day before: no now-line over the blocks, nothing late.
    view.clock = FixedClock(at(12) - dt.timedelta(days=1))
    technicians, visit_model = TechnicianModel(view), VisitModel(view)
    view.set_models(technicians, visit_model)
    technicians.set_technicians(
        [
            technician(AVA, "Ava Kowalski"),
            technician(MARCUS, "Marcus Lee"),
            technician(NOOR, "Noor Haddad", shift=None),
        ],
        new_day=True,
    )
    visit_model.apply(StoreChange(day_changed=True), list(visits))
    view.set_day(DAY, TZ)
    view.resize(width, HEADER_HEIGHT + 4 * ROW_HEIGHT)
    view.show()
    qtbot.waitExposed(view)
    view.horizontalScrollBar().setValue(0)
    return Board(view, technicians, visit_model)


def share(picture: QImage, x: int, y: int, under: QColor, outline: QColor) -> float:
    """How far the pixel's colour has gone from ``under`` towards ``outline`` (0 to 1),
    on the colour channel where the two differ most."""
    pixel = picture.pixelColor(x, y)
    channels = [
        (getattr(under, c)(), getattr(outline, c)(), getattr(pixel, c)())
        for c in ("red", "green", "blue")
    ]
    low, high, seen = max(channels, key=lambda ch: abs(ch[1] - ch[0]))
    return (seen - low) / (high - low)


def first_drawn(
    picture: QImage, pixels: Iterable[tuple[int, int]], outline: QColor
) -> tuple[int, int]:
    """Walking ``pixels`` from outside a block inwards, the first one drawn (the colour
    of the first pixel is what lies under the block there)."""
    walk = list(pixels)
    under = picture.pixelColor(*walk[0])
    for x, y in walk:
        if share(picture, x, y, under, outline) >= HALF:
            return x, y
    raise AssertionError(f"no block edge drawn along {walk[0]}…{walk[-1]}")


SCHEDULED_EDGE = theme.status_edge("scheduled")


def block_edges(
    board: Board, picture: QImage, outline: QColor, tech_id: int, starts, ends
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """For each side of a lone block, its outermost drawn pixel and the one beyond it."""
    top = board.row_top(tech_id)
    middle = top + (BLOCK_TOP + BLOCK_BOTTOM) // 2
    start, end = round(board.x(starts)), round(board.x(ends))
    left, _ = first_drawn(picture, ((x, middle) for x in range(start - 6, start + 8)), outline)
    right, _ = first_drawn(picture, ((x, middle) for x in range(end + 6, end - 8, -1)), outline)
    # Up and down just past the status stripe and the rounded corner, where no words are.
    column = left + 6
    _, upper = first_drawn(picture, ((column, y) for y in range(top, top + 10)), outline)
    _, lower = first_drawn(
        picture,
        ((column, y) for y in range(top + BLOCK_BOTTOM + 4, top + BLOCK_BOTTOM - 6, -1)),
        outline,
    )
    return [
        ((left, middle), (left - 1, middle)),
        ((right, middle), (right + 1, middle)),
        ((column, upper), (column, upper - 1)),
        ((column, lower), (column, lower + 1)),
    ]


def test_a_click_on_a_blocks_outermost_drawn_pixel_takes_it_one_further_does_not(qtbot) -> None:
    """09:10–10:20 at an hour width that puts its edges between pixels: on each of its
    four sides the last pixel drawn selects it and the next one out selects nothing,
    with the thin outline of a block and the thick one of a selected block."""
    board = show_board(qtbot, [visit(1, (AVA,), at(9, 10), at(10, 20))])
    assert board.view.grid().hour_width % 1 != 0  # edges fall between pixels
    thin = block_edges(board, board.picture(), SCHEDULED_EDGE, AVA, at(9, 10), at(10, 20))
    for inside, outside in thin:
        assert board.click(*outside) == [], f"{outside} is outside the block drawn"
        assert board.click(*inside) == [1], f"{inside} is on the block drawn"
        # Selected, its outline is thicker and reaches that pixel: let go of it first.
        QTest.keyClick(board.view, Qt.Key.Key_Escape)
        assert board.view.selected_visits() == []

    middle = QPoint(round(board.x(at(9, 45))), board.row_top(AVA) + 30)
    assert board.click(middle.x(), middle.y()) == [1]
    thick = block_edges(board, board.picture(), theme.SELECTION, AVA, at(9, 10), at(10, 20))
    assert thick[0][0][0] <= thin[0][0][0] and thick[1][0][0] >= thin[1][0][0]
    for inside, outside in thick:
        assert board.click(*inside) == [1], f"{inside} is on the selected block drawn"
        assert board.click(*outside) == [], f"{outside} is outside the selected block"
        board.click(middle.x(), middle.y())  # selected again


def test_where_blocks_meet_a_click_takes_the_one_drawn_there(qtbot) -> None:
    """Ava's 11:00–12:30 lies under her 12:00–13:00; Marcus has 09:00–10:00 and
    10:00–11:00 back to back."""
    board = show_board(
        qtbot,
        [
            visit(2, (AVA,), at(11), at(12, 30)),
            visit(3, (AVA,), at(12), at(13)),
            visit(4, (MARCUS,), at(9), at(10)),
            visit(5, (MARCUS,), at(10), at(11)),
        ],
    )
    picture = board.picture()
    # Low in the blocks, under their words.
    low = board.row_top(AVA) + BLOCK_BOTTOM - 3
    noon = round(board.x(at(12)))
    edge, _ = first_drawn(picture, ((x, low) for x in range(noon - 6, noon + 8)), SCHEDULED_EDGE)
    assert board.click(edge - 1, low) == [2]  # the block under it, where that one shows
    assert board.click(edge, low) == [3]

    low = board.row_top(MARCUS) + (BLOCK_TOP + BLOCK_BOTTOM) // 2
    # 10:00 itself lies in the gap between the two (each is inset from its times).
    ten = math.floor(board.x(at(10)))
    before, _ = first_drawn(picture, ((x, low) for x in range(ten, ten - 8, -1)), SCHEDULED_EDGE)
    after, _ = first_drawn(picture, ((x, low) for x in range(ten, ten + 8)), SCHEDULED_EDGE)
    assert board.click(before, low) == [4]
    assert board.click(after, low) == [5]
    for between in range(before + 1, after):
        assert board.click(between, low) == [], f"x {between} lies between the two"


def test_arrow_keys_move_the_crew_member_of_the_row_the_visit_was_picked_in(qtbot) -> None:
    """A crew's block is in each member's row: picked in Marcus's row, ↓ gives Marcus's
    place to the technician below him and Ava stays, as a drag from that row does; the
    next key moves it on from the row it went to."""
    board = show_board(qtbot, [visit(2, (AVA, MARCUS), at(10), at(12))])
    asked = []
    board.view.movesRequested.connect(asked.append)
    assert board.click(round(board.x(at(11))), board.row_top(MARCUS) + 20) == [2]
    QTest.keyClick(board.view, Qt.Key.Key_Down)
    [verdict] = asked
    assert verdict.moves[0].technician_ids == (AVA, NOOR)
    assert verdict.problem == "" and verdict.level == "ask"  # Noor is off that day
    # The database took it (as the board's actions would write it).
    moved = dataclasses.replace(board.visits.visit(0), technician_ids=(AVA, NOOR), version=2)
    board.visits.apply(StoreChange(visits_upserted=(moved,)), [])
    QTest.keyClick(board.view, Qt.Key.Key_Up)
    assert asked[1].moves[0].technician_ids == (AVA, MARCUS)
    assert asked[1].level == "ok"


@pytest.mark.parametrize("scroll", [0, 37])
def test_a_dragged_block_lands_where_the_grid_says(qtbot, scroll: int) -> None:
    """Drag a block by its middle 45 minutes later: its start snaps to 09:45."""
    board = show_board(qtbot, [visit(1, (AVA,), at(9), at(10))], width=900)
    board.view.horizontalScrollBar().setValue(scroll)
    asked = []
    board.view.movesRequested.connect(asked.append)
    box = board.view.block_box(1, AVA)
    assert box is not None
    grab = QPoint(round(box.centre[0]), round(box.centre[1]))
    drop = QPoint(round(grab.x() + board.x(at(9, 45)) - board.x(at(9))), grab.y())
    viewport = board.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, grab)
    for step in range(1, 9):
        QTest.mouseMove(viewport, grab + (drop - grab) * step / 8)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, drop)
    [verdict] = asked
    assert (verdict.moves[0].starts, verdict.moves[0].ends) == (at(9, 45), at(10, 45))
