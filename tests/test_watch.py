"""``python main.py watch``: the feed's public face, as a real process."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.models import CHANGE_CHANNEL
from tests.companies import small_company
from tests.test_live_sync import terminate_listener

ROOT = Path(__file__).resolve().parents[1]


class Lines:
    """A process's stdout, read on a thread so waits can have a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(
            target=lambda: [self._queue.put(line) for line in stream], daemon=True
        ).start()

    def until(self, predicate, timeout: float = 20) -> list[dict]:
        seen = []
        while True:
            record = json.loads(self._queue.get(timeout=timeout))
            seen.append(record)
            if predicate(record):
                return seen


@contextmanager
def watching(url: str, data_dir: Path, stderr: Path | None = None) -> Iterator[Lines]:
    """``python main.py watch`` on ``url``; stopped with SIGTERM afterwards, exit code 0."""
    env = {**os.environ, "DISPATCH_DATA_DIR": str(data_dir)}
    with open(stderr or os.devnull, "w") as errors:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--database-url", url, "watch"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    try:
        yield Lines(process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0


def test_watch_prints_changes_disconnects_and_resyncs(db_url: str, tmp_path) -> None:
    small_company(db_url)
    with watching(db_url, tmp_path) as lines:
        assert lines.until(lambda r: "event" in r)[-1] == {"event": "listening"}
        with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
            tech = db.execute(
                "UPDATE technicians SET phone = '+13125550100' "
                "WHERE name = 'Marcus Lee' RETURNING id"
            ).fetchone()[0]
            seen = lines.until(lambda r: r.get("table") == "technicians")
            assert seen[-1] == {
                "table": "technicians",
                "id": tech,
                "op": "update",
                "version": 2,
                "work_order": None,
            }
            # A row of a work order says whose it is.
            note, work_order = db.execute(
                "INSERT INTO notes (work_order_id, body) "
                "SELECT id, 'Gate code 4411' FROM work_orders ORDER BY id LIMIT 1 "
                "RETURNING id, work_order_id"
            ).fetchone()
            seen = lines.until(lambda r: r.get("table") == "notes")
            assert seen[-1] == {
                "table": "notes",
                "id": note,
                "op": "insert",
                "version": 1,
                "work_order": work_order,
            }

            terminate_listener(db_url)
            db.execute("UPDATE technicians SET phone = '+13125550111' WHERE id = %s", (tech,))
            after = lines.until(lambda r: r.get("event") == "resync")
            events = [r.get("event") for r in after]
            assert "disconnect" in events and "reconnect" in events
            assert after[-1]["rows"] >= 1
            # The change made while the feed was away is there, as a live hint or a resync row.
            lines_for_tech = [
                r for r in after if r.get("table") == "technicians" and r.get("id") == tech
            ]
            if not any(r["version"] == 3 for r in lines_for_tech):
                later = lines.until(
                    lambda r: r.get("table") == "technicians" and r.get("version") == 3
                )
                assert later[-1]["id"] == tech


def test_watch_goes_on_after_a_notification_that_is_not_a_hint(db_url: str, tmp_path) -> None:
    small_company(db_url)
    with watching(db_url, tmp_path) as lines:
        assert lines.until(lambda r: "event" in r)[-1] == {"event": "listening"}
        with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
            # Any login may send this; it once ended the feed while watch said nothing.
            db.execute(
                f'NOTIFY {CHANGE_CHANNEL}, \'{{"table":"visits","id":1e999,"op":"update"}}\''
            )
            tech = db.execute(
                "UPDATE technicians SET phone = '+13125550100' "
                "WHERE name = 'Marcus Lee' RETURNING id"
            ).fetchone()[0]
        seen = lines.until(lambda r: r.get("table") == "technicians")
        assert seen == [
            {"table": "technicians", "id": tech, "op": "update", "version": 2, "work_order": None}
        ]


@pytest.mark.slow
def test_watch_resyncs_after_the_server_restarts(tmp_path) -> None:
    """The embedded server stops and starts again: the resync reads on a fresh
    connection, lists what changed, and the change made straight after the restart is
    printed (by the resync, or by the feed if it was back first)."""
    from dispatch_app.db.embedded import EmbeddedServer
    from dispatch_app.services.database import migrate_now

    server = EmbeddedServer(tmp_path / "data")
    url = server.start()
    stderr = tmp_path / "watch.err"
    try:
        migrate_now(url)
        small_company(url)
        with watching(url, tmp_path / "watch", stderr) as lines:
            assert lines.until(lambda r: "event" in r)[-1] == {"event": "listening"}
            with psycopg.connect(libpq_url(url), autocommit=True) as db:
                tech = db.execute(
                    "UPDATE technicians SET phone = '+13125550100' "
                    "WHERE name = 'Marcus Lee' RETURNING id"
                ).fetchone()[0]
            lines.until(lambda r: r.get("table") == "technicians")

            server.stop()
            lines.until(lambda r: r.get("event") == "disconnect")
            assert server.start() == url
            with psycopg.connect(libpq_url(url), autocommit=True) as db:
                db.execute("UPDATE technicians SET phone = '+13125550111' WHERE id = %s", (tech,))

            after = lines.until(lambda r: r.get("event") == "resync", timeout=60)
            assert "reconnect" in [r.get("event") for r in after]
            resynced = [r for r in after if r.get("op") == "resync"]
            assert after[-1]["rows"] == len(resynced)
            # Changed since the last resync: listed, as of when the resync read it.
            assert any(r["table"] == "technicians" and r["id"] == tech for r in resynced)
            # The change made after the restart: read by the resync, or, when the feed
            # was back first, announced.
            if not any(r.get("id") == tech and r.get("version") == 3 for r in after):
                later = lines.until(lambda r: r.get("id") == tech and r.get("version") == 3)
                assert later[-1]["table"] == "technicians"
    finally:
        server.stop()
    complaints = stderr.read_text()
    assert "never retrieved" not in complaints and "Traceback" not in complaints, complaints
