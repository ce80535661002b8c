"""Stock against a real server: receipts move the average cost, transfers and counts
leave a ledger row each, materials come off the technician's truck with their line item
and go back with it, the last unit goes to one of two workstations only, and on hand is
the ledger's sum after any sequence of operations."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.roles import Role
from dispatch_app.errors import ShortStock, ValidationError
from dispatch_app.services import stock
from dispatch_app.services.work_order import charges
from tests.companies import small_company

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
D = decimal.Decimal


def run(url: str, operation: Callable[[Sessions], Awaitable[T]]) -> T:
    async def scenario() -> T:
        engine = make_async_engine(url, editor="office")
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def one(url: str, statement: str, *args: object) -> Any:
    rows = sql(url, statement, *args)
    return rows[0][0] if rows else None


def on_hand(url: str, location: int, part: int) -> D:
    value = one(
        url,
        "SELECT on_hand FROM stock_levels WHERE location_id = %s AND part_id = %s",
        location,
        part,
    )
    return D(value if value is not None else 0)


def ledger_agrees(url: str) -> None:
    for location, part, held, ledger in sql(url, stock.ledger_sums_sql()):
        assert held == ledger, (location, part, held, ledger)


@pytest.fixture
def shop(db_url: str) -> dict[str, Any]:
    """The small company keeping stock, a capacitor and a contactor in the price book, a
    service."""
    techs = small_company(db_url)
    sql(db_url, "INSERT INTO app_settings (key, value) VALUES ('stock_tracking', 'true')")
    parts = {
        sku: one(
            db_url,
            "INSERT INTO parts (sku, name, unit_price, cost, kind) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING id",
            sku,
            name,
            price,
            cost,
            kind,
        )
        for sku, name, price, cost, kind in [
            ("CAP-455", "45/5 µF capacitor", "38.00", "9.50", "part"),
            ("CON-30A", "Contactor 30A 24V coil", "64.00", "18.00", "part"),
            ("SVC-TUNE", "Furnace tune-up", "129.00", "0", "service"),
        ]
    }
    trucks = dict(
        sql(
            db_url,
            "SELECT t.name, l.id FROM stock_locations l "
            "JOIN technicians t ON t.id = l.technician_id",
        )
    )
    warehouse = one(db_url, "SELECT id FROM stock_locations WHERE kind = 'warehouse'")
    # Ava leads the first visit of the day.
    order = one(
        db_url,
        "SELECT v.work_order_id FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id "
        "WHERE vt.technician_id = %s ORDER BY v.starts LIMIT 1",
        techs["Ava Kowalski"],
    )
    return {
        "url": db_url,
        "parts": parts,
        "trucks": trucks,
        "warehouse": warehouse,
        "order": order,
        "techs": techs,
    }


def test_every_technician_has_a_truck_and_new_ones_get_one(shop) -> None:
    url = shop["url"]
    assert sorted(shop["trucks"]) == ["Ava Kowalski", "Marcus Lee", "Noor Haddad"]
    names = {row[0] for row in sql(url, "SELECT name FROM stock_locations WHERE kind = 'truck'")}
    assert names == {"Truck 1", "Truck 2", "Truck 3"}
    sql(url, "INSERT INTO technicians (name, trade, colour) VALUES ('Li Wei', 'hvac', '#123456')")
    assert one(url, "SELECT count(*) FROM stock_locations WHERE name = 'Truck 4'") == 1


def test_receipts_move_the_average_cost_and_transfers_carry_it(shop) -> None:
    url, cap, warehouse = shop["url"], shop["parts"]["CAP-455"], shop["warehouse"]
    truck = shop["trucks"]["Ava Kowalski"]
    run(
        url,
        lambda s: stock.receive(
            s, location_id=warehouse, part_id=cap, quantity="10", unit_cost="5.00"
        ),
    )
    run(
        url,
        lambda s: stock.receive(
            s, location_id=warehouse, part_id=cap, quantity="10", unit_cost="7.00"
        ),
    )
    assert one(url, "SELECT average_cost FROM stock_levels WHERE location_id = %s", warehouse) == D(
        "6.0000"
    )
    run(
        url,
        lambda s: stock.transfer(
            s, from_location_id=warehouse, to_location_id=truck, part_id=cap, quantity="4"
        ),
    )
    assert (on_hand(url, warehouse, cap), on_hand(url, truck, cap)) == (D(16), D(4))
    moves = sql(
        url,
        "SELECT quantity, unit_cost, reason, transfer_id FROM stock_movements "
        "WHERE reason = 'transfer' ORDER BY id",
    )
    assert [(m[0], m[1], m[2]) for m in moves] == [
        (D("-4.00"), D("6.0000"), "transfer"),
        (D("4.00"), D("6.0000"), "transfer"),
    ]
    assert moves[0][3] == moves[1][3] is not None
    # A receipt's cost defaults to the price book's.
    run(url, lambda s: stock.receive(s, location_id=truck, part_id=cap, quantity="4"))
    assert one(url, "SELECT average_cost FROM stock_levels WHERE location_id = %s", truck) == D(
        "7.7500"
    )
    ledger_agrees(url)


def test_a_count_sets_the_number_and_says_why(shop) -> None:
    url, cap, warehouse = shop["url"], shop["parts"]["CAP-455"], shop["warehouse"]
    run(url, lambda s: stock.receive(s, location_id=warehouse, part_id=cap, quantity="10"))
    with pytest.raises(ValidationError, match="The reason"):
        run(
            url,
            lambda s: stock.count(s, location_id=warehouse, part_id=cap, counted="7", reason=""),
        )
    difference = run(
        url,
        lambda s: stock.count(
            s, location_id=warehouse, part_id=cap, counted="7", reason="Year-end count"
        ),
    )
    assert difference == D("-3.00") and on_hand(url, warehouse, cap) == D(7)
    assert sql(
        url, "SELECT reason, note, moved_by FROM stock_movements WHERE reason = 'count'"
    ) == [("count", "Year-end count", "office")]
    ledger_agrees(url)


def test_materials_come_off_the_technicians_truck_and_go_back(shop) -> None:
    url, cap, order = shop["url"], shop["parts"]["CAP-455"], shop["order"]
    truck = shop["trucks"]["Ava Kowalski"]
    run(
        url,
        lambda s: stock.receive(s, location_id=truck, part_id=cap, quantity="3", unit_cost="9.50"),
    )
    item = run(
        url, lambda s: charges.add_material(s, work_order_id=order, part_id=cap, quantity="2")
    )
    assert on_hand(url, truck, cap) == D(1)
    assert sql(url, "SELECT location_id, unit_cost FROM line_items WHERE id = %s", item) == [
        (truck, D("9.5000"))
    ]
    version = one(url, "SELECT version FROM line_items WHERE id = %s", item)
    run(
        url,
        lambda s: charges.update_line_item(
            s, line_item_id=item, seen_version=version, quantity="1"
        ),
    )
    assert on_hand(url, truck, cap) == D(2)  # one given back
    run(url, lambda s: charges.remove_line_item(s, line_item_id=item))
    assert on_hand(url, truck, cap) == D(3)
    reasons = [
        row[0]
        for row in sql(
            url, "SELECT reason FROM stock_movements WHERE line_item_id = %s ORDER BY id", item
        )
    ]
    assert reasons == ["used", "returned", "returned"]
    # A service is sold, not stocked.
    run(
        url,
        lambda s: charges.add_material(
            s, work_order_id=order, part_id=shop["parts"]["SVC-TUNE"], quantity="1"
        ),
    )
    assert (
        one(
            url,
            "SELECT count(*) FROM stock_movements WHERE part_id = %s",
            shop["parts"]["SVC-TUNE"],
        )
        == 0
    )
    ledger_agrees(url)


def test_an_empty_truck_refuses_the_part_unless_the_user_confirms_a_miscount(shop) -> None:
    url, cap, order = shop["url"], shop["parts"]["CAP-455"], shop["order"]
    truck = shop["trucks"]["Ava Kowalski"]
    with pytest.raises(
        ShortStock, match=r"Truck 1 has 0 of 45/5 µF capacitor \(CAP-455\) on hand, not 2\."
    ) as refused:
        run(url, lambda s: charges.add_material(s, work_order_id=order, part_id=cap, quantity="2"))
    assert refused.value.on_hand == "0"
    assert one(url, "SELECT count(*) FROM line_items WHERE work_order_id = %s", order) == 0
    run(
        url,
        lambda s: charges.add_material(
            s, work_order_id=order, part_id=cap, quantity="2", confirm_short=True
        ),
    )
    assert on_hand(url, truck, cap) == D(-2)
    assert (
        one(url, "SELECT confirmed_short FROM stock_movements WHERE location_id = %s", truck)
        is True
    )


def test_a_shop_that_keeps_no_stock_bills_parts_without_a_truck(shop) -> None:
    url, cap, order = shop["url"], shop["parts"]["CAP-455"], shop["order"]
    sql(url, "UPDATE app_settings SET value = 'false' WHERE key = 'stock_tracking'")
    item = run(
        url, lambda s: charges.add_material(s, work_order_id=order, part_id=cap, quantity="2")
    )
    assert sql(url, "SELECT location_id, unit_cost FROM line_items WHERE id = %s", item) == [
        (None, None)
    ]
    assert one(url, "SELECT count(*) FROM stock_movements") == 0


def test_two_workstations_taking_the_last_unit_one_succeeds(shop) -> None:
    url, cap, order = shop["url"], shop["parts"]["CAP-455"], shop["order"]
    truck = shop["trucks"]["Ava Kowalski"]
    run(url, lambda s: stock.receive(s, location_id=truck, part_id=cap, quantity="1"))

    async def both() -> list[object]:
        engines = [make_async_engine(url, editor=name) for name in ("desk1", "desk2")]
        try:
            return await asyncio.gather(
                *(
                    charges.add_material(
                        session_factory(e), work_order_id=order, part_id=cap, quantity="1"
                    )
                    for e in engines
                ),
                return_exceptions=True,
            )
        finally:
            for engine in engines:
                await engine.dispose()

    outcomes = asyncio.run(both())
    assert sorted(type(o).__name__ for o in outcomes) == ["ShortStock", "int"]
    assert on_hand(url, truck, cap) == D(0)
    assert one(url, "SELECT count(*) FROM line_items WHERE work_order_id = %s", order) == 1
    ledger_agrees(url)


def test_the_ledger_is_never_changed_and_on_hand_is_not_written_by_hand(
    shop, scratch_server: ScratchServer
) -> None:
    url, cap, warehouse = shop["url"], shop["parts"]["CAP-455"], shop["warehouse"]
    run(url, lambda s: stock.receive(s, location_id=warehouse, part_id=cap, quantity="5"))
    for statement in ("UPDATE stock_movements SET quantity = 50", "DELETE FROM stock_movements"):
        with pytest.raises(psycopg.Error, match="never changed or removed"):
            sql(url, statement)  # not even the owner
    try:
        dispatcher = scratch_server.login(url, Role.DISPATCHER.value)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sql(dispatcher, "UPDATE stock_levels SET on_hand = 500")
        # The reorder point is the dispatcher's to set.
        run(
            dispatcher,
            lambda s: stock.set_reorder_point(
                s, location_id=warehouse, part_id=cap, reorder_point="6"
            ),
        )
        assert [line.sku for line in run(url, lambda s: stock.low_stock(s))] == ["CAP-455"]
    finally:
        scratch_server.drop_logins()
    assert on_hand(url, warehouse, cap) == D(5)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "transfer", "count", "take", "take_anyway"]),
        st.integers(0, 3),  # a location (index)
        st.integers(0, 3),  # another location (index)
        st.integers(0, 1),  # a part (index)
        st.integers(1, 6),  # a quantity
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_on_hand_is_the_ledgers_sum_after_any_sequence_of_operations(shop, operations) -> None:
    url = shop["url"]
    places = [shop["warehouse"], *shop["trucks"].values()]
    parts = [shop["parts"]["CAP-455"], shop["parts"]["CON-30A"]]

    async def scenario(sessions: Sessions) -> None:
        for action, a, b, p, quantity in operations:
            here, there, part = places[a], places[b], parts[p]
            try:
                if action == "receive":
                    await stock.receive(
                        sessions, location_id=here, part_id=part, quantity=str(quantity)
                    )
                elif action == "transfer" and here != there:
                    await stock.transfer(
                        sessions,
                        from_location_id=here,
                        to_location_id=there,
                        part_id=part,
                        quantity=str(quantity),
                    )
                elif action == "count":
                    await stock.count(
                        sessions,
                        location_id=here,
                        part_id=part,
                        counted=str(quantity),
                        reason="Cycle count",
                    )
                elif action in ("take", "take_anyway"):
                    async with sessions() as session, session.begin():
                        await stock.take_for_line_item(
                            session,
                            part_id=part,
                            work_order_id=shop["order"],
                            line_item_id=1,
                            quantity=D(quantity),
                            location_id=here,
                            confirm_short=action == "take_anyway",
                        )
            except ShortStock:
                pass  # refused whole: nothing of it was written
            with psycopg.connect(libpq_url(url)) as db:
                for location, part_id, held, ledger in db.execute(stock.ledger_sums_sql()):
                    assert held == ledger, (action, location, part_id, held, ledger)
                    negative_confirmed = db.execute(
                        "SELECT bool_or(confirmed_short) FROM stock_movements "
                        "WHERE location_id = %s AND part_id = %s",
                        (location, part_id),
                    ).fetchone()[0]
                    assert held >= 0 or negative_confirmed

    run(url, scenario)
