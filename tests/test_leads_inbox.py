"""The Leads inbox's operations on a real database: callbacks first, tries counted until
the lead closes as no answer, a stale version refused, and a lead booked through the
call intake linked both ways with its callback closed — once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.leads import NO_ANSWER_AFTER, LeadOutcome
from dispatch_app.errors import ConflictError, UserFacingError, ValidationError
from dispatch_app.services.intake import CallBooking, NewCaller, book_call
from dispatch_app.services.leads import inbox
from tests.companies import DAY, TZ, clock_at, small_company

NOW = clock_at(9).now()
LONG_AGO = NOW - dt.timedelta(days=365)


def run(url: str, operation: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    async def go() -> Any:
        engine = make_async_engine(url)
        try:
            return await operation(session_factory(engine), *args, **kwargs)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def add_lead(
    url: str,
    source: str,
    phone: str | None,
    hours_ago: float,
    *,
    name: str = "",
    request: str = "",
    outcome: str = "open",
) -> int:
    received = NOW - dt.timedelta(hours=hours_ago)
    ((lead_id,),) = sql(
        url,
        "INSERT INTO leads (source, phone, email, name, received_at, request, outcome) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        source,
        phone,
        None if phone else "someone@example.com",
        name,
        received,
        request,
        outcome,
    )
    return lead_id


@pytest.fixture
def company(db_url: str) -> tuple[str, int]:
    small_company(db_url)
    ((job_type,),) = sql(db_url, "SELECT id FROM job_types")
    return db_url, job_type


def test_open_callbacks_come_first_by_due_time_then_open_leads_newest_then_closed(
    company,
) -> None:
    url, _job_type = company
    web = add_lead(url, "web", None, 1, name="Web form", request="Quote for a water heater")
    older_missed = add_lead(url, "missed_call", "+13125550190", 5, name="Early caller")
    answered = add_lead(url, "call", "+13125550191", 3, name="Answered")
    newer_missed = add_lead(url, "voicemail", "+13125550192", 2, request="No hot water")
    spam = add_lead(url, "missed_call", "+13125550193", 0.5)
    run(url, inbox.set_outcome, spam, 1, LeadOutcome.SPAM, "Robocall")
    ancient = add_lead(url, "call", "+13125550194", 24 * 60, outcome="not_interested")

    listed = run(url, inbox.list_leads, since=LONG_AGO)
    assert [lead.id for lead in listed] == [older_missed, newer_missed, web, answered]
    assert [lead.callback_open for lead in listed] == [True, True, False, False]
    first = listed[0]
    assert first.callback_due_at == first.received_at  # the default rule waits 0 hours
    assert first.caller == "Early caller" and listed[1].caller == "(312) 555-0192"

    everything = run(url, inbox.list_leads, since=LONG_AGO, include_closed=True)
    assert [lead.id for lead in everything][:4] == [older_missed, newer_missed, web, answered]
    assert [lead.id for lead in everything][4:] == [spam, ancient]  # closed, newest first
    assert everything[4].outcome is LeadOutcome.SPAM and everything[4].outcome_note == "Robocall"
    assert everything[4].callback_due_at is None  # its callback was closed with it
    recent = run(url, inbox.list_leads, since=NOW - dt.timedelta(days=30), include_closed=True)
    assert ancient not in [lead.id for lead in recent]
    assert len(run(url, inbox.list_leads, since=LONG_AGO, include_closed=True, limit=2)) == 2


def test_tries_are_counted_and_the_third_unanswered_closes_the_lead(company) -> None:
    url, _job_type = company
    lead_id = add_lead(url, "missed_call", "+13125550190", 1, name="Dana")
    version = 1
    for attempt in range(1, NO_ANSWER_AFTER + 1):
        lead = run(url, inbox.record_attempt, lead_id, version, reached=False)
        version = lead.version
        assert lead.attempts == attempt and lead.last_attempt_at is not None
        if attempt < NO_ANSWER_AFTER:
            assert lead.outcome is LeadOutcome.OPEN and lead.callback_open
    assert lead.outcome is LeadOutcome.NO_ANSWER and lead.callback_due_at is None
    assert sql(url, "SELECT state, outcome FROM follow_ups WHERE lead_id = %s", lead_id) == [
        ("done", "obsolete")
    ]
    with pytest.raises(UserFacingError, match="closed \\(no answer\\)"):
        run(url, inbox.record_attempt, lead_id, version, reached=False)

    # Reached: counted as a try, and the lead stays open for its outcome.
    other = add_lead(url, "missed_call", "+13125550191", 1)
    reached = run(url, inbox.record_attempt, other, 1, reached=True)
    assert reached.attempts == 1 and reached.outcome is LeadOutcome.OPEN


def test_a_stale_version_is_a_conflict_and_nothing_is_written(company) -> None:
    url, _job_type = company
    lead_id = add_lead(url, "missed_call", "+13125550190", 1, name="Dana Whitfield")
    taken = run(url, inbox.assign_owner, lead_id, 1, "maria.g")
    assert taken.owner == "maria.g" and taken.version == 2
    with pytest.raises(ConflictError, match="Dana Whitfield was changed by someone else"):
        run(url, inbox.set_outcome, lead_id, 1, LeadOutcome.SPAM, None)
    with pytest.raises(ConflictError):
        run(url, inbox.record_attempt, lead_id, 1, reached=False)
    assert sql(url, "SELECT outcome, attempts, owner FROM leads WHERE id = %s", lead_id) == [
        ("open", 0, "maria.g")
    ]
    with pytest.raises(ValidationError, match="Book call"):
        run(url, inbox.set_outcome, lead_id, 2, LeadOutcome.BOOKED, None)


def booking(job_type: int, lead_id: int, *, phone: str = "(312) 555-0190") -> CallBooking:
    return CallBooking(
        job_type_id=job_type,
        description="No hot water since last night",
        caller=NewCaller("Dana Whitfield", phone, "1060 W Addison St", "Chicago", "IL", "60613"),
        lead_id=lead_id,
    )


def test_booking_a_lead_links_both_ways_and_closes_its_callback(company) -> None:
    url, job_type = company
    lead_id = add_lead(url, "missed_call", "+13125550190", 1, request="No hot water")
    assert sql(url, "SELECT state FROM follow_ups WHERE lead_id = %s", lead_id) == [("open",)]

    booked = run(url, book_call, booking(job_type, lead_id), clock=clock_at(6))
    rows = sql(
        url,
        "SELECT outcome, work_order_id, customer_id FROM leads WHERE id = %s",
        lead_id,
    )
    assert rows == [("booked", booked.work_order_id, booked.customer_id)]
    assert sql(url, "SELECT state, outcome FROM follow_ups WHERE lead_id = %s", lead_id) == [
        ("done", "obsolete")
    ]
    assert sql(url, "SELECT source FROM work_orders WHERE id = %s", booked.work_order_id) == [
        ("phone",)  # the CSR's choice stands
    ]
    linked = run(url, inbox.lead_of_work_order, booked.work_order_id)
    assert linked is not None and linked.id == lead_id
    assert linked.work_order_number == booked.number and linked.customer_name == "Dana Whitfield"
    listed = run(url, inbox.list_leads, since=LONG_AGO, include_closed=True)
    assert [(lead.id, lead.outcome) for lead in listed] == [(lead_id, LeadOutcome.BOOKED)]
    assert run(url, inbox.lead_of_work_order, booked.work_order_id + 1000) is None

    # A booked lead stays booked.
    with pytest.raises(UserFacingError, match="stays booked"):
        run(url, inbox.set_outcome, lead_id, linked.version, LeadOutcome.SPAM, None)


def test_booking_a_lead_already_booked_is_refused_and_writes_nothing(company) -> None:
    url, job_type = company
    lead_id = add_lead(url, "missed_call", "+13125550190", 1)
    first = run(url, book_call, booking(job_type, lead_id), clock=clock_at(6))
    ((work_orders,),) = sql(url, "SELECT count(*) FROM work_orders")

    with pytest.raises(ValidationError) as refused:
        run(url, book_call, booking(job_type, lead_id, phone="(312) 555-0177"), clock=clock_at(6))
    assert refused.value.fields["lead"] == (
        f"This lead is already booked as {first.number}: open that work order instead."
    )
    assert sql(url, "SELECT count(*) FROM work_orders") == [(work_orders,)]
    with pytest.raises(ValidationError, match="no longer on file"):
        run(url, book_call, booking(job_type, lead_id + 1000), clock=clock_at(6))


def test_two_csrs_booking_one_lead_at_once_make_one_work_order(company) -> None:
    url, job_type = company
    lead_id = add_lead(url, "missed_call", "+13125550190", 1)
    ((before,),) = sql(url, "SELECT count(*) FROM work_orders")

    async def both() -> list[Any]:
        engines = [make_async_engine(url) for _ in range(2)]
        try:
            return await asyncio.gather(
                *(
                    book_call(
                        session_factory(engine),
                        booking(job_type, lead_id, phone=phone),
                        clock=clock_at(6),
                    )
                    for engine, phone in zip(
                        engines, ("(312) 555-0171", "(312) 555-0172"), strict=True
                    )
                ),
                return_exceptions=True,
            )
        finally:
            for engine in engines:
                await engine.dispose()

    results = asyncio.run(both())
    refused = [r for r in results if isinstance(r, ValidationError)]
    booked = [r for r in results if not isinstance(r, BaseException)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert "already booked" in refused[0].fields["lead"]
    assert sql(url, "SELECT count(*) FROM work_orders") == [(before + 1,)]
    assert sql(url, "SELECT work_order_id FROM leads WHERE id = %s", lead_id) == [
        (booked[0].work_order_id,)
    ]


def test_the_leak_header_counts_this_week_and_month_in_the_company_zone(company) -> None:
    url, _job_type = company
    add_lead(url, "missed_call", "+13125550190", 2)
    add_lead(url, "voicemail", "+13125550191", 24 * 10)  # last month: Nov 21
    header = run(url, inbox.leak_header, clock=clock_at(9))
    assert str(header.zone) == str(TZ)
    assert header.week.since == dt.datetime(2026, 11, 30, tzinfo=TZ)  # Monday
    assert header.month.since == dt.datetime(2026, 12, 1, tzinfo=TZ)
    assert header.month.until == dt.datetime(2027, 1, 1, tzinfo=TZ)
    assert header.week.missed == 1 and header.month.missed == 1
    assert DAY.day == 1 and "1 missed" in header.week.headline
