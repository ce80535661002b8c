"""Invoices and payments against a real server: totals, tax and rounding; the life of an
invoice from draft to paid; deposits netted on the final invoice; credit notes and
refunds; numbers without duplicates or gaps from several processes at once; and a
posted invoice no group can change through SQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.billing import (
    aging_bucket,
    invoice_totals,
    line_amount,
    payment_errors,
    tax_rate_from_setting,
)
from dispatch_app.domain.clock import FixedClock
from dispatch_app.domain.roles import GROUPS, Role
from dispatch_app.errors import BooksRefused, ValidationError
from dispatch_app.services import billing
from dispatch_app.services.work_order import charges
from tests.companies import DAY, TZ, small_company
from tests.work_order_data import add_parts

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
D = decimal.Decimal
CLOCK = FixedClock(dt.datetime.combine(DAY, dt.time(16, 0), tzinfo=TZ))


def run(url: str, operation: Callable[[Sessions], Awaitable[T]]) -> T:
    async def scenario() -> T:
        engine = make_async_engine(url, editor="office")
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def sql(url: str, statement: str, *args: object) -> Any:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else None


def one(url: str, statement: str, *args: object) -> Any:
    rows = sql(url, statement, *args)
    return rows[0][0] if rows else None


# -- arithmetic, by hand ---------------------------------------------------------------
def test_line_amounts_round_half_away_from_zero_to_the_cent() -> None:
    assert line_amount(D("2.50"), D("0.99")) == D("2.48")  # 2.475
    assert line_amount(D("0.33"), D("10.01")) == D("3.30")  # 3.3033
    assert line_amount(D("1"), D("-0.05")) == D("-0.05")
    assert line_amount(D("0.5"), D("-0.05")) == D("-0.03")  # -0.025, away from zero


def test_tax_is_rounded_once_per_invoice_on_the_taxable_lines() -> None:
    # Three taxable lines of $0.10 at 5%: per line each would be 0.005 → 0.01 (0.03);
    # on the invoice it is 0.30 × 5% = 0.015 → 0.02.
    totals = invoice_totals([(D(1), D("0.10"), True)] * 3, D("0.05"))
    assert (totals.subtotal, totals.taxable_subtotal, totals.tax, totals.total) == (
        D("0.30"),
        D("0.30"),
        D("0.02"),
        D("0.32"),
    )
    # Labour not taxed, parts taxed at 8.25%: 1.5 h × 95 = 142.50; 2 × 18.75 = 37.50;
    # 37.50 × 0.0825 = 3.09375 → 3.09.
    totals = invoice_totals([(D("1.5"), D("95.00"), False), (D(2), D("18.75"), True)], D("0.0825"))
    assert (totals.subtotal, totals.tax, totals.total) == (D("180.00"), D("3.09"), D("183.09"))


def test_the_tax_rate_setting_is_a_percent_and_nonsense_is_no_tax() -> None:
    assert tax_rate_from_setting("8.25") == D("0.0825")
    assert tax_rate_from_setting(7) == D("0.07")
    assert tax_rate_from_setting("10%") == D("0.10")
    for nonsense in (None, "", "abc", "NaN", "-1", "250", True):
        assert tax_rate_from_setting(nonsense) == 0


def test_aging_buckets_count_days_since_the_invoice_date() -> None:
    today = dt.date(2026, 12, 31)
    ages = {0: "0–30", 30: "0–30", 31: "31–60", 60: "31–60", 61: "61–90", 90: "61–90", 91: "90+"}
    for days, bucket in ages.items():
        assert aging_bucket(today - dt.timedelta(days=days), today) == bucket


def test_a_payment_says_what_it_lacks() -> None:
    _, errors = payment_errors(method="check", amount="100")
    assert errors == {"check_number": "A check payment needs the check number."}
    _, errors = payment_errors(method="card", amount="100", card_last4="42x2")
    assert "last four digits" in errors["card_last4"]
    _, errors = payment_errors(method="cash", amount="1,5")
    assert "amount" in errors
    _, errors = payment_errors(method="cash", amount="10", refund=True)
    assert errors == {"reason": "A refund needs a reason."}
    _, errors = payment_errors(method="cash", amount="10", reference="x\x00y")
    assert "NUL" in errors["reference"]
    payment, errors = payment_errors(method="card", amount="$1,250.00", card_last4="4242")
    assert errors == {} and payment is not None and payment.amount == D("1250.00")


# -- a company with finished work -------------------------------------------------------
@pytest.fixture
def office(db_url: str) -> dict[str, Any]:
    """The small company with its parts, 8.25% tax, and one work order completed with
    1.5 h of labour and two taxable parts."""
    techs = small_company(db_url)
    parts = add_parts(db_url)
    sql(db_url, "UPDATE parts SET kind = 'service' WHERE true")  # nothing to stock here
    sql(
        db_url,
        "INSERT INTO app_settings (key, value) VALUES ('tax_rate', '\"8.25\"') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    orders = [row[0] for row in sql(db_url, "SELECT id FROM work_orders ORDER BY id")]
    order = orders[0]
    run(
        db_url,
        lambda s: charges.add_labour(
            s,
            work_order_id=order,
            description="Diagnose and repair",
            quantity="1.5",
            unit_price="95",
        ),
    )
    part = next(iter(parts.values()))
    run(
        db_url,
        lambda s: charges.add_material(
            s, work_order_id=order, part_id=part, quantity="2", unit_price="18.75"
        ),
    )
    sql(
        db_url,
        "UPDATE line_items SET taxable = (kind = 'material') WHERE work_order_id = %s",
        order,
    )
    complete(db_url, order)
    return {"url": db_url, "order": order, "orders": orders, "techs": techs, "parts": parts}


def complete(url: str, order: int) -> None:
    sql(url, "UPDATE visits SET status = 'completed' WHERE work_order_id = %s", order)
    sql(url, "UPDATE work_orders SET status = 'completed' WHERE id = %s", order)
    sql(
        url,
        "INSERT INTO status_history (work_order_id, from_status, to_status) "
        "VALUES (%s, 'on_site', 'completed')",
        order,
    )


def invoice_row(url: str, invoice_id: int) -> dict[str, Any]:
    with psycopg.connect(libpq_url(url)) as db:
        db.row_factory = psycopg.rows.dict_row  # type: ignore[assignment]
        row = db.execute("SELECT * FROM invoices WHERE id = %s", (invoice_id,)).fetchone()
    assert row is not None
    return dict(row)


def post(url: str, invoice_id: int) -> str:
    version = one(url, "SELECT version FROM invoices WHERE id = %s", invoice_id)
    return run(
        url,
        lambda s: billing.post_invoice(s, invoice_id=invoice_id, seen_version=version, clock=CLOCK),
    )


def pay(url: str, invoice_id: int, amount: str, **details: Any) -> int:
    details.setdefault("method", "cash")
    return run(
        url,
        lambda s: billing.record_payment(
            s, invoice_id=invoice_id, amount=amount, clock=CLOCK, **details
        ),
    )


def status_of(url: str, order: int) -> str:
    return str(one(url, "SELECT status FROM work_orders WHERE id = %s", order))


def test_a_completed_work_order_becomes_a_posted_invoice_then_is_paid_and_closed(office) -> None:
    url, order = office["url"], office["order"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    draft = invoice_row(url, invoice)
    assert (draft["status"], draft["number"], draft["tax_rate"]) == ("draft", None, D("0.0825"))
    # The database's totals agree with the hand-computed ones.
    assert (draft["subtotal"], draft["tax"], draft["total"]) == (
        D("180.00"),
        D("3.09"),
        D("183.09"),
    )

    number = post(url, invoice)
    posted = invoice_row(url, invoice)
    assert number == "INV-1001" == posted["number"]
    assert (posted["status"], posted["issued_on"], posted["posted_by"]) == (
        "posted",
        DAY,
        "office",  # the single-PC owner's editor name
    )
    assert status_of(url, order) == "invoiced"

    pay(url, invoice, "100.00", method="check", check_number="2231")
    assert invoice_row(url, invoice)["status"] == "partly_paid"
    assert status_of(url, order) == "invoiced"
    pay(url, invoice, "83.09", method="card", card_last4="4242", reference="AUTH 99812")
    paid = invoice_row(url, invoice)
    assert (paid["status"], paid["paid"]) == ("paid", D("183.09"))
    assert status_of(url, order) == "closed"
    history = sql(
        url,
        "SELECT from_status, to_status FROM status_history WHERE work_order_id = %s ORDER BY id",
        order,
    )
    assert history[-2:] == [("completed", "invoiced"), ("invoiced", "closed")]


def test_work_not_yet_done_is_not_invoiced_and_a_billed_order_not_twice(office) -> None:
    url = office["url"]
    open_order = office["orders"][1]
    with pytest.raises(ValidationError, match="is scheduled; the work is invoiced once it is"):
        run(url, lambda s: billing.create_invoice(s, work_order_id=open_order))
    first = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    post(url, first)
    with pytest.raises(ValidationError, match="already billed by INV-1001"):
        run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))


def test_payments_above_the_balance_and_refunds_above_what_was_paid_are_refused(office) -> None:
    url = office["url"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    with pytest.raises(BooksRefused, match="Payments are taken on posted invoices"):
        pay(url, invoice, "10")
    post(url, invoice)
    with pytest.raises(
        BooksRefused, match=r"200.00 is more than the balance of INV-1001 \(183.09\)"
    ):
        pay(url, invoice, "200")
    pay(url, invoice, "50")
    with pytest.raises(BooksRefused, match=r"cannot be more than was paid on INV-1001 \(50.00\)"):
        pay(url, invoice, "60", refund=True, reason="Customer overcharged")
    pay(url, invoice, "20", refund=True, reason="Goodwill for the late arrival")
    row = invoice_row(url, invoice)
    assert (row["paid"], row["status"]) == (D("30.00"), "partly_paid")
    assert one(url, "SELECT count(*) FROM payments WHERE invoice_id = %s", invoice) == 2


def test_a_credit_note_brings_the_balance_to_what_it_should_be(office) -> None:
    url = office["url"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    post(url, invoice)
    pay(url, invoice, "100")
    note = run(
        url,
        lambda s: billing.issue_credit_note(
            s, invoice_id=invoice, amount="40", reason="Wrong part charged", clock=CLOCK
        ),
    )
    assert note == "INV-1002"
    row = invoice_row(url, invoice)
    # 183.09 billed − 40.00 credited − 100.00 paid: 43.09 still owed.
    assert (row["credited"], row["total"] - row["paid"] - row["credited"]) == (
        D("40.00"),
        D("43.09"),
    )
    assert row["status"] == "partly_paid"
    with pytest.raises(BooksRefused, match="cannot take off more than INV-1001 still bills"):
        run(
            url,
            lambda s: billing.issue_credit_note(
                s, invoice_id=invoice, amount="150", reason="Too much", clock=CLOCK
            ),
        )
    pay(url, invoice, "43.09")
    assert invoice_row(url, invoice)["status"] == "paid"
    assert status_of(url, office["order"]) == "closed"


def test_deposit_and_progress_invoices_are_netted_on_the_final_invoice(office) -> None:
    """A $4k deposit, a $4k progress invoice and the rest on final."""
    url, order = office["url"], office["orders"][1]
    sql(
        url,
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price, "
        "taxable) VALUES (%s, 'labour', 'Furnace and AC replacement', 1, 11000, false), "
        "(%s, 'material', 'Condenser pad and lineset', 1, 1000, true)",
        order,
        order,
    )
    deposit = run(
        url,
        lambda s: billing.create_invoice(s, work_order_id=order, kind="deposit", amount="4,000"),
    )
    post(url, deposit)
    pay(url, deposit, "4000", method="financing", reference="GreenSky 55-1")
    progress = run(
        url,
        lambda s: billing.create_invoice(s, work_order_id=order, kind="progress", amount="4000"),
    )
    post(url, progress)
    complete(url, order)
    final = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    row = invoice_row(url, final)
    lines = sql(
        url,
        "SELECT kind, description, amount FROM invoice_lines WHERE invoice_id = %s "
        "ORDER BY position",
        final,
    )
    assert row["kind"] == "final"
    assert [line[0] for line in lines] == ["labour", "material", "less_billed", "less_billed"]
    assert lines[2][1:] == ("Less deposit invoice INV-1001", D("-4000.00"))
    # 12,000 of work + 8.25% on the 1,000 taxable − 8,000 billed before.
    assert (row["subtotal"], row["tax"], row["total"]) == (D("4000.00"), D("82.50"), D("4082.50"))
    post(url, final)
    assert status_of(url, order) == "invoiced"
    pay(url, final, "4082.50")
    assert status_of(url, order) == "invoiced"  # the progress invoice is still open
    pay(url, progress, "4000")
    assert status_of(url, order) == "closed"


def test_a_draft_follows_the_charges_until_it_is_posted(office) -> None:
    url, order = office["url"], office["orders"][1]
    sql(
        url,
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price, "
        "taxable) VALUES (%s, 'labour', 'Install', 1, 500, false)",
        order,
    )
    deposit = run(
        url, lambda s: billing.create_invoice(s, work_order_id=order, kind="deposit", amount="200")
    )
    post(url, deposit)
    complete(url, order)
    final = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    assert invoice_row(url, final)["total"] == D("300.00")
    added = run(
        url,
        lambda s: charges.add_labour(
            s, work_order_id=order, description="Haul away old unit", quantity="1", unit_price="80"
        ),
    )
    lines = sql(
        url, "SELECT kind, amount FROM invoice_lines WHERE invoice_id = %s ORDER BY position", final
    )
    assert lines == [
        ("labour", D("500.00")),
        ("labour", D("80.00")),
        ("less_billed", D("-200.00")),
    ]
    assert invoice_row(url, final)["total"] == D("380.00")
    run(url, lambda s: charges.remove_line_item(s, line_item_id=added))
    assert invoice_row(url, final)["total"] == D("300.00")
    post(url, final)
    with pytest.raises(ValidationError, match="its charges can no longer change"):
        run(
            url,
            lambda s: charges.add_labour(
                s, work_order_id=order, description="More", quantity="1", unit_price="1"
            ),
        )


def test_work_billed_at_nothing_is_closed_when_posted(office) -> None:
    url, order = office["url"], office["orders"][1]
    sql(
        url,
        "INSERT INTO line_items (work_order_id, kind, description, quantity, unit_price) "
        "VALUES (%s, 'labour', 'Free estimate', 1, 0)",
        order,
    )
    complete(url, order)
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    post(url, invoice)
    assert invoice_row(url, invoice)["status"] == "paid"
    assert status_of(url, order) == "closed"


def test_the_office_lists_what_is_not_invoiced_and_what_is_unpaid_by_age(office) -> None:
    url, order = office["url"], office["order"]
    listed = run(url, lambda s: billing.not_invoiced(s))
    assert (listed.count, listed.value) == (1, D("180.00"))
    assert [(r.number, r.customer, r.draft) for r in listed.rows] == [
        (one(url, "SELECT number FROM work_orders WHERE id = %s", order), "José Núñez", False)
    ]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    assert run(url, lambda s: billing.not_invoiced(s)).rows[0].draft is True
    post(url, invoice)
    assert run(url, lambda s: billing.not_invoiced(s)).count == 0
    pay(url, invoice, "83.09")
    later = FixedClock(CLOCK.now() + dt.timedelta(days=45))
    aged = run(url, lambda s: billing.aging(s, clock=later))
    assert aged.buckets["31–60"] == (1, D("100.00"))
    assert aged.buckets["0–30"] == (0, D("0.00"))
    assert [(r.number, r.balance, r.bucket) for r in aged.rows] == [
        ("INV-1001", D("100.00"), "31–60")
    ]
    pay(url, invoice, "100")
    assert run(url, lambda s: billing.aging(s, clock=later)).rows == []


def test_voiding_keeps_the_number_and_lets_the_work_be_invoiced_again(office) -> None:
    url, order = office["url"], office["order"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    post(url, invoice)
    version = invoice_row(url, invoice)["version"]
    with pytest.raises(ValidationError):
        run(
            url,
            lambda s: billing.void_invoice(s, invoice_id=invoice, seen_version=version, reason=" "),
        )
    run(
        url,
        lambda s: billing.void_invoice(
            s, invoice_id=invoice, seen_version=version, reason="Billed the wrong customer"
        ),
    )
    row = invoice_row(url, invoice)
    assert (row["status"], row["number"], row["voided_by"]) == ("void", "INV-1001", "office")
    assert status_of(url, order) == "completed"
    again = run(url, lambda s: billing.create_invoice(s, work_order_id=order))
    assert post(url, again) == "INV-1002"
    with pytest.raises(psycopg.Error, match="INV-1001 is void"):
        sql(url, "UPDATE invoices SET memo = 'x' WHERE id = %s", invoice)


def test_a_posting_that_fails_gives_its_number_back(office) -> None:
    url = office["url"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    with psycopg.connect(libpq_url(url)) as db:
        number = db.execute(
            "UPDATE invoices SET status = 'posted' WHERE id = %s RETURNING number", (invoice,)
        ).fetchone()
        assert number == ("INV-1001",)
        db.rollback()
    assert post(url, invoice) == "INV-1001"


def test_the_first_number_comes_from_the_settings(office) -> None:
    url = office["url"]
    sql(url, "INSERT INTO app_settings (key, value) VALUES ('invoice_first_number', '\"24001\"')")
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    assert post(url, invoice) == "INV-24001"


POSTER = """
import sys, psycopg
url, ids = sys.argv[1], [int(i) for i in sys.argv[2].split(",")]
with psycopg.connect(url, autocommit=True) as db:
    for invoice in ids:
        db.execute("UPDATE invoices SET status = 'posted' WHERE id = %s", (invoice,))
"""


def test_invoices_posted_from_several_processes_at_once_have_no_duplicate_or_gap(office) -> None:
    url, order = office["url"], office["orders"][1]
    drafts = []
    with psycopg.connect(libpq_url(url)) as db:
        for _ in range(120):
            invoice = db.execute(
                "INSERT INTO invoices (work_order_id, customer_id, kind) "
                "SELECT id, customer_id, 'deposit' FROM work_orders WHERE id = %s RETURNING id",
                (order,),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, unit_price, "
                "taxable) VALUES (%s, 'deposit', 'Deposit', 1, 100, false)",
                (invoice,),
            )
            drafts.append(invoice)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", POSTER, libpq_url(url), ",".join(map(str, drafts[i::4]))]
        )
        for i in range(4)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    serials = [row[0] for row in sql(url, "SELECT serial FROM invoices ORDER BY serial")]
    assert serials == list(range(1001, 1001 + len(drafts)))


# -- what no group can do through SQL ----------------------------------------------------
@pytest.fixture
def logins(db_url: str, scratch_server: ScratchServer) -> Iterator[dict[Role, str]]:
    try:
        yield {role: scratch_server.login(db_url, role.value) for role in GROUPS}
    finally:
        scratch_server.drop_logins()


TAMPERING = (
    "UPDATE invoices SET total = 1 WHERE id = {invoice}",
    "UPDATE invoices SET memo = 'changed' WHERE id = {invoice}",
    "UPDATE invoices SET tax_rate = 0 WHERE id = {invoice}",
    "UPDATE invoices SET paid = total WHERE id = {invoice}",
    "UPDATE invoices SET status = 'draft' WHERE id = {invoice}",
    "DELETE FROM invoices WHERE id = {invoice}",
    "UPDATE invoice_lines SET unit_price = 1 WHERE invoice_id = {invoice}",
    "DELETE FROM invoice_lines WHERE invoice_id = {invoice}",
    "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, unit_price) "
    "VALUES ({invoice}, 'fee', 'Extra', 1, 5)",
    "UPDATE payments SET amount = 1 WHERE invoice_id = {invoice}",
    "DELETE FROM payments WHERE invoice_id = {invoice}",
    "DELETE FROM line_items WHERE work_order_id = {order}",
)


def test_a_posted_invoice_cannot_be_changed_through_sql_by_any_group(office, logins) -> None:
    url = office["url"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    post(url, invoice)
    pay(url, invoice, "50")
    before = invoice_row(url, invoice)
    lines_before = sql(
        url, "SELECT * FROM invoice_lines WHERE invoice_id = %s ORDER BY id", invoice
    )
    for role, login_url in [*logins.items(), (Role.OWNER, url)]:
        for statement in TAMPERING:
            with psycopg.connect(libpq_url(login_url)) as db:
                try:
                    db.execute(statement.format(invoice=invoice, order=office["order"]))
                except (
                    psycopg.errors.InsufficientPrivilege,
                    psycopg.errors.RaiseException,
                ) as error:
                    assert error.diag.message_primary, statement
                except psycopg.Error as error:
                    assert error.sqlstate == "DB001", (role, statement, error)
                else:
                    changed = db.execute("SELECT 1").rowcount  # nothing raised: nothing may change
                    db.commit()
                    assert changed == 1
    assert invoice_row(url, invoice) == before
    assert (
        sql(url, "SELECT * FROM invoice_lines WHERE invoice_id = %s ORDER BY id", invoice)
        == lines_before
    )
    assert one(url, "SELECT sum(amount) FROM payments WHERE invoice_id = %s", invoice) == D("50.00")


def test_only_a_manager_voids_or_credits_and_a_csr_does_not_bill(office, logins) -> None:
    url = office["url"]
    invoice = run(url, lambda s: billing.create_invoice(s, work_order_id=office["order"]))
    post(url, invoice)
    dispatcher, manager, csr = logins[Role.DISPATCHER], logins[Role.MANAGER], logins[Role.CSR]
    version = invoice_row(url, invoice)["version"]

    def void(login: str) -> None:
        run(
            login,
            lambda s: billing.void_invoice(
                s, invoice_id=invoice, seen_version=version, reason="Duplicate"
            ),
        )

    with pytest.raises(DBAPIError, match=r"Your role \(Dispatcher\) may not void invoices\."):
        void(dispatcher)
    with pytest.raises(DBAPIError, match="permission denied for table invoices"):
        run(
            csr,
            lambda s: billing.create_invoice(
                s, work_order_id=office["orders"][1], kind="deposit", amount="10"
            ),
        )
    # A manager's draft credit note is still the manager's to post.
    with psycopg.connect(libpq_url(manager)) as db:
        note = db.execute(
            "INSERT INTO invoices (work_order_id, customer_id, kind, credit_of_id) "
            "SELECT work_order_id, customer_id, 'credit', id FROM invoices WHERE id = %s "
            "RETURNING id",
            (invoice,),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, unit_price) "
            "VALUES (%s, 'credit', 'Goodwill', 1, -10)",
            (note,),
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not issue credit notes"):
        sql(dispatcher, "UPDATE invoices SET status = 'posted' WHERE id = %s", note)
    sql(url, "DELETE FROM invoices WHERE id = %s", note)
    # A dispatcher records payments; a manager voids (no money on it yet).
    void(manager)
    assert "manager" in invoice_row(url, invoice)["voided_by"]
