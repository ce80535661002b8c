"""The follow-up rules as the worker runs them, on the company's clock.

Each kind of rule is one query for the occasions that fell due by now (a work order
untouched since Tuesday 09:00, a job completed on Friday, an agreement ending in
January); the manager's rule row says how long to wait, whether an occasion makes a
task, a customer message or both, and whom the task goes to. An occasion has a name
(``stale_work_order:12:1764579600``) that is the task's unique ``occasion`` and the
message's idempotency key, so running the rules every minute, on two workers at once,
or after a restart makes each task and each message once.

Occasions are looked for only while fresh (``RECENT`` after they fell due): turning a
rule on does not dig up last year's cancellations. A task the world has moved past (the
work order was touched, invoiced, or the caller booked anyway) is closed as no longer
needed; one that was snoozed comes back when its time is up.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.follow_ups import RuleKind
from dispatch_app.services.outbox.queue import company_settings, company_zone, queue_message

log = logging.getLogger("dispatch_app.worker")

Sessions = async_sessionmaker[AsyncSession]

# How long after it fell due an occasion is still acted on.
RECENT = dt.timedelta(days=14)
# A customer asked for a review, or offered a plan, is not asked again this soon.
REVIEW_AGAIN_AFTER = dt.timedelta(days=90)
OFFER_AGAIN_AFTER = dt.timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    enabled: bool
    wait: dt.timedelta
    makes_task: bool
    sends_message: bool
    assign_to: str | None


@dataclass(slots=True)
class RulesRun:
    """What one run did, per kind."""

    tasks: dict[RuleKind, int] = field(default_factory=dict)
    messages: dict[RuleKind, int] = field(default_factory=dict)
    closed: int = 0
    woken: int = 0

    @property
    def total_tasks(self) -> int:
        return sum(self.tasks.values())

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


# When each occasion of a work order's status was reached: its status step, else its
# last change (a status set from psql has no step).
_REACHED = """coalesce((SELECT max(s.changed_at) FROM status_history s
    WHERE s.work_order_id = w.id AND s.visit_id IS NULL AND s.to_status = '{status}'),
    w.updated_at)"""

# Each query returns: occasion, customer_id, work_order_id, agreement_id, due_at, and
# what the task says (number, customer, extra). ``:now``, ``:wait``, ``:since`` (now less
# RECENT) and ``:zone`` are bound.
_OCCASIONS: dict[RuleKind, str] = {
    RuleKind.STALE_WORK_ORDER: """
        SELECT 'stale_work_order:' || w.id || ':' || floor(extract(epoch FROM w.updated_at))::bigint
                   AS occasion,
               w.customer_id, w.id AS work_order_id, NULL::bigint AS agreement_id,
               w.updated_at + :wait AS due_at, w.number, c.name AS customer, j.name AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        JOIN job_types j ON j.id = w.job_type_id
        WHERE w.status = 'new' AND w.updated_at + :wait <= :now
          AND (w.agreement_due_on IS NULL
               OR w.agreement_due_on <= (CAST(:now AS timestamptz) AT TIME ZONE :zone)::date)
    """,
    RuleKind.NOT_CLOSED: f"""
        SELECT 'not_closed:' || w.id AS occasion, w.customer_id, w.id AS work_order_id,
               NULL::bigint AS agreement_id,
               (date_trunc('day', {_REACHED.format(status="completed")} AT TIME ZONE :zone)
                + interval '1 day') AT TIME ZONE :zone + :wait AS due_at,
               w.number, c.name AS customer, j.name AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        JOIN job_types j ON j.id = w.job_type_id
        WHERE w.status = 'completed'
    """,
    RuleKind.CANCELLATION: f"""
        SELECT 'cancellation:' || w.id AS occasion, w.customer_id, w.id AS work_order_id,
               NULL::bigint AS agreement_id,
               {_REACHED.format(status="cancelled")} + :wait AS due_at,
               w.number, c.name AS customer, coalesce(w.cancel_reason, '') AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        WHERE w.status = 'cancelled'
    """,
    RuleKind.NO_SHOW: f"""
        SELECT 'no_show:' || w.id AS occasion, w.customer_id, w.id AS work_order_id,
               NULL::bigint AS agreement_id,
               {_REACHED.format(status="no_show")} + :wait AS due_at,
               w.number, c.name AS customer, coalesce(w.cancel_reason, '') AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        WHERE w.status = 'no_show'
    """,
    # Completed: the job is done whatever the paperwork says since.
    RuleKind.REVIEW_REQUEST: f"""
        SELECT 'review_request:' || w.id AS occasion, w.customer_id, w.id AS work_order_id,
               NULL::bigint AS agreement_id,
               {_REACHED.format(status="completed")} + :wait AS due_at,
               w.number, c.name AS customer, j.name AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        JOIN job_types j ON j.id = w.job_type_id
        WHERE w.status IN ('completed', 'invoiced', 'closed')
          AND NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.customer_id = w.customer_id
                          AND m.event = 'review_request' AND m.state <> 'cancelled'
                          AND m.work_order_id <> w.id
                          AND m.created_at > CAST(:now AS timestamptz) - :review_again)
    """,
    # A repair: a completed job that was not an agreement's visit, for a customer who has
    # no agreement running.
    RuleKind.MAINTENANCE_OFFER: f"""
        SELECT 'maintenance_offer:' || w.id AS occasion, w.customer_id,
               w.id AS work_order_id, NULL::bigint AS agreement_id,
               {_REACHED.format(status="completed")} + :wait AS due_at,
               w.number, c.name AS customer, j.name AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        JOIN job_types j ON j.id = w.job_type_id
        WHERE w.status IN ('completed', 'invoiced', 'closed') AND w.agreement_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.customer_id = w.customer_id
                          AND a.ends_on > (CAST(:now AS timestamptz) AT TIME ZONE :zone)::date)
          AND NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.customer_id = w.customer_id
                          AND m.event = 'maintenance_offer' AND m.state <> 'cancelled'
                          AND m.work_order_id <> w.id
                          AND m.created_at > CAST(:now AS timestamptz) - :offer_again)
    """,
    # A year since the customer's last finished job, with nothing booked since and no
    # agreement (an agreement books its own visits).
    RuleKind.ANNUAL_REMINDER: f"""
        SELECT 'annual_reminder:' || w.id AS occasion, w.customer_id, w.id AS work_order_id,
               NULL::bigint AS agreement_id,
               {_REACHED.format(status="completed")} + :wait AS due_at,
               w.number, c.name AS customer, j.name AS extra
        FROM work_orders w JOIN customers c ON c.id = w.customer_id
        JOIN job_types j ON j.id = w.job_type_id
        WHERE w.status IN ('completed', 'invoiced', 'closed')
          AND NOT EXISTS (SELECT 1 FROM work_orders later WHERE later.customer_id = w.customer_id
                          AND later.id <> w.id AND later.created_at > w.created_at
                          AND later.status NOT IN ('cancelled', 'no_show'))
          AND NOT EXISTS (SELECT 1 FROM agreements a WHERE a.customer_id = w.customer_id
                          AND a.ends_on > (CAST(:now AS timestamptz) AT TIME ZONE :zone)::date)
    """,
    # Before an agreement ends, unless the customer already has one starting by then.
    RuleKind.AGREEMENT_RENEWAL: """
        SELECT 'agreement_renewal:' || a.id AS occasion, a.customer_id,
               NULL::bigint AS work_order_id, a.id AS agreement_id,
               (a.ends_on::timestamp AT TIME ZONE :zone) - :wait AS due_at,
               a.name AS number, c.name AS customer, to_char(a.ends_on, 'Mon FMDD, YYYY') AS extra
        FROM agreements a JOIN customers c ON c.id = a.customer_id
        WHERE NOT EXISTS (SELECT 1 FROM agreements later WHERE later.customer_id = a.customer_id
                          AND later.id <> a.id AND later.ends_on > a.ends_on
                          AND later.starts_on <= a.ends_on)
    """,
}


def _title(kind: RuleKind, row: Any) -> tuple[str, str]:
    """What the task says: its title, and the line under it."""
    number, customer, extra = row.number, row.customer, row.extra or ""
    match kind:
        case RuleKind.STALE_WORK_ORDER:
            return f"{number} untouched: move it forward", f"{customer} · {extra}"
        case RuleKind.NOT_CLOSED:
            return f"{number} completed but not invoiced", f"{customer} · {extra}"
        case RuleKind.CANCELLATION:
            return f"Win back {customer} ({number} cancelled)", extra
        case RuleKind.NO_SHOW:
            return f"Rebook {customer} ({number}: nobody home)", extra
        case RuleKind.REVIEW_REQUEST:
            return f"Ask {customer} for a review ({number})", extra
        case RuleKind.MAINTENANCE_OFFER:
            return f"Offer {customer} a maintenance plan", f"After {number} · {extra}"
        case RuleKind.ANNUAL_REMINDER:
            return f"Annual service due for {customer}", f"Last job {number} · {extra}"
        case RuleKind.AGREEMENT_RENEWAL:
            return f"Renew {customer}'s {number}", f"Ends {extra}"
        case _:
            return f"Follow up with {customer}", extra


async def load_rules(session: AsyncSession) -> dict[RuleKind, Rule]:
    rows = await session.execute(
        text(
            "SELECT kind, enabled, wait_hours, makes_task, sends_message, assign_to "
            "FROM follow_up_rules"
        )
    )
    return {
        RuleKind(r.kind): Rule(
            RuleKind(r.kind),
            r.enabled,
            dt.timedelta(hours=r.wait_hours),
            r.makes_task,
            r.sends_message,
            r.assign_to,
        )
        for r in rows
    }


async def run_rules(sessions: Sessions, *, clock: Clock) -> RulesRun:
    """Make the tasks and queue the messages every enabled rule says are due now."""
    now = clock.now()
    done = RulesRun()
    async with sessions() as session, session.begin():
        settings = await company_settings(session)
        zone = company_zone(settings)
        rules = await load_rules(session)
        done.woken = await _wake_snoozed(session, now)
        done.closed = await _close_obsolete(session)
    for kind, query in _OCCASIONS.items():
        rule = rules.get(kind)
        if rule is None or not rule.enabled or not (rule.makes_task or rule.sends_message):
            continue
        # One transaction per rule: a refusal in one (a message the database will not
        # queue) does not hold back the others.
        async with sessions() as session, session.begin():
            tasks, messages = await _run_rule(session, rule, query, now=now, zone=zone, clock=clock)
        done.tasks[kind] = tasks
        done.messages[kind] = messages
    if done.total_tasks or done.total_messages or done.closed:
        log.info(
            "follow-up rules: %s task(s), %s message(s) queued, %s closed as no longer needed",
            done.total_tasks,
            done.total_messages,
            done.closed,
        )
    return done


async def _run_rule(
    session: AsyncSession,
    rule: Rule,
    query: str,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    clock: Clock,
) -> tuple[int, int]:
    params: dict[str, Any] = {
        "now": now,
        "wait": rule.wait,
        "zone": zone.key,
        "review_again": REVIEW_AGAIN_AFTER,
        "offer_again": OFFER_AGAIN_AFTER,
        "since": now - RECENT,
    }
    occasions = (
        await session.execute(
            text(f"SELECT * FROM ({query}) o WHERE o.due_at <= :now AND o.due_at > :since"),
            params,
        )
    ).all()
    tasks = messages = 0
    event = rule.kind.message_event
    for row in occasions:
        if rule.makes_task:
            title, detail = _title(rule.kind, row)
            made = await session.scalar(
                text(
                    "INSERT INTO follow_ups (kind, occasion, customer_id, work_order_id, "
                    "agreement_id, title, detail, due_at, assigned_to) VALUES (:kind, "
                    ":occasion, :customer, :order, :agreement, :title, :detail, :due, :who) "
                    "ON CONFLICT (occasion) DO NOTHING RETURNING id"
                ),
                {
                    "kind": rule.kind.value,
                    "occasion": row.occasion,
                    "customer": row.customer_id,
                    "order": row.work_order_id,
                    "agreement": row.agreement_id,
                    "title": title[:200],
                    "detail": detail[:2000],
                    "due": row.due_at,
                    "who": rule.assign_to,
                },
            )
            tasks += made is not None
        if rule.sends_message and event is not None and row.customer_id is not None:
            queued = await queue_message(
                session,
                customer_id=row.customer_id,
                event=event,
                key=row.occasion,
                clock=clock,
                work_order_id=row.work_order_id,
            )
            messages += len(queued)
    return tasks, messages


async def _wake_snoozed(session: AsyncSession, now: dt.datetime) -> int:
    result = await session.execute(
        text("UPDATE follow_ups SET state = 'open' WHERE state = 'snoozed' AND due_at <= :now"),
        {"now": now},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Tasks the world has moved past. A stale work order's task names the change it went
# stale after; any later change (or a status other than new) ends it.
_OBSOLETE = """
UPDATE follow_ups f SET state = 'done', outcome = 'obsolete'
WHERE f.state <> 'done' AND (
    (f.kind = 'stale_work_order' AND EXISTS (
        SELECT 1 FROM work_orders w WHERE w.id = f.work_order_id
        AND (w.status <> 'new' OR f.occasion <> 'stale_work_order:' || w.id || ':'
             || floor(extract(epoch FROM w.updated_at))::bigint)))
 OR (f.kind = 'not_closed' AND EXISTS (
        SELECT 1 FROM work_orders w WHERE w.id = f.work_order_id AND w.status <> 'completed'))
 OR (f.kind = 'missed_call' AND EXISTS (
        SELECT 1 FROM leads l JOIN customer_phones p ON p.number = l.phone
        JOIN work_orders w ON w.customer_id = p.customer_id
        WHERE l.id = f.lead_id AND w.created_at >= l.received_at))
 OR (f.kind = 'agreement_renewal' AND EXISTS (
        SELECT 1 FROM agreements a JOIN agreements later ON later.customer_id = a.customer_id
        WHERE a.id = f.agreement_id AND later.id <> a.id AND later.ends_on > a.ends_on
          AND later.starts_on <= a.ends_on))
)
"""


async def _close_obsolete(session: AsyncSession) -> int:
    result = await session.execute(text(_OBSOLETE))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
