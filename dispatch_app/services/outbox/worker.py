"""The worker: sends what the outbox holds, once, and says it is alive.

Several workers may run against one outbox. Each claims due rows with ``FOR UPDATE
SKIP LOCKED`` (marking them ``sending``, with its name and the time), sends them one by
one, and records each result on the row it claimed — only while the claim is still
its own. A failure the provider calls temporary waits and is tried again (30 s, 2 min,
8 min… up to ``max_attempts``), then the row fails with the error kept; a refusal
(a number that cannot take texts) fails at once. A row left ``sending`` longer than the
lease by a worker that died is queued again; its next attempt first asks the provider
whether the message already went (``OutgoingMessage.retry``), so a crash never sends
it twice.

Each minute it also runs the follow-up rules and books the visits maintenance
agreements fall due for (``services/follow_ups``).

The worker wakes when a message is queued (the change feed's hint) and polls as a
fallback; it writes a heartbeat every 15 s, polls the SMS provider for delivery reports
and for STOP replies (a desktop office has no public address for callbacks), keeps
quiet hours for what is not about a visit happening now, and drops what no longer
makes sense (an "on the way" for a technician who has arrived).

Threading contract: coroutines on the caller's event loop (``python main.py worker``'s
own, or the desktop app's in single-PC mode). Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dispatch_app.domain import messages as rules
from dispatch_app.domain.clock import Clock
from dispatch_app.domain.messages import Channel, MessageEvent, MessageState
from dispatch_app.errors import ConfigurationError
from dispatch_app.services.outbox.channels import (
    OutgoingMessage,
    PermanentFailure,
    Sender,
    SendFailure,
    TemporaryFailure,
)
from dispatch_app.services.outbox.queue import Sessions, company_settings, company_zone
from dispatch_app.services.outbox.settings import MessageSettings, make_sender

log = logging.getLogger("dispatch_app.worker")

_FINAL_DELIVERY = frozenset({"delivered", "undelivered", "failed", "read", "canceled"})


def default_name() -> str:
    """``host:pid``: unique among the workers running now, and says where one runs."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    name: str = field(default_factory=default_name)
    batch: int = 20  # rows claimed at once: the most another worker waits behind
    poll: dt.timedelta = dt.timedelta(seconds=30)  # when no hint says a message came
    heartbeat: dt.timedelta = dt.timedelta(seconds=15)
    lease: dt.timedelta = dt.timedelta(minutes=5)  # a send takes seconds; a claim this old died
    provider_poll: dt.timedelta = dt.timedelta(seconds=60)  # delivery reports and replies
    send_timeout: float = 20.0  # seconds for one provider call
    # The follow-up rules and the agreements' due visits: each minute is soon enough for
    # a task due "at 48 hours", and a run costs one query per rule.
    follow_ups: dt.timedelta | None = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this worker claimed, as the send needs it."""

    id: int
    key: str
    event: MessageEvent
    channel: Channel
    recipient: str
    subject: str
    body: str
    attempts: int
    max_attempts: int
    expires_at: dt.datetime | None
    zone: str | None
    first_tried_at: dt.datetime | None
    visit_status: str | None


_CLAIM = """
UPDATE outbox_messages m
SET state = 'sending', claimed_by = :me, claimed_at = :now, attempts = m.attempts + 1,
    first_tried_at = coalesce(m.first_tried_at, :now)
WHERE m.id IN (
    SELECT id FROM outbox_messages
    WHERE state = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
      AND (CAST(:only AS bigint) IS NULL OR id = CAST(:only AS bigint))
    ORDER BY id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED)
RETURNING m.id, m.idempotency_key, m.event, m.channel, m.recipient, m.subject, m.body,
    m.attempts, m.max_attempts, m.expires_at, m.zone, m.first_tried_at,
    (SELECT v.status FROM visits v WHERE v.id = m.visit_id)
"""

# Every result is written only while the claim is still this worker's.
_MINE = "id = :id AND claimed_by = :me AND state = 'sending'"


class OutboxWorker:
    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        options: WorkerOptions | None = None,
        environ: Mapping[str, str] | None = None,
        keyring: Any = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.options = options or WorkerOptions()
        self.name = self.options.name
        self._environ = environ if environ is not None else os.environ
        self._keyring = keyring
        self._senders: dict[Channel, Sender] = {}
        self._settings: MessageSettings | None = None
        self._values: dict[str, Any] = {}
        self._wake = asyncio.Event()
        self._started_at: dt.datetime | None = None
        self._replies_since: dt.datetime | None = None
        self.sent = 0
        self.failed = 0

    # -- the loop -------------------------------------------------------------------------
    def wake(self) -> None:
        """A message was queued (or the settings changed): look now."""
        self._wake.set()

    def settings_changed(self) -> None:
        self._settings = None
        self.wake()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; then finish the message in hand, let go of the
        rest of the claim and say so in the heartbeat."""
        now = self.clock.now()
        self._started_at = now
        log.info("worker %s started", self.name)
        next_beat = next_provider = next_follow_ups = now
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    now = self.clock.now()
                    if now >= next_beat:
                        await self.beat()
                        next_beat = now + self.options.heartbeat
                    handled = await self.drain(stop=stop)
                    if self.clock.now() >= next_provider:
                        await self.poll_provider()
                        next_provider = self.clock.now() + self.options.provider_poll
                    if self.options.follow_ups and self.clock.now() >= next_follow_ups:
                        await self.run_follow_ups()
                        next_follow_ups = self.clock.now() + self.options.follow_ups
                    if handled or stop.is_set():
                        continue
                    due = await self._next_due()
                except (DBAPIError, OSError) as error:
                    # The server restarts or the network drops: wait, then carry on.
                    log.warning("the database did not answer (%s); trying again", error)
                    due = None
                await self._pause(stop, due)
        finally:
            await self.close()

    async def _pause(self, stop: asyncio.Event, due: dt.datetime | None) -> None:
        wait = self.options.poll.total_seconds()
        if due is not None:
            wait = min(wait, max((due - self.clock.now()).total_seconds(), 0.05))
        wait = min(wait, self.options.heartbeat.total_seconds())
        stopping = asyncio.ensure_future(stop.wait())
        waking = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, waking}, timeout=wait, return_when="FIRST_COMPLETED")
        finally:
            for task in (stopping, waking):
                task.cancel()

    async def close(self, *, beat: bool = True) -> None:
        """Stop the senders and say in the heartbeat that this worker stopped."""
        for sender in list(self._senders.values()):
            with contextlib.suppress(Exception):
                await sender.aclose()
        self._senders.clear()
        if beat:
            with contextlib.suppress(DBAPIError, OSError):
                await self.beat(stopped=True)
        log.info("worker %s stopped: %s sent, %s failed", self.name, self.sent, self.failed)

    async def drain(self, *, stop: asyncio.Event | None = None, only: int | None = None) -> int:
        """Send everything due now (or message ``only``); returns the rows handled."""
        handled = 0
        await self.reclaim()
        while stop is None or not stop.is_set():
            claimed = await self.claim(only=only)
            if not claimed:
                break
            for number, row in enumerate(claimed):
                if stop is not None and stop.is_set():
                    await self._release(claimed[number:])
                    return handled
                await self.deliver(row)
                handled += 1
        return handled

    async def run_follow_ups(self) -> None:
        """Run the follow-up rules and book the agreements' due visits. A rule that fails
        is logged and tried again next time: it never stops the messages."""
        from dispatch_app.services.follow_ups.agreements import book_due_visits
        from dispatch_app.services.follow_ups.rules import run_rules

        try:
            await run_rules(self.sessions, clock=self.clock)
            booked = await book_due_visits(self.sessions, clock=self.clock)
            if booked:
                log.info("booked %s maintenance visit(s) agreements fall due for", booked)
        except (DBAPIError, OSError):
            raise
        except Exception:
            log.exception("the follow-up rules failed; trying again in a minute")

    # -- the rows -------------------------------------------------------------------------
    async def claim(self, *, only: int | None = None) -> list[Claimed]:
        async with self.sessions() as session, session.begin():
            rows = await session.execute(
                text(_CLAIM),
                {
                    "me": self.name,
                    "now": self.clock.now(),
                    "batch": self.options.batch,
                    "only": only,
                },
            )
            return [
                Claimed(
                    id=r[0],
                    key=r[1],
                    event=MessageEvent(r[2]),
                    channel=Channel(r[3]),
                    recipient=r[4],
                    subject=r[5],
                    body=r[6],
                    attempts=r[7],
                    max_attempts=r[8],
                    expires_at=r[9],
                    zone=r[10],
                    first_tried_at=r[11],
                    visit_status=r[12],
                )
                for r in rows
            ]

    async def reclaim(self) -> int:
        """Rows a dead worker left ``sending``: queued again (or failed, out of tries)."""
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                text(
                    "UPDATE outbox_messages SET claimed_by = NULL, claimed_at = NULL, "
                    "state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, "
                    "next_attempt_at = NULL, last_error = 'The worker sending it stopped "
                    "before it could say whether it went.' "
                    "WHERE state = 'sending' AND claimed_at < :before RETURNING id, claimed_by"
                ),
                {"before": self.clock.now() - self.options.lease},
            )
            taken = result.all()
        for row in taken:
            log.warning("message %s: reclaimed from a worker that stopped", row[0])
        return len(taken)

    async def _release(self, rows: list[Claimed]) -> None:
        """Give back what was claimed and not tried (the worker is stopping)."""
        if not rows:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE outbox_messages SET state = 'queued', claimed_by = NULL, "
                    "claimed_at = NULL, attempts = attempts - 1 "
                    "WHERE id = ANY(:ids) AND claimed_by = :me AND state = 'sending'"
                ),
                {"ids": [row.id for row in rows], "me": self.name},
            )

    async def _finish(self, row: Claimed, assignments: str, values: Mapping[str, Any]) -> bool:
        async with self.sessions() as session, session.begin():
            done = await session.execute(
                text(
                    f"UPDATE outbox_messages SET claimed_by = NULL, claimed_at = NULL, "
                    f"{assignments} WHERE {_MINE}"
                ),
                {"id": row.id, "me": self.name, **values},
            )
        if not getattr(done, "rowcount", 0):
            log.warning("message %s: another worker took it over; its result stands", row.id)
            return False
        return True

    async def deliver(self, row: Claimed) -> MessageState:
        """Send one claimed row and record how it went; returns its new state."""
        now = self.clock.now()
        why_not = self._no_longer_timely(row, now)
        if why_not is not None:
            await self._finish(row, "state = 'cancelled', last_error = :why", {"why": why_not})
            log.info("message %s %s to %s: cancelled (%s)", row.id, row.event, row.channel, why_not)
            return MessageState.CANCELLED
        try:
            settings = await self._current_settings()
        except ConfigurationError as wrong:
            return await self._failed(row, wrong, permanent=False)
        if not row.event.about_now:
            zone = self._zone(row.zone)
            if not settings.quiet_hours.allows(now, zone):
                later = settings.quiet_hours.next_allowed(now, zone)
                await self._finish(
                    row,
                    "state = 'queued', attempts = attempts - 1, next_attempt_at = :later",
                    {"later": later},
                )
                return MessageState.QUEUED
        try:
            sender = self._sender(row.channel, settings)
            delivery = await asyncio.wait_for(
                sender.send(
                    OutgoingMessage(
                        key=row.key,
                        channel=row.channel,
                        recipient=row.recipient,
                        subject=row.subject,
                        body=row.body,
                        retry=row.attempts > 1,
                        first_tried_at=row.first_tried_at,
                    )
                ),
                timeout=self.options.send_timeout * 2,
            )
        except PermanentFailure as failure:
            return await self._failed(row, failure, permanent=True)
        except (TemporaryFailure, ConfigurationError, TimeoutError) as failure:
            return await self._failed(row, failure, permanent=False)
        except Exception as failure:  # a bug must not stop the others' messages
            log.exception("message %s: unexpected failure", row.id)
            return await self._failed(row, failure, permanent=False)
        await self._finish(
            row,
            "state = 'sent', sent_at = :now, provider_id = :provider, "
            "delivery_status = :status, last_error = NULL",
            {"now": self.clock.now(), "provider": delivery.provider_id, "status": delivery.status},
        )
        self.sent += 1
        again = " (already delivered before)" if delivery.already_sent else ""
        log.info(
            "message %s %s to %s by %s: sent as %s%s",
            row.id,
            row.event,
            _masked(row.recipient),
            row.channel,
            delivery.provider_id,
            again,
        )
        return MessageState.SENT

    async def _failed(
        self, row: Claimed, failure: BaseException, *, permanent: bool
    ) -> MessageState:
        said = _sentence(failure)
        if permanent or row.attempts >= row.max_attempts:
            await self._finish(row, "state = 'failed', last_error = :error", {"error": said})
            self.failed += 1
            log.warning("message %s to %s: failed: %s", row.id, _masked(row.recipient), said)
            if isinstance(failure, PermanentFailure) and failure.opted_out:
                await self._record_reply(
                    f"carrier:{row.key}", row.recipient, "STOP", "opt_out", self.clock.now()
                )
            return MessageState.FAILED
        later = self.clock.now() + rules.retry_delay(row.attempts)
        await self._finish(
            row,
            "state = 'queued', next_attempt_at = :later, last_error = :error",
            {"later": later, "error": said},
        )
        log.info(
            "message %s: attempt %s failed (%s); again at %s", row.id, row.attempts, said, later
        )
        return MessageState.QUEUED

    def _no_longer_timely(self, row: Claimed, now: dt.datetime) -> str | None:
        if row.event == MessageEvent.ON_THE_WAY and row.visit_status not in (None, "en_route"):
            return {
                "on_site": "The technician had already arrived.",
                "completed": "The visit was already finished.",
                "cancelled": "The visit was cancelled.",
                "no_show": "The visit was closed as a no-show.",
            }.get(row.visit_status or "", "The technician is no longer on the way.")
        if row.expires_at is not None and now >= row.expires_at:
            return "It waited too long to still make sense."
        return None

    def _zone(self, name: str | None) -> ZoneInfo:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return company_zone(self._values)

    async def _next_due(self) -> dt.datetime | None:
        async with self.sessions() as session:
            due = await session.scalar(
                text(
                    "SELECT min(next_attempt_at) FROM outbox_messages "
                    "WHERE state = 'queued' AND next_attempt_at IS NOT NULL"
                )
            )
        return due if isinstance(due, dt.datetime) else None

    # -- the company's settings and the channels -------------------------------------------
    async def _current_settings(self) -> MessageSettings:
        if self._settings is None:
            async with self.sessions() as session:
                self._values = await company_settings(session)
            self._settings = MessageSettings.from_values(self._values)
            for sender in list(self._senders.values()):
                with contextlib.suppress(Exception):
                    await sender.aclose()
            self._senders.clear()
        return self._settings

    def _sender(self, channel: Channel, settings: MessageSettings) -> Sender:
        sender = self._senders.get(channel)
        if sender is None:
            sender = make_sender(
                channel,
                settings,
                environ=self._environ,
                keyring=self._keyring,
                timeout=self.options.send_timeout,
            )
            self._senders[channel] = sender
        return sender

    # -- the provider's side ------------------------------------------------------------
    async def poll_provider(self) -> None:
        """Delivery reports of sent texts, and replies (STOP, START) to the company's
        number: the provider cannot call a desktop office back, so it is asked."""
        try:
            settings = await self._current_settings()
        except ConfigurationError as error:
            log.warning("the message settings are wrong: %s", error)
            return
        if Channel.SMS not in settings.channels:
            return
        try:
            sender: Any = self._sender(Channel.SMS, settings)
        except ConfigurationError:
            return
        try:
            await self._poll_statuses(sender)
            await self._poll_replies(sender)
        except SendFailure as failure:
            log.info("the SMS provider did not answer: %s", failure)

    async def _poll_statuses(self, sender: Any) -> None:
        now = self.clock.now()
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT id, provider_id FROM outbox_messages WHERE channel = 'sms' "
                        "AND state = 'sent' AND provider_id IS NOT NULL "
                        "AND (delivery_status IS NULL OR NOT delivery_status = ANY(:final)) "
                        "AND sent_at > :since ORDER BY id LIMIT 100"
                    ),
                    {"final": sorted(_FINAL_DELIVERY), "since": now - dt.timedelta(days=2)},
                )
            ).all()
        for message_id, provider_id in rows:
            report = await sender.status(provider_id)
            async with self.sessions() as session, session.begin():
                if report.failed:
                    code = f" ({report.error_code})" if report.error_code else ""
                    await session.execute(
                        text(
                            "UPDATE outbox_messages SET state = 'failed', delivery_status = "
                            ":status, last_error = :error WHERE id = :id AND state = 'sent'"
                        ),
                        {
                            "id": message_id,
                            "status": report.status,
                            "error": f"The carrier did not deliver it: "
                            f"{report.error or report.status}{code}."[:1000],
                        },
                    )
                    self.failed += 1
                else:
                    await session.execute(
                        text(
                            "UPDATE outbox_messages SET delivery_status = :status "
                            "WHERE id = :id AND state = 'sent' "
                            "AND delivery_status IS DISTINCT FROM :status"
                        ),
                        {"id": message_id, "status": report.status},
                    )

    async def _poll_replies(self, sender: Any) -> None:
        since = self._replies_since or (self.clock.now() - dt.timedelta(days=1))
        replies = sorted(await sender.inbound(since), key=lambda reply: reply.received_at)
        for reply in replies:
            intent = rules.reply_intent(reply.body)
            if intent is not None:
                changed = await self._record_reply(
                    reply.provider_id, reply.sender, reply.body, intent.value, reply.received_at
                )
                if changed:
                    log.info(
                        "reply %s from %s: %s", reply.provider_id, _masked(reply.sender), intent
                    )
            since = max(since, reply.received_at)
        self._replies_since = since

    async def _record_reply(
        self, provider_id: str, sender: str, body: str, intent: str, at: dt.datetime
    ) -> int:
        async with self.sessions() as session, session.begin():
            changed = await session.scalar(
                text("SELECT dispatch_sms_reply(:id, :sender, :body, :intent, :at)"),
                {"id": provider_id, "sender": sender, "body": body, "intent": intent, "at": at},
            )
        return int(changed or 0)

    # -- the heartbeat --------------------------------------------------------------------
    async def beat(self, *, stopped: bool = False) -> None:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO worker_heartbeats (name, started_at, beat_at, stopped_at, sent, "
                    "failed) VALUES (:name, :started, :now, :stopped, :sent, :failed) "
                    "ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, "
                    "stopped_at = excluded.stopped_at, sent = excluded.sent, "
                    "failed = excluded.failed, started_at = excluded.started_at"
                ),
                {
                    "name": self.name,
                    "started": self._started_at or now,
                    "now": now,
                    "stopped": now if stopped else None,
                    "sent": self.sent,
                    "failed": self.failed,
                },
            )


def _sentence(failure: BaseException) -> str:
    if isinstance(failure, TimeoutError):
        return "The provider did not answer in time."
    said = str(failure).strip() or type(failure).__name__
    return said.splitlines()[0][:1000]


def _masked(recipient: str) -> str:
    """A recipient for the log: enough to tell messages apart, not a customer list."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:2]}…@{domain}"
    return f"…{recipient[-4:]}" if len(recipient) > 4 else recipient
