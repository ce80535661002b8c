"""The price book's CSV import and export on a real server, through the real command:
all rows or none, a second import of the same file changes nothing, a huge file is
refused unread, and only a manager may change the book."""

from __future__ import annotations

import asyncio
import decimal
from pathlib import Path

import psycopg
import pytest

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.errors import PermissionDenied
from dispatch_app.services.price_book import import_price_book_file
from dispatch_app.services.workspace import Workspace
from tests.test_cli import one_sentence, run_main

GOOD = (
    "code,name,kind,trade,unit,cost,price,taxable,active\n"
    'CAP-455,"Run capacitor 45/5 µF, 440 V",part,hvac,each,9.50,38.00,yes,yes\n'
    "SVC-DIAG,Diagnostic fee,service,,each,0,89,no,yes\n"
    "PEX-34,Détendeur 3/4″ — PEX-A,part,plumbing,ft,0.80,1.80,yes,yes\n"
)


def parts(url: str) -> list[tuple]:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT sku, name, kind, trade, cost, unit_price, taxable, version "
            "FROM parts ORDER BY sku"
        ).fetchall()


def pricebook(url: str, tmp_path: Path, *args: str):
    return run_main("--database-url", url, "pricebook", *args, data_dir=tmp_path / "data")


def test_import_then_export_then_import_changes_nothing(db_url: str, tmp_path: Path) -> None:
    book = tmp_path / "price-book.csv"
    book.write_text(GOOD, encoding="utf-8")
    done = pricebook(db_url, tmp_path, "import", str(book))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported price-book.csv: 3 added, 0 changed, 0 unchanged."
    imported = parts(db_url)
    assert [row[:4] for row in imported] == [
        ("CAP-455", "Run capacitor 45/5 µF, 440 V", "part", "hvac"),
        ("PEX-34", "Détendeur 3/4″ — PEX-A", "part", "plumbing"),
        ("SVC-DIAG", "Diagnostic fee", "service", None),
    ]

    exported = tmp_path / "out.csv"
    done = pricebook(db_url, tmp_path, "export", str(exported))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote 3 parts and services to {exported}."
    first_export = exported.read_bytes()
    again = pricebook(db_url, tmp_path, "import", str(exported))
    assert again.stdout.strip() == "Imported out.csv: 0 added, 0 changed, 3 unchanged."
    assert parts(db_url) == imported  # versions too: nothing was rewritten

    # A file of codes, names and prices changes prices only: the columns it leaves out
    # (kind, trade, cost…) stay as they are, and so do the parts it does not name.
    book.write_text('code,name,price\nCAP-455,"Run capacitor 45/5 µF, 440 V",41.00\n', "utf-8")
    changed = pricebook(db_url, tmp_path, "import", str(book))
    assert "0 added, 1 changed, 0 unchanged" in changed.stdout
    now = parts(db_url)
    assert len(now) == 3
    assert now[0][:6] == ("CAP-455", "Run capacitor 45/5 µF, 440 V", "part", "hvac", 9.5, 41)

    # Export does not overwrite without being told to, and leaves no temporary file.
    kept = pricebook(db_url, tmp_path, "export", str(exported))
    assert kept.returncode == 2
    assert "already exists; add --replace" in one_sentence(kept.stderr)
    assert exported.read_bytes() == first_export
    replaced = pricebook(db_url, tmp_path, "export", str(exported), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "41.00" in exported.read_text(encoding="utf-8-sig")
    assert sorted(path.name for path in tmp_path.glob("*.csv*")) == ["out.csv", "price-book.csv"]
    assert not list(tmp_path.glob(".*.part"))


def test_a_file_with_bad_rows_reports_each_and_imports_nothing(db_url: str, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(GOOD, encoding="utf-8")
    assert pricebook(db_url, tmp_path, "import", str(book)).returncode == 0
    before = parts(db_url)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        GOOD.replace("38.00", "41.00")  # a good change, which must not be written either
        + "CAP-355,Run capacitor 35/5,part,hvac,each,8,twelve,yes,yes\n"
        + "CAP-455,Duplicate,part,hvac,each,8,12,yes,yes\n"
        + "FLT-1,Filter,part,hvac,each,8,-3,yes,yes\n",
        encoding="utf-8",
    )
    refused = pricebook(db_url, tmp_path, "import", str(bad))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "Row 5: the price “twelve” is not a number.",
        "Row 6: the code CAP-455 is also on row 2; codes are unique.",
        "Row 7: the price cannot be negative.",
        "Nothing was imported.",
    ]
    assert parts(db_url) == before


def test_a_file_with_many_bad_rows_shows_fifty_and_counts_the_rest(
    db_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,price\n" + "".join(f"P-{n},Part {n},{n}.5.5\n" for n in range(60)),
        encoding="utf-8",
    )
    refused = pricebook(db_url, tmp_path, "import", str(bad))
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 52
    assert lines[0] == "Row 2: the price “0.5.5” is not a number."
    assert lines[49].startswith("Row 51: ")
    assert lines[50:] == ["… and 10 more.", "Nothing was imported."]
    assert parts(db_url) == []


def test_a_book_of_thousands_is_counted_right_across_batches(db_url: str, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(
        "code,name,price\n" + "".join(f"P-{n:04},Part {n},{n}.25\n" for n in range(2_500)),
        encoding="utf-8",
    )
    done = pricebook(db_url, tmp_path, "import", str(book))
    assert done.stdout.strip() == "Imported book.csv: 2500 added, 0 changed, 0 unchanged."

    # Every third price goes up a cent: the changed parts sit in all three batches.
    book.write_text(
        "code,name,price\n"
        + "".join(f"P-{n:04},Part {n},{n}.{25 + (n % 3 == 0)}\n" for n in range(2_500)),
        encoding="utf-8",
    )
    done = pricebook(db_url, tmp_path, "import", str(book))
    assert done.stdout.strip() == "Imported book.csv: 0 added, 834 changed, 1666 unchanged."
    with psycopg.connect(libpq_url(db_url)) as db:
        versions = dict(db.execute("SELECT version, count(*) FROM parts GROUP BY version"))
        prices = db.execute(
            "SELECT unit_price FROM parts WHERE sku IN ('P-2498', 'P-2499') ORDER BY sku"
        ).fetchall()
    assert versions == {1: 1666, 2: 834}
    assert prices == [(decimal.Decimal("2498.25"),), (decimal.Decimal("2499.26"),)]


def test_a_50_mb_file_is_refused_before_it_is_read(db_url: str, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written or held
    refused = pricebook(db_url, tmp_path, "import", str(huge))
    assert refused.returncode == 2
    assert "a price book is at most 20 MB" in one_sentence(refused.stderr)
    assert parts(db_url) == []


def test_a_csr_cannot_import_from_the_command_line(
    db_url: str, scratch_server: ScratchServer, tmp_path: Path
) -> None:
    book = tmp_path / "book.csv"
    book.write_text(GOOD, encoding="utf-8")
    try:
        csr = scratch_server.login(db_url, "csr")
        refused = pricebook(csr, tmp_path, "import", str(book))
    finally:
        scratch_server.drop_logins()
    assert refused.returncode == 9
    said = one_sentence(refused.stderr)
    assert "Only a manager may change the price book, and the database refused" in said
    assert said.endswith("nothing was imported.")
    assert parts(db_url) == []


def test_only_a_manager_changes_the_price_book(db_url: str, scratch_server: ScratchServer) -> None:
    try:
        dispatcher = scratch_server.login(db_url, "dispatcher")
        manager = scratch_server.login(db_url, "manager")

        async def attempt(url: str) -> object:
            workspace = Workspace.connect(url)
            try:
                return await workspace.run(import_price_book_file, GOOD.encode())
            finally:
                await workspace.aclose()

        with pytest.raises(PermissionDenied):
            asyncio.run(attempt(dispatcher))
        assert parts(db_url) == []

        async def as_manager() -> object:
            engine = make_async_engine(manager)
            try:
                return await import_price_book_file(session_factory(engine), GOOD.encode())
            finally:
                await engine.dispose()

        result = asyncio.run(as_manager())
        assert (result.added, result.changed, result.unchanged) == (3, 0, 0)
    finally:
        scratch_server.drop_logins()
