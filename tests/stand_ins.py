"""Local stand-ins for the paid services a business sends messages through, reached over
real sockets on 127.0.0.1: an SMS provider speaking Twilio's Messages API over HTTP, and
an SMTP server (``aiosmtpd``). Tests and the benchmark steer them (fail, hang, refuse a
number) and count what they received.

    with SmsProvider(account_sid=SID, token=TOKEN) as sms, SmtpServer() as smtp:
        settings = {"sms_api_url": sms.url, "smtp_host": smtp.host, "smtp_port": smtp.port}
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import email
import email.policy
import json
import re
import secrets
import socket
import threading
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

API = "2010-04-01"
_MESSAGES = re.compile(rf"^/{API}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")
# What the real provider says for each refusal code the stand-in can be told to give.
_ERRORS = {
    20001: "Invalid paging parameter",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    30003: "Unreachable destination handset",
}
# The GSM 7-bit alphabet: a text in it packs 160 characters to a segment, others 70
# (its few two-unit characters, such as €, are counted as one here).
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def _rfc2822(moment: dt.datetime) -> str:
    """The provider's way of writing a time: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0))


def _segments(body: str) -> int:
    gsm = set(body) <= _GSM
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


def _error(status: int, code: int, **details: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": _ERRORS.get(code, "Error").format(**details),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class SmsProvider:
    """An SMS provider in the shape of Twilio's Messages API, on ``url``.

    It answers ``POST …/Messages.json`` (send), ``GET …/Messages/{sid}.json`` (one text;
    each fetch moves it on: queued → sent → delivered) and ``GET …/Messages.json`` (the
    list, newest first, filtered by To, From and DateSent, in pages). Unlike the real
    provider it honours an ``Idempotency-Key`` header unless ``honour_idempotency`` is
    false — a test of the adapter's own duplicate check turns that off.
    """

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0" * 32,
        token: str = "stand-in-token",
        honour_idempotency: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.token = token
        self.honour_idempotency = honour_idempotency
        self._authorization = (
            "Basic " + base64.b64encode(f"{account_sid}:{token}".encode()).decode()
        )
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._messages: dict[str, dict[str, Any]] = {}  # by sid, in the order received
        self._by_key: dict[str, str] = {}
        self._per_key: collections.Counter[str] = collections.Counter()
        self._failing: collections.deque[int] = collections.deque()
        self._hanging: collections.deque[float] = collections.deque()
        self._refused: dict[str, int] = {}
        self._undelivered: dict[str, int] = {}
        self._to_any: set[str] = set()  # inbound texts addressed to whichever number is asked
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The SMS stand-in is not running.")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SmsProvider:
        self._stopping.clear()
        self._server = _HttpServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases any request held by hang_next
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> SmsProvider:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- steering ------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 500) -> None:
        """The next ``n`` requests of any kind fail with ``status`` (500, 503, 429…)."""
        with self._lock:
            self._failing.extend([status] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        """The next ``n`` sends are taken (the text is stored and counts as delivered),
        then answered only after ``seconds`` — a client with a shorter timeout never
        learns it went."""
        with self._lock:
            self._hanging.extend([seconds] * n)

    def refuse(self, number: str, code: int = 21211) -> None:
        """Sends to ``number`` are refused with the provider's error ``code``."""
        with self._lock:
            self._refused[number] = code

    def unsubscribe(self, number: str) -> None:
        """``number`` replied STOP at the carrier: sends to it fail with 21610."""
        self.refuse(number, code=21610)

    def undeliver(self, number: str, code: int = 30003) -> None:
        """Texts to ``number`` end ``undelivered`` with ``code`` instead of delivered."""
        with self._lock:
            self._undelivered[number] = code

    def add_inbound(
        self, sender: str, body: str, when: dt.datetime, *, to: str | None = None
    ) -> str:
        """A customer's text to the company; ``to`` defaults to whichever number the
        client lists (the stand-in does not know the company's number)."""
        with self._lock:
            sid = "SM" + secrets.token_hex(16)
            record = self._record(sid, to or "", sender, body, "inbound", when)
            record["status"] = "received"
            self._messages[sid] = record
            if to is None:
                self._to_any.add(sid)
            return sid

    # -- what it received --------------------------------------------------------------
    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """The texts it accepted to send (copies, in the order received)."""
        with self._lock:
            return [
                {k: v for k, v in m.items() if not k.startswith("_")}
                for m in self._messages.values()
                if m["direction"] == "outbound-api"
            ]

    def count_for(self, key: str) -> int:
        """How many texts were stored under the ``Idempotency-Key`` ``key``."""
        with self._lock:
            return self._per_key[key]

    def duplicate_keys(self) -> int:
        """Texts stored beyond the first under one ``Idempotency-Key``: sent twice."""
        with self._lock:
            return sum(count - 1 for count in self._per_key.values() if count > 1)

    def wait_for_requests(self, n: int, timeout: float) -> bool:
        """Whether ``n`` requests arrived (counted as they arrive) within ``timeout``."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.requests >= n, timeout=timeout)

    # -- the API ---------------------------------------------------------------------
    def answer(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, Any], float]:
        """Status, JSON and how long to hold the answer back, for one request."""
        with self._arrived:
            self.requests += 1
            self._arrived.notify_all()
            failing = self._failing.popleft() if self._failing else None
        if failing is not None:
            code = 20429 if failing == 429 else 20500
            return (*_error(failing, code), 0.0)
        parts = urlsplit(target)
        route = _MESSAGES.match(parts.path)
        if route is None:
            return (*_error(404, 20404), 0.0)
        if headers.get("Authorization") != self._authorization or (
            route["account"] != self.account_sid
        ):
            return (*_error(401, 20003), 0.0)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if method == "POST" and route["sid"] is None:
            form = {
                k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
            }
            return self._send(form, headers.get("Idempotency-Key"))
        if method == "GET" and route["sid"] is not None:
            return (*self._fetch(route["sid"]), 0.0)
        if method == "GET":
            return (*self._list(parts.path, query), 0.0)
        return (*_error(405, 20004), 0.0)

    def _send(self, form: dict[str, str], key: str | None) -> tuple[int, dict[str, Any], float]:
        to, sender, text = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        for missing, code in ((to, 21604), (sender, 21603), (text, 21602)):
            if not missing:
                return (*_error(400, code), 0.0)
        with self._lock:
            if key and self.honour_idempotency and key in self._by_key:
                return 201, dict(self._messages[self._by_key[key]]), 0.0
            if to in self._refused:
                return (*_error(400, self._refused[to], to=to), 0.0)
            if len(text) > 1600:
                return (*_error(400, 21617), 0.0)
            sid = "SM" + secrets.token_hex(16)
            record = self._record(sid, to, sender, text, "outbound-api", dt.datetime.now(dt.UTC))
            self._messages[sid] = record
            if key:
                self._by_key.setdefault(key, sid)
                self._per_key[key] += 1
            hold = self._hanging.popleft() if self._hanging else 0.0
            return 201, dict(record), hold

    def _fetch(self, sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            record = self._messages.get(sid)
            if record is None:
                return _error(404, 20404)
            if record["direction"] == "outbound-api":
                self._move_on(record)
            return 200, dict(record)

    def _move_on(self, record: dict[str, Any]) -> None:
        if record["status"] == "queued":
            record["status"] = "sent"
        elif record["status"] == "sent":
            code = self._undelivered.get(record["to"])
            if code is None:
                record["status"] = "delivered"
            else:
                record["status"] = "undelivered"
                record["error_code"] = code
                record["error_message"] = _ERRORS.get(code)
        record["date_updated"] = _rfc2822(dt.datetime.now(dt.UTC))

    def _list(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
        except ValueError:
            return _error(400, 20001)
        with self._lock:
            chosen = []
            for sid, record in self._messages.items():
                shown = dict(record)
                if sid in self._to_any and "To" in query:
                    shown["to"] = query["To"]
                if self._matches(shown, query):
                    chosen.append(shown)
        chosen.sort(key=lambda m: m["_sent"], reverse=True)
        shown_page = chosen[page * size : (page + 1) * size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int) -> str:
            token = {"PageToken": f"PA{secrets.token_hex(8)}"} if number else {}
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number, **token})}"

        more = (page + 1) * size < len(chosen)
        return 200, {
            "messages": [{k: v for k, v in m.items() if not k.startswith("_")} for m in shown_page],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(shown_page) - 1, 0),
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "previous_page_uri": page_uri(page - 1) if page else None,
        }

    @staticmethod
    def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
        if "To" in query and record["to"] != query["To"]:
            return False
        if "From" in query and record["from"] != query["From"]:
            return False
        day = record["_sent"].date().isoformat()
        return not (
            ("DateSent>" in query and day < query["DateSent>"])
            or ("DateSent<" in query and day > query["DateSent<"])
            or ("DateSent" in query and day != query["DateSent"])
        )

    def _record(
        self, sid: str, to: str, sender: str, body: str, direction: str, when: dt.datetime
    ) -> dict[str, Any]:
        stamp = _rfc2822(when)
        uri = f"/{API}/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API,
            "body": body,
            "date_created": stamp,
            # The real provider fills this in when it hands the text to the carrier,
            # normally within a second; the stand-in does so at once.
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
            "_sent": when.astimezone(dt.UTC),  # for filtering and order; never shown
        }

    @property
    def stopping(self) -> threading.Event:
        return self._stopping


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a held (hung) answer never keeps the process alive
    block_on_close = False
    request_queue_size = 128  # workers of a benchmark connect at once


def _handler_for(provider: SmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
        timeout = 30  # an idle kept-alive connection's thread ends in time
        # Headers and body leave in two writes: without this, each answer waits out
        # the client's delayed ACK (40 ms), and the stand-in manages 25 requests/s.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, found, hold = provider.answer(method, self.path, self.headers, body)
            if hold and provider.stopping.wait(hold):
                self.close_connection = True
                return
            data = json.dumps({k: v for k, v in found.items() if not k.startswith("_")})
            payload = data.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a line per request would drown a benchmark

    return Handler


# -- SMTP --------------------------------------------------------------------------------
class SmtpServer:
    """An SMTP server on 127.0.0.1 that keeps what it receives in ``messages``; with a
    ``user`` and ``password`` it wants a login before any mail (AUTH PLAIN or LOGIN,
    over plain text: the connection never leaves this computer)."""

    def __init__(self, *, user: str | None = None, password: str | None = None) -> None:
        self.user = user
        self._password = password
        self.host = "127.0.0.1"
        self.port = 0
        self.messages: list[dict[str, Any]] = []
        self.logins: list[str] = []  # user names that logged in
        self._refused: dict[str, int] = {}
        self._received = threading.Condition()
        self._controller: Controller | None = None
        self._sessions: list[SMTP] = []  # one per client connection

    def refuse(self, address: str, code: int = 550) -> None:
        """``RCPT TO`` ``address`` is answered ``code`` (550: no such mailbox, 450: try
        later)."""
        self._refused[address.lower()] = code

    def start(self) -> SmtpServer:
        for _attempt in range(5):  # a free port can be taken between asking and binding
            self.port = _free_port()
            controller = _Controller(
                self,
                _Handler(self),
                hostname=self.host,
                port=self.port,
                authenticator=self._authenticate if self.user else None,
                auth_require_tls=False,
                enable_SMTPUTF8=True,
            )
            try:
                controller.start()
            except OSError:
                continue
            self._controller = controller
            return self
        raise RuntimeError("No free port for the SMTP stand-in.")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def drop_connections(self) -> None:
        """Close every client connection from the server's side, as a mail server does
        when a connection sat idle too long."""
        controller = self._controller
        if controller is None:
            return

        async def close_all() -> None:
            for session in self._sessions:
                if session.transport is not None:
                    session.transport.close()
            await asyncio.sleep(0)  # let the transports finish closing

        asyncio.run_coroutine_threadsafe(close_all(), controller.loop).result(timeout=10)
        self._sessions.clear()

    def wait_for_messages(self, n: int, timeout: float) -> bool:
        with self._received:
            return self._received.wait_for(lambda: len(self.messages) >= n, timeout=timeout)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        if user == self.user and password == self._password:
            self.logins.append(user)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _keep(self, envelope: Envelope) -> None:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        text = mail.get_body(("plain",))
        with self._received:
            self.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "subject": str(mail["Subject"] or ""),
                    "message_id": str(mail["Message-ID"] or ""),
                    # Lines cross SMTP ending in CRLF; a reader sees plain line breaks.
                    "body": text.get_content().replace("\r\n", "\n")
                    if isinstance(text, EmailMessage)
                    else "",
                    "email": mail,
                }
            )
            self._received.notify_all()


class _Controller(Controller):
    def __init__(self, owner: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def factory(self) -> SMTP:
        session = super().factory()
        self.owner._sessions.append(session)
        return session


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # A server with a user wants the login first (aiosmtpd's own auth_required
        # would also want TLS, which a loopback stand-in does without).
        if self.server.user and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        code = self.server._refused.get(address.lower())
        if code is not None:
            return f"{code} {'5.1.1' if code >= 500 else '4.2.1'} {address}: not taken"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.server._keep(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
