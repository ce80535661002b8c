"""The map dock on a real database, in a real (offscreen) Qt WebEngine.

Every test runs the whole app: the page is folium's, with Leaflet from ``resources/map``
and no network, the store follows the real change feed, and the page is asked what it
holds through JavaScript, as a person's screen would show it.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QImage

from dispatch_app.config import libpq_url
from dispatch_app.ui.map.dock import MapDock
from dispatch_app.ui.map.page import MAP_RESOURCES
from tests.companies import clock_at, small_company
from tests.qt_app import options_for, pump_until, wait_for

# Home bases for the small company, so that every technician has a place on the map.
HOMES = {
    "Ava Kowalski": (41.88, -87.63),
    "Marcus Lee": (41.97, -87.70),
    "Noor Haddad": (41.80, -87.60),
}


def placed_company(url: str) -> dict[str, int]:
    ids = small_company(url)
    with psycopg.connect(libpq_url(url)) as db:
        for name, (lat, lon) in HOMES.items():
            db.execute(
                "UPDATE technicians SET home_lat = %s, home_lon = %s WHERE id = %s",
                (lat, lon, ids[name]),
            )
    return ids


def evaluate(loop, dock: MapDock, script: str) -> Any:
    """The value of a JavaScript expression in the map page (as JSON, then Python)."""
    results: list[Any] = []
    assert dock.view.run(f"JSON.stringify({script})", results.append), "page not ready"
    pump_until(loop, lambda: results)
    return json.loads(results[0]) if results[0] is not None else None


def page_counts(loop, dock: MapDock) -> dict[str, Any]:
    return evaluate(loop, dock, "dispatchMap.counts()")


def evaluate_until(
    loop, dock: MapDock, script: str, check: Callable[[Any], object], timeout: float = 30
) -> Any:
    """Ask the page again and again (each answer is a round trip through the event loop)
    until ``check`` likes the answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = evaluate(loop, dock, script)
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{script} is still {value!r}")


def wait_for_map(loop, dock: MapDock, technicians: int, visits: int) -> None:
    pump_until(
        loop,
        lambda: (
            dock.counts.get("technicians") == technicians and dock.counts.get("visits") == visits
        ),
    )


def errors(dock: MapDock) -> list[str]:
    return [f"{m.text} ({m.source}:{m.line})" for m in dock.view.map_page.console if m.is_error]


def test_page_loads_offline_with_a_marker_for_every_technician_and_visit(
    loop, start, db_url, tmp_path, settings_dir
):
    placed_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    dock = app.window.map
    store = app.store
    expected_visits = len(store.visits()) + len(store.unassigned())
    assert (len(store.technicians), expected_visits) == (3, 4)
    wait_for_map(loop, dock, 3, 4)

    counts = page_counts(loop, dock)
    assert (counts["technicians"], counts["visits"]) == (3, 4)
    # No script or stylesheet from the network: only the tile template names a server.
    html = dock.view._html
    assert "cdn" not in html.lower() and '<script src="http' not in html
    assert '<link rel="stylesheet" href="http' not in html
    # Offline, the tiles fail and the page says so instead of staying blank.
    evaluate_until(loop, dock, "dispatchMap.counts()", lambda c: c["tilesUnavailable"])
    assert errors(dock) == []
    assert dock.view.load_count == 1


MOVE_SITE_ELSEWHERE = """
import sys, psycopg
with psycopg.connect(sys.argv[1]) as db:
    site = db.execute(
        "INSERT INTO service_sites (customer_id, street, city, state, zip, lat, lon) "
        "SELECT customer_id, '5 N Main St', 'Evanston', 'IL', '60201', 42.05, -87.68 "
        "FROM work_orders WHERE id = %s RETURNING id", (int(sys.argv[2]),)
    ).fetchone()[0]
    db.execute("UPDATE work_orders SET site_id = %s WHERE id = %s", (site, int(sys.argv[2])))
"""

REPORT_POSITION = """
import sys, psycopg
with psycopg.connect(sys.argv[1]) as db:
    db.execute(
        "UPDATE technicians SET reported_lat = 41.90, reported_lon = -87.75, "
        "reported_at = '2026-12-01 09:15-06' WHERE id = %s", (int(sys.argv[2]),)
    )
"""


def test_changes_from_another_process_move_the_right_marker_without_reloading(
    loop, start, db_url, tmp_path, settings_dir
):
    ids = placed_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    dock = app.window.map
    wait_for_map(loop, dock, 3, 4)
    first, *others = app.store.visits()
    before = {v.id: evaluate(loop, dock, f"dispatchMap.where('visit', {v.id})") for v in others}
    noor = ids["Noor Haddad"]
    assert evaluate(loop, dock, f"dispatchMap.where('technician', {noor})") == {
        "lat": 41.80,
        "lon": -87.60,
    }  # at home: no visits today

    url = libpq_url(db_url)
    subprocess.run(
        [sys.executable, "-c", MOVE_SITE_ELSEWHERE, url, str(first.work_order_id)],
        check=True,
        timeout=60,
    )
    evaluate_until(
        loop,
        dock,
        f"dispatchMap.where('visit', {first.id})",
        lambda where: where == {"lat": 42.05, "lon": -87.68},
    )
    for visit_id, where in before.items():
        assert evaluate(loop, dock, f"dispatchMap.where('visit', {visit_id})") == where

    subprocess.run([sys.executable, "-c", REPORT_POSITION, url, str(noor)], check=True, timeout=60)
    evaluate_until(
        loop,
        dock,
        f"dispatchMap.where('technician', {noor})",
        lambda where: where == {"lat": 41.90, "lon": -87.75},
    )
    assert dock.view.load_count == 1  # moved in place: the page was never loaded again
    assert errors(dock) == []


def click(loop, dock: MapDock, kind: str, marker_id: int) -> None:
    """A real DOM click on the marker's element, which Leaflet turns into its click."""
    dispatched = evaluate(
        loop,
        dock,
        f"dispatchMap.element('{kind}', {marker_id})"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true,"
        " view: window}))",
    )
    assert dispatched is True or dispatched is False  # the element existed


def test_marker_click_selects_on_the_board_and_board_selection_highlights_on_the_map(
    loop, start, db_url, tmp_path, settings_dir
):
    ids = placed_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    dock = app.window.map
    board = app.window.board
    wait_for_map(loop, dock, 3, 4)
    evaluate_until(loop, dock, "dispatchMap.counts()", lambda c: c["bridge"])  # channel up

    crew_visit, marcus_alone = (
        next(v for v in app.store.visits() if len(v.technician_ids) == 2),
        next(v for v in app.store.visits() if v.technician_ids == (ids["Marcus Lee"],)),
    )
    click(loop, dock, "visit", marcus_alone.id)
    pump_until(loop, lambda: (board.current_visit() or crew_visit).id == marcus_alone.id)
    assert evaluate(loop, dock, "dispatchMap.selection()")["visit"] == marcus_alone.id

    # A technician's marker selects the visit that stands for them: here, their next.
    ava = ids["Ava Kowalski"]
    click(loop, dock, "technician", ava)
    pump_until(loop, lambda: ava in (board.current_visit() or marcus_alone).technician_ids)
    selection = evaluate(loop, dock, "dispatchMap.selection()")
    assert selection["technician"] == ava
    assert selection["route"] >= 2  # the route line and its numbered stops

    # Someone with nothing on today: the board shows their row.
    noor = ids["Noor Haddad"]
    click(loop, dock, "technician", noor)
    pump_until(loop, lambda: board.current_technician == noor)
    assert board.current_visit() is None

    # And the other way: the board selects, the map highlights and draws the route.
    board.select_visit(marcus_alone.id)
    evaluate_until(
        loop,
        dock,
        "dispatchMap.selection()",
        lambda selection: (
            selection == {"technician": ids["Marcus Lee"], "visit": marcus_alone.id, "route": 3}
        ),
    )
    site = evaluate(loop, dock, f"dispatchMap.where('visit', {marcus_alone.id})")
    evaluate_until(  # centred on it (the pan is animated: ask until it arrives)
        loop,
        dock,
        "dispatchMap.centre()",
        # Leaflet pans by whole pixels: within a pixel or two at this zoom.
        lambda centre: (
            abs(centre["lat"] - site["lat"]) < 1e-3 and abs(centre["lon"] - site["lon"]) < 1e-3
        ),
    )
    highlighted = evaluate(
        loop, dock, f"dispatchMap.element('visit', {marcus_alone.id}).getAttribute('stroke-width')"
    )
    assert highlighted == "4"
    assert errors(dock) == []


def test_screenshot_of_the_map_dock_on_the_demo_company(
    loop, start, db_url, tmp_path, settings_dir
):
    from sqlalchemy.orm import Session

    from dispatch_app.db.engine import make_sync_engine
    from dispatch_app.services.demo import seed_demo

    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            seed_demo(session, now=clock_at(7).now())  # the app's moment below
    finally:
        engine.dispose()
    options = options_for(db_url, tmp_path)
    app, task = start(options)
    wait_for(loop, app.loaded, task)
    store = app.store
    dock = app.window.map
    dock.setFloating(True)  # its own size, whatever the window's layout
    dock.resize(900, 700)
    placed = [t for t in store.technicians]
    waiting = len(store.visits()) + len(store.unassigned())
    pump_until(loop, lambda: dock.counts.get("visits") == waiting)
    assert dock.counts["technicians"] == len(placed)
    evaluate_until(loop, dock, "dispatchMap.counts()", lambda c: c["tilesUnavailable"])
    # Centre a selection, then wait until the page has painted it.
    board_visit = store.visits()[0]
    app.window.board.select_visit(board_visit.id)
    evaluate_until(loop, dock, "dispatchMap.selection()", lambda selection: selection["route"])
    technician = board_visit.technician_ids[0]
    assert evaluate(loop, dock, f"dispatchMap.openPopup('technician', {technician})")
    popup = evaluate(loop, dock, "document.querySelector('.dm-popup').innerText")
    name = next(t.name for t in store.technicians if t.id == technician)
    assert name in popup and "Today's route" in popup and board_visit.number in popup

    path = Path(tmp_path) / "map-dock.png"

    def shot() -> QImage:
        return dock.view.grab().toImage()

    pump_until(loop, lambda: _technician_pixels(shot(), store) > 200)
    image = shot()
    assert image.save(str(path))
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 20  # not blank: background, markers, route, controls
    assert errors(dock) == []
    print(f"map screenshot: {path}")


def _technician_pixels(image: QImage, store) -> int:
    """Pixels in a technician's own colour: their markers are on the picture."""
    wanted = {QColor(t.colour).rgb() & 0xFFFFFF for t in store.technicians}
    found = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            if image.pixel(x, y) & 0xFFFFFF in wanted:
                found += 1
    return found


def _tile(path: Path, colour: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = QImage(256, 256, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path))


@pytest.mark.parametrize("with_tiles", [True, False])
def test_tiles_from_a_local_folder_or_a_note_that_there_are_none(
    loop, qtbot, tmp_path, monkeypatch, with_tiles
):
    from dispatch_app.ui.map.page import TILES_ENVIRONMENT

    folder = tmp_path / "tiles"
    if with_tiles:
        for z in range(0, 6):
            for x in range(2**z):
                for y in range(2**z):
                    _tile(folder / str(z) / str(x) / f"{y}.png", "#b5d0a0")
    monkeypatch.setenv(TILES_ENVIRONMENT, str(folder))
    dock = MapDock()
    qtbot.addWidget(dock)
    dock.resize(400, 300)
    dock.show()
    pump_until(loop, lambda: dock.view.is_ready)
    counts = page_counts(loop, dock)
    if with_tiles:
        evaluate_until(loop, dock, "dispatchMap.counts()", lambda c: c["tilesLoaded"] > 0)
        assert not page_counts(loop, dock)["tilesUnavailable"]
    else:
        evaluate_until(loop, dock, "dispatchMap.counts()", lambda c: c["tilesUnavailable"])
    assert counts["technicians"] == 0
    assert errors(dock) == []


def test_the_page_skips_records_without_a_usable_position(loop, qtbot):
    dock = MapDock()
    qtbot.addWidget(dock)
    dock.resize(400, 300)
    dock.show()
    pump_until(loop, lambda: dock.view.is_ready)
    counts = evaluate(
        loop,
        dock,
        "dispatchMap.apply({v: ["
        "{id: 1, lat: NaN, lon: 1, techs: [], status: 'scheduled'},"
        "{id: 2, lat: null, lon: null, techs: []},"
        "{id: 3, lat: 41.9, lon: -87.6, techs: [], status: 'no such status', time: ''}],"
        "t: [{id: 5, lat: '41.9', lon: -87.6, route: [], skills: []}], unplaced: [1, 2]})",
    )
    assert (counts["technicians"], counts["visits"]) == (0, 1)
    assert errors(dock) == []


# -- what the settings may not do ---------------------------------------------------------
# A credit that, shown as HTML, would run a script: mark the page, and read a local file.
HOSTILE_CREDIT = (
    "<img src=x onerror=\"window.pwned = true; document.title = 'pwned'; "
    "fetch('file:///etc/hostname').then(r => r.text()).then(t => window.stolen = t)\">"
    " Tiles & data © Example Co"
)


def set_setting(url: str, key: str, value: object) -> None:
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(
            "INSERT INTO app_settings (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, Jsonb(value)),
        )


def settle_images(loop, dock: MapDock) -> None:
    """Wait until an image put into the page after everything else has failed to load:
    by then the browser has dealt with every image element before it (an injected
    ``onerror`` would have run)."""
    evaluate(
        loop,
        dock,
        "(function () { var probe = new Image();"
        " probe.onerror = probe.onload = function () { window.probeDone = true; };"
        " probe.src = 'no-such-image.png'; return true; })()",
    )
    evaluate_until(loop, dock, "window.probeDone === true", bool)


def test_a_hostile_tile_credit_is_shown_as_text_and_never_runs(
    loop, start, db_url, tmp_path, settings_dir
):
    placed_company(db_url)
    set_setting(db_url, "map_tile_attribution", HOSTILE_CREDIT)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    dock = app.window.map
    wait_for_map(loop, dock, 3, 4)
    credit = evaluate_until(
        loop,
        dock,
        "document.querySelector('.leaflet-control-attribution').textContent",
        lambda text: "Example Co" in (text or ""),
    )
    assert HOSTILE_CREDIT in credit  # every character shown as typed
    assert evaluate(loop, dock, "document.querySelectorAll('.leaflet-control img').length") == 0
    settle_images(loop, dock)
    assert evaluate(loop, dock, "[window.pwned === undefined, document.title]") == [True, ""]
    assert evaluate(loop, dock, "window.stolen === undefined") is True


def lone_map(qtbot, tiles) -> SimpleNamespace:
    """A map view on its own, shaped like a dock for ``evaluate``."""
    from dispatch_app.ui.map.view import MapView

    view = MapView(tiles)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    return SimpleNamespace(view=view)


def test_a_credit_written_into_the_first_page_does_not_run_either(loop, qtbot):
    """The wall display writes the company's credit into the page it first loads."""
    from dispatch_app.ui.map.page import TileSource

    dock = lone_map(qtbot, TileSource.from_setting(None, HOSTILE_CREDIT))
    pump_until(loop, lambda: dock.view.is_ready)
    credit = evaluate(
        loop, dock, "document.querySelector('.leaflet-control-attribution').textContent"
    )
    assert HOSTILE_CREDIT in credit
    settle_images(loop, dock)
    assert evaluate(loop, dock, "window.pwned === undefined") is True


class _Listener(http.server.BaseHTTPRequestHandler):
    heard: list[str] = []

    def do_GET(self) -> None:
        type(self).heard.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A server on this machine that records every request it hears."""
    _Listener.heard = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Listener.heard
    finally:
        server.shutdown()
        server.server_close()


ESCAPES = """
(function () {
  function settle(name, promise) {
    promise.then(function () { window.tried[name] = 'reached'; },
                 function () { window.tried[name] = 'refused'; });
  }
  window.tried = {};
  settle('local file', fetch('file:///etc/hostname'));
  settle('other server', fetch('%(other)s/fetch'));
  var image = new Image();
  image.onload = function () { window.tried.image = 'reached'; };
  image.onerror = function () { window.tried.image = 'refused'; };
  image.src = '%(other)s/image.png';
  var frame = document.createElement('iframe');
  frame.src = '%(other)s/frame';
  document.body.appendChild(frame);
  return true;
})()
"""


def test_the_map_page_reaches_only_its_own_files_and_the_tile_server(loop, qtbot, listener):
    """Even a script that did run in the page could not read local files or send
    anything to a server other than the tile server."""
    from dispatch_app.ui.map.page import TileSource

    other, heard = listener
    dock = lone_map(qtbot, TileSource.from_setting("https://tiles.example.invalid/{z}/{x}/{y}.png"))
    pump_until(loop, lambda: dock.view.is_ready)
    evaluate(loop, dock, ESCAPES % {"other": other})
    tried = evaluate_until(loop, dock, "window.tried", lambda tried: len(tried) == 3, timeout=30)
    assert tried == {"local file": "refused", "other server": "refused", "image": "refused"}
    settle_images(loop, dock)  # after the frame too
    assert heard == []

    # Behind the page's policy, the view's own guard: a page without any policy, loaded
    # into the same view, reaches no server but the tile server either.
    from dispatch_app.ui.map.page import resources_url

    loads = dock.view.load_count
    dock.view.setHtml(f'<img src="{other}/unguarded.png">', QUrl(resources_url()))
    pump_until(loop, lambda: dock.view.load_count > loads)
    pump_until(loop, lambda: any(other in url for url in dock.view.guard.refused))
    assert heard == []


def test_a_tile_setting_that_is_not_a_tile_server_is_refused() -> None:
    from dispatch_app.errors import ConfigurationError
    from dispatch_app.ui.map.page import OSM_TILES, TileSource, request_allowed

    for setting in (
        "javascript:alert(1)//{z}/{x}/{y}",
        "data:text/html,<script>alert(1)</script>",
        "https://user:pw@tiles.example.com/{z}/{x}/{y}.png",
        "https://exa mple.com/{z}/{x}/{y}.png",
        "https://{evil}/{z}/{x}/{y}.png",
    ):
        with pytest.raises(ConfigurationError):
            TileSource.from_setting(setting)
    # A company setting that cannot be used leaves OpenStreetMap in place.
    assert TileSource.for_workstation("javascript:alert(1)").url == OSM_TILES

    tiles = TileSource.from_setting("https://{s}.tiles.example.com/{z}/{x}/{y}.png")
    assert tiles.server == "https://*.tiles.example.com"
    assert request_allowed(tiles, "https://a.tiles.example.com/3/1/2.png")
    assert not request_allowed(tiles, "https://evil.example.com/3/1/2.png")
    assert not request_allowed(tiles, "http://a.tiles.example.com/3/1/2.png")
    assert not request_allowed(tiles, "https://a.b.tiles.example.com/3/1/2.png")
    assert not request_allowed(tiles, "file:///etc/hostname")
    assert request_allowed(tiles, (MAP_RESOURCES / "leaflet" / "leaflet.js").as_uri())
    assert not request_allowed(tiles, (MAP_RESOURCES / ".." / "secret").as_uri())
    local = TileSource.from_setting("/srv/tiles")
    assert local.server is None
    assert request_allowed(local, "file:///srv/tiles/3/1/2.png")
    assert not request_allowed(local, "file:///srv/tiles-secret/3/1/2.png")
    assert not request_allowed(local, "https://tile.openstreetmap.org/3/1/2.png")


def test_tiles_changed_while_the_page_loads_are_used_once_it_has_loaded(loop, qtbot):
    """The company's tile setting often arrives while the first page is still loading:
    the view is ready only once the page that has the new credit holds the map."""
    from dispatch_app.ui.map.page import TileSource

    dock = lone_map(qtbot, TileSource.from_setting(None))
    readiness: list[bool] = []
    dock.view.ready.connect(lambda: readiness.append(bool(dock.view.is_ready)))
    dock.view.set_tiles(TileSource.from_setting(None, "Tiles © Later Co"))
    pump_until(loop, lambda: dock.view.is_ready)
    assert evaluate(loop, dock, "typeof window.dispatchMap") == "object"
    credit = evaluate(
        loop, dock, "document.querySelector('.leaflet-control-attribution').textContent"
    )
    assert "Later Co" in credit
    assert readiness == [True]  # ready once, for the page that stays
    assert dock.view.load_count == 2
    assert errors(dock) == []
