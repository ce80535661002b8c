"""The map dock: the day's technicians and jobs on a live street map beside the board.

Store changes reach ``apply``; the dock notes them in its ``MapScene`` and, once per turn
of the event loop, sends the page one update with only the markers that changed, so a
burst of changes costs one call into the page. The page is loaded once for the life of
the dock. Reported GPS positions, the company's tile setting and the ZIP centroids are
read in the background, never on the GUI thread's time.

Threading contract: everything runs on the GUI thread's event loop (qasync); database
reads are coroutines on that loop (``LiveMap``), the ZIP list is read in a worker thread.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QWidget

from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.live_map import LiveMap
from dispatch_app.services.map_positions import DaySource, MapSettings
from dispatch_app.ui.map.page import TileSource
from dispatch_app.ui.map.view import MapView


class MapDock(QDockWidget):
    technicianClicked = Signal(int)  # technician id: the user clicked their marker
    visitClicked = Signal(int)  # visit id: the user clicked its marker
    updated = Signal()  # the page has applied an update (see ``counts`` for what it holds)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Map"), parent)
        self.setObjectName("mapDock")
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)  # once per turn of the event loop, not per change
        self._flush_timer.timeout.connect(self.flush)
        self.live = LiveMap(self._flush_timer.start, on_settings=self._company_settings)
        self.scene = self.live.scene
        self.view = MapView(TileSource.for_workstation(None), self)
        self.setWidget(self.view)
        self.setMinimumSize(220, 180)
        self.counts: dict[str, Any] = {}  # what the page said it holds after the last update
        self.updates_sent = 0
        self._selection = (0, 0, False)  # technician, visit, centre: sent once ready
        self._clicked_technician = 0  # a technician marker the user just clicked
        self.view.ready.connect(self._page_ready)
        self.view.reloaded.connect(self.scene.mark_all_dirty)
        self.view.bridge.technicianClicked.connect(self._technician_clicked)
        self.view.bridge.visitClicked.connect(self.visitClicked)

    # -- the day ----------------------------------------------------------------------
    def apply(self, change: StoreChange, source: DaySource) -> None:
        """Follow a store change; the page hears of it on the next turn of the loop."""
        self.live.apply(change, source)

    def flush(self) -> None:
        """Send the page what changed since the last update (if it is ready for it)."""
        if not self.view.is_ready:
            return  # the page's first load sends everything
        update = self.scene.take_update()
        if update:
            self.updates_sent += 1
            script = f"JSON.stringify(dispatchMap.apply({update.to_json()}))"
            self.view.run(script, self._applied)

    def _applied(self, counts: object) -> None:
        # JSON, because Qt hands a JavaScript object over as an empty map.
        if isinstance(counts, str):
            self.counts = json.loads(counts)
        self.updated.emit()

    def _page_ready(self) -> None:
        self.flush()
        technician, visit, centre = self._selection
        if technician or visit:
            self._send_selection(technician, visit, centre)

    def _company_settings(self, settings: MapSettings) -> None:
        self.view.set_tiles(
            TileSource.for_workstation(settings.tile_url, settings.tile_attribution)
        )

    # -- selection --------------------------------------------------------------------
    def select_visit(self, visit_id: int) -> None:
        """The board selected ``visit_id`` (0: nothing): highlight it and centre on it,
        with its technician's route, unless the click came from the map itself."""
        technician = self.scene.technician_of_visit(visit_id)
        centre = True
        if self._clicked_technician:
            # The user clicked a technician and the board followed with one of their
            # visits: keep that technician's route, and leave the map where it is.
            if visit_id == 0 or self._clicked_technician in self.scene.crew_of(visit_id):
                technician, centre = self._clicked_technician, False
            self._clicked_technician = 0
        self._send_selection(technician, visit_id, centre)

    def select_technician(self, technician_id: int, *, centre: bool = True) -> None:
        self._send_selection(technician_id, 0, centre)

    def _send_selection(self, technician: int, visit: int, centre: bool) -> None:
        self._selection = (technician, visit, centre)
        self.flush()  # markers first, so that a brand-new visit can be highlighted
        self.view.run(f"dispatchMap.select({int(technician)}, {int(visit)}, {str(centre).lower()})")

    def _technician_clicked(self, technician_id: int) -> None:
        self._clicked_technician = technician_id
        self._selection = (technician_id, self._selection[1], False)
        self.technicianClicked.emit(technician_id)

    def visit_for_technician(self, technician_id: int) -> int:
        """The visit the board should select for a technician (0: none)."""
        return self.scene.visit_to_select(technician_id)

    # -- the end ----------------------------------------------------------------------
    def stop(self) -> None:
        """The window is closing: start nothing new (reads under way finish by themselves)."""
        self.live.stop()
        self._flush_timer.stop()

    async def aclose(self) -> None:
        """Stop and wait for the map's reads under way, for an orderly shutdown."""
        self._flush_timer.stop()
        await self.live.aclose()
