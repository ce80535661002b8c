"""The price book's CSV import and export on a real server, through the real command:
all rows or none, a second import of the same file changes nothing, a huge file is
refused unread, and only a manager may change the book."""

from __future__ import annotations

import asyncio
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

    # Export does not overwrite without being told to.
    kept = pricebook(db_url, tmp_path, "export", str(exported))
    assert kept.returncode == 2
    assert "already exists; add --replace" in one_sentence(kept.stderr)


def test_a_file_with_bad_rows_reports_each_and_imports_nothing(db_url: str, tmp_path: Path) -> None:
    book = tmp_path / "bad.csv"
    book.write_text(
        GOOD
        + "CAP-355,Run capacitor 35/5,part,hvac,each,8,twelve,yes,yes\n"
        + "CAP-455,Duplicate,part,hvac,each,8,12,yes,yes\n"
        + "FLT-1,Filter,part,hvac,each,8,-3,yes,yes\n",
        encoding="utf-8",
    )
    refused = pricebook(db_url, tmp_path, "import", str(book))
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["Row 5", "Row 6", "Row 7"]
    assert "the code CAP-455 is also on row 2" in lines[1]
    assert lines[-1] == "Nothing was imported."
    assert parts(db_url) == []


def test_a_50_mb_file_is_refused_before_it_is_read(db_url: str, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written or held
    refused = pricebook(db_url, tmp_path, "import", str(huge))
    assert refused.returncode == 2
    assert "a price book is at most 20 MB" in one_sentence(refused.stderr)
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
