"""The lead endpoint: web forms and answering services post leads to the worker.

``python main.py worker`` serves two routes over HTTP on the ``lead_endpoint`` setting
(default ``127.0.0.1:8765``; put a TLS-terminating proxy in front to take posts from
the internet):

- ``POST /leads`` with a JSON object and ``Authorization: Bearer <token>``: stores a
  lead (201 ``{"id": N}``; 200 with the same id when the sender's ``id`` was stored
  before, so a retried post is one lead). The lead is a row like any other, so every
  workstation's inbox hears of it through the change feed, and a missed call or
  voicemail gets its callback from the database's trigger.
- ``GET /health``: 200 when the database answers, else 503 (for a monitor).

A request is checked cheapest first, so a flood costs nothing: the client's rate
(per IP address, a token bucket), the content type and declared size, then the token
against the hash in ``lead_token`` (scrypt, remembered once it matched), then the body.
Every refusal is a JSON object with an ``error`` sentence; a 422 adds ``errors``, one
sentence per field.

Threading contract: coroutines on the caller's event loop (the worker's). Time comes
from the injected clock, the rate limiter's too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import ipaddress
import json
import logging
import math
import os
import socket
import unicodedata
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.leads import MAX_EMAIL, MAX_NAME, MAX_REQUEST, LeadSource
from dispatch_app.domain.phones import normalise_phone
from dispatch_app.errors import ConfigurationError, ValidationError
from dispatch_app.services.leads.token import (
    LEAD_TOKEN_SETTING,
    SET_TOKEN_COMMAND,
    TokenCheck,
    is_token_hash,
)
from dispatch_app.services.outbox.email import is_address

Sessions = async_sessionmaker[AsyncSession]
R = TypeVar("R")

# Under the worker's logger: ``python main.py worker`` shows its INFO lines.
log = logging.getLogger("dispatch_app.worker.leads")

ENDPOINT_SETTING = "lead_endpoint"
DEFAULT_ADDRESS = "127.0.0.1:8765"
MAX_BODY = 16 * 1024  # a lead is a few hundred bytes; MAX_REQUEST's 2000 characters fit
MAX_EXTERNAL_ID = 100  # the sender's id; stored as "web:<id>"
DATABASE_TIMEOUT_S = 10.0  # a request waits no longer than a sender's HTTP client would
FUTURE_SLACK = dt.timedelta(days=1)  # a sender's clock a little ahead, or its zone wrong
OLDEST = dt.timedelta(days=366)  # older than this is a sender's bug, not a lead

FIELDS = ("phone", "email", "name", "request", "source", "received_at", "id")
_SOURCES = ", ".join(source.value for source in LeadSource)
_NOT_STORED = "The lead was not stored."


# -- where it listens -----------------------------------------------------------------
def parse_address(
    value: object, *, named: str = f"The setting {ENDPOINT_SETTING}"
) -> tuple[str, int]:
    """``host:port`` (``[::1]:8765`` for an IPv6 address) as a host and a port, or
    ``ConfigurationError`` with a sentence starting with ``named``."""
    wrong = ConfigurationError(
        f"{named} must be an address and port such as {DEFAULT_ADDRESS}, not {_shown(value)}."
    )
    if not isinstance(value, str):
        raise wrong
    host, colon, port_text = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise wrong from None
    elif ":" in host:
        raise wrong  # an IPv6 address without brackets: where does the port start?
    if not colon or not host or not port_text.isascii() or not port_text.isdigit():
        raise wrong
    if any(ch.isspace() or ch in "/?#@" for ch in host):
        raise wrong
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"{named} names port {port}; a port is 0 to 65535.")
    return host, port


async def configured_address(sessions: Sessions) -> tuple[str, int]:
    """The ``lead_endpoint`` setting's host and port (the default when it is not set)."""
    async with sessions() as session:
        value = await session.scalar(
            text("SELECT value FROM app_settings WHERE key = :key"), {"key": ENDPOINT_SETTING}
        )
    return parse_address(DEFAULT_ADDRESS if value is None else value)


def shown_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# -- how often a client may post ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RateLimit:
    per_minute: float = 30.0  # the steady rate a busy web form never reaches
    burst: int = 10  # posts at once (an answering service sending a batch)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: dt.datetime


class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, then ``per_minute``.

    The clock is the injected one, so a test advances time instead of sleeping. At most
    ``max_clients`` buckets are kept: past that, the full ones (clients quiet long enough
    to have their whole burst back) are forgotten, then the oldest."""

    def __init__(
        self, clock: Clock, limit: RateLimit | None = None, *, max_clients: int = 10_000
    ) -> None:
        self.clock = clock
        self.limit = limit or RateLimit()
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> float | None:
        """``None`` when ``client`` may go ahead (one request counted), else the
        seconds until it may."""
        now = self.clock.now()
        rate = self.limit.per_minute / 60.0
        bucket = self._buckets.get(client)
        if bucket is None:
            self._make_room(now, rate)
            bucket = self._buckets[client] = _Bucket(float(self.limit.burst), now)
        else:
            elapsed = max((now - bucket.at).total_seconds(), 0.0)  # a clock set back
            bucket.tokens = min(float(self.limit.burst), bucket.tokens + elapsed * rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate if rate > 0 else math.inf

    def _make_room(self, now: dt.datetime, rate: float) -> None:
        if len(self._buckets) < self.max_clients:
            return
        refill = self.limit.burst / rate if rate > 0 else math.inf
        for client, bucket in list(self._buckets.items()):
            if (now - bucket.at).total_seconds() >= refill:
                del self._buckets[client]
        while len(self._buckets) >= self.max_clients:
            del self._buckets[next(iter(self._buckets))]  # the oldest: dicts keep order


# -- what a post says -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PostedLead:
    """A lead as posted, checked and ready to store."""

    source: LeadSource
    phone: str | None
    email: str | None
    name: str
    request: str
    received_at: dt.datetime
    external_id: str | None


def read_lead(payload: object, now: dt.datetime) -> PostedLead:
    """The lead in a post's JSON, or ``ValidationError`` with a sentence per field."""
    if not isinstance(payload, dict):
        raise ValidationError({"lead": 'Send the lead as a JSON object, such as {"phone": …}.'})
    errors: dict[str, str] = {}
    for key in payload:
        if key not in FIELDS:
            errors[str(key)[:40]] = (
                f"{str(key)[:40]!r} is not a field of a lead: use {', '.join(FIELDS)}."
            )

    def field(name: str, limit: int, *, lines: bool = False) -> str:
        value = payload.get(name)
        if value is None:
            return ""
        if name == "phone" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a form's number field
        if not isinstance(value, str):
            errors[name] = f"The {name} must be text."
            return ""
        value = value.strip()
        if _bad_characters(value, lines=lines):
            errors[name] = f"The {name} contains control characters."
        elif len(value) > limit:
            errors[name] = f"The {name} is {len(value):,} characters; at most {limit:,} are kept."
        return value

    name = field("name", MAX_NAME)
    request = field("request", MAX_REQUEST, lines=True)
    email = field("email", MAX_EMAIL).lower()
    # One plain address: not "Name <a@b>", not two of them.
    if email and "email" not in errors and (not is_address(email) or parseaddr(email)[1] != email):
        errors["email"] = f"{email[:60]!r} is not an email address."
    phone = field("phone", 40)
    if phone and "phone" not in errors:
        try:
            phone = normalise_phone(phone)
        except ValueError as wrong:
            errors["phone"] = str(wrong)
    if not phone and not email and "phone" not in errors and "email" not in errors:
        errors["phone"] = "Give a phone number or an email address to reach them."
    source = _source(payload.get("source"), errors)
    received_at = _received_at(payload.get("received_at"), now, errors)
    external_id = _external_id(payload.get("id"), errors)
    if errors:
        raise ValidationError(errors)
    return PostedLead(
        source=source,
        phone=phone or None,
        email=email or None,
        name=name,
        request=request,
        received_at=received_at,
        external_id=None if external_id is None else f"web:{external_id}",
    )


def _source(value: object, errors: dict[str, str]) -> LeadSource:
    if value is None:
        return LeadSource.WEB
    if isinstance(value, str) and value.strip() in set(LeadSource):
        return LeadSource(value.strip())
    errors["source"] = f"The source must be one of {_SOURCES}, not {_shown(value)}."
    return LeadSource.WEB


def _received_at(value: object, now: dt.datetime, errors: dict[str, str]) -> dt.datetime:
    if value is None:
        return now
    wrong = (
        "The received_at must be a time in ISO 8601 with its offset, such as "
        f"2026-12-05T14:30:00-06:00, not {_shown(value)}."
    )
    if not isinstance(value, str) or len(value) > 40 or _bad_characters(value):
        errors["received_at"] = wrong
        return now
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        errors["received_at"] = wrong
        return now
    if moment.tzinfo is None or moment.utcoffset() is None:
        errors["received_at"] = (
            f"The received_at {value.strip()!r} has no offset: add one, such as -06:00 or Z."
        )
    elif moment > now + FUTURE_SLACK:
        errors["received_at"] = f"The received_at {value.strip()!r} is more than a day ahead."
    elif moment < now - OLDEST:
        errors["received_at"] = f"The received_at {value.strip()!r} is more than a year ago."
    return moment


def _external_id(value: object, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        errors["id"] = "The id must be text or a whole number: the sender's own id for the lead."
        return None
    value = value.strip()
    if len(value) > MAX_EXTERNAL_ID or _bad_characters(value):
        errors["id"] = f"The id is 1 to {MAX_EXTERNAL_ID} characters, without control characters."
        return None
    return value


def _bad_characters(value: str, *, lines: bool = False) -> bool:
    """Control characters (NUL and the like) or halves of a character: what no person
    typed. A request may keep its line breaks and tabs."""
    allowed = "\n\r\t" if lines else ""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value)


# -- storing it -----------------------------------------------------------------------
_INSERT = text(
    "INSERT INTO leads (source, phone, email, name, received_at, request, external_id) "
    "VALUES (:source, :phone, :email, :name, :received_at, :request, :external_id) "
    "ON CONFLICT (external_id) DO NOTHING RETURNING id"
)
_EARLIER = text("SELECT id FROM leads WHERE external_id = :external_id")


async def store_lead(sessions: Sessions, lead: PostedLead) -> tuple[int, bool]:
    """Store ``lead``; returns its id and whether it is new (``False``: the sender's id
    was stored before, and that lead stands as it was)."""
    values = {
        "source": lead.source.value,
        "phone": lead.phone,
        "email": lead.email,
        "name": lead.name,
        "received_at": lead.received_at,
        "request": lead.request,
        "external_id": lead.external_id,
    }
    async with sessions() as session, session.begin():
        made = await session.scalar(_INSERT, values)
        if made is not None:
            return int(made), True
        # Another post with this id committed first (ON CONFLICT waited for it).
        earlier = await session.scalar(_EARLIER, {"external_id": lead.external_id})
    if earlier is None:  # pragma: no cover - the conflict means the row exists
        raise RuntimeError(f"lead {lead.external_id} conflicted and cannot be found")
    return int(earlier), False


# -- the server -----------------------------------------------------------------------
def _answer(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(dict(body), status=status, headers=headers)


def _refused(status: int, sentence: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return _answer(status, {"error": sentence}, headers)


class LeadEndpoint:
    """The HTTP server; ``start`` binds it, ``aclose`` stops it (the request in hand
    finishes first)."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        host: str = "127.0.0.1",
        port: int = 8765,
        limit: RateLimit | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.host = host
        self.port = port
        self.limiter = RateLimiter(clock, limit)
        self._tokens = TokenCheck()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return shown_url(self.host, self.port)

    async def start(self) -> int:
        """Listen; returns the port (the one the system chose for port 0). A port that
        is taken, or an address this computer does not have, is ``ConfigurationError``."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/leads", self._post_lead)
        app.router.add_get("/health", self._health)
        # On close, the post in hand has this long to be stored (a database timeout's worth).
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=DATABASE_TIMEOUT_S
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise ConfigurationError(
                f"The lead endpoint cannot listen on {self.host}:{self.port}: "
                f"{_why_not_bound(error)}."
            ) from error
        self._runner = runner
        bound = runner.addresses[0]
        self.port = int(bound[1])
        return self.port

    async def aclose(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- the routes -----------------------------------------------------------------------
    async def _post_lead(self, request: web.Request) -> web.Response:
        wait = self.limiter.take(request.remote or "unknown")
        if wait is not None:
            return _refused(
                429,
                "Too many posts from this address: wait, then send again.",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if request.content_type != "application/json":
            return _refused(415, "Send the lead as JSON, with Content-Type: application/json.")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _too_large()
        refused = await self._check_token(request)
        if refused is not None:
            return refused
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _too_large()
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return _refused(400, "The body is not JSON (UTF-8): " + _NOT_STORED)
        try:
            lead = read_lead(payload, self.clock.now())
        except ValidationError as wrong:
            return _answer(422, {"error": f"{_NOT_STORED} {wrong}", "errors": wrong.fields})
        try:
            lead_id, new = await self._database(store_lead(self.sessions, lead))
        except (IntegrityError, DataError) as refusal:
            log.warning("the database refused a posted lead: %s", _first_line(refusal))
            return _answer(422, {"error": f"{_NOT_STORED} The database refused it.", "errors": {}})
        except (DBAPIError, OSError, TimeoutError) as error:
            log.warning("a posted lead was not stored: the database failed: %s", _first_line(error))
            return _unavailable()
        if new:
            log.info("lead %s stored: %s from %s", lead_id, lead.source.value, _masked(lead))
        return _answer(201 if new else 200, {"id": lead_id})

    async def _check_token(self, request: web.Request) -> web.Response | None:
        """``None`` when the request carries the endpoint's token, else the refusal."""
        try:
            stored = await self._database(self._stored_token())
        except (DBAPIError, OSError, TimeoutError) as error:
            log.warning("the lead endpoint could not read its token: %s", _first_line(error))
            return _unavailable()
        if stored is None or not is_token_hash(stored):
            why = "is not set" if stored is None else "is not one set-token wrote"
            return _refused(
                503,
                f"The lead endpoint's token {why}: run {SET_TOKEN_COMMAND} --generate, "
                "then give the token to the sender.",
            )
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _refused(
                401,
                "Send the lead endpoint's token: Authorization: Bearer <token>.",
                {"WWW-Authenticate": 'Bearer realm="leads"'},
            )
        if not await self._tokens.matches(token, stored):
            return _refused(
                401,
                "The token is not the lead endpoint's.",
                {"WWW-Authenticate": 'Bearer realm="leads", error="invalid_token"'},
            )
        return None

    async def _stored_token(self) -> object:
        async with self.sessions() as session:
            return await session.scalar(
                text("SELECT value FROM app_settings WHERE key = :key"),
                {"key": LEAD_TOKEN_SETTING},
            )

    async def _health(self, request: web.Request) -> web.Response:
        # A monitor's own bucket: polling health never uses up an answering service's posts.
        wait = self.limiter.take(f"health:{request.remote or 'unknown'}")
        if wait is not None:
            return _refused(
                429, "Too many requests.", {"Retry-After": str(max(1, math.ceil(wait)))}
            )
        try:
            await self._database(self._ping())
        except (DBAPIError, OSError, TimeoutError) as error:
            log.info("health: the database did not answer: %s", _first_line(error))
            return _answer(503, {"status": "unavailable", "error": "The database did not answer."})
        return _answer(200, {"status": "ok"})

    async def _ping(self) -> None:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def _database(self, work: Awaitable[R]) -> R:
        return await asyncio.wait_for(work, DATABASE_TIMEOUT_S)


def _why_not_bound(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"another program uses that port; stop it, or set {ENDPOINT_SETTING} to a free port"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"this computer has no such address; set {ENDPOINT_SETTING} to one of its own"
    if error.errno == errno.EACCES:
        return "the system reserves that port for administrators; use one above 1023"
    if isinstance(error, socket.gaierror):
        return f"there is no such host; set {ENDPOINT_SETTING} to one of this computer's"
    return os.strerror(error.errno).lower() if error.errno else str(error)


def _too_large() -> web.Response:
    return _refused(413, f"The body is over {MAX_BODY // 1024} KiB: " + _NOT_STORED)


def _unavailable() -> web.Response:
    return _refused(503, "The database did not answer: " + _NOT_STORED + " Send it again later.")


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    said = str(original).strip()
    return said.splitlines()[0][:300] if said else type(error).__name__


def _masked(lead: PostedLead) -> str:
    """Who, for the log: enough to find the lead, not a customer list."""
    if lead.phone:
        return f"…{lead.phone[-4:]}"
    name, _, domain = (lead.email or "").partition("@")
    return f"{name[:2]}…@{domain}"


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"
