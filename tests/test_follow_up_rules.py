"""Each follow-up rule on a controlled clock: due exactly when its wait is up, with the
task and the message it makes, once however often the rules run, and closed when the
world moves past it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.follow_ups import FollowUpOutcome, RuleKind
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.follow_ups import tasks
from dispatch_app.services.follow_ups.rules import RulesRun, run_rules
from tests.companies import operate

TZ = ZoneInfo("America/Chicago")
# Tuesday 09:00 in Chicago: when the work in these tests happened.
WHEN = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


def _run(url: str, at: dt.datetime) -> RulesRun:
    return operate(url, lambda s: run_rules(s, clock=FixedClock(at)))


def _db(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(libpq_url(url), row_factory=dict_row)


def _setting(db: psycopg.Connection[Any], key: str, value: Any) -> None:
    db.execute(
        "INSERT INTO app_settings (key, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


@pytest.fixture
def company(db_url: str) -> dict[str, int]:
    with _db(db_url) as db:
        _setting(db, "business_timezone", "America/Chicago")
        _setting(db, "company_name", "Lakeview Home Services")
        _setting(db, "message_channels", ["sms"])
        job = db.execute(
            "INSERT INTO job_types (trade, name, default_duration_min) "
            "VALUES ('hvac', 'No heat call', 90) RETURNING id"
        ).fetchone()["id"]
        ids = {"job": job}
        for key, name, consent, number in (
            ("fan", "Amelia Brooks", "promotional", "+13125550111"),
            ("texts", "Björn Lindqvist", "informational", "+13125550122"),
        ):
            customer = db.execute(
                "INSERT INTO customers (name, message_consent) VALUES (%s, %s) RETURNING id",
                (name, consent),
            ).fetchone()["id"]
            db.execute(
                "INSERT INTO customer_phones (customer_id, number) VALUES (%s, %s)",
                (customer, number),
            )
            ids[f"{key}_site"] = db.execute(
                "INSERT INTO service_sites (customer_id, street, city, state, zip) "
                "VALUES (%s, '12 Oak St', 'Chicago', 'IL', '60614') RETURNING id",
                (customer,),
            ).fetchone()["id"]
            ids[key] = customer
    return ids


def _order(
    url: str,
    company: dict[str, int],
    *,
    status: str,
    at: dt.datetime,
    who: str = "fan",
    reason: str | None = None,
) -> int:
    """A work order that reached ``status`` at ``at`` (its status step says when)."""
    with _db(url) as db:
        order = db.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, status, cancel_reason, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (company[who], company[f"{who}_site"], company["job"], status, reason, at, at),
        ).fetchone()["id"]
        db.execute(
            "INSERT INTO status_history (work_order_id, from_status, to_status, changed_at) "
            "VALUES (%s, 'new', %s, %s)",
            (order, status, at),
        )
    return int(order)


def _tasks(url: str, kind: RuleKind | None = None) -> list[dict[str, Any]]:
    with _db(url) as db:
        return db.execute(
            "SELECT * FROM follow_ups WHERE %s::text IS NULL OR kind = %s ORDER BY id",
            (kind, kind),
        ).fetchall()


def _messages(url: str) -> list[dict[str, Any]]:
    with _db(url) as db:
        return db.execute("SELECT * FROM outbox_messages ORDER BY id").fetchall()


def _rule(url: str, kind: RuleKind, **values: Any) -> None:
    sets = ", ".join(f"{name} = %s" for name in values)
    with _db(url) as db:
        db.execute(f"UPDATE follow_up_rules SET {sets} WHERE kind = %s", (*values.values(), kind))


# -- open work orders nobody touched ---------------------------------------------------------
def test_a_pending_work_order_becomes_due_exactly_at_48_hours(
    db_url: str, company: dict[str, int]
) -> None:
    order = _order(db_url, company, status="new", at=WHEN)
    second = dt.timedelta(seconds=1)
    assert (
        _run(db_url, WHEN + dt.timedelta(hours=48) - second).tasks[RuleKind.STALE_WORK_ORDER] == 0
    )
    assert _tasks(db_url) == []
    done = _run(db_url, WHEN + dt.timedelta(hours=48))
    assert done.tasks[RuleKind.STALE_WORK_ORDER] == 1
    (task,) = _tasks(db_url)
    assert task["kind"] == "stale_work_order" and task["work_order_id"] == order
    assert task["due_at"] == WHEN + dt.timedelta(hours=48)
    assert task["title"].endswith("untouched: move it forward") and task["state"] == "open"
    assert "Amelia Brooks" in task["detail"]
    # Again, and on another worker at once: still one.
    assert _run(db_url, WHEN + dt.timedelta(hours=49)).total_tasks == 0
    assert len(_tasks(db_url)) == 1
    assert _messages(db_url) == []  # a task only: no customer is told their order is stale

    # Someone touches the work order: the task is no longer needed.
    with _db(db_url) as db:
        db.execute(
            "UPDATE work_orders SET description = 'Called, waiting on parts' WHERE id = %s",
            (order,),
        )
    closed = _run(db_url, WHEN + dt.timedelta(hours=50))
    assert closed.closed == 1
    (task,) = _tasks(db_url)
    assert (task["state"], task["outcome"]) == ("done", "obsolete")


def test_turning_a_rule_on_does_not_dig_up_old_occasions(
    db_url: str, company: dict[str, int]
) -> None:
    _order(db_url, company, status="new", at=WHEN)
    assert _run(db_url, WHEN + dt.timedelta(hours=48, days=15)).total_tasks == 0


def test_a_disabled_rule_makes_nothing(db_url: str, company: dict[str, int]) -> None:
    _rule(db_url, RuleKind.STALE_WORK_ORDER, enabled=False)
    _order(db_url, company, status="new", at=WHEN)
    assert RuleKind.STALE_WORK_ORDER not in _run(db_url, WHEN + dt.timedelta(hours=48)).tasks
    assert _tasks(db_url) == []


# -- completed, not closed ------------------------------------------------------------------
def test_a_completed_visit_whose_work_order_is_not_closed_is_due_at_the_end_of_the_day(
    db_url: str, company: dict[str, int]
) -> None:
    done_at = WHEN.replace(hour=15)
    order = _order(db_url, company, status="completed", at=done_at)
    midnight = dt.datetime(2026, 12, 2, 0, 0, tzinfo=TZ)
    _rule(db_url, RuleKind.REVIEW_REQUEST, enabled=False)
    assert _run(db_url, midnight - dt.timedelta(seconds=1)).tasks[RuleKind.NOT_CLOSED] == 0
    assert _run(db_url, midnight).tasks[RuleKind.NOT_CLOSED] == 1
    (task,) = _tasks(db_url, RuleKind.NOT_CLOSED)
    assert task["due_at"] == midnight and task["title"].endswith("completed but not invoiced")
    with _db(db_url) as db:
        db.execute("UPDATE work_orders SET status = 'invoiced' WHERE id = %s", (order,))
    assert _run(db_url, midnight + dt.timedelta(hours=1)).closed == 1


# -- cancellations and no-shows: a call, won back or lost -------------------------------------
@pytest.mark.parametrize(
    ("status", "wait", "title"),
    [("cancelled", 24, "Win back Amelia Brooks"), ("no_show", 2, "Rebook Amelia Brooks")],
)
def test_a_cancellation_or_no_show_is_queued_for_a_call_whose_outcome_is_recorded(
    db_url: str, company: dict[str, int], status: str, wait: int, title: str
) -> None:
    order = _order(db_url, company, status=status, at=WHEN, reason="Went with another company")
    kind = RuleKind.CANCELLATION if status == "cancelled" else RuleKind.NO_SHOW
    assert _run(db_url, WHEN + dt.timedelta(hours=wait) - dt.timedelta(seconds=1)).tasks[kind] == 0
    assert _run(db_url, WHEN + dt.timedelta(hours=wait)).tasks[kind] == 1
    (task,) = _tasks(db_url, kind)
    assert task["title"].startswith(title) and task["work_order_id"] == order
    assert task["detail"] == "Went with another company"
    (row,) = operate(db_url, lambda s: tasks.list_follow_ups(s))
    assert row.wins_back and row.work_order_number is not None

    with pytest.raises(ValidationError, match="Say why"):
        operate(
            db_url,
            lambda s: tasks.finish_follow_up(s, row.id, row.version, outcome=FollowUpOutcome.LOST),
        )
    operate(
        db_url,
        lambda s: tasks.finish_follow_up(
            s, row.id, row.version, outcome=FollowUpOutcome.LOST, reason="  Price  too high "
        ),
    )
    (task,) = _tasks(db_url, kind)
    assert (task["state"], task["outcome"], task["reason"]) == ("done", "lost", "Price too high")
    assert task["done_by"] and task["done_at"] is not None
    # Finished is final, for the app and for psql alike.
    with pytest.raises(ConflictError, match="already finished"):
        operate(db_url, lambda s: tasks.finish_follow_up(s, row.id, task["version"]))
    with _db(db_url) as db, pytest.raises(psycopg.DatabaseError, match="is done"):
        db.execute("UPDATE follow_ups SET outcome = 'recovered' WHERE id = %s", (row.id,))
    with _db(db_url) as db, pytest.raises(psycopg.DatabaseError, match="is kept"):
        db.execute("DELETE FROM follow_ups WHERE id = %s", (row.id,))


def test_the_database_wants_a_reason_for_a_lost_customer_and_a_snooze(
    db_url: str, company: dict[str, int]
) -> None:
    _order(db_url, company, status="cancelled", at=WHEN, reason="Moved away")
    _run(db_url, WHEN + dt.timedelta(hours=24))
    (task,) = _tasks(db_url)
    with _db(db_url) as db, pytest.raises(psycopg.errors.CheckViolation):
        db.execute(
            "UPDATE follow_ups SET state = 'done', outcome = 'lost' WHERE id = %s", (task["id"],)
        )
    with _db(db_url) as db, pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE follow_ups SET state = 'snoozed' WHERE id = %s", (task["id"],))


# -- messages: review requests, plan offers, annual reminders -----------------------------------
def test_a_review_request_goes_two_hours_after_completion_to_those_who_agreed(
    db_url: str, company: dict[str, int]
) -> None:
    fan = _order(db_url, company, status="completed", at=WHEN)
    texts_only = _order(db_url, company, status="completed", at=WHEN, who="texts")
    assert (
        _run(db_url, WHEN + dt.timedelta(hours=2) - dt.timedelta(seconds=1)).messages[
            RuleKind.REVIEW_REQUEST
        ]
        == 0
    )
    done = _run(db_url, WHEN + dt.timedelta(hours=2))
    assert done.messages[RuleKind.REVIEW_REQUEST] == 2
    assert done.tasks[RuleKind.REVIEW_REQUEST] == 0  # the default: a message, no task
    sent = {m["work_order_id"]: m for m in _messages(db_url)}
    assert sent[fan]["event"] == "review_request" and sent[fan]["purpose"] == "promotional"
    assert sent[fan]["state"] == "queued"
    assert sent[fan]["idempotency_key"] == f"review_request:{fan}:sms"
    assert "Amelia" in sent[fan]["body"]
    # Agreed to informational texts only: the database cancels a promotional one.
    assert sent[texts_only]["state"] == "cancelled"
    assert _run(db_url, WHEN + dt.timedelta(hours=3)).total_messages == 0
    assert len(_messages(db_url)) == 2


def test_a_maintenance_plan_is_offered_90_days_after_a_repair_unless_on_a_plan(
    db_url: str, company: dict[str, int]
) -> None:
    _rule(db_url, RuleKind.REVIEW_REQUEST, enabled=False)
    _rule(db_url, RuleKind.NOT_CLOSED, enabled=False)
    repaired = _order(db_url, company, status="invoiced", at=WHEN)
    _order(db_url, company, status="invoiced", at=WHEN, who="texts")
    with _db(db_url) as db:  # Björn has an agreement running: nothing to offer
        db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on) "
            "VALUES (%s, 'Comfort Club', '2026-06-01', '2027-06-01')",
            (company["texts"],),
        )
    ninety = WHEN + dt.timedelta(days=90)
    assert _run(db_url, ninety - dt.timedelta(seconds=1)).messages[RuleKind.MAINTENANCE_OFFER] == 0
    assert _run(db_url, ninety).messages[RuleKind.MAINTENANCE_OFFER] == 1
    (offer,) = _messages(db_url)
    assert (offer["event"], offer["work_order_id"]) == ("maintenance_offer", repaired)
    assert offer["purpose"] == "promotional" and offer["state"] == "queued"


def test_the_annual_reminder_makes_a_call_task_and_a_message_a_year_after_the_last_job(
    db_url: str, company: dict[str, int]
) -> None:
    for kind in (RuleKind.REVIEW_REQUEST, RuleKind.NOT_CLOSED, RuleKind.MAINTENANCE_OFFER):
        _rule(db_url, kind, enabled=False)
    last = _order(db_url, company, status="closed", at=WHEN)
    # Björn booked again since: no reminder for his old job.
    _order(db_url, company, status="closed", at=WHEN, who="texts")
    _order(db_url, company, status="new", at=WHEN + dt.timedelta(days=200), who="texts")
    year = WHEN + dt.timedelta(hours=365 * 24)
    assert _run(db_url, year - dt.timedelta(seconds=1)).tasks[RuleKind.ANNUAL_REMINDER] == 0
    done = _run(db_url, year)
    assert (done.tasks[RuleKind.ANNUAL_REMINDER], done.messages[RuleKind.ANNUAL_REMINDER]) == (1, 1)
    (task,) = _tasks(db_url, RuleKind.ANNUAL_REMINDER)
    assert task["title"] == "Annual service due for Amelia Brooks" and task["work_order_id"] == last
    (reminder,) = [m for m in _messages(db_url) if m["event"] == "maintenance_reminder"]
    assert reminder["customer_id"] == company["fan"]


# -- agreements: renewal ---------------------------------------------------------------------
def test_an_agreement_renewal_is_due_30_days_before_it_ends_and_closes_when_renewed(
    db_url: str, company: dict[str, int]
) -> None:
    with _db(db_url) as db:
        agreement = db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on) "
            "VALUES (%s, 'Comfort Club', '2026-01-31', '2027-01-31') RETURNING id",
            (company["fan"],),
        ).fetchone()["id"]
    due = dt.datetime(2027, 1, 1, 0, 0, tzinfo=TZ)
    assert _run(db_url, due - dt.timedelta(seconds=1)).tasks[RuleKind.AGREEMENT_RENEWAL] == 0
    assert _run(db_url, due).tasks[RuleKind.AGREEMENT_RENEWAL] == 1
    (task,) = _tasks(db_url, RuleKind.AGREEMENT_RENEWAL)
    assert task["title"] == "Renew Amelia Brooks's Comfort Club"
    assert task["detail"] == "Ends Jan 31, 2027" and task["agreement_id"] == agreement
    with _db(db_url) as db:
        db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on) "
            "VALUES (%s, 'Comfort Club', '2027-01-31', '2028-01-31')",
            (company["fan"],),
        )
    assert _run(db_url, due + dt.timedelta(days=1)).closed == 1


# -- snoozing, assigning --------------------------------------------------------------------
def test_a_snoozed_task_comes_back_when_its_time_is_up(
    db_url: str, company: dict[str, int]
) -> None:
    _order(db_url, company, status="no_show", at=WHEN, reason="Nobody home")
    now = WHEN + dt.timedelta(hours=2)
    _run(db_url, now)
    (row,) = operate(db_url, lambda s: tasks.list_follow_ups(s))
    clock = FixedClock(now)
    with pytest.raises(ValidationError, match="Say why"):
        operate(
            db_url,
            lambda s: tasks.snooze_follow_up(
                s, row.id, row.version, until=now + dt.timedelta(days=1), reason=" ", clock=clock
            ),
        )
    with pytest.raises(ValidationError, match="still to come"):
        operate(
            db_url,
            lambda s: tasks.snooze_follow_up(
                s, row.id, row.version, until=now, reason="Away", clock=clock
            ),
        )
    until = now + dt.timedelta(days=3)
    operate(
        db_url,
        lambda s: tasks.snooze_follow_up(
            s, row.id, row.version, until=until, reason="Away until Friday", clock=clock
        ),
    )
    (snoozed,) = operate(db_url, lambda s: tasks.list_follow_ups(s))
    assert (snoozed.state.value, snoozed.due_at, snoozed.reason) == (
        "snoozed",
        until,
        "Away until Friday",
    )
    with pytest.raises(ConflictError, match="someone else"):
        operate(db_url, lambda s: tasks.assign_follow_up(s, row.id, row.version, to="maria"))
    operate(db_url, lambda s: tasks.assign_follow_up(s, row.id, snoozed.version, to="maria"))
    assert _run(db_url, until - dt.timedelta(seconds=1)).woken == 0
    assert _run(db_url, until).woken == 1
    (back,) = operate(db_url, lambda s: tasks.list_follow_ups(s, assigned_to="maria"))
    assert back.state.value == "open" and back.overdue(until)


# -- missed calls ----------------------------------------------------------------------------
def test_a_missed_call_makes_one_callback_closed_when_the_caller_books_anyway(
    db_url: str, company: dict[str, int]
) -> None:
    with _db(db_url) as db:
        for minute in (0, 5):
            db.execute(
                "INSERT INTO leads (source, phone, received_at) VALUES ('missed_call', "
                "'+13125550111', %s)",
                (WHEN + dt.timedelta(minutes=minute),),
            )
    (callback,) = _tasks(db_url, RuleKind.MISSED_CALL)
    assert callback["customer_id"] == company["fan"] and callback["due_at"] == WHEN
    assert callback["title"] == "Call back +13125550111"
    _order(db_url, company, status="new", at=WHEN + dt.timedelta(minutes=30))
    assert _run(db_url, WHEN + dt.timedelta(hours=1)).closed == 1
    (callback,) = _tasks(db_url, RuleKind.MISSED_CALL)
    assert callback["outcome"] == "obsolete"


def test_a_manager_edits_a_rule_and_a_rule_without_a_message_cannot_send_one(
    db_url: str, company: dict[str, int]
) -> None:
    rules = {r.kind: r for r in operate(db_url, tasks.follow_up_rules)}
    assert list(rules) == list(RuleKind)
    stale = rules[RuleKind.STALE_WORK_ORDER]
    assert (stale.wait_hours, stale.makes_task, stale.sends_message) == (48, True, False)
    with pytest.raises(ValidationError, match="no customer message"):
        operate(
            db_url,
            lambda s: tasks.save_rule(
                s,
                stale.id,
                stale.version,
                enabled=True,
                wait_hours=24,
                makes_task=True,
                sends_message=True,
                assign_to=None,
            ),
        )
    operate(
        db_url,
        lambda s: tasks.save_rule(
            s,
            stale.id,
            stale.version,
            enabled=True,
            wait_hours=24,
            makes_task=True,
            sends_message=False,
            assign_to=" maria ",
        ),
    )
    _order(db_url, company, status="new", at=WHEN)
    assert _run(db_url, WHEN + dt.timedelta(hours=24)).tasks[RuleKind.STALE_WORK_ORDER] == 1
    (task,) = _tasks(db_url)
    assert task["assigned_to"] == "maria"


# -- the worker runs them ------------------------------------------------------------------
def test_the_running_worker_runs_the_rules_and_books_agreement_visits(
    db_url: str, company: dict[str, int]
) -> None:
    from dispatch_app.services.outbox.worker import OutboxWorker, WorkerOptions

    _order(db_url, company, status="new", at=WHEN)
    with _db(db_url) as db:
        plan = db.execute(
            "INSERT INTO maintenance_plans (name, visits_per_year, job_type_id) "
            "VALUES ('Comfort Club', 2, %s) RETURNING id",
            (company["job"],),
        ).fetchone()["id"]
        db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on, visits_per_year, "
            "plan_id) VALUES (%s, 'Comfort Club', '2026-12-20', '2027-12-20', 2, %s)",
            (company["texts"], plan),
        )
    clock = FixedClock(WHEN + dt.timedelta(hours=48))

    async def work() -> tuple[int, int]:
        engine = make_async_engine(db_url)
        worker = OutboxWorker(
            session_factory(engine), clock=clock, options=WorkerOptions(name="rules")
        )
        stop = asyncio.Event()
        running = asyncio.ensure_future(worker.run(stop))
        try:
            async with asyncio.timeout(30):
                while True:  # until the first round of rules is in (or the deadline)
                    with _db(db_url) as db:
                        found = db.execute(
                            "SELECT (SELECT count(*) FROM follow_ups) AS tasks, "
                            "(SELECT count(*) FROM work_orders WHERE source = 'agreement') "
                            "AS visits"
                        ).fetchone()
                    if found["tasks"] and found["visits"]:
                        return int(found["tasks"]), int(found["visits"])
                    await asyncio.wait({running}, timeout=0.05)
                    assert not running.done(), "the worker stopped"
        finally:
            stop.set()
            await running
            await engine.dispose()

    # The stale work order's task; the agreement's Dec 20 visit, within 30 days.
    assert asyncio.run(work()) == (1, 1)


def test_the_worker_login_runs_every_rule_and_books_agreement_visits_and_a_csr_may_not_book(
    db_url: str, company: dict[str, int], scratch_server: ScratchServer
) -> None:
    from sqlalchemy.exc import DBAPIError

    from dispatch_app.services.follow_ups.agreements import book_due_visits

    _rule(db_url, RuleKind.REVIEW_REQUEST, makes_task=True)
    _order(db_url, company, status="new", at=WHEN)
    _order(db_url, company, status="completed", at=WHEN, who="texts")
    _order(db_url, company, status="cancelled", at=WHEN, reason="Moved away")
    with _db(db_url) as db:
        plan = db.execute(
            "INSERT INTO maintenance_plans (name, visits_per_year, job_type_id) "
            "VALUES ('Comfort Club', 1, %s) RETURNING id",
            (company["job"],),
        ).fetchone()["id"]
        db.execute(
            "INSERT INTO agreements (customer_id, name, starts_on, ends_on, plan_id) "
            "VALUES (%s, 'Comfort Club', '2026-12-10', '2027-12-10', %s)",
            (company["fan"], plan),
        )
    at = WHEN + dt.timedelta(hours=48)
    try:
        worker = scratch_server.login(db_url, "worker")
        done = _run(worker, at)
        # The stale order, the one not invoiced, the cancellation, the review call; and
        # the review request, queued (the database cancels it: texts only, not offers).
        assert (done.total_tasks, done.total_messages) == (4, 1)
        assert operate(worker, lambda s: book_due_visits(s, clock=FixedClock(at))) == 1
        csr = scratch_server.login(db_url, "csr")
        # Not granted to a CSR at all: the server refuses before the function runs.
        with pytest.raises(DBAPIError) as refused:
            operate(csr, lambda s: book_due_visits(s, clock=FixedClock(at)))
        assert refused.value.orig.sqlstate == "42501"  # type: ignore[union-attr]
    finally:
        scratch_server.drop_logins()
