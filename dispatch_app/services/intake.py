"""Booking a call: the customer (found, or created from what the caller says), the
site, the work order and its first visit, in one unit of work.

Everything typed is checked before anything is written, and each problem comes back as
one sentence per field (``ValidationError.fields``), so the intake form can show it
beside the field and keep the rest of what was typed. A new work order reaches every
board through the change feed like any other change.

Threading contract: coroutines for the app's event loop; the ZIP index is loaded in a
worker thread. No Qt here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.engine import explain_permission_error
from dispatch_app.db.models import (
    Customer,
    CustomerPhone,
    Equipment,
    JobType,
    JobTypeQuestion,
    Lead,
    ServiceSite,
    Technician,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain import time_bounds
from dispatch_app.domain.addresses import normalise_state, normalise_zip
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.clock import today as clock_today
from dispatch_app.domain.geo import Place
from dispatch_app.domain.ids import is_row_id
from dispatch_app.domain.leads import LeadOutcome
from dispatch_app.domain.messages import Consent
from dispatch_app.domain.money import AmountError, parse_amount
from dispatch_app.domain.phones import display_phone, normalise_phone
from dispatch_app.domain.text_rules import LINE, LONG_TEXT, TEXT, checked_text, text_problem
from dispatch_app.domain.vocabulary import (
    Priority,
    QuestionKind,
    Trade,
    VisitStatus,
    WorkOrderSource,
    WorkOrderStatus,
)
from dispatch_app.domain.work_orders import (
    clean_answers,
    description_with_answers,
    field_errors,
)
from dispatch_app.errors import UserFacingError, ValidationError
from dispatch_app.services.day_board import business_timezone
from dispatch_app.services.map_positions import ZIP_CENTROIDS
from dispatch_app.services.visits import VisitMove, move_visits

# What the CSR types, by kind (see ``domain/text_rules``).
NAME_TEXT = LINE
ADDRESS_TEXT = LINE
ANSWER_TEXT = TEXT
NOT_ON_FILE = "That customer is no longer on file; look the caller up again."
NO_SUCH_SITE = "That customer has no such site."
LEAD_GONE = "That lead is no longer on file; book the call without it."
EQUIPMENT_ELSEWHERE = "That equipment is not at this site."
YES_NO = ("Yes", "No")
# The database's name for "one phone number, one customer".
UNIQUE_PHONE = "uq_customer_phones_number"


@dataclass(frozen=True, slots=True)
class IntakeQuestion:
    """One question a job type needs answered, as the company set it up."""

    prompt: str
    kind: QuestionKind
    choices: tuple[str, ...] = ()  # for CHOICE (YES_NO offers ``YES_NO``)
    required: bool = False

    def offered(self) -> tuple[str, ...]:
        """The answers to pick from; empty for free text and numbers."""
        if self.kind is QuestionKind.YES_NO:
            return YES_NO
        return self.choices if self.kind is QuestionKind.CHOICE else ()

    def problem(self, answer: str) -> str | None:
        """Why ``answer`` cannot stand as the answer, in one sentence (None: it can)."""
        answer, problem = checked_text(self.prompt, answer, ANSWER_TEXT)
        if problem:
            return problem
        if not answer:
            return f"Ask the caller: {self.prompt.rstrip('?')}." if self.required else None
        offered = self.offered()
        if offered and answer not in offered:
            return f"Answer {self.prompt!r} with one of: {', '.join(offered)}."
        if self.kind is QuestionKind.NUMBER:
            if answer.lstrip("$").lstrip().startswith(("-", "−")):
                return f"Answer {self.prompt!r} with a number of zero or more."
            try:
                # Read as any amount typed anywhere: 1,500 yes; 1,5 no.
                parse_amount(answer, label="The answer")
            except AmountError as error:
                return str(error)
        return None


@dataclass(frozen=True, slots=True)
class JobTypeChoice:
    """A job type as the intake offers it: its trade, length, price and questions."""

    id: int
    trade: Trade
    name: str
    minutes: int
    price: str  # "129.00"
    questions: tuple[IntakeQuestion, ...]


async def technician_names(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    """Every technician's name by id, for saying who an arrival window would be with."""
    async with sessions() as session:
        rows = await session.execute(select(Technician.id, Technician.name))
        return {tech_id: name for tech_id, name in rows}


async def intake_catalogue(sessions: async_sessionmaker[AsyncSession]) -> list[JobTypeChoice]:
    """The active job types grouped by trade (trade, then name), each with its questions."""
    async with sessions() as session:
        types = (
            await session.scalars(
                select(JobType).where(JobType.active).order_by(JobType.trade, JobType.name)
            )
        ).all()
        questions: dict[int, list[IntakeQuestion]] = {}
        for row in await session.scalars(
            select(JobTypeQuestion).order_by(JobTypeQuestion.job_type_id, JobTypeQuestion.position)
        ):
            questions.setdefault(row.job_type_id, []).append(
                IntakeQuestion(
                    row.prompt,
                    QuestionKind(row.kind),
                    tuple(str(choice) for choice in row.choices or ()),
                    row.required,
                )
            )
    return [
        JobTypeChoice(
            t.id,
            Trade(t.trade),
            t.name,
            t.default_duration_min,
            f"{t.default_price:.2f}",
            tuple(questions.get(t.id, ())),
        )
        for t in types
    ]


@dataclass(frozen=True, slots=True)
class NewCaller:
    """A caller who is not a customer yet, as the CSR typed them."""

    name: str
    phone: str
    street: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True, slots=True)
class NewSite:
    """Another address of a customer already on file (a rental, a parent's house)."""

    street: str
    city: str
    state: str
    zip: str
    label: str = "Home"


@dataclass(frozen=True, slots=True)
class Appointment:
    """When the visit is booked and the window promised to the customer."""

    starts: dt.datetime
    ends: dt.datetime
    arrive_from: dt.datetime
    arrive_until: dt.datetime
    technician_id: int | None = None  # None: dispatch chooses later


@dataclass(frozen=True, slots=True)
class CallBooking:
    job_type_id: int
    description: str
    customer_id: int | None = None  # a returning customer …
    site_id: int | None = None  # … at one of their sites (None: their first)
    new_site: NewSite | None = None  # … or at an address new to the company
    caller: NewCaller | None = None  # … or a new one
    priority: str = Priority.NORMAL.value
    source: str = WorkOrderSource.PHONE.value
    # The job type's questions and the caller's answers ("Age of system": "12 years").
    answers: Mapping[str, str] = field(default_factory=dict)
    appointment: Appointment | None = None  # None: waits in the queue for dispatch
    equipment_id: int | None = None  # the unit at the site the call is about
    # The intake's id for this call, kept across retries: if an earlier attempt was
    # written but its answer lost, the retry returns that booking instead of a second.
    call_id: uuid.UUID | None = None
    # What the caller agreed to be texted, as asked on the call; None keeps what is on
    # file (a new caller: nothing). The database stamps who recorded it and when.
    message_consent: Consent | None = None
    # The lead this call books (the Leads inbox's "Book call…"): in the same transaction
    # it becomes "booked" with this work order, and its callback closes.
    lead_id: int | None = None


@dataclass(frozen=True, slots=True)
class BookedCall:
    work_order_id: int
    number: str
    visit_id: int
    customer_id: int
    site_id: int
    assigned: bool  # False when the technician asked for could not take it after all
    note: str = ""  # why not, in one sentence


@dataclass(frozen=True, slots=True)
class _Address:
    """An address as it is stored, and where it is."""

    street: str
    city: str
    state: str
    zip: str
    place: Place | None


def _address_problems(
    street: str, city: str, state: str, zip_code: str, *, prefix: str = ""
) -> tuple[dict[str, str], _Address]:
    """Problems with an address (fields named ``prefix + "street"``…), and the address
    as stored."""
    problems: dict[str, str] = {}
    street, problem = checked_text("The street", street, ADDRESS_TEXT, required=True)
    if problem:
        problems[prefix + "street"] = problem
    city, problem = checked_text("The city", city, ADDRESS_TEXT, required=True)
    if problem:
        problems[prefix + "city"] = problem
    try:
        state = normalise_state(state)
    except ValueError as error:
        problems[prefix + "state"] = str(error)
    place = None
    try:
        zip_code = normalise_zip(zip_code)
    except ValueError as error:
        problems[prefix + "zip"] = str(error)
    else:
        place = ZIP_CENTROIDS.get(zip_code)
        if place is None:
            problems[prefix + "zip"] = f"ZIP code {zip_code} does not exist."
    return problems, _Address(street, city, state, zip_code, place)


def _caller_problems(caller: NewCaller) -> tuple[dict[str, str], str | None]:
    problems: dict[str, str] = {}
    problem = text_problem("The name", caller.name, NAME_TEXT, required=True)
    if problem:
        problems["name"] = problem
    phone = None
    try:
        phone = normalise_phone(caller.phone)
    except ValueError as error:
        problems["phone"] = str(error)
    return problems, phone


def _appointment_problems(
    appointment: Appointment, *, today: dt.date, tz: dt.tzinfo
) -> dict[str, str]:
    problem = time_bounds.booking_problem(
        appointment.starts, appointment.ends, today=today, tz=tz
    ) or time_bounds.arrival_window_problem(
        appointment.arrive_from, appointment.arrive_until, appointment.starts
    )
    return {"appointment": problem} if problem else {}


@dataclass(frozen=True, slots=True)
class _Typed:
    """The call's texts as they are stored (see ``domain/text_rules``)."""

    description: str  # with the answers, as the technician reads it
    answers: list[tuple[str, str]]
    name: str = ""  # a new caller's
    phone: str | None = None
    address: _Address | None = None  # a new caller's, or the new site's
    site_label: str = "Home"


async def book_call(
    sessions: async_sessionmaker[AsyncSession],
    booking: CallBooking,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> BookedCall:
    """Write the call as a complete work order; ``ValidationError`` before writing if not.

    ``clock`` says what today is: an appointment is booked within
    ``time_bounds.BOOKING_HORIZON`` of it.
    """
    problems = field_errors({"description": booking.description, "priority": booking.priority})
    if booking.source not in {s.value for s in WorkOrderSource}:
        problems["source"] = "The source must be phone, web, referral, repeat or lead."
    description, problem = checked_text("The description", booking.description, LONG_TEXT)
    if not description and not problem:
        problems["description"] = "Say what the problem is: the technician reads this first."
    answers, answer_problems = clean_answers(booking.answers)
    problems |= answer_problems
    full_description = description_with_answers(description, answers)
    if "description" not in problems and len(full_description) > LONG_TEXT.limit:
        problems["description"] = (
            f"The description with the answers is {len(full_description):,} characters "
            f"long; the limit is {LONG_TEXT.limit:,}."
        )
    typed = _Typed(full_description, answers)
    if (booking.customer_id is None) == (booking.caller is None):
        problems["customer"] = "Choose the customer, or fill in the new caller."
    elif booking.customer_id is not None and not is_row_id(booking.customer_id):
        problems["customer"] = NOT_ON_FILE
    if booking.site_id is not None and not is_row_id(booking.site_id):
        problems["site"] = NO_SUCH_SITE
    if booking.equipment_id is not None and not is_row_id(booking.equipment_id):
        problems["equipment"] = EQUIPMENT_ELSEWHERE
    technician = booking.appointment.technician_id if booking.appointment else None
    if technician is not None and not is_row_id(technician):
        problems["appointment"] = "Choose the technician from the offered windows."
    if booking.lead_id is not None and not is_row_id(booking.lead_id):
        problems["lead"] = LEAD_GONE
    await asyncio.to_thread(ZIP_CENTROIDS.load)
    if booking.caller is not None:
        caller = booking.caller
        caller_problems, phone = _caller_problems(caller)
        address_problems, address = _address_problems(
            caller.street, caller.city, caller.state, caller.zip
        )
        problems |= caller_problems | address_problems
        name, _problem = checked_text("The name", caller.name, NAME_TEXT)
        typed = dataclasses.replace(typed, name=name, phone=phone, address=address)
    if booking.new_site is not None:
        new = booking.new_site
        if booking.customer_id is None:
            problems["site"] = "A new address is for a customer already on file."
        address_problems, address = _address_problems(
            new.street, new.city, new.state, new.zip, prefix="site_"
        )
        problems |= address_problems
        label, problem = checked_text("The site's name", new.label, ADDRESS_TEXT)
        if problem:
            problems["site_label"] = problem
        typed = dataclasses.replace(typed, address=address, site_label=label or "Home")
    # The job type's own questions decide what must be asked and what an answer is; read
    # before writing, so every problem of the form comes back at once.
    earlier = None
    async with sessions() as session:
        if booking.appointment is not None:
            tz = await business_timezone(session)
            problems |= _appointment_problems(
                booking.appointment, today=clock_today(clock, tz), tz=tz
            )
        if booking.call_id is not None:
            earlier = await _earlier_booking(session, booking.call_id)
        if booking.lead_id is not None and "lead" not in problems:
            problem = await _lead_problem(session, booking.lead_id, booking.call_id)
            if problem:
                problems["lead"] = problem
        if typed.phone is not None:
            owner = await _phone_owner(session, typed.phone)
            if owner is not None:
                problems["phone"] = owner
        if (
            "customer" not in problems
            and booking.customer_id is not None
            and await _customer_row(session, booking.customer_id) is None
        ):
            problems["customer"] = NOT_ON_FILE
        job_type_found = None
        if is_row_id(booking.job_type_id):
            job_type_found = await session.get(JobType, booking.job_type_id)
        if job_type_found is None or not job_type_found.active:
            problems["job_type"] = "Choose a job type from the list."
        else:
            for row in await session.scalars(
                select(JobTypeQuestion).where(JobTypeQuestion.job_type_id == booking.job_type_id)
            ):
                asked = IntakeQuestion(
                    row.prompt, QuestionKind(row.kind), tuple(row.choices or ()), row.required
                )
                problem = asked.problem(booking.answers.get(row.prompt, ""))
                if problem:
                    problems[f"answer:{row.prompt}"] = problem
    if earlier is not None:  # this call was booked already; its answer was lost
        return await _assign(sessions, earlier, booking.appointment, clock)
    if problems:
        raise ValidationError(problems)

    try:
        written = await _write_booking(sessions, booking, typed)
    except IntegrityError as error:
        if _violated(error) == UNIQUE_PHONE and typed.phone is not None:
            # Another CSR added the same caller a moment ago: their booking stands.
            async with sessions() as session:
                owner = await _phone_owner(session, typed.phone)
            raise ValidationError(
                {"phone": owner or f"{display_phone(typed.phone)} was just added by someone else."}
            ) from None
        # The same call written meanwhile by another attempt (a double Enter over a slow
        # link): that booking stands.
        if booking.call_id is None:
            raise
        async with sessions() as session:
            earlier = await _earlier_booking(session, booking.call_id)
        if earlier is None:
            raise
        written = earlier
    return await _assign(sessions, written, booking.appointment, clock)


async def _phone_owner(session: AsyncSession, phone: str) -> str | None:
    """The sentence naming whose number ``phone`` already is, or ``None``."""
    owner = await session.scalar(
        select(Customer.name)
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.number == phone)
        .limit(1)
    )
    if owner is None:
        return None
    return (
        f"{display_phone(phone)} is already {owner}'s number: choose them in the "
        "list instead of adding them again."
    )


async def _lead_problem(
    session: AsyncSession, lead_id: int, call_id: uuid.UUID | None, *, lock: bool = False
) -> str | None:
    """Why the call cannot book this lead (gone, or booked already), or ``None``. A lead
    booked by this very call (a retry whose answer was lost) is no problem."""
    query = (
        select(Lead.outcome, WorkOrder.number, WorkOrder.call_id)
        .outerjoin(WorkOrder, WorkOrder.id == Lead.work_order_id)
        .where(Lead.id == lead_id)
    )
    if lock:
        query = query.with_for_update(of=Lead)
    found = (await session.execute(query)).first()
    if found is None:
        return LEAD_GONE
    outcome, number, booked_by = found
    if outcome == LeadOutcome.BOOKED.value and (call_id is None or booked_by != call_id):
        booked_as = number or "another work order"  # committed after this statement began
        return f"This lead is already booked as {booked_as}: open that work order instead."
    return None


def _violated(error: IntegrityError) -> str | None:
    """The name of the constraint an INSERT broke, as the server reports it."""
    diagnostics = getattr(error.orig, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


@dataclass(frozen=True, slots=True)
class _Written:
    """A booking as it stands in the database, before (or without) its technician."""

    work_order_id: int
    number: str
    visit_id: int
    visit_version: int
    customer_id: int
    site_id: int
    assigned: bool


async def _customer_row(
    session: AsyncSession, customer_id: int, *, lock: bool = False
) -> int | None:
    """The customer's id if they are on file; with ``lock``, they stay until the
    transaction ends (a key-share lock: their own edits are not held up)."""
    query = select(Customer.id).where(Customer.id == customer_id)
    if lock:
        query = query.with_for_update(key_share=True)
    return await session.scalar(query)


async def _earlier_booking(session: AsyncSession, call_id: uuid.UUID) -> _Written | None:
    row = (
        await session.execute(
            select(
                WorkOrder.id,
                WorkOrder.number,
                Visit.id,
                Visit.version,
                WorkOrder.customer_id,
                WorkOrder.site_id,
                select(VisitTechnician.id)
                .where(VisitTechnician.visit_id == Visit.id)
                .exists()
                .label("assigned"),
            )
            .join(Visit, Visit.work_order_id == WorkOrder.id)
            .where(WorkOrder.call_id == call_id)
            .order_by(Visit.sequence)
            .limit(1)
        )
    ).first()
    return _Written(*row) if row is not None else None


async def _write_booking(
    sessions: async_sessionmaker[AsyncSession], booking: CallBooking, typed: _Typed
) -> _Written:
    async with sessions() as session, session.begin():
        job_type = await session.get(JobType, booking.job_type_id)
        if job_type is None or not job_type.active:  # retired meanwhile
            raise ValidationError({"job_type": "Choose a job type from the list."})
        address = typed.address
        if booking.caller is not None:
            assert typed.phone is not None and address is not None and address.place
            customer = Customer(
                name=typed.name, message_consent=(booking.message_consent or Consent.NONE).value
            )
            session.add(customer)
            await session.flush()
            session.add(CustomerPhone(customer_id=customer.id, number=typed.phone))
            site = _site(customer.id, address)
            session.add(site)
            await session.flush()
            customer_id, site_id = customer.id, site.id
        elif booking.new_site is not None:  # a returning customer at another address
            assert booking.customer_id is not None and address is not None and address.place
            # Held until the site is written: a customer deleted since the form was
            # checked is said so, not met as a foreign-key violation.
            if await _customer_row(session, booking.customer_id, lock=True) is None:
                raise ValidationError({"customer": NOT_ON_FILE})
            site = _site(booking.customer_id, address, label=typed.site_label)
            session.add(site)
            await session.flush()
            customer_id, site_id = booking.customer_id, site.id
        else:
            assert booking.customer_id is not None
            query = select(ServiceSite.id).where(ServiceSite.customer_id == booking.customer_id)
            if booking.site_id is not None:
                query = query.where(ServiceSite.id == booking.site_id)
            found = await session.scalar(query.order_by(ServiceSite.id).limit(1))
            if found is None:
                raise ValidationError({"site": NO_SUCH_SITE})
            customer_id, site_id = booking.customer_id, found
        if booking.customer_id is not None and booking.message_consent is not None:
            # Only a change is written: an unchanged answer keeps the first stamp.
            await session.execute(
                update(Customer)
                .where(
                    Customer.id == customer_id,
                    Customer.message_consent != booking.message_consent.value,
                )
                .values(message_consent=booking.message_consent.value)
                .execution_options(synchronize_session=False)
            )
        if booking.equipment_id is not None:
            on_site = await session.scalar(
                select(Equipment.id).where(
                    Equipment.id == booking.equipment_id, Equipment.site_id == site_id
                )
            )
            if on_site is None:
                raise ValidationError({"equipment": EQUIPMENT_ELSEWHERE})

        appointment = booking.appointment
        order = WorkOrder(
            customer_id=customer_id,
            site_id=site_id,
            job_type_id=job_type.id,
            # The technician reads the answers with the problem.
            description=typed.description,
            answers=[[q, a] for q, a in typed.answers],
            equipment_id=booking.equipment_id,
            call_id=booking.call_id,
            priority=booking.priority,
            source=booking.source,
            status=(WorkOrderStatus.SCHEDULED if appointment else WorkOrderStatus.NEW).value,
            requested_start=appointment.arrive_from if appointment else None,
            requested_end=appointment.arrive_until if appointment else None,
        )
        session.add(order)
        await session.flush()
        visit = Visit(
            work_order_id=order.id,
            starts=appointment.starts if appointment else None,
            ends=appointment.ends if appointment else None,
            arrival_window_start=appointment.arrive_from if appointment else None,
            arrival_window_end=appointment.arrive_until if appointment else None,
            status=(VisitStatus.SCHEDULED if appointment else VisitStatus.UNSCHEDULED).value,
        )
        session.add(visit)
        await session.flush()
        if booking.lead_id is not None:
            # Held until commit: two CSRs booking the same lead, the second is told.
            problem = await _lead_problem(session, booking.lead_id, None, lock=True)
            if problem:
                raise ValidationError({"lead": problem})
            await session.execute(
                update(Lead)
                .where(Lead.id == booking.lead_id)
                .values(
                    outcome=LeadOutcome.BOOKED.value,
                    work_order_id=order.id,
                    customer_id=customer_id,
                )
                .execution_options(synchronize_session=False)
            )
        return _Written(
            order.id, order.number, visit.id, visit.version, customer_id, site_id, False
        )


def _site(customer_id: int, address: _Address, *, label: str = "Home") -> ServiceSite:
    assert address.place is not None
    return ServiceSite(
        customer_id=customer_id,
        label=label,
        street=address.street,
        city=address.city,
        state=address.state,
        zip=address.zip,
        lat=address.place[0],
        lon=address.place[1],
    )


async def _assign(
    sessions: async_sessionmaker[AsyncSession],
    written: _Written,
    appointment: Appointment | None,
    clock: Clock,
) -> BookedCall:
    """Give the booked visit its technician, if the CSR booked one and it has none yet."""
    booked = BookedCall(
        written.work_order_id,
        written.number,
        written.visit_id,
        written.customer_id,
        written.site_id,
        written.assigned,
    )
    if written.assigned or appointment is None or appointment.technician_id is None:
        return booked
    # A second step, with the board's own overlap check under the technicians' locks:
    # if someone took the slot meanwhile, the work order still exists, in the queue.
    try:
        await move_visits(
            sessions,
            moves=[
                VisitMove(
                    visit_id=written.visit_id,
                    seen_version=written.visit_version,
                    starts=appointment.starts,
                    ends=appointment.ends,
                    technician_ids=(appointment.technician_id,),
                )
            ],
            clock=clock,
        )
    except (UserFacingError, DBAPIError, OSError) as error:
        denied = explain_permission_error(error, "")
        if isinstance(error, UserFacingError):
            reason = str(error)
        else:
            reason = str(denied) if denied is not None else "no answer"
        note = f"{written.number} is booked but waits for dispatch: {reason}"
        return dataclasses.replace(booked, note=note)
    return dataclasses.replace(booked, assigned=True)
