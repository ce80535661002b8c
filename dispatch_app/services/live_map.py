"""A map scene kept current: store changes, GPS reports and ZIP centroids, as they come.

Both map windows use it — the main window's map dock (Qt) and the wall-display window
(pywebview) — and each supplies ``request_flush``: "send the page what changed, soon".
``LiveMap`` decides what to read and when; the caller decides how updates reach a page.

Reported GPS positions live on the technicians' rows but not in the day store's rows, so
the map reads them itself (one small query), after the first day read and whenever a
store change says a technician row changed, which is what a GPS report does. Reads never
overlap: changes that arrive during one ask for one more read after it. A quiet day
still moves on: every ``STATUS_CHECK_S`` the map asks whether the clock has changed what
a technician is doing (a shift ended, a visit's start passed), as the board's name
column does.

Threading contract: methods and coroutines for one asyncio event loop (the GUI's, under
qasync, or the wall display's own thread); ZIP centroids load in a worker thread. No Qt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.map_positions import (
    ZIP_CENTROIDS,
    DaySource,
    MapScene,
    MapSettings,
    ZipCentroids,
    reported_positions,
)

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
STATUS_CHECK_S = 30.0  # as often as the board redraws its now-line


class LiveMap:
    def __init__(
        self,
        request_flush: Callable[[], None],
        *,
        on_settings: Callable[[MapSettings], None] | None = None,
        centroids: ZipCentroids = ZIP_CENTROIDS,
    ) -> None:
        self.scene = MapScene(centroids)
        self._centroids = centroids
        self._request_flush = request_flush
        self._on_settings = on_settings
        self._work: set[asyncio.Task[None]] = set()
        self._loading_centroids = False
        self._stopped = False
        self._clock_check: asyncio.Task[None] | None = None

    def apply(self, change: StoreChange, source: DaySource) -> None:
        """Follow a store change; ``request_flush`` is called when the page should hear.

        GPS reports ride on the technicians' rows and the tile settings on the board's
        settings, so the map reads nothing of its own: it follows the store.
        """
        if self._stopped:
            return
        self.scene.apply(change, source)
        if change.technicians is not None or change.day_changed:
            self.scene.set_reported(reported_positions(source.technicians))
        if (change.settings is not None or change.day_changed) and self._on_settings:
            settings = source.settings
            self._on_settings(MapSettings(settings.map_tile_url, settings.map_tile_attribution))
        if self.scene.needs_centroids and not self._loading_centroids:
            self._loading_centroids = True
            self._spawn(self._load_centroids())
        if self._clock_check is None:
            self._clock_check = asyncio.ensure_future(self._follow_the_clock())
        self._request_flush()

    async def _follow_the_clock(self) -> None:
        while not self._stopped:
            await asyncio.sleep(STATUS_CHECK_S)
            if self.scene.statuses_due():
                self._request_flush()

    async def _load_centroids(self) -> None:
        try:
            await asyncio.to_thread(self._centroids.load)
        finally:
            self._loading_centroids = False
        if not self._stopped:
            self.scene.centroids_loaded()
            self._request_flush()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(self._quietly(work))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _quietly(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as error:  # the map keeps what it shows; the feed reports outages
            log.warning("the map could not place its markers: %s", error)

    # -- the end --------------------------------------------------------------------------
    def stop(self) -> None:
        """Start nothing new (reads under way finish by themselves)."""
        self._stopped = True
        if self._clock_check is not None:
            self._clock_check.cancel()

    async def aclose(self) -> None:
        """Stop, and wait for reads under way (cancelling any that overstay)."""
        self.stop()
        if self._clock_check is not None:
            await asyncio.gather(self._clock_check, return_exceptions=True)
        pending = set(self._work)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
