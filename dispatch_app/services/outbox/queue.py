"""The outbox as the office sees it: what was sent, queued or failed, resending and
cancelling, the templates, queueing a message from code, and whether a worker runs.

Visits queue their own on-the-way and job-done messages in the database (migration
0009); ``queue_message`` is for everything else (reminders, review requests, a test),
rendered here from the same templates, with quiet hours in the recipient's time zone.
The database keeps consent and opt-outs: a message for a customer who has not agreed
is written cancelled, with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    AppSetting,
    Customer,
    CustomerPhone,
    MessageTemplate,
    OutboxMessage,
    ServiceSite,
    WorkerHeartbeat,
    WorkOrder,
)
from dispatch_app.domain import messages as rules
from dispatch_app.domain.clock import Clock
from dispatch_app.domain.ids import require_row_id, require_version
from dispatch_app.domain.messages import Channel, Consent, MessageEvent, MessageState
from dispatch_app.domain.phones import normalise_phone
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.billing import books_errors

Sessions = async_sessionmaker[AsyncSession]

# A worker beats every 15 seconds; two minutes of silence means none is running.
STALE_AFTER = dt.timedelta(minutes=2)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# What the template editor's preview fills in (the demo company's kind of day).
PREVIEW_CONTEXT = {
    "customer": "Maria",
    "technician": "Dmitri",
    "arrival": "2:40 PM",
    "window": "2:00–4:00 PM",
    "work_order": "WO-10023",
}


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One outbox row as the Messages tab and ``messages list`` show it."""

    id: int
    version: int
    created_at: dt.datetime
    event: MessageEvent
    channel: Channel
    recipient: str
    subject: str
    body: str
    state: MessageState
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    provider_id: str | None
    delivery_status: str | None
    last_error: str | None
    resend_of_id: int | None
    work_order_id: int | None

    def status_text(self, zone: dt.tzinfo) -> str:
        """ "Sent 10:42 AM (delivered)", "Failed: …", "Waits until 8:00 AM", "Cancelled: …"."""
        if self.state == MessageState.SENT and self.sent_at is not None:
            when = _clock_text(self.sent_at, zone)
            delivered = f" ({self.delivery_status})" if self.delivery_status else ""
            return f"Sent {when}{delivered}"
        if self.state in (MessageState.FAILED, MessageState.CANCELLED):
            return f"{self.state.label}: {self.last_error}" if self.last_error else self.state.label
        if self.state == MessageState.QUEUED and self.next_attempt_at is not None:
            retry = f" (tried {self.attempts}×: {self.last_error})" if self.attempts else ""
            return f"Waits until {_clock_text(self.next_attempt_at, zone)}{retry}"
        return self.state.label


def _clock_text(moment: dt.datetime, zone: dt.tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%b} {local.day}, {local.strftime('%I:%M %p').lstrip('0')}"


def message_row(message: OutboxMessage) -> MessageRow:
    """An outbox row as the office reads it."""
    return MessageRow(
        id=message.id,
        version=message.version,
        created_at=message.created_at,
        event=MessageEvent(message.event),
        channel=Channel(message.channel),
        recipient=message.recipient,
        subject=message.subject,
        body=message.body,
        state=MessageState(message.state),
        attempts=message.attempts,
        next_attempt_at=message.next_attempt_at,
        sent_at=message.sent_at,
        provider_id=message.provider_id,
        delivery_status=message.delivery_status,
        last_error=message.last_error,
        resend_of_id=message.resend_of_id,
        work_order_id=message.work_order_id,
    )


# -- reading --------------------------------------------------------------------------
async def messages_of_work_order(sessions: Sessions, work_order_id: int) -> list[MessageRow]:
    """What the customer was sent about a work order, newest first."""
    require_row_id(work_order_id, "work order")
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.work_order_id == work_order_id)
            .order_by(OutboxMessage.id.desc())
        )
        return [message_row(row) for row in rows]


async def list_messages(
    sessions: Sessions, *, state: MessageState | None = None, limit: int = 50
) -> list[MessageRow]:
    """The latest messages (of one state), newest first."""
    if not 1 <= limit <= 10_000:
        raise ValidationError({"limit": f"Show 1 to 10,000 messages, not {limit}."})
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state is not None:
        query = query.where(OutboxMessage.state == state.value)
    async with sessions() as session:
        return [message_row(row) for row in await session.scalars(query)]


async def company_settings(session: AsyncSession) -> dict[str, Any]:
    """Every ``app_settings`` row, key → value."""
    rows = await session.execute(select(AppSetting.key, AppSetting.value))
    return {key: value for key, value in rows}


def company_zone(settings: Mapping[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(settings.get("business_timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """Whether some worker sends the outbox, and how much waits."""

    last_beat: dt.datetime | None  # the freshest heartbeat of a worker still running
    running: bool
    waiting: int  # queued messages due now

    def warning(self, zone: dt.tzinfo) -> str | None:
        """The sentence for the status bar when nobody sends messages; None if one does."""
        if self.running:
            return None
        if self.last_beat is None:
            return "Messages are not being sent: no worker has run yet."
        local = self.last_beat.astimezone(zone)
        return (
            "Messages are not being sent: no worker since "
            f"{local.strftime('%I:%M %p').lstrip('0')}."
        )


async def worker_status(sessions: Sessions, *, clock: Clock) -> WorkerStatus:
    now = clock.now()
    async with sessions() as session:
        last = await session.scalar(
            select(WorkerHeartbeat.beat_at)
            .where(WorkerHeartbeat.stopped_at.is_(None))
            .order_by(WorkerHeartbeat.beat_at.desc())
            .limit(1)
        )
        if last is None:  # none running: when did the last one stop?
            last = await session.scalar(
                select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at.desc()).limit(1)
            )
            running = False
        else:
            running = now - last <= STALE_AFTER
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM outbox_messages WHERE state = 'queued' "
                "AND (next_attempt_at IS NULL OR next_attempt_at <= :now)"
            ),
            {"now": now},
        )
    return WorkerStatus(last, running, int(waiting or 0))


# -- changing -------------------------------------------------------------------------
async def resend_message(sessions: Sessions, message_id: int) -> int:
    """Queue a sent, failed or cancelled message again as a new row; returns its id."""
    require_row_id(message_id, "message")
    with books_errors():
        async with sessions() as session, session.begin():
            made = await session.scalar(
                text("SELECT dispatch_resend_message(:id)"), {"id": message_id}
            )
    return int(made)


async def cancel_message(sessions: Sessions, message_id: int, seen_version: int) -> None:
    """Cancel a message still waiting to be sent."""
    require_row_id(message_id, "message")
    require_version(seen_version, "message")
    with books_errors():
        async with sessions() as session, session.begin():
            done = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.version == seen_version,
                    OutboxMessage.state == MessageState.QUEUED.value,
                )
                .values(state=MessageState.CANCELLED.value, last_error="Cancelled by the office.")
                .execution_options(synchronize_session=False)
            )
            if not getattr(done, "rowcount", 0):
                raise ConflictError(
                    "That message was sent or changed in the meantime; it is shown as it is now."
                )


async def set_customer_consent(
    sessions: Sessions,
    customer_id: int,
    *,
    consent: Consent,
    opt_out_note: str | None,
    seen_version: int,
) -> int:
    """Record what a customer agreed to and whether they asked not to be contacted;
    returns the customer's new version. The database stamps who and when."""
    require_row_id(customer_id, "customer")
    require_version(seen_version, "customer")
    note = (opt_out_note or "").strip() or None
    if note is not None and len(note) > 500:
        raise ValidationError(
            {"opt_out_note": "Say how the customer opted out in at most 500 characters."}
        )
    async with sessions() as session, session.begin():
        version = await session.scalar(
            update(Customer)
            .where(Customer.id == customer_id, Customer.version == seen_version)
            .values(message_consent=consent.value, opt_out_note=note)
            .returning(Customer.version)
            .execution_options(synchronize_session=False)
        )
        if version is None:
            raise ConflictError("Someone changed this customer in the meantime; look again.")
        return int(version)


# -- templates ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TemplateRow:
    id: int
    version: int
    event: MessageEvent
    channel: Channel
    subject: str
    body: str


async def message_templates(sessions: Sessions) -> list[TemplateRow]:
    async with sessions() as session:
        rows = await session.scalars(
            select(MessageTemplate).order_by(MessageTemplate.event, MessageTemplate.channel)
        )
        return [
            TemplateRow(
                r.id, r.version, MessageEvent(r.event), Channel(r.channel), r.subject, r.body
            )
            for r in rows
        ]


async def save_template(
    sessions: Sessions,
    *,
    event: MessageEvent,
    channel: Channel,
    subject: str,
    body: str,
    seen_version: int | None,
) -> int:
    """Save a template (refused, with the sentence, if it names an unknown placeholder);
    returns its new version. ``seen_version`` None: there was none for this event."""
    if channel == Channel.LOG:
        raise ValidationError({"channel": "The log channel writes the text message's words."})
    problem = rules.template_problem(subject, body, channel)
    if problem:
        raise ValidationError({"body": problem})
    subject = subject.strip() if channel == Channel.EMAIL else ""
    with books_errors():
        async with sessions() as session, session.begin():
            if seen_version is None:
                version = await session.scalar(
                    text(
                        "INSERT INTO message_templates (event, channel, subject, body) "
                        "VALUES (:event, :channel, :subject, :body) "
                        "ON CONFLICT (event, channel) DO NOTHING RETURNING version"
                    ),
                    {
                        "event": event.value,
                        "channel": channel.value,
                        "subject": subject,
                        "body": body,
                    },
                )
            else:
                version = await session.scalar(
                    update(MessageTemplate)
                    .where(
                        MessageTemplate.event == event.value,
                        MessageTemplate.channel == channel.value,
                        MessageTemplate.version == seen_version,
                    )
                    .values(subject=subject, body=body)
                    .returning(MessageTemplate.version)
                    .execution_options(synchronize_session=False)
                )
            if version is None:
                raise ConflictError("Someone changed this template in the meantime; look again.")
            return int(version)


async def preview(sessions: Sessions, *, subject: str, body: str) -> tuple[str, str]:
    """The template as a customer of this company would read it."""
    async with sessions() as session:
        settings = await company_settings(session)
    context = _company_context(settings) | PREVIEW_CONTEXT
    return rules.render(subject, context), rules.render(body, context)


def _company_context(settings: Mapping[str, Any]) -> dict[str, str]:
    return {
        "company": str(settings.get("company_name") or ""),
        "company_phone": str(settings.get("company_phone") or ""),
        "review_link": str(settings.get("review_link") or ""),
    }


# -- queueing -------------------------------------------------------------------------
def configured_channels(settings: Mapping[str, Any]) -> list[Channel]:
    """The ``message_channels`` setting; what is not a channel is left out here (the
    worker and the settings check name it)."""
    value = settings.get("message_channels", ["log"])
    if not isinstance(value, list):
        return [Channel.LOG]
    return [Channel(v) for v in dict.fromkeys(value) if v in set(Channel)]


async def queue_message(
    session: AsyncSession,
    *,
    customer_id: int,
    event: MessageEvent,
    key: str,
    clock: Clock,
    work_order_id: int | None = None,
    visit_id: int | None = None,
    context: Mapping[str, str] | None = None,
    expires_at: dt.datetime | None = None,
) -> list[int]:
    """Queue ``event``'s message to a customer on each configured channel, in the
    caller's transaction; returns the new rows (none for a key already queued).

    ``key`` names the occasion (``review:WO-10023``): the same key never queues twice.
    A message not about a visit happening now waits for the end of quiet hours in the
    recipient's time zone (the site's position, else the number's area code).
    """
    require_row_id(customer_id, "customer")
    settings = await company_settings(session)
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise ValidationError({"customer": "That customer no longer exists."})
    phones = (
        await session.scalars(
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == customer_id)
            .order_by(CustomerPhone.label.not_in(("mobile", "cell")), CustomerPhone.id)
        )
    ).all()
    phone = phones[0] if phones else None
    site = None
    number = None
    if work_order_id is not None:
        order = await session.get(WorkOrder, work_order_id)
        if order is not None:
            number = order.number
            site = await session.get(ServiceSite, order.site_id)
    zone = rules.recipient_zone(
        lat=site.lat if site else None,
        lon=site.lon if site else None,
        phone=phone,
        business_zone=company_zone(settings),
    )
    filled = (
        _company_context(settings)
        | {"customer": rules.first_name(customer.name), "work_order": number or ""}
        | dict(context or {})
    )
    quiet = rules.QuietHours.from_text(
        str(settings.get("quiet_hours_start") or "21:00"),
        str(settings.get("quiet_hours_end") or "08:00"),
    )
    now = clock.now()
    send_at = None if event.about_now else quiet.next_allowed(now, zone)
    templates = {
        Channel(t.channel): t
        for t in await session.scalars(
            select(MessageTemplate).where(MessageTemplate.event == event.value)
        )
    }
    made: list[int] = []
    for channel in configured_channels(settings):
        recipient = {
            Channel.SMS: phone,
            Channel.EMAIL: (customer.email or "").strip() or None,
            Channel.LOG: phone or (customer.email or "").strip() or customer.name,
        }[channel]
        template = templates.get(Channel.EMAIL if channel == Channel.EMAIL else Channel.SMS)
        if recipient is None or template is None:
            continue
        new = await session.scalar(
            text(
                "INSERT INTO outbox_messages (customer_id, work_order_id, visit_id, event, "
                "purpose, channel, recipient, subject, body, context, idempotency_key, zone, "
                "next_attempt_at, expires_at, max_attempts) VALUES (:customer, :order, :visit, "
                ":event, :purpose, :channel, :recipient, :subject, :body, "
                "CAST(:context AS jsonb), :key, :zone, :send_at, :expires, :attempts) "
                "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
            ),
            {
                "customer": customer_id,
                "order": work_order_id,
                "visit": visit_id,
                "event": event.value,
                "purpose": event.purpose.value,
                "channel": channel.value,
                "recipient": recipient,
                "subject": rules.render(template.subject, filled)[:200],
                "body": rules.render(template.body, filled)[: rules.SMS_MAX_CHARS],
                "context": _json(filled),
                "key": f"{key}:{channel.value}",
                "zone": zone.key,
                "send_at": send_at,
                "expires": expires_at,
                "attempts": _max_attempts(settings),
            },
        )
        if new is not None:
            made.append(int(new))
    return made


def _max_attempts(settings: Mapping[str, Any]) -> int:
    try:
        return min(max(int(settings.get("message_max_attempts") or rules.MAX_ATTEMPTS), 1), 20)
    except (TypeError, ValueError):
        return rules.MAX_ATTEMPTS


def _json(value: Mapping[str, str]) -> str:
    return json.dumps(dict(value), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class TestMessage:
    id: int
    channel: Channel
    recipient: str


async def queue_test_message(
    sessions: Sessions, *, to: str, channel: Channel | None = None
) -> TestMessage:
    """Queue the test template to an address or number (not a customer's: no consent
    applies), on the channel its shape says unless one is named."""
    to = to.strip()
    if channel is None:
        channel = Channel.EMAIL if "@" in to else Channel.SMS
    if channel == Channel.SMS:
        try:
            to = normalise_phone(to)
        except ValueError as error:
            raise ValidationError({"to": str(error)}) from None
    elif channel == Channel.EMAIL and not _EMAIL.fullmatch(to):
        raise ValidationError({"to": f"{to[:80]!r} is not an email address."})
    if not to:
        raise ValidationError({"to": "Say where the test message goes."})
    with books_errors():
        async with sessions() as session, session.begin():
            settings = await company_settings(session)
            template = await session.scalar(
                select(MessageTemplate).where(
                    MessageTemplate.event == MessageEvent.TEST.value,
                    MessageTemplate.channel
                    == (Channel.EMAIL if channel == Channel.EMAIL else Channel.SMS).value,
                )
            )
            context = _company_context(settings)
            subject = rules.render(template.subject, context) if template else "A test message"
            body = rules.render(template.body, context) if template else "This is a test message."
            made = await session.scalar(
                text(
                    "INSERT INTO outbox_messages (event, channel, recipient, subject, body, "
                    "idempotency_key, max_attempts) VALUES ('test', :channel, :to, :subject, "
                    ":body, :key, 1) RETURNING id"
                ),
                {
                    "channel": channel.value,
                    "to": to[:320],
                    "subject": subject[:200],
                    "body": body,
                    "key": f"test:{uuid.uuid4()}",
                },
            )
    return TestMessage(int(made), channel, to)
