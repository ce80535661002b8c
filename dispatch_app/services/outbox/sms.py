"""Texts through an SMS provider speaking Twilio's Messages API (``httpx``): send, ask
what became of a sent text, and read the replies to the company's number.

An office has no public address for the provider to call back, so delivery reports and
replies are polled. The real provider keeps no idempotency keys: before a text whose
first attempt may have reached it is sent again, the provider's list of texts to that
number is searched for it, so a worker that died mid-send never makes a customer's
phone buzz twice.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from dispatch_app.domain.messages import Channel
from dispatch_app.services.outbox.channels import (
    Delivery,
    DeliveryStatus,
    InboundSms,
    OutgoingMessage,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
)

MAX_LENGTH = 1600  # characters: the provider refuses a longer body (its error 21617)
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
_FINAL = frozenset({"delivered", "undelivered", "failed", "read", "canceled"})
_NOT_DELIVERED = frozenset({"undelivered", "failed", "canceled"})
# A text the provider never passed to a carrier: sending it again is no duplicate.
_NEVER_LEFT = frozenset({"failed", "canceled"})
# The provider's clock and ours differ a little; an earlier attempt's text may carry a
# time a few minutes before our record of the attempt.
_CLOCK_SKEW = dt.timedelta(minutes=10)
_LOOKUP_PAGES = 10
_INBOUND_PAGES = 100

# Sentences for the provider's codes an office meets (the provider's own text is terse).
_REFUSALS = {
    20003: "The SMS provider refused the account sid or API token",
    21211: "The SMS provider says {to} is not a valid phone number",
    21408: "The SMS provider may not send texts to {to}'s country on this account",
    21610: "{to} has unsubscribed from the company's texts (replied STOP to the carrier)",
    21612: "The SMS provider cannot send from sms_from to {to}",
    21614: "The SMS provider says {to} is not a mobile number",
    21617: "The text is longer than the provider's 1,600 characters",
}
_CARRIER_ERRORS = {
    30003: "the phone is switched off or out of reach",
    30004: "the recipient blocked it",
    30005: "the number is unknown or no longer in service",
    30006: "the number is a landline or its carrier cannot take texts",
    30007: "the carrier filtered it as spam",
    30008: "the carrier gave no reason",
}


class SmsSender:
    channel = Channel.SMS

    def __init__(
        self, *, api_url: str, account_sid: str, token: str, from_number: str, timeout: float
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.account_sid = account_sid
        self._token = token
        self.from_number = from_number
        self.timeout = timeout
        self._messages = f"/2010-04-01/Accounts/{account_sid}/Messages"
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # never the token
        return f"SmsSender({self.account_sid} at {self.api_url})"

    # -- the three questions to the provider -------------------------------------------
    async def send(self, message: OutgoingMessage) -> Delivery:
        if not _E164.match(message.recipient):
            raise PermanentFailure(
                f"{message.recipient!r} is not a phone number in international form "
                "(such as +13125550142)."
            )
        if not message.body.strip():
            raise PermanentFailure("The text is empty.", code="21602")
        if len(message.body) > MAX_LENGTH:
            raise PermanentFailure(
                f"The text is {len(message.body):,} characters long; the SMS provider takes "
                f"at most {MAX_LENGTH:,}.",
                code="21617",
            )
        if message.retry and message.first_tried_at is not None:
            earlier = await self._earlier_delivery(message, message.first_tried_at)
            if earlier is not None:
                return earlier
        sent = await self._call(
            "POST",
            f"{self._messages}.json",
            data={"To": message.recipient, "From": self.from_number, "Body": message.body},
            headers={"Idempotency-Key": message.key},
            to=message.recipient,
        )
        return Delivery(provider_id=_field(sent, "sid"), status=_field(sent, "status"))

    async def status(self, provider_id: str) -> DeliveryStatus:
        """What the carrier says became of the text ``provider_id``."""
        if not _SID.match(provider_id):
            raise PermanentFailure(f"{provider_id!r} is not the SMS provider's message id.")
        found = await self._call("GET", f"{self._messages}/{provider_id}.json")
        status = _field(found, "status")
        code = found.get("error_code")
        error = found.get("error_message") or None
        if code is not None and error is None:
            error = _CARRIER_ERRORS.get(_as_int(code))
        return DeliveryStatus(
            status=status,
            final=status in _FINAL,
            failed=status in _NOT_DELIVERED,
            error_code=None if code is None else str(code),
            error=error,
        )

    async def inbound(self, since: dt.datetime) -> list[InboundSms]:
        """Texts customers sent to the company's number after ``since``, oldest first."""
        since = _aware(since)
        replies = []
        async for found in self._listed(self.from_number, since, pages=_INBOUND_PAGES):
            received = _when(found)
            if found.get("direction") != "inbound" or received is None or received <= since:
                continue
            replies.append(
                InboundSms(
                    provider_id=_field(found, "sid"),
                    sender=str(found.get("from") or ""),
                    body=str(found.get("body") or ""),
                    received_at=received,
                )
            )
        return sorted(replies, key=lambda reply: reply.received_at)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- the lookup that makes a resend safe -------------------------------------------
    async def _earlier_delivery(
        self, message: OutgoingMessage, first_tried_at: dt.datetime
    ) -> Delivery | None:
        since = _aware(first_tried_at) - _CLOCK_SKEW
        async for found in self._listed(message.recipient, since, pages=_LOOKUP_PAGES):
            created = _when(found, "date_created")
            if (
                str(found.get("direction", "")).startswith("outbound")
                and found.get("from") == self.from_number
                # A trial account puts a notice before the body: the rest is ours.
                and str(found.get("body", "")).endswith(message.body)
                and found.get("status") not in _NEVER_LEFT
                and (created is None or created >= since)
            ):
                return Delivery(
                    provider_id=_field(found, "sid"),
                    status=_field(found, "status"),
                    already_sent=True,
                )
        return None

    async def _listed(
        self, to: str, since: dt.datetime, *, pages: int
    ) -> AsyncIterator[dict[str, Any]]:
        """The provider's texts to ``to`` sent since ``since``'s day (UTC), page by page."""
        url = f"{self._messages}.json"
        params: dict[str, Any] | None = {
            "To": to,
            "DateSent>": since.astimezone(dt.UTC).date().isoformat(),
            "PageSize": 50,
        }
        for _page in range(pages):
            listed = await self._call("GET", url, params=params)
            for found in listed.get("messages") or []:
                if isinstance(found, dict):
                    yield found
            following = listed.get("next_page_uri")
            if not following:
                return
            url, params = self._following(str(following)), None

    def _following(self, uri: str) -> str:
        """The next page's address: on the provider's own host, or not followed (the
        request carries the token)."""
        url = urljoin(self.api_url + "/", uri)
        if urlsplit(url).netloc != urlsplit(self.api_url).netloc:
            raise TemporaryFailure("The SMS provider pointed the next page at another host.")
        return url

    # -- HTTP ---------------------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.api_url,
                auth=(self.account_sid, self._token),
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
        return self._client

    async def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        to: str = "",
    ) -> dict[str, Any]:
        try:
            answer = await self._http().request(
                method, url, params=params, data=data, headers=headers
            )
        except httpx.TimeoutException:
            raise TemporaryFailure(
                f"The SMS provider did not answer within {self.timeout:g} seconds.",
                code="timeout",
            ) from None
        except httpx.TransportError as error:
            raise TemporaryFailure(
                f"The SMS provider at {urlsplit(self.api_url).netloc} could not be reached "
                f"({type(error).__name__})."
            ) from None
        try:
            found = answer.json()
        except ValueError:
            found = None
        if answer.is_success and isinstance(found, dict):
            return found
        raise _refusal(answer.status_code, found if isinstance(found, dict) else {}, to)


def _refusal(status: int, found: dict[str, Any], to: str) -> SendFailure:
    """The provider's error answer as a failure: busy or broken (429, 5xx) is worth
    another try later; any other refusal would be refused again."""
    number = _as_int(found.get("code"))
    code = str(number or status)
    said = " ".join(str(found.get("message") or "").split())[:200].rstrip(".")
    detail = f": {said}" if said else ""
    if status == 429 or status >= 500:
        return TemporaryFailure(
            f"The SMS provider is busy or failing (HTTP {status}){detail}.", code=code
        )
    known = _REFUSALS.get(number)
    sentence = (
        known.format(to=to or "the number")
        if known
        else (f"The SMS provider refused the request{detail}")
    )
    return PermanentFailure(
        f"{sentence} ({number or f'HTTP {status}'}).", code=code, opted_out=number == 21610
    )


def _field(found: dict[str, Any], name: str) -> str:
    value = found.get(name)
    if not isinstance(value, str) or not value:
        raise TemporaryFailure(f"The SMS provider's answer has no {name}.")
    return value


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _when(found: dict[str, Any], *names: str) -> dt.datetime | None:
    """A text's time: the provider writes RFC 2822 dates (``Thu, 24 Aug 2023 05:01:45
    +0000``)."""
    for name in names or ("date_sent", "date_created"):
        value = found.get(name)
        if isinstance(value, str) and value:
            try:
                return _aware(parsedate_to_datetime(value))
            except (TypeError, ValueError):
                continue
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    """A time without a zone is the provider's: UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
