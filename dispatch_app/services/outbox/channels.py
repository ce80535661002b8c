"""What every channel (log, email, SMS) takes and gives back, and how a send fails.

The worker hands a sender one ``OutgoingMessage`` at a time and records the
``Delivery``; a ``TemporaryFailure`` is tried again later, a ``PermanentFailure`` never.
Failure messages are sentences a person reads in the outbox, and never hold a secret.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Protocol

from dispatch_app.domain.messages import Channel


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    key: str  # the outbox row's idempotency key, e.g. "visit:12:on_the_way:sms"
    channel: Channel
    recipient: str  # E.164 for a text, an address for an email, anything for the log
    subject: str  # email only
    body: str
    # An earlier attempt may have reached the provider (its worker died or timed out),
    # so the sender looks for that delivery before sending again.
    retry: bool = False
    first_tried_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    provider_id: str  # the SMS provider's sid "SM…", the email's Message-ID, "log-<key>"
    status: str  # the provider's word: queued/sent/delivered for a text; "sent" otherwise
    already_sent: bool = False  # an earlier attempt had delivered it: nothing sent now


class SendFailure(Exception):
    """A message did not go; ``str(failure)`` is one sentence for the office."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(SendFailure):
    """Worth trying again later: the provider is down, busy or slow."""


class PermanentFailure(SendFailure):
    """Trying again would fail the same way: a refused number or address, a refused
    login. ``opted_out`` says the recipient unsubscribed at the carrier (texted STOP)."""

    def __init__(self, message: str, *, code: str | None = None, opted_out: bool = False) -> None:
        super().__init__(message, code=code)
        self.opted_out = opted_out


class Sender(Protocol):
    """One channel's way out. Sends run one at a time per sender."""

    channel: Channel

    async def send(self, message: OutgoingMessage) -> Delivery: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """What the carrier says became of a text (polled: an office has no callback URL)."""

    status: str
    final: bool  # the status will not change any more
    failed: bool  # final, and the text never reached the phone
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text a customer sent to the company's number (a reply, STOP, START…)."""

    provider_id: str
    sender: str  # E.164
    body: str
    received_at: dt.datetime


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer, where a secret may travel unencrypted."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
