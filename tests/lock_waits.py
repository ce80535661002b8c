"""Waiting, in a test, until other connections are stuck on a lock: how a test puts two
transactions exactly where a race happens, then lets them go."""

from __future__ import annotations

import time

import psycopg

from dispatch_app.config import libpq_url


def lock_waiters(url: str) -> int:
    """How many sessions of this database are waiting for a lock right now."""
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        ).fetchone()
    return row[0] if row else 0


def wait_for_lock_waiters(url: str, count: int, timeout: float = 30.0) -> None:
    """Return once ``count`` sessions wait for a lock; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while lock_waiters(url) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} sessions never came to wait for a lock")
        time.sleep(0.01)  # a poll of the condition, not a guess at how long it takes
