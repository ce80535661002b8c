"""The lead endpoint against a real database and a real HTTP server on the loopback:
a web form's post becomes a lead every workstation hears of; everything else is
refused with its status and stores nothing. Time is a clock the test holds (the rate
limit's too); nothing sleeps."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest

from dispatch_app.cli import main
from dispatch_app.cli_messages import _take_leads
from dispatch_app.config import libpq_url
from dispatch_app.db.change_feed import ChangeHint
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.leads import MAX_NAME, MAX_REQUEST, LeadSource
from dispatch_app.errors import ConfigurationError, ValidationError
from dispatch_app.services.leads import token as tokens
from dispatch_app.services.leads.endpoint import (
    MAX_BODY,
    LeadEndpoint,
    RateLimit,
    RateLimiter,
    parse_address,
    read_lead,
)
from dispatch_app.services.leads.token import (
    TokenCheck,
    hash_token,
    new_token,
    set_lead_token,
    token_matches,
    token_problem,
)
from dispatch_app.services.workspace import Workspace

NOW = dt.datetime(2026, 12, 5, 15, 20, tzinfo=dt.UTC)
TOKEN = "lakeview-web-form-7f3a9c2e41d8b605"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FORM = {
    "phone": "(312) 555-0142",
    "name": "Dana Whitfield",
    "email": "Dana.W@example.com",
    "request": "Water heater leaking in the basement.\nBack door is open.",
    "id": "form-1001",
}


# -- the token ------------------------------------------------------------------------
def test_a_token_is_kept_as_a_salted_scrypt_hash_that_matches_only_it() -> None:
    made = new_token()
    assert len(made) >= 43 and token_problem(made) is None and new_token() != made
    first, second = hash_token(TOKEN), hash_token(TOKEN)
    assert first.startswith("scrypt$") and TOKEN not in first
    assert first != second  # a new salt each time
    assert token_matches(TOKEN, first) and token_matches(TOKEN, second)
    assert not token_matches(TOKEN + "x", first)
    assert not token_matches(TOKEN[:-1], first)
    for not_a_hash in (None, 42, TOKEN, "scrypt$zz$00", "md5$00$00", first + "00", ["scrypt"]):
        assert not token_matches(TOKEN, not_a_hash)
        assert not tokens.is_token_hash(not_a_hash)


@pytest.mark.parametrize(
    ("weak", "says"),
    [
        ("short-token-123", "at least 24"),
        ("lakeview web form 7f3a9c2e41d8", "spaces"),
        ("lakeview-web-form-7f3a9c2e\x0041d8", "control"),
        ("lakeview-web-form-7f3a9c2e\n41d8", "line breaks"),
        ("lakeview-web-form-7f3a9c2é41d8", "ASCII"),
        ("x" * 513, "at most 512"),
    ],
)
def test_a_token_too_weak_or_unsendable_is_refused(weak: str, says: str) -> None:
    problem = token_problem(weak)
    assert problem is not None and says in problem
    with pytest.raises(ValidationError) as refused:
        asyncio.run(set_lead_token(None, weak))  # type: ignore[arg-type]  # refused first
    assert refused.value.fields == {"token": problem}


def test_the_token_check_pays_scrypt_once_until_the_stored_hash_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    real = tokens.token_matches

    def counted(token: str, stored: object) -> bool:
        checked.append(token)
        return real(token, stored)

    monkeypatch.setattr(tokens, "token_matches", counted)
    check = TokenCheck()
    stored = hash_token(TOKEN)

    async def scenario() -> None:
        assert await check.matches(TOKEN, stored)
        assert await check.matches(TOKEN, stored)
        assert await check.matches(TOKEN, stored)
        assert len(checked) == 1
        assert not await check.matches("someone-guessing-a-token-0000", stored)
        assert not await check.matches("someone-guessing-a-token-0000", stored)
        assert len(checked) == 3  # a wrong token is never remembered
        replaced = hash_token("the-new-token-after-a-leak-1234")
        assert not await check.matches(TOKEN, replaced)  # the old match is over
        assert len(checked) == 4
        assert await check.matches("the-new-token-after-a-leak-1234", replaced)
        assert not await check.matches(TOKEN, stored + "0")

    asyncio.run(scenario())


# -- the parts without a server -------------------------------------------------------
def test_the_rate_limit_allows_a_burst_then_the_steady_rate_by_the_clock() -> None:
    clock = FixedClock(NOW)
    limiter = RateLimiter(clock, RateLimit(per_minute=30, burst=10))
    assert all(limiter.take("203.0.113.7") is None for _ in range(10))
    assert limiter.take("203.0.113.7") == pytest.approx(2.0)
    assert limiter.take("198.51.100.4") is None  # another client has its own bucket
    clock.advance(dt.timedelta(seconds=2))
    assert limiter.take("203.0.113.7") is None
    assert limiter.take("203.0.113.7") == pytest.approx(2.0)
    clock.advance(dt.timedelta(hours=1))  # refilled to the burst, never beyond
    assert all(limiter.take("203.0.113.7") is None for _ in range(10))
    assert limiter.take("203.0.113.7") is not None


def test_the_rate_limit_forgets_quiet_clients_past_its_size() -> None:
    clock = FixedClock(NOW)
    limiter = RateLimiter(clock, RateLimit(per_minute=60, burst=2), max_clients=3)
    for client in ("a", "b", "c"):
        limiter.take(client)
    clock.advance(dt.timedelta(seconds=5))
    limiter.take("c")
    limiter.take("d")  # a and b are full again: forgotten, c kept
    assert set(limiter._buckets) == {"c", "d"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        (" 0.0.0.0:80 ", ("0.0.0.0", 80)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:8765", ("::1", 8765)),
    ],
)
def test_the_endpoint_address_is_host_and_port(value: str, expected: tuple[str, int]) -> None:
    assert parse_address(value) == expected


@pytest.mark.parametrize(
    "value", ["8765", "127.0.0.1", "127.0.0.1:http", "::1:8765", "[nope]:80", ":8765", 8765,
              "127.0.0.1:70000", "http://127.0.0.1:8765"]
)  # fmt: skip
def test_a_wrong_endpoint_address_is_a_sentence_naming_the_setting(value: object) -> None:
    with pytest.raises(ConfigurationError, match="lead_endpoint"):
        parse_address(value)


def test_a_post_is_read_into_a_lead_with_every_field_checked() -> None:
    lead = read_lead(
        {**FORM, "source": "voicemail", "received_at": "2026-12-05T08:55:00-06:00"}, NOW
    )
    assert lead.phone == "+13125550142" and lead.email == "dana.w@example.com"
    assert lead.source == LeadSource.VOICEMAIL and lead.external_id == "web:form-1001"
    assert lead.received_at == dt.datetime(2026, 12, 5, 14, 55, tzinfo=dt.UTC)
    assert lead.request.startswith("Water heater") and "\n" in lead.request
    plain = read_lead({"email": "dana.w@example.com"}, NOW)
    assert plain.source == LeadSource.WEB and plain.received_at == NOW
    assert plain.phone is None and plain.external_id is None and plain.name == ""

    def refused(payload: object) -> dict[str, str]:
        with pytest.raises(ValidationError) as wrong:
            read_lead(payload, NOW)
        return wrong.value.fields

    assert set(refused({"name": "Dana"})) == {"phone"}  # no way to reach them
    assert set(refused(["+13125550142"])) == {"lead"}
    assert set(refused({**FORM, "name": "Dana\x00Whitfield"})) == {"name"}
    assert set(refused({**FORM, "request": "\x1b[2Jcleared"})) == {"request"}
    assert set(refused({**FORM, "name": "x" * (MAX_NAME + 1)})) == {"name"}
    assert set(refused({**FORM, "request": "x" * (MAX_REQUEST + 1)})) == {"request"}
    assert set(refused({**FORM, "phone": "call me"})) == {"phone"}
    assert set(refused({**FORM, "email": "dana at example"})) == {"email"}
    assert set(refused({**FORM, "email": "Dana <dana.w@example.com>"})) == {"email"}
    assert set(refused({**FORM, "email": "a@example.com, b@example.com"})) == {"email"}
    assert read_lead({"phone": 3125550142}, NOW).phone == "+13125550142"  # a number field
    assert set(refused({**FORM, "source": "fax"})) == {"source"}
    assert set(refused({**FORM, "name": 7})) == {"name"}
    assert set(refused({**FORM, "id": True})) == {"id"}
    assert set(refused({**FORM, "reqest": "typo"})) == {"reqest"}
    assert set(refused({**FORM, "received_at": "2026-12-05T08:55:00"})) == {"received_at"}
    assert set(refused({**FORM, "received_at": "yesterday"})) == {"received_at"}
    assert set(refused({**FORM, "received_at": "2026-12-07T09:00:00Z"})) == {"received_at"}
    assert read_lead({**FORM, "received_at": "2026-12-06T09:00:00Z"}, NOW)  # within a day


# -- the server -----------------------------------------------------------------------
@pytest.fixture
def worker_url(db_url: str, scratch_server: ScratchServer) -> Iterator[str]:
    """The worker's own login: what ``python main.py worker`` connects as."""
    try:
        yield scratch_server.login(db_url, "worker")
    finally:
        scratch_server.drop_logins()


@asynccontextmanager
async def serving(
    url: str,
    clock: FixedClock,
    *,
    token: str | None = TOKEN,
    owner_url: str | None = None,
    limit: RateLimit | None = None,
) -> AsyncIterator[tuple[LeadEndpoint, httpx.AsyncClient]]:
    """The endpoint on a free loopback port, served by a workspace on ``url``; the
    token set first (by the owner: the worker's login may not)."""
    if token is not None:
        owner = Workspace.connect(owner_url or url, clock=clock)
        try:
            await owner.run(set_lead_token, token)
        finally:
            await owner.aclose()
    workspace = Workspace.connect(url, clock=clock)
    try:
        served = await workspace.start_lead_endpoint("127.0.0.1:0", limit=limit)
        async with httpx.AsyncClient(base_url=served.url, trust_env=False, timeout=30) as client:
            yield served, client
    finally:
        await workspace.aclose()


def _leads(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute("SELECT * FROM leads ORDER BY id")
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def test_a_posted_lead_is_stored_and_heard_on_another_workstation(
    db_url: str, worker_url: str
) -> None:
    clock = FixedClock(NOW)
    heard: list[ChangeHint] = []
    lead_heard = asyncio.Event()

    async def scenario() -> tuple[int, dict[str, Any]]:
        # A CSR's workstation, listening before the post.
        office = Workspace.connect(db_url, clock=clock)
        connected = asyncio.Event()

        def hints(received: list[ChangeHint]) -> None:
            heard.extend(received)
            if any(hint.table == "leads" and hint.op == "insert" for hint in received):
                lead_heard.set()

        office.listen(on_hints=hints, on_state=lambda *_: None, on_connected=connected.set)
        try:
            await asyncio.wait_for(connected.wait(), 30)
            async with serving(worker_url, clock, owner_url=db_url) as (_served, client):
                posted = await client.post(
                    "/leads",
                    json={**FORM, "source": "missed_call", "received_at": "2026-12-05T09:05-06:00"},
                    headers=AUTH,
                )
            await asyncio.wait_for(lead_heard.wait(), 30)
            return posted.status_code, posted.json()
        finally:
            await office.aclose()

    status, body = asyncio.run(scenario())
    assert status == 201, body
    (row,) = _leads(db_url)
    assert body == {"id": row["id"]}
    assert (row["source"], row["phone"], row["email"], row["name"]) == (
        "missed_call",
        "+13125550142",
        "dana.w@example.com",
        "Dana Whitfield",
    )
    assert row["request"] == FORM["request"] and row["external_id"] == "web:form-1001"
    assert row["received_at"] == dt.datetime(2026, 12, 5, 15, 5, tzinfo=dt.UTC)
    assert row["outcome"] == "open" and row["created_by"] == worker_url.split("//")[1].split(":")[0]
    assert any(h.table == "leads" and h.id == row["id"] and h.op == "insert" for h in heard)
    with psycopg.connect(libpq_url(db_url)) as db:
        # The database made the callback for a missed call, as for any other lead.
        callbacks = db.execute(
            "SELECT title FROM follow_ups WHERE lead_id = %s AND kind = 'missed_call'", (row["id"],)
        ).fetchall()
    assert callbacks == [("Call back Dana Whitfield",)]


def test_refused_posts_say_why_with_their_status_and_store_nothing(db_url: str) -> None:
    clock = FixedClock(NOW)

    async def scenario() -> list[httpx.Response]:
        # Room for every request here: the flood has its own test.
        async with serving(db_url, clock, limit=RateLimit(burst=100)) as (_served, client):
            big = json.dumps({**FORM, "request": "x" * MAX_BODY}).encode()
            as_json = {**AUTH, "Content-Type": "application/json"}
            wrong = {"Authorization": "Bearer wrong-token-0000000000"}
            return [
                await client.post("/leads", json=FORM),
                await client.post("/leads", json=FORM, headers={"Authorization": "Basic abc"}),
                await client.post("/leads", json=FORM, headers=wrong),
                await client.post("/leads", content=b'{"phone": "312 555 0142",', headers=as_json),
                await client.post("/leads", content=big, headers=as_json),
                await client.post("/leads", content=_chunks(big), headers=as_json),
                await client.post(
                    "/leads", json={"name": "Dana", "request": "No heat"}, headers=AUTH
                ),
                await client.post("/leads", json=[FORM], headers=AUTH),
                await client.post("/leads", json={**FORM, "name": "Dana\x00"}, headers=AUTH),
                await client.post("/leads", data={"phone": "3125550142"}, headers=AUTH),
                await client.post("/leads", content=b'{"phone": "\xff\xfe"}', headers=as_json),
            ]

    answers = asyncio.run(scenario())
    statuses = [answer.status_code for answer in answers]
    assert statuses == [401, 401, 401, 400, 413, 413, 422, 422, 422, 415, 400]
    for answer in answers:
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.json()["error"]
    assert answers[0].headers["WWW-Authenticate"] == 'Bearer realm="leads"'
    assert "invalid_token" in answers[2].headers["WWW-Authenticate"]
    assert set(answers[6].json()["errors"]) == {"phone"}
    assert answers[6].json()["errors"]["phone"] == (
        "Give a phone number or an email address to reach them."
    )
    assert set(answers[8].json()["errors"]) == {"name"}
    assert _leads(db_url) == []


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """A body without a Content-Length: only reading it shows it is too big."""
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


def test_without_a_token_set_every_post_is_refused_until_set_token_runs(db_url: str) -> None:
    clock = FixedClock(NOW)

    async def scenario() -> list[httpx.Response]:
        async with serving(db_url, clock, token=None) as (_served, client):
            first = await client.post("/leads", json=FORM, headers=AUTH)
            with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
                db.execute(
                    "INSERT INTO app_settings (key, value) VALUES ('lead_token', %s)",
                    (json.dumps(TOKEN),),  # someone typed the token itself in, not its hash
                )
            second = await client.post("/leads", json=FORM, headers=AUTH)
            return [first, second]

    first, second = asyncio.run(scenario())
    assert first.status_code == 503 and second.status_code == 503
    assert "python main.py leads set-token" in first.json()["error"]
    assert "is not one set-token wrote" in second.json()["error"]
    assert _leads(db_url) == []


def test_a_flood_is_turned_away_past_the_burst_before_any_token_is_checked(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(NOW)
    checked: list[str] = []
    real = tokens.token_matches
    monkeypatch.setattr(tokens, "token_matches", lambda t, s: checked.append(t) or real(t, s))

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response], httpx.Response]:
        async with serving(db_url, clock) as (_served, client):
            guesses = [
                await client.post(
                    "/leads", json=FORM, headers={"Authorization": f"Bearer guess-{n:020d}"}
                )
                for n in range(25)
            ]
            clock.advance(dt.timedelta(minutes=1))  # the burst is back
            posts = [
                await client.post("/leads", json={**FORM, "id": f"form-{n}"}, headers=AUTH)
                for n in range(12)
            ]
            clock.advance(dt.timedelta(seconds=2))  # one more post's worth
            later = await client.post("/leads", json={**FORM, "id": "form-late"}, headers=AUTH)
            return guesses, posts, later

    guesses, posts, later = asyncio.run(scenario())
    assert [g.status_code for g in guesses] == [401] * 10 + [429] * 15
    assert len(checked) == 10 + 1  # the guesses within the burst, then the good token once
    assert guesses[-1].headers["Retry-After"] == "2"
    assert "Too many posts" in guesses[-1].json()["error"]
    assert [p.status_code for p in posts] == [201] * 10 + [429] * 2
    assert later.status_code == 201
    assert len(_leads(db_url)) == 11


def test_the_same_sender_id_posted_twice_is_one_lead(db_url: str) -> None:
    clock = FixedClock(NOW)

    async def scenario() -> list[httpx.Response]:
        async with serving(db_url, clock) as (_served, client):
            first = await client.post("/leads", json=FORM, headers=AUTH)
            retried = await client.post("/leads", json=FORM, headers=AUTH)
            changed = await client.post(
                "/leads", json={**FORM, "request": "Also the sink."}, headers=AUTH
            )
            numbered = [
                await client.post("/leads", json={"phone": "3125550199", "id": 7}, headers=AUTH)
                for _ in range(2)
            ]
            together = await asyncio.gather(
                *(
                    client.post("/leads", json={"email": "a@example.com", "id": "x"}, headers=AUTH)
                    for _ in range(4)
                )
            )
            return [first, retried, changed, *numbered, *together]

    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers[:5]] == [201, 200, 200, 201, 200]
    assert sorted(a.status_code for a in answers[5:]) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers[:3]}) == 1
    rows = _leads(db_url)
    assert [row["external_id"] for row in rows] == ["web:form-1001", "web:7", "web:x"]
    assert rows[0]["request"] == FORM["request"]  # the first post stands
    assert rows[0]["received_at"] == NOW  # no received_at: the clock's now


def test_health_says_whether_the_database_answers(
    db_url: str, scratch_server: ScratchServer
) -> None:
    clock = FixedClock(NOW)

    async def scenario() -> list[httpx.Response]:
        async with serving(db_url, clock) as (_served, client):
            up = await client.get("/health")
        # A database that does not exist: the server refuses every connection.
        engine = make_async_engine(scratch_server.url_for("no_such_company_db"))
        served = LeadEndpoint(session_factory(engine), clock=clock, host="127.0.0.1", port=0)
        await served.start()
        try:
            async with httpx.AsyncClient(base_url=served.url, trust_env=False) as client:
                down = await client.get("/health")
                post = await client.post("/leads", json=FORM, headers=AUTH)
        finally:
            await served.aclose()
            await engine.dispose()
        return [up, down, post]

    up, down, post = asyncio.run(scenario())
    assert (up.status_code, up.json()) == (200, {"status": "ok"})
    assert down.status_code == 503 and down.json()["status"] == "unavailable"
    assert post.status_code == 503 and "did not answer" in post.json()["error"]


def test_a_taken_port_leaves_the_worker_sending_with_a_warning(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(NOW)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
            db.execute(
                "INSERT INTO app_settings (key, value) VALUES ('lead_endpoint', %s)",
                (json.dumps(f"127.0.0.1:{port}"),),
            )

        async def scenario() -> None:
            workspace = Workspace.connect(db_url, clock=clock)
            try:
                with pytest.raises(ConfigurationError, match=f"127.0.0.1:{port}"):
                    await workspace.start_lead_endpoint()
                with caplog.at_level(logging.INFO, logger="dispatch_app.worker"):
                    await _take_leads(workspace)  # what python main.py worker does
            finally:
                await workspace.aclose()

        asyncio.run(scenario())
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("The lead endpoint is not running: ")
    assert warning.getMessage().endswith("Messages are still sent.")


def test_the_worker_logs_where_the_endpoint_listens(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(NOW)
    with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
        db.execute(
            "INSERT INTO app_settings (key, value) VALUES ('lead_endpoint', '\"127.0.0.1:0\"')"
        )

    async def scenario() -> None:
        workspace = Workspace.connect(db_url, clock=clock)
        try:
            with caplog.at_level(logging.INFO, logger="dispatch_app.worker"):
                await _take_leads(workspace)
        finally:
            await workspace.aclose()

    asyncio.run(scenario())
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Lead endpoint")]
    assert len(said) == 1 and said[0].startswith("Lead endpoint listening on http://127.0.0.1:")


# -- python main.py leads set-token ---------------------------------------------------
def _stored_token(url: str) -> object:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute("SELECT value FROM app_settings WHERE key = 'lead_token'").fetchone()
    return None if row is None else row[0]


def test_set_token_keeps_a_hash_of_the_piped_token_never_the_token(
    db_url: str, data_dir: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert main(["--database-url", db_url, "leads", "set-token", "--token-stdin"]) == 0
    assert capsys.readouterr().out.strip() == "The lead endpoint's token is set."
    stored = _stored_token(db_url)
    assert isinstance(stored, str) and stored.startswith("scrypt$") and TOKEN not in stored
    assert token_matches(TOKEN, stored)

    # The endpoint takes it at once: the next post reads the new hash.
    async def post() -> httpx.Response:
        async with serving(db_url, FixedClock(NOW), token=None) as (_served, client):
            return await client.post("/leads", json=FORM, headers=AUTH)

    assert asyncio.run(post()).status_code == 201


def test_set_token_generate_prints_the_token_once_and_keeps_its_hash(
    db_url: str, data_dir: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", db_url, "leads", "set-token", "--generate"]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert "not shown again" in printed.err and token_problem(token) is None
    stored = _stored_token(db_url)
    assert isinstance(stored, str) and token not in stored and token_matches(token, stored)
    assert main(["--database-url", db_url, "leads", "set-token", "--generate"]) == 0
    assert not token_matches(token, _stored_token(db_url))  # replaced, not added


def test_set_token_refuses_a_weak_token_and_a_login_that_is_not_an_admin(
    db_url: str,
    worker_url: str,
    data_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hunter2\n"))
    assert main(["--database-url", db_url, "leads", "set-token", "--token-stdin"]) == 2
    assert "at least 24" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN))
    assert main(["--database-url", worker_url, "leads", "set-token", "--token-stdin"]) == 9
    assert "may not" in capsys.readouterr().err
    assert _stored_token(db_url) is None
