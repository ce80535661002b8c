"""The office's Billing & stock window on a real database and a real (offscreen) Qt:
the lists a bookkeeper works from, a payment taken from the aging list, and stock that
follows another workstation's receipt without a refresh."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import Qt

from dispatch_app.config import libpq_url
from tests.companies import small_company
from tests.qt_app import act, finish, options_for, pump_until, wait_for


def sql(url: str, statement: str, *args: object) -> list[tuple] | None:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def completed_with_charges(url: str, order: int, price: int) -> None:
    sql(
        url,
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price, "
        "taxable) VALUES (%s, 'labour', 'Repair', 1, %s, false)",
        order,
        price,
    )
    sql(url, "UPDATE visits SET status = 'completed' WHERE work_order_id = %s", order)
    sql(url, "UPDATE work_orders SET status = 'completed' WHERE id = %s", order)


@pytest.fixture
def office(loop, start, db_url, tmp_path, settings_dir):
    """Two completed work orders, one of them invoiced (INV-1001, $250 unpaid); a
    capacitor in the warehouse."""
    small_company(db_url)
    orders = [row[0] for row in sql(db_url, "SELECT id FROM work_orders ORDER BY id")]
    completed_with_charges(db_url, orders[0], 250)
    completed_with_charges(db_url, orders[1], 180)
    invoice = sql(
        db_url,
        "INSERT INTO invoices (work_order_id, customer_id) SELECT id, customer_id "
        "FROM work_orders WHERE id = %s RETURNING id",
        orders[0],
    )[0][0]
    sql(
        db_url,
        "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, unit_price) "
        "VALUES (%s, 'labour', 'Repair', 1, 250)",
        invoice,
    )
    sql(
        db_url,
        "UPDATE invoices SET status = 'posted', issued_on = '2026-11-20' WHERE id = %s",
        invoice,
    )
    sql(db_url, "UPDATE work_orders SET status = 'invoiced' WHERE id = %s", orders[0])
    part = sql(
        db_url,
        "INSERT INTO parts (sku, name, unit_price, cost) VALUES ('CAP-455', 'Capacitor 45/5', "
        "38, 9.5) RETURNING id",
    )[0][0]
    sql(
        db_url,
        "INSERT INTO stock_movements (part_id, location_id, quantity, unit_cost, reason) "
        "SELECT %s, id, 10, 9.5, 'received' FROM stock_locations WHERE kind = 'warehouse'",
        part,
    )
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    window = app.open_billing()
    pump_until(loop, lambda: window.unbilled_table.rowCount() == 1)
    return app, task, window, orders, part


def click(loop, qtbot, button) -> None:
    act(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))


def test_the_lists_say_what_is_not_invoiced_and_what_is_owed(loop, qtbot, db_url, office) -> None:
    app, task, window, orders, _part = office
    assert window.unbilled_summary.text() == "1 completed work order worth $180.00 is not invoiced"
    number = sql(db_url, "SELECT number FROM work_orders WHERE id = %s", orders[1])[0][0]
    assert window.unbilled_table.item(0, 0).text() == number
    assert window.unpaid_table.rowCount() == 1
    assert window.unpaid_table.item(0, 0).text() == "INV-1001"
    assert window.unpaid_table.item(0, 6).text() == "0–30"  # 20 Nov, seen on 1 Dec
    assert "$250.00" in window.tiles["0–30"].text()

    window.unpaid_table.selectRow(0)
    dialog = window.ask_payment()
    assert dialog is not None and dialog.amount.text() == "250.00"
    dialog.check_number.setText("")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: bool(dialog.sentence()))
    assert dialog.sentence() == "A check payment needs the check number."
    dialog.amount.setText("300")
    dialog.check_number.setText("2231")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: "more than the balance" in dialog.sentence())
    assert dialog.check_number.text() == "2231"  # kept as typed
    dialog.amount.setText("250")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: not dialog.isVisible())
    pump_until(loop, lambda: window.unpaid_table.rowCount() == 0)
    assert sql(db_url, "SELECT status FROM work_orders WHERE id = %s", orders[0]) == [("closed",)]

    if os.environ.get("DISPATCH_SCREENSHOTS"):
        folder = Path(os.environ["DISPATCH_SCREENSHOTS"])
        window.tabs.setCurrentIndex(0)
        window.grab().save(str(folder / "billing-not-invoiced.png"))
    assert finish(loop, app, task) == 0


def test_stock_follows_a_receipt_at_another_desk(loop, qtbot, db_url, office) -> None:
    app, task, window, _orders, part = office
    window.tabs.setCurrentIndex(2)
    pump_until(loop, lambda: window.stock_table.rowCount() == 1)
    assert window.stock_table.item(0, 2).text() == "10"
    sql(
        db_url,
        "INSERT INTO stock_movements (part_id, location_id, quantity, unit_cost, reason) "
        "SELECT %s, id, 5, 12.5, 'received' FROM stock_locations WHERE kind = 'warehouse'",
        part,
    )
    pump_until(loop, lambda: window.stock_table.item(0, 2).text() == "15")
    assert window.stock_table.item(0, 3).text() == "$10.50"  # (10 × 9.50 + 5 × 12.50) / 15

    # A transfer the warehouse cannot cover is refused in the form, with the count.
    loop.run_until_complete(window.open_stock_form("transfer"))
    dialog = window.dialog
    dialog.quantity.setText("20")
    click(loop, qtbot, dialog.go)
    pump_until(
        loop, lambda: "has 15 of Capacitor 45/5 (CAP-455) on hand, not 20" in dialog.sentence()
    )
    dialog.quantity.setText("4")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: not dialog.isVisible())
    pump_until(loop, lambda: window.stock_table.item(0, 2).text() == "11")
    window.place.setCurrentIndex(window.place.findText("Truck 1"))
    assert window.stock_table.item(0, 2).text() == "4"

    if os.environ.get("DISPATCH_SCREENSHOTS"):
        window.place.setCurrentIndex(0)
        window.grab().save(str(Path(os.environ["DISPATCH_SCREENSHOTS"]) / "billing-stock.png"))
    assert finish(loop, app, task) == 0


def test_the_price_book_is_imported_and_exported_from_the_window(
    loop, qtbot, db_url, office, tmp_path
) -> None:
    app, task, window, _orders, _part = office
    window.tabs.setCurrentIndex(3)
    pump_until(loop, lambda: window.book_table.rowCount() == 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,price\nSVC-DIAG,Diagnostic fee,89\nFLT-1,Filter,x\n", "utf-8")
    loop.run_until_complete(window.import_file(bad))
    assert window.book_error.isVisible()
    assert "Row 3: the price" in window.book_error.text()
    assert window.book_error.text().endswith("Nothing was imported.")
    assert sql(db_url, "SELECT count(*) FROM parts") == [(1,)]

    good = tmp_path / "good.csv"
    good.write_text(
        "code,name,kind,price,taxable\nSVC-DIAG,Diagnostic fee,service,89,no\n"
        "CAP-455,Capacitor 45/5,part,38,yes\n",
        "utf-8",
    )
    loop.run_until_complete(window.import_file(good))
    assert window.book_done.text() == "Imported good.csv: 1 added, 0 changed, 1 unchanged."
    pump_until(loop, lambda: window.book_table.rowCount() == 2)
    window.book_search.setText("diag")
    assert [window.book_table.item(0, 0).text()] == ["SVC-DIAG"]
    assert window.book_table.rowCount() == 1

    out = tmp_path / "out.csv"
    loop.run_until_complete(window.export_file(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfcode,name,kind,trade,unit,cost,price")
    assert finish(loop, app, task) == 0
