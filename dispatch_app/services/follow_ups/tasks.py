"""The follow-ups list: what is due, whose it is, and finishing or snoozing a task; and
the rules a manager tunes.

Finishing says how it went: done, or for a cancellation or a no-show recovered or lost
(lost with the reason); snoozing says why and until when. The database stamps who
finished a task and when, and refuses to change it after (migration 0010).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import Customer, FollowUp, FollowUpRule, WorkOrder
from dispatch_app.domain.clock import Clock
from dispatch_app.domain.follow_ups import FollowUpOutcome, FollowUpState, RuleKind
from dispatch_app.domain.ids import require_row_id
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.day_board import business_timezone

Sessions = async_sessionmaker[AsyncSession]

MAX_REASON = 500
# Won back or not: the outcomes of a call after a cancellation or a no-show.
_WIN_BACK = frozenset({RuleKind.CANCELLATION, RuleKind.NO_SHOW})


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    id: int
    version: int
    kind: RuleKind
    title: str
    detail: str
    due_at: dt.datetime
    assigned_to: str | None
    state: FollowUpState
    outcome: FollowUpOutcome | None
    reason: str | None
    done_at: dt.datetime | None
    done_by: str | None
    customer_id: int | None
    customer_name: str | None
    work_order_id: int | None
    work_order_number: str | None
    lead_id: int | None

    def overdue(self, now: dt.datetime) -> bool:
        return self.state != FollowUpState.DONE and self.due_at <= now

    @property
    def wins_back(self) -> bool:
        """Finished as recovered or lost, not just done."""
        return self.kind in _WIN_BACK


async def list_follow_ups(
    sessions: Sessions,
    *,
    assigned_to: str | None = None,
    include_done: bool = False,
    limit: int = 500,
) -> list[FollowUpRow]:
    """Open and snoozed tasks by due time (then, when asked, the latest finished)."""
    query = (
        select(FollowUp, Customer.name, WorkOrder.number)
        .outerjoin(Customer, Customer.id == FollowUp.customer_id)
        .outerjoin(WorkOrder, WorkOrder.id == FollowUp.work_order_id)
        .order_by((FollowUp.state == FollowUpState.DONE.value), FollowUp.due_at, FollowUp.id)
        .limit(limit)
    )
    if not include_done:
        query = query.where(FollowUp.state != FollowUpState.DONE.value)
    if assigned_to is not None:
        query = query.where(FollowUp.assigned_to == assigned_to)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [_row(task, customer, number) for task, customer, number in rows]


async def follow_ups_zone(sessions: Sessions) -> ZoneInfo:
    """The company's time zone: the one a task's due time is read in."""
    async with sessions() as session:
        return await business_timezone(session)


def _row(task: FollowUp, customer: str | None, number: str | None) -> FollowUpRow:
    return FollowUpRow(
        id=task.id,
        version=task.version,
        kind=RuleKind(task.kind),
        title=task.title,
        detail=task.detail,
        due_at=task.due_at,
        assigned_to=task.assigned_to,
        state=FollowUpState(task.state),
        outcome=FollowUpOutcome(task.outcome) if task.outcome else None,
        reason=task.reason,
        done_at=task.done_at,
        done_by=task.done_by,
        customer_id=task.customer_id,
        customer_name=customer,
        work_order_id=task.work_order_id,
        work_order_number=number,
        lead_id=task.lead_id,
    )


def _reason(reason: str | None) -> str | None:
    cleaned = " ".join((reason or "").split())
    if "\x00" in cleaned:
        raise ValidationError({"reason": "The reason has a character that cannot be stored."})
    if len(cleaned) > MAX_REASON:
        raise ValidationError({"reason": f"Keep the reason under {MAX_REASON} characters."})
    return cleaned or None


async def _change(
    sessions: Sessions, follow_up_id: int, seen_version: int, **values: object
) -> None:
    require_row_id(follow_up_id, "follow-up")
    async with sessions() as session, session.begin():
        current = await session.get(FollowUp, follow_up_id)
        if current is None:
            raise ConflictError("That follow-up is gone.")
        if current.state == FollowUpState.DONE.value:
            raise ConflictError(
                f'"{current.title}" was already finished by {current.done_by} — nothing changed.'
            )
        result = await session.execute(
            update(FollowUp)
            .where(FollowUp.id == follow_up_id, FollowUp.version == seen_version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(
                f'"{current.title}" was changed by someone else meanwhile — look again.'
            )


async def finish_follow_up(
    sessions: Sessions,
    follow_up_id: int,
    seen_version: int,
    *,
    outcome: FollowUpOutcome = FollowUpOutcome.DONE,
    reason: str | None = None,
) -> None:
    """Mark a task finished: done, or recovered / lost (lost says why)."""
    why = _reason(reason)
    if outcome == FollowUpOutcome.OBSOLETE:
        raise ValidationError({"outcome": "Only the rules close a task as no longer needed."})
    if outcome == FollowUpOutcome.LOST and why is None:
        raise ValidationError({"reason": "Say why the customer was lost."})
    await _change(
        sessions,
        follow_up_id,
        seen_version,
        state=FollowUpState.DONE.value,
        outcome=outcome.value,
        reason=why,
    )


async def snooze_follow_up(
    sessions: Sessions,
    follow_up_id: int,
    seen_version: int,
    *,
    until: dt.datetime,
    reason: str,
    clock: Clock,
) -> None:
    """Put a task off until ``until``, saying why; it comes back due then."""
    why = _reason(reason)
    if why is None:
        raise ValidationError({"reason": 'Say why it waits ("customer away until Monday").'})
    if until.tzinfo is None or until <= clock.now():
        raise ValidationError({"until": "Snooze it until a time still to come."})
    if until - clock.now() > dt.timedelta(days=366):
        raise ValidationError({"until": "Snooze it for a year at most."})
    await _change(
        sessions,
        follow_up_id,
        seen_version,
        state=FollowUpState.SNOOZED.value,
        due_at=until,
        reason=why,
    )


async def assign_follow_up(
    sessions: Sessions, follow_up_id: int, seen_version: int, *, to: str | None
) -> None:
    who = (to or "").strip() or None
    if who is not None and len(who) > 200:
        raise ValidationError({"assigned_to": "That is not a login name."})
    await _change(sessions, follow_up_id, seen_version, assigned_to=who)


# -- the rules -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RuleRow:
    id: int
    version: int
    kind: RuleKind
    enabled: bool
    wait_hours: int
    makes_task: bool
    sends_message: bool
    assign_to: str | None


async def follow_up_rules(sessions: Sessions) -> list[RuleRow]:
    """The rules in the order the editor shows them."""
    async with sessions() as session:
        rules = {RuleKind(r.kind): r for r in (await session.scalars(select(FollowUpRule))).all()}
    return [
        RuleRow(
            r.id,
            r.version,
            kind,
            r.enabled,
            r.wait_hours,
            r.makes_task,
            r.sends_message,
            r.assign_to,
        )
        for kind in RuleKind
        if (r := rules.get(kind)) is not None
    ]


async def save_rule(
    sessions: Sessions,
    rule_id: int,
    seen_version: int,
    *,
    enabled: bool,
    wait_hours: int,
    makes_task: bool,
    sends_message: bool,
    assign_to: str | None,
) -> None:
    """A manager's change to one rule."""
    require_row_id(rule_id, "rule")
    if not 0 <= wait_hours <= 17_520:
        raise ValidationError({"wait_hours": "Wait 0 to 17,520 hours (two years)."})
    who = (assign_to or "").strip() or None
    async with sessions() as session, session.begin():
        rule = await session.get(FollowUpRule, rule_id)
        if rule is None:
            raise ConflictError("That rule is gone.")
        kind = RuleKind(rule.kind)
        if sends_message and kind.message_event is None:
            raise ValidationError({"sends_message": f"“{kind.label}” has no customer message."})
        if kind == RuleKind.MISSED_CALL and not makes_task and enabled:
            raise ValidationError(
                {"makes_task": "A missed call is followed up by a callback task."}
            )
        result = await session.execute(
            update(FollowUpRule)
            .where(FollowUpRule.id == rule_id, FollowUpRule.version == seen_version)
            .values(
                enabled=enabled,
                wait_hours=wait_hours,
                makes_task=makes_task,
                sends_message=sends_message,
                assign_to=who,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(f"“{kind.label}” was changed by someone else — look again.")
