"""Change hints come from a channel any login may NOTIFY on: junk is dropped, the feed
goes on, and a feed that fails anyway leaves Live and comes back."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch_app.config import libpq_url
from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState, stop_feed
from dispatch_app.db.models import CHANGE_CHANNEL, NOTIFYING_TABLES
from tests.companies import small_company
from tests.test_live_sync import shift_visit_now, until, visit_ids

# What the trigger sends: a known table, an operation, a bigint id, an int4 version.
HINT_TABLES = frozenset(NOTIFYING_TABLES)
HINT_OPS = frozenset({"insert", "update", "delete"})
BIGINT_MAX = 2**63 - 1
INT4_MAX = 2**31 - 1
VALID = {"table": "visits", "id": 412, "op": "update", "version": 7}

# Each of these reached ``ChangeHint.parse`` from a plain NOTIFY; none is a hint.
NOT_HINTS = [
    '{"table":"visits","id":1e999,"op":"update"}',  # inf: int() raised OverflowError
    '{"table":"visits","id":-5,"op":"update","version":1}',
    '{"table":"visits","id":0,"op":"update","version":1}',
    f'{{"table":"visits","id":{BIGINT_MAX + 1},"op":"update","version":1}}',
    '{"table":"visits","id":1.5,"op":"update","version":1}',
    '{"table":"visits","id":"12","op":"update","version":1}',
    '{"table":"visits","id":true,"op":"update","version":1}',
    '{"table":"visits","id":NaN,"op":"update","version":1}',
    '{"table":"visits","id":12,"op":"update","version":0}',
    f'{{"table":"visits","id":12,"op":"update","version":{INT4_MAX + 1}}}',
    '{"table":"visits","id":12,"op":"update","version":-Infinity}',
    '{"table":"visits","id":12,"op":"update","version":"7"}',
    '{"table":"pg_authid","id":12,"op":"update","version":1}',
    '{"table":["visits"],"id":12,"op":"update","version":1}',
    '{"table":"visits","id":12,"op":"truncate","version":1}',
    '{"table":"visits","id":12,"op":null,"version":1}',
    '{"table":"visits","op":"update","version":1}',
    '["visits", 12, "update", 1]',
    "null",
    "12",
    "not json",
    "",
    "[" * 7990,  # nested deeper than the JSON parser's recursion allows
    json.dumps({**VALID, "padding": "x" * 7900}),
    '{"table":"visits","id":' + "9" * 5000 + ',"op":"update"}',
]


def test_a_hint_is_taken_only_as_a_trigger_sends_it() -> None:
    assert ChangeHint.parse(json.dumps(VALID)) == ChangeHint("visits", 412, "update", 7)
    assert ChangeHint.parse(
        '{"table": "status_history", "id": 9, "op": "insert", "version": null}'
    ) == ChangeHint("status_history", 9, "insert", None)
    edge = {"table": "customers", "id": BIGINT_MAX, "op": "delete", "version": INT4_MAX}
    assert ChangeHint.parse(json.dumps(edge)) == ChangeHint(
        "customers", BIGINT_MAX, "delete", INT4_MAX
    )
    owned = {"table": "line_items", "id": 5, "op": "insert", "version": 1, "work_order": 88}
    assert ChangeHint.parse(json.dumps(owned)) == ChangeHint("line_items", 5, "insert", 1, 88)
    for payload in NOT_HINTS:
        assert ChangeHint.parse(payload) is None, payload
    for junk_owner in (0, -1, 2**63, 1.5, "88", True, [88]):
        assert ChangeHint.parse(json.dumps({**owned, "work_order": junk_owner})) is None


def _is_valid(hint: ChangeHint) -> bool:
    return (
        hint.table in HINT_TABLES
        and hint.op in HINT_OPS
        and type(hint.id) is int
        and 1 <= hint.id <= BIGINT_MAX
        and (hint.version is None or (type(hint.version) is int and 1 <= hint.version <= INT4_MAX))
        and (hint.work_order_id is None or 1 <= hint.work_order_id <= BIGINT_MAX)
    )


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from([*HINT_TABLES, *HINT_OPS]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
HINT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "table": st.sampled_from(sorted(HINT_TABLES)) | JSON_VALUES,
        "id": st.integers(min_value=-(2**64), max_value=2**64) | JSON_VALUES,
        "op": st.sampled_from(sorted(HINT_OPS)) | JSON_VALUES,
        "version": st.integers(min_value=-(2**33), max_value=2**33) | JSON_VALUES,
        "work_order": st.integers(min_value=-(2**64), max_value=2**64) | JSON_VALUES,
    },
).map(lambda d: json.dumps(d, allow_nan=True))
# What psql lets anyone send: any text without NUL under the 8,000-byte limit.
ANY_TEXT = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=300
)
HUGE = st.sampled_from(["[" * 7990, "{" * 7990, '"' + "x" * 7980 + '"', "1" * 7990])
RAW_NUMBERS = st.sampled_from(["1e999", "-1e999", "1e-999", "-0", "1" * 400, "NaN"]).map(
    lambda n: f'{{"table":"visits","id":{n},"op":"update","version":{n}}}'
)
PAYLOADS = HINT_LIKE | ANY_TEXT | HUGE | RAW_NUMBERS


@settings(max_examples=300, deadline=None)
@given(payload=PAYLOADS)
def test_parsing_never_raises_and_yields_only_valid_hints(payload: str) -> None:
    hint = ChangeHint.parse(payload)
    assert hint is None or _is_valid(hint)


@dataclass
class Listening:
    """A change feed on its own, as every workstation runs it."""

    feed: ChangeFeed
    task: asyncio.Task[None]
    hints: list[ChangeHint] = field(default_factory=list)
    states: list[FeedState] = field(default_factory=list)


@asynccontextmanager
async def listening(url: str, **feed_args) -> AsyncIterator[Listening]:
    hints: list[ChangeHint] = []
    states: list[FeedState] = []
    on_hints = feed_args.pop("on_hints", hints.extend)
    feed = ChangeFeed(
        url,
        on_hints=on_hints,
        on_state=lambda state, _since: states.append(state),
        **feed_args,
    )
    task = asyncio.ensure_future(feed.run())
    listening = Listening(feed, task, hints, states)
    try:
        await until(lambda: feed.state == FeedState.LIVE or task.done())
        assert not task.done(), task
        yield listening
    finally:
        await stop_feed(feed, task)


def notify_all(url: str, payloads: list[str]) -> None:
    """Anyone with a login: one NOTIFY per payload, in one transaction."""
    with psycopg.connect(libpq_url(url)) as db, db.transaction():
        for payload in payloads:
            db.execute("SELECT pg_notify(%s, %s)", (CHANGE_CHANNEL, payload))


async def a_real_change_arrives(url: str, listening: Listening, visit: int) -> None:
    """A real move committed now reaches the feed (or the feed has died trying)."""
    with psycopg.connect(libpq_url(url)) as db:
        before = db.execute("SELECT version FROM visits WHERE id = %s", (visit,)).fetchone()[0]
    shift_visit_now(url, visit, 15)
    wanted = ("visits", visit, "update", before + 1)
    await until(
        lambda: (
            wanted in [(h.table, h.id, h.op, h.version) for h in listening.hints]
            or listening.task.done()
        )
    )
    assert not listening.task.done(), "the feed task ended"


@pytest.fixture
def company(db_url: str) -> tuple[str, int]:
    small_company(db_url)
    return db_url, visit_ids(db_url)[0]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payloads=st.lists(PAYLOADS, min_size=1, max_size=8))
def test_junk_notifications_are_ignored_and_the_feed_goes_on(
    company: tuple[str, int], payloads: list[str]
) -> None:
    url, visit = company

    async def scenario() -> None:
        async with listening(url) as feed:
            notify_all(url, payloads)
            await a_real_change_arrives(url, feed, visit)
            assert all(_is_valid(hint) for hint in feed.hints), feed.hints
            # Junk is not a lost connection: no reconnect, and the state stayed Live.
            assert feed.feed.connects == 1
            assert feed.states == [FeedState.LIVE]

    asyncio.run(scenario())


def test_a_flood_of_junk_logs_a_few_lines_and_the_feed_goes_on(
    company: tuple[str, int], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, visit = company
    from dispatch_app.db import change_feed

    counter = change_feed.IgnoredPayloads()  # a minute's allowance of its own
    monkeypatch.setattr(change_feed, "ignored_payloads", counter)
    # Identical payloads in one transaction collapse into one; these all differ.
    junk = [f'{{"table":"visits","id":1e999,"op":"update","n":{n}}}' for n in range(3000)]

    async def scenario() -> None:
        async with listening(url) as feed:
            with caplog.at_level(logging.WARNING, logger="dispatch_app.db.change_feed"):
                notify_all(url, junk)
                await a_real_change_arrives(url, feed, visit)
            assert feed.feed.connects == 1

    asyncio.run(scenario())
    lines = [r for r in caplog.records if "not one of ours" in r.getMessage()]
    assert 1 <= len(lines) <= 5
    assert all("\n" not in r.getMessage() for r in lines)
    assert counter.unlogged == len(junk) - len(lines)  # counted, for the next line to say


def test_an_error_inside_the_feed_leaves_live_and_reconnects(company: tuple[str, int]) -> None:
    """A reader that fails once (a bug in a window, say): the feed must not die quietly
    under a status bar that still says Live; it reconnects, and the reader resyncs."""
    url, visit = company
    hints: list[ChangeHint] = []
    connected: list[int] = []
    failed: list[bool] = []

    def flaky_reader(batch: list[ChangeHint]) -> None:
        if not failed:
            failed.append(True)
            raise RuntimeError("a reader's bug")
        hints.extend(batch)

    async def scenario() -> None:
        async with listening(
            url, on_hints=flaky_reader, on_connected=lambda: connected.append(1)
        ) as feed:
            feed.hints = hints
            shift_visit_now(url, visit, 15)
            await until(lambda: feed.feed.connects == 2 or feed.task.done())
            assert not feed.task.done()
            assert feed.states == [FeedState.LIVE, FeedState.RECONNECTING, FeedState.LIVE]
            assert len(connected) == 2  # so readers re-read what the failed batch named
            await a_real_change_arrives(url, feed, visit)

    asyncio.run(scenario())
