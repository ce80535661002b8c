"""The job type's questions are data the intake follows, and a caller's history is what
the CSR sees before booking: sites, equipment, open and past jobs with totals, plans."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import decimal
import json
import uuid

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.vocabulary import QuestionKind
from dispatch_app.errors import ValidationError
from dispatch_app.services.customer_history import customer_history
from dispatch_app.services.intake import (
    CallBooking,
    IntakeQuestion,
    NewCaller,
    NewSite,
    book_call,
    intake_catalogue,
)
from tests.companies import DAY, clock_at, small_company


def run(url: str, work):
    async def go():
        engine = make_async_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture
def company(db_url):
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        customer = db.execute("SELECT id FROM customers").fetchone()[0]
        site = db.execute("SELECT id FROM service_sites").fetchone()[0]
        job_type = db.execute("SELECT id FROM job_types").fetchone()[0]
        plumbing = db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min, default_price) "
            "VALUES ('plumbing', 'Clogged drain', 60, 189) RETURNING id"
        ).fetchone()[0]
        for position, prompt, kind, choices, required in [
            (1, "Symptoms", "choice", ["No heat at all", "Short cycling"], True),
            (2, "Age of system (years)", "number", [], False),
            (3, "Anyone vulnerable at home?", "yes_no", [], False),
        ]:
            db.execute(
                "INSERT INTO job_type_questions (job_type_id, position, prompt, kind, choices, "
                "required) VALUES (%s, %s, %s, %s, %s, %s)",
                (job_type, position, prompt, kind, json.dumps(choices), required),
            )
        furnace = db.execute(
            "INSERT INTO equipment (site_id, kind, make, model, install_date) "
            "VALUES (%s, 'furnace', 'Carrier', '59SC5', '2014-10-01') RETURNING id",
            (site,),
        ).fetchone()[0]
    return db_url, techs, customer, site, job_type, plumbing, furnace


def test_the_catalogue_groups_job_types_by_trade_with_their_questions_in_order(company):
    url, *_ = company
    catalogue = run(url, intake_catalogue)
    assert [(c.trade.value, c.name) for c in catalogue] == [
        ("hvac", "No heat call"),
        ("plumbing", "Clogged drain"),
    ]
    heat = catalogue[0]
    assert [q.prompt for q in heat.questions] == [
        "Symptoms",
        "Age of system (years)",
        "Anyone vulnerable at home?",
    ]
    assert heat.questions[0].offered() == ("No heat at all", "Short cycling")
    assert heat.questions[2].offered() == ("Yes", "No")
    assert catalogue[1].questions == () and catalogue[1].price == "189.00"


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({}, "Ask the caller: Symptoms."),
        ({"Symptoms": "Smells funny"}, "one of: No heat at all, Short cycling"),
        ({"Symptoms": "Short cycling", "Age of system (years)": "about ten"}, "a number"),
        ({"Symptoms": "Short cycling", "Age of system (years)": "-3"}, "zero or more"),
        ({"Symptoms": "Short cycling", "Age of system (years)": "1,5"}, "“1,5” is unclear"),
        ({"Symptoms": "Short cycling", "Age of system (years)": "1_0"}, "is unclear"),
        ({"Symptoms": "Short cycling", "Anyone vulnerable at home?": "maybe"}, "Yes, No"),
    ],
)
def test_answers_are_checked_against_the_job_types_own_questions(company, answers, problem):
    url, _techs, customer, _site, job_type, *_ = company
    booking = CallBooking(
        job_type_id=job_type, description="No heat", customer_id=customer, answers=answers
    )
    with psycopg.connect(libpq_url(url)) as db:
        before = db.execute("SELECT count(*) FROM work_orders").fetchone()[0]
    with pytest.raises(ValidationError) as refused:
        run(url, lambda sessions: book_call(sessions, booking))
    assert any(problem in sentence for sentence in refused.value.fields.values())
    with psycopg.connect(libpq_url(url)) as db:
        assert db.execute("SELECT count(*) FROM work_orders").fetchone()[0] == before


def test_answers_and_equipment_are_stored_with_the_work_order(company):
    url, _techs, customer, _site, job_type, _plumbing, furnace = company
    booking = CallBooking(
        job_type_id=job_type,
        description="Furnace short-cycles",
        customer_id=customer,
        equipment_id=furnace,
        answers={"Symptoms": "Short cycling", "Age of system (years)": "12"},
    )
    booked = run(url, lambda sessions: book_call(sessions, booking))
    with psycopg.connect(libpq_url(url)) as db:
        answers, equipment, description = db.execute(
            "SELECT answers, equipment_id, description FROM work_orders WHERE id = %s",
            (booked.work_order_id,),
        ).fetchone()
    assert answers == [["Symptoms", "Short cycling"], ["Age of system (years)", "12"]]
    assert equipment == furnace
    assert "Symptoms: Short cycling" in description  # the technician reads it with the problem


def test_equipment_from_another_site_is_refused(company):
    url, _techs, customer, _site, _job_type, plumbing, _furnace = company
    with psycopg.connect(libpq_url(url)) as db:
        other = db.execute(
            "INSERT INTO customers (name) VALUES ('Mei Chen') RETURNING id"
        ).fetchone()[0]
        site = db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip) "
            "VALUES (%s, '1 Elm St', 'Evanston', 'IL', '60201') RETURNING id",
            (other,),
        ).fetchone()[0]
        theirs = db.execute(
            "INSERT INTO equipment (site_id, kind) VALUES (%s, 'water heater') RETURNING id",
            (site,),
        ).fetchone()[0]
    booking = CallBooking(
        job_type_id=plumbing, description="Drain", customer_id=customer, equipment_id=theirs
    )
    with pytest.raises(ValidationError) as refused:
        run(url, lambda sessions: book_call(sessions, booking))
    assert "equipment" in refused.value.fields


def test_a_question_without_choices_takes_any_text_but_no_control_characters():
    question = IntakeQuestion("Access notes", QuestionKind.TEXT)
    assert question.problem("Gate code 4412 — dog 🐕 in yard, 李") is None
    assert question.problem("") is None
    assert "NUL" in (question.problem("gate\x00code") or "")
    assert "control character" in (question.problem("gate\x1b[31mcode") or "")
    assert "limit" in (question.problem("x" * 2_001) or "")


def test_history_shows_sites_equipment_open_and_past_jobs_with_totals_and_plans(company):
    url, techs, customer, *_ = company
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550123')",
            (customer,),
        )
        done = db.execute(
            "SELECT w.id FROM work_orders w JOIN visits v ON v.work_order_id = w.id "
            "JOIN visit_technicians t ON t.visit_id = v.id AND t.technician_id = %s "
            "ORDER BY v.starts LIMIT 1",
            (techs["Ava Kowalski"],),
        ).fetchone()[0]
        db.execute("UPDATE work_orders SET status = 'completed' WHERE id = %s", (done,))
        db.execute(
            "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price) "
            "VALUES (%s, 'labour', 'Diagnosis', 1, 129), (%s, 'labour', 'Repair', 1.5, 90)",
            (done, done),
        )
        db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on, visits_per_year) "
            "VALUES (%s, 'Comfort Club', %s, %s, 2), (%s, 'Old plan', '2020-01-01', "
            "'2021-01-01', 1)",
            (customer, DAY - dt.timedelta(days=30), DAY + dt.timedelta(days=335), customer),
        )
    history = run(url, lambda sessions: customer_history(sessions, customer, clock=clock_at(12)))
    assert history.name == "José Núñez" and history.phones == ("(312) 555-0123",)
    (site,) = history.sites
    assert site.address == "1432 W Belmont Ave, Chicago IL 60657"
    assert [unit.label() for unit in site.equipment] == ["furnace (Carrier 59SC5, 2014)"]
    past = history.past_jobs
    assert [job.id for job in past] == [done]
    assert past[0].technicians == ("Ava Kowalski",)
    assert past[0].total == decimal.Decimal("264.00")
    assert history.lifetime_total == decimal.Decimal("264.00")
    assert len(history.open_jobs) == 3  # two still scheduled, one waiting in the queue
    assert all(job.status != "completed" for job in history.open_jobs)
    assert [(a.name, a.active) for a in history.agreements] == [
        ("Comfort Club", True),
        ("Old plan", False),
    ]
    # Started Nov 1 with two visits a year: the first fell due that day and was never
    # booked (no plan books it), so the next is six months on from the start.
    assert history.agreements[0].next_due == dt.date(2027, 5, 1)
    assert history.agreements[0].next_booked is None
    assert history.agreements[1].next_due is None


def test_a_retried_call_is_booked_once_even_when_both_attempts_race(company):
    url, _techs, customer, _site, _job_type, plumbing, _furnace = company
    call = uuid.uuid4()
    booking = CallBooking(
        job_type_id=plumbing, description="Drain backs up", customer_id=customer, call_id=call
    )

    async def twice_at_once(sessions):
        return await asyncio.gather(book_call(sessions, booking), book_call(sessions, booking))

    first, second = run(url, twice_at_once)
    third = run(url, lambda sessions: book_call(sessions, booking))  # a later retry
    assert first.work_order_id == second.work_order_id == third.work_order_id
    with psycopg.connect(libpq_url(url)) as db:
        count = db.execute(
            "SELECT count(*) FROM work_orders WHERE call_id = %s", (call,)
        ).fetchone()[0]
    assert count == 1
    other = dataclasses.replace(booking, call_id=uuid.uuid4())
    assert run(url, lambda s: book_call(s, other)).work_order_id != first.work_order_id


def test_a_new_caller_with_a_known_number_is_sent_to_the_existing_customer(company):
    url, _techs, customer, _site, _job_type, plumbing, _furnace = company
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550123')",
            (customer,),
        )
        before = db.execute("SELECT count(*) FROM customers").fetchone()[0]
    booking = CallBooking(
        job_type_id=plumbing,
        description="Drain",
        caller=NewCaller("J. Nunez", "312-555-0123", "1 Elm St", "Chicago", "IL", "60614"),
    )
    with pytest.raises(ValidationError) as refused:
        run(url, lambda sessions: book_call(sessions, booking))
    assert refused.value.fields["phone"].startswith("(312) 555-0123 is already José Núñez's")
    with psycopg.connect(libpq_url(url)) as db:
        assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == before


def test_a_returning_customer_at_another_address_gets_a_new_placed_site(company):
    url, _techs, customer, site, _job_type, plumbing, _furnace = company
    booking = CallBooking(
        job_type_id=plumbing,
        description="Tenant says the kitchen drain is slow",
        customer_id=customer,
        new_site=NewSite("2200 N Clark St", "Chicago", "il", "60614", label="Rental"),
    )
    booked = run(url, lambda sessions: book_call(sessions, booking))
    assert booked.site_id != site
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT customer_id, label, street, state, zip, lat FROM service_sites WHERE id = %s",
            (booked.site_id,),
        ).fetchone()
    assert row[:5] == (customer, "Rental", "2200 N Clark St", "IL", "60614")
    assert row[5] == pytest.approx(41.92, abs=0.05)


@pytest.mark.parametrize(
    ("new_site", "as_customer", "field_name"),
    [
        (NewSite("1 Elm St", "Chicago", "IL", "00000"), True, "site_zip"),
        (NewSite("", "Chicago", "IL", "60614"), True, "site_street"),
        (NewSite("1 Elm St", "Chicago", "Illinois", "60614"), True, "site_state"),
        (NewSite("1 Elm St\x00", "Chicago", "IL", "60614"), True, "site_street"),
        (NewSite("1 Elm St", "Chicago", "IL", "60614"), False, "site"),
    ],
)
def test_a_bad_new_address_is_refused_by_field(company, new_site, as_customer, field_name):
    url, _techs, customer, _site, _job_type, plumbing, _furnace = company
    booking = CallBooking(
        job_type_id=plumbing,
        description="Drain",
        customer_id=customer if as_customer else None,
        caller=None
        if as_customer
        else NewCaller("Ana Lima", "(773) 555-0150", "9 Elm St", "Chicago", "IL", "60614"),
        new_site=new_site,
    )
    with psycopg.connect(libpq_url(url)) as db:
        before = db.execute("SELECT count(*) FROM service_sites").fetchone()[0]
    with pytest.raises(ValidationError) as refused:
        run(url, lambda sessions: book_call(sessions, booking))
    assert field_name in refused.value.fields
    with psycopg.connect(libpq_url(url)) as db:
        assert db.execute("SELECT count(*) FROM service_sites").fetchone()[0] == before
