"""The outbox at scale: a backlog of messages sent by one to four workers, and the time a
single message waits when the worker is idle.

    python -m benchmarks.outbox [--messages 10000] [--workers 4]

In a throwaway database, with the local stand-ins the tests use for the paid services
(an HTTP server speaking the SMS provider's API, and a real SMTP server), for each
worker count 1…``--workers``: ``--messages`` rows are queued at once (four in five
texts, one in five emails), that many ``python main.py worker --drain`` processes send
them, and the figures come from the rows themselves: messages per second from the
first claim to the last send, and queued → sent per message (p50/p99: in a backlog
that is mostly the wait in line). Duplicates are counted at the stand-ins (a key
delivered twice) and must be 0.

Then one ``python main.py worker`` left running and idle, and 300 messages queued one
at a time, 20 ms apart: queued → sent p50/p99 (the change feed wakes the worker), and
the worker stopped with SIGTERM. The last line of the output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.live_sync import percentile
from dispatch_app.config import libpq_url
from dispatch_app.db import migrate
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.scratch import ScratchServer
from tests.stand_ins import SmsProvider, SmtpServer

ROOT = Path(__file__).resolve().parents[1]
SID = "AC" + "0" * 32
TOKEN = "bench-token"
PASSWORD = "bench-password"
TRICKLE = 300
TRICKLE_GAP_S = 0.02


def _settings(db: psycopg.Connection, sms: SmsProvider, smtp: SmtpServer) -> None:
    for key, value in {
        "message_channels": ["sms", "email"],
        "sms_api_url": sms.url,
        "sms_account_sid": SID,
        "sms_from": "+13125550100",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "smtp_user": "office",
        "smtp_from": "office@lakeview.example",
        "company_name": "Lakeview Home Services",
    }.items():
        db.execute(
            "INSERT INTO app_settings (key, value) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )


def _queue(db: psycopg.Connection, round_: str, count: int) -> None:
    db.execute(
        "INSERT INTO outbox_messages (event, channel, recipient, subject, body, "
        "idempotency_key) SELECT 'test', "
        "CASE WHEN mod(n, 5) = 0 THEN 'email' ELSE 'sms' END, "
        "CASE WHEN mod(n, 5) = 0 THEN 'customer' || n || '@example.net' "
        "ELSE '+1312' || lpad((2000000 + n)::text, 7, '0') END, "
        "'Your technician is on the way', "
        "'Lakeview Home Services: Dmitri is on the way, arriving about 2:40 PM. ' || n, "
        "%s || n FROM generate_series(1, %s) AS n",
        (f"bench:{round_}:", count),
    )


def _environ() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    return {**keep, "DISPATCH_SMS_TOKEN": TOKEN, "DISPATCH_SMTP_PASSWORD": PASSWORD}


def _worker(url: str, name: str, *, drain: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "main.py", "--database-url", url, "worker", "--name", name]
    if drain:
        command.append("--drain")
    return subprocess.Popen(
        command, cwd=ROOT, env=_environ(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _figures(db: psycopg.Connection, round_: str) -> dict[str, Any]:
    rows = db.execute(
        "SELECT state, created_at, first_tried_at, sent_at FROM outbox_messages "
        "WHERE idempotency_key LIKE %s",
        (f"bench:{round_}:%",),
    ).fetchall()
    sent = [r for r in rows if r[0] == "sent"]
    waits = [(r[3] - r[1]).total_seconds() * 1000 for r in sent]
    first = min(r[2] for r in sent)
    last = max(r[3] for r in sent)
    span = (last - first).total_seconds()
    return {
        "sent": len(sent),
        "not_sent": len(rows) - len(sent),
        "per_s": round(len(sent) / span, 1) if span > 0 else float("inf"),
        "p50_ms": round(statistics.median(waits), 1),
        "p99_ms": round(percentile(waits, 0.99), 1),
    }


def _duplicates(sms: SmsProvider, smtp: SmtpServer) -> int:
    texts = sms.duplicate_keys()
    ids = [m["message_id"] for m in smtp.messages]
    return texts + len(ids) - len(set(ids))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    scratch = ScratchServer()
    results: dict[str, Any] = {
        "messages": args.messages,
        "workers": [],
        "per_s": [],
        "p50_ms": [],
        "p99_ms": [],
    }
    try:
        with (
            scratch.database() as url,
            SmsProvider(account_sid=SID, token=TOKEN, honour_idempotency=False) as sms,
            SmtpServer(user="office", password=PASSWORD) as smtp,
        ):
            engine = make_sync_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            with psycopg.connect(libpq_url(url), autocommit=True) as db:
                _settings(db, sms, smtp)
                for count in range(1, args.workers + 1):
                    round_ = f"w{count}"
                    _queue(db, round_, args.messages)
                    db.execute("VACUUM ANALYZE outbox_messages")
                    started = time.perf_counter()
                    workers = [_worker(url, f"bench-{count}-{k}", drain=True) for k in range(count)]
                    for worker in workers:
                        _, errors = worker.communicate(timeout=1800)
                        if worker.returncode != 0:
                            raise SystemExit(errors.decode(errors="replace"))
                    wall = time.perf_counter() - started
                    figures = _figures(db, round_)
                    print(
                        f"{count} worker(s): {figures['sent']:,} sent, {figures['not_sent']} not, "
                        f"{figures['per_s']:,.1f}/s ({figures['per_s'] / count:,.1f}/s each), "
                        f"queued→sent p50 {figures['p50_ms']:,.0f} ms p99 "
                        f"{figures['p99_ms']:,.0f} ms; {wall:.1f} s with start-up",
                        flush=True,
                    )
                    results["workers"].append(count)
                    results["per_s"].append(figures["per_s"])
                    results["p50_ms"].append(figures["p50_ms"])
                    results["p99_ms"].append(figures["p99_ms"])

                # One idle worker, messages arriving one at a time.
                worker = _worker(url, "bench-idle", drain=False)
                try:
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        beat = db.execute(
                            "SELECT count(*) FROM worker_heartbeats WHERE name = 'bench-idle' "
                            "AND stopped_at IS NULL"
                        ).fetchone()
                        if beat and beat[0]:
                            break
                        time.sleep(0.1)
                    time.sleep(1.0)  # its change feed connects after the first beat
                    for n in range(TRICKLE):
                        _queue_one(db, n)
                        time.sleep(TRICKLE_GAP_S)
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:
                        left = db.execute(
                            "SELECT count(*) FROM outbox_messages WHERE idempotency_key "
                            "LIKE 'bench:trickle:%' AND state <> 'sent'"
                        ).fetchone()
                        if left and left[0] == 0:
                            break
                        time.sleep(0.1)
                finally:
                    worker.send_signal(signal.SIGTERM)
                    worker.communicate(timeout=120)
                stopped = db.execute(
                    "SELECT stopped_at IS NOT NULL FROM worker_heartbeats WHERE name = 'bench-idle'"
                ).fetchone()
                trickle = _figures(db, "trickle")
                print(
                    f"idle worker, {TRICKLE} messages {TRICKLE_GAP_S * 1000:.0f} ms apart: "
                    f"queued→sent p50 {trickle['p50_ms']:.0f} ms, p99 {trickle['p99_ms']:.0f} ms; "
                    f"SIGTERM: exit {worker.returncode}, "
                    f"heartbeat says stopped: {bool(stopped and stopped[0])}",
                    flush=True,
                )
                results["trickle_p50_ms"] = trickle["p50_ms"]
                results["trickle_p99_ms"] = trickle["p99_ms"]
                results["sigterm_exit"] = worker.returncode
                results["duplicates"] = _duplicates(sms, smtp)
                results["deliveries"] = len(sms.deliveries) + len(smtp.messages)
    finally:
        scratch.close()
    print(json.dumps(results))
    return 0


def _queue_one(db: psycopg.Connection, n: int) -> None:
    db.execute(
        "INSERT INTO outbox_messages (event, channel, recipient, body, idempotency_key) "
        "VALUES ('test', 'sms', %s, %s, %s)",
        (f"+1773{2000000 + n:07d}", f"On the way {n}", f"bench:trickle:{n}"),
    )


if __name__ == "__main__":
    raise SystemExit(main())
