"""The work order editor's Invoices tab on a real database and a real (offscreen) Qt:
invoice the completed work in two clicks, take a payment in a form that keeps what was
typed when the database refuses it, and follow a payment taken on another workstation."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from dispatch_app.config import libpq_url
from tests.companies import small_company
from tests.qt_app import act, finish, options_for, pump_until, wait_for


def sql(url: str, statement: str, *args: object) -> list[tuple] | None:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def billed_editor(loop, start, db_url, tmp_path, settings_dir, qtbot):
    """The app on the small company; the first visit's work order completed with 1.5 h of
    labour and a taxable part (8.25% tax), open in the editor on its Invoices tab."""
    small_company(db_url)
    order = sql(db_url, "SELECT work_order_id FROM visits ORDER BY starts NULLS LAST LIMIT 1")[0][0]
    sql(
        db_url,
        "INSERT INTO app_settings (key, value) VALUES ('tax_rate', '\"8.25\"') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    sql(
        db_url,
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price, taxable) "
        "VALUES (%s, 'labour', 'Diagnose and repair', 1.5, 95, false), "
        "(%s, 'material', '45/5 µF capacitor', 2, 18.75, true)",
        order,
        order,
    )
    sql(db_url, "UPDATE visits SET status = 'completed' WHERE work_order_id = %s", order)
    sql(db_url, "UPDATE work_orders SET status = 'completed' WHERE id = %s", order)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    act(loop, lambda: app.open_work_order(order))
    pump_until(loop, lambda: order in app.editors)
    editor = app.editors[order]
    pump_until(loop, lambda: editor.record is not None)
    tab = editor.show_tab("invoices")
    return app, task, editor, tab, order


def click(loop, qtbot, button) -> None:
    act(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))


def test_completed_work_is_invoiced_posted_and_paid_from_the_tab(
    loop, qtbot, db_url, billed_editor, tmp_path
) -> None:
    app, task, editor, tab, _order = billed_editor
    assert tab.create_button.isEnabled()
    click(loop, qtbot, tab.create_button)
    pump_until(loop, lambda: tab.table.rowCount() == 1)
    assert tab.table.item(0, 2).text() == "Draft"
    assert tab.table.item(0, 4).text() == "$183.09"
    assert not tab.create_button.isEnabled()  # the work is billed once
    assert tab.post_button.isVisible() and not tab.pay_button.isVisible()

    click(loop, qtbot, tab.post_button)
    pump_until(loop, lambda: tab.table.item(0, 0).text() == "INV-1001")
    pump_until(loop, lambda: editor.record.status == "invoiced")
    assert tab.pay_button.isVisible() and not tab.post_button.isVisible()
    assert "Balance $183.09" in tab.summary.text()

    dialog = tab.ask_payment(refund=False)
    assert dialog is not None and dialog.amount.text() == "183.09"
    # Card with a wrong last four: refused in the form, and what was typed stays.
    dialog.amount.setText("100.00")
    dialog.card_last4.setText("42")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: bool(dialog.sentence()))
    assert "last four digits" in dialog.sentence()
    assert dialog.isVisible() and dialog.amount.text() == "100.00"
    # More than the balance: the database's own sentence.
    dialog.amount.setText("500")
    dialog.card_last4.setText("4242")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: "more than the balance" in dialog.sentence())
    assert dialog.isVisible() and dialog.card_last4.text() == "4242"
    dialog.amount.setText("183.09")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: not dialog.isVisible())
    pump_until(loop, lambda: tab.table.item(0, 2).text() == "Paid")
    pump_until(loop, lambda: editor.record.status == "closed")
    assert "Card 01 Dec · ····4242" in tab.detail.text()
    assert tab.pdf_button.isVisible() and tab.print_button.isVisible()
    pdf = tmp_path / "INV-1001.pdf"
    assert loop.run_until_complete(tab.save_pdf("INV-1001", pdf)) is True
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    assert "INV-1001" in text and "Diagnose and repair" in text and "$183.09" in text

    if os.environ.get("DISPATCH_SCREENSHOTS"):
        editor.resize(1100, 640)
        editor.grab().save(str(Path(os.environ["DISPATCH_SCREENSHOTS"]) / "invoices-tab.png"))
    assert finish(loop, app, task) == 0


def test_a_payment_taken_at_another_desk_shows_up_in_the_open_tab(
    loop, qtbot, db_url, billed_editor
) -> None:
    app, task, _editor, tab, _order = billed_editor
    click(loop, qtbot, tab.create_button)
    pump_until(loop, lambda: tab.table.rowCount() == 1)
    click(loop, qtbot, tab.post_button)
    pump_until(loop, lambda: tab.table.item(0, 0).text() == "INV-1001")
    with psycopg.connect(libpq_url(db_url), options="-c dispatch.editor=frontdesk") as db:
        db.execute(
            "INSERT INTO payments (invoice_id, method, amount, check_number) "
            "SELECT id, 'check', 50, '1187' FROM invoices WHERE number = 'INV-1001'"
        )
    pump_until(loop, lambda: tab.table.item(0, 2).text() == "Partly paid")
    assert tab.table.item(0, 6).text() == "$133.09"
    assert "No. 1187" in tab.detail.text()
    assert finish(loop, app, task) == 0


def test_a_deposit_is_billed_before_the_work_and_taken_off_the_final_invoice(
    loop, qtbot, db_url, billed_editor
) -> None:
    app, task, _editor, tab, _order = billed_editor
    dialog = tab.ask_advance()
    dialog.amount.setText("1,5")  # a European decimal: refused, not guessed
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: bool(dialog.sentence()))
    dialog.amount.setText("100")
    click(loop, qtbot, dialog.go)
    pump_until(loop, lambda: not dialog.isVisible())
    pump_until(loop, lambda: tab.table.rowCount() == 1)
    assert tab.table.item(0, 1).text() == "Deposit invoice"
    click(loop, qtbot, tab.post_button)
    pump_until(loop, lambda: tab.table.item(0, 0).text() == "INV-1001")
    click(loop, qtbot, tab.create_button)
    pump_until(loop, lambda: tab.table.rowCount() == 2)
    assert tab.table.item(1, 1).text() == "Final invoice"
    assert tab.table.item(1, 4).text() == "$83.09"  # 183.09 less the 100.00 deposit
    assert "Less deposit invoice INV-1001" in tab.detail.text()
    assert finish(loop, app, task) == 0
