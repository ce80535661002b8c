"""The office's Agreements tab on a real database and a real (offscreen) Qt: plans and
agreements with their next visit, a plan added, a plan sold to a customer found by
phone, an agreement moved to another plan, the due visits booked at once (then opened
in the editor), and another desk's sale showing without a refresh."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, Qt

from dispatch_app.services.follow_ups import agreements
from tests.companies import DAY, small_company
from tests.qt_app import act, pump_until
from tests.test_agreements import _noon
from tests.test_office_window import (
    cell,
    click,
    one,
    open_window,
    run,
    screenshot,
    select_row,
    show_tab,
    sql,
)


@pytest.fixture
def plans(db_url: str) -> dict[str, int]:
    company = small_company(db_url)
    job = one(db_url, "SELECT id FROM job_types ORDER BY id LIMIT 1")
    made = {
        name: one(
            db_url,
            "INSERT INTO maintenance_plans (name, price, visits_per_year, job_type_id, "
            "covered_equipment) VALUES (%s, %s, %s, %s, 'Furnace and central AC') RETURNING id",
            name,
            price,
            visits,
            job,
        )
        for name, price, visits in (("Comfort Club", "189.00", 2), ("Comfort Plus", "289.00", 4))
    }
    customer = one(db_url, "SELECT customer_id FROM work_orders ORDER BY id LIMIT 1")
    caller = one(db_url, "INSERT INTO customers (name) VALUES ('Amelia Brooks') RETURNING id")
    sql(
        db_url,
        "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550188')",
        caller,
    )
    sql(
        db_url,
        "INSERT INTO service_sites (customer_id, street, city, state, zip) "
        "VALUES (%s, '12 Oak St', 'Chicago', 'IL', '60614')",
        caller,
    )
    run(
        db_url,
        lambda s: agreements.sell_agreement(
            s,
            customer_id=customer,
            plan_id=made["Comfort Club"],
            starts_on=DAY,
            clock=_noon(DAY),
        ),
    )
    return {**made, "customer": customer, "caller": caller, "job": job, "techs": len(company)}


def test_plans_and_agreements_are_sold_changed_and_booked_from_the_tab(
    loop, qtbot, db_url, start, tmp_path, settings_dir, plans
) -> None:
    _app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.agreements
    show_tab(loop, window, tab)
    assert tab.summary.text() == (
        "1 agreement running, worth $189.00 a year · 1 visit due in 30 days"
    )
    assert [cell(tab.plan_table, r, 0) for r in range(2)] == ["Comfort Club", "Comfort Plus"]
    assert cell(tab.plan_table, 0, 6) == "1"  # customers on it
    assert cell(tab.agreement_table, 0, 1) == "Comfort Club"
    assert cell(tab.agreement_table, 0, 4) == "Tue 01 Dec 2026"  # due today, not booked
    assert cell(tab.agreement_table, 0, 5) == ""

    # A new plan, with a mistake first: the form says so and keeps what was typed.
    click(loop, qtbot, tab.add_plan)
    pump_until(loop, lambda: tab.dialog is not None and tab.dialog.isVisible())
    form = tab.dialog
    act(loop, lambda: (form.name.setText("Generator Care"), form.price.setText("lots")))
    act(loop, form._submit)
    assert form.sentence() == "Type the price as a number, like 189.00."
    act(loop, lambda: form.price.setText("149"))
    act(loop, form._submit)
    pump_until(loop, lambda: tab.dialog is None and tab.plans.rowCount() == 3)
    assert tab.done.text() == "Generator Care saved."

    # Sold to a caller found by phone number, from the 15th.
    click(loop, qtbot, tab.sell)
    pump_until(loop, lambda: tab.dialog is not None and tab.dialog.isVisible())
    sale = tab.dialog
    act(loop, lambda: sale.search.setText("(312) 555"))
    pump_until(loop, lambda: sale.matches.count() > 0)
    act(loop, lambda: sale.matches.setCurrentRow(0))
    act(
        loop,
        lambda: sale.plan.setCurrentIndex(
            sale.plan.findText("Generator Care", Qt.MatchFlag.MatchStartsWith)
        ),
    )
    act(loop, lambda: sale.starts.setDate(QDate(2026, 12, 15)))
    act(loop, sale._submit)
    pump_until(loop, lambda: tab.dialog is None and tab.agreements.rowCount() == 2)
    assert one(db_url, "SELECT count(*) FROM agreements WHERE name = 'Generator Care'") == 1

    # The first agreement moves to four visits a year from today.
    select_row(tab.agreement_table, 0)
    click(loop, qtbot, tab.move_plan)
    pump_until(loop, lambda: tab.dialog is not None and tab.dialog.isVisible())
    moving = tab.dialog
    assert moving.plan.currentText().startswith("Comfort Plus")
    act(loop, moving._submit)
    pump_until(loop, lambda: tab.dialog is None)
    pump_until(
        loop, lambda: one(db_url, "SELECT visits_per_year FROM agreements ORDER BY id LIMIT 1") == 4
    )

    # The due visits at once: into the unassigned queue, and double-click opens one.
    click(loop, qtbot, tab.book_now)
    pump_until(loop, lambda: tab.done.text().endswith("booked into the unassigned queue."))
    booked = sql(db_url, "SELECT agreement_due_on FROM work_orders WHERE agreement_id IS NOT NULL")
    assert sorted(row[0] for row in booked) == [dt.date(2026, 12, 1), dt.date(2026, 12, 15)]
    pump_until(loop, lambda: cell(tab.agreement_table, 0, 5).startswith("WO-"))
    opened: list[int] = []
    window.openWorkOrder.connect(opened.append)
    act(loop, lambda: tab.agreement_table.activated.emit(tab.agreements.index(0, 0)))
    assert opened and opened[0] == one(
        db_url, "SELECT id FROM work_orders WHERE agreement_due_on = '2026-12-01'"
    )
    screenshot(window, "office-agreements.png")


def test_another_desks_sale_shows_without_a_refresh(
    loop, db_url, start, tmp_path, settings_dir, plans
) -> None:
    _app, window = open_window(loop, start, db_url, tmp_path)
    tab = window.agreements
    show_tab(loop, window, tab)
    assert tab.agreements.rowCount() == 1
    other = plans["caller"]
    run(
        db_url,
        lambda s: agreements.sell_agreement(
            s,
            customer_id=other,
            plan_id=plans["Comfort Plus"],
            starts_on=DAY,
            clock=_noon(DAY),
        ),
    )
    pump_until(loop, lambda: tab.agreements.rowCount() == 2)
    assert tab.summary.text().startswith("2 agreements running, worth $478.00 a year")
