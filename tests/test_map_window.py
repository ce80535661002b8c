"""``python main.py map-window``: the wall-display map in its own pywebview process.

The window really opens here: pywebview's Qt backend on PySide6 with the offscreen
platform (no screen needed), the page is the one the map dock shows, and the process
follows the change feed by itself. It reports what it does as JSON lines (``--events``).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dispatch_app.config import libpq_url
from tests.test_map import placed_company

ROOT = Path(__file__).resolve().parents[1]


class MapWindowProcess:
    def __init__(self, url: str, *extra: str) -> None:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--database-url",
                url,
                "--day",
                "2026-12-01",
                "map-window",
                "--windowed",
                "--events",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def until(self, wanted, timeout: float = 60) -> dict[str, Any]:
        """The first event (already seen or still to come) that ``wanted`` accepts."""
        for event in self.seen:
            if wanted(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such event; saw {self.seen}")
            try:
                event = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(event)
            if wanted(event):
                return event

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def test_map_window_follows_the_feed_and_stops_cleanly(db_url: str) -> None:
    ids = placed_company(db_url)
    window = MapWindowProcess(db_url)
    try:
        opened = window.until(lambda e: e["event"] == "window")
        # pywebview on PySide6: one Qt in the process, and not a second binding.
        assert opened["gui"] == "qt"
        assert opened["qt_binding"] == "PySide6"
        assert opened["pyqt_loaded"] is False

        ready = window.until(lambda e: e["event"] == "ready")
        assert (ready["technicians"], ready["visits"]) == (3, 4)
        window.until(lambda e: e.get("state") == "live")

        noor = ids["Noor Haddad"]
        with psycopg.connect(libpq_url(db_url)) as other:
            other.execute(
                "UPDATE technicians SET reported_lat = 41.9, reported_lon = -87.75, "
                "reported_at = '2026-12-01 09:15-06' WHERE id = %s",
                (noor,),
            )
        moved = window.until(lambda e: e["event"] == "update" and noor in e["moved_technicians"])
        assert (moved["technicians"], moved["visits"]) == (3, 4)

        assert window.stop() == 0
        window.until(lambda e: e["event"] == "closed")
        assert not any(e["event"] == "error" for e in window.seen)
    finally:
        window.kill()


def test_the_wall_page_shows_the_credit_as_text_under_its_policy() -> None:
    """The wall display's page is the dock's: the company's credit escaped, and only the
    page's own scripts may run (pywebview needs eval for its bridge, not inline code)."""
    from dispatch_app.ui.map.page import TileSource, map_page_html
    from tests.test_map import HOSTILE_CREDIT

    page = map_page_html(
        TileSource.from_setting(None, HOSTILE_CREDIT), qt_bridge=False, labels={}, style={}
    )
    assert "<img" not in page and 'onerror=\\"' not in page
    policy = page.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    scripts = next(part for part in policy.split("; ") if part.startswith("script-src"))
    assert "'nonce-" in scripts and "'unsafe-inline'" not in scripts
    assert "img-src data: https://tile.openstreetmap.org" in policy
    assert "connect-src 'none'" in policy


def test_another_tile_server_loads_the_wall_page_again_with_every_marker(
    db_url: str, tmp_path: Path
) -> None:
    placed_company(db_url)
    window = MapWindowProcess(db_url)
    try:
        window.until(lambda e: e["event"] == "ready")
        with psycopg.connect(libpq_url(db_url)) as other:
            other.execute(
                "INSERT INTO app_settings (key, value) VALUES ('map_tile_url', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (Jsonb(str(tmp_path / "tiles")),),
            )
        again = window.until(lambda e: e["event"] == "update" and len(e["moved_technicians"]) == 3)
        assert (again["technicians"], again["visits"]) == (3, 4)
        assert window.stop() == 0
        assert not any(e["event"] == "error" for e in window.seen)
    finally:
        window.kill()
