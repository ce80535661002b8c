"""The outbox's rules as the database keeps them, whoever writes (psql included): visits
queue their messages, consent and opt-outs are honoured, a queued message is not
rewritten, sending is the worker's, templates name only known placeholders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer


def _setting(db: psycopg.Connection, key: str, value: Any) -> None:
    db.execute(
        "INSERT INTO app_settings (key, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


def _company(url: str) -> dict[str, int]:
    """A company with one customer (texts agreed), a technician at home 8 km away and a
    visit booked for the server's "now" (so it is happening today, whenever this runs)."""
    with psycopg.connect(libpq_url(url)) as db:
        _setting(db, "business_timezone", "America/Chicago")
        _setting(db, "company_name", "Lakeview Home Services")
        _setting(db, "company_phone", "(312) 555-0100")
        _setting(db, "message_channels", ["log", "sms", "email"])
        tech = db.execute(
            "INSERT INTO technicians (name, trade, colour, home_lat, home_lon) "
            "VALUES ('Ava Kowalski', 'hvac', '#1f77b4', 41.87, -87.65) RETURNING id"
        ).fetchone()[0]
        customer = db.execute(
            "INSERT INTO customers (name, email, message_consent) "
            "VALUES ('José Núñez', 'jose@example.net', 'informational') RETURNING id"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO customer_phones (customer_id, number, label) VALUES "
            "(%s, '+13125550111', 'home'), (%s, '+13125550142', 'mobile')",
            (customer, customer),
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
    return {"customer": customer, "order": order, "visit": visit, "tech": tech}


@pytest.fixture
def company(db_url: str) -> dict[str, int]:
    return _company(db_url)


@pytest.fixture
def logins(db_url: str, scratch_server: ScratchServer) -> Iterator[dict[str, str]]:
    try:
        yield {
            group: scratch_server.login(db_url, group)
            for group in ("csr", "dispatcher", "manager", "worker")
        }
    finally:
        scratch_server.drop_logins()


def _messages(url: str, visit: int | None = None) -> list[dict[str, Any]]:
    with psycopg.connect(libpq_url(url)) as db:
        db.row_factory = psycopg.rows.dict_row  # type: ignore[assignment]
        query = "SELECT * FROM outbox_messages"
        rows = (
            db.execute(query + " WHERE visit_id = %s ORDER BY id", (visit,))
            if visit is not None
            else db.execute(query + " ORDER BY id")
        )
        return list(rows)


def _set_status(url: str, visit: int, status: str) -> None:
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("UPDATE visits SET status = %s WHERE id = %s", (status, visit))


def test_a_visit_set_en_route_from_psql_queues_the_on_the_way_message_on_each_channel(
    db_url: str, company: dict[str, int]
) -> None:
    _set_status(db_url, company["visit"], "en_route")
    rows = {row["channel"]: row for row in _messages(db_url, company["visit"])}
    assert set(rows) == {"log", "sms", "email"}
    assert all(row["state"] == "queued" and row["event"] == "on_the_way" for row in rows.values())
    sms = rows["sms"]
    # The mobile number, not the first one on file.
    assert sms["recipient"] == "+13125550142"
    assert sms["idempotency_key"] == f"visit:{company['visit']}:on_the_way:sms"
    assert sms["body"].startswith(
        "Lakeview Home Services: Ava is on the way to you, arriving about"
    )
    # 8 km as the crow flies, on the road at 40 km/h: about a quarter of an hour.
    arrival = sms["context"]["arrival"]
    assert arrival.endswith(("AM", "PM")) and ":" in arrival
    assert sms["work_order_id"] == company["order"] and sms["customer_id"] == company["customer"]
    email = rows["email"]
    assert email["recipient"] == "jose@example.net"
    assert email["subject"] == "Ava from Lakeview Home Services is on the way"
    assert "Hello José," in email["body"]


def test_a_double_change_queues_one_message_and_completion_queues_job_done(
    db_url: str, company: dict[str, int]
) -> None:
    for status in ("en_route", "dispatched", "en_route", "on_site", "completed", "completed"):
        _set_status(db_url, company["visit"], status)
    rows = _messages(db_url, company["visit"])
    events = sorted((row["event"], row["channel"]) for row in rows)
    assert events == sorted(
        [(e, c) for e in ("on_the_way", "job_done") for c in ("log", "sms", "email")]
    )


def test_a_visit_of_another_day_queues_nothing(db_url: str, company: dict[str, int]) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE visits SET starts = now() - interval '9 days', "
            "ends = now() - interval '9 days' + interval '1 hour', "
            "arrival_window_start = NULL, arrival_window_end = NULL WHERE id = %s",
            (company["visit"],),
        )
    _set_status(db_url, company["visit"], "en_route")
    _set_status(db_url, company["visit"], "completed")
    assert _messages(db_url) == []


def test_no_text_without_consent_and_nothing_to_a_customer_who_opted_out(
    db_url: str, company: dict[str, int]
) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE customers SET message_consent = 'none' WHERE id = %s", (company["customer"],)
        )
    _set_status(db_url, company["visit"], "en_route")
    rows = {row["channel"]: row for row in _messages(db_url, company["visit"])}
    assert rows["sms"]["state"] == "cancelled"
    assert rows["sms"]["last_error"] == "José Núñez has not agreed to texts."
    assert rows["email"]["state"] == "queued" and rows["log"]["state"] == "queued"

    # A STOP later cancels what still waits, on every channel the customer reads.
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE customers SET opt_out_note = 'Asked on the phone' WHERE id = %s",
            (company["customer"],),
        )
        opted = db.execute(
            "SELECT opted_out_at IS NOT NULL FROM customers WHERE id = %s", (company["customer"],)
        ).fetchone()[0]
    assert opted
    rows = {row["channel"]: row for row in _messages(db_url, company["visit"])}
    assert rows["email"]["state"] == "cancelled"
    assert rows["email"]["last_error"] == "José Núñez opted out: Asked on the phone"
    _set_status(db_url, company["visit"], "completed")
    done = [r for r in _messages(db_url, company["visit"]) if r["event"] == "job_done"]
    assert {r["channel"]: r["state"] for r in done} == {
        "log": "queued",  # the office's own log, no customer reads it
        "sms": "cancelled",
        "email": "cancelled",
    }


def test_a_promotional_message_needs_express_consent(db_url: str, company: dict[str, int]) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "INSERT INTO outbox_messages (customer_id, event, purpose, channel, recipient, body, "
            "idempotency_key) VALUES (%s, 'review_request', 'promotional', 'sms', "
            "'+13125550142', 'How did we do?', 'review:1:sms')",
            (company["customer"],),
        )
    (row,) = _messages(db_url)
    assert row["state"] == "cancelled"
    assert row["last_error"] == "José Núñez has not agreed to offers and review requests."


def test_a_queued_message_is_sent_as_queued_and_kept(db_url: str, company: dict[str, int]) -> None:
    _set_status(db_url, company["visit"], "en_route")
    sms = next(r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms")
    with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
        with pytest.raises(psycopg.Error) as rewritten:
            db.execute("UPDATE outbox_messages SET body = 'Pay now' WHERE id = %s", (sms["id"],))
        assert rewritten.value.sqlstate == "DB001"
        assert "sent as it was queued" in str(rewritten.value)
        with pytest.raises(psycopg.Error) as removed:
            db.execute("DELETE FROM outbox_messages WHERE id = %s", (sms["id"],))
        assert removed.value.sqlstate == "DB001"


def test_sending_is_the_workers_and_cancelling_a_dispatchers(
    db_url: str, company: dict[str, int], logins: dict[str, str]
) -> None:
    _set_status(db_url, company["visit"], "en_route")
    sms = next(r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms")
    claim = (
        "UPDATE outbox_messages SET state = 'sending', claimed_by = 'me', claimed_at = now(), "
        "attempts = attempts + 1 WHERE id = %s"
    )
    with psycopg.connect(libpq_url(logins["manager"]), autocommit=True) as manager:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            manager.execute(claim, (sms["id"],))
        assert "Your role (Manager) may not send customer messages." in str(refused.value)
    with psycopg.connect(libpq_url(logins["worker"]), autocommit=True) as worker:
        worker.execute(claim, (sms["id"],))
        worker.execute(
            "UPDATE outbox_messages SET state = 'sent', claimed_by = NULL, claimed_at = NULL, "
            "sent_at = now(), provider_id = 'SM1' WHERE id = %s",
            (sms["id"],),
        )
        # The worker's login writes its own columns and nothing of the work.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            worker.execute("UPDATE work_orders SET description = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            worker.execute("UPDATE customers SET opt_out_note = 'x'")
    email = next(r for r in _messages(db_url, company["visit"]) if r["channel"] == "email")
    with (
        psycopg.connect(libpq_url(logins["csr"]), autocommit=True) as csr,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        csr.execute("UPDATE outbox_messages SET state = 'cancelled' WHERE id = %s", (email["id"],))
    with psycopg.connect(libpq_url(logins["dispatcher"]), autocommit=True) as dispatcher:
        dispatcher.execute(
            "UPDATE outbox_messages SET state = 'cancelled', last_error = 'Not needed' "
            "WHERE id = %s",
            (email["id"],),
        )
        with pytest.raises(psycopg.Error) as final:
            dispatcher.execute(
                "UPDATE outbox_messages SET state = 'queued' WHERE id = %s", (email["id"],)
            )
        assert final.value.sqlstate == "DB001", str(final.value)
    states = {r["channel"]: r["state"] for r in _messages(db_url, company["visit"])}
    assert states == {"sms": "sent", "email": "cancelled", "log": "queued"}


def test_a_csr_resends_a_message_as_a_new_row_and_not_one_still_waiting(
    db_url: str, company: dict[str, int], logins: dict[str, str]
) -> None:
    _set_status(db_url, company["visit"], "en_route")
    sms = next(r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms")
    with psycopg.connect(libpq_url(logins["csr"]), autocommit=True) as csr:
        with pytest.raises(psycopg.Error) as waiting:
            csr.execute("SELECT dispatch_resend_message(%s)", (sms["id"],))
        assert waiting.value.sqlstate == "DB001"
        assert "still waiting to be sent" in str(waiting.value)
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE outbox_messages SET state = 'cancelled', last_error = 'x' WHERE id = %s",
            (sms["id"],),
        )
    with psycopg.connect(libpq_url(logins["csr"]), autocommit=True) as csr:
        first = csr.execute("SELECT dispatch_resend_message(%s)", (sms["id"],)).fetchone()[0]
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE outbox_messages SET state = 'cancelled', last_error = 'y' WHERE id = %s",
            (first,),
        )
    with psycopg.connect(libpq_url(logins["csr"]), autocommit=True) as csr:
        second = csr.execute("SELECT dispatch_resend_message(%s)", (first,)).fetchone()[0]
    rows = {r["id"]: r for r in _messages(db_url, company["visit"])}
    assert rows[first]["idempotency_key"] == f"{sms['idempotency_key']}#resend-1"
    assert rows[second]["idempotency_key"] == f"{sms['idempotency_key']}#resend-2"
    assert rows[second]["resend_of_id"] == sms["id"] and rows[second]["state"] == "queued"
    assert rows[second]["created_by"] == logins["csr"].split("//")[1].split(":")[0]


def test_a_stop_reply_opts_out_once_and_start_brings_the_customer_back(
    db_url: str, company: dict[str, int], logins: dict[str, str]
) -> None:
    _set_status(db_url, company["visit"], "en_route")
    reply = "SELECT dispatch_sms_reply(%s, %s, %s, %s, now())"
    with psycopg.connect(libpq_url(logins["worker"]), autocommit=True) as worker:
        assert worker.execute(reply, ("SM9", "+13125550142", "Stop", "opt_out")).fetchone()[0] == 1
        # Read again on the next poll: applied once.
        assert worker.execute(reply, ("SM9", "+13125550142", "Stop", "opt_out")).fetchone()[0] == 0
    with psycopg.connect(libpq_url(db_url)) as db:
        note, consent = db.execute(
            "SELECT opt_out_note, message_consent FROM customers WHERE id = %s",
            (company["customer"],),
        ).fetchone()
        replies = db.execute("SELECT count(*) FROM message_replies").fetchone()[0]
    assert note.startswith("Replied STOP by text on ") and replies == 1
    assert {r["state"] for r in _messages(db_url, company["visit"]) if r["channel"] != "log"} == {
        "cancelled"
    }
    with psycopg.connect(libpq_url(logins["worker"]), autocommit=True) as worker:
        assert worker.execute(reply, ("SM10", "+13125550142", "START", "opt_in")).fetchone()[0] == 1
    with psycopg.connect(libpq_url(db_url)) as db:
        back = db.execute(
            "SELECT opted_out_at IS NULL, message_consent FROM customers WHERE id = %s",
            (company["customer"],),
        ).fetchone()
    assert back == (True, consent)
    with (
        psycopg.connect(libpq_url(logins["dispatcher"]), autocommit=True) as dispatcher,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        dispatcher.execute(reply, ("SM11", "+13125550142", "STOP", "opt_out"))


def test_consent_is_stamped_with_the_login_that_recorded_it(
    db_url: str, company: dict[str, int], logins: dict[str, str]
) -> None:
    csr_login = logins["csr"].split("//")[1].split(":")[0]
    with psycopg.connect(libpq_url(logins["csr"]), autocommit=True) as csr:
        csr.execute(
            "UPDATE customers SET message_consent = 'promotional' WHERE id = %s",
            (company["customer"],),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            csr.execute("UPDATE customers SET consent_recorded_by = 'someone else'")
    with psycopg.connect(libpq_url(db_url)) as db:
        by, at = db.execute(
            "SELECT consent_recorded_by, consent_recorded_at FROM customers WHERE id = %s",
            (company["customer"],),
        ).fetchone()
    assert by == csr_login and at is not None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            "Hi {customer}, {discount} off!",
            "The template uses {discount}, which is not a placeholder",
        ),
        ("Hi {customer", "The template has a brace that opens or closes no placeholder."),
        ("   ", "The template says nothing"),
    ],
)
def test_a_template_naming_an_unknown_placeholder_is_refused_when_saved(
    db_url: str, body: str, said: str
) -> None:
    with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
        with pytest.raises(psycopg.Error) as refused:
            db.execute(
                "UPDATE message_templates SET body = %s WHERE event = 'job_done' "
                "AND channel = 'sms'",
                (body,),
            )
        assert refused.value.sqlstate == "DB001"
        assert said in str(refused.value)
        db.execute(
            "UPDATE message_templates SET body = 'Done: {work_order}, {technician}.' "
            "WHERE event = 'job_done' AND channel = 'sms'"
        )


def test_a_value_that_reads_like_a_placeholder_is_not_filled_in_again(
    db_url: str, company: dict[str, int]
) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "UPDATE customers SET name = '{work_order} Smith' WHERE id = %s", (company["customer"],)
        )
    _set_status(db_url, company["visit"], "en_route")
    email = next(r for r in _messages(db_url, company["visit"]) if r["channel"] == "email")
    assert email["body"].startswith("Hello {work_order},")
