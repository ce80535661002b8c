"""The map page in a ``QWebEngineView``, and the bridge that carries marker clicks back.

The page is loaded once (``load_count`` says how often it really was); after that the
application only runs JavaScript in it. ``MapPage`` keeps the page's console messages,
so a broken script shows up in the log and in tests instead of as an empty map.

The page may reach its own bundled files and the tile server, nothing else:
``MapRequestGuard`` refuses every other request (``page.request_allowed``), the page
may not read local files by script nor navigate away, and its Content-Security-Policy
(``page.content_security_policy``) says the same inside the engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from dispatch_app import APP_NAME, __version__
from dispatch_app.ui.map.page import (
    TileSource,
    map_labels,
    map_page_html,
    map_style,
    request_allowed,
    resources_url,
)

log = logging.getLogger(__name__)

Level = QWebEnginePage.JavaScriptConsoleMessageLevel


@dataclass(frozen=True, slots=True)
class ConsoleMessage:
    level: Level
    text: str
    line: int
    source: str

    @property
    def is_error(self) -> bool:
        return self.level == Level.ErrorMessageLevel


class MapPage(QWebEnginePage):
    """The web page: counts its loads and keeps what its scripts print."""

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.console: list[ConsoleMessage] = []
        self.load_count = 0  # finished loads; one for the life of the view, if all is well
        self.loadFinished.connect(self._count_load)

    def _count_load(self, _ok: bool) -> None:
        self.load_count += 1

    def acceptNavigationRequest(
        self, url: QUrl | str, kind: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        """Only the page's own load; a link (the tile server's credit) opens in the
        browser, and nothing else may take the map's place."""
        address = QUrl(url)
        if kind == QWebEnginePage.NavigationType.NavigationTypeLinkClicked:
            if address.scheme() in ("http", "https"):
                QDesktopServices.openUrl(address)
            return False
        return (
            address.scheme() == "data"
            or (not is_main_frame and address.scheme() == "about")
            or kind == QWebEnginePage.NavigationType.NavigationTypeReload
        )

    def javaScriptConsoleMessage(self, level: Level, message: str, line: int, source: str) -> None:
        entry = ConsoleMessage(level, message, line, source)
        self.console.append(entry)
        del self.console[:-200]  # a long day's worth, not a leak
        if entry.is_error:
            log.warning("map page: %s (%s:%d)", message, source, line)
        else:
            log.debug("map page: %s", message)


class MapRequestGuard(QWebEngineUrlRequestInterceptor):
    """Refuses every request of the map page but its own files and the tile server's.

    ``refused`` keeps the last refusals (for the log and the tests)."""

    def __init__(self, tiles: TileSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tiles = tiles
        self.refused: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl().toString()
        if request_allowed(self.tiles, url):
            return
        info.block(True)
        self.refused.append(url[:300])
        del self.refused[:-50]
        log.warning("map page: refused a request to %s", url[:300])


class MapBridge(QObject):
    """What the page may call (through ``QWebChannel``, as ``mapBridge``)."""

    technicianClicked = Signal(int)  # technician id: their marker was clicked
    visitClicked = Signal(int)  # visit id: its marker was clicked
    connected = Signal()  # the page's end of the channel is up

    @Slot(str, int)
    def markerClicked(self, kind: str, marker_id: int) -> None:
        if kind == "technician":
            self.technicianClicked.emit(int(marker_id))
        elif kind == "visit":
            self.visitClicked.emit(int(marker_id))

    @Slot()
    def pageReady(self) -> None:
        self.connected.emit()


def _profile() -> QWebEngineProfile:
    """The shared profile, telling tile servers who asks (OpenStreetMap's policy wants
    an application that names itself)."""
    profile = QWebEngineProfile.defaultProfile()
    agent = profile.httpUserAgent()
    suffix = f" {APP_NAME.replace(' ', '')}/{__version__}"
    if not agent.endswith(suffix):
        profile.setHttpUserAgent(agent + suffix)
    return profile


class MapView(QWebEngineView):
    """The map page, loaded once; ``run`` sends it JavaScript once it is ready."""

    ready = Signal()  # the page has loaded and ``dispatchMap`` can be called
    reloaded = Signal()  # the page had to be loaded again (its renderer died): resend all

    def __init__(
        self, tiles: TileSource, parent: QWidget | None = None, *, dark: bool = False
    ) -> None:
        super().__init__(parent)
        self.dark = dark
        self.map_page = MapPage(_profile(), self)
        self.setPage(self.map_page)
        # Kept here: the page does not own its interceptor, and Python would collect it.
        self.guard = MapRequestGuard(tiles, self)
        self.map_page.setUrlRequestInterceptor(self.guard)
        self._allow(tiles)
        # The map never takes the keyboard: a dispatcher who clicks a marker and then
        # presses Ctrl+Z means the board's undo, which the web page would swallow.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self)
        self.channel.registerObject("mapBridge", self.bridge)
        self.map_page.setWebChannel(self.channel)
        self.map_page.loadFinished.connect(self._loaded)
        self.map_page.renderProcessTerminated.connect(self._renderer_died)
        self.is_ready = False
        self.tiles = tiles
        self._html = self._page_html(tiles)
        # A page loading is never replaced mid-load: a load given up half-way can still
        # report itself finished, and the application would then talk to a document that
        # is already being thrown away. A reload asked for meanwhile waits for the end.
        self._loading = True
        self._reload_wanted = False
        self.setHtml(self._html, QUrl(resources_url()))

    @property
    def load_count(self) -> int:
        return self.map_page.load_count

    def run(self, script: str, callback: Callable[[Any], None] | None = None) -> bool:
        """Run ``script`` in the page; False (and nothing run) while it is not ready."""
        if not self.is_ready:
            return False
        if callback is None:
            self.map_page.runJavaScript(script)
        else:
            self.map_page.runJavaScript(script, 0, callback)
        return True

    def set_tiles(self, tiles: TileSource) -> None:
        """Use other tiles: in place from the same server, else by loading the page
        again (its Content-Security-Policy names the one server it may load from)."""
        if tiles == self.tiles:
            return
        same_server = (tiles.server, tiles.folder) == (self.tiles.server, self.tiles.folder)
        self.tiles = tiles
        self._html = self._page_html(tiles)  # for a reload after a renderer crash, too
        self._allow(tiles)
        if same_server and self.is_ready:
            self.run(f"dispatchMap.setTiles({_js(tiles.url)}, {_js(tiles.attribution)})")
        else:
            self._load_again()

    def _page_html(self, tiles: TileSource) -> str:
        return map_page_html(
            tiles, qt_bridge=True, labels=map_labels(), style=map_style(), dark=self.dark
        )

    def _allow(self, tiles: TileSource) -> None:
        """What the page may reach: its bundled files, and the tiles."""
        self.guard.tiles = tiles
        settings = self.map_page.settings()
        attribute = QWebEngineSettings.WebAttribute
        # The page is local content. Remote tiles need remote access, and the guard
        # keeps it to the one tile server. File access it needs for its own Leaflet
        # (and a tile folder): the guard keeps it to those folders, and the page's
        # policy forbids reading any file or URL by script (connect-src 'none').
        settings.setAttribute(attribute.LocalContentCanAccessRemoteUrls, tiles.server is not None)
        settings.setAttribute(attribute.LocalContentCanAccessFileUrls, True)
        settings.setAttribute(attribute.LocalStorageEnabled, False)

    def _loaded(self, ok: bool) -> None:
        proxy = self.focusProxy()  # the widget Qt WebEngine renders into, made on load
        if proxy is not None:
            proxy.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._loading = False
        if self._reload_wanted:
            self._load_again()  # the tiles changed while this page was loading
            return
        if not ok:
            log.warning("the map page did not load")
            return
        self.is_ready = True
        self.ready.emit()

    def _renderer_died(
        self, status: QWebEnginePage.RenderProcessTerminationStatus, code: int
    ) -> None:
        # The page's scripts and markers died with the renderer: load it again, and the
        # dock sends every marker afresh.
        log.warning("the map's renderer ended (%s, %d); loading the map again", status, code)
        self._loading = False  # nothing is loading in a dead renderer
        self._load_again()

    def _load_again(self) -> None:
        self.is_ready = False
        if self._loading:
            self._reload_wanted = True
            return
        self._reload_wanted = False
        self._loading = True
        self.setHtml(self._html, QUrl(resources_url()))
        self.reloaded.emit()


def _js(text: str) -> str:
    """A JavaScript string literal."""
    return json.dumps(text)
