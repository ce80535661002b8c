"""Booking a call against a real database: complete work orders, and bad input refused
field by field with nothing written."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import threading
import unicodedata

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.messages import Consent
from dispatch_app.errors import ValidationError
from dispatch_app.services.intake import (
    Appointment,
    BookedCall,
    CallBooking,
    NewCaller,
    book_call,
)
from tests.companies import DAY, TZ, clock_at, small_company
from tests.lock_waits import wait_for_lock_waiters


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


def run(url: str, booking: CallBooking):
    async def go():
        engine = make_async_engine(url)
        try:
            return await book_call(session_factory(engine), booking, clock=clock_at(6))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM work_orders), "
            "(SELECT count(*) FROM visits)"
        ).fetchone()


@pytest.fixture
def company(db_url):
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        customer = db.execute("SELECT id FROM customers").fetchone()[0]
        job_type = db.execute("SELECT id FROM job_types").fetchone()[0]
    return db_url, techs, customer, job_type


CALLER = NewCaller(
    "Zoë 李 Ørsted 🔧", "(773) 555-0198", "1060 W Addison St", "Chicago", "il", "60613"
)


def test_a_returning_customer_booked_for_a_technician(company):
    url, techs, customer, job_type = company
    booked = run(
        url,
        CallBooking(
            job_type_id=job_type,
            description="Furnace short-cycles, smells of burning dust.",
            customer_id=customer,
            priority="urgent",
            source="repeat",
            answers={"Age of system": "12 years", "Access": "side gate code 4412"},
            appointment=Appointment(at(14, 30), at(15, 30), at(14), at(16), techs["Ava Kowalski"]),
        ),
    )
    assert booked.assigned and booked.number.startswith("WO-")
    with psycopg.connect(libpq_url(url)) as db:
        order = db.execute(
            "SELECT description, priority, source, status, requested_start FROM work_orders "
            "WHERE id = %s",
            (booked.work_order_id,),
        ).fetchone()
        crew = db.execute(
            "SELECT technician_id FROM visit_technicians WHERE visit_id = %s", (booked.visit_id,)
        ).fetchall()
    description, priority, source, status, requested = order
    assert "burning dust" in description and "Age of system: 12 years" in description
    assert (priority, source, status) == ("urgent", "repeat", "scheduled")
    assert requested == at(14)
    assert crew == [(techs["Ava Kowalski"],)]


def test_a_new_caller_in_any_script_becomes_a_customer_with_a_placed_site(company):
    url, _techs, _customer, job_type = company
    booked = run(
        url,
        CallBooking(job_type_id=job_type, description="Leak under the sink", caller=CALLER),
    )
    assert not booked.assigned  # no appointment: it waits in the queue
    with psycopg.connect(libpq_url(url)) as db:
        name = db.execute("SELECT name FROM customers WHERE id = %s", (booked.customer_id,))
        phone = db.execute(
            "SELECT number FROM customer_phones WHERE customer_id = %s", (booked.customer_id,)
        )
        site = db.execute(
            "SELECT state, zip, lat, lon FROM service_sites WHERE id = %s", (booked.site_id,)
        )
        assert name.fetchone()[0] == "Zoë 李 Ørsted 🔧"
        assert phone.fetchone()[0] == "+17735550198"
        state, zip_code, lat, lon = site.fetchone()
    assert (state, zip_code) == ("IL", "60613")
    assert lat == pytest.approx(41.95, abs=0.05) and lon == pytest.approx(-87.65, abs=0.05)


def test_a_slot_taken_meanwhile_leaves_the_work_order_in_the_queue(company):
    url, techs, customer, job_type = company
    booked = run(
        url,
        CallBooking(
            job_type_id=job_type,
            description="No heat",
            customer_id=customer,
            appointment=Appointment(at(8), at(9), at(8), at(10), techs["Ava Kowalski"]),
        ),
    )
    assert not booked.assigned
    assert "waits for dispatch" in booked.note and "overlap" in booked.note
    with psycopg.connect(libpq_url(url)) as db:
        assert db.execute(
            "SELECT count(*) FROM visit_technicians WHERE visit_id = %s", (booked.visit_id,)
        ).fetchone() == (0,)


BAD = [
    ({"description": "x\x00y"}, "description"),
    ({"description": "x" * 100_001}, "description"),
    ({"description": "   "}, "description"),
    ({"priority": "whenever"}, "priority"),
    ({"source": "carrier pigeon"}, "source"),
    ({"caller": dataclasses.replace(CALLER, phone="555-01")}, "phone"),
    ({"caller": dataclasses.replace(CALLER, phone="(012) 555-0198")}, "phone"),
    ({"caller": dataclasses.replace(CALLER, zip="00000")}, "zip"),
    # Only the first five characters used to be looked at; all ten were stored.
    ({"caller": dataclasses.replace(CALLER, zip="60613'); D")}, "zip"),
    ({"caller": dataclasses.replace(CALLER, zip="60613\x00")}, "zip"),
    ({"caller": dataclasses.replace(CALLER, zip="60613-12")}, "zip"),
    ({"caller": dataclasses.replace(CALLER, zip="٦٠٦١٣")}, "zip"),
    ({"caller": dataclasses.replace(CALLER, street="1060 W Addison\x00")}, "street"),
    ({"caller": dataclasses.replace(CALLER, state="Illinois")}, "state"),
    ({"caller": dataclasses.replace(CALLER, name="")}, "name"),
    ({"caller": dataclasses.replace(CALLER, name="Bob\x07")}, "name"),
    ({"caller": dataclasses.replace(CALLER, street="x" * 201)}, "street"),
    ({"caller": None}, "customer"),
    ({"answers": {"Access": "gate\x1b[31m"}}, "answer:Access"),
    (
        {"appointment": Appointment(at(10), at(9), at(8), at(10))},
        "appointment",
    ),
    (
        {"appointment": Appointment(at(9), at(10), at(10), at(8))},
        "appointment",
    ),
]


@pytest.mark.parametrize(("change", "field_name"), BAD)
def test_bad_input_is_refused_by_field_and_nothing_is_written(company, change, field_name):
    url, _techs, _customer, job_type = company
    before = counts(url)
    booking = dataclasses.replace(
        CallBooking(job_type_id=job_type, description="Leak", caller=CALLER), **change
    )
    with pytest.raises(ValidationError) as refused:
        run(url, booking)
    assert field_name in refused.value.fields
    assert all(sentence.endswith(".") for sentence in refused.value.fields.values())
    assert counts(url) == before


def test_an_unknown_job_type_is_refused(company):
    url, _techs, customer, _job_type = company
    before = counts(url)
    with pytest.raises(ValidationError) as refused:
        run(url, CallBooking(job_type_id=999_999, description="Leak", customer_id=customer))
    assert "job_type" in refused.value.fields
    assert counts(url) == before


NUMBERS = itertools.count()


def tidy(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(min_size=1, max_size=60), description=st.text(min_size=1, max_size=300))
def test_any_text_either_books_completely_or_is_refused_without_a_trace(company, name, description):
    url, _techs, _customer, job_type = company
    before = counts(url)
    # A new number each time: a number already on file belongs to that customer.
    phone = f"773{2_000_000 + next(NUMBERS)}"
    booking = CallBooking(
        job_type_id=job_type,
        description=description,
        caller=dataclasses.replace(CALLER, name=name, phone=phone),
    )
    try:
        booked = run(url, booking)
    except ValidationError as refused:
        assert set(refused.fields) <= {"name", "description"}
        assert counts(url) == before
    else:
        with psycopg.connect(libpq_url(url)) as db:
            stored = db.execute(
                "SELECT c.name, w.description FROM work_orders w JOIN customers c "
                "ON c.id = w.customer_id WHERE w.id = %s",
                (booked.work_order_id,),
            ).fetchone()
        # Kept as typed, tidied: CRLF made \n, NFC, outer blanks gone.
        assert stored == (tidy(name), tidy(description))


def test_windows_for_a_call_come_from_the_database(company):
    from dispatch_app.domain.clock import FixedClock
    from dispatch_app.services.availability import windows_for_call

    url, techs, _customer, job_type = company

    async def go():
        engine = make_async_engine(url)
        try:
            return await windows_for_call(
                session_factory(engine),
                job_type_id=job_type,
                first_day=DAY,
                days=1,
                clock=FixedClock(at(6)),
            )
        finally:
            await engine.dispose()

    found = asyncio.run(go())
    by_start = {w.span.start: w for w in found}
    # Ava and Marcus work 07:00–15:30; a 90-minute job: Ava is busy 08–09:30 and 10–12
    # (the crew visit with Marcus), Marcus 10–12 and 13–14.
    assert at(8) in by_start and by_start[at(8)].technician_ids == (techs["Marcus Lee"],)
    assert by_start[at(12)].technician_ids[0] == techs["Ava Kowalski"]  # Marcus is at 13:00
    assert techs["Noor Haddad"] not in {t for w in found for t in w.technician_ids}  # off
    assert at(16) not in by_start  # a 90-minute job cannot end by 15:30 from there


def test_a_friday_afternoon_search_offers_the_next_working_days_in_one_read(company):
    from sqlalchemy import event

    from dispatch_app.domain.clock import FixedClock
    from dispatch_app.services.availability import find_windows

    url, techs, _customer, job_type = company
    friday = dt.datetime(2026, 12, 4, 16, 0, tzinfo=TZ)
    statements: list[str] = []

    async def go(max_days: int):
        engine = make_async_engine(url)
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda *args: statements.append(args[2]),
        )
        try:
            return await find_windows(
                session_factory(engine),
                job_type_id=job_type,
                max_days=max_days,
                clock=FixedClock(friday),
            )
        finally:
            await engine.dispose()

    found = asyncio.run(go(14))
    reads_for_a_fortnight = len(statements)
    statements.clear()
    asyncio.run(go(1))
    assert len(statements) == reads_for_a_fortnight  # the span costs no query per day
    # The company works Tuesdays only: Tuesday the 8th and the 15th, four windows each.
    assert found.working_days == (dt.date(2026, 12, 8), dt.date(2026, 12, 15))
    assert len(found.windows) == 8
    assert (found.first_day, found.last_day) == (dt.date(2026, 12, 4), dt.date(2026, 12, 17))
    assert found.windows[0].span.start == dt.datetime(2026, 12, 8, 8, 0, tzinfo=TZ)
    assert set(found.windows[0].technician_ids) <= set(techs.values())


def test_two_csrs_adding_the_same_new_caller_at_once_make_one_customer(company):
    """Both bookings pass the "number already on file?" look-up before either writes; a
    gate (a test-only trigger waiting on an advisory lock) holds both at their first
    insert, so they race exactly there. The database lets one through; the other hears
    the intake's sentence."""
    url, *_ = company
    before = counts(url)
    callers = [
        dataclasses.replace(CALLER, name="Zoë Ørsted"),
        dataclasses.replace(CALLER, name="Zoe Orsted"),
    ]
    outcomes: list[object] = []

    def book(caller: NewCaller) -> None:
        try:
            outcomes.append(
                run(url, CallBooking(job_type_id=_job(url), description="Leak", caller=caller))
            )
        except Exception as error:  # handed to the test's thread
            outcomes.append(error)

    with psycopg.connect(libpq_url(url), autocommit=True) as gate:
        gate.execute(
            "CREATE FUNCTION test_wait_at_the_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$"
        )
        gate.execute(
            "CREATE TRIGGER customers_wait_at_the_gate BEFORE INSERT ON customers "
            "FOR EACH ROW EXECUTE FUNCTION test_wait_at_the_gate()"
        )
        gate.execute("SELECT pg_advisory_lock(4242)")
        threads = [threading.Thread(target=book, args=(caller,)) for caller in callers]
        for thread in threads:
            thread.start()
        wait_for_lock_waiters(url, 2)  # both checked the number, both wait to write
        gate.execute("SELECT pg_advisory_unlock(4242)")
        for thread in threads:
            thread.join(timeout=60)

    booked = [o for o in outcomes if isinstance(o, BookedCall)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(booked), len(refused)) == (1, 1), outcomes
    with psycopg.connect(libpq_url(url)) as db:
        (winner,) = db.execute(
            "SELECT c.name FROM customers c JOIN customer_phones p ON p.customer_id = c.id "
            "WHERE p.number = '+17735550198'"
        ).fetchone()
    assert refused[0].fields == {
        "phone": f"(773) 555-0198 is already {winner}'s number: choose them in the list "
        "instead of adding them again."
    }
    customers, orders, visits = counts(url)
    assert (customers, orders, visits) == (before[0] + 1, before[1] + 1, before[2] + 1)


def _job(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute("SELECT id FROM job_types").fetchone()[0]


def test_a_zip_plus_four_is_stored_exactly_and_nothing_else_is_a_zip(company):
    url, _techs, _customer, job_type = company
    booked = run(
        url,
        CallBooking(
            job_type_id=job_type,
            description="Leak",
            caller=dataclasses.replace(CALLER, zip=" 60613-1234 "),
        ),
    )
    with psycopg.connect(libpq_url(url)) as db:
        assert db.execute(
            "SELECT zip FROM service_sites WHERE id = %s", (booked.site_id,)
        ).fetchone() == ("60613-1234",)
    for junk in ("60613'); D", "6061", "60613-", "60613 1234", "ABCDE"):
        with (
            pytest.raises(psycopg.errors.CheckViolation) as refused,
            psycopg.connect(libpq_url(url)) as db,
        ):
            db.execute("UPDATE service_sites SET zip = %s", (junk,))
        assert refused.value.diag.constraint_name == "ck_service_sites_zip_format"


def consent_of(url: str, customer_id: int) -> tuple:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT message_consent, consent_recorded_by, consent_recorded_at FROM customers "
            "WHERE id = %s",
            (customer_id,),
        ).fetchone()


def test_consent_is_recorded_with_a_new_caller_and_changed_only_when_it_changes(
    company,
) -> None:
    db_url, _techs, customer, job_type = company
    caller = NewCaller("Mei Chen", "(773) 555-0198", "1060 W Addison St", "Chicago", "IL", "60613")
    booking = CallBooking(
        job_type_id=job_type,
        description="Kitchen sink backs up",
        caller=caller,
        message_consent=Consent.INFORMATIONAL,
    )
    booked = run(db_url, booking)
    consent, by, at = consent_of(db_url, booked.customer_id)
    assert consent == "informational" and by and at is not None  # the database's stamp

    # A returning caller: nothing asked keeps what is on file …
    returning = CallBooking(job_type_id=job_type, description="Again", customer_id=customer)
    run(db_url, returning)
    assert consent_of(db_url, customer)[0] == "none"
    # … their answer is recorded, and the same answer again keeps the first stamp.
    run(db_url, dataclasses.replace(returning, message_consent=Consent.PROMOTIONAL))
    first = consent_of(db_url, customer)
    assert first[0] == "promotional" and first[2] is not None
    run(db_url, dataclasses.replace(returning, message_consent=Consent.PROMOTIONAL))
    assert consent_of(db_url, customer) == first
