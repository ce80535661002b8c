"""The change feed and the day store against a real server: kills, restarts and races."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.change_feed import (
    LISTENER_APPLICATION_NAME,
    ChangeFeed,
    ChangeHint,
    FeedState,
    coalesce,
)
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.errors import ConflictError
from dispatch_app.services.day_board import load_day
from dispatch_app.services.day_store import DayStore
from dispatch_app.services.live_day import LiveDay
from dispatch_app.services.visits import move_visit
from tests.companies import DAY, TZ, clock_at, small_company


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


@dataclass
class Client:
    """One workstation's live machinery: engine, store and change feed."""

    store: DayStore
    feed: ChangeFeed
    states: list[FeedState]
    url: str


@asynccontextmanager
async def live_client(url: str) -> AsyncIterator[Client]:
    """The same wiring the app runs (``LiveDay``), without the window."""
    engine = make_async_engine(url)
    states: list[FeedState] = []
    day = LiveDay(
        url,
        session_factory(engine),
        DAY,
        clock=clock_at(7),
        on_state=lambda state, _since: states.append(state),
    )
    await day.start()
    try:
        await until(lambda: day.feed.state == FeedState.LIVE)
        yield Client(day.store, day.feed, states, url)
    finally:
        await day.stop()
        await engine.dispose()


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the event loop run until ``predicate()`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def visit_ids(url: str) -> list[int]:
    with psycopg.connect(libpq_url(url)) as db:
        return [
            row[0]
            for row in db.execute(
                "SELECT DISTINCT v.id FROM visits v "
                "JOIN visit_technicians vt ON vt.visit_id = v.id ORDER BY v.id"
            )
        ]


def shift_visit_now(url: str, visit_id: int, minutes: int) -> None:
    """Another workstation moves a visit (plain SQL, committed at once)."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "UPDATE visits SET starts = starts + make_interval(mins => %s), "
            "ends = ends + make_interval(mins => %s) WHERE id = %s",
            (minutes, minutes, visit_id),
        )


async def store_matches_database(client: Client) -> None:
    engine = make_async_engine(client.url)
    try:
        async with session_factory(engine)() as session:
            truth = await load_day(session, DAY)
    finally:
        await engine.dispose()
    mine = client.store.snapshot()
    assert mine.technicians == truth.technicians
    assert mine.visits == truth.visits
    assert mine.unassigned == truth.unassigned


def listener_pid(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (LISTENER_APPLICATION_NAME,),
        ).fetchone()
    assert row is not None, "no listener connected"
    return row[0]


def terminate_listener(url: str) -> None:
    """Kill the listener's backend and wait until it is gone (without yielding to the
    event loop, so the feed cannot reconnect before the next change is committed)."""
    pid = listener_pid(url)
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        assert db.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "backend did not go away"


def test_coalescing_keeps_the_newest_hint_per_row() -> None:
    hints = [
        ChangeHint("visits", 1, "update", 2),
        ChangeHint("visits", 2, "update", 7),
        ChangeHint("visits", 1, "update", 3),
        ChangeHint("visits", 1, "delete", 3),
    ]
    assert coalesce(hints) == [
        ChangeHint("visits", 1, "delete", 3),
        ChangeHint("visits", 2, "update", 7),
    ]
    assert ChangeHint.parse(
        '{"table": "visits", "id": 5, "op": "update", "version": 4}'
    ) == ChangeHint("visits", 5, "update", 4)
    assert ChangeHint.parse("not json") is None
    assert ChangeHint.parse('{"table": "visits"}') is None


def test_a_change_reaches_the_store_and_stale_hints_cost_nothing(db_url: str) -> None:
    small_company(db_url)

    async def scenario() -> None:
        async with live_client(db_url) as client:
            first = visit_ids(db_url)[0]
            before = client.store.visit(first)
            assert before is not None
            shift_visit_now(db_url, first, 30)
            await until(lambda: client.store.version_of(first) == before.version + 1)
            moved = client.store.visit(first)
            assert moved is not None and moved.starts == before.starts + dt.timedelta(minutes=30)

            refreshes = client.store.refreshes
            old = ChangeHint("visits", first, "update", before.version)
            assert not await client.store.apply_hints([old])
            assert client.store.refreshes == refreshes  # no query for a hint already held

    asyncio.run(scenario())


def test_a_live_day_keeps_its_start_up_objects_out_of_full_collections(db_url: str) -> None:
    """A full collection walking every module and mapped class stalled every workstation
    at once (benchmarks.live_sync); after start-up it walks only what came since."""
    small_company(db_url)

    async def scenario() -> None:
        async with live_client(db_url):
            # Modules and mapped classes alone are well over this.
            assert gc.get_freeze_count() > 50_000

    asyncio.run(scenario())


def test_killed_listener_reconnects_and_resyncs_ten_times(db_url: str) -> None:
    small_company(db_url)

    async def scenario() -> None:
        async with live_client(db_url) as client:
            ids = visit_ids(db_url)
            for round_number in range(10):
                connects = client.feed.connects
                terminate_listener(db_url)
                # Committed while nobody listens: its NOTIFY is lost for good.
                target = ids[round_number % len(ids)]
                expected = client.store.version_of(target) + 1  # type: ignore[operator]
                shift_visit_now(db_url, target, 15)
                await until(lambda c=connects: client.feed.connects == c + 1)
                await until(lambda t=target, e=expected: client.store.version_of(t) == e)
                # And a change while connected still arrives through the feed.
                other = ids[(round_number + 1) % len(ids)]
                expected_other = client.store.version_of(other) + 1  # type: ignore[operator]
                shift_visit_now(db_url, other, -15)
                await until(lambda o=other, e=expected_other: client.store.version_of(o) == e)
            assert FeedState.RECONNECTING in client.states
            await store_matches_database(client)

    asyncio.run(scenario())


@pytest.mark.slow
def test_embedded_server_restart_is_survived(tmp_path) -> None:
    from dispatch_app.db.embedded import EmbeddedServer
    from dispatch_app.services.database import migrate_now

    server = EmbeddedServer(tmp_path / "data")
    url = server.start()
    try:
        migrate_now(url)
        small_company(url)

        async def scenario() -> None:
            async with live_client(url) as client:
                target = visit_ids(url)[0]
                expected = client.store.version_of(target) + 1  # type: ignore[operator]
                connects = client.feed.connects
                server.stop()
                assert server.postmaster_pid is None
                server.start()
                shift_visit_now(url, target, 45)  # before the feed can reconnect
                await until(lambda: client.feed.connects == connects + 1, timeout=30)
                await until(lambda: client.store.version_of(target) == expected)
                await store_matches_database(client)

        asyncio.run(scenario())
    finally:
        server.stop()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="pausing the server's backend process needs root",
)
def test_a_silent_server_is_noticed_within_five_seconds(db_url: str, scratch_server) -> None:
    if scratch_server.origin == "DISPATCH_DATABASE_URL":
        pytest.skip("the server's processes are not on this machine")
    small_company(db_url)

    async def scenario() -> None:
        async with live_client(db_url) as client:
            pid = listener_pid(db_url)
            connects = client.feed.connects
            os.kill(pid, signal.SIGSTOP)  # the backend stops answering; TCP stays up
            try:
                paused = time.monotonic()
                await until(lambda: client.feed.connects == connects + 1, timeout=10)
                assert time.monotonic() - paused < 5.0
            finally:
                os.kill(pid, signal.SIGCONT)

    asyncio.run(scenario())


def test_racing_writers_lose_no_update(db_url: str) -> None:
    small_company(db_url)
    target = visit_ids(db_url)[0]
    rounds = 1000

    async def writer(engine_url: str, editor: str):
        engine = make_async_engine(engine_url, pool_size=1, editor=editor)
        return engine, session_factory(engine)

    async def scenario() -> tuple[list[tuple[int, dt.datetime]], list[ConflictError]]:
        (engine_a, a), (engine_b, b) = await writer(db_url, "alice"), await writer(db_url, "bob")
        accepted: list[tuple[int, dt.datetime]] = []
        refused: list[ConflictError] = []
        reader = psycopg.connect(libpq_url(db_url), autocommit=True)
        try:
            for round_number in range(rounds):
                seen = reader.execute(
                    "SELECT version FROM visits WHERE id = %s", (target,)
                ).fetchone()[0]

                async def attempt(sessions, minutes: int, seen_version: int = seen):
                    starts = at(8) + dt.timedelta(minutes=minutes)
                    try:
                        version = await move_visit(
                            sessions,
                            clock=clock_at(7),
                            visit_id=target,
                            seen_version=seen_version,
                            starts=starts,
                            ends=starts + dt.timedelta(hours=1),
                        )
                    except ConflictError as conflict:
                        refused.append(conflict)
                    else:
                        accepted.append((version, starts))

                await asyncio.gather(
                    attempt(a, round_number % 120), attempt(b, 120 + round_number % 120)
                )
        finally:
            reader.close()
            await engine_a.dispose()
            await engine_b.dispose()
        return accepted, refused

    accepted, refused = asyncio.run(scenario())
    # Both saw the same version each round: exactly one of them wins it.
    assert len(accepted) == rounds and len(refused) == rounds
    sentence = re.compile(
        r"WO-\d+ was changed by (alice|bob) at \d\d:\d\d — "
        r"your move was not applied\."
    )
    assert all(sentence.fullmatch(str(c)) for c in refused), str(refused[0])
    with psycopg.connect(libpq_url(db_url)) as db:
        version, starts = db.execute(
            "SELECT version, starts FROM visits WHERE id = %s", (target,)
        ).fetchone()
    versions = sorted(v for v, _ in accepted)
    assert versions == list(range(versions[0], versions[0] + rounds))  # none lost
    assert version == versions[-1]
    # The final state is the accepted writes replayed in version order.
    assert starts == max(accepted)[1]


def test_a_refused_move_says_what_changed_and_who_changed_it(db_url: str) -> None:
    small_company(db_url)
    target = visit_ids(db_url)[0]

    async def scenario() -> ConflictError:
        jsmith = make_async_engine(db_url, editor="jsmith")
        mine = make_async_engine(db_url, editor="dispatcher2")
        try:
            async with session_factory(mine)() as session:
                seen = next(v for v in (await load_day(session, DAY)).visits if v.id == target)
            await move_visit(
                session_factory(jsmith),
                clock=clock_at(7),
                visit_id=target,
                seen_version=seen.version,
                starts=at(13),
                ends=at(14),
            )
            with pytest.raises(ConflictError) as refused:
                await move_visit(
                    session_factory(mine),
                    clock=clock_at(7),
                    visit_id=target,
                    seen_version=seen.version,
                    starts=at(15),
                    ends=at(16),
                    seen=seen,
                )
            return refused.value
        finally:
            await jsmith.dispose()
            await mine.dispose()

    conflict = asyncio.run(scenario())
    assert re.fullmatch(
        r"WO-\d+ was moved by jsmith at \d\d:\d\d — your move was not "
        r"applied\.",
        str(conflict),
    )
    assert conflict.current is not None and conflict.current["starts"] == at(13)
    with psycopg.connect(libpq_url(db_url)) as db:  # theirs stands; mine was not applied
        assert db.execute(
            "SELECT starts, updated_by FROM visits WHERE id = %s", (target,)
        ).fetchone() == (at(13), "jsmith")
