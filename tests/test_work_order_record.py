"""The whole work order as the editor reads and writes it, against a real server: line
items and totals, the parts list, notes, photos, time entries, status changes by the
state machine, and the audit log. A refused write says why in one sentence and leaves
no trace."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import io
import itertools
import json
import os
import struct
import subprocess
import sys
import unicodedata
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.db.models import MAX_PHOTO_BYTES
from dispatch_app.domain.vocabulary import WorkOrderStatus
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services import work_order as wo
from dispatch_app.services.work_orders import save_work_order
from tests.companies import DAY, TZ, small_company
from tests.test_work_order_status import ALLOWED
from tests.work_order_data import add_parts, picture, record_counts

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
STATUSES = [s.value for s in WorkOrderStatus]
D = decimal.Decimal


def run(url: str, operation: Callable[[Sessions], Awaitable[T]], editor: str = "jsmith") -> T:
    """One service call on its own engine, as a workstation signed in as ``editor``."""

    async def scenario() -> T:
        engine = make_async_engine(url, editor=editor)
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def record(url: str, work_order_id: int) -> wo.WorkOrderRecord:
    return run(url, lambda s: wo.load_record(s, work_order_id))


@pytest.fixture
def company(db_url: str) -> dict[str, Any]:
    """The small company, its parts list, and the first booked work order."""
    techs = small_company(db_url)
    parts = add_parts(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        order = db.execute(
            "SELECT work_order_id FROM visits WHERE starts IS NOT NULL ORDER BY starts LIMIT 1"
        ).fetchone()[0]
        waiting = db.execute(
            "SELECT work_order_id FROM visits WHERE starts IS NULL LIMIT 1"
        ).fetchone()[0]
    return {"url": db_url, "techs": techs, "parts": parts, "order": order, "waiting": waiting}


def refused(
    url: str, order: int, operation: Callable[[Sessions], Awaitable[Any]]
) -> ValidationError:
    """Run an operation that must be refused; check it wrote nothing; return the refusal."""
    before = record_counts(url, order)
    with pytest.raises(ValidationError) as refusal:
        run(url, operation)
    assert record_counts(url, order) == before
    for sentence in refusal.value.fields.values():
        # One sentence (a file name may start it in lower case).
        assert sentence == sentence.strip() and sentence.rstrip(")").endswith("."), sentence
    return refusal.value


# -- line items ------------------------------------------------------------------------
def test_line_items_add_up_by_kind(company) -> None:
    url, order, parts = company["url"], company["order"], company["parts"]
    run(
        url,
        lambda s: wo.add_labour(
            s,
            work_order_id=order,
            description="Diagnose and repair",
            quantity="1.5",
            unit_price="95",
        ),
    )
    run(
        url,
        lambda s: wo.add_material(s, work_order_id=order, part_id=parts["CAP-4505"], quantity=2),
    )
    run(
        url,
        lambda s: wo.add_material(
            s, work_order_id=order, part_id=parts["REF-410A"], quantity="2.25"
        ),
    )
    shown = record(url, order)
    assert [i.total for i in shown.line_items] == [D("142.50"), D("49.00"), D("94.50")]
    assert (shown.labour_total, shown.material_total, shown.total) == (
        D("142.50"),
        D("143.50"),
        D("286.00"),
    )

    labour = shown.line_items[0]
    run(
        url,
        lambda s: wo.update_line_item(
            s, line_item_id=labour.id, seen_version=labour.version, quantity="2"
        ),
    )
    assert record(url, order).total == D("333.50")
    with pytest.raises(ConflictError, match="changed by someone else"):  # stale version
        run(
            url,
            lambda s: wo.update_line_item(
                s, line_item_id=labour.id, seen_version=labour.version, quantity="3"
            ),
        )
    run(url, lambda s: wo.remove_line_item(s, line_item_id=labour.id))
    assert record(url, order).total == D("143.50")


@pytest.mark.parametrize(
    ("quantity", "price", "field", "words"),
    [
        ("0", "10", "quantity", "more than zero"),
        ("-1", "10", "quantity", "more than zero"),
        ("two", "10", "quantity", "not a number"),
        ("1", "-5", "unit_price", "cannot be negative"),
        ("1", "9.999", "unit_price", "two decimal places"),
        ("1", "100000000", "unit_price", "too large"),
        # Exponents, NaN and the like are not how anyone types a price.
        ("1", "1e12", "unit_price", "not a number"),
        ("NaN", "1", "quantity", "not a number"),
        # Typed the European way, or a programmer's way: never guessed at.
        ("1,5", "95", "quantity", "“1,5” is unclear"),
        ("1", "15,00", "unit_price", "“15,00” is unclear"),
        ("1", "1_000", "unit_price", "“1_000” is unclear"),
        ("١", "95", "quantity", "digits 0–9"),
    ],
)
def test_impossible_amounts_are_refused(company, quantity, price, field, words) -> None:
    url, order = company["url"], company["order"]
    refusal = refused(
        url,
        order,
        lambda s: wo.add_labour(
            s, work_order_id=order, description="Labour", quantity=quantity, unit_price=price
        ),
    )
    assert words in refusal.fields[field]


def test_amounts_typed_the_us_way_are_read_one_way(company) -> None:
    url, order = company["url"], company["order"]
    for quantity, price in (("1.5", "$1,500.00"), (".5", "1,500"), ("2", "1500")):
        run(
            url,
            lambda s, quantity=quantity, price=price: wo.add_labour(
                s, work_order_id=order, description="Labour", quantity=quantity, unit_price=price
            ),
        )
    items = record(url, order).line_items
    assert [(i.quantity, i.unit_price, i.total) for i in items[-3:]] == [
        (D("1.50"), D("1500.00"), D("2250.00")),
        (D("0.50"), D("1500.00"), D("750.00")),
        (D("2.00"), D("1500.00"), D("3000.00")),
    ]


def test_materials_come_from_the_parts_list(company) -> None:
    url, order, parts = company["url"], company["order"], company["parts"]
    assert [p.sku for p in run(url, lambda s: wo.search_parts(s, "cap"))] == ["CAP-4505"]
    assert [p.sku for p in run(url, lambda s: wo.search_parts(s, "IGNITER"))] == ["IGN-HSI"]
    assert [p.sku for p in run(url, lambda s: wo.search_parts(s, "ref-4"))] == ["REF-410A"]
    assert run(url, lambda s: wo.search_parts(s, "%")) == []  # a wildcard is just a character
    assert len(run(url, lambda s: wo.search_parts(s, ""))) == 4

    run(
        url, lambda s: wo.add_material(s, work_order_id=order, part_id=parts["IGN-HSI"], quantity=1)
    )
    run(
        url,
        lambda s: wo.add_material(
            s, work_order_id=order, part_id=parts["FLT-1625"], quantity=3, unit_price="10.00"
        ),
    )
    igniter, filters = record(url, order).line_items
    assert (igniter.kind, igniter.sku, igniter.description, igniter.unit_price) == (
        "material",
        "IGN-HSI",
        "Hot surface igniter",
        D("68.00"),
    )
    assert (filters.unit_price, filters.total) == (D("10.00"), D("30.00"))  # price overridden

    with psycopg.connect(libpq_url(url)) as db:
        db.execute("UPDATE parts SET active = false WHERE sku = 'CAP-4505'")
    assert run(url, lambda s: wo.search_parts(s, "cap")) == []
    refusal = refused(
        url,
        order,
        lambda s: wo.add_material(s, work_order_id=order, part_id=parts["CAP-4505"], quantity=1),
    )
    assert refusal.fields == {"part": "That part is no longer in the parts list."}


def test_charges_of_an_invoiced_work_order_cannot_change(company) -> None:
    url, order = company["url"], company["order"]
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("UPDATE work_orders SET status = 'invoiced' WHERE id = %s", (order,))
    refusal = refused(
        url,
        order,
        lambda s: wo.add_labour(
            s, work_order_id=order, description="More work", quantity=1, unit_price=90
        ),
    )
    assert "is invoiced; its charges can no longer change" in refusal.fields["work_order"]


# -- notes -----------------------------------------------------------------------------
def test_a_note_is_signed_by_the_editor_and_listed_newest_first(company) -> None:
    url, order = company["url"], company["order"]
    run(url, lambda s: wo.add_note(s, work_order_id=order, body="Gate code 4471"), editor="ava")
    run(url, lambda s: wo.add_note(s, work_order_id=order, body="  Dog is friendly 🐕  "))
    notes = record(url, order).notes
    assert [(n.author, n.body) for n in notes] == [
        ("jsmith", "Dog is friendly 🐕"),
        ("ava", "Gate code 4471"),
    ]
    now = dt.datetime.now(TZ)
    assert all(abs(now - n.created_at) < dt.timedelta(minutes=1) for n in notes)
    assert notes[0].created_at.tzinfo is not None


def _stored_text(text: str) -> str:
    """An independent oracle of what is kept: line endings made \\n, NFC, outer blanks
    gone."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _refused_text(text: str) -> bool:
    """An independent oracle: blank, or a character that is not printable text."""
    kept = _stored_text(text)
    return not kept or any(
        char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cs") for char in kept
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(max_size=300))
@example(body="Zoë says: 東京の友人 — مرحبا — Привет 🔥🧯")
@example(body="Pasted from a terminal \x1b[31mred\x1b[0m")
@example(body="NUL\x00inside")
@example(body="bell\x07")
@example(body="Windows mail\r\nsecond line\tindented")
@example(body="   \n\t ")
def test_any_note_is_stored_exactly_or_refused_without_a_trace(company, body) -> None:
    url, order = company["url"], company["order"]
    before = record_counts(url, order)
    try:
        note_id = run(url, lambda s: wo.add_note(s, work_order_id=order, body=body))
    except ValidationError as refusal:
        assert _refused_text(body)
        assert set(refusal.fields) == {"body"} and refusal.fields["body"].endswith(".")
        assert record_counts(url, order) == before
    else:
        assert not _refused_text(body)
        stored = next(n for n in record(url, order).notes if n.id == note_id)
        assert stored.body == _stored_text(body)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(description=st.text(max_size=200), note=st.text(max_size=200))
def test_any_line_item_text_and_time_note_is_stored_exactly_or_refused(
    company, description, note
) -> None:
    url, order, ava = company["url"], company["order"], company["techs"]["Ava Kowalski"]
    before = record_counts(url, order)
    try:
        run(
            url,
            lambda s: wo.add_labour(
                s, work_order_id=order, description=description, quantity=1, unit_price=80
            ),
        )
    except ValidationError as refusal:
        assert _refused_text(description) and set(refusal.fields) == {"description"}
        assert record_counts(url, order) == before
    else:
        assert record(url, order).line_items[-1].description == _stored_text(description)
    before = record_counts(url, order)
    start = dt.datetime.combine(DAY, dt.time(8), tzinfo=TZ)
    try:
        run(
            url,
            lambda s: wo.add_time_entry(
                s,
                work_order_id=order,
                technician_id=ava,
                started_at=start,
                ended_at=start + dt.timedelta(hours=1),
                note=note,
            ),
        )
    except ValidationError as refusal:
        assert _stored_text(note) and _refused_text(note) and set(refusal.fields) == {"note"}
        assert record_counts(url, order) == before
    else:
        assert record(url, order).time_entries[-1].note == _stored_text(note)


def test_a_hundred_kilobyte_text_is_the_limit(company) -> None:
    url, order = company["url"], company["order"]
    longest = "Long pasted email. " * 5263 + "abc"  # exactly 100,000 characters
    assert len(longest) == 100_000
    run(url, lambda s: wo.add_note(s, work_order_id=order, body=longest))
    assert record(url, order).notes[0].body == longest
    refusal = refused(url, order, lambda s: wo.add_note(s, work_order_id=order, body=longest + "!"))
    assert refusal.fields["body"] == ("The note is 100,001 characters long; the limit is 100,000.")
    version = record(url, order).version
    refusal = refused(
        url,
        order,
        lambda s: save_work_order(
            s, work_order_id=order, seen_version=version, fields={"description": longest + "!"}
        ),
    )
    assert "limit is 100,000" in refusal.fields["description"]


# -- the work order's own fields -------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"requested_start": "2026-02-30T09:00-06:00", "requested_end": None},
            "requested_start",
            "not a real date and time",
        ),
        (
            {"requested_start": dt.datetime(2026, 12, 1, 9), "requested_end": None},
            "requested_start",
            "must carry a time zone",
        ),
        (
            {
                "requested_start": dt.datetime(2026, 12, 1, 12, tzinfo=TZ),
                "requested_end": dt.datetime(2026, 12, 1, 9, tzinfo=TZ),
            },
            "requested_end",
            "must end after it starts",
        ),
        (
            {
                "requested_start": dt.datetime(2626, 12, 1, 9, tzinfo=TZ),
                "requested_end": dt.datetime(2626, 12, 1, 12, tzinfo=TZ),
            },
            "requested_start",
            "is in 2626",
        ),
        (
            {"requested_start": dt.datetime(2026, 12, 1, 9, tzinfo=TZ), "requested_end": None},
            "requested_end",
            "both ends",
        ),
        ({"source": "carrier pigeon"}, "source", "must be phone, web"),
        ({"description": "Furnace\x00"}, "description", "NUL"),
        ({"description": "Furnace \x1b[0m"}, "description", "control character (U+001B)"),
        ({"equipment_id": 999_999}, "equipment_id", "not at this work order's site"),
        ({"status": "closed"}, "status", "cannot be edited here"),
    ],
)
def test_bad_field_edits_are_refused_per_field(company, fields, field, words) -> None:
    url, order = company["url"], company["order"]
    version = record(url, order).version
    refusal = refused(
        url,
        order,
        lambda s: save_work_order(s, work_order_id=order, seen_version=version, fields=fields),
    )
    assert words in refusal.fields[field], refusal.fields


def test_the_requested_window_source_and_equipment_are_saved(company) -> None:
    url, order = company["url"], company["order"]
    with psycopg.connect(libpq_url(url)) as db:
        furnace = db.execute(
            "INSERT INTO equipment (site_id, kind, make, model) SELECT site_id, 'Furnace', "
            "'Carrier', '59SC5' FROM work_orders WHERE id = %s RETURNING id",
            (order,),
        ).fetchone()[0]
    version = record(url, order).version
    saved = run(
        url,
        lambda s: save_work_order(
            s,
            work_order_id=order,
            seen_version=version,
            fields={
                "source": "web",
                "equipment_id": furnace,
                "requested_start": "2026-12-02T08:00:00-06:00",
                "requested_end": dt.datetime(2026, 12, 2, 12, tzinfo=TZ),
            },
        ),
    )
    assert saved["requested_start"] == dt.datetime(2026, 12, 2, 8, tzinfo=TZ)
    shown = record(url, order)
    assert shown.fields["source"] == "web" and shown.fields["equipment_id"] == furnace
    assert [c.label for c in shown.equipment] == ["Furnace · Carrier 59SC5"]
    assert shown.customer_name == "José Núñez"
    assert shown.site_address == "1432 W Belmont Ave, Chicago, IL 60657"


# -- photos ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "size", "content_type"),
    [
        ("PNG", (1200, 800), "image/png"),
        ("JPEG", (3000, 2000), "image/jpeg"),
        ("WEBP", (400, 900), "image/webp"),
    ],
)
def test_a_photo_comes_back_byte_for_byte_with_a_thumbnail(company, fmt, size, content_type):
    url, order = company["url"], company["order"]
    data = picture(fmt, size)
    photo_id = run(
        url,
        lambda s: wo.attach_photo(
            s,
            work_order_id=order,
            filename=f"furnace.{fmt.lower()}",
            data=data,
            caption="Heat exchanger",
        ),
    )
    (listed,) = record(url, order).photos
    assert not hasattr(listed, "data")  # lists carry the thumbnail only
    assert (listed.id, listed.content_type, listed.byte_size) == (photo_id, content_type, len(data))
    assert (listed.width, listed.height, listed.uploaded_by) == (*size, "jsmith")
    with Image.open(io.BytesIO(listed.thumbnail)) as thumb:
        assert max(thumb.size) == wo.THUMBNAIL_SIDE
        assert abs(thumb.size[0] / thumb.size[1] - size[0] / size[1]) < 0.02
    full = run(url, lambda s: wo.load_photo(s, photo_id=photo_id))
    assert full.data == data and full.filename == f"furnace.{fmt.lower()}"
    run(url, lambda s: wo.remove_photo(s, photo_id=photo_id))
    assert record(url, order).photos == ()
    with pytest.raises(ConflictError, match="removed"):
        run(url, lambda s: wo.load_photo(s, photo_id=photo_id))


def _oversized() -> bytes:
    data = picture("PNG", (64, 64))
    return data + b"\0" * (MAX_PHOTO_BYTES + 1 - len(data))


@pytest.mark.parametrize(
    ("filename", "make", "words"),
    [
        (
            "huge.png",
            _oversized,
            "is 15,728,641 bytes; a photo can be at most 15,728,640 bytes (15.0 MB)",
        ),
        ("notes.jpg", lambda: b"Customer: Mrs Patel\nGate code 4471\n" * 20, "is not a picture"),
        ("cut.jpg", lambda: picture("JPEG", (800, 600))[:6000], "damaged or incomplete"),
        ("empty.jpg", lambda: b"", "is empty (0 bytes)"),
        ("scan.bmp", lambda: picture("BMP", (40, 40)), "attach a JPEG, PNG, WebP or GIF"),
    ],
    ids=["oversized", "text", "truncated", "empty", "bmp"],
)
def test_a_bad_photo_is_refused_with_a_sentence_and_nothing_stored(company, filename, make, words):
    url, order = company["url"], company["order"]
    data = make()
    refusal = refused(
        url, order, lambda s: wo.attach_photo(s, work_order_id=order, filename=filename, data=data)
    )
    assert words in refusal.fields["photo"] and filename in refusal.fields["photo"]


def test_a_file_too_large_is_refused_before_it_is_read(company, tmp_path) -> None:
    url, order = company["url"], company["order"]
    video = tmp_path / "walkthrough.mov"
    with video.open("wb") as out:
        out.truncate(MAX_PHOTO_BYTES * 4)  # sparse: large on paper, nothing to read
    refusal = refused(
        url, order, lambda s: wo.attach_photo_file(s, work_order_id=order, path=video)
    )
    assert refusal.fields["photo"].startswith("walkthrough.mov is 60.0 MB")
    refusal = refused(
        url,
        order,
        lambda s: wo.attach_photo_file(s, work_order_id=order, path=tmp_path / "gone.jpg"),
    )
    assert "gone.jpg could not be read" in refusal.fields["photo"]


def flat_png(path: Path, width: int, height: int, *, bits: int = 8, colour: int = 2) -> Path:
    """A PNG of one flat colour, written a row at a time: a few hundred kilobytes on disk
    however many pixels its header claims, and never that many pixels in memory here."""
    channels = {0: 1, 2: 3}[colour]
    row = b"\0" + b"\0" * ((width * channels * bits + 7) // 8)
    squeeze = zlib.compressobj(9)
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="module")
def ten_thousand_square(tmp_path_factory) -> Path:
    """10,000 × 10,000 pixels (100 megapixels, 300 MB decoded) in a small file."""
    return flat_png(tmp_path_factory.mktemp("photos") / "flat.png", 10_000, 10_000)


def test_a_picture_larger_than_a_phone_makes_is_refused_from_its_header(
    company, ten_thousand_square
) -> None:
    url, order = company["url"], company["order"]
    assert ten_thousand_square.stat().st_size < MAX_PHOTO_BYTES
    refusal = refused(
        url,
        order,
        lambda s: wo.attach_photo_file(s, work_order_id=order, path=ten_thousand_square),
    )
    assert refusal.fields["photo"].startswith(
        "flat.png is 10,000 × 10,000 pixels; a photo can have at most 64 megapixels."
    )


MEASURE_INSPECTION = """
import json, resource, sys
from pathlib import Path
from dispatch_app.errors import ValidationError
from dispatch_app.services.work_order.photos import inspect_photo
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    inspect_photo(data, "flat.png")
    said = None
except ValidationError as refusal:
    said = refusal.fields["photo"]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"said": said, "grew_kb": after - before}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in kilobytes is Linux's")
def test_refusing_a_huge_picture_never_decodes_it(ten_thousand_square) -> None:
    """Checked in a fresh process, whose peak memory is its own: decoding the picture
    would take 300 MB; refusing it from its header takes next to nothing."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE_INSPECTION, str(ten_thousand_square)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(result.stdout)
    assert "10,000 × 10,000 pixels" in measured["said"]
    assert measured["grew_kb"] < 32 * 1024, measured


def test_a_decompression_bomb_far_past_the_limit_is_refused(company, tmp_path) -> None:
    url, order = company["url"], company["order"]
    bomb = flat_png(tmp_path / "bomb.png", 30_000, 30_000, bits=1, colour=0)  # 900 megapixels
    refusal = refused(url, order, lambda s: wo.attach_photo_file(s, work_order_id=order, path=bomb))
    assert refusal.fields["photo"] == (
        "bomb.png has far more pixels than a photo can have (at most 64 megapixels)."
    )


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    return path


@pytest.mark.skipif(sys.platform != "linux", reason="Linux devices and /proc")
@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: Path("/dev/zero"), "zero is not a file (it is a device, a pipe or a socket)"),
        (lambda tmp: Path("/dev/urandom"), "urandom is not a file"),
        (_fifo, "pipe.jpg is not a file (it is a device, a pipe or a socket)"),
        (lambda tmp: tmp, "is a folder, not a photo"),
        (lambda tmp: Path("/proc/self/environ"), "environ is not a file on disk but a system file"),
    ],
    ids=["dev-zero", "dev-urandom", "fifo", "folder", "proc-environ"],
)
def test_only_an_ordinary_file_is_attached(company, tmp_path, make, words) -> None:
    url, order = company["url"], company["order"]
    path = make(tmp_path)
    refusal = refused(url, order, lambda s: wo.attach_photo_file(s, work_order_id=order, path=path))
    assert words in refusal.fields["photo"]


# -- time entries ----------------------------------------------------------------------
def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def test_time_entries_are_listed_with_their_duration(company) -> None:
    url, order, techs = company["url"], company["order"], company["techs"]
    run(
        url,
        lambda s: wo.add_time_entry(
            s,
            work_order_id=order,
            technician_id=techs["Ava Kowalski"],
            started_at=at(8),
            ended_at=at(9, 30),
            note="Diagnosis",
        ),
    )
    (entry,) = record(url, order).time_entries
    assert (entry.technician, entry.duration, entry.note, entry.created_by) == (
        "Ava Kowalski",
        dt.timedelta(hours=1, minutes=30),
        "Diagnosis",
        "jsmith",
    )
    run(url, lambda s: wo.remove_time_entry(s, time_entry_id=entry.id))
    assert record(url, order).time_entries == ()


@pytest.mark.parametrize(
    ("start", "end", "field", "words"),
    [
        (at(10), at(9), "ended_at", "after the start"),
        (at(10), at(10), "ended_at", "after the start"),
        (at(6), at(6, 1, DAY + dt.timedelta(days=1)), "ended_at", "at most 24 hours"),
        (dt.datetime(2026, 12, 1, 8), at(9), "started_at", "must carry a time zone"),
        ("2026-02-30T08:00-06:00", at(9), "started_at", "not a real date and time"),
        ("yesterday-ish", at(9), "started_at", "not a real date and time"),
        (at(8), None, "ended_at", "Give the time the work ended"),
        (at(8, day=dt.date(1999, 12, 31)), at(9), "started_at", "between 2000 and 2099"),
    ],
)
def test_impossible_times_are_refused(company, start, end, field, words) -> None:
    url, order, ava = company["url"], company["order"], company["techs"]["Ava Kowalski"]
    refusal = refused(
        url,
        order,
        lambda s: wo.add_time_entry(
            s, work_order_id=order, technician_id=ava, started_at=start, ended_at=end
        ),
    )
    assert words in refusal.fields[field], refusal.fields


def test_time_for_an_unknown_technician_is_refused(company) -> None:
    url, order = company["url"], company["order"]
    refusal = refused(
        url,
        order,
        lambda s: wo.add_time_entry(
            s, work_order_id=order, technician_id=999_999, started_at=at(8), ended_at=at(9)
        ),
    )
    assert refusal.fields == {"technician": "Choose the technician from the list."}


# -- status ----------------------------------------------------------------------------
def _put(url: str, order: int, status: str) -> None:
    """Set the work order (and its visit) to ``status`` behind the service's back."""
    reason = "set up by the test" if status in ("cancelled", "no_show") else None
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "UPDATE work_orders SET status = %s, cancel_reason = %s WHERE id = %s",
            (status, reason, order),
        )
        db.execute("UPDATE visits SET status = 'unscheduled' WHERE work_order_id = %s", (order,))


def test_every_status_change_through_the_service(company) -> None:
    """All 100 (from, to) pairs: allowed ones write the status and one history row, refused
    ones raise the domain's sentence and write nothing."""
    url, order = company["url"], company["waiting"]
    outcomes: dict[tuple[str, str], str] = {}

    async def attempt(sessions: Sessions, current: str, target: str) -> None:
        await wo.change_status(
            sessions,
            work_order_id=order,
            seen_status=current,
            status=target,
            reason="Customer called to cancel — Zoë",
        )

    for current, target in itertools.product(STATUSES, STATUSES):
        _put(url, order, current)
        before = record_counts(url, order)
        try:
            run(url, lambda s, c=current, t=target: attempt(s, c, t))  # type: ignore[misc]
        except ValidationError as refusal:
            assert (current, target) not in ALLOWED
            assert set(refusal.fields) == {"status"}
            assert refusal.fields["status"].endswith(".")
            assert record_counts(url, order) == before
            outcomes[current, target] = "refused"
        else:
            assert (current, target) in ALLOWED
            after = record_counts(url, order)
            assert after["order"][0] == target
            assert after["order"][1] == (
                "Customer called to cancel — Zoë" if target in ("cancelled", "no_show") else None
            )
            step = record(url, order).history[0]
            assert (step.visit_sequence, step.from_status, step.to_status, step.changed_by) == (
                None,
                current,
                target,
                "jsmith",
            )
            outcomes[current, target] = "done"
    assert {pair for pair, outcome in outcomes.items() if outcome == "done"} == ALLOWED


def test_cancelling_needs_a_reason_and_ends_the_open_visits(company) -> None:
    url, order = company["url"], company["order"]  # scheduled, one scheduled visit
    refusal = refused(
        url,
        order,
        lambda s: wo.change_status(
            s, work_order_id=order, seen_status="scheduled", status="cancelled"
        ),
    )
    assert refusal.fields == {"reason": "Cancelling needs a reason."}
    refusal = refused(
        url,
        order,
        lambda s: wo.change_status(
            s, work_order_id=order, seen_status="scheduled", status="no_show", reason="gone\x07"
        ),
    )
    assert "control character" in refusal.fields["reason"]

    run(
        url,
        lambda s: wo.change_status(
            s,
            work_order_id=order,
            seen_status="scheduled",
            status="cancelled",
            reason="  Sold the house  ",
        ),
    )
    shown = record(url, order)
    assert (shown.status, shown.cancel_reason) == ("cancelled", "Sold the house")
    assert [v.status for v in shown.visits] == ["cancelled"]
    assert {(h.visit_sequence, h.to_status, h.reason) for h in shown.history} == {
        (None, "cancelled", "Sold the house"),
        (1, "cancelled", "Sold the house"),
    }


def test_a_status_changed_meanwhile_is_a_conflict(company) -> None:
    url, order = company["url"], company["order"]
    with psycopg.connect(libpq_url(url), options="-c dispatch.editor=ava") as db:
        db.execute("UPDATE work_orders SET status = 'dispatched' WHERE id = %s", (order,))
    before = record_counts(url, order)
    with pytest.raises(ConflictError, match=r"was set to dispatched by ava at \d\d:\d\d"):
        run(
            url,
            lambda s: wo.change_status(
                s, work_order_id=order, seen_status="scheduled", status="new"
            ),
        )
    assert record_counts(url, order) == before


# -- the audit log ---------------------------------------------------------------------
def test_the_audit_log_says_who_changed_what_and_when(company) -> None:
    url, order, parts = company["url"], company["order"], company["parts"]
    version = record(url, order).version
    run(
        url,
        lambda s: save_work_order(
            s, work_order_id=order, seen_version=version, fields={"priority": "urgent"}
        ),
    )
    run(
        url,
        lambda s: wo.add_material(s, work_order_id=order, part_id=parts["CAP-4505"], quantity=1),
        editor="ava",
    )
    run(
        url,
        lambda s: wo.attach_photo(
            s, work_order_id=order, filename="panel.png", data=picture("PNG", (300, 200))
        ),
        editor="marcus",
    )
    audit = record(url, order).audit
    now = dt.datetime.now(TZ)
    lines = [(a.changed_by, a.text) for a in audit]
    assert lines[:3] == [
        ("marcus", lines[0][1]),
        ("ava", "Line item added: Capacitor 45/5 µF × 1 @ $24.50"),
        ("jsmith", "Work order changed: priority normal → urgent"),
    ]
    assert lines[0][1].startswith("Photo added: panel.png (") and lines[0][1].endswith("KB)")
    assert all(abs(now - a.changed_at) < dt.timedelta(minutes=1) for a in audit[:3])
    assert audit[0].changed_at >= audit[1].changed_at >= audit[2].changed_at  # newest first
    assert "data" not in audit[0].changes and "thumbnail" not in audit[0].changes
