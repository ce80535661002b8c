"""Pictures, parts and counts shared by the work-order record, editor and round-trip tests."""

from __future__ import annotations

import io
from typing import Any

import psycopg
from PIL import Image, ImageDraw

from dispatch_app.config import libpq_url

PARTS = [
    ("CAP-4505", "Capacitor 45/5 µF", "each", "24.50"),
    ("FLT-1625", "Filter 16×25×1 MERV 11", "each", "12.75"),
    ("IGN-HSI", "Hot surface igniter", "each", "68.00"),
    ("REF-410A", "Refrigerant R-410A", "lb", "42.00"),
]


def picture(fmt: str = "PNG", size: tuple[int, int] = (1200, 800), **save: Any) -> bytes:
    """A real picture (a gradient with a few shapes, so JPEG has something to encode)."""
    image = Image.new("RGB", size, "#dfe7f2")
    draw = ImageDraw.Draw(image)
    width, height = size
    for x in range(0, width, max(1, width // 40)):
        draw.line([(x, 0), (x, height)], fill=(x * 255 // max(1, width), 120, 160), width=3)
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill="#c0504d")
    draw.rectangle([width // 20, height // 20, width // 3, height // 5], fill="#2e9d57")
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def add_parts(url: str) -> dict[str, int]:
    """The parts list materials are chosen from; returns part ids by SKU."""
    with psycopg.connect(libpq_url(url)) as db:
        return {
            sku: db.execute(
                "INSERT INTO parts (sku, name, unit, unit_price) VALUES (%s, %s, %s, %s) "
                "RETURNING id",
                (sku, name, unit, price),
            ).fetchone()[0]
            for sku, name, unit, price in PARTS
        }


def record_counts(url: str, work_order_id: int) -> dict[str, Any]:
    """Everything the editor can write for one work order, to compare before and after."""
    with psycopg.connect(libpq_url(url)) as db:
        counts: dict[str, Any] = {
            table: db.execute(
                f"SELECT count(*) FROM {table} WHERE work_order_id = %s", (work_order_id,)
            ).fetchone()[0]
            for table in (
                "line_items",
                "notes",
                "photos",
                "time_entries",
                "status_history",
                "audit_log",
            )
        }
        counts["order"] = db.execute(
            "SELECT status, cancel_reason, version FROM work_orders WHERE id = %s",
            (work_order_id,),
        ).fetchone()
        counts["visits"] = db.execute(
            "SELECT id, status FROM visits WHERE work_order_id = %s ORDER BY id", (work_order_id,)
        ).fetchall()
    return counts
