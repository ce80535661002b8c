"""The main window's status bar says when customer messages are not being sent: no
worker has run, or none has beaten its heart lately; the warning goes once one does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from dispatch_app.config import libpq_url
from tests.companies import clock_at, small_company
from tests.qt_app import act, options_for, pump_until, wait_for


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def beat(url: str, name: str, at: dt.datetime, *, stopped: bool = False) -> None:
    sql(
        url,
        "INSERT INTO worker_heartbeats (name, started_at, beat_at, stopped_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, "
        "stopped_at = excluded.stopped_at",
        name,
        at - dt.timedelta(hours=1),
        at,
        at if stopped else None,
    )


def test_the_status_bar_warns_while_no_worker_sends_messages(
    loop, db_url, start, tmp_path, settings_dir
) -> None:
    small_company(db_url)  # Chicago time
    now = clock_at(7).now()
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    warning = app.window.worker_warning
    pump_until(loop, lambda: warning.status is not None)
    assert warning.isVisible()
    assert warning.text() == "Messages are not being sent: no worker has run yet."

    beat(db_url, "office-pc:4242", now - dt.timedelta(seconds=20))
    act(loop, warning.check)  # the 30-second timer's round, without the wait
    pump_until(loop, lambda: not warning.isVisible())

    beat(db_url, "office-pc:4242", now - dt.timedelta(minutes=18))  # silent since 6:42
    act(loop, warning.check)
    pump_until(loop, lambda: warning.isVisible())
    assert warning.text() == "Messages are not being sent: no worker since 6:42 AM."
    app.window.grab().save(str(tmp_path / "worker-warning.png"))
    assert warning.timer.isActive() and warning.timer.interval() == 30_000
