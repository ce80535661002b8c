"""The map page: folium writes it, with every script and stylesheet bundled, no CDN.

folium's own page loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so offline
it stays blank. ``OfflineMap`` points folium at the copies under ``resources/map/``
instead, and needs only Leaflet: the markers are Leaflet circles and small HTML icons,
so the rest of folium's default set would be dead weight. ``DispatchLayer`` adds the live
layer (``dispatch_map.js``) that the application drives after the page has loaded.

Used by the main window's map dock and by the wall-display window (``map_window.py``);
nothing here needs a widget. Labels go through Qt's translation, in the ``MapPage``
context, so both windows speak the same language.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
from folium.elements import JSCSSMixin
from folium.template import Template
from PySide6.QtCore import QCoreApplication

from dispatch_app.domain.vocabulary import Priority, Trade, VisitStatus
from dispatch_app.ui import theme
from dispatch_app.ui.resources import RESOURCES_DIR

MAP_RESOURCES = RESOURCES_DIR / "map"


def allow_web_engine_as_root() -> None:
    """Chromium refuses to run its sandbox as root (the app would die at the first web
    view), so as root on Linux — a kiosk, a container — Qt WebEngine runs without it.
    Read when Qt WebEngine starts: call before the first web view is made."""
    if sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


allow_web_engine_as_root()

# A workstation's own tiles (a folder or a URL template) win over the company setting.
TILES_ENVIRONMENT = "DISPATCH_MAP_TILES"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
TILE_TEMPLATE = "{z}/{x}/{y}.png"
# Before the day is read there is nothing to fit the view to: the middle of the US.
DEFAULT_CENTRE = (39.8, -98.6)
DEFAULT_ZOOM = 4


@dataclass(frozen=True, slots=True)
class TileSource:
    """Where map tiles come from: a URL template Leaflet understands, and its credit."""

    url: str
    attribution: str

    @classmethod
    def from_setting(cls, setting: str | None, attribution: str | None = None) -> TileSource:
        """A tile setting as people write it: empty for OpenStreetMap, a ``http(s)://`` or
        ``file://`` template, or a folder (``/srv/tiles`` or ``/srv/tiles/{z}/{x}/{y}.png``).
        """
        text = (setting or "").strip()
        if not text:
            return cls(OSM_TILES, OSM_ATTRIBUTION if attribution is None else attribution)
        if text.startswith(("http://", "https://", "file://")):
            return cls(text, attribution or "")
        path = text if "{z}" in text else os.path.join(text, TILE_TEMPLATE)
        absolute = Path(path).expanduser().absolute().as_posix()
        # Leaflet fills in {z}/{x}/{y} by name, so the braces must survive quoting.
        url = "file://" + quote(absolute if absolute.startswith("/") else "/" + absolute, "/{}:")
        return cls(url, attribution or "")

    @classmethod
    def for_workstation(cls, company: str | None, attribution: str | None = None) -> TileSource:
        """The workstation's ``DISPATCH_MAP_TILES`` if set, else the company's setting."""
        own = os.environ.get(TILES_ENVIRONMENT, "").strip()
        return cls.from_setting(own or company, None if own else attribution)


TRADE_NAMES = {
    Trade.HVAC: "HVAC",
    Trade.PLUMBING: "Plumbing",
    Trade.ELECTRICAL: "Electrical",
    Trade.ROOFING: "Roofing",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("MapPage", text)


def map_labels() -> dict[str, str]:
    """Every word the page shows, translated; ``{n}``, ``{km}``, ``{min}`` are filled in."""
    labels = {
        "tiles_unavailable": _tr("Map tiles unavailable"),
        "skills": _tr("Skills"),
        "status": _tr("Status"),
        "route": _tr("Today's route"),
        "no_route": _tr("No visits today"),
        "drive": _tr("{km} km, {min} min drive"),
        "approximate": _tr("ZIP area"),
        "unassigned": _tr("Unassigned"),
        "unplaced_technicians": _tr("{n} technicians not on the map"),
        "unplaced_visits": _tr("{n} visits without a position"),
        "source_reported": _tr("GPS position"),
        "source_on_site": _tr("at the current job"),
        "source_last_visit": _tr("at the last job"),
        "source_home": _tr("at home base"),
    }
    # Visit popups say the status on its own; the technician's line adds the job number.
    for status in VisitStatus:
        labels[f"visit_status_{status.value}"] = _tr(theme.STATUS_LABEL[status])
    for priority in Priority:
        labels[f"priority_{priority.value}"] = _tr(theme.PRIORITY_LABEL[priority])
    for trade, name in TRADE_NAMES.items():
        labels[f"trade_{trade.value}"] = _tr(name)
    return labels


def map_style() -> dict[str, Any]:
    """The board's colours, so a visit looks the same on the map as on the timeline."""
    return {
        "status": {status.value: colour.name() for status, colour in theme.STATUS_EDGE.items()},
        "fill": {status.value: colour.name() for status, colour in theme.STATUS_FILL.items()},
        "emergency": theme.PRIORITY_COLOUR[Priority.EMERGENCY].name(),
        "selection": theme.SELECTION.name(),
    }


class OfflineMap(folium.Map):
    """folium's map with Leaflet from ``resources/map/`` instead of a CDN."""

    default_js = [("leaflet", "leaflet/leaflet.js")]
    default_css = [("leaflet_css", "leaflet/leaflet.css")]


class DispatchLayer(JSCSSMixin):
    """The live layer: loads ``dispatch_map.js`` and attaches it to the folium map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            dispatchMap.attach(
                {{ this._parent.get_name() }},
                {{ this.tiles_name }},
                {{ this.options|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, tiles: folium.TileLayer, options: dict[str, Any], *, qt_bridge: bool):
        super().__init__()
        self._name = "DispatchLayer"
        self.tiles_name = tiles.get_name()
        self.options = options
        # Per instance: folium's add_js_link would change the class's list for everyone.
        self.default_js = [("dispatch_map", "dispatch_map.js")]
        if qt_bridge:
            # Ships inside Qt WebEngine itself: nothing to bundle.
            self.default_js.insert(0, ("qwebchannel", "qrc:///qtwebchannel/qwebchannel.js"))
        self.default_css = [("dispatch_map_css", "dispatch_map.css")]


def map_page_html(
    tiles: TileSource,
    *,
    qt_bridge: bool,
    labels: dict[str, str] | None = None,
    style: dict[str, Any] | None = None,
    base_url: str = "",
) -> str:
    """The whole page as HTML. Its links are relative to ``resources/map/`` unless
    ``base_url`` (ending in ``/``) is given; the Qt view sets that folder as base URL."""
    page = OfflineMap(
        location=DEFAULT_CENTRE,
        zoom_start=DEFAULT_ZOOM,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    tile_layer = folium.TileLayer(
        tiles.url, attr=tiles.attribution or " ", name="tiles", max_zoom=19, max_native_zoom=19
    )
    tile_layer.add_to(page)
    options = {"labels": labels or map_labels(), "style": style or map_style()}
    page.add_child(DispatchLayer(tile_layer, options, qt_bridge=qt_bridge))
    html = page.get_root().render()
    if base_url:
        for relative in ("leaflet/leaflet.js", "leaflet/leaflet.css", "dispatch_map.js"):
            html = html.replace(f'"{relative}"', f'"{base_url}{relative}"')
        html = html.replace('"dispatch_map.css"', f'"{base_url}dispatch_map.css"')
    return html


def resources_url() -> str:
    """``resources/map/`` as a ``file://`` URL ending in ``/``."""
    return MAP_RESOURCES.as_uri() + "/"
