"""A posted invoice as a PDF: ``python main.py invoice pdf`` against a real server, the
text a customer reads in the file, escaped names, PAID and VOID, the company's logo,
and files that are not overwritten by accident."""

from __future__ import annotations

import asyncio
import base64
import decimal
import io
import logging
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, make_sync_engine, session_factory
from dispatch_app.domain.invoice_document import (
    Company,
    DocumentLine,
    InvoiceDocument,
    money,
    quantity_text,
    rate_text,
)
from dispatch_app.errors import UserFacingError
from dispatch_app.services.invoice_print import (
    company_logo,
    invoice_html,
    invoice_number,
    load_invoice_document,
    read_invoice_document,
)
from dispatch_app.ui.invoice_pdf import print_invoice, write_invoice_pdf
from tests.companies import small_company
from tests.test_cli import one_sentence, run_main

D = decimal.Decimal
HOSTILE = "<b>Bob</b> & Sons 'Plumbing' \"Co\""
LINES = [
    # kind, description, quantity, unit price, taxable
    ("labour", "Diagnostic visit — no heat", D("1"), D("89.00"), False),
    ("material", "Hot surface igniter", D("2"), D("45.50"), True),
    ("labour", "Replace igniter & test cycle", D("1.5"), D("120.00"), False),
    ("material", "Furnace filter 16x25x1", D("3"), D("12.99"), True),
]
RATE = D("0.0825")


def sql(url: str, statement: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as db:
        cursor = db.execute(statement, args)
        return cursor.fetchall() if cursor.description else []


def company_settings(url: str, **values: str) -> None:
    for key, value in values.items():
        sql(
            url,
            "INSERT INTO app_settings (key, value) VALUES (%s, to_jsonb(%s::text)) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )


def posted_invoice(
    url: str, *, customer: str | None = None, card_payment: D | None = None
) -> tuple[int, str]:
    """An invoice of ``LINES`` at ``RATE`` on the small company's first work order, posted
    (the database numbers it and sums it), with a card payment if asked."""
    with psycopg.connect(libpq_url(url)) as db:
        order, customer_id = db.execute(
            "SELECT id, customer_id FROM work_orders ORDER BY id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        if customer is not None:
            db.execute("UPDATE customers SET name = %s WHERE id = %s", (customer, customer_id))
        db.execute(
            "INSERT INTO customer_phones (customer_id, number) VALUES (%s, '+13125550142') "
            "ON CONFLICT DO NOTHING",
            (customer_id,),
        )
        invoice = db.execute(
            "INSERT INTO invoices (work_order_id, customer_id, tax_rate) "
            "VALUES (%s, %s, %s) RETURNING id",
            (order, customer_id, RATE),
        ).fetchone()[0]  # type: ignore[index]
        for position, (kind, description, quantity, price, taxable) in enumerate(LINES):
            db.execute(
                "INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity, "
                "unit_price, taxable) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (invoice, position, kind, description, quantity, price, taxable),
            )
        db.execute("UPDATE invoices SET status = 'posted' WHERE id = %s", (invoice,))
        if card_payment is not None:
            db.execute(
                "INSERT INTO payments (invoice_id, method, amount, card_last4, reference) "
                "VALUES (%s, 'card', %s, '4242', 'Auth 00912')",
                (invoice, card_payment),
            )
        number = db.execute("SELECT number FROM invoices WHERE id = %s", (invoice,)).fetchone()[0]  # type: ignore[index]
    return invoice, str(number)


def pdf_text(path: Path) -> str:
    reader = PdfReader(path)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def png_logo(path: Path) -> Path:
    Image.new("RGB", (320, 96), "#23405e").save(path, "PNG")
    return path


# -- the command line ----------------------------------------------------------------------
def test_the_pdf_says_everything_on_the_invoice(db_url: str, tmp_path: Path) -> None:
    small_company(db_url)
    company_settings(
        db_url,
        company_name="Northside Heating & Air",
        company_address="2210 N Clark St\nChicago, IL 60614",
        company_phone="(312) 555-0100",
        company_logo=str(png_logo(tmp_path / "logo.png")),
        invoice_terms="Net 15. A 1.5% monthly charge applies to balances past due.",
    )
    _, number = posted_invoice(db_url, customer=HOSTILE, card_payment=D("100.00"))
    assert number == "INV-1001"
    out = tmp_path / "invoice.pdf"

    result = run_main(
        "--database-url", db_url, "invoice", "pdf", "1001", "--out", str(out), data_dir=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Wrote INV-1001 to {out}."
    text = pdf_text(out)
    amounts = [(quantity * price).quantize(D("0.01")) for _, _, quantity, price, _ in LINES]
    subtotal = sum(amounts, D("0.00"))
    taxable = sum((a for a, line in zip(amounts, LINES, strict=True) if line[4]), D("0.00"))
    tax = (taxable * RATE).quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP)
    total = subtotal + tax
    database = sql(
        db_url, "SELECT subtotal, tax, total, paid FROM invoices WHERE number = %s", number
    )
    assert database == [(subtotal, tax, total, D("100.00"))]
    for expected in (
        "INV-1001",
        HOSTILE,
        "Northside Heating & Air",
        "2210 N Clark St",
        "(312) 555-0142",
        "1432 W Belmont Ave",
        "Chicago, IL 60657",
        "Card ending 4242",
        "Auth 00912",
        f"Subtotal {money(subtotal)}",
        f"Tax ({rate_text(RATE)} on {money(taxable)}) {money(tax)}",
        f"Total {money(total)}",
        f"Paid {money(D('-100.00'))}",
        f"Balance due {money(total - D('100.00'))}",
        "PARTLY PAID",
        "Net 15.",
    ):
        assert expected in text, expected
    for (_, description, quantity, price, _), amount in zip(LINES, amounts, strict=True):
        assert description in text
        assert f"{quantity_text(quantity)} {money(price)} {money(amount)}" in text, description
    assert "<b>Bob</b>" in text and "&lt;" not in text and "&amp;" not in text


def test_a_number_no_invoice_has_is_one_sentence_and_no_file(db_url: str, tmp_path: Path) -> None:
    small_company(db_url)
    out = tmp_path / "missing.pdf"

    result = run_main(
        "--database-url", db_url, "invoice", "pdf", "INV-9999", "--out", str(out), data_dir=tmp_path
    )

    assert result.returncode != 0
    assert "There is no invoice INV-9999" in one_sentence(result.stderr)
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == []


def test_something_that_is_no_invoice_number_is_refused_before_the_database(
    tmp_path: Path,
) -> None:
    result = run_main(
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/none",
        "invoice",
        "pdf",
        "WO-10001",
        "--out",
        str(tmp_path / "x.pdf"),
        data_dir=tmp_path,
    )

    assert result.returncode != 0
    assert "is not an invoice number like INV-1001" in one_sentence(result.stderr)


def test_an_existing_file_is_kept_unless_replace(db_url: str, tmp_path: Path) -> None:
    small_company(db_url)
    _, number = posted_invoice(db_url)
    out = tmp_path / "kept.pdf"
    out.write_bytes(b"the accountant's copy")

    refused = run_main(
        "--database-url", db_url, "invoice", "pdf", number, "--out", str(out), data_dir=tmp_path
    )

    assert refused.returncode != 0
    assert "already exists; add --replace" in one_sentence(refused.stderr)
    assert out.read_bytes() == b"the accountant's copy"

    replaced = run_main(
        "--database-url",
        db_url,
        "invoice",
        "pdf",
        number,
        "--out",
        str(out),
        "--replace",
        data_dir=tmp_path,
    )

    assert replaced.returncode == 0, replaced.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert number in pdf_text(out)
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == ["kept.pdf"]


# -- in this process ---------------------------------------------------------------------------
def test_paid_and_void_are_stamped_and_the_app_reads_the_same(
    db_url: str, tmp_path: Path, qapp: object
) -> None:
    small_company(db_url)
    invoice, number = posted_invoice(db_url)
    total = sql(db_url, "SELECT total FROM invoices WHERE id = %s", invoice)[0][0]
    sql(
        db_url,
        "INSERT INTO payments (invoice_id, method, amount, check_number) "
        "VALUES (%s, 'check', %s, '1187')",
        invoice,
        total,
    )

    async def in_the_app() -> InvoiceDocument:
        engine = make_async_engine(db_url, editor="office")
        try:
            return await load_invoice_document(session_factory(engine), number)
        finally:
            await engine.dispose()

    from_the_app = asyncio.run(in_the_app())
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as connection:
            document = read_invoice_document(connection, number.lower())
    finally:
        engine.dispose()
    assert from_the_app == document
    assert document.status == "paid" and document.balance == 0
    assert [payment.method for payment in document.payments] == ["Check 1187"]
    paid = tmp_path / "paid.pdf"
    write_invoice_pdf(document, paid)
    assert "PAID" in pdf_text(paid)
    assert f"Balance due {money(D('0.00'))}" in pdf_text(paid)
    # The app's Print button: the same page through a printer (here one that makes a PDF).
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert print_invoice(document, printer)
    assert pdf_text(tmp_path / "printed.pdf") == pdf_text(paid)

    _, other = posted_invoice(db_url)
    sql(
        db_url,
        "UPDATE invoices SET status = 'void', void_reason = 'Billed twice' WHERE number = %s",
        other,
    )
    engine = make_sync_engine(db_url)
    try:
        with engine.connect() as connection:
            void = read_invoice_document(connection, other)
    finally:
        engine.dispose()
    path = tmp_path / "void.pdf"
    write_invoice_pdf(void, path)
    text = pdf_text(path)
    assert "VOID" in text and "Billed twice" in text
    assert f"Balance due {money(D('0.00'))}" in text  # a void invoice asks for nothing


def test_a_logo_that_cannot_be_read_is_left_out_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    picture = png_logo(tmp_path / "logo.png")
    as_file = company_logo(str(picture))
    assert as_file is not None and (as_file.width, as_file.height) == (320, 96)
    encoded = base64.b64encode(picture.read_bytes()).decode()
    assert company_logo(encoded) == as_file
    assert company_logo(f"data:image/png;base64,{encoded}") == as_file

    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    (tmp_path / "logo.gif").write_bytes(gif.getvalue())
    (tmp_path / "broken.png").write_bytes(picture.read_bytes()[:60])
    with caplog.at_level(logging.WARNING, logger="dispatch_app.services.invoice_print"):
        for setting in (
            str(tmp_path / "nowhere.png"),
            str(tmp_path / "logo.gif"),
            str(tmp_path / "broken.png"),
            str(tmp_path),
        ):
            assert company_logo(setting) is None, setting
    assert len(caplog.records) == 4
    assert company_logo("") is None and company_logo(42) is None


def test_every_value_is_escaped_in_the_html() -> None:
    document = InvoiceDocument(
        number="INV-1001",
        kind="standard",
        status="posted",
        issued_on=None,
        due_on=None,
        company=Company("<i>Acme</i>", ("1 <Main> St",), "&phone"),
        customer_name=HOSTILE,
        customer_phone="",
        customer_email="a<b@example.com",
        billing_address=(),
        site_address=("<script>",),
        work_order_number="WO-1",
        lines=(DocumentLine("<td>pipe</td>", D(1), D(5), D(5), True),),
        subtotal=D(5),
        taxable_subtotal=D(5),
        tax_rate=D(0),
        tax=D(0),
        total=D(5),
        paid=D(0),
        credited=D(0),
        payments=(),
        terms="<hr>",
        memo="a & b",
    )
    page = invoice_html(document)
    for raw in ("<i>Acme", "<Main>", "&phone", "<b>Bob", "a<b@", "<script>", "<td>pipe", "a & b"):
        assert raw not in page, raw
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Sons" in page


def test_invoice_numbers_are_read_as_people_type_them() -> None:
    for typed in ("INV-1001", "inv-1001", " 1001 ", "INV 1001", "INV1001"):
        assert invoice_number(typed) == "INV-1001"
    for nonsense in ("", "WO-10001", "INV-", "10.5", "1" * 12):
        with pytest.raises(UserFacingError, match="not an invoice number"):
            invoice_number(nonsense)
    assert money(D("-30")) == "−$30.00" and money(D("1500")) == "$1,500.00"
