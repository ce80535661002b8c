"""One set of rules for every text a person types: each free-text field of each write
operation refuses a NUL and a megabyte with a sentence naming that field, writes
nothing, and stores a name in any script as typed (NFC, outer blanks gone). The
database keeps the same lengths, for psql too."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.text_rules import (
    FILE_NAME,
    LINE,
    LONG_TEXT,
    SHORT_TEXT,
    TEXT,
    clean_text,
    text_problem,
)
from dispatch_app.errors import ValidationError
from dispatch_app.services import work_order as wo
from dispatch_app.services.intake import CallBooking, NewCaller, NewSite, book_call
from dispatch_app.services.visits import set_visit_status
from dispatch_app.services.work_orders import save_work_order
from tests.companies import DAY, TZ, clock_at, small_company
from tests.work_order_data import add_parts, picture

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")

NUL = "Gate code 4471\x00"
MEGABYTE = "x" * 1_048_576
# Decomposed on purpose (e + U+0308): stored composed, as a search for "Zoë" types it.
NAME = "  Zoe\u0308 李 Ørsted — Núñez 🔧  "
STORED_NAME = "Zoë 李 Ørsted — Núñez 🔧"


# -- the rules on their own ------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "rule", "words"),
    [
        ("a\x00b", LINE, "contains a NUL character; remove it."),
        ("red \x1b[31m", TEXT, "invisible control character (U+001B)"),
        ("bell\x07", SHORT_TEXT, "(U+0007)"),
        ("half \ud83d pair", LINE, "broken character (U+D83D)"),
        ("two\nlines", LINE, "must be one line; remove the line break."),
        ("tab\there", LINE, "must be one line; replace the tab with a space."),
        ("x" * 201, LINE, "is 201 characters long; the limit is 200."),
        ("x" * 256, FILE_NAME, "the limit is 255."),
        ("x" * 100_001, LONG_TEXT, "is 100,001 characters long; the limit is 100,000."),
        ("   ", LINE, "is empty."),
    ],
)
def test_what_a_field_refuses_is_said_in_a_sentence(value, rule, words) -> None:
    problem = text_problem("The street", value, rule, required=True)
    assert problem is not None and problem.startswith("The street ") and words in problem


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (NAME, STORED_NAME),
        ("Windows mail\r\nsecond line\r", "Windows mail\nsecond line"),
        ("  line one\n\tindented  \n", "line one\n\tindented"),
        ("x" * 200 + "   ", "x" * 200),  # the blanks around do not count
    ],
)
def test_text_is_stored_as_typed_tidied(typed, stored) -> None:
    assert text_problem("The note", typed, TEXT) is None
    assert clean_text(typed) == stored
    assert unicodedata.is_normalized("NFC", clean_text(typed))


def test_an_optional_field_may_be_empty_and_a_required_one_may_not() -> None:
    assert text_problem("The caption", "  ", SHORT_TEXT) is None
    assert text_problem("The caption", "  ", SHORT_TEXT, required=True) == "The caption is empty."
    assert text_problem("The caption", 42, SHORT_TEXT) == "The caption must be text."


# -- every field of every write operation ----------------------------------------------
def run(url: str, operation: Callable[[Sessions], Awaitable[T]]) -> T:
    async def scenario() -> T:
        engine = make_async_engine(url, editor="jsmith")
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def one(url: str, statement: str, *params: Any) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        row = db.execute(statement, params).fetchone()
    assert row is not None, statement
    return row[0]


@dataclass(frozen=True)
class Company:
    url: str
    customer: int
    order: int  # booked, Ava 08:00
    waiting: int  # new, in the queue
    visit: int  # the booked order's visit
    job_type: int
    ava: int
    part: int
    line_item: int


@pytest.fixture
def company(db_url: str) -> Company:
    techs = small_company(db_url)
    parts = add_parts(db_url)
    url = db_url
    order = one(url, "SELECT work_order_id FROM visits WHERE starts IS NOT NULL ORDER BY starts")
    line_item = run(
        url,
        lambda s: wo.add_labour(
            s, work_order_id=order, description="Diagnosis", quantity=1, unit_price=95
        ),
    )
    return Company(
        url=url,
        customer=one(url, "SELECT id FROM customers"),
        order=order,
        waiting=one(url, "SELECT work_order_id FROM visits WHERE starts IS NULL"),
        visit=one(url, "SELECT id FROM visits WHERE work_order_id = %s", order),
        job_type=one(url, "SELECT id FROM job_types"),
        ava=techs["Ava Kowalski"],
        part=parts["CAP-4505"],
        line_item=line_item,
    )


CALLER = NewCaller("Ana Lima", "(773) 555-0150", "9 Elm St", "Chicago", "IL", "60614")
SITE = NewSite("2200 N Clark St", "Chicago", "IL", "60614", label="Rental")
MORNING = dt.datetime.combine(DAY, dt.time(8), tzinfo=TZ)


def booking(c: Company, **changes: Any) -> CallBooking:
    return dataclasses.replace(
        CallBooking(job_type_id=c.job_type, description="No heat", customer_id=c.customer),
        **changes,
    )


async def book(c: Company, s: Sessions, **changes: Any) -> int:
    return (await book_call(s, booking(c, **changes), clock=clock_at(6))).work_order_id


@dataclass(frozen=True)
class Field:
    """One free-text field of one write operation: how to write ``text`` into it, the
    field a refusal names, and where the stored text is read back."""

    write: Callable[[Company, str], Callable[[Sessions], Awaitable[Any]]]
    field: str
    stored: str  # SQL reading the newest stored value; %(c)s-style names from Company


FIELDS: dict[str, Field] = {
    "new caller's name": Field(
        lambda c, t: (
            lambda s: book(c, s, customer_id=None, caller=dataclasses.replace(CALLER, name=t))
        ),
        "name",
        "SELECT name FROM customers ORDER BY id DESC LIMIT 1",
    ),
    "new caller's street": Field(
        lambda c, t: (
            lambda s: book(c, s, customer_id=None, caller=dataclasses.replace(CALLER, street=t))
        ),
        "street",
        "SELECT street FROM service_sites ORDER BY id DESC LIMIT 1",
    ),
    "new caller's city": Field(
        lambda c, t: (
            lambda s: book(c, s, customer_id=None, caller=dataclasses.replace(CALLER, city=t))
        ),
        "city",
        "SELECT city FROM service_sites ORDER BY id DESC LIMIT 1",
    ),
    "new site's label": Field(
        lambda c, t: lambda s: book(c, s, new_site=dataclasses.replace(SITE, label=t)),
        "site_label",
        "SELECT label FROM service_sites ORDER BY id DESC LIMIT 1",
    ),
    "new site's street": Field(
        lambda c, t: lambda s: book(c, s, new_site=dataclasses.replace(SITE, street=t)),
        "site_street",
        "SELECT street FROM service_sites ORDER BY id DESC LIMIT 1",
    ),
    "new site's city": Field(
        lambda c, t: lambda s: book(c, s, new_site=dataclasses.replace(SITE, city=t)),
        "site_city",
        "SELECT city FROM service_sites ORDER BY id DESC LIMIT 1",
    ),
    "call's description": Field(
        lambda c, t: lambda s: book(c, s, description=t),
        "description",
        "SELECT description FROM work_orders ORDER BY id DESC LIMIT 1",
    ),
    "answer at intake": Field(
        lambda c, t: lambda s: book(c, s, answers={"Access": t}),
        "answer:Access",
        "SELECT answers -> 0 ->> 1 FROM work_orders ORDER BY id DESC LIMIT 1",
    ),
    "work order's description": Field(
        lambda c, t: (
            lambda s: save_work_order(
                s,
                work_order_id=c.order,
                seen_version=one(c.url, "SELECT version FROM work_orders WHERE id = %s", c.order),
                fields={"description": t},
            )
        ),
        "description",
        "SELECT description FROM work_orders WHERE id = %(order)s",
    ),
    "labour's description": Field(
        lambda c, t: (
            lambda s: wo.add_labour(
                s, work_order_id=c.order, description=t, quantity=1, unit_price=95
            )
        ),
        "description",
        "SELECT description FROM line_items ORDER BY id DESC LIMIT 1",
    ),
    "material's description": Field(
        lambda c, t: (
            lambda s: wo.add_material(
                s, work_order_id=c.order, part_id=c.part, quantity=1, description=t
            )
        ),
        "description",
        "SELECT description FROM line_items ORDER BY id DESC LIMIT 1",
    ),
    "line item edited": Field(
        lambda c, t: (
            lambda s: wo.update_line_item(
                s,
                line_item_id=c.line_item,
                seen_version=one(
                    c.url, "SELECT version FROM line_items WHERE id = %s", c.line_item
                ),
                description=t,
            )
        ),
        "description",
        "SELECT description FROM line_items WHERE id = %(line_item)s",
    ),
    "note": Field(
        lambda c, t: lambda s: wo.add_note(s, work_order_id=c.order, body=t),
        "body",
        "SELECT body FROM notes ORDER BY id DESC LIMIT 1",
    ),
    "photo's file name": Field(
        lambda c, t: (
            lambda s: wo.attach_photo(
                s, work_order_id=c.order, filename=t, data=picture(size=(40, 30))
            )
        ),
        "photo",
        "SELECT filename FROM photos ORDER BY id DESC LIMIT 1",
    ),
    "photo's caption": Field(
        lambda c, t: (
            lambda s: wo.attach_photo(
                s, work_order_id=c.order, filename="a.png", data=picture(size=(40, 30)), caption=t
            )
        ),
        "caption",
        "SELECT caption FROM photos ORDER BY id DESC LIMIT 1",
    ),
    "time entry's note": Field(
        lambda c, t: (
            lambda s: wo.add_time_entry(
                s,
                work_order_id=c.order,
                technician_id=c.ava,
                started_at=MORNING,
                ended_at=MORNING + dt.timedelta(hours=1),
                note=t,
            )
        ),
        "note",
        "SELECT note FROM time_entries ORDER BY id DESC LIMIT 1",
    ),
    "work order's cancel reason": Field(
        lambda c, t: (
            lambda s: wo.change_status(
                s, work_order_id=c.waiting, seen_status="new", status="cancelled", reason=t
            )
        ),
        "reason",
        "SELECT cancel_reason FROM work_orders WHERE id = %(waiting)s",
    ),
    "visit's cancel reason": Field(
        lambda c, t: (
            lambda s: set_visit_status(
                s,
                visit_id=c.visit,
                seen_version=one(c.url, "SELECT version FROM visits WHERE id = %s", c.visit),
                status="cancelled",
                reason=t,
            )
        ),
        "reason",
        "SELECT reason FROM status_history ORDER BY id DESC LIMIT 1",
    ),
}

TABLES = (
    "customers",
    "customer_phones",
    "service_sites",
    "work_orders",
    "visits",
    "line_items",
    "notes",
    "photos",
    "time_entries",
    "status_history",
)


def everything(url: str) -> dict[str, Any]:
    """Every row these operations could write, as count and versions per table."""
    with psycopg.connect(libpq_url(url)) as db:
        state = {
            table: db.execute(f"SELECT count(*), coalesce(sum(version), 0) FROM {table}").fetchone()
            for table in TABLES
            if table != "status_history"
        }
        state["status_history"] = db.execute("SELECT count(*) FROM status_history").fetchone()
        state["audit_log"] = db.execute("SELECT count(*) FROM audit_log").fetchone()
    return state


@pytest.mark.parametrize("where", list(FIELDS))
@pytest.mark.parametrize("bad", ["NUL", "a megabyte"])
def test_every_field_refuses_bad_text_by_name_and_writes_nothing(company, where, bad) -> None:
    field = FIELDS[where]
    text = NUL if bad == "NUL" else MEGABYTE
    before = everything(company.url)
    with pytest.raises(ValidationError) as refused:
        run(company.url, field.write(company, text))
    assert field.field in refused.value.fields, refused.value.fields
    sentence = refused.value.fields[field.field]
    assert ("NUL" in sentence) if bad == "NUL" else ("the limit is" in sentence), sentence
    assert sentence.endswith("."), sentence
    assert everything(company.url) == before


@pytest.mark.parametrize("where", list(FIELDS))
def test_every_field_stores_a_name_in_any_script_as_typed(company, where) -> None:
    field = FIELDS[where]
    run(company.url, field.write(company, NAME))
    stored = one(company.url, field.stored % dataclasses.asdict(company))
    assert stored == STORED_NAME


def test_a_hundred_answers_are_refused_before_the_description_overflows(company) -> None:
    c = company
    answers = {f"Question {n}": "y" * 1_900 for n in range(100)}
    before = everything(c.url)
    with pytest.raises(ValidationError) as refused:
        run(c.url, lambda s: book(c, s, answers=answers))
    assert (
        refused.value.fields["answers"] == ("100 answers were given; a call takes at most 50.")
        or "the limit is 20,000" in refused.value.fields["answers"]
    )
    assert everything(c.url) == before
    # Within the limits, the answers and the description still have to fit together.
    long = "d" * 99_000
    with pytest.raises(ValidationError) as refused:
        run(c.url, lambda s: book(c, s, description=long, answers={"Access": "a" * 1_500}))
    assert "with the answers is 100," in refused.value.fields["description"]
    assert everything(c.url) == before


# -- the database keeps the same lengths -------------------------------------------------
@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        (
            "UPDATE service_sites SET label = repeat('x', 1048576)",
            "ck_service_sites_label_length",
        ),
        ("UPDATE service_sites SET city = ''", "ck_service_sites_city_length"),
        ("UPDATE equipment SET serial = repeat('x', 201)", "ck_equipment_serial_length"),
        (
            "UPDATE work_orders SET description = repeat('x', 100001)",
            "ck_work_orders_description_length",
        ),
        (
            "UPDATE work_orders SET answers = jsonb_build_array(jsonb_build_array('q', "
            "repeat('a', 60000)))",
            "ck_work_orders_answers_shape",
        ),
        ("UPDATE notes SET body = ''", "ck_notes_body_length"),
        ("UPDATE time_entries SET note = repeat('x', 2001)", "ck_time_entries_note_length"),
        ("UPDATE photos SET caption = repeat('x', 501)", "ck_photos_caption_length"),
        ("UPDATE status_history SET reason = repeat('x', 501)", "ck_status_history_reason_length"),
    ],
)
def test_psql_meets_the_same_limits(company, statement, constraint) -> None:
    c = company
    # One row in every table the statements touch.
    run(c.url, lambda s: wo.add_note(s, work_order_id=c.order, body="Dog in yard"))
    run(c.url, FIELDS["time entry's note"].write(c, "Diagnosis"))
    run(c.url, FIELDS["photo's caption"].write(c, "Burnt capacitor"))
    run(c.url, FIELDS["visit's cancel reason"].write(c, "Customer away"))
    with psycopg.connect(libpq_url(c.url)) as db:
        db.execute("INSERT INTO equipment (site_id, kind) SELECT id, 'furnace' FROM service_sites")
    with (
        pytest.raises(psycopg.errors.CheckViolation) as refused,
        psycopg.connect(libpq_url(c.url)) as db,
    ):
        db.execute(statement)
    assert refused.value.diag.constraint_name == constraint
