"""The database tables as SQLAlchemy 2 mapped classes.

Alembic owns the schema (``migrations/``); these classes describe the same tables, and
``tests/test_migrations.py`` fails if the two ever differ.

Conventions every mutable table follows:

* an ``id`` bigint identity primary key, so a change hint is always (table, id, version);
* ``version`` (optimistic concurrency) and ``updated_at``, both maintained by the
  ``dispatch_touch_row`` trigger on UPDATE, so a raw SQL edit bumps them too. The mapper
  sends ``WHERE version = :seen`` and reads the new version back (``version_id_generator
  = False``): a stale write updates no row and SQLAlchemy raises ``StaleDataError``;
* every timestamp is ``timestamptz``; the business time zone is the
  ``business_timezone`` row of ``app_settings``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from dispatch_app.domain import text_rules, time_bounds
from dispatch_app.domain.addresses import STATE_PATTERN, ZIP_PATTERN
from dispatch_app.domain.follow_ups import FollowUpOutcome, FollowUpState, RuleKind
from dispatch_app.domain.leads import LeadOutcome, LeadSource
from dispatch_app.domain.messages import Channel, Consent, MessageEvent, MessageState, Purpose
from dispatch_app.domain.tables import TABLES
from dispatch_app.domain.vocabulary import (
    InvoiceKind,
    InvoiceStatus,
    LineItemKind,
    PartKind,
    PaymentMethod,
    Priority,
    QuestionKind,
    StockLocationKind,
    StockReason,
    Trade,
    VisitStatus,
    WorkOrderSource,
    WorkOrderStatus,
    sql_in,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The one NOTIFY channel every row trigger speaks on (see migrations/…_initial_schema).
CHANGE_CHANNEL = "dispatch_changes"

# Marks a database as ours, so the app can tell "schema too old/new" from "someone
# else's database".
APPLICATION_MARKER = "dispatch-board"

# The largest photo a work order takes (a phone camera's JPEG is 2–6 MB).
MAX_PHOTO_BYTES = 15 * 1024 * 1024

# What the rule triggers (migrations/versions/0005_…) raise; the message is a sentence.
FINISHED_WORK_SQLSTATE = "RD001"  # a finished visit's time or crew was changed
KEEP_HISTORY_SQLSTATE = "RD002"  # a work order or visit with a history was deleted
RULE_SQLSTATES = frozenset({FINISHED_WORK_SQLSTATE, KEEP_HISTORY_SQLSTATE})

# The schedule's reach (``time_bounds``) as SQL literals for CHECK constraints.
_EARLIEST = f"'{time_bounds.EARLIEST:%Y-%m-%d %H:%M:%S}+00'::timestamp with time zone"
_LATEST = f"'{time_bounds.LATEST:%Y-%m-%d %H:%M:%S}+00'::timestamp with time zone"
# The stored answers' JSON may run longer than the characters counted by
# ``work_orders.MAX_ANSWERS_CHARS`` (quotes and escapes): a ceiling, not the rule.
MAX_ANSWERS_JSON_CHARS = 50_000


def _length(
    column: str, rule: text_rules.TextRule, *, required: bool, nullable: bool = False
) -> str:
    """A text column's length CHECK for one of ``text_rules``' kinds."""
    if required:
        return f"length({column}) between 1 and {rule.limit}"
    check = f"length({column}) <= {rule.limit}"
    return f"{column} is null or {check}" if nullable else check


def _in_range(*columns: str) -> str:
    """Each of these timestamptz columns is null or within the schedule's reach."""
    return " and ".join(
        f"({column} is null or ({column} >= {_EARLIEST} and {column} < {_LATEST}))"
        for column in columns
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(timezone=True),
        str: Text(),
    }


class Tracked:
    """Columns and mapper settings shared by every mutable table."""

    id: Mapped[int] = mapped_column(
        BigInteger, Identity(always=False), primary_key=True, sort_order=-10
    )
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), sort_order=10
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        nullable=False, server_default=func.now(), sort_order=10
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The touch trigger bumps ``version``; the mapper only compares and reads it back.
        table = cls.__table__  # type: ignore[attr-defined]
        return {"version_id_col": table.c.version, "version_id_generator": False}


class AppSetting(Tracked, Base):
    """Company-wide settings every workstation shares (business time zone, road factor…)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(unique=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)


class Customer(Tracked, Base):
    __tablename__ = "customers"

    name: Mapped[str]
    email: Mapped[str | None]
    notes: Mapped[str] = mapped_column(server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # What the customer agreed to receive, asked at booking; who recorded it and when
    # are the database's (migration 0009).
    message_consent: Mapped[str] = mapped_column(server_default=Consent.NONE.value)
    consent_recorded_at: Mapped[dt.datetime | None]
    consent_recorded_by: Mapped[str | None]
    # STOP (or a CSR told so): no message on any channel until they opt in again.
    opted_out_at: Mapped[dt.datetime | None]
    opt_out_note: Mapped[str | None]

    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    sites: Mapped[list[ServiceSite]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="ServiceSite.id"
    )

    __table_args__ = (
        CheckConstraint("length(name) between 1 and 200", name="name_length"),
        CheckConstraint(f"message_consent in {sql_in(Consent)}", name="message_consent"),
        CheckConstraint(
            "(opted_out_at is null) = (opt_out_note is null) "
            "and coalesce(length(opt_out_note), 0) <= 500",
            name="opt_out_says_how",
        ),
        Index(
            "ix_customers_name_lower",
            func.lower(text("name")).label("name_lower"),
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
    )


class CustomerPhone(Tracked, Base):
    """One phone number of a customer, stored in E.164 (``+13125550123``)."""

    __tablename__ = "customer_phones"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str]
    label: Mapped[str] = mapped_column(server_default="mobile")

    customer: Mapped[Customer] = relationship(back_populates="phones")

    __table_args__ = (
        CheckConstraint(r"number ~ '^\+[1-9][0-9]{6,14}$'", name="e164"),
        # One number, one customer: two CSRs adding the same new caller at once cannot
        # both win. The operator class also serves the lookup's prefix search.
        Index(
            "uq_customer_phones_number",
            "number",
            unique=True,
            postgresql_ops={"number": "text_pattern_ops"},
        ),
    )


class ServiceSite(Tracked, Base):
    """An address where work happens; a customer can have several."""

    __tablename__ = "service_sites"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(server_default="Home")
    street: Mapped[str]
    city: Mapped[str]
    state: Mapped[str] = mapped_column(String(2))
    zip: Mapped[str] = mapped_column(String(10))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    access_notes: Mapped[str] = mapped_column(server_default="")

    customer: Mapped[Customer] = relationship(back_populates="sites")
    equipment: Mapped[list[Equipment]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Equipment.id"
    )

    __table_args__ = (
        CheckConstraint("lat is null or lat between -90 and 90", name="lat_range"),
        CheckConstraint("lon is null or lon between -180 and 180", name="lon_range"),
        CheckConstraint(f"zip ~ '{ZIP_PATTERN}'", name="zip_format"),
        CheckConstraint(f"state ~ '{STATE_PATTERN}'", name="state_code"),
        CheckConstraint(_length("label", text_rules.LINE, required=True), name="label_length"),
        CheckConstraint(_length("street", text_rules.LINE, required=True), name="street_length"),
        CheckConstraint(_length("city", text_rules.LINE, required=True), name="city_length"),
        CheckConstraint(
            _length("access_notes", text_rules.TEXT, required=False), name="access_notes_length"
        ),
        Index(
            "ix_service_sites_street_lower",
            func.lower(text("street")).label("street_lower"),
            postgresql_ops={"street_lower": "text_pattern_ops"},
        ),
    )


class Equipment(Tracked, Base):
    """A unit at a site the company services: furnace, water heater, panel, roof…"""

    __tablename__ = "equipment"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("service_sites.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str]
    make: Mapped[str] = mapped_column(server_default="")
    model: Mapped[str] = mapped_column(server_default="")
    serial: Mapped[str] = mapped_column(server_default="")
    install_date: Mapped[dt.date | None] = mapped_column(Date)

    site: Mapped[ServiceSite] = relationship(back_populates="equipment")

    __table_args__ = (
        CheckConstraint(_length("kind", text_rules.LINE, required=True), name="kind_length"),
        CheckConstraint(_length("make", text_rules.LINE, required=False), name="make_length"),
        CheckConstraint(_length("model", text_rules.LINE, required=False), name="model_length"),
        CheckConstraint(_length("serial", text_rules.LINE, required=False), name="serial_length"),
    )


class Technician(Tracked, Base):
    __tablename__ = "technicians"

    name: Mapped[str]
    phone: Mapped[str] = mapped_column(server_default="")
    colour: Mapped[str] = mapped_column(String(7))
    trade: Mapped[str]
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The last position a GPS integration reported (none writes it yet). The map uses it
    # when it is newer than what the day's visits say; all three are set or none is.
    reported_lat: Mapped[float | None]
    reported_lon: Mapped[float | None]
    reported_at: Mapped[dt.datetime | None]

    shifts: Mapped[list[TechnicianShift]] = relationship(
        back_populates="technician",
        cascade="all, delete-orphan",
        order_by="TechnicianShift.weekday",
    )
    skills: Mapped[list[TechnicianSkill]] = relationship(
        back_populates="technician", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(f"trade in {sql_in(Trade)}", name="trade"),
        CheckConstraint("colour ~ '^#[0-9a-fA-F]{6}$'", name="colour_hex"),
        CheckConstraint(
            "(reported_lat is null) = (reported_lon is null) "
            "and (reported_lat is null) = (reported_at is null) "
            "and (reported_lat is null or (reported_lat between -90 and 90 "
            "and reported_lon between -180 and 180))",
            name="reported_position",
        ),
    )


class TechnicianShift(Tracked, Base):
    """Working hours on one weekday (Monday = 0); ``ends <= starts`` crosses midnight."""

    __tablename__ = "technician_shifts"

    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[dt.time] = mapped_column(Time)
    ends: Mapped[dt.time] = mapped_column(Time)

    technician: Mapped[Technician] = relationship(back_populates="shifts")

    __table_args__ = (
        UniqueConstraint("technician_id", "weekday"),
        CheckConstraint("weekday between 0 and 6", name="weekday_range"),
    )


class Skill(Tracked, Base):
    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    trade: Mapped[str]

    __table_args__ = (CheckConstraint(f"trade in {sql_in(Trade)}", name="trade"),)


class TechnicianSkill(Tracked, Base):
    """A technician's level in one skill, 1 (apprentice) to 5 (expert)."""

    __tablename__ = "technician_skills"

    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger, server_default=text("3"))

    technician: Mapped[Technician] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship()

    __table_args__ = (
        UniqueConstraint("technician_id", "skill_id"),
        CheckConstraint("level between 1 and 5", name="level_range"),
    )


class JobType(Tracked, Base):
    __tablename__ = "job_types"

    trade: Mapped[str]
    name: Mapped[str]
    default_duration_min: Mapped[int] = mapped_column(Integer)
    default_price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    required_skills: Mapped[list[JobTypeSkill]] = relationship(
        back_populates="job_type", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("trade", "name"),
        CheckConstraint(f"trade in {sql_in(Trade)}", name="trade"),
        CheckConstraint("default_duration_min between 5 and 7200", name="duration_range"),
        CheckConstraint("default_price >= 0", name="price_non_negative"),
    )


class JobTypeSkill(Tracked, Base):
    """A skill (at a minimum level) a job type needs from whoever does it."""

    __tablename__ = "job_type_skills"

    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id", ondelete="CASCADE"))
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), index=True)
    min_level: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))

    job_type: Mapped[JobType] = relationship(back_populates="required_skills")
    skill: Mapped[Skill] = relationship()

    __table_args__ = (
        UniqueConstraint("job_type_id", "skill_id"),
        CheckConstraint("min_level between 1 and 5", name="min_level_range"),
    )


class JobTypeQuestion(Tracked, Base):
    """A question the CSR asks for one job type ("Age of system?"): data, not code."""

    __tablename__ = "job_type_questions"

    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    prompt: Mapped[str]
    kind: Mapped[str] = mapped_column(server_default=QuestionKind.TEXT.value)
    # The answers offered for a "choice" question, in order.
    choices: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        UniqueConstraint("job_type_id", "position"),
        CheckConstraint(f"kind in {sql_in(QuestionKind)}", name="kind"),
        CheckConstraint("length(prompt) between 1 and 200", name="prompt_length"),
    )


class MaintenancePlan(Tracked, Base):
    """What a company sells as a maintenance plan: visits a year for a price, the
    equipment it covers, how long it runs, and the job type its visits are booked as."""

    __tablename__ = "maintenance_plans"

    name: Mapped[str] = mapped_column(unique=True)
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    visits_per_year: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    covered_equipment: Mapped[str] = mapped_column(server_default="")
    term_months: Mapped[int] = mapped_column(SmallInteger, server_default=text("12"))
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        CheckConstraint("length(name) between 1 and 100", name="name_length"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("visits_per_year between 1 and 12", name="visits_range"),
        CheckConstraint("term_months between 1 and 120", name="term_range"),
        CheckConstraint("length(covered_equipment) <= 500", name="covered_length"),
    )


class Agreement(Tracked, Base):
    """A maintenance agreement ("Comfort Club"): visits a year the customer has paid for.

    With a plan, the worker books its due visits ahead of time as work orders
    (``dispatch_generate_agreement_visits``); ``schedule_from`` is the first day the
    current count of visits applies (null: the start; else the day the plan changed).
    """

    __tablename__ = "agreements"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str]
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    visits_per_year: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_plans.id", ondelete="RESTRICT")
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("service_sites.id", ondelete="SET NULL"))
    schedule_from: Mapped[dt.date | None] = mapped_column(Date)  # null: from the start

    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ends_after_starts"),
        CheckConstraint("visits_per_year between 0 and 52", name="visits_range"),
        CheckConstraint(
            "schedule_from is null or schedule_from between starts_on and ends_on",
            name="schedule_within",
        ),
    )


class Part(Tracked, Base):
    """One entry of the price book: a part kept in stock or a service, with its code
    (``sku``), what it costs the company and what the customer pays."""

    __tablename__ = "parts"

    sku: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    unit: Mapped[str] = mapped_column(server_default="each")
    unit_price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    kind: Mapped[str] = mapped_column(server_default=PartKind.PART.value)
    trade: Mapped[str | None]  # null: sold in every trade
    cost: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        CheckConstraint("unit_price >= 0", name="price_non_negative"),
        CheckConstraint(f"kind in {sql_in(PartKind)}", name="kind"),
        CheckConstraint(f"trade is null or trade in {sql_in(Trade)}", name="trade"),
        CheckConstraint("cost >= 0", name="cost_non_negative"),
        CheckConstraint("length(sku) between 1 and 40", name="sku_length"),
        CheckConstraint("length(name) between 1 and 200", name="name_length"),
        CheckConstraint("length(unit) between 1 and 20", name="unit_length"),
    )


class JobTypePart(Tracked, Base):
    """A part a job type usually needs: the board warns when the truck has none."""

    __tablename__ = "job_type_parts"

    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="1")

    __table_args__ = (
        UniqueConstraint("job_type_id", "part_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class StockLocation(Tracked, Base):
    """Where parts are kept: the warehouse, or a technician's truck."""

    __tablename__ = "stock_locations"

    name: Mapped[str] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(server_default=StockLocationKind.WAREHOUSE.value)
    technician_id: Mapped[int | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL"), unique=True
    )
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        CheckConstraint(f"kind in {sql_in(StockLocationKind)}", name="kind"),
        CheckConstraint("kind = 'truck' or technician_id is null", name="only_trucks_have_drivers"),
        CheckConstraint("length(name) between 1 and 100", name="name_length"),
    )


class StockLevel(Tracked, Base):
    """A part's quantity on hand and moving-average cost at one location.

    Written only by the ledger's trigger: ``on_hand`` is always the sum of that part's
    ``stock_movements`` there. ``reorder_point`` is what the low-stock list compares to.
    """

    __tablename__ = "stock_levels"

    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    on_hand: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    average_cost: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 4), server_default="0")
    reorder_point: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), server_default="0")

    __table_args__ = (
        UniqueConstraint("location_id", "part_id"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_non_negative"),
    )


class StockMovement(Base):
    """One row of the stock ledger: never changed, never removed."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="RESTRICT"))
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id", ondelete="RESTRICT"))
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))  # signed: in or out
    unit_cost: Mapped[decimal.Decimal | None] = mapped_column(Numeric(12, 4))
    reason: Mapped[str]
    note: Mapped[str] = mapped_column(server_default="")
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    line_item_id: Mapped[int | None] = mapped_column(BigInteger)
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The user confirmed taking more than the books say is there (a miscount).
    confirmed_short: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    moved_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    moved_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
        CheckConstraint("unit_cost is null or unit_cost >= 0", name="cost_non_negative"),
        CheckConstraint(f"reason in {sql_in(StockReason)}", name="reason"),
        CheckConstraint("reason <> 'count' or btrim(note) <> ''", name="count_says_why"),
        CheckConstraint("length(note) <= 500", name="note_length"),
        Index("ix_stock_movements_place", "location_id", "part_id", "id"),
    )


class WorkOrder(Tracked, Base):
    """A customer's request from first call to payment; numbered ``WO-10023``."""

    __tablename__ = "work_orders"

    number: Mapped[str] = mapped_column(
        unique=True,
        # Spelled as PostgreSQL reports it back, so migration checks compare equal.
        server_default=text("('WO-'::text || nextval('work_order_number_seq'::regclass))"),
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("service_sites.id"), index=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_types.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment.id", ondelete="SET NULL")
    )
    description: Mapped[str] = mapped_column(server_default="")
    priority: Mapped[str] = mapped_column(server_default=Priority.NORMAL.value)
    status: Mapped[str] = mapped_column(server_default=WorkOrderStatus.NEW.value)
    source: Mapped[str] = mapped_column(server_default=WorkOrderSource.PHONE.value)
    requested_start: Mapped[dt.datetime | None]
    requested_end: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str] = mapped_column(server_default=text("session_user"))
    updated_by: Mapped[str] = mapped_column(server_default=text("session_user"))
    cancel_reason: Mapped[str | None]
    # The job type's questions as asked at intake, in order: [["Age of system", "12"], …].
    answers: Mapped[list[list[str]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # The intake's id for the call that booked it: a retry after a lost answer finds it.
    call_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    # A maintenance agreement's due visit: which agreement, and the day it fell due.
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="RESTRICT")
    )
    agreement_due_on: Mapped[dt.date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship()
    site: Mapped[ServiceSite] = relationship()
    job_type: Mapped[JobType] = relationship()
    visits: Mapped[list[Visit]] = relationship(
        back_populates="work_order", cascade="all, delete-orphan", order_by="Visit.sequence"
    )

    __table_args__ = (
        CheckConstraint(f"priority in {sql_in(Priority)}", name="priority"),
        CheckConstraint(f"status in {sql_in(WorkOrderStatus)}", name="status"),
        CheckConstraint(f"source in {sql_in(WorkOrderSource)}", name="source"),
        CheckConstraint(
            "requested_end is null or requested_start is null or requested_end > requested_start",
            name="requested_window_order",
        ),
        CheckConstraint(
            "status not in ('cancelled', 'no_show') or coalesce(cancel_reason, '') <> ''",
            name="cancel_needs_reason",
        ),
        CheckConstraint(
            _length("description", text_rules.LONG_TEXT, required=False),
            name="description_length",
        ),
        CheckConstraint(
            _length("cancel_reason", text_rules.SHORT_TEXT, required=False, nullable=True),
            name="cancel_reason_length",
        ),
        CheckConstraint(
            "jsonb_typeof(answers) = 'array' "
            f"and length(answers::text) <= {MAX_ANSWERS_JSON_CHARS}",
            name="answers_shape",
        ),
        CheckConstraint(_in_range("requested_start", "requested_end"), name="requested_in_range"),
        Index(
            "ix_work_orders_status_open",
            "status",
            postgresql_where=text("status not in ('closed', 'cancelled', 'no_show')"),
        ),
        Index("ix_work_orders_updated_at", "updated_at"),
        # The reports: what was still open at a period's end (migration 0011).
        Index("ix_work_orders_created_at", "created_at"),
        UniqueConstraint("agreement_id", "agreement_due_on"),
        CheckConstraint(
            "(agreement_id is null) = (agreement_due_on is null)", name="agreement_due_both"
        ),
    )


class Visit(Tracked, Base):
    """One trip to the site; a work order can need several (inspection, then tear-off).

    ``starts``/``ends`` are the booked time on the board (null while unscheduled); the
    arrival window is what the customer was promised.
    """

    __tablename__ = "visits"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    starts: Mapped[dt.datetime | None]
    ends: Mapped[dt.datetime | None]
    arrival_window_start: Mapped[dt.datetime | None]
    arrival_window_end: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(server_default=VisitStatus.UNSCHEDULED.value)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_by: Mapped[str] = mapped_column(server_default=text("session_user"))

    work_order: Mapped[WorkOrder] = relationship(back_populates="visits")
    crew: Mapped[list[VisitTechnician]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitTechnician.id"
    )

    __table_args__ = (
        UniqueConstraint("work_order_id", "sequence"),
        CheckConstraint(f"status in {sql_in(VisitStatus)}", name="status"),
        CheckConstraint("(starts is null) = (ends is null)", name="both_times_or_none"),
        CheckConstraint("ends is null or ends > starts", name="ends_after_starts"),
        CheckConstraint(
            "arrival_window_end is null or arrival_window_end > arrival_window_start",
            name="arrival_window_order",
        ),
        CheckConstraint(_in_range("starts", "ends"), name="times_in_range"),
        CheckConstraint(
            f"ends - starts <= interval '{time_bounds.LONGEST_VISIT.days} days'",
            name="at_most_a_week",
        ),
        CheckConstraint(
            "(arrival_window_start is null) = (arrival_window_end is null) and "
            + _in_range("arrival_window_start", "arrival_window_end")
            + " and arrival_window_end - arrival_window_start <= interval "
            f"'{time_bounds.LONGEST_ARRIVAL_WINDOW.total_seconds() / 3600:.0f} hours'",
            name="arrival_window_in_range",
        ),
        CheckConstraint(
            "arrival_window_start - starts between "
            f"interval '-{time_bounds.ARRIVAL_WINDOW_REACH.days} days' "
            f"and interval '{time_bounds.ARRIVAL_WINDOW_REACH.days} days'",
            name="arrival_window_near_visit",
        ),
        Index("ix_visits_starts", "starts"),
        Index("ix_visits_updated_at", "updated_at"),
    )


class VisitTechnician(Tracked, Base):
    """A technician assigned to a visit; several rows make a crew, one of them the lead."""

    __tablename__ = "visit_technicians"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    visit: Mapped[Visit] = relationship(back_populates="crew")
    technician: Mapped[Technician] = relationship()

    __table_args__ = (UniqueConstraint("visit_id", "technician_id"),)


class Note(Tracked, Base):
    __tablename__ = "notes"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    body: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(_length("body", text_rules.LONG_TEXT, required=True), name="body_length"),
    )


class LineItem(Tracked, Base):
    """Labour or material on a work order; its total is quantity × unit price."""

    __tablename__ = "line_items"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str]
    part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id", ondelete="SET NULL"))
    description: Mapped[str]
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # A material: the stock location it was taken from (returned there when removed),
    # and what it cost the company (the location's average cost then).
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT")
    )
    unit_cost: Mapped[decimal.Decimal | None] = mapped_column(Numeric(12, 4))

    __table_args__ = (
        CheckConstraint(f"kind in {sql_in(LineItemKind)}", name="kind"),
        CheckConstraint("kind = 'material' or part_id is null", name="part_is_material"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="price_non_negative"),
        CheckConstraint("length(description) between 1 and 500", name="description_length"),
    )


class Photo(Tracked, Base):
    """A picture of the job, kept in the database so every workstation sees it.

    Lists read ``thumbnail`` only; ``data`` (the file as attached) is read for the full view.
    """

    __tablename__ = "photos"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str]
    content_type: Mapped[str]
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    caption: Mapped[str] = mapped_column(server_default="")
    uploaded_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif')",
            name="content_type",
        ),
        CheckConstraint(f"byte_size between 1 and {MAX_PHOTO_BYTES}", name="byte_size"),
        CheckConstraint("octet_length(data) = byte_size", name="size_matches"),
        CheckConstraint(
            _length("filename", text_rules.FILE_NAME, required=True), name="filename_length"
        ),
        CheckConstraint(
            _length("caption", text_rules.SHORT_TEXT, required=False), name="caption_length"
        ),
    )


class TimeEntry(Tracked, Base):
    """Time a technician spent on a work order (travel or on site)."""

    __tablename__ = "time_entries"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime]
    note: Mapped[str] = mapped_column(server_default="")
    created_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))

    __table_args__ = (
        CheckConstraint("ended_at > started_at", name="ends_after_starts"),
        CheckConstraint("ended_at - started_at <= interval '24 hours'", name="at_most_a_day"),
        CheckConstraint(_in_range("started_at", "ended_at"), name="times_in_range"),
        CheckConstraint(_length("note", text_rules.TEXT, required=False), name="note_length"),
        # The reports: hours on the clock in a period, per technician, from the index
        # alone (migration 0012).
        Index(
            "ix_time_entries_started_at",
            "started_at",
            postgresql_include=["technician_id", "ended_at", "work_order_id"],
        ),
    )


class Invoice(Tracked, Base):
    """A bill for a work order: a draft until posted, then locked.

    Posting gives it the next number (``INV-1001``, no gaps: see migration 0008); after
    that only payments and credit notes move its balance, through the database's own
    triggers. Totals are the database's sums of the lines: tax is rounded once per
    invoice, on the taxable lines' sum.
    """

    __tablename__ = "invoices"

    serial: Mapped[int | None] = mapped_column(Integer, unique=True)
    number: Mapped[str | None] = mapped_column(unique=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(server_default=InvoiceKind.STANDARD.value)
    status: Mapped[str] = mapped_column(server_default=InvoiceStatus.DRAFT.value)
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    tax_rate: Mapped[decimal.Decimal] = mapped_column(Numeric(6, 4), server_default="0")
    subtotal: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    taxable_subtotal: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    tax: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    total: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    paid: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    credited: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(server_default="")
    memo: Mapped[str] = mapped_column(server_default="")
    void_reason: Mapped[str | None]
    created_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    posted_by: Mapped[str | None]
    posted_at: Mapped[dt.datetime | None]
    voided_by: Mapped[str | None]
    voided_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint(f"kind in {sql_in(InvoiceKind)}", name="kind"),
        CheckConstraint(f"status in {sql_in(InvoiceStatus)}", name="status"),
        CheckConstraint(
            "(kind = 'credit') = (credit_of_id is not null)", name="credit_names_invoice"
        ),
        CheckConstraint("(status = 'draft') = (serial is null)", name="numbered_when_posted"),
        CheckConstraint(
            "status <> 'void' or coalesce(btrim(void_reason), '') <> ''", name="void_says_why"
        ),
        CheckConstraint("tax_rate >= 0 and tax_rate < 1", name="tax_rate_range"),
        CheckConstraint("length(terms) <= 2000 and length(memo) <= 2000", name="text_length"),
        CheckConstraint(
            _length("void_reason", text_rules.SHORT_TEXT, required=False, nullable=True),
            name="void_reason_length",
        ),
        # The office's aging list: what is posted and not yet paid, by invoice date.
        Index(
            "ix_invoices_unpaid",
            "issued_on",
            postgresql_where=text("status in ('posted', 'partly_paid')"),
        ),
        # The reports' revenue: posted bills by when, with what they sum (migration 0011).
        Index(
            "ix_invoices_posted_revenue",
            "posted_at",
            postgresql_include=["work_order_id", "total", "credited"],
            postgresql_where=text("status not in ('draft', 'void') and kind <> 'credit'"),
        ),
    )


class InvoiceLine(Tracked, Base):
    """One line of an invoice; ``amount`` is the database's quantity × price in cents."""

    __tablename__ = "invoice_lines"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    kind: Mapped[str]
    line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("line_items.id", ondelete="SET NULL")
    )
    description: Mapped[str]
    quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    taxable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2), server_default="0")

    __table_args__ = (
        CheckConstraint(
            "kind in ('labour', 'material', 'fee', 'deposit', 'less_billed', 'credit')",
            name="kind",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0 or kind in ('less_billed', 'credit')", name="price_sign"),
        CheckConstraint("length(description) between 1 and 500", name="description_length"),
    )


class Payment(Base):
    """Money received against a posted invoice (a refund is a negative amount with a
    reason). Never changed nor removed: a mistake is corrected by a refund."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    method: Mapped[str]
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    check_number: Mapped[str | None]
    card_last4: Mapped[str | None]
    reference: Mapped[str] = mapped_column(server_default="")
    reason: Mapped[str | None]
    received_on: Mapped[dt.date] = mapped_column(Date, server_default=func.current_date())
    recorded_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    recorded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"method in {sql_in(PaymentMethod)}", name="method"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint(
            "method <> 'check' or coalesce(btrim(check_number), '') <> ''", name="check_numbered"
        ),
        CheckConstraint("method <> 'card' or card_last4 ~ '^[0-9]{4}$'", name="card_last_four"),
        CheckConstraint("card_last4 is null or method = 'card'", name="card_digits_only_for_cards"),
        CheckConstraint("amount > 0 or coalesce(btrim(reason), '') <> ''", name="refund_says_why"),
        CheckConstraint(
            "length(reference) <= 100 and coalesce(length(check_number), 0) <= 30 "
            "and coalesce(length(reason), 0) <= 500",
            name="text_length",
        ),
    )


class MessageTemplate(Tracked, Base):
    """What a customer is told for one event on one channel, with ``{placeholders}``;
    a template naming an unknown placeholder is refused when saved (migration 0009)."""

    __tablename__ = "message_templates"

    event: Mapped[str]
    channel: Mapped[str]
    subject: Mapped[str] = mapped_column(server_default="")
    body: Mapped[str]
    updated_by: Mapped[str] = mapped_column(server_default=text("session_user"))

    __table_args__ = (
        UniqueConstraint("event", "channel"),
        CheckConstraint(f"event in {sql_in(MessageEvent)}", name="event"),
        CheckConstraint("channel in ('email', 'sms')", name="channel"),
        CheckConstraint("length(subject) <= 200", name="subject_length"),
        CheckConstraint("length(body) between 1 and 5000", name="body_length"),
    )


class OutboxMessage(Tracked, Base):
    """One message to a customer, written in the same transaction as what causes it and
    sent by the worker: queued → sending → sent, failed or cancelled.

    ``idempotency_key`` makes a second queueing of the same message a no-op (a visit's
    on-the-way text is ``visit:12:on_the_way:sms``); ``next_attempt_at`` null means at
    once. Who queued it and when are the database's; the worker writes the sending
    columns (``claimed_by`` … ``sent_at``) and the guard (migration 0009) keeps the rest
    as queued.
    """

    __tablename__ = "outbox_messages"

    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="RESTRICT"))
    event: Mapped[str]
    purpose: Mapped[str] = mapped_column(server_default=Purpose.INFORMATIONAL.value)
    channel: Mapped[str]
    recipient: Mapped[str]
    subject: Mapped[str] = mapped_column(server_default="")
    body: Mapped[str]
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    idempotency_key: Mapped[str] = mapped_column(unique=True)
    resend_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="RESTRICT")
    )
    # The recipient's time zone, for quiet hours; null: the company's.
    zone: Mapped[str | None]
    state: Mapped[str] = mapped_column(server_default=MessageState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("5"))
    next_attempt_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None]
    claimed_at: Mapped[dt.datetime | None]
    first_tried_at: Mapped[dt.datetime | None]
    provider_id: Mapped[str | None]
    delivery_status: Mapped[str | None]
    last_error: Mapped[str | None]
    sent_at: Mapped[dt.datetime | None]
    created_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"event in {sql_in(MessageEvent)}", name="event"),
        CheckConstraint(f"purpose in {sql_in(Purpose)}", name="purpose"),
        CheckConstraint(f"channel in {sql_in(Channel)}", name="channel"),
        CheckConstraint(f"state in {sql_in(MessageState)}", name="state"),
        CheckConstraint("length(recipient) between 1 and 320", name="recipient_length"),
        CheckConstraint("length(subject) <= 200", name="subject_length"),
        CheckConstraint("length(body) between 1 and 5000", name="body_length"),
        CheckConstraint("length(idempotency_key) between 1 and 200", name="key_length"),
        CheckConstraint(
            "attempts >= 0 and max_attempts between 1 and 20 and attempts <= max_attempts",
            name="attempts_range",
        ),
        CheckConstraint("coalesce(length(last_error), 0) <= 1000", name="last_error_length"),
        CheckConstraint(
            "(state = 'sending') = (claimed_by is not null)", name="claimed_while_sending"
        ),
        CheckConstraint("state <> 'sent' or sent_at is not null", name="sent_when_sent"),
        # The worker's next pick: what is queued, oldest first (then filtered by due).
        Index("ix_outbox_messages_queued", "id", postgresql_where=text("state = 'queued'")),
        Index(
            "ix_outbox_messages_sending",
            "claimed_at",
            postgresql_where=text("state = 'sending'"),
        ),
    )


class MessageReply(Base):
    """A customer's reply to the company's texts that the outbox acts on (STOP, START,
    HELP): the record of what they said, read from the provider by the worker."""

    __tablename__ = "message_replies"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    provider_id: Mapped[str] = mapped_column(unique=True)
    sender: Mapped[str]
    body: Mapped[str]
    intent: Mapped[str]
    received_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("intent in ('opt_out', 'opt_in', 'help')", name="intent"),)


class WorkerHeartbeat(Base):
    """A running worker's last sign of life; the app warns when every one is stale."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(server_default=text("session_user"))
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]
    sent: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failed: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (CheckConstraint("length(name) between 1 and 200", name="name_length"),)


class Lead(Tracked, Base):
    """An inbound contact before (or instead of) a work order: a call answered or
    missed, a voicemail, a web request. ``external_id`` is the source's own id for it
    (a call log's line, a web form's submission), so the same one is never stored
    twice; ``customer_id`` is found by the database from the number."""

    __tablename__ = "leads"

    source: Mapped[str]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    name: Mapped[str] = mapped_column(server_default="")
    received_at: Mapped[dt.datetime]
    request: Mapped[str] = mapped_column(server_default="")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None]
    outcome: Mapped[str] = mapped_column(server_default=LeadOutcome.OPEN.value)
    outcome_note: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    last_attempt_at: Mapped[dt.datetime | None]
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), unique=True
    )
    external_id: Mapped[str | None] = mapped_column(unique=True)
    created_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"source in {sql_in(LeadSource)}", name="source"),
        CheckConstraint(f"outcome in {sql_in(LeadOutcome)}", name="outcome"),
        CheckConstraint(r"phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'", name="e164"),
        CheckConstraint("phone is not null or email is not null", name="reachable"),
        CheckConstraint(
            "(outcome = 'booked') = (work_order_id is not null)", name="booked_has_work_order"
        ),
        CheckConstraint(
            "length(name) <= 200 and length(request) <= 2000 "
            "and coalesce(length(email), 0) <= 320 and coalesce(length(owner), 0) <= 200 "
            "and coalesce(length(outcome_note), 0) <= 500 "
            "and coalesce(length(external_id), 0) <= 200",
            name="text_length",
        ),
        CheckConstraint(
            "attempts between 0 and 100 and coalesce(duration_seconds, 0) between 0 and 86400",
            name="counts_range",
        ),
        Index("ix_leads_received_at", "received_at"),
        Index("ix_leads_phone", "phone"),
    )


class FollowUpRule(Tracked, Base):
    """One kind of follow-up as the company wants it: on or off, the wait, whether it
    makes a task, a customer message or both, and whom the task goes to."""

    __tablename__ = "follow_up_rules"

    kind: Mapped[str] = mapped_column(unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    wait_hours: Mapped[int] = mapped_column(Integer)
    makes_task: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    sends_message: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    assign_to: Mapped[str | None]

    __table_args__ = (
        CheckConstraint(f"kind in {sql_in(RuleKind)}", name="kind"),
        CheckConstraint("wait_hours between 0 and 17520", name="wait_range"),
        CheckConstraint("coalesce(length(assign_to), 0) <= 200", name="assign_to_length"),
    )


class FollowUp(Tracked, Base):
    """A task a rule made (call back, win back, close out, renew): due at a time,
    assigned to someone, done with an outcome or snoozed with a reason.

    ``occasion`` names what it is about (``stale_work_order:12:2026-12-01T09:00``), so
    running the rules again never makes it twice.
    """

    __tablename__ = "follow_ups"

    kind: Mapped[str]
    occasion: Mapped[str] = mapped_column(unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="RESTRICT"), index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE")
    )
    title: Mapped[str]
    detail: Mapped[str] = mapped_column(server_default="")
    due_at: Mapped[dt.datetime]
    assigned_to: Mapped[str | None]
    state: Mapped[str] = mapped_column(server_default=FollowUpState.OPEN.value)
    outcome: Mapped[str | None]
    reason: Mapped[str | None]
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[str | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"kind in {sql_in(RuleKind)}", name="kind"),
        CheckConstraint(f"state in {sql_in(FollowUpState)}", name="state"),
        CheckConstraint(f"outcome is null or outcome in {sql_in(FollowUpOutcome)}", name="outcome"),
        CheckConstraint("(state = 'done') = (outcome is not null)", name="done_has_outcome"),
        CheckConstraint(
            "(outcome is distinct from 'lost' and state <> 'snoozed') "
            "or coalesce(btrim(reason), '') <> ''",
            name="says_why",
        ),
        CheckConstraint(
            "length(title) between 1 and 200 and length(detail) <= 2000 "
            "and coalesce(length(reason), 0) <= 500 and coalesce(length(assigned_to), 0) <= 200 "
            "and length(occasion) between 1 and 200",
            name="text_length",
        ),
        Index("ix_follow_ups_due", "due_at", postgresql_where=text("state <> 'done'")),
    )


class AuditEntry(Base):
    """Who changed what on a work order and when, written by the ``dispatch_audit`` trigger.

    ``changes`` holds ``{"field": [before, after]}`` (before is null on insert, after on
    delete); bulky columns (photo bytes) and bookkeeping (version) are left out.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    # RESTRICT: the record of who changed a work order outlives any attempt to delete it.
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    table_name: Mapped[str]
    row_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str]
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    changed_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class StatusChange(Base):
    """One step of a work order's (or a visit's) status history; never edited."""

    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    # RESTRICT: a work order or visit with a history is never deleted (cancel it instead).
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="RESTRICT"))
    from_status: Mapped[str | None]
    to_status: Mapped[str]
    reason: Mapped[str | None]
    changed_by: Mapped[str] = mapped_column(server_default=text("dispatch_editor()"))
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            _length("reason", text_rules.SHORT_TEXT, required=False, nullable=True),
            name="reason_length",
        ),
        # The reports: the steps to a status in a period, and one work order's steps to
        # one status (migration 0011).
        Index(
            "ix_status_history_step",
            "to_status",
            "changed_at",
            postgresql_include=["work_order_id"],
        ),
        Index("ix_status_history_work_order_step", "work_order_id", "to_status", "changed_at"),
    )


class WorkOrderOutcome(Base):
    """What a work order came to, for the reports: how and when it ended, whether it
    was fixed in one visit, who led it, what it billed. Written only by the database
    (``dispatch_refresh_report_facts``, from triggers; migration 0012)."""

    __tablename__ = "work_order_outcomes"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    job_type_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str]
    created_at: Mapped[dt.datetime]
    # completed (any done status), cancelled or no_show; with the moment it was.
    ended_as: Mapped[str | None]
    ended_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None]
    first_time_fix: Mapped[bool] = mapped_column(Boolean)
    lead_technician_id: Mapped[int | None] = mapped_column(BigInteger)
    billed: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    # Its posted bills, what is still owed on them, and what its line items charge.
    bills: Mapped[int] = mapped_column(Integer)
    owed: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    charged: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))

    __table_args__ = (
        CheckConstraint("ended_as IN ('completed', 'cancelled', 'no_show')", name="ended_as_known"),
        CheckConstraint("(ended_as IS NULL) = (ended_at IS NULL)", name="ended_with_moment"),
        Index(
            "ix_work_order_outcomes_ended",
            "ended_at",
            postgresql_include=["ended_as", "job_type_id", "lead_technician_id", "first_time_fix"],
            postgresql_where=text("ended_at IS NOT NULL"),
        ),
        Index(
            "ix_work_order_outcomes_open", "created_at", postgresql_where=text("ended_at IS NULL")
        ),
        Index(
            "ix_work_order_outcomes_unclosed",
            "ended_at",
            postgresql_include=["bills", "owed", "charged"],
            postgresql_where=text("status IN ('completed', 'invoiced')"),
        ),
    )


class PostedRevenue(Base):
    """An invoice that counts as revenue, with its work order's job type, lead
    technician and whole bill beside it, so the reports read a year of revenue from one
    index. Written only by the database (migration 0012)."""

    __tablename__ = "posted_revenue"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
    )
    work_order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    posted_at: Mapped[dt.datetime]
    value: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    job_type_id: Mapped[int] = mapped_column(BigInteger)
    lead_technician_id: Mapped[int | None] = mapped_column(BigInteger)
    job_billed: Mapped[decimal.Decimal] = mapped_column(Numeric(12, 2))
    # The work order's posting before this one (by moment, then id); none for its first.
    previous_posted_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index(
            "ix_posted_revenue_posted_at",
            "posted_at",
            postgresql_include=[
                "work_order_id",
                "value",
                "job_type_id",
                "lead_technician_id",
                "job_billed",
                "previous_posted_at",
            ],
        ),
    )


class ReportFactsPending(Base):
    """A work order a writing transaction touched, refreshed in the reports' facts when
    it commits (then removed): empty outside such a transaction (migration 0012)."""

    __tablename__ = "report_facts_pending"

    transaction_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class ReportFactsFlush(Base):
    """One row per writing transaction with facts to refresh: its deferred trigger
    refreshes them at commit (migration 0012)."""

    __tablename__ = "report_facts_flush"

    transaction_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


# Derived from the table registry (``domain/tables.py``), which the triggers follow.
# Tables whose rows the screens show: each has the change-notification trigger.
NOTIFYING_TABLES: tuple[str, ...] = tuple(entry.name for entry in TABLES)
# Tables with ``version``/``updated_at`` kept by the touch trigger.
VERSIONED_TABLES: tuple[str, ...] = tuple(entry.name for entry in TABLES if entry.versioned)
# Tables whose changes the audit trigger records against their work order.
AUDITED_TABLES: tuple[str, ...] = tuple(entry.name for entry in TABLES if entry.audited)
