"""Finding the caller by phone, name or street against a real database."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine
from dispatch_app.services.customers import phone_prefix, search_customers
from tests.companies import small_company


def add_customer(url: str, name: str, phones: list[str], street: str) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        customer = db.execute(
            "INSERT INTO customers (name) VALUES (%s) RETURNING id", (name,)
        ).fetchone()[0]
        for number in phones:
            db.execute(
                "INSERT INTO customer_phones (customer_id, number) VALUES (%s, %s)",
                (customer, number),
            )
        db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip) "
            "VALUES (%s, %s, 'Chicago', 'IL', '60601')",
            (customer, street),
        )
        return customer


def search(url: str, typed: str) -> list[str]:
    async def run() -> list[str]:
        engine = make_async_engine(url)
        try:
            async with engine.connect() as connection:
                return [m.name for m in await search_customers(connection, typed)]
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def book(db_url):
    small_company(db_url)  # José Núñez, with open work orders
    add_customer(db_url, "Dana O'Brien", ["+13125550142", "+17735550199"], "77 N Wacker Dr")
    add_customer(db_url, "Danuta Kowalczyk", ["+13125559999"], "1432 W Belmont Ave")
    add_customer(db_url, "100% Heating Co_op", ["+447911123456"], "5 Main St")
    add_customer(db_url, "李小龍", [], "3 Dragon Ln")
    return db_url


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("(312) 555-0142", ["Dana O'Brien"]),
        ("312555", ["Dana O'Brien", "Danuta Kowalczyk"]),
        ("773", ["Dana O'Brien"]),
        ("+44 7911", ["100% Heating Co_op"]),
        ("dan", ["Dana O'Brien", "Danuta Kowalczyk"]),
        ("DANA", ["Dana O'Brien"]),
        ("jos", ["José Núñez"]),
        ("josé n", ["José Núñez"]),
        ("李小", ["李小龍"]),
        ("1432 w bel", ["Danuta Kowalczyk", "José Núñez"]),  # José's site is there too
        ("1432", ["Danuta Kowalczyk", "José Núñez"]),  # a house number, not a phone
        ("77", ["Dana O'Brien"]),  # two digits: a street number already
        ("100%", ["100% Heating Co_op"]),
        ("10_", []),  # an underscore is a letter here, not a wildcard
        ("d", []),  # one letter: wait for the second
        ("12", []),
        ("", []),
        ("dan\x00a", ["Dana O'Brien"]),  # a NUL from a bad paste is dropped, not an error
    ],
)
def test_search_finds_by_phone_name_or_street(book, typed, names):
    assert search(book, typed) == names


def test_a_match_carries_what_the_csr_needs_to_see(book):
    async def run():
        engine = make_async_engine(book)
        try:
            async with engine.connect() as connection:
                return await search_customers(connection, "josé")
        finally:
            await engine.dispose()

    (match,) = asyncio.run(run())
    assert match.address == "1432 W Belmont Ave, Chicago 60657"
    assert match.open_work_orders == 4  # three booked and one waiting: a repeat caller


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [("312", "+1312"), ("1 312 555", "+1312555"), ("+44 20", "+4420"), ("12", None), ("dan", None)],
)
def test_half_typed_numbers_become_e164_prefixes(typed, prefix):
    assert phone_prefix(typed) == prefix


def test_at_100k_customers_every_keystroke_uses_an_index(db_url):
    """Correctness at scale, not a timing: the plan reads an index, never every row."""
    from sqlalchemy.dialects import postgresql

    from dispatch_app.services.customers import search_statement

    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "INSERT INTO customers (name) SELECT 'Customer ' || n FROM generate_series(1, 100000) n"
        )
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) "
            "SELECT id, '+1' || (2000000000 + id * 7919 % 7999999999)::text FROM customers"
        )
        db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip) "
            "SELECT id, id || ' N Clark St', 'Chicago', 'IL', '60601' FROM customers"
        )
        db.execute("ANALYZE")
        for typed in ("(312) 555-01", "dana o", "1432 w bel"):
            statement = search_statement(typed)
            assert statement is not None
            sql = str(
                statement.compile(
                    dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                )
            )
            plan = "\n".join(row[0] for row in db.execute("EXPLAIN " + sql))
            assert "Index" in plan
            for table in ("customers", "customer_phones", "service_sites"):
                assert f"Seq Scan on {table}" not in plan, plan
