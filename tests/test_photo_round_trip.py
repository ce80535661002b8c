"""A photo attached on one workstation is seen on another, byte for byte: two processes.

Another workstation (``tests/photo_workstation.py``, its own process) attaches a JPEG;
the editor open here shows its thumbnail through the change feed alone, and its full
view holds exactly the file's bytes. Then the other way: a PNG dropped on this editor is
noticed by the other process through its own feed and read back identical.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from dispatch_app.config import libpq_url
from dispatch_app.services.work_order.photos import THUMBNAIL_SIDE
from tests.companies import small_company
from tests.qt_app import finish, options_for, pump_until, wait_for
from tests.test_work_order_editor import drop_files
from tests.work_order_data import picture

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def workstation(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.photo_workstation", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def last_line(process: subprocess.Popen[str]) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_photo_crosses_between_two_workstations_byte_for_byte(
    loop, start, db_url, tmp_path, settings_dir
) -> None:
    small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        work_order = db.execute("SELECT id FROM work_orders ORDER BY id LIMIT 1").fetchone()[0]
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    editor = app.open_work_order(work_order)
    assert editor is not None
    pump_until(loop, lambda: editor.record is not None)
    assert editor.photos.photos() == []

    # There → here: attached by the other process, seen here through the feed.
    theirs = tmp_path / "roof-from-truck.jpg"
    theirs.write_bytes(picture("JPEG", (2400, 1600), quality=92))
    other = workstation("attach", db_url, str(work_order), str(theirs))
    pump_until(loop, lambda: other.poll() is not None)
    attached = last_line(other)
    pump_until(loop, lambda: len(editor.photos.photos()) == 1)
    (shown,) = editor.photos.photos()
    assert (shown.id, shown.filename, shown.uploaded_by) == (
        attached["photo_id"],
        "roof-from-truck.jpg",
        "truck7",
    )
    with Image.open(io.BytesIO(shown.thumbnail)) as thumb:
        assert thumb.size == (THUMBNAIL_SIDE, round(THUMBNAIL_SIDE * 2 / 3))
    assert not editor.photos.grid.item(0).icon().isNull()
    viewer = editor.photos.open_full(editor.photos.grid.item(0))
    pump_until(loop, lambda: viewer.file is not None)
    assert viewer.file.data == theirs.read_bytes()
    viewer.close()

    # Here → there: dropped on this editor, noticed and read back by the other process.
    mine = tmp_path / "meter-here.png"
    mine.write_bytes(picture("PNG", (640, 960)))
    received = tmp_path / "received.bin"
    other = workstation("await", db_url, str(work_order), str(received))
    assert other.stdout is not None
    assert json.loads(other.stdout.readline()) == {"event": "listening"}
    drop_files(loop, editor.show_tab("photos"), [mine])
    pump_until(loop, lambda: len(editor.photos.photos()) == 2)
    pump_until(loop, lambda: other.poll() is not None)
    found = last_line(other)
    assert found["filename"] == "meter-here.png"
    assert found["byte_size"] == mine.stat().st_size
    assert found["thumbnail"] == [round(THUMBNAIL_SIDE * 2 / 3), THUMBNAIL_SIDE]
    assert received.read_bytes() == mine.read_bytes()
    assert finish(loop, app, task) == 0
