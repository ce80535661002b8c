"""Maintenance agreements book their due visits: the right days over a year, Feb 29 in
and out of leap years, a plan changed mid-year, each visit once, ahead of time."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.domain.clock import FixedClock
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.follow_ups import agreements
from dispatch_app.services.follow_ups.agreements import Sessions
from tests.companies import operate

TZ = ZoneInfo("America/Chicago")


def _company(url: str) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "INSERT INTO app_settings (key, value) VALUES ('business_timezone', "
            "'\"America/Chicago\"') ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        job = db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('hvac', 'Furnace tune-up', 60) RETURNING id"
        ).fetchone()[0]
        customer = db.execute(
            "INSERT INTO customers (name) VALUES ('Zoë Ødegaard') RETURNING id"
        ).fetchone()[0]
        site = db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip) "
            "VALUES (%s, '77 Elm St', 'Evanston', 'IL', '60201') RETURNING id",
            (customer,),
        ).fetchone()[0]
        plans = {}
        for name, visits, term in (("Comfort Club", 2, 12), ("Comfort Club Plus", 4, 12)):
            plans[visits] = db.execute(
                "INSERT INTO maintenance_plans (name, price, visits_per_year, term_months, "
                "job_type_id, covered_equipment) VALUES (%s, 189, %s, %s, %s, 'Furnace, AC') "
                "RETURNING id",
                (name, visits, term, job),
            ).fetchone()[0]
    return {"job": job, "customer": customer, "site": site, "twice": plans[2], "four": plans[4]}


def _agreement(url: str, customer: int, starts: dt.date, ends: dt.date, visits: int) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        return int(
            db.execute(
                "INSERT INTO agreements (customer_id, name, starts_on, ends_on, visits_per_year) "
                "VALUES (%s, 'Plan', %s, %s, %s) RETURNING id",
                (customer, starts, ends, visits),
            ).fetchone()[0]
        )


def _sell(url: str, **sale: Any) -> int:
    """A plan sold through the operation the office uses."""
    return operate(url, lambda s: agreements.sell_agreement(s, **sale))


def _due(url: str, agreement: int, through: dt.date) -> list[dt.date]:
    return operate(url, lambda s: agreements.due_dates(s, agreement, through=through))


def _booked(url: str, agreement: int) -> list[dict[str, Any]]:
    with psycopg.connect(libpq_url(url)) as db:
        db.row_factory = psycopg.rows.dict_row
        return db.execute(
            "SELECT w.agreement_due_on AS due, w.source, w.status, w.description, w.site_id, "
            "w.job_type_id, (SELECT count(*) FROM visits v WHERE v.work_order_id = w.id "
            "AND v.status = 'unscheduled' AND v.starts IS NULL) AS unscheduled "
            "FROM work_orders w WHERE w.agreement_id = %s ORDER BY w.agreement_due_on",
            (agreement,),
        ).fetchall()


def _noon(day: dt.date) -> FixedClock:
    return FixedClock(dt.datetime.combine(day, dt.time(12), tzinfo=TZ))


# -- when visits fall due ----------------------------------------------------------------
def test_visits_are_spread_over_the_agreement_year_from_its_start(db_url: str) -> None:
    company = _company(db_url)
    quarterly = _agreement(
        db_url, company["customer"], dt.date(2027, 1, 31), dt.date(2028, 1, 31), 4
    )
    # From the start each time: Jan 31 → Apr 30 → Jul 31 → Oct 31, never drifting to the 30th.
    assert _due(db_url, quarterly, dt.date(2030, 1, 1)) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 4, 30),
        dt.date(2027, 7, 31),
        dt.date(2027, 10, 31),
    ]
    assert _due(db_url, quarterly, dt.date(2027, 7, 30)) == [
        dt.date(2027, 1, 31),
        dt.date(2027, 4, 30),
    ]


def test_a_leap_day_start_falls_on_feb_28_in_other_years_and_feb_29_again_in_the_next_leap_year(
    db_url: str,
) -> None:
    company = _company(db_url)
    yearly = _agreement(db_url, company["customer"], dt.date(2028, 2, 29), dt.date(2033, 3, 1), 1)
    assert _due(db_url, yearly, dt.date(2034, 1, 1)) == [
        dt.date(2028, 2, 29),
        dt.date(2029, 2, 28),
        dt.date(2030, 2, 28),
        dt.date(2031, 2, 28),
        dt.date(2032, 2, 29),
        dt.date(2033, 2, 28),
    ]


def test_visits_that_do_not_divide_the_year_into_months_are_spread_over_its_days(
    db_url: str,
) -> None:
    company = _company(db_url)
    # 2027-03-01 to 2028-03-01 has 366 days (Feb 29, 2028); the next year 365.
    five = _agreement(db_url, company["customer"], dt.date(2027, 3, 1), dt.date(2029, 3, 1), 5)
    first, second = dt.date(2027, 3, 1), dt.date(2028, 3, 1)
    expected = [first + dt.timedelta(days=k * 366 // 5) for k in range(5)]
    expected += [second + dt.timedelta(days=k * 365 // 5) for k in range(5)]
    assert _due(db_url, five, dt.date(2030, 1, 1)) == expected
    assert expected[1] == dt.date(2027, 5, 13) and expected[6] == dt.date(2028, 5, 13)


# -- booking them --------------------------------------------------------------------------
def test_a_year_of_an_agreement_changed_mid_year_books_each_due_visit_once_30_days_ahead(
    db_url: str,
) -> None:
    company = _company(db_url)
    start = dt.date(2027, 1, 1)
    sold = _sell(
        db_url,
        customer_id=company["customer"],
        plan_id=company["twice"],
        starts_on=start,
        clock=_noon(start),
        site_id=company["site"],
    )
    booked_on: dict[dt.date, dt.date] = {}
    day = start
    while day < dt.date(2028, 2, 1):
        if day == dt.date(2027, 3, 10):  # the customer moves up to four visits a year
            with psycopg.connect(libpq_url(db_url)) as db:
                (version,) = db.execute(
                    "SELECT version FROM agreements WHERE id = %s", (sold,)
                ).fetchone()
            operate(
                db_url,
                lambda s, version=version: agreements.change_plan(
                    s, sold, version, plan_id=company["four"], clock=_noon(dt.date(2027, 3, 10))
                ),
            )
        operate(db_url, lambda s, day=day: agreements.book_due_visits(s, clock=_noon(day)))
        for row in _booked(db_url, sold):
            booked_on.setdefault(row["due"], day)
        day += dt.timedelta(days=1)

    # Jan 1 under the old plan; from Mar 10 the new plan's Apr 1, Jul 1 (already the old
    # plan's date: booked once) and Oct 1; the agreement ends before the next Jan 1.
    assert booked_on == {
        dt.date(2027, 1, 1): dt.date(2027, 1, 1),
        dt.date(2027, 4, 1): dt.date(2027, 3, 10),
        dt.date(2027, 7, 1): dt.date(2027, 6, 1),
        dt.date(2027, 10, 1): dt.date(2027, 9, 1),
    }
    rows = _booked(db_url, sold)
    assert len(rows) == 4
    for row in rows:
        assert row["source"] == "agreement" and row["status"] == "new"
        assert row["unscheduled"] == 1
        assert row["site_id"] == company["site"] and row["job_type_id"] == company["job"]
    assert rows[1]["description"] == (
        "Comfort Club Plus: maintenance visit due Apr 1, 2027. Covers: Furnace, AC"
    )


def test_an_agreement_entered_after_it_started_books_nothing_for_the_days_gone(
    db_url: str,
) -> None:
    company = _company(db_url)
    today = dt.date(2027, 5, 20)
    sold = _sell(
        db_url,
        customer_id=company["customer"],
        plan_id=company["four"],
        starts_on=dt.date(2027, 1, 15),
        clock=_noon(today),
    )
    assert operate(db_url, lambda s: agreements.book_due_visits(s, clock=_noon(today))) == 0
    assert (
        operate(db_url, lambda s: agreements.book_due_visits(s, clock=_noon(dt.date(2027, 6, 15))))
        == 1
    )
    assert [r["due"] for r in _booked(db_url, sold)] == [dt.date(2027, 7, 15)]
    # No site named: the customer's first.
    assert _booked(db_url, sold)[0]["site_id"] == company["site"]


def test_an_ended_agreement_is_not_sold_and_a_plan_no_longer_sold_is_refused(
    db_url: str,
) -> None:
    company = _company(db_url)
    with pytest.raises(ValidationError) as ended:
        _sell(
            db_url,
            customer_id=company["customer"],
            plan_id=company["twice"],
            starts_on=dt.date(2025, 1, 1),
            clock=_noon(dt.date(2027, 1, 1)),
        )
    assert "already ended" in ended.value.fields["starts_on"]
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("UPDATE maintenance_plans SET active = false WHERE id = %s", (company["twice"],))
    with pytest.raises(ValidationError, match="no longer sold"):
        _sell(
            db_url,
            customer_id=company["customer"],
            plan_id=company["twice"],
            starts_on=dt.date(2027, 1, 1),
            clock=_noon(dt.date(2027, 1, 1)),
        )


def test_the_intake_card_shows_the_next_due_visit(db_url: str) -> None:
    company = _company(db_url)
    start = dt.date(2027, 1, 1)
    sold = _sell(
        db_url,
        customer_id=company["customer"],
        plan_id=company["twice"],
        starts_on=start,
        clock=_noon(start),
    )

    async def card(sessions: Sessions, today: dt.date) -> list[agreements.AgreementNext]:
        async with sessions() as session:
            return await agreements.agreements_of_customer(
                session, company["customer"], today=today
            )

    operate(db_url, lambda s: agreements.book_due_visits(s, clock=_noon(start)))
    (first,) = operate(db_url, lambda s: card(s, start))
    assert first.next_due == start and (first.next_booked or "").startswith("WO-")
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("UPDATE work_orders SET status = 'completed' WHERE agreement_id = %s", (sold,))
    (before,) = operate(db_url, lambda s: card(s, dt.date(2027, 2, 1)))
    assert (before.id, before.next_due, before.next_booked) == (sold, dt.date(2027, 7, 1), None)
    operate(db_url, lambda s: agreements.book_due_visits(s, clock=_noon(dt.date(2027, 6, 5))))
    (after,) = operate(db_url, lambda s: card(s, dt.date(2027, 6, 5)))
    assert after.next_due == dt.date(2027, 7, 1) and (after.next_booked or "").startswith("WO-")


# -- the office's view ------------------------------------------------------------------------
def test_the_agreements_book_lists_plans_and_agreements_by_their_next_visit(db_url: str) -> None:
    company = _company(db_url)
    today = dt.date(2027, 3, 1)
    for starts, plan in ((dt.date(2027, 1, 10), "twice"), (dt.date(2027, 2, 20), "four")):
        _sell(
            db_url,
            customer_id=company["customer"],
            plan_id=company[plan],
            starts_on=starts,
            clock=_noon(starts),
        )
    _agreement(db_url, company["customer"], dt.date(2025, 1, 1), dt.date(2026, 1, 1), 1)  # lapsed
    operate(db_url, lambda s: agreements.book_due_visits(s, clock=_noon(dt.date(2027, 2, 20))))
    book = operate(db_url, lambda s: agreements.agreements_book(s, clock=_noon(today)))
    assert [(p.name, p.customers) for p in book.plans] == [
        ("Comfort Club", 1),
        ("Comfort Club Plus", 1),
    ]
    assert book.running == 2 and book.yearly_value == decimal.Decimal("378.00")
    rows = [(a.name, a.running, a.next_due, a.next_booked is not None) for a in book.agreements]
    assert rows == [
        # Both first visits were booked on Feb 20; the quarterly one's is the earliest.
        ("Comfort Club", True, dt.date(2027, 1, 10), True),
        ("Comfort Club Plus", True, dt.date(2027, 2, 20), True),
        ("Plan", False, None, False),
    ]
    assert book.due_soon == 2 and book.ahead_days == 30


def test_a_manager_adds_and_changes_a_plan_with_a_sentence_for_each_mistake(db_url: str) -> None:
    company = _company(db_url)

    def save(plan_id: int | None = None, version: int | None = None, **typed: Any) -> int:
        values: dict[str, Any] = {
            "name": "Roof Guard",
            "price": decimal.Decimal("1"),
            "visits_per_year": 1,
            "term_months": 12,
            "job_type_id": company["job"],
            "covered_equipment": "",
            "active": True,
        } | typed
        return operate(db_url, lambda s: agreements.save_plan(s, plan_id, version, **values))

    made = save(
        name="  Roof   Guard ",
        price=decimal.Decimal("99.5"),
        term_months=24,
        covered_equipment="Roof, gutters",
    )
    with pytest.raises(ValidationError) as wrong:
        save(price=decimal.Decimal("-1"), visits_per_year=13, term_months=0)
    assert set(wrong.value.fields) == {"price", "visits_per_year", "term_months"}
    with pytest.raises(ValidationError, match="already a plan called Roof Guard"):
        save()
    book = operate(
        db_url, lambda s: agreements.agreements_book(s, clock=_noon(dt.date(2027, 1, 1)))
    )
    (plan,) = [p for p in book.plans if p.id == made]
    assert (plan.name, plan.price, plan.term_months) == ("Roof Guard", decimal.Decimal("99.50"), 24)
    with pytest.raises(ConflictError):
        save(made, plan.version + 1, active=False)
    save(made, plan.version, active=False)
    book = operate(
        db_url, lambda s: agreements.agreements_book(s, clock=_noon(dt.date(2027, 1, 1)))
    )
    assert [p.active for p in book.plans if p.id == made] == [False]
