"""Where the map puts technicians and jobs, and what it tells the page when the day changes.

The map page (``resources/map/dispatch_map.js``) holds one marker per technician and per
visit. ``MapScene`` keeps the day as the store holds it, works out each marker's record
(position, colours, popup facts, the technician's route), and hands the page only the
records that differ from what it last sent: store changes mark technicians and visits
dirty, and ``take_update`` turns everything dirty into one ``MapUpdate``. A burst of
store changes therefore costs the page one update, not one per change.

Positions, best first:

* a visit is at its service site's coordinates; a site without them is at its ZIP
  code's centroid (offline, from the ``zipcodes`` package), marked approximate;
* a technician is at the site they are on now (an ``on_site`` visit), else at the last
  site they completed today, else at their home base; a position reported by a GPS
  integration (``technicians.reported_*``) wins when it is newer than that.

Distances and drive times in the popups come from ``domain.geo.DriveEstimate`` with the
company's road factor and speed, exactly as the board's rules use them; what a
technician is doing comes from ``domain.statuses.technician_status`` at the day
source's clock, exactly as the board's name column says it. A status can change with
the clock alone (a shift ends, a visit's start passes): ``statuses_due`` says when one
has, and the next update carries it.

Threading contract: everything here runs on the app's event loop except
``ZipCentroids.load``, which is blocking and meant for a worker thread. No Qt here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dispatch_app.domain.clock import Clock, local_now
from dispatch_app.domain.geo import DriveEstimate, Place
from dispatch_app.domain.statuses import (
    VISIT_FINISHED,
    Activity,
    TechnicianStatus,
    status_changes,
    technician_status,
)
from dispatch_app.domain.vocabulary import Priority, VisitStatus
from dispatch_app.services.day_board import (
    BoardSettings,
    DayWindow,
    TechnicianRow,
    UnassignedJob,
    VisitBlock,
)
from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.placement import drive_estimate

# Settings rows (``app_settings``) the map reads; every workstation shares them.
TILE_URL_SETTING = "map_tile_url"
TILE_ATTRIBUTION_SETTING = "map_tile_attribution"

JsonRecord = dict[str, Any]


# -- positions ----------------------------------------------------------------------------
def valid_place(lat: object, lon: object) -> Place | None:
    """``(lat, lon)`` when both are real coordinates on the globe; None for anything else.

    The database refuses impossible coordinates, but a dataset, a GPS feed or a hand-made
    row can still carry None or NaN, and one such value must not break the page.
    """
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    lat, lon = float(lat), float(lon)
    # "not inside" rather than "outside" so that NaN, which fails every comparison, fails.
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


class ZipCentroids:
    """US ZIP code centroids, offline: the first position an address gets.

    The ``zipcodes`` package scans a 42,000-entry list per lookup and takes about 0.4 s
    to read it the first time, so ``load`` (blocking, for a worker thread) indexes it once
    and ``get`` answers from the index. Before ``load`` has run, ``get`` knows nothing.
    """

    def __init__(self) -> None:
        self._by_zip: dict[str, Place] | None = None
        self._towns: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._by_zip is not None

    def load(self) -> None:
        """Read the package's list (blocking; safe to call from several threads)."""
        with self._lock:
            if self._by_zip is not None:
                return
            import zipcodes

            index: dict[str, Place] = {}
            towns: dict[str, tuple[str, str]] = {}
            for entry in zipcodes.list_all():
                try:
                    place = valid_place(float(entry["lat"]), float(entry["long"]))
                except (KeyError, TypeError, ValueError):
                    continue
                if place is not None:
                    index[str(entry["zip_code"])] = place
                    towns[str(entry["zip_code"])] = (
                        str(entry.get("city") or "").title(),
                        str(entry.get("state") or ""),
                    )
            self._towns = towns
            self._by_zip = index

    def get(self, zip_code: str) -> Place | None:
        """The centroid of a ZIP (``60657`` or ``60657-1234``), if known and loaded."""
        index = self._by_zip
        if index is None or not zip_code:
            return None
        return index.get(zip_code.strip()[:5])

    def town(self, zip_code: str) -> tuple[str, str] | None:
        """The city and state of a ZIP (``("Chicago", "IL")``), if known and loaded."""
        if self._by_zip is None or not zip_code:
            return None
        return self._towns.get(zip_code.strip()[:5])


ZIP_CENTROIDS = ZipCentroids()


@dataclass(frozen=True, slots=True)
class ReportedPosition:
    """Where a GPS integration last saw a technician (``technicians.reported_*``)."""

    lat: float
    lon: float
    at: dt.datetime


class PositionSource:
    """Why a technician's marker is where it is (sent to the page, shown in the popup)."""

    REPORTED = "reported"
    ON_SITE = "on_site"
    LAST_VISIT = "last_visit"
    HOME = "home"


@dataclass(frozen=True, slots=True)
class TechnicianSpot:
    place: Place
    source: str  # a PositionSource value
    as_of: dt.datetime  # since when the position is known


def technician_spot(
    day_visits: Sequence[tuple[VisitBlock, Place | None]],
    home: Place | None,
    reported: ReportedPosition | None,
    day_starts: dt.datetime,
) -> TechnicianSpot | None:
    """The technician's latest known position, or None when nothing places them.

    ``day_visits`` are the technician's visits today in time order, with their places.
    Only statuses count, never the clock: a visit booked for 09:00 that nobody marked
    started does not move the technician. An en-route technician stays at the previous
    site until they arrive; the route shows where they are heading.
    """
    best: TechnicianSpot | None = None
    on_site = [(v, p) for v, p in day_visits if p is not None and v.status == VisitStatus.ON_SITE]
    completed = [
        (v, p) for v, p in day_visits if p is not None and v.status == VisitStatus.COMPLETED
    ]
    if on_site:
        visit, place = max(on_site, key=lambda pair: pair[0].starts)
        assert place is not None
        best = TechnicianSpot(place, PositionSource.ON_SITE, visit.starts)
    elif completed:
        visit, place = max(completed, key=lambda pair: pair[0].ends)
        assert place is not None
        best = TechnicianSpot(place, PositionSource.LAST_VISIT, visit.ends)
    elif home is not None:
        best = TechnicianSpot(home, PositionSource.HOME, day_starts)
    if reported is not None:
        gps = valid_place(reported.lat, reported.lon)
        if gps is not None and (best is None or reported.at >= best.as_of):
            best = TechnicianSpot(gps, PositionSource.REPORTED, reported.at)
    return best


def initials(name: str) -> str:
    parts = [part for part in name.split() if part[:1].isalpha()]
    return "".join(part[0].upper() for part in parts[:2]) or "?"


# -- the scene ------------------------------------------------------------------------
class DaySource(Protocol):
    """What the scene reads from the day store (``DayStore`` is one)."""

    @property
    def window(self) -> DayWindow | None: ...

    @property
    def clock(self) -> Clock: ...  # the company's now, for what technicians are doing

    @property
    def settings(self) -> BoardSettings: ...

    @property
    def technicians(self) -> tuple[TechnicianRow, ...]: ...

    def visits(self) -> list[VisitBlock]: ...

    def unassigned(self) -> list[UnassignedJob]: ...


@dataclass(slots=True)
class MapUpdate:
    """Records the page has not seen: added or changed markers, and removed ones."""

    reset: bool = False  # a new day: drop every marker first
    technicians: list[JsonRecord] = field(default_factory=list)
    technicians_removed: list[int] = field(default_factory=list)
    visits: list[JsonRecord] = field(default_factory=list)
    visits_removed: list[int] = field(default_factory=list)
    unplaced: tuple[int, int] = (0, 0)  # technicians, visits the map cannot place

    def __bool__(self) -> bool:
        return bool(
            self.reset
            or self.technicians
            or self.technicians_removed
            or self.visits
            or self.visits_removed
        )

    def to_json(self) -> str:
        """The argument of the page's ``dispatchMap.apply``: compact, and never NaN."""
        return json.dumps(
            {
                "reset": self.reset,
                "t": self.technicians,
                "tr": self.technicians_removed,
                "v": self.visits,
                "vr": self.visits_removed,
                "unplaced": list(self.unplaced),
            },
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )


def _round(value: float, digits: int) -> float:
    return round(value, digits) if math.isfinite(value) else 0.0


class MapScene:
    """The day as the map shows it, and what the page still has to be told."""

    def __init__(self, centroids: ZipCentroids = ZIP_CENTROIDS) -> None:
        self._centroids = centroids
        self._window: DayWindow | None = None
        self._clock: Clock | None = None
        self._drive = DriveEstimate()
        self._technicians: dict[int, TechnicianRow] = {}
        self._visits: dict[int, VisitBlock] = {}
        self._waiting: dict[int, UnassignedJob] = {}
        self._crews: dict[int, set[int]] = {}  # technician id → ids of their visits
        self._reported: dict[int, ReportedPosition] = {}
        # What the page holds, by id: compared with fresh records so that only real
        # differences travel.
        self._sent_technicians: dict[int, JsonRecord] = {}
        self._sent_visits: dict[int, JsonRecord] = {}
        self._dirty_technicians: set[int] = set()
        self._dirty_visits: set[int] = set()
        self._reset = False
        self._unplaced = (0, 0)
        # Some site has no coordinates: its ZIP centroid is wanted (``ZipCentroids.load``).
        self._needs_centroids = False
        # Per technician, when the status last sent may change with the clock alone.
        self._status_due: dict[int, float] = {}

    # -- what the store says ----------------------------------------------------------
    def load(self, source: DaySource) -> None:
        """Take the whole day from ``source`` (first load, or another day shown)."""
        self._window = source.window
        self._clock = source.clock
        self._drive = drive_estimate(source.settings)
        self._technicians = {row.id: row for row in source.technicians}
        self._visits = {}
        self._waiting = {}
        self._crews = {}
        for visit in source.visits():
            self._place_visit(visit)
        self._waiting = {}
        for job in source.unassigned():
            self._place_waiting(job)
        self._reset = True
        self._sent_technicians.clear()
        self._sent_visits.clear()
        self._dirty_technicians = set(self._technicians)
        self._dirty_visits = set(self._visits) | set(self._waiting)

    def apply(self, change: StoreChange, source: DaySource) -> None:
        """Follow one store change: note what it touched, for the next update."""
        if change.day_changed or self._window is None:
            self.load(source)
            return
        if change.settings is not None:
            self._drive = drive_estimate(change.settings)
            self._dirty_technicians |= set(self._technicians)  # every leg changes
        if change.technicians is not None:
            fresh = {row.id: row for row in change.technicians}
            gone = set(self._technicians) - set(fresh)
            self._technicians = fresh
            self._dirty_technicians |= set(fresh) | gone
        for visit in change.visits_removed:
            self._unplace_visit(visit.id)
            self._dirty_visits.add(visit.id)
        for visit in change.visits_upserted:
            self._unplace_visit(visit.id)
            self._place_visit(visit)
            self._dirty_visits.add(visit.id)
        for job in change.unassigned_removed:
            self._waiting.pop(job.visit_id, None)
            self._dirty_visits.add(job.visit_id)
        for job in change.unassigned_upserted:
            self._place_waiting(job)
            self._dirty_visits.add(job.visit_id)

    def set_reported(self, positions: Mapping[int, ReportedPosition]) -> None:
        """Take the positions GPS last reported (all of them, as just read)."""
        fresh = dict(positions)
        for tech_id in set(fresh) | set(self._reported):
            if fresh.get(tech_id) != self._reported.get(tech_id):
                self._dirty_technicians.add(tech_id)
        self._reported = fresh

    @property
    def needs_centroids(self) -> bool:
        """Whether some site lacks coordinates and waits for ZIP centroids to load."""
        return self._needs_centroids and not self._centroids.loaded

    def centroids_loaded(self) -> None:
        """ZIP centroids became available: places without coordinates get one now."""
        for visit in self._visits.values():
            if valid_place(visit.lat, visit.lon) is None:
                self._dirty_visits.add(visit.id)
                self._dirty_technicians.update(visit.technician_ids)
        for job in self._waiting.values():
            if valid_place(job.lat, job.lon) is None:
                self._dirty_visits.add(job.visit_id)

    def mark_all_dirty(self) -> None:
        """Send every record again (the page was reloaded and holds nothing)."""
        self._reset = True
        self._sent_technicians.clear()
        self._sent_visits.clear()
        self._dirty_technicians = set(self._technicians)
        self._dirty_visits = set(self._visits) | set(self._waiting)

    def statuses_due(self) -> bool:
        """Whether the clock has moved past a moment at which some technician's status
        may have changed since it was sent (the next update carries the new one)."""
        now = self._now()
        if now is None:
            return False
        stamp = now.timestamp()
        return any(due <= stamp for due in self._status_due.values())

    # -- what the page is told --------------------------------------------------------
    def take_update(self) -> MapUpdate:
        """Everything that differs from what the page holds; the page then holds it."""
        update = MapUpdate(reset=self._reset)
        self._reset = False
        now = self._now()
        if now is not None:
            stamp = now.timestamp()
            self._dirty_technicians.update(
                tech_id for tech_id, due in self._status_due.items() if due <= stamp
            )
        dirty_visits, self._dirty_visits = self._dirty_visits, set()
        dirty_technicians, self._dirty_technicians = self._dirty_technicians, set()
        # A visit that moved, changed status or crew changes its technicians' routes too.
        for visit_id in dirty_visits:
            for record in (self._sent_visits.get(visit_id), self._visit_record(visit_id)):
                if record is not None:
                    dirty_technicians.update(record["techs"])
        for visit_id in sorted(dirty_visits):
            self._diff(
                visit_id,
                self._visit_record(visit_id),
                self._sent_visits,
                update.visits,
                update.visits_removed,
            )
        for tech_id in sorted(dirty_technicians):
            self._diff(
                tech_id,
                self._technician_record(tech_id),
                self._sent_technicians,
                update.technicians,
                update.technicians_removed,
            )
        self._unplaced = (
            len(self._technicians) - len(self._sent_technicians),
            len(self._visits) + len(self._waiting) - len(self._sent_visits),
        )
        update.unplaced = self._unplaced
        return update

    @property
    def marker_counts(self) -> tuple[int, int]:
        """Technician and visit markers the page holds after the last update."""
        return len(self._sent_technicians), len(self._sent_visits)

    @property
    def unplaced(self) -> tuple[int, int]:
        """Technicians and visits nothing places (no site, no ZIP, no home), last update."""
        return self._unplaced

    def technician_of_visit(self, visit_id: int) -> int:
        """The visit's first technician (the board's row for it), 0 when unassigned."""
        visit = self._visits.get(visit_id)
        return visit.technician_ids[0] if visit is not None and visit.technician_ids else 0

    def visit_to_select(self, technician_id: int) -> int:
        """The visit that stands for a technician on the board: the one they are at or on
        the way to, else the first still open, else the last of the day; 0 when they
        have none."""
        day = self._day_visits(technician_id)
        if not day:
            return 0
        status = self.technician_status(technician_id)
        if status is not None and status.activity in (Activity.ON_SITE, Activity.EN_ROUTE):
            return status.visit_id
        ahead = [v for v in day if v.status not in VISIT_FINISHED]
        return ahead[0].id if ahead else day[-1].id

    def technician_status(self, technician_id: int) -> TechnicianStatus | None:
        """What the technician is doing now, as their marker says (None: not on the map's
        day)."""
        row = self._technicians.get(technician_id)
        window, now = self._window, self._now()
        if row is None or window is None or now is None:
            return None
        return technician_status(
            row.working,
            self._technician_visits(technician_id),
            now,
            first_day=window.day,
            last_day=window.dates[-1],
        )

    def _now(self) -> dt.datetime | None:
        if self._clock is None or self._window is None:
            return None
        return local_now(self._clock, self._window.timezone)

    @staticmethod
    def _diff(
        key: int,
        record: JsonRecord | None,
        sent: dict[int, JsonRecord],
        upserted: list[JsonRecord],
        removed: list[int],
    ) -> None:
        if record is None:
            if sent.pop(key, None) is not None:
                removed.append(key)
        elif sent.get(key) != record:
            sent[key] = record
            upserted.append(record)

    # -- records --------------------------------------------------------------------------
    def crew_of(self, visit_id: int) -> tuple[int, ...]:
        visit = self._visits.get(visit_id)
        return visit.technician_ids if visit is not None else ()

    def _place_visit(self, visit: VisitBlock) -> None:
        self._visits[visit.id] = visit
        if valid_place(visit.lat, visit.lon) is None:
            self._needs_centroids = True
        for tech_id in visit.technician_ids:
            self._crews.setdefault(tech_id, set()).add(visit.id)

    def _place_waiting(self, job: UnassignedJob) -> None:
        self._waiting[job.visit_id] = job
        if valid_place(job.lat, job.lon) is None:
            self._needs_centroids = True

    def _unplace_visit(self, visit_id: int) -> None:
        old = self._visits.pop(visit_id, None)
        if old is not None:
            for tech_id in old.technician_ids:
                self._crews.get(tech_id, set()).discard(visit_id)

    def _site(self, lat: float | None, lon: float | None, zip_code: str) -> tuple[Place, bool]:
        """A site's place and whether it is only approximate (the ZIP centroid)."""
        place = valid_place(lat, lon)
        if place is not None:
            return place, False
        centroid = self._centroids.get(zip_code)
        if centroid is not None:
            return centroid, True
        raise LookupError(zip_code)

    def _visit_place(self, visit: VisitBlock) -> Place | None:
        try:
            return self._site(visit.lat, visit.lon, visit.zip)[0]
        except LookupError:
            return None

    def _local_time(self, moment: dt.datetime) -> str:
        zone = self._window.timezone if self._window is not None else dt.UTC
        local = moment.astimezone(zone)
        return f"{local.hour:02d}:{local.minute:02d}"  # strftime costs five times more

    def _visit_record(self, visit_id: int) -> JsonRecord | None:
        visit = self._visits.get(visit_id)
        if visit is not None:
            try:
                place, approximate = self._site(visit.lat, visit.lon, visit.zip)
            except LookupError:
                return None
            return {
                "id": visit.id,
                "lat": place[0],
                "lon": place[1],
                "approx": approximate,
                "status": visit.status,
                "emergency": visit.priority == Priority.EMERGENCY,
                "priority": visit.priority,
                "number": visit.number,
                "wo": visit.work_order_id,
                "job": visit.job_type,
                "customer": visit.customer,
                "city": visit.city,
                "time": f"{self._local_time(visit.starts)}–{self._local_time(visit.ends)}",
                "techs": list(visit.technician_ids),
                "waiting": False,
            }
        job = self._waiting.get(visit_id)
        if job is None:
            return None
        try:
            place, approximate = self._site(job.lat, job.lon, job.zip)
        except LookupError:
            return None
        return {
            "id": job.visit_id,
            "lat": place[0],
            "lon": place[1],
            "approx": approximate,
            "status": VisitStatus.UNSCHEDULED.value,
            "emergency": job.priority == Priority.EMERGENCY,
            "priority": job.priority,
            "number": job.number,
            "wo": job.work_order_id,
            "job": job.job_type,
            "customer": job.customer,
            "city": job.city,
            "time": self._local_time(job.starts) if job.starts is not None else "",
            "techs": [],
            "waiting": True,
        }

    def _technician_visits(self, technician_id: int) -> list[VisitBlock]:
        """All the technician's visits the scene holds (the whole window), in time order."""
        visits = (self._visits[v] for v in self._crews.get(technician_id, ()) if v in self._visits)
        return sorted(visits, key=lambda v: (v.starts.timestamp(), v.id))

    def _day_visits(self, technician_id: int) -> list[VisitBlock]:
        """The technician's visits on the window's first day, in time order."""
        window = self._window
        visits = (self._visits[v] for v in self._crews.get(technician_id, ()) if v in self._visits)
        if window is not None:
            visits = (
                v for v in visits if v.starts.astimezone(window.timezone).date() == window.day
            )
        return sorted(visits, key=lambda v: (v.starts, v.id))

    def _technician_record(self, technician_id: int) -> JsonRecord | None:
        row = self._technicians.get(technician_id)
        self._status_due.pop(technician_id, None)
        if row is None or self._window is None:
            return None
        day = self._day_visits(technician_id)
        placed = [(visit, self._visit_place(visit)) for visit in day]
        home = valid_place(*row.home) if row.home is not None else None
        spot = technician_spot(placed, home, self._reported.get(row.id), self._window.starts)
        if spot is None:
            return None
        status = self._status_noted(row)
        return {
            "id": row.id,
            "name": row.name,
            "initials": initials(row.name),
            "colour": row.colour,
            "trade": row.trade,
            "skills": list(row.skills),
            "lat": spot.place[0],
            "lon": spot.place[1],
            "source": spot.source,
            "status": status.activity.value,
            "statusText": status.text,
            "home": list(home) if home is not None else None,
            "route": self._route(home, placed),
        }

    def _status_noted(self, row: TechnicianRow) -> TechnicianStatus:
        """The technician's status now, remembering the next moment the clock alone may
        change it: a shift edge, a waiting visit's start, or midnight at either end of
        the days shown."""
        now, window = self._now(), self._window
        assert now is not None and window is not None
        visits = self._technician_visits(row.id)
        stamp = now.timestamp()
        moments = status_changes(row.working, visits)
        moments += [window.starts.timestamp(), window.ends.timestamp()]
        later = [moment for moment in moments if moment > stamp]
        if later:
            self._status_due[row.id] = min(later)
        return technician_status(
            row.working, visits, now, first_day=window.day, last_day=window.dates[-1]
        )

    def _route(
        self, home: Place | None, placed: Iterable[tuple[VisitBlock, Place | None]]
    ) -> list[list[Any]]:
        """Today's stops in visit order as ``[visit id, km, minutes]``: the drive from the
        stop before (or from home), None where either end has no place. The page finds
        each stop's place and words in the visit's own record."""
        stops: list[list[Any]] = []
        previous = home
        for visit, place in placed:
            km: float | None = None
            minutes: int | None = None
            if place is not None and previous is not None:
                km = _round(self._drive.road_km(previous, place), 1)
                minutes = round(self._drive.minutes(previous, place))
            if place is not None:
                previous = place
            stops.append([visit.id, km, minutes])
        return stops


# -- what the database adds -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MapSettings:
    """The company's map settings (``app_settings``); None means "not set"."""

    tile_url: str | None = None
    tile_attribution: str | None = None


def reported_positions(technicians: Iterable[TechnicianRow]) -> dict[int, ReportedPosition]:
    """Every technician's last usable GPS report, by technician id."""
    positions = {}
    for tech in technicians:
        if tech.reported is None:
            continue
        lat, lon, at = tech.reported
        place = valid_place(lat, lon)
        if place is not None:
            positions[tech.id] = ReportedPosition(place[0], place[1], at)
    return positions
