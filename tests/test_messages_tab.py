"""The work order editor's Messages tab on a real database and a real (offscreen) Qt: the
on-the-way text queued when a visit is set en route from psql shows up live, a message is
cancelled and resent from the tab, a CSR is offered no Cancel, and a refusal is said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from tests.qt_app import act, options_for, pump_until, wait_for


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def texting_company(url: str) -> dict[str, int]:
    """One customer who agreed to texts, and a visit booked for the server's now (so
    setting it en route is about a visit happening today, whenever this runs)."""
    settings = {
        "business_timezone": "America/Chicago",
        "company_name": "Lakeview Home Services",
        "company_phone": "(312) 555-0100",
        "message_channels": ["sms", "email"],
    }
    with psycopg.connect(libpq_url(url)) as db:
        for key, value in settings.items():
            db.execute(
                "INSERT INTO app_settings (key, value) VALUES (%s, %s::jsonb) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )
        tech = db.execute(
            "INSERT INTO technicians (name, trade, colour, home_lat, home_lon) "
            "VALUES ('Ava Kowalski', 'hvac', '#1f77b4', 41.87, -87.65) RETURNING id"
        ).fetchone()[0]
        customer = db.execute(
            "INSERT INTO customers (name, email, message_consent) "
            "VALUES ('José Núñez', 'jose@example.net', 'informational') RETURNING id"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO customer_phones (customer_id, number, label) "
            "VALUES (%s, '+13125550142', 'mobile')",
            (customer,),
        )
        site = db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip, lat, lon) "
            "VALUES (%s, '1432 W Belmont Ave', 'Chicago', 'IL', '60657', 41.94, -87.67) "
            "RETURNING id",
            (customer,),
        ).fetchone()[0]
        job = db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('hvac', 'No heat call', 90) RETURNING id"
        ).fetchone()[0]
        order = db.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, status) "
            "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
            (customer, site, job),
        ).fetchone()[0]
        visit = db.execute(
            "INSERT INTO visits (work_order_id, starts, ends, status) "
            "VALUES (%s, now(), now() + interval '90 minutes', 'scheduled') RETURNING id",
            (order,),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO visit_technicians (visit_id, technician_id, is_lead) "
            "VALUES (%s, %s, true)",
            (visit, tech),
        )
    return {"order": order, "visit": visit, "customer": customer}


@pytest.fixture
def company(db_url: str) -> dict[str, int]:
    return texting_company(db_url)


def open_tab(loop, start, url: str, tmp_path: Path, order: int):
    app, task = start(options_for(url, tmp_path))
    wait_for(loop, app.live, task)
    act(loop, lambda: app.open_work_order(order))
    pump_until(loop, lambda: order in app.editors)
    editor = app.editors[order]
    pump_until(loop, lambda: editor.record is not None)
    tab = editor.show_tab("messages")
    return app, editor, tab


def click(loop, qtbot, button) -> None:
    act(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))


def select(loop, tab, row: int) -> None:
    act(loop, lambda: tab.table.selectRow(row))


def cells(tab, row: int) -> list[str]:
    return [tab.table.item(row, column).text() for column in range(tab.table.columnCount())]


def en_route(url: str, visit: int) -> None:
    sql(url, "UPDATE visits SET status = 'en_route' WHERE id = %s", visit)


def test_the_on_the_way_text_shows_live_and_is_cancelled_and_resent(
    loop, qtbot, db_url, start, tmp_path, settings_dir, company
) -> None:
    _app, editor, tab = open_tab(loop, start, db_url, tmp_path, company["order"])
    assert tab.table.rowCount() == 0 and tab.empty.isVisibleTo(tab)

    en_route(db_url, company["visit"])  # another client: psql
    pump_until(loop, lambda: tab.table.rowCount() == 2)
    by_channel = {cells(tab, row)[2]: cells(tab, row) for row in range(2)}
    text = by_channel["Text message"]
    assert text[1] == "On the way" and text[3] == "(312) 555-0142" and text[4] == "Queued"
    assert by_channel["Email"][3] == "jose@example.net"
    assert editor.tabs.tabText(editor.tabs.indexOf(tab)) == "Messages (2)"
    row = next(r for r in range(2) if cells(tab, r)[2] == "Text message")
    select(loop, tab, row)
    assert "Ava is on the way" in tab.body.toPlainText()
    assert "Lakeview Home Services" in tab.body.toPlainText()
    assert tab.cancel_button.isVisible() and not tab.resend_button.isVisible()
    tab.grab().save(str(tmp_path / "messages-tab.png"))

    click(loop, qtbot, tab.cancel_button)
    pump_until(loop, lambda: cells(tab, row)[4].startswith("Cancelled"))
    assert tab.selected() is not None and tab.selected().channel.value == "sms"  # kept
    assert tab.resend_button.isVisible() and not tab.cancel_button.isVisible()

    click(loop, qtbot, tab.resend_button)
    pump_until(loop, lambda: tab.table.rowCount() == 3)
    pump_until(loop, lambda: tab.selected() is not None and tab.selected().resend_of_id)
    again = tab.selected()
    assert again.state.value == "queued" and again.channel.value == "sms"
    assert cells(tab, 0)[4] == "Queued"  # newest first
    states = sql(db_url, "SELECT state FROM outbox_messages ORDER BY id")
    assert [s for (s,) in states].count("queued") == 2
    tab.grab().save(str(tmp_path / "messages-tab-resent.png"))


def test_a_refusal_is_said_in_the_tab(
    loop, qtbot, db_url, start, tmp_path, settings_dir, company
) -> None:
    en_route(db_url, company["visit"])
    _app, editor, tab = open_tab(loop, start, db_url, tmp_path, company["order"])
    pump_until(loop, lambda: tab.table.rowCount() == 2)
    waiting = tab.selected()
    assert waiting is not None and waiting.state.value == "queued"
    # Resend is not offered for a message still waiting; the database refuses it anyway.
    act(loop, lambda: editor.spawn(tab._resend(waiting)))
    pump_until(loop, lambda: tab.error.isVisible())
    assert tab.error.text() == "That message is still waiting to be sent."

    # Sent meanwhile by a worker elsewhere: cancelling the version seen is refused.
    sql(db_url, "UPDATE outbox_messages SET state = 'cancelled' WHERE id = %s", waiting.id)
    act(loop, lambda: editor.spawn(tab._cancel(waiting)))
    pump_until(loop, lambda: "changed in the meantime" in tab.error.text())
    pump_until(loop, lambda: tab.selected() is not None and tab.selected().state.value != "queued")


def test_a_csr_may_resend_but_is_not_offered_cancel(
    loop, qtbot, db_url, start, tmp_path, settings_dir, company, scratch_server: ScratchServer
) -> None:
    en_route(db_url, company["visit"])
    url = scratch_server.login(db_url, "csr")
    try:
        _app, _editor, tab = open_tab(loop, start, url, tmp_path, company["order"])
        pump_until(loop, lambda: tab.table.rowCount() == 2)
        assert tab.selected() is not None and tab.selected().state.value == "queued"
        assert tab.cancel_button.isHidden() and tab.resend_button.isHidden()
        sql(db_url, "UPDATE outbox_messages SET state = 'cancelled'")
        pump_until(loop, lambda: tab.selected().state.value == "cancelled")
        assert tab.resend_button.isVisible() and tab.cancel_button.isHidden()
        click(loop, qtbot, tab.resend_button)
        pump_until(loop, lambda: tab.table.rowCount() == 3)
        assert not tab.error.isVisible()
    finally:
        scratch_server.drop_logins()
