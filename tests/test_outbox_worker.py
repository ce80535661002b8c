"""The worker against a real database and real stand-ins for the paid services: an SMTP
server (aiosmtpd) and an HTTP server speaking the SMS provider's API. Time is a clock
the test holds; nothing sleeps."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.messages import MessageEvent
from dispatch_app.services.outbox import queue
from dispatch_app.services.outbox.worker import OutboxWorker, WorkerOptions
from tests.stand_ins import SmsProvider, SmtpServer
from tests.test_outbox_rules import _company, _messages, _set_status, _setting

CHICAGO = ZoneInfo("America/Chicago")
SMTP_PASSWORD = "Compressor-Relay-8841"
SMS_TOKEN = "token-5b1f0e"
SID = "AC0123456789abcdef0123456789abcdef"


@pytest.fixture
def sms() -> Iterator[SmsProvider]:
    # The real provider keeps no idempotency keys: nor does this one, so a retry that
    # did not first look for an earlier delivery would show as a second text.
    with SmsProvider(account_sid=SID, token=SMS_TOKEN, honour_idempotency=False) as provider:
        yield provider


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(user="office", password=SMTP_PASSWORD) as server:
        yield server


def _configure(url: str, sms: SmsProvider | None, smtp: SmtpServer | None) -> None:
    with psycopg.connect(libpq_url(url)) as db:
        channels = ["log"]
        if sms is not None:
            channels.append("sms")
            _setting(db, "sms_api_url", sms.url)
            _setting(db, "sms_account_sid", SID)
            _setting(db, "sms_from", "+13125550100")
        if smtp is not None:
            channels.append("email")
            _setting(db, "smtp_host", smtp.host)
            _setting(db, "smtp_port", smtp.port)
            _setting(db, "smtp_starttls", False)
            _setting(db, "smtp_user", "office")
            _setting(db, "smtp_from", "office@lakeview.example")
        _setting(db, "message_channels", channels)


ENVIRON = {"DISPATCH_SMTP_PASSWORD": SMTP_PASSWORD, "DISPATCH_SMS_TOKEN": SMS_TOKEN}


def _worker(url: str, clock: FixedClock, name: str = "w1", **options: Any) -> OutboxWorker:
    sessions = session_factory(make_async_engine(url))
    return OutboxWorker(
        sessions,
        clock=clock,
        options=WorkerOptions(name=name, **options),
        environ=ENVIRON,
    )


async def _drain(worker: OutboxWorker) -> int:
    try:
        return await worker.drain()
    finally:
        await worker.close(beat=False)


def _db_now(url: str) -> dt.datetime:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute("SELECT now()").fetchone()[0]


def test_the_worker_delivers_email_and_texts_and_stores_the_providers_ids(
    db_url: str, sms: SmsProvider, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, smtp)
    _set_status(db_url, company["visit"], "en_route")
    clock = FixedClock(_db_now(db_url))
    caplog.set_level(logging.DEBUG)
    assert asyncio.run(_drain(_worker(db_url, clock))) == 3
    rows = {r["channel"]: r for r in _messages(db_url, company["visit"])}
    assert {c: r["state"] for c, r in rows.items()} == {
        "sms": "sent",
        "email": "sent",
        "log": "sent",
    }
    (text,) = sms.deliveries
    assert text["to"] == "+13125550142" and text["body"] == rows["sms"]["body"]
    assert rows["sms"]["provider_id"] == text["sid"]
    (mail,) = smtp.messages
    assert mail["to"] == ["jose@example.net"]
    assert mail["subject"] == rows["email"]["subject"]
    assert "Hello José," in mail["body"]
    assert rows["email"]["provider_id"] == mail["message_id"]
    # The password appears in no log line and no row of any table.
    assert all(SMTP_PASSWORD not in record.getMessage() for record in caplog.records)
    with psycopg.connect(libpq_url(db_url)) as db:
        for (table,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall():
            found = db.execute(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s', (f"%{SMTP_PASSWORD}%",)
            ).fetchone()[0]
            assert found == 0, table


def test_a_failing_provider_is_tried_again_with_backoff_then_the_row_fails_with_the_error(
    db_url: str, sms: SmsProvider
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, None)
    _set_status(db_url, company["visit"], "en_route")
    clock = FixedClock(_db_now(db_url))
    sms.fail_next(10, status=500)
    waits = []
    for _attempt in range(5):
        asyncio.run(_drain(_worker(db_url, clock)))
        (row,) = [r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms"]
        if row["state"] != "queued":
            break
        waits.append(row["next_attempt_at"] - clock.now())
        # Not due yet: a worker now sends nothing.
        assert asyncio.run(_drain(_worker(db_url, clock))) == 0
        clock.set(row["next_attempt_at"])
    assert [round(w.total_seconds()) for w in waits] == [30, 120, 480, 1920]
    assert row["state"] == "failed" and row["attempts"] == 5
    assert "500" in row["last_error"] or "provider" in row["last_error"].lower()
    assert sms.deliveries == []


def test_a_refused_number_fails_at_once_and_a_timeout_is_tried_again(
    db_url: str, sms: SmsProvider
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, None)
    sms.refuse("+13125550142", code=21211)
    _set_status(db_url, company["visit"], "en_route")
    clock = FixedClock(_db_now(db_url))
    asyncio.run(_drain(_worker(db_url, clock)))
    (row,) = [r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms"]
    assert row["state"] == "failed" and row["attempts"] == 1
    assert "21211" in row["last_error"] or "not a valid" in row["last_error"]


def test_a_timeout_is_tried_again_and_the_retry_sends_no_second_text(
    db_url: str, sms: SmsProvider
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, None)
    clock = FixedClock(_db_now(db_url))
    sms.hang_next(1, seconds=5)
    _set_status(db_url, company["visit"], "completed")
    asyncio.run(_drain(_worker(db_url, clock, send_timeout=0.5)))
    (done,) = [
        r
        for r in _messages(db_url, company["visit"])
        if r["channel"] == "sms" and r["event"] == "job_done"
    ]
    assert done["state"] == "queued" and done["attempts"] == 1 and done["last_error"]
    clock.set(done["next_attempt_at"])
    asyncio.run(_drain(_worker(db_url, clock)))
    (done,) = [
        r
        for r in _messages(db_url, company["visit"])
        if r["channel"] == "sms" and r["event"] == "job_done"
    ]
    assert done["state"] == "sent"
    # The hung request may have reached the provider: the retry asked first, so one text.
    assert sum(1 for d in sms.deliveries if d["body"] == done["body"]) == 1


def test_two_workers_on_one_outbox_never_send_a_message_twice(
    db_url: str, sms: SmsProvider
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, None)
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "INSERT INTO outbox_messages (customer_id, event, channel, recipient, body, "
            "idempotency_key) SELECT %s, 'test', 'sms', '+1312555' || lpad(n::text, 4, '0'), "
            "'Message ' || n, 'bulk:' || n FROM generate_series(1, 100) AS n",
            (company["customer"],),
        )
    clock = FixedClock(_db_now(db_url))

    async def both() -> list[int]:
        one, two = _worker(db_url, clock, "w1", batch=5), _worker(db_url, clock, "w2", batch=5)
        return list(await asyncio.gather(_drain(one), _drain(two)))

    handled = asyncio.run(both())
    assert sum(handled) == 100 and all(handled)  # both took part
    assert len(sms.deliveries) == 100
    assert len({d["body"] for d in sms.deliveries}) == 100
    assert {r["state"] for r in _messages(db_url)} == {"sent"}


def test_a_worker_killed_mid_send_leaves_its_row_to_be_reclaimed_without_a_duplicate(
    db_url: str, sms: SmsProvider, tmp_path: Path
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, None)
    _set_status(db_url, company["visit"], "en_route")
    # The provider takes the text, then never answers: the worker dies waiting.
    sms.hang_next(1, seconds=60)
    worker = subprocess.Popen(
        [sys.executable, "main.py", "--database-url", db_url, "worker", "--name", "doomed"],
        cwd=Path(__file__).resolve().parents[1],
        env={**_env(), **ENVIRON},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert sms.wait_for_requests(1, timeout=60)
    finally:
        worker.kill()
        worker.wait(timeout=30)
    (row,) = [r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms"]
    assert row["state"] == "sending" and row["claimed_by"] == "doomed"
    # Within the lease the row is left alone; after it, it is reclaimed and sent once.
    clock = FixedClock(row["claimed_at"] + dt.timedelta(minutes=1))
    assert asyncio.run(_drain(_worker(db_url, clock))) == 0
    clock.set(row["claimed_at"] + dt.timedelta(minutes=6))
    # The text, and the log line it had claimed with it and never reached.
    assert asyncio.run(_drain(_worker(db_url, clock))) == 2
    (row,) = [r for r in _messages(db_url, company["visit"]) if r["channel"] == "sms"]
    assert row["state"] == "sent" and row["attempts"] == 2
    assert sms.count_for(row["idempotency_key"]) == 1
    assert sum(1 for d in sms.deliveries if d["body"] == row["body"]) == 1


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}


def test_a_reminder_waits_for_the_morning_in_the_recipients_zone_and_on_the_way_does_not(
    db_url: str,
) -> None:
    company = _company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        # The site is in Los Angeles: two hours behind the company in Chicago.
        db.execute("UPDATE service_sites SET lat = 34.05, lon = -118.24")
    _configure(db_url, None, None)
    # 23:30 in Los Angeles.
    clock = FixedClock(dt.datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles")))

    async def queue_reminder() -> list[int]:
        sessions = session_factory(make_async_engine(db_url))
        async with sessions() as session, session.begin():
            return await queue.queue_message(
                session,
                customer_id=company["customer"],
                event=MessageEvent.MAINTENANCE_REMINDER,
                key="reminder:2026",
                clock=clock,
                work_order_id=company["order"],
            )

    (made,) = asyncio.run(queue_reminder())
    (row,) = [r for r in _messages(db_url) if r["id"] == made]
    assert row["zone"] == "America/Los_Angeles"
    morning = dt.datetime(2026, 12, 2, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert row["next_attempt_at"] == morning
    assert asyncio.run(_drain(_worker(db_url, clock))) == 0
    clock.set(morning - dt.timedelta(minutes=1))
    assert asyncio.run(_drain(_worker(db_url, clock))) == 0
    clock.set(morning)
    assert asyncio.run(_drain(_worker(db_url, clock))) == 1
    (row,) = [r for r in _messages(db_url) if r["id"] == made]
    assert row["state"] == "sent"


def test_stop_replies_are_read_from_the_provider_and_honoured_on_every_channel(
    db_url: str, sms: SmsProvider, smtp: SmtpServer
) -> None:
    company = _company(db_url)
    _configure(db_url, sms, smtp)
    now = _db_now(db_url)
    clock = FixedClock(now)
    sms.add_inbound("+13125550142", "Stop", now - dt.timedelta(minutes=5))
    sms.add_inbound("+13125550142", "Please stop by after 3", now - dt.timedelta(minutes=4))
    worker = _worker(db_url, clock)

    async def poll() -> None:
        try:
            await worker.poll_provider()
        finally:
            await worker.close(beat=False)

    asyncio.run(poll())
    _set_status(db_url, company["visit"], "en_route")
    rows = {r["channel"]: r for r in _messages(db_url, company["visit"])}
    assert rows["sms"]["state"] == "cancelled" and rows["email"]["state"] == "cancelled"
    assert rows["sms"]["last_error"].startswith("José Núñez opted out: Replied STOP by text")
    assert asyncio.run(_drain(_worker(db_url, clock))) == 1  # the office's log line only
    assert sms.deliveries == [] and smtp.messages == []


def test_the_heartbeat_says_when_no_worker_runs(db_url: str) -> None:
    clock = FixedClock(dt.datetime(2026, 12, 1, 10, 42, tzinfo=CHICAGO))
    sessions = session_factory(make_async_engine(db_url))

    async def status() -> str | None:
        found = await queue.worker_status(sessions, clock=clock)
        return found.warning(CHICAGO)

    assert asyncio.run(status()) == "Messages are not being sent: no worker has run yet."
    worker = _worker(db_url, clock)
    asyncio.run(worker.beat())
    assert asyncio.run(status()) is None
    clock.advance(dt.timedelta(minutes=5))
    assert asyncio.run(status()) == "Messages are not being sent: no worker since 10:42 AM."


def test_messages_test_sends_one_message_through_the_configured_channel(
    db_url: str, sms: SmsProvider
) -> None:
    _configure(db_url, sms, None)
    _setting_url(db_url, "company_name", "Lakeview Home Services")
    done = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--database-url",
            db_url,
            "messages",
            "test",
            "--to",
            "(312) 555-0177",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**_env(), **ENVIRON},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (text,) = sms.deliveries
    assert text["to"] == "+13125550177"
    assert text["body"] == "This is a test message from Lakeview Home Services."
    assert f"Sent by text to +13125550177 ({text['sid']})." in done.stdout
    listed = subprocess.run(
        [sys.executable, "main.py", "--database-url", db_url, "messages", "list"],
        cwd=Path(__file__).resolve().parents[1],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and "+13125550177" in listed.stdout and "Sent" in listed.stdout


def _setting_url(url: str, key: str, value: Any) -> None:
    with psycopg.connect(libpq_url(url)) as db:
        _setting(db, key, value)
