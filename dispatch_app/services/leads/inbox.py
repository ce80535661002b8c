"""The Leads inbox's operations: the list a CSR works (callbacks due first), a callback
tried, an outcome set, a lead taken, and the leak figures for its header.

Booking a lead is the call intake's ``book_call`` with ``CallBooking.lead_id``: the
work order and the lead's "booked" are written in one transaction there. Every write
here names the version the user saw; a lead changed meanwhile is a ``ConflictError``
and nothing is written. The database keeps the rest: it stamps ``last_attempt_at``,
never lets a try be undone, and closes a lead's callback when it leaves "open".

Threading contract: coroutines for the app's event loop. No Qt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Row, ScalarSelect, Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import Customer, FollowUp, Lead, WorkOrder
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, local_now
from dispatch_app.domain.follow_ups import FollowUpState, RuleKind
from dispatch_app.domain.ids import require_row_id, require_version
from dispatch_app.domain.leads import NO_ANSWER_AFTER, LeadOutcome, LeadSource, Leak
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.text_rules import LINE, SHORT_TEXT, checked_text
from dispatch_app.errors import ConflictError, NoSuchRecord, UserFacingError, ValidationError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.leads.leak import leak_figures

Sessions = async_sessionmaker[AsyncSession]

LISTED = 500
# What a CSR may set by hand; "booked" only comes with a work order (book_call).
SETTABLE = (
    LeadOutcome.OPEN,
    LeadOutcome.NOT_INTERESTED,
    LeadOutcome.SPAM,
    LeadOutcome.NO_ANSWER,
)
GONE = "That lead is no longer on file."


@dataclass(frozen=True, slots=True)
class LeadRow:
    """A lead as the inbox shows it, with its customer, work order and open callback."""

    id: int
    version: int
    source: LeadSource
    phone: str | None
    email: str | None
    name: str
    received_at: dt.datetime
    request: str
    owner: str | None
    outcome: LeadOutcome
    outcome_note: str | None
    attempts: int
    last_attempt_at: dt.datetime | None
    customer_id: int | None
    customer_name: str | None
    work_order_id: int | None
    work_order_number: str | None
    callback_due_at: dt.datetime | None  # the open missed-call follow-up's, if any

    @property
    def is_open(self) -> bool:
        return self.outcome is LeadOutcome.OPEN

    @property
    def callback_open(self) -> bool:
        """A missed caller waiting to be called back: the top of the inbox."""
        return self.is_open and self.callback_due_at is not None

    @property
    def caller(self) -> str:
        """Who called, as a CSR says it: the name given, else the number or address."""
        if self.name:
            return self.name
        if self.phone:
            return display_phone(self.phone)
        return self.email or ""

    def overdue(self, now: dt.datetime) -> bool:
        due = self.callback_due_at
        return self.is_open and due is not None and due < now


@dataclass(frozen=True, slots=True)
class LeakHeader:
    """The inbox's header: the company's time zone and this week's and month's leak."""

    zone: ZoneInfo
    week: Leak
    month: Leak


def _callback_due() -> ScalarSelect[dt.datetime]:
    return (
        select(func.min(FollowUp.due_at))
        .where(
            FollowUp.lead_id == Lead.id,
            FollowUp.kind == RuleKind.MISSED_CALL.value,
            FollowUp.state != FollowUpState.DONE.value,
        )
        .correlate(Lead)
        .scalar_subquery()
    )


def _rows_query() -> Select[Lead, str | None, str | None, dt.datetime | None]:
    return (
        select(Lead, Customer.name, WorkOrder.number, _callback_due().label("callback_due"))
        .outerjoin(Customer, Customer.id == Lead.customer_id)
        .outerjoin(WorkOrder, WorkOrder.id == Lead.work_order_id)
    )


def _row(found: Row[Lead, str | None, str | None, dt.datetime | None]) -> LeadRow:
    lead, customer_name, number, due = found
    return LeadRow(
        id=lead.id,
        version=lead.version,
        source=LeadSource(lead.source),
        phone=lead.phone,
        email=lead.email,
        name=lead.name,
        received_at=lead.received_at,
        request=lead.request,
        owner=lead.owner,
        outcome=LeadOutcome(lead.outcome),
        outcome_note=lead.outcome_note,
        attempts=lead.attempts,
        last_attempt_at=lead.last_attempt_at,
        customer_id=lead.customer_id,
        customer_name=customer_name,
        work_order_id=lead.work_order_id,
        work_order_number=number,
        callback_due_at=due if lead.outcome == LeadOutcome.OPEN.value else None,
    )


async def list_leads(
    sessions: Sessions,
    *,
    since: dt.datetime,
    include_closed: bool = False,
    limit: int = LISTED,
) -> list[LeadRow]:
    """The inbox: open callbacks first (soonest due first), then the other open leads
    (newest first), then, with ``include_closed``, the closed ones received from
    ``since`` on (newest first). An open lead is listed however old it is: it is work
    nobody has done yet."""
    if since.tzinfo is None:
        raise ValueError("since is a moment with a time zone")
    due = _callback_due()
    is_open = Lead.outcome == LeadOutcome.OPEN.value
    group = case((and_(is_open, due.is_not(None)), 0), (is_open, 1), else_=2)
    wanted = or_(is_open, Lead.received_at >= since) if include_closed else is_open
    query = (
        _rows_query()
        .where(wanted)
        .order_by(
            group,
            case((group == 0, due)).asc().nulls_last(),
            Lead.received_at.desc(),
            Lead.id.desc(),
        )
        .limit(max(1, limit))
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [_row(row) for row in rows]


async def lead_of_work_order(sessions: Sessions, work_order_id: int) -> LeadRow | None:
    """The lead a work order was booked from, if it was (the editor's "From lead")."""
    require_row_id(work_order_id, "work order")
    async with sessions() as session:
        found = (
            await session.execute(_rows_query().where(Lead.work_order_id == work_order_id))
        ).first()
    return _row(found) if found is not None else None


async def _read(session: AsyncSession, lead_id: int) -> LeadRow | None:
    # populate_existing: the lead read (and locked) before the write is read afresh.
    query = _rows_query().where(Lead.id == lead_id).execution_options(populate_existing=True)
    found = (await session.execute(query)).first()
    return _row(found) if found is not None else None


async def _locked(session: AsyncSession, lead_id: int, seen_version: int, doing: str) -> Lead:
    """The lead, held until the transaction ends, if it is still as the user saw it."""
    lead = await session.scalar(select(Lead).where(Lead.id == lead_id).with_for_update())
    if lead is None:
        raise NoSuchRecord(GONE)
    if lead.version != seen_version:
        raise ConflictError(_changed_sentence(lead, doing))
    return lead


def _changed_sentence(lead: Lead, doing: str) -> str:
    who = lead.name or (display_phone(lead.phone) if lead.phone else lead.email or "this caller")
    return (
        f"The lead from {who} was changed by someone else meanwhile; {doing} was not "
        "saved. Look at it again."
    )


async def _write(
    sessions: Sessions,
    lead_id: int,
    seen_version: int,
    doing: str,
    change: Callable[[Lead], dict[str, object]],
) -> LeadRow:
    """``change(lead)``'s values written to the lead, if it is still at ``seen_version``
    (``change`` may refuse with a sentence); the lead as it is now."""
    require_row_id(lead_id, "lead")
    require_version(seen_version, "lead")
    async with sessions() as session:
        async with session.begin():
            lead = await _locked(session, lead_id, seen_version, doing)
            await session.execute(
                update(Lead)
                .where(Lead.id == lead_id)
                .values(**change(lead))
                .execution_options(synchronize_session=False)
            )
        row = await _read(session, lead_id)
    if row is None:
        raise NoSuchRecord(GONE)
    return row


def _closed(lead: Lead) -> str:
    return LeadOutcome(lead.outcome).label.lower()


async def record_attempt(
    sessions: Sessions, lead_id: int, seen_version: int, *, reached: bool
) -> LeadRow:
    """A callback was tried: one more try counted (the database stamps when). Not
    reached on the ``NO_ANSWER_AFTER``-th try, the lead closes as "no answer"."""

    def change(lead: Lead) -> dict[str, object]:
        if lead.outcome != LeadOutcome.OPEN.value:
            raise UserFacingError(
                f"This lead is closed ({_closed(lead)}); reopen it before calling back."
            )
        outcome = lead.outcome
        if not reached and lead.attempts + 1 >= NO_ANSWER_AFTER:
            outcome = LeadOutcome.NO_ANSWER.value
        return {"attempts": Lead.attempts + 1, "outcome": outcome}

    return await _write(sessions, lead_id, seen_version, "the callback", change)


async def set_outcome(
    sessions: Sessions,
    lead_id: int,
    seen_version: int,
    outcome: LeadOutcome | str,
    note: str | None = None,
) -> LeadRow:
    """Close a lead (not interested, spam, no answer) with an optional note, or open it
    again. A lead is booked only by booking its call, and a booked one stays booked."""
    try:
        chosen = LeadOutcome(outcome)
    except ValueError:
        raise ValidationError({"outcome": f"{outcome!r} is not an outcome of a lead."}) from None
    if chosen is LeadOutcome.BOOKED:
        raise ValidationError(
            {"outcome": "A lead is booked by booking its call: use Book call… on it."}
        )
    text, problem = checked_text("The note", note or "", SHORT_TEXT)
    if problem:
        raise ValidationError({"outcome_note": problem})

    def change(lead: Lead) -> dict[str, object]:
        if lead.outcome == LeadOutcome.BOOKED.value:
            raise UserFacingError(
                "This lead is booked; it stays booked. Cancel its work order instead if "
                "the job is off."
            )
        return {"outcome": chosen.value, "outcome_note": text or None}

    return await _write(sessions, lead_id, seen_version, f"“{chosen.label}”", change)


async def assign_owner(
    sessions: Sessions, lead_id: int, seen_version: int, owner: str | None
) -> LeadRow:
    """Who works the lead (a login name), or nobody."""
    text, problem = checked_text("The owner", owner or "", LINE)
    if problem:
        raise ValidationError({"owner": problem})
    return await _write(
        sessions, lead_id, seen_version, "the owner", lambda _lead: {"owner": text or None}
    )


# -- the header -------------------------------------------------------------------------
def week_and_month(now: dt.datetime) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """This week (from Monday) and this month on ``now``'s wall clock, each as
    ``(since, until)``; midnights are found on the wall clock, so a daylight-saving
    change inside a period keeps its days whole."""
    zone = now.tzinfo
    today = now.date()
    monday = today - dt.timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_first = (first + dt.timedelta(days=32)).replace(day=1)

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone)

    return (
        (midnight(monday), midnight(monday + dt.timedelta(days=7))),
        (midnight(first), midnight(next_first)),
    )


async def leak_header(sessions: Sessions, *, clock: Clock = SYSTEM_CLOCK) -> LeakHeader:
    """The leak of this week's and this month's calls, in the company's time zone."""
    async with sessions() as session:
        zone = await business_timezone(session)
    week, month = week_and_month(local_now(clock, zone))
    return LeakHeader(
        zone=zone,
        week=await leak_figures(sessions, since=week[0], until=week[1]),
        month=await leak_figures(sessions, since=month[0], until=month[1]),
    )
