"""The map page: folium writes it, with every script and stylesheet bundled, no CDN.

folium's own page loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so offline
it stays blank. ``OfflineMap`` points folium at the copies under ``resources/map/``
instead, and needs only Leaflet: the markers are Leaflet circles and small HTML icons,
so the rest of folium's default set would be dead weight. ``DispatchLayer`` adds the live
layer (``dispatch_map.js``) that the application drives after the page has loaded.

The page runs nothing the settings say. The tile settings are ``app_settings`` rows
anyone with write access can change: the attribution is shown as text (escaped here),
the tile URL must be http(s) or a local folder, and a Content-Security-Policy lets the
page run only its own scripts (marked with a nonce) and load images only from the tile
server. ``request_allowed`` is the same rule for the Qt view's request interceptor.

Used by the main window's map dock and by the wall-display window (``map_window.py``);
nothing here needs a widget. Labels go through Qt's translation, in the ``MapPage``
context, so both windows speak the same language.
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import folium
from folium.elements import JSCSSMixin
from folium.template import Template
from PySide6.QtCore import QCoreApplication

from dispatch_app.domain.vocabulary import Priority, Trade, VisitStatus
from dispatch_app.errors import ConfigurationError
from dispatch_app.ui import theme
from dispatch_app.ui.resources import RESOURCES_DIR

MAP_RESOURCES = RESOURCES_DIR / "map"
log = logging.getLogger(__name__)


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
    """Where map tiles come from: a URL template Leaflet understands, and its credit.

    ``attribution`` is HTML, safe to show: the company's text arrives escaped, so a
    credit of ``<img onerror=…>`` reads as those characters, and only the built-in
    OpenStreetMap credit carries a link.
    """

    url: str
    attribution: str

    @classmethod
    def from_setting(cls, setting: str | None, attribution: str | None = None) -> TileSource:
        """A tile setting as people write it: empty for OpenStreetMap, a ``http(s)://`` or
        ``file://`` template, or a folder (``/srv/tiles`` or ``/srv/tiles/{z}/{x}/{y}.png``).
        Anything else (another scheme, a template whose host is not a host) is refused
        with one sentence (``ConfigurationError``)."""
        text = (setting or "").strip()
        credit = None if attribution is None else html.escape(attribution, quote=True)
        if not text:
            return cls(OSM_TILES, OSM_ATTRIBUTION if credit is None else credit)
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
            raise ConfigurationError("The map tile setting contains an invisible character.")
        if text.startswith(("http://", "https://")):
            tile_server(text)  # checks the host
            return cls(text, credit or "")
        if text.startswith("file://"):
            return cls(text, credit or "")
        if _SCHEME.match(text):
            raise ConfigurationError(
                f"The map tile setting {text[:80]!r} is neither an http(s) address like "
                f"{OSM_TILES} nor a folder of tiles."
            )
        path = text if "{z}" in text else os.path.join(text, TILE_TEMPLATE)
        absolute = Path(path).expanduser().absolute().as_posix()
        # Leaflet fills in {z}/{x}/{y} by name, so the braces must survive quoting.
        url = "file://" + quote(absolute if absolute.startswith("/") else "/" + absolute, "/{}:")
        return cls(url, credit or "")

    @classmethod
    def for_workstation(cls, company: str | None, attribution: str | None = None) -> TileSource:
        """The workstation's ``DISPATCH_MAP_TILES`` if set, else the company's setting;
        a setting that cannot be used is logged and passed over (OpenStreetMap last)."""
        own = os.environ.get(TILES_ENVIRONMENT, "").strip()
        for setting, credit, origin in (
            (own, None, TILES_ENVIRONMENT),
            (company, attribution, "map_tile_url"),
        ):
            if setting and setting.strip():
                try:
                    return cls.from_setting(setting, credit)
                except ConfigurationError as error:
                    log.warning("ignoring %s: %s", origin, error)
        return cls.from_setting(None, None if own else attribution)

    @property
    def server(self) -> str | None:
        """The tile server as a CSP source (``https://tile.example.com``, a ``{s}``
        subdomain as ``*``); ``None`` for tiles from a local folder."""
        if self.url.startswith(("http://", "https://")):
            return tile_server(self.url)
        return None

    @property
    def folder(self) -> str | None:
        """For tiles from a local folder, the folder's path (everything before ``{z}``)."""
        if not self.url.startswith("file://"):
            return None
        return url2pathname(urlsplit(self.url.split("{", 1)[0]).path)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # "javascript:", "data:"; not "C:"
# A host as Leaflet's templates write one: labels, an optional "{s}." subdomain, a port.
_TILE_HOST = re.compile(r"^(\{s\}\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?(:[0-9]{1,5})?$")


def tile_server(url: str) -> str:
    """``scheme://host[:port]`` of a http(s) tile template, ``{s}`` written ``*``;
    ``ConfigurationError`` when the template names no host that can be one (a space,
    a user name, brackets, another placeholder)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if not _TILE_HOST.match(host):
        raise ConfigurationError(
            f"The map tile address {url[:80]!r} names no server like tile.example.com."
        )
    return f"{scheme.lower()}://{host.lower().replace('{s}', '*')}"


def content_security_policy(tiles: TileSource, nonce: str, *, allow_eval: bool) -> str:
    """What the page may run and load: its own scripts (those carrying ``nonce``), its
    own stylesheets, images from the tile server (or the tile folder) and ``data:``;
    no requests of its own, no forms, no frames, no plugins.

    ``allow_eval``: pywebview wraps each ``evaluate_js`` in ``eval`` and builds its
    bridge with ``new Function``, so the wall-display window needs it; an injected
    ``onerror=`` attribute still cannot run (that needs ``unsafe-inline``)."""
    images = ["data:", tiles.server or "file:"]
    scripts = [f"'nonce-{nonce}'"] + (["'unsafe-eval'"] if allow_eval else [])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(scripts),
            # Leaflet positions everything with inline styles, folium writes <style>.
            "style-src file: 'unsafe-inline'",
            "img-src " + " ".join(images),
            "connect-src 'none'",
            "font-src 'none'",
            "object-src 'none'",
            "frame-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def request_allowed(tiles: TileSource, url: str) -> bool:
    """Whether the map page may fetch ``url``: its bundled files (``resources/map/``),
    Qt WebEngine's own ``qwebchannel.js``, inline ``data:``, and the tile server (or
    the tile folder). The Qt view's request interceptor asks this for every request."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme == "qrc":
        return parts.path.startswith("/qtwebchannel/")
    if scheme == "file":
        path = _local_path(url2pathname(parts.path))
        folders = [_local_path(str(MAP_RESOURCES))]
        if tiles.folder:
            folders.append(_local_path(tiles.folder))
        return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
    if scheme in ("http", "https") and tiles.server is not None:
        allowed_scheme, _, allowed_host = tiles.server.partition("://")
        host = parts.netloc.lower()
        if scheme != allowed_scheme:
            return False
        if allowed_host.startswith("*."):
            return host.endswith(allowed_host[1:]) and host.count(".") == allowed_host.count(".")
        return host == allowed_host
    return False


def _local_path(path: str) -> str:
    """A path as the file system compares it: ``..`` resolved, case folded on Windows."""
    return os.path.normcase(os.path.normpath(path))


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
    dark: bool = False,
) -> str:
    """The whole page as HTML. Its links are relative to ``resources/map/`` unless
    ``base_url`` (ending in ``/``) is given; the Qt view sets that folder as base URL.

    The page carries its Content-Security-Policy: every ``<script>`` folium wrote gets
    this page's nonce, and nothing else may run (see ``content_security_policy``). The
    settings' text reaches the page only inside folium's JSON, where ``<`` is escaped,
    so it cannot open a script element of its own. ``dark`` gives it the wall display's
    dark look (``dispatch_map.css``)."""
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
    text = page.get_root().render()
    if dark:
        text = text.replace("<body>", '<body class="dm-dark">', 1)
    if base_url:
        for relative in ("leaflet/leaflet.js", "leaflet/leaflet.css", "dispatch_map.js"):
            text = text.replace(f'"{relative}"', f'"{base_url}{relative}"')
        text = text.replace('"dispatch_map.css"', f'"{base_url}dispatch_map.css"')
    nonce = secrets.token_urlsafe(18)
    text = re.sub(r"<script\b", f'<script nonce="{nonce}"', text)
    policy = content_security_policy(tiles, nonce, allow_eval=not qt_bridge)
    # First in <head>: a policy applies only to what comes after it.
    return text.replace(
        "<head>",
        f'<head>\n    <meta http-equiv="Content-Security-Policy" content="{policy}" />',
        1,
    )


def resources_url() -> str:
    """``resources/map/`` as a ``file://`` URL ending in ``/``."""
    return MAP_RESOURCES.as_uri() + "/"
