"""The map beside the wall's board: the map dock's page and view, shown read-only.

The same ``MapView`` and ``LiveMap`` as the main window's dock (``ui/map``), without
the dock: nothing here selects, follows a click or takes the keyboard. Store changes
become one page update per turn of the event loop, as in the dock.

Threading contract: GUI thread only (qasync); ``LiveMap`` reads on the same loop.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from dispatch_app.services.day_store import DayStore, StoreChange
from dispatch_app.services.live_map import LiveMap
from dispatch_app.services.map_positions import MapSettings
from dispatch_app.ui.map.page import TileSource
from dispatch_app.ui.map.view import MapView


class WallMap(QWidget):
    updated = Signal()  # the page applied an update (``counts`` says what it holds)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wallMap")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self.flush)
        self.live = LiveMap(self._flush_timer.start, on_settings=self._company_settings)
        self.view = MapView(TileSource.for_workstation(None), self, dark=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.counts: dict[str, Any] = {}
        self.view.ready.connect(self.flush)
        self.view.reloaded.connect(self.live.scene.mark_all_dirty)

    def bind(self, store: DayStore) -> None:
        def follow(change: StoreChange) -> None:
            self.live.apply(change, store)

        store.subscribe(follow)

    def flush(self) -> None:
        if not self.view.is_ready:
            return  # the page's first load sends everything
        update = self.live.scene.take_update()
        if update:
            script = f"JSON.stringify(dispatchMap.apply({update.to_json()}))"
            self.view.run(script, self._applied)

    def _applied(self, counts: object) -> None:
        if isinstance(counts, str):
            self.counts = json.loads(counts)
        self.updated.emit()

    def _company_settings(self, settings: MapSettings) -> None:
        self.view.set_tiles(
            TileSource.for_workstation(settings.tile_url, settings.tile_attribution)
        )

    async def aclose(self) -> None:
        self._flush_timer.stop()
        await self.live.aclose()
