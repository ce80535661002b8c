"""``python main.py map-window``: the live map full-screen, in its own pywebview window.

For the wall display's second screen: the same page as the main window's map dock
(``ui/map/page.py``), following the change feed by itself — its own ``LiveDay`` and day
store on an asyncio loop in a background thread — and no widget of the main app.
pywebview owns the main thread's event loop; on Linux it runs on Qt (QtPy, told to use
PySide6, so there is one Qt in the process), on Windows on WebView2, on macOS on WebKit.

Threads: the main thread runs pywebview's GUI loop; ``MapFeed`` runs on its own asyncio
loop and hands each page update to the window with ``evaluate_js`` (which pywebview
carries over to the GUI thread). The window closing, or SIGTERM / Ctrl+C, stops the feed.

With ``--events``, one JSON line per happening goes to stdout — ``{"event": "ready"}``
when the page holds the day, ``{"event": "update", ...}`` for every update — for the
tests and for whoever watches a wall display from a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dispatch_app.services.live_map import LiveMap
from dispatch_app.services.map_positions import MapSettings
from dispatch_app.services.workspace import FeedState, Workspace

log = logging.getLogger(__name__)

PAGE_TIMEOUT_S = 60.0  # a page that has not loaded by then will not


@dataclass(frozen=True, slots=True)
class MapWindowOptions:
    url: str
    day: dt.date | None = None
    fullscreen: bool = True
    tiles: str | None = None  # the workstation's tiles; None: DISPATCH_MAP_TILES or company
    events: TextIO | None = None  # where JSON event lines go, if anywhere


class MapFeed:
    """The day, followed through the change feed, sent to a page as updates.

    ``run_script`` evaluates JavaScript in the page and returns its value; it may block
    (pywebview's ``evaluate_js`` does), so it runs in a worker thread.
    """

    def __init__(
        self,
        options: MapWindowOptions,
        run_script: Callable[[str], Any],
        *,
        on_settings: Callable[[MapSettings], None] | None = None,
    ) -> None:
        self.options = options
        self._run_script = run_script
        self._on_settings = on_settings
        self.page_ready = threading.Event()  # set by the window once the page has loaded
        self.live_map: LiveMap | None = None
        self._flush_wanted: asyncio.Event | None = None
        self.updates = 0

    def emit(self, record: dict[str, Any]) -> None:
        out = self.options.events
        if out is not None:
            out.write(json.dumps(record) + "\n")
            out.flush()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the day until ``stop`` is set."""
        self._flush_wanted = asyncio.Event()
        live_map = LiveMap(self._flush_wanted.set, on_settings=self._on_settings)
        self.live_map = live_map
        workspace = Workspace.connect(self.options.url)
        store = workspace.prepare_day(self.options.day, on_state=self._state)
        store.subscribe(lambda change: live_map.apply(change, store))
        pusher = asyncio.ensure_future(self._push_updates(live_map, stop))
        try:
            await workspace.start_day()
            await stop.wait()
        finally:
            await live_map.aclose()
            self._flush_wanted.set()  # lets the pusher see the stop
            await asyncio.gather(pusher, return_exceptions=True)
            await workspace.aclose()

    def page_reloading(self) -> None:
        """The window is loading the page again (another tile server): wait for it, then
        send every marker afresh. Call on the feed's loop."""
        self.page_ready.clear()
        if self.live_map is not None:
            self.live_map.scene.mark_all_dirty()
        if self._flush_wanted is not None:
            self._flush_wanted.set()

    async def _push_updates(self, live_map: LiveMap, stop: asyncio.Event) -> None:
        assert self._flush_wanted is not None
        while not stop.is_set():
            if not self.page_ready.is_set():
                ready = await asyncio.to_thread(self.page_ready.wait, PAGE_TIMEOUT_S)
                if not ready:
                    self.emit({"event": "error", "message": "the map page did not load"})
                    stop.set()
                    return
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            if stop.is_set():
                return
            update = live_map.scene.take_update()
            if not update:
                continue
            script = f"JSON.stringify(dispatchMap.apply({update.to_json()}))"
            answer = await asyncio.to_thread(self._run_script, script)
            counts = json.loads(answer) if isinstance(answer, str) else {}
            self.updates += 1
            self.emit(
                {
                    "event": "ready" if self.updates == 1 else "update",
                    "technicians": counts.get("technicians"),
                    "visits": counts.get("visits"),
                    "moved_technicians": [r["id"] for r in update.technicians],
                    "moved_visits": [r["id"] for r in update.visits],
                }
            )

    def _state(self, state: FeedState, since: dt.datetime) -> None:
        self.emit({"event": "feed", "state": state.value})


class MapWindowApi:
    """What the page may call in the wall-display window (``window.pywebview.api``)."""

    def __init__(self, feed: MapFeed) -> None:
        self._feed = feed

    def marker_clicked(self, kind: str, marker_id: int) -> None:
        # A wall display is for reading: a click shows the popup and nothing else.
        self._feed.emit({"event": "click", "kind": str(kind), "id": int(marker_id)})


def _use_pyside6() -> None:
    """One Qt per process: QtPy (pywebview's Qt layer) takes PySide6, which the app
    already ships, rather than looking for PyQt first."""
    os.environ.setdefault("QT_API", "pyside6")


def run_map_window(options: MapWindowOptions) -> int:
    """Open the window and follow the day until it closes; the process exit code, or
    the exception that ended the feed (re-raised once the window is gone)."""
    _use_pyside6()
    import webview

    from dispatch_app.ui.map.page import (
        TileSource,
        map_labels,
        map_page_html,
        map_style,
        resources_url,
    )

    tiles = (
        TileSource.from_setting(options.tiles)
        if options.tiles
        else TileSource.for_workstation(None)
    )

    def page_html(source: TileSource) -> str:
        return map_page_html(
            source,
            qt_bridge=False,
            labels=map_labels(),
            style=map_style(),
            base_url=resources_url(),
        )

    window: Any = None

    def run_script(script: str) -> Any:
        return window.evaluate_js(script)

    def company_settings(settings: MapSettings) -> None:
        nonlocal tiles
        if options.tiles or not settings.tile_url:
            return  # the workstation's own tiles win
        chosen = TileSource.for_workstation(settings.tile_url, settings.tile_attribution)
        if chosen == tiles:
            return
        same_server = (chosen.server, chosen.folder) == (tiles.server, tiles.folder)
        tiles = chosen
        if same_server:
            window.evaluate_js(
                f"dispatchMap.setTiles({json.dumps(chosen.url)}, {json.dumps(chosen.attribution)})"
            )
            return
        # The page's policy names the one server it may load tiles from: write it anew.
        Path(page.name).write_text(page_html(chosen), encoding="utf-8")
        feed.page_reloading()
        window.load_url(Path(page.name).as_uri())

    feed = MapFeed(options, run_script, on_settings=company_settings)
    # Loaded from a file, not as a string: a page given as a string has no origin, and
    # the engine then refuses it the bundled Leaflet next to it.
    page = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed after the window closes
        "w", encoding="utf-8", prefix="dispatch-map-", suffix=".html", delete=False
    )
    with page:
        page.write(page_html(tiles))
    window = webview.create_window(
        "Dispatch Board — Map",
        url=Path(page.name).as_uri(),
        js_api=MapWindowApi(feed),
        fullscreen=options.fullscreen,
        width=1280,
        height=800,
        background_color="#EEF2F5",
    )
    window.events.loaded += feed.page_ready.set

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def follow() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(feed.run(stop))
        except BaseException as error:  # reported below, after the window is gone
            failure.append(error)
            feed.emit({"event": "error", "message": str(error)})
        finally:
            loop.close()
            with contextlib.suppress(Exception):
                window.destroy()  # a feed that ends (or fails) closes the window

    follower = threading.Thread(target=follow, name="map-feed", daemon=True)

    def request_stop(*_args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            loop.call_soon_threadsafe(stop.set)

    def started() -> None:
        qtpy = sys.modules.get("qtpy")
        gui = getattr(webview, "guilib", None)  # the platform module pywebview chose
        feed.emit(
            {
                "event": "window",
                "gui": gui.__name__.rsplit(".", 1)[-1] if gui is not None else None,
                "qt_binding": getattr(qtpy, "API_NAME", None),
                "pyqt_loaded": any(name.startswith("PyQt") for name in sys.modules),
            }
        )
        follower.start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):  # not every platform has both
            signal.signal(signum, lambda *_: window.destroy())
    webview.start(started, gui="qt" if sys.platform.startswith("linux") else None)
    # The window is gone: stop following and let the feed close its connections.
    request_stop()
    follower.join(timeout=30)
    with contextlib.suppress(OSError):
        os.unlink(page.name)
    feed.emit({"event": "closed"})
    if failure:
        # The command line says it in one sentence (a refused login, a lost server).
        raise failure[0]
    return 0
