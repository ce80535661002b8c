"""Does the technician's truck carry what the job needs? The rule's sentences; the day's
read and the day store; the board's drag feedback and parts marker, live as stock is
received on another connection; the intake's arrival windows."""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.change_feed import ChangeHint
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.dispatch_rules import Rule, Severity
from dispatch_app.domain.truck_stock import (
    MissingPart,
    NeededPart,
    TruckCheck,
    TruckStock,
    check_truck,
    missing_parts,
)
from dispatch_app.services import stock
from dispatch_app.services import truck_stock as truck_stock_reads
from dispatch_app.services.availability import find_windows
from dispatch_app.services.day_board import BoardSettings, load_day
from dispatch_app.services.day_store import DayStore
from dispatch_app.ui import theme
from dispatch_app.ui.board.day_view import DayBoardView
from dispatch_app.ui.board.planner import MovePlanner
from dispatch_app.ui.board.row_index import RowIndex
from dispatch_app.ui.board.rows import ROW_HEIGHT
from dispatch_app.ui.intake.windows_panel import TRUCK_ROLE, WINDOW_ROLE
from tests.board_day import at, job, technician, visit
from tests.companies import DAY, clock_at, small_company
from tests.qt_app import act, options_for, pump_until, wait_for

D = decimal.Decimal
T = TypeVar("T")

CAPACITOR = NeededPart(1, "Run capacitor 45/5 µF")
CONTACTOR = NeededPart(2, "Contactor 30A", D(2))
FILTER = NeededPart(3, "Filter 16x25")
HALF_HOUR = NeededPart(4, "Refrigerant R-410A (lb)", D("1.5"))
DIAGNOSTIC = NeededPart(9, "Diagnostic fee", kind="service")


# -- the rule ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("needed", "on_hand", "sentence", "note"),
    [
        (
            [CAPACITOR],
            {},
            "Truck 7 has no Run capacitor 45/5 µF.",
            "no Run capacitor 45/5 µF on Truck 7",
        ),
        (
            [CONTACTOR],
            {2: D(1)},
            "Truck 7 has 1 of 2 Contactor 30A.",
            "1 of 2 Contactor 30A on Truck 7",
        ),
        (
            [CAPACITOR, CONTACTOR],
            {},
            "Truck 7 lacks Run capacitor 45/5 µF and Contactor 30A.",
            "short of Run capacitor 45/5 µF and Contactor 30A on Truck 7",
        ),
        (
            [CAPACITOR, CONTACTOR, FILTER],
            {2: D("1.00")},
            "Truck 7 lacks Run capacitor 45/5 µF and 2 more.",
            "short of Run capacitor 45/5 µF and 2 more on Truck 7",
        ),
        # Only what falls short is named, whatever the job type lists first.
        (
            [CAPACITOR, CONTACTOR, FILTER],
            {1: D(3), 2: D(1), 3: D(1)},
            "Truck 7 has 1 of 2 Contactor 30A.",
            "1 of 2 Contactor 30A on Truck 7",
        ),
        # Below zero after a confirmed miscount: it has none.
        ([CONTACTOR], {2: D(-1)}, "Truck 7 has no Contactor 30A.", "no Contactor 30A on Truck 7"),
        (
            [HALF_HOUR],
            {4: D("0.50")},
            "Truck 7 has 0.5 of 1.5 Refrigerant R-410A (lb).",
            "0.5 of 1.5 Refrigerant R-410A (lb) on Truck 7",
        ),
        # A service is done, not carried: never missing.
        (
            [DIAGNOSTIC, CAPACITOR],
            {},
            "Truck 7 has no Run capacitor 45/5 µF.",
            "no Run capacitor 45/5 µF on Truck 7",
        ),
        (
            [CAPACITOR, DIAGNOSTIC],
            {1: D(1)},
            "Truck 7 has the parts for the job.",
            "Truck 7 has the parts",
        ),
        ([CONTACTOR], {2: D(5)}, "Truck 7 has the parts for the job.", "Truck 7 has the parts"),
    ],
)
def test_the_truck_is_told_against_the_jobs_parts_in_one_sentence(
    needed: list[NeededPart], on_hand: dict[int, D], sentence: str, note: str
) -> None:
    check = check_truck("Truck 7", needed, on_hand)
    assert check is not None
    assert (check.sentence, check.note) == (sentence, note)
    assert check.short == (not sentence.endswith("the parts for the job."))


def test_a_job_that_needs_no_part_says_nothing_about_the_truck() -> None:
    assert check_truck("Truck 7", [], {}) is None
    assert check_truck("Truck 7", [DIAGNOSTIC], {}) is None  # services only
    assert missing_parts([DIAGNOSTIC], {}) == ()


def test_each_missing_part_is_spelled_out_for_the_tooltip() -> None:
    check = check_truck("Truck 7", [CAPACITOR, CONTACTOR, FILTER], {2: D(1)})
    assert check == TruckCheck(
        "Truck 7",
        (MissingPart(CAPACITOR, D(0)), MissingPart(CONTACTOR, D(1)), MissingPart(FILTER, D(0))),
    )
    assert check.details() == [
        "no Run capacitor 45/5 µF",
        "1 of 2 Contactor 30A",
        "no Filter 16x25",
    ]


NO_HEAT, TUNE_UP = 11, 12
AVA, MARCUS, NOOR = 1, 2, 3
TRUCKS = TruckStock(
    kept=True,
    trucks={AVA: "Truck 1", MARCUS: "Truck 2"},  # Noor's truck is off the road
    needs={NO_HEAT: (CAPACITOR, DIAGNOSTIC), TUNE_UP: (FILTER,)},
    low={(MARCUS, CAPACITOR.part_id): D(0)},
)


def test_the_trucks_are_asked_per_technician_and_job_type() -> None:
    assert TRUCKS.shortage(AVA, NO_HEAT) is None  # not listed low: enough for any job
    short = TRUCKS.shortage(MARCUS, NO_HEAT)
    assert short is not None and short.sentence == "Truck 2 has no Run capacitor 45/5 µF."
    assert TRUCKS.check(AVA, NO_HEAT) == TruckCheck("Truck 1")
    assert TRUCKS.check(NOOR, NO_HEAT) is None  # no truck: nothing to say
    assert TRUCKS.check(AVA, 99) is None  # a job type that needs no part
    assert dataclasses.replace(TRUCKS, kept=False).shortage(MARCUS, NO_HEAT) is None


def test_a_changed_level_replaces_what_was_held() -> None:
    restocked = TRUCKS.with_levels([(MARCUS, CAPACITOR.part_id, D(2))])
    assert restocked.shortage(MARCUS, NO_HEAT) is None
    emptied = restocked.with_levels([(AVA, FILTER.part_id, D(0)), (AVA, 77, D(0))])
    assert emptied.low == {(AVA, FILTER.part_id): D(0)}  # part 77: no job needs it
    assert emptied.shortage(AVA, TUNE_UP) is not None
    assert TRUCKS.low == {(MARCUS, CAPACITOR.part_id): D(0)}  # the old one is unchanged


# -- the drag's verdict, without a database or Qt -----------------------------------------
def test_the_drag_notes_what_the_hovered_technicians_truck_lacks_and_still_allows_it() -> None:
    index = RowIndex()
    ava, marcus = technician(AVA, "Ava Kowalski"), technician(MARCUS, "Marcus Lee")
    index.set_technicians([ava, marcus])
    index.set_day(DAY, at(0).tzinfo)  # type: ignore[arg-type]
    booked = dataclasses.replace(visit(5, (AVA,), at(8), at(9, 30)), job_type_id=NO_HEAT)
    index.reset([booked])
    assert index.set_truck_stock(TRUCKS) == set()  # Ava's truck has what her visit needs
    plan = MovePlanner(index, BoardSettings(), at(0).tzinfo)

    to_marcus = plan.move(
        [booked],
        grabbed=booked,
        from_row=AVA,
        grabbed_at=at(8),
        pointer_at=at(8),
        target=marcus,
    )
    assert to_marcus.level == "ok" and to_marcus.findings == ()  # nothing to ask
    assert [(n.rule, n.severity, n.technician_id) for n in to_marcus.notes] == [
        (Rule.TRUCK_STOCK, Severity.NOTE, MARCUS)
    ]
    assert to_marcus.message() == "Truck 2 has no Run capacitor 45/5 µF."
    staying = plan.move(
        [booked], grabbed=booked, from_row=AVA, grabbed_at=at(8), pointer_at=at(9), target=ava
    )
    assert staying.notes == () and staying.message() == ""

    waiting = dataclasses.replace(job(6), job_type_id=NO_HEAT)
    dropped = plan.queue_drop(waiting, pointer_at=at(13), target=marcus)
    assert dropped.message() == "Truck 2 has no Run capacitor 45/5 µF."
    # Once Marcus's truck is restocked, his row's marker and the note go.
    moved = dataclasses.replace(booked, technician_ids=(MARCUS,))
    index.unplace(booked.id)
    index.place(moved)
    assert index.lane(MARCUS).faces[0].short_of == "Truck 2 has no Run capacitor 45/5 µF."
    restocked = TRUCKS.with_levels([(MARCUS, CAPACITOR.part_id, D(4))])
    assert index.set_truck_stock(restocked) == {MARCUS}
    assert index.lane(MARCUS).faces[0].short_of == ""
    assert plan.queue_drop(waiting, pointer_at=at(13), target=marcus).notes == ()


# -- the company in the database ----------------------------------------------------------
def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def run(url: str, operation: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def scenario() -> T:
        engine = make_async_engine(url)
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


@dataclasses.dataclass(frozen=True)
class Shop:
    url: str
    techs: dict[str, int]
    job_type: int
    capacitor: int
    trucks: dict[str, int]  # technician's name → their truck's location id


def stocked_shop(url: str) -> Shop:
    """The small company keeping stock: a No heat call needs a capacitor (and a
    diagnostic fee, a service); Ava's truck has two capacitors, Marcus's none."""
    techs = small_company(url)
    sql(url, "INSERT INTO app_settings (key, value) VALUES ('stock_tracking', 'true')")
    job_type = sql(url, "SELECT id FROM job_types WHERE name = 'No heat call'")[0][0]
    capacitor = sql(
        url,
        "INSERT INTO parts (sku, name, unit_price, cost) "
        "VALUES ('CAP-455', 'Run capacitor 45/5 µF', 24.50, 9.80) RETURNING id",
    )[0][0]
    fee = sql(
        url,
        "INSERT INTO parts (sku, name, unit_price, kind) "
        "VALUES ('DIAG', 'Diagnostic fee', 89, 'service') RETURNING id",
    )[0][0]
    for part in (capacitor, fee):
        sql(
            url,
            "INSERT INTO job_type_parts (job_type_id, part_id) VALUES (%s, %s)",
            job_type,
            part,
        )
    trucks = {
        name: sql(url, "SELECT id FROM stock_locations WHERE technician_id = %s", tech)[0][0]
        for name, tech in techs.items()
    }
    shop = Shop(url, techs, job_type, capacitor, trucks)
    receive(shop, "Ava Kowalski", 2)
    return shop


def receive(shop: Shop, name: str, quantity: int, reason: str = "received") -> None:
    """Capacitors arrive on (or, negative, leave) ``name``'s truck: a ledger row written
    on a connection of its own, as another workstation writes it."""
    sql(
        shop.url,
        "INSERT INTO stock_movements (part_id, location_id, quantity, unit_cost, reason, note) "
        "VALUES (%s, %s, %s, 9.80, %s, %s)",
        shop.capacitor,
        shop.trucks[name],
        quantity,
        reason,
        "Counted on the truck" if reason == "count" else "",
    )


@pytest.fixture
def shop(db_url: str) -> Shop:
    return stocked_shop(db_url)


def test_the_setting_named_is_the_one_the_ledger_keeps() -> None:
    assert truck_stock_reads.STOCK_TRACKING == stock.STOCK_TRACKING


def test_the_days_read_carries_the_trucks_against_the_jobs(shop: Shop) -> None:
    async def read(sessions: async_sessionmaker[AsyncSession]) -> Any:
        async with sessions() as session:
            return await load_day(session, DAY)

    day = run(shop.url, read)
    ava, marcus = shop.techs["Ava Kowalski"], shop.techs["Marcus Lee"]
    assert {v.job_type_id for v in day.visits} == {shop.job_type}
    assert {j.job_type_id for j in day.unassigned} == {shop.job_type}
    trucks = day.truck_stock
    assert trucks.kept
    assert trucks.trucks == {
        ava: "Truck 1",
        marcus: "Truck 2",
        shop.techs["Noor Haddad"]: "Truck 3",
    }
    assert [p.name for p in trucks.needs[shop.job_type]] == [
        "Run capacitor 45/5 µF",
        "Diagnostic fee",
    ]
    assert trucks.shortage(ava, shop.job_type) is None
    short = trucks.shortage(marcus, shop.job_type)
    assert short is not None and short.sentence == "Truck 2 has no Run capacitor 45/5 µF."
    # What the board holds is what is low, not every shelf of every truck.
    assert set(trucks.low) == {
        (marcus, shop.capacitor),
        (shop.techs["Noor Haddad"], shop.capacitor),
    }

    sql(shop.url, "UPDATE app_settings SET value = 'false' WHERE key = 'stock_tracking'")
    assert run(shop.url, read).truck_stock == TruckStock()  # nothing kept, nothing short


def test_the_day_store_reads_again_only_the_stock_levels_a_hint_names(shop: Shop) -> None:
    marcus = shop.techs["Marcus Lee"]

    async def scenario(sessions: async_sessionmaker[AsyncSession]) -> None:
        store = DayStore(sessions, DAY, clock=clock_at(7))
        changes = []
        store.subscribe(changes.append)
        await store.resync()
        assert store.truck_stock.shortage(marcus, shop.job_type) is not None
        visits_held = store.visits()
        await stock.receive(
            sessions, location_id=shop.trucks["Marcus Lee"], part_id=shop.capacitor, quantity=1
        )
        level = sql(
            shop.url,
            "SELECT id FROM stock_levels WHERE location_id = %s AND part_id = %s",
            shop.trucks["Marcus Lee"],
            shop.capacitor,
        )[0][0]
        change = await store.apply_hints([ChangeHint("stock_levels", level, "insert", 1, None)])
        assert change.truck_stock is not None and change.truck_stock is store.truck_stock
        assert store.truck_stock.shortage(marcus, shop.job_type) is None
        assert change.visits_upserted == () and store.visits() == visits_held
        # A job type's parts changed: the trucks are read again, the day's rows are not.
        sql(shop.url, "UPDATE job_type_parts SET quantity = 2 WHERE part_id = %s", shop.capacitor)
        change = await store.apply_hints([ChangeHint("job_type_parts", 1, "update", 2, None)])
        short = store.truck_stock.shortage(marcus, shop.job_type)
        assert short is not None and short.sentence == "Truck 2 has 1 of 2 Run capacitor 45/5 µF."
        assert change.truck_stock is not None and change.visits_upserted == ()
        await store.close()

    run(shop.url, scenario)


# -- the board ---------------------------------------------------------------------------
@dataclasses.dataclass
class Board:
    app: Any
    view: DayBoardView
    shop: Shop

    def tech(self, name: str) -> int:
        return self.shop.techs[name]

    def visit_at(self, name: str, hour: int) -> int:
        return next(
            v.id
            for v in self.view.visits_in_row(self.tech(name))
            if v.starts.astimezone(at(0).tzinfo).hour == hour
        )

    def centre(self, visit_id: int, name: str) -> QPoint:
        rect = self.view.block_rect(visit_id, self.tech(name))
        assert rect is not None
        return rect.center().toPoint()

    def row_y(self, name: str) -> int:
        row = self.view.rows.index_of(self.tech(name))
        assert row is not None
        return self.view.rows.top_of(row, self.view.verticalScrollBar().value()) + ROW_HEIGHT // 2

    def marker_pixels(self, visit_id: int, name: str) -> int:
        """Pixels of the parts badge's colour painted on the block, as the screen shows it."""
        rect = self.view.block_rect(visit_id, self.tech(name))
        assert rect is not None
        image = self.view.viewport().grab(rect.toAlignedRect()).toImage()
        colour = theme.PARTS_SHORT.rgb()
        return sum(
            image.pixel(x, y) == colour for x in range(image.width()) for y in range(image.height())
        )


@pytest.fixture
def board(loop, start, shop: Shop, tmp_path, settings_dir) -> Board:
    app, task = start(options_for(shop.url, tmp_path))
    wait_for(loop, app.live, task)
    view = app.window.board
    act(loop, lambda: app.window.resize(2400, 900))
    pump_until(loop, lambda: view.viewport().width() > 1500)
    act(loop, lambda: view.horizontalScrollBar().setValue(0))
    act(loop, app.window.activateWindow)
    pump_until(loop, lambda: QApplication.activeWindow() == app.window)
    return Board(app, view, shop)


def test_a_block_whose_truck_lacks_a_part_is_marked_until_the_part_arrives(loop, board) -> None:
    marcus_13 = board.visit_at("Marcus Lee", 13)
    crew = board.visit_at("Marcus Lee", 10)  # Ava and Marcus together
    ava_8 = board.visit_at("Ava Kowalski", 8)
    sentence = "Truck 2 has no Run capacitor 45/5 µF."
    assert board.view.shortage_shown(marcus_13, board.tech("Marcus Lee")) == sentence
    assert board.view.shortage_shown(crew, board.tech("Marcus Lee")) == sentence
    # In Ava's row the same crew visit is fine: her truck has the capacitors.
    assert board.view.shortage_shown(crew, board.tech("Ava Kowalski")) == ""
    assert board.view.shortage_shown(ava_8, board.tech("Ava Kowalski")) == ""
    assert board.marker_pixels(marcus_13, "Marcus Lee") > 40
    assert board.marker_pixels(ava_8, "Ava Kowalski") == 0

    # Hovering the block says why.
    where = board.centre(marcus_13, "Marcus Lee")

    def hover() -> None:
        viewport = board.view.viewport()
        tip = QHelpEvent(QEvent.Type.ToolTip, where, viewport.mapToGlobal(where))
        QApplication.sendEvent(viewport, tip)

    act(loop, hover)
    assert QToolTip.text() == sentence

    receive(board.shop, "Marcus Lee", 3)  # another workstation books the delivery
    pump_until(loop, lambda: board.view.shortage_shown(marcus_13, board.tech("Marcus Lee")) == "")
    pump_until(loop, lambda: board.marker_pixels(marcus_13, "Marcus Lee") == 0)
    assert board.view.shortage_shown(crew, board.tech("Marcus Lee")) == ""

    # A count finds the truck empty after all: the marker is back.
    receive(board.shop, "Marcus Lee", -3, reason="count")
    pump_until(loop, lambda: board.marker_pixels(marcus_13, "Marcus Lee") > 40)


def test_dragging_onto_a_technician_whose_truck_lacks_the_part_warns_and_still_moves(
    loop, board
) -> None:
    ava_8 = board.visit_at("Ava Kowalski", 8)
    grab = board.centre(ava_8, "Ava Kowalski")
    over_marcus = QPoint(grab.x(), board.row_y("Marcus Lee"))
    viewport = board.view.viewport()

    def press_and_move() -> None:
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, grab)
        for step in range(1, 9):
            QTest.mouseMove(viewport, grab + (over_marcus - grab) * step / 8)

    act(loop, press_and_move)
    verdict = board.view.drag_verdict()
    assert verdict is not None
    assert verdict.level == "ok"  # a warning, not a refusal nor a question
    assert verdict.message() == "Truck 2 has no Run capacitor 45/5 µF."
    assert [n.technician_id for n in verdict.notes] == [board.tech("Marcus Lee")]

    # Back over Ava's own row: her truck has the part, and nothing is said.
    def back_to_ava() -> None:
        QTest.mouseMove(viewport, grab + QPoint(0, 2))

    act(loop, back_to_ava)
    assert board.view.drag_verdict().notes == ()

    def drop_on_marcus() -> None:
        QTest.mouseMove(viewport, over_marcus)
        QTest.mouseRelease(
            viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, over_marcus
        )

    act(loop, drop_on_marcus)
    pump_until(
        loop,
        lambda: (
            sql(
                board.shop.url,
                "SELECT technician_id FROM visit_technicians WHERE visit_id = %s",
                ava_8,
            )
            == [(board.tech("Marcus Lee"),)]
        ),
    )
    assert board.app.window.board_actions.question is None  # it was not asked about
    pump_until(
        loop,
        lambda: (
            board.view.shortage_shown(ava_8, board.tech("Marcus Lee"))
            == "Truck 2 has no Run capacitor 45/5 µF."
        ),
    )


# -- the intake --------------------------------------------------------------------------
def test_the_offered_windows_say_whose_truck_carries_the_part(shop: Shop) -> None:
    site = sql(shop.url, "SELECT id FROM service_sites")[0][0]
    found = run(
        shop.url,
        lambda s: find_windows(s, job_type_id=shop.job_type, site_id=site, clock=clock_at(6)),
    )
    ava, marcus = shop.techs["Ava Kowalski"], shop.techs["Marcus Lee"]
    named = {w.technician_ids[0] for w in found.windows}
    assert {ava, marcus} <= named
    assert found.trucks[ava].note == "Truck 1 has the parts"
    assert found.trucks[marcus].note == "no Run capacitor 45/5 µF on Truck 2"


def test_the_intake_window_notes_the_truck_of_each_window(
    loop, qtbot, start, shop, tmp_path, settings_dir
) -> None:
    sql(
        shop.url,
        "INSERT INTO customer_phones (customer_id, number) "
        "SELECT id, '+13125550123' FROM customers",
    )
    app, task = start(options_for(shop.url, tmp_path))
    wait_for(loop, app.live, task)
    act(loop, app.window.activateWindow)
    pump_until(loop, lambda: QApplication.activeWindow() == app.window)

    def press(key: Qt.Key) -> None:
        act(loop, lambda: qtbot.keyClick(QApplication.focusWidget(), key))

    def type_(text: str) -> None:
        act(loop, lambda: qtbot.keyClicks(QApplication.focusWidget(), text))

    press(Qt.Key.Key_F2)
    pump_until(loop, lambda: app.intake is not None and app.intake.isVisible())
    intake = app.intake
    act(loop, intake.activateWindow)
    pump_until(loop, lambda: intake.catalogue and QApplication.focusWidget() is intake.lookup)
    type_("3125550123")
    pump_until(loop, lambda: intake.matches.count() == 2)
    press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.customer is not None)
    type_("no h")
    press(Qt.Key.Key_Return)
    pump_until(loop, lambda: intake.windows)

    ava, marcus = shop.techs["Ava Kowalski"], shop.techs["Marcus Lee"]
    rows = [intake.window_list.item(n) for n in range(intake.window_list.count())]
    offered = [(row.data(WINDOW_ROLE), row) for row in rows if row.data(WINDOW_ROLE)]
    by_tech: dict[int, Any] = {}
    for window, row in offered:
        if not isinstance(window, str):
            by_tech.setdefault(window.technician_ids[0], row)
    assert {ava, marcus} <= set(by_tech)
    assert by_tech[ava].text().endswith("· Truck 1 has the parts")
    assert by_tech[ava].data(TRUCK_ROLE).short is False
    short = by_tech[marcus]
    assert short.text().endswith("· no Run capacitor 45/5 µF on Truck 2")
    assert short.toolTip().startswith("Truck 2 has no Run capacitor 45/5 µF.")
    assert short.foreground().color() == theme.PARTS_SHORT
