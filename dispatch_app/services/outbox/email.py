"""Email through the company's SMTP server (``aiosmtplib``): one message per send over a
connection kept open between sends, encrypted whenever a password crosses it.

A message's ``Message-ID`` comes from its outbox key, so a copy sent again after a crash
is the same message to the mail systems that receive it. The password appears in no log
line and no failure message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from dispatch_app.domain.messages import Channel
from dispatch_app.services.outbox.channels import (
    Delivery,
    OutgoingMessage,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
    is_loopback,
)

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def is_address(text: str) -> bool:
    """Whether ``text`` (``a@b`` or ``Name <a@b>``) holds one email address."""
    return bool(_ADDRESS.match(parseaddr(text)[1]))


def message_id(key: str, domain: str) -> str:
    """The ``Message-ID`` of the outbox message ``key``: the same for every copy."""
    return f"<outbox.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailSender:
    channel = Channel.EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int,
        starttls: bool,
        user: str,
        password: str | None,
        from_address: str,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.starttls = starttls
        self.user = user
        self._password = password
        self.from_address = from_address
        self._from = parseaddr(from_address)[1]
        self._domain = self._from.rpartition("@")[2]
        self.timeout = timeout
        self._client: aiosmtplib.SMTP | None = None
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:  # never the password
        return f"EmailSender({self.user or 'no login'}@{self.host}:{self.port})"

    async def send(self, message: OutgoingMessage) -> Delivery:
        if not is_address(message.recipient):
            raise PermanentFailure(f"{message.recipient!r} is not an email address.")
        mail, identity = self._compose(message)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one conversation with the server at a time
            client = await self._connected()
            try:
                await client.send_message(
                    mail, sender=self._from, recipients=[parseaddr(message.recipient)[1]]
                )
            except aiosmtplib.SMTPException as error:
                # Whatever the server's state after a failure, the next send starts afresh.
                self._drop()
                raise self._failure(error, message.recipient) from None
            except OSError as error:
                self._drop()
                raise TemporaryFailure(
                    f"The mail server {self.host} failed mid-send ({type(error).__name__})."
                ) from None
            except asyncio.CancelledError:  # the worker gave up waiting: state unknown
                self._drop()
                raise
        return Delivery(provider_id=identity, status="sent")

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit(timeout=min(self.timeout, 5))
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    def _compose(self, message: OutgoingMessage) -> tuple[EmailMessage, str]:
        identity = message_id(message.key, self._domain)
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = message.recipient
        # A line break in a header would start a new header: a subject is one line.
        mail["Subject"] = " ".join(message.subject.split())
        mail["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        mail["Message-ID"] = identity
        mail.set_content(message.body)  # UTF-8 text, encoded for any server
        return mail, identity

    async def _connected(self) -> aiosmtplib.SMTP:
        """The open connection, checked with NOOP; a new one when it dropped."""
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.noop(timeout=self.timeout)
                return self._client
            except (aiosmtplib.SMTPException, OSError):
                self._drop()
        implicit_tls = self.port == 465  # "SMTPS": TLS from the first byte
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            use_tls=implicit_tls,
            start_tls=self.starttls and not implicit_tls,
        )
        try:
            await client.connect()
            if self.user:
                encrypted = client.get_transport_info("sslcontext") is not None
                if not encrypted and not is_loopback(self.host):
                    raise PermanentFailure(
                        f"The mail server {self.host} offered no encryption, so the password "
                        f"for {self.user} was not sent; turn smtp_starttls on."
                    )
                await client.login(self.user, self._password or "")
        except SendFailure:
            client.close()
            raise
        except aiosmtplib.SMTPException as error:
            client.close()
            raise self._connect_failure(error) from None
        except OSError as error:  # refused, unreachable, a TLS handshake that failed
            client.close()
            raise TemporaryFailure(
                f"The mail server {self.host}:{self.port} could not be reached "
                f"({type(error).__name__})."
            ) from None
        self._client = client
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _connect_failure(self, error: aiosmtplib.SMTPException) -> SendFailure:
        where = f"{self.host}:{self.port}"
        if isinstance(error, aiosmtplib.SMTPAuthenticationError):
            # Never the server's text: some servers repeat what they were sent.
            if 400 <= error.code < 500:
                return TemporaryFailure(
                    f"The mail server {where} could not check the login now ({error.code}).",
                    code=str(error.code),
                )
            return PermanentFailure(
                f"The mail server {where} refused the login for {self.user} ({error.code}): "
                "check the user name and the password.",
                code=str(error.code),
            )
        if isinstance(error, aiosmtplib.SMTPTimeoutError):
            return TemporaryFailure(
                f"The mail server {where} did not answer within {self.timeout:g} seconds."
            )
        if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
            if isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500:
                return PermanentFailure(
                    f"The mail server {where} turned the connection away ({error.code}).",
                    code=str(error.code),
                )
            return TemporaryFailure(f"The mail server {where} could not be reached.")
        if isinstance(error, aiosmtplib.SMTPResponseException):
            return self._by_code(error.code, f"The mail server {where} answered {error.code}")
        if "STARTTLS" in str(error):
            return PermanentFailure(
                f"The mail server {where} does not offer STARTTLS, which smtp_starttls asks "
                "for; nothing was sent."
            )
        if "AUTH" in str(error):
            return PermanentFailure(
                f"The mail server {where} does not accept a login, which smtp_user asks for."
            )
        return PermanentFailure(f"The mail server {where} could not be used: {error}.")

    def _failure(self, error: aiosmtplib.SMTPException, recipient: str) -> SendFailure:
        if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
            refused = error.recipients[0]
            return self._by_code(
                refused.code,
                f"The mail server refused the address {recipient}: {refused.code} "
                f"{_short(refused.message)}",
            )
        if isinstance(error, aiosmtplib.SMTPSenderRefused):
            return self._by_code(
                error.code,
                f"The mail server refused the sender {self._from}: {error.code} "
                f"{_short(error.message)}",
            )
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            return PermanentFailure(f"The mail server cannot take this message: {error}.")
        if isinstance(error, aiosmtplib.SMTPTimeoutError):
            return TemporaryFailure(
                f"The mail server {self.host} did not answer within {self.timeout:g} seconds."
            )
        if isinstance(error, aiosmtplib.SMTPServerDisconnected):
            return TemporaryFailure(f"The mail server {self.host} closed the connection.")
        if isinstance(error, aiosmtplib.SMTPResponseException):
            return self._by_code(
                error.code,
                f"The mail server did not take the message: {error.code} {_short(error.message)}",
            )
        return TemporaryFailure(f"The mail server {self.host} failed: {_short(str(error))}")

    @staticmethod
    def _by_code(code: int, said: str) -> SendFailure:
        """SMTP's own rule: 4xx means try again later, 5xx means never."""
        said = said.rstrip(".") + "."
        if 400 <= code < 500:
            return TemporaryFailure(said, code=str(code))
        return PermanentFailure(said, code=str(code))


def _short(text: str) -> str:
    return " ".join(text.split())[:200]
