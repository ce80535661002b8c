"""The office's Billing & stock window on a real database and a real (offscreen) Qt: the
lists a bookkeeper works from, a payment taken from the aging list (and refused above
the balance in the database's words), stock that follows another workstation's receipt
without a refresh, what a CSR is not offered, and the price book to and from CSV."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QMessageBox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.errors import PermissionDenied
from dispatch_app.services import billing, stock
from dispatch_app.services.work_order import charges
from dispatch_app.ui.office.rows import Column, RecordsModel
from dispatch_app.ui.office.stock_forms import Movement
from tests.companies import DAY, TZ, small_company
from tests.qt_app import act, options_for, pump_until, wait_for

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")


def run(url: str, operation: Callable[[Sessions], Awaitable[T]]) -> T:
    """An operation on its own connection and event loop: another workstation."""

    async def scenario() -> T:
        engine = make_async_engine(url, editor="office")
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    # The test's qasync loop counts as running in this thread: the other desk's runs in
    # a thread of its own.
    with ThreadPoolExecutor(1) as desk:
        return desk.submit(asyncio.run, scenario()).result(30)


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def one(url: str, statement: str, *args: object) -> Any:
    rows = sql(url, statement, *args)
    return rows[0][0] if rows else None


def on(day: dt.date) -> FixedClock:
    return FixedClock(dt.datetime.combine(day, dt.time(15, 0), tzinfo=TZ))


def charge_and_complete(url: str, order: int, labour: str, hours: str = "1") -> None:
    run(
        url,
        lambda s: charges.add_labour(
            s,
            work_order_id=order,
            description="Diagnose and repair",
            quantity=hours,
            unit_price=labour,
        ),
    )
    sql(url, "UPDATE visits SET status = 'completed' WHERE work_order_id = %s", order)
    sql(url, "UPDATE work_orders SET status = 'completed' WHERE id = %s", order)
    sql(
        url,
        "INSERT INTO status_history (work_order_id, from_status, to_status) "
        "VALUES (%s, 'on_site', 'completed')",
        order,
    )


def invoice(url: str, order: int, posted_on: dt.date | None) -> int:
    """A standard invoice for the order's work; posted on ``posted_on`` unless None."""
    made = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    if posted_on is not None:
        version = one(url, "SELECT version FROM invoices WHERE id = %s", made)
        run(
            url,
            lambda s: billing.post_invoice(
                s, invoice_id=made, seen_version=version, clock=on(posted_on)
            ),
        )
    return made


def add_part(url: str, sku: str, name: str, price: str, cost: str, kind: str = "part") -> int:
    return one(
        url,
        "INSERT INTO parts (sku, name, unit_price, cost, kind) VALUES (%s, %s, %s, %s, %s) "
        "RETURNING id",
        sku,
        name,
        price,
        cost,
        kind,
    )


@pytest.fixture
def books(db_url: str) -> dict[str, Any]:
    """Two completed work orders: the first invoiced on 20 Nov (INV-1001, $250 unpaid),
    the second ($180) not; 10 capacitors in the warehouse, 3 contactors (reorder at 4)."""
    small_company(db_url)
    orders = [row[0] for row in sql(db_url, "SELECT id FROM work_orders ORDER BY id")]
    charge_and_complete(db_url, orders[0], "250")
    charge_and_complete(db_url, orders[1], "180")
    invoice(db_url, orders[0], dt.date(2026, 11, 20))
    warehouse = one(db_url, "SELECT id FROM stock_locations WHERE kind = 'warehouse'")
    parts = {
        "CAP-455": add_part(db_url, "CAP-455", "Capacitor 45/5", "38", "9.50"),
        "CON-30A": add_part(db_url, "CON-30A", "Contactor 30A", "64", "18"),
    }
    run(
        db_url,
        lambda s: stock.receive(s, location_id=warehouse, part_id=parts["CAP-455"], quantity=10),
    )
    run(
        db_url,
        lambda s: stock.receive(s, location_id=warehouse, part_id=parts["CON-30A"], quantity=3),
    )
    run(
        db_url,
        lambda s: stock.set_reorder_point(
            s, location_id=warehouse, part_id=parts["CON-30A"], reorder_point=4
        ),
    )
    return {"orders": orders, "parts": parts, "warehouse": warehouse}


def open_window(loop, start, url: str, tmp_path):
    app, task = start(options_for(url, tmp_path))
    wait_for(loop, app.live, task)
    window = app.open_billing()
    assert window is not None
    return app, window


def show_tab(loop, window, page) -> None:
    act(loop, lambda: window.tabs.setCurrentWidget(page))
    pump_until(loop, lambda: not page.stale and not page.reading)


def click(loop, qtbot, button) -> None:
    act(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))


def select_row(view, row: int) -> None:
    view.selectionModel().select(
        view.model().index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def cell(view, row: int, column: int) -> str:
    return str(view.model().index(row, column).data())


def screenshot(window, name: str) -> None:
    folder = os.environ.get("DISPATCH_SCREENSHOTS")
    if folder:
        window.grab().save(str(Path(folder) / name))


def test_completed_work_not_invoiced_is_listed_live_and_opens_in_the_editor(
    loop, qtbot, db_url, start, tmp_path, settings_dir, books
) -> None:
    app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.not_invoiced
    pump_until(loop, lambda: tab.model.rowCount() == 1)
    assert tab.summary.text() == "1 completed work order worth $180.00 is not invoiced"
    number = one(db_url, "SELECT number FROM work_orders WHERE id = %s", books["orders"][1])
    assert cell(tab.table, 0, 0) == number
    assert cell(tab.table, 0, 1) == "José Núñez"
    assert cell(tab.table, 0, 3) == "$180.00"
    assert cell(tab.table, 0, 4) == ""  # no draft yet

    # Another desk completes a job and starts its invoice: the list follows, row by row.
    select_row(tab.table, 0)
    charge_and_complete(db_url, books["orders"][2], "95", hours="2")
    invoice(db_url, books["orders"][2], None)
    pump_until(loop, lambda: tab.model.rowCount() == 2 and cell(tab.table, 1, 4))
    assert tab.summary.text() == "2 completed work orders worth $370.00 are not invoiced"
    assert cell(tab.table, 1, 4) == "Draft exists"
    assert tab.table.selectionModel().selectedRows()[0].row() == 0  # kept through the update

    # Double-click: the work order opens in the editor, where it is invoiced.
    view = tab.table
    middle = view.visualRect(view.model().index(0, 1)).center()
    # A double click is a click and then a double-click event (QTest sends the second).
    act(loop, lambda: qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=middle))
    act(loop, lambda: qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=middle))
    pump_until(loop, lambda: books["orders"][1] in app.editors)
    editor = app.editors[books["orders"][1]]
    pump_until(loop, lambda: editor.record is not None)
    act(loop, editor.close)


def test_a_payment_in_the_form_takes_the_invoice_off_the_aging_list(
    loop, qtbot, db_url, start, tmp_path, settings_dir, books
) -> None:
    _app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.aging
    show_tab(loop, window, tab)
    assert tab.model.rowCount() == 1
    assert [cell(tab.table, 0, c) for c in range(7)] == [
        "INV-1001",
        "José Núñez",
        one(db_url, "SELECT number FROM work_orders WHERE id = %s", books["orders"][0]),
        "Fri 20 Nov 2026",
        "$250.00",
        "$250.00",
        "0–30",  # 20 Nov, seen on 1 Dec
    ]
    assert tab.tiles["0–30"].text() == "$250.00 · 1 invoice"
    assert tab.tiles["90+"].text() == "$0.00 · 0 invoices"
    assert tab.summary.text() == "1 invoice is unpaid: $250.00"
    assert not tab.pay_button.isEnabled()  # nothing chosen yet

    # Cash taken at another desk: the balance follows without a refresh.
    invoice_id = one(db_url, "SELECT id FROM invoices WHERE number = 'INV-1001'")
    run(
        db_url,
        lambda s: billing.record_payment(
            s, invoice_id=invoice_id, method="cash", amount="50", clock=on(DAY)
        ),
    )
    pump_until(loop, lambda: cell(tab.table, 0, 5) == "$200.00")
    assert tab.tiles["0–30"].text() == "$200.00 · 1 invoice"

    select_row(tab.table, 0)
    assert tab.pay_button.isEnabled()
    click(loop, qtbot, tab.pay_button)
    dialog = tab.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.amount.text() == "200.00"  # the balance
    assert dialog.method.currentData() == "check"
    assert dialog.check_number.isVisible() and not dialog.card_last4.isVisible()
    act(loop, lambda: dialog.method.setCurrentIndex(dialog.method.findData("card")))
    assert dialog.card_last4.isVisible() and not dialog.check_number.isVisible()
    act(loop, lambda: dialog.method.setCurrentIndex(dialog.method.findData("check")))

    # More than the balance: the database's own sentence, and what was typed stays.
    dialog.amount.setText("300")
    dialog.check_number.setText("2231")
    dialog.reference.setText("mailed Nov 28")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: bool(dialog.sentence()))
    assert dialog.sentence() == "300.00 is more than the balance of INV-1001 (200.00)."
    assert dialog.amount.text() == "300"
    assert (dialog.check_number.text(), dialog.reference.text()) == ("2231", "mailed Nov 28")
    assert dialog.isVisible() and dialog.go.isEnabled()
    screenshot(dialog, "office-payment-refused.png")
    assert one(db_url, "SELECT count(*) FROM payments") == 1  # the cash only

    dialog.amount.setText("200")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: tab.dialog is None and tab.model.rowCount() == 0)
    assert tab.summary.text() == "Every posted invoice is paid."
    assert tab.tiles["0–30"].text() == "$0.00 · 0 invoices"
    assert sql(db_url, "SELECT method, amount, check_number FROM payments ORDER BY id") == [
        ("cash", 50, None),
        ("check", 200, "2231"),
    ]
    assert one(db_url, "SELECT status FROM work_orders WHERE id = %s", books["orders"][0]) == (
        "closed"
    )


def test_stock_follows_a_receipt_at_another_desk_and_moves_from_the_forms(
    loop, qtbot, db_url, start, tmp_path, settings_dir, books
) -> None:
    _app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.stock
    show_tab(loop, window, tab)
    assert tab.place.currentText() == "Warehouse"
    assert [cell(tab.table, r, 0) for r in range(tab.model.rowCount())] == ["CAP-455", "CON-30A"]
    assert [cell(tab.table, 0, c) for c in range(6)] == [
        "CAP-455",
        "Capacitor 45/5",
        "10",
        "$9.50",
        "$95.00",
        "—",
    ]
    assert tab.note.text() == "1 part is at or below its reorder point."
    assert all(button.isVisible() for button in tab.movement_buttons.values())

    # Another workstation books a delivery: the tab shows it without a refresh.
    parts, warehouse = books["parts"], books["warehouse"]
    run(
        db_url,
        lambda s: stock.receive(
            s, location_id=warehouse, part_id=parts["CAP-455"], quantity=5, unit_cost="12.50"
        ),
    )
    pump_until(loop, lambda: cell(tab.table, 0, 2) == "15")
    assert cell(tab.table, 0, 3) == "$10.50"  # (10 × 9.50 + 5 × 12.50) / 15
    assert tab.summary.text() == "Warehouse: 2 parts worth $211.50"

    # A transfer the books say the warehouse cannot cover asks first; taken anyway, the
    # warehouse goes below zero (a miscount) and the truck has them.
    select_row(tab.table, 0)
    loop.run_until_complete(tab.open_form(Movement.TRANSFER))
    form = tab.dialog
    assert form is not None and form.chosen_part() == parts["CAP-455"]
    assert form.destination.currentText() == "Truck 1"
    assert form.books.text() == "The books say 15 on hand here."
    form.quantity.setText("20")
    click(loop, qtbot, form.go)
    pump_until(loop, lambda: form.findChild(QMessageBox, "confirmShortStock") is not None)
    question = form.findChild(QMessageBox, "confirmShortStock")
    assert question.isVisible()
    assert form.sentence() == "Warehouse has 15 of Capacitor 45/5 (CAP-455) on hand, not 20."
    assert question.informativeText() == "Take it anyway (a miscount)?"
    screenshot(form, "office-transfer-short.png")
    screenshot(question, "office-transfer-question.png")
    (anyway,) = [
        b
        for b in question.buttons()
        if question.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    ]
    act(loop, anyway.click)
    pump_until(loop, lambda: tab.dialog is None and cell(tab.table, 0, 2) == "-5")
    assert one(db_url, "SELECT count(*) FROM stock_movements WHERE confirmed_short") == 1
    act(loop, lambda: tab.choose_location("Truck 1"))
    pump_until(loop, lambda: tab.summary.text() == "Truck 1: 1 part worth $210.00")
    assert cell(tab.table, 0, 2) == "20"

    # Low stock only: what to restock at the warehouse; a new reorder point joins it.
    act(loop, lambda: tab.choose_location("Warehouse"))
    act(loop, lambda: tab.low_only.setChecked(True))
    pump_until(loop, lambda: tab.summary.text() == "Warehouse: 1 part to restock")
    assert [cell(tab.table, r, 0) for r in range(tab.model.rowCount())] == ["CON-30A"]
    loop.run_until_complete(tab.open_form(Movement.REORDER))
    form = tab.dialog
    act(loop, lambda: form.part.setCurrentIndex(form.part.findData(parts["CAP-455"])))
    form.quantity.setText("-1")
    click(loop, qtbot, form.go)
    pump_until(loop, lambda: bool(form.sentence()))
    assert form.quantity.text() == "-1" and "reorder point" in form.sentence()
    form.quantity.setText("6")
    click(loop, qtbot, form.go)
    pump_until(loop, lambda: tab.dialog is None and tab.model.rowCount() == 2)
    assert [cell(tab.table, r, 0) for r in range(2)] == ["CAP-455", "CON-30A"]


def test_a_csr_reads_the_lists_and_is_offered_no_stock_money_or_price_book_actions(
    loop, db_url, start, tmp_path, settings_dir, books, scratch_server: ScratchServer
) -> None:
    url = scratch_server.login(db_url, "csr")
    try:
        _app, window = open_window(loop, start, url, tmp_path)
        show_tab(loop, window, window.stock)
        assert window.stock.model.rowCount() == 2  # read as the CSR
        assert all(b.isHidden() for b in window.stock.movement_buttons.values())
        show_tab(loop, window, window.aging)
        assert window.aging.model.rowCount() == 1 and window.aging.pay_button.isHidden()
        select_row(window.aging.table, 0)
        assert window.aging.ask_payment() is None
        show_tab(loop, window, window.price_book)
        assert window.price_book.model.rowCount() == 2
        assert window.price_book.import_button.isHidden()
        assert window.price_book.export_button.isHidden()
        # The database refuses what the screen does not offer.
        with pytest.raises(PermissionDenied):
            loop.run_until_complete(
                window.workspace.run(
                    stock.receive,
                    location_id=books["warehouse"],
                    part_id=books["parts"]["CAP-455"],
                    quantity=1,
                )
            )
    finally:
        scratch_server.drop_logins()


def test_the_price_book_is_searched_imported_and_exported(
    loop, db_url, start, tmp_path, settings_dir, books
) -> None:
    _app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.price_book
    show_tab(loop, window, tab)
    assert tab.shown_codes() == ["CAP-455", "CON-30A"]
    assert [cell(tab.table, 0, c) for c in range(9)] == [
        "CAP-455",
        "Capacitor 45/5",
        "Part",
        "All trades",
        "each",
        "$9.50",
        "$38.00",
        "Yes",
        "Yes",
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,price\nSVC-DIAG,Diagnostic fee,89\nFLT-1,Filter,x\n", "utf-8")
    loop.run_until_complete(tab.import_file(bad))
    assert "Row 3: the price" in tab.problem.text()
    assert tab.problem.text().endswith("Nothing was imported.")
    assert one(db_url, "SELECT count(*) FROM parts") == 2

    good = tmp_path / "good.csv"
    good.write_text(
        "code,name,kind,trade,price,taxable\nSVC-DIAG,Diagnostic fee,service,hvac,89,no\n"
        "CAP-455,Capacitor 45/5,part,,38,yes\n",
        "utf-8",
    )
    loop.run_until_complete(tab.import_file(good))
    assert tab.done.text() == "Imported good.csv: 1 added, 0 changed, 1 unchanged."
    assert tab.problem.isHidden()
    pump_until(loop, lambda: tab.model.rowCount() == 3)
    act(loop, lambda: tab.search.setText("diag fee"))
    assert tab.shown_codes() == ["SVC-DIAG"]
    assert tab.note.text() == "1 of 3 match."
    assert cell(tab.table, 0, 2) == "Service" and cell(tab.table, 0, 3) == "HVAC"

    # A price changed at another desk shows at once.
    sql(db_url, "UPDATE parts SET unit_price = 92 WHERE sku = 'SVC-DIAG'")
    pump_until(loop, lambda: cell(tab.table, 0, 6) == "$92.00")

    out = tmp_path / "out.csv"
    loop.run_until_complete(tab.export_file(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfcode,name,kind,trade,unit,cost,price")
    assert tab.done.text() == f"Wrote the price book to {out}."


def test_the_lists_model_updates_row_by_row_and_keeps_the_selection(qapp) -> None:
    model = RecordsModel([Column("Name", lambda r: r[1])], key=lambda r: r[0])
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_records([(1, "a"), (2, "b"), (3, "c"), (4, "d")])
    selection = QItemSelectionModel(model)
    selection.select(model.index(2, 0), QItemSelectionModel.SelectionFlag.Select)
    seen: list[str] = []
    model.modelReset.connect(lambda: seen.append("reset"))
    model.rowsRemoved.connect(lambda _p, first, last: seen.append(f"-{first}:{last}"))
    model.rowsInserted.connect(lambda _p, first, last: seen.append(f"+{first}:{last}"))
    model.dataChanged.connect(lambda top, _bottom, _roles: seen.append(f"~{top.row()}"))
    model.set_records([(0, "z"), (1, "a"), (3, "C"), (5, "e"), (6, "f")])
    assert seen == ["-3:3", "-1:1", "+0:0", "~2", "+3:4"]
    assert [model.index(r, 0).data() for r in range(5)] == ["z", "a", "C", "e", "f"]
    assert [i.row() for i in selection.selectedIndexes()] == [2]  # still row "c"
    seen.clear()
    model.set_records([(3, "C"), (1, "a")])  # the order changed: laid out afresh
    assert seen[-1] == "reset"


# -- a busy office, on screen ------------------------------------------------------------
CUSTOMERS = [
    # name, labour ($/h), hours, completed, invoiced on (None: not yet; "draft": a draft)
    ("Harbor Point Dental", "125", "3", dt.date(2026, 7, 10), dt.date(2026, 7, 14)),
    ("Maple Grove HOA", "95", "6", dt.date(2026, 8, 20), dt.date(2026, 8, 24)),
    ("Priya Raman", "110", "1.5", dt.date(2026, 9, 25), dt.date(2026, 9, 28)),
    ("Oak Street Bakery", "140", "2", dt.date(2026, 10, 19), dt.date(2026, 10, 20)),
    ("Tomás Rivera", "95", "2.5", dt.date(2026, 11, 9), dt.date(2026, 11, 10)),
    ("Lakeview Apartments", "120", "8", dt.date(2026, 11, 24), dt.date(2026, 11, 25)),
    ("Greenleaf Preschool", "105", "2", dt.date(2026, 11, 26), "draft"),
    ("Daniel O'Connor", "95", "1", dt.date(2026, 11, 27), None),
    ("Sunrise Auto Body", "135", "4", dt.date(2026, 11, 30), None),
]
STOCKED = [
    # code, name, price, cost, warehouse, truck 1, reorder point at the warehouse
    ("CAP-455", "Run capacitor 45/5 µF", "38", "9.50", "24", "4", "10"),
    ("CON-30A", "Contactor 30A 24V coil", "64", "18.00", "3", "1", "5"),
    ("FLT-1625", "Filter 16×25×1 MERV 11", "19", "6.25", "60", "8", "20"),
    ("IGN-HSI", "Hot surface igniter", "68", "21.40", "4", "2", "4"),
    ("MTR-CND", "Condenser fan motor 1/4 hp", "189", "74.00", "5", "0", "2"),
    ("REF-410A", "Refrigerant R-410A (lb)", "42", "11.80", "120", "15", "40"),
    ("TSTAT-PRO", "Programmable thermostat", "149", "52.00", "1", "0", "3"),
]


def busy_office(url: str) -> None:
    """Work completed over five months, invoiced in every age bucket (one part paid, one
    still a draft, two not yet), a stocked warehouse and truck, and services too."""
    small_company(url)
    site_of = {}
    for name, labour, hours, completed, invoiced in CUSTOMERS:
        customer = one(url, "INSERT INTO customers (name) VALUES (%s) RETURNING id", name)
        site = one(
            url,
            "INSERT INTO service_sites (customer_id, street, city, state, zip) "
            "VALUES (%s, '200 N Michigan Ave', 'Chicago', 'IL', '60601') RETURNING id",
            customer,
        )
        order = one(
            url,
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, status) "
            "SELECT %s, %s, min(id), 'scheduled' FROM job_types RETURNING id",
            customer,
            site,
        )
        site_of[name] = order
        charge_and_complete(url, order, labour, hours=hours)
        sql(
            url,
            "UPDATE status_history SET changed_at = %s WHERE work_order_id = %s",
            dt.datetime.combine(completed, dt.time(16, 30), tzinfo=TZ),
            order,
        )
        if invoiced == "draft":
            invoice(url, order, None)
        elif isinstance(invoiced, dt.date):
            invoice(url, order, invoiced)
    paid = one(
        url,
        "SELECT id FROM invoices WHERE work_order_id = %s",
        site_of["Maple Grove HOA"],
    )
    run(
        url,
        lambda s: billing.record_payment(
            s,
            invoice_id=paid,
            method="check",
            amount="300",
            check_number="1042",
            clock=on(dt.date(2026, 9, 15)),
        ),
    )
    warehouse = one(url, "SELECT id FROM stock_locations WHERE kind = 'warehouse'")
    truck = one(url, "SELECT id FROM stock_locations WHERE name = 'Truck 1'")
    for code, name, price, cost, at_warehouse, on_truck, reorder in STOCKED:
        part = add_part(url, code, name, price, cost)
        for place, quantity in ((warehouse, at_warehouse), (truck, on_truck)):
            if quantity != "0":
                run(
                    url,
                    lambda s, p=place, q=quantity, i=part: stock.receive(
                        s, location_id=p, part_id=i, quantity=q
                    ),
                )
        run(
            url,
            lambda s, i=part, r=reorder: stock.set_reorder_point(
                s, location_id=warehouse, part_id=i, reorder_point=r
            ),
        )
    for code, name, price in (
        ("SVC-DIAG", "Diagnostic visit", "89"),
        ("SVC-TUNE", "Furnace tune-up", "129"),
        ("SVC-AC", "AC tune-up", "139"),
    ):
        add_part(url, code, name, price, "0", kind="service")
    sql(url, "UPDATE parts SET trade = 'hvac' WHERE sku LIKE 'SVC-%%'")
    sql(url, "UPDATE parts SET active = false WHERE sku = 'SVC-AC'")


def everything_fits(view) -> bool:
    """No column title or cell is cut short (the one that stretches takes what is left)."""
    header = view.horizontalHeader()
    return all(
        header.sectionSize(i) >= header.sectionSizeFromContents(i).width()
        and header.sectionSize(i) >= view.sizeHintForColumn(i)
        for i in range(header.count())
    )


def test_each_tab_of_a_busy_office_reads_at_a_glance(
    loop, db_url, start, tmp_path, settings_dir
) -> None:
    busy_office(db_url)
    _app, window = open_window(loop, start, db_url, tmp_path)
    pump_until(loop, lambda: window.not_invoiced.model.rowCount() == 3)
    tab = window.not_invoiced
    assert tab.summary.text() == "3 completed work orders worth $845.00 are not invoiced"
    assert [cell(tab.table, r, 1) for r in range(3)] == [
        "Greenleaf Preschool",
        "Daniel O'Connor",
        "Sunrise Auto Body",
    ]
    assert cell(tab.table, 0, 2) == "Thu 26 Nov 2026"
    pump_until(loop, lambda: everything_fits(tab.table))
    screenshot(window, "office-not-invoiced.png")

    show_tab(loop, window, window.aging)
    aging = window.aging
    assert [tile.text() for tile in aging.tiles.values()] == [
        "$1,197.50 · 2 invoices",
        "$280.00 · 1 invoice",
        "$165.00 · 1 invoice",
        "$645.00 · 2 invoices",
    ]
    assert cell(aging.table, 0, 1) == "Harbor Point Dental"  # oldest first
    assert cell(aging.table, 1, 5) == "$270.00"  # $570 less $300 paid
    pump_until(loop, lambda: everything_fits(aging.table))
    select_row(aging.table, 1)
    screenshot(window, "office-unpaid-by-age.png")

    show_tab(loop, window, window.stock)
    assert window.stock.model.rowCount() == len(STOCKED)
    assert window.stock.note.text() == "3 parts are at or below their reorder point."
    pump_until(loop, lambda: everything_fits(window.stock.table))
    screenshot(window, "office-stock.png")

    show_tab(loop, window, window.price_book)
    assert window.price_book.note.text() == f"{len(STOCKED) + 3} parts and services."
    pump_until(loop, lambda: everything_fits(window.price_book.table))
    screenshot(window, "office-price-book.png")
