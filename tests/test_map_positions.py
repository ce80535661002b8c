"""Where the map puts technicians and jobs, and what it sends the page (no Qt, no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pytest

from dispatch_app.domain.clock import Clock
from dispatch_app.domain.geo import DriveEstimate
from dispatch_app.services.day_board import BoardSettings, DayWindow, TechnicianRow, VisitBlock
from dispatch_app.services.day_store import StoreChange
from dispatch_app.services.map_positions import (
    MapScene,
    PositionSource,
    ReportedPosition,
    ZipCentroids,
    technician_spot,
    valid_place,
)
from tests.companies import DAY, TZ, clock_at

HOME = (41.80, -87.60)
SITE_A = (41.94, -87.67)
SITE_B = (41.88, -87.63)


def at(hhmm: str) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(hhmm), tzinfo=TZ)


def visit(
    visit_id: int,
    start: str,
    place: tuple[float | None, float | None] = SITE_A,
    status: str = "scheduled",
    technicians: tuple[int, ...] = (1,),
    zip_code: str = "60657",
    priority: str = "normal",
) -> VisitBlock:
    starts = at(start)
    return VisitBlock(
        id=visit_id,
        work_order_id=visit_id,
        number=f"WO-{10000 + visit_id}",
        technician_ids=technicians,
        starts=starts,
        ends=starts + dt.timedelta(hours=1),
        status=status,
        priority=priority,
        job_type="No heat call",
        customer="José Núñez",
        city="Chicago",
        arrival_window=None,
        lat=place[0],
        lon=place[1],
        version=1,
        zip=zip_code,
    )


def technician(tech_id: int = 1, home: tuple[float, float] | None = HOME) -> TechnicianRow:
    return TechnicianRow(
        id=tech_id,
        name="Ava Kowalski",
        trade="hvac",
        colour="#1f77b4",
        skills=("furnace",),
        shift=None,
        version=1,
        home=home,
    )


@dataclasses.dataclass
class Day:
    technicians: tuple[TechnicianRow, ...]
    held: list[VisitBlock]
    window: DayWindow = dataclasses.field(default_factory=lambda: DayWindow(DAY, TZ))
    settings: BoardSettings = dataclasses.field(default_factory=BoardSettings)
    clock: Clock = dataclasses.field(default_factory=lambda: clock_at(7))

    def visits(self) -> list[VisitBlock]:
        return sorted(self.held, key=lambda v: (v.starts, v.id))

    def unassigned(self) -> list:
        return []


@pytest.mark.parametrize(
    "lat, lon",
    [
        (None, 1.0),
        (1.0, None),
        (math.nan, 1.0),
        (1.0, math.inf),
        (91.0, 0.0),
        (0.0, -181.0),
        ("41", 1.0),
    ],
)
def test_impossible_coordinates_are_no_place(lat, lon) -> None:
    assert valid_place(lat, lon) is None


def test_a_technician_is_where_the_day_last_put_them() -> None:
    day_starts = at("00:00")
    first = visit(1, "08:00", SITE_A, status="completed")
    second = visit(2, "10:00", SITE_B, status="on_site")
    later = visit(3, "13:00", SITE_A, status="scheduled")

    assert technician_spot([], HOME, None, day_starts).source == PositionSource.HOME
    spot = technician_spot([(first, SITE_A), (later, SITE_A)], HOME, None, day_starts)
    assert (spot.place, spot.source) == (SITE_A, PositionSource.LAST_VISIT)
    spot = technician_spot([(first, SITE_A), (second, SITE_B)], HOME, None, day_starts)
    assert (spot.place, spot.source) == (SITE_B, PositionSource.ON_SITE)
    assert technician_spot([(later, SITE_A)], None, None, day_starts) is None  # nothing known


def test_a_reported_position_wins_only_when_it_is_newer() -> None:
    day_starts = at("00:00")
    on_site = visit(2, "10:00", SITE_B, status="on_site")
    newer = ReportedPosition(41.9, -87.75, at("10:30"))
    older = ReportedPosition(41.9, -87.75, at("09:00"))
    yesterday = ReportedPosition(41.9, -87.75, at("00:00") - dt.timedelta(hours=3))
    broken = ReportedPosition(math.nan, -87.75, at("11:00"))

    assert technician_spot([(on_site, SITE_B)], HOME, newer, day_starts).place == (41.9, -87.75)
    assert technician_spot([(on_site, SITE_B)], HOME, older, day_starts).place == SITE_B
    assert technician_spot([], HOME, yesterday, day_starts).place == HOME
    assert technician_spot([], HOME, broken, day_starts).place == HOME


def test_only_what_changed_is_sent_and_nothing_twice() -> None:
    day = Day((technician(1), technician(2, home=SITE_B)), [visit(1, "08:00"), visit(2, "10:00")])
    scene = MapScene(ZipCentroids())
    scene.load(day)
    first = scene.take_update()
    assert first.reset and len(first.technicians) == 2 and len(first.visits) == 2
    assert not scene.take_update()  # nothing new

    moved = dataclasses.replace(day.held[1], lat=42.0, lon=-87.7, version=2)
    scene.apply(StoreChange(visits_upserted=(moved,)), day)
    update = scene.take_update()
    assert [r["id"] for r in update.visits] == [2]
    assert [r["id"] for r in update.technicians] == [1]  # their route changed; not tech 2
    assert not update.reset

    scene.apply(StoreChange(visits_removed=(moved,)), day)
    update = scene.take_update()
    assert update.visits_removed == [2]


def test_route_legs_use_the_domain_drive_estimate() -> None:
    settings = BoardSettings(road_factor=1.5, average_speed_kmh=30.0)
    day = Day((technician(),), [visit(1, "08:00", SITE_A), visit(2, "10:00", SITE_B)])
    day.settings = settings
    scene = MapScene(ZipCentroids())
    scene.load(day)
    record = scene.take_update().technicians[0]
    drive = DriveEstimate(1.5, 30.0)
    assert record["route"] == [
        [1, round(drive.road_km(HOME, SITE_A), 1), round(drive.minutes(HOME, SITE_A))],
        [2, round(drive.road_km(SITE_A, SITE_B), 1), round(drive.minutes(SITE_A, SITE_B))],
    ]


def test_bad_data_never_reaches_the_page() -> None:
    centroids = ZipCentroids()
    day = Day(
        (technician(1, home=None), technician(2, home=(math.nan, 1.0))),
        [
            visit(1, "08:00", (math.nan, -87.6), zip_code=""),  # no place at all
            visit(2, "09:00", (None, None), zip_code="60657"),  # the ZIP's centroid
            visit(3, "10:00", (200.0, 0.0), zip_code="00000"),  # no such ZIP
        ],
    )
    scene = MapScene(centroids)
    scene.load(day)
    update = scene.take_update()
    assert update.visits == [] and update.technicians == []  # the centroids are not read yet
    assert scene.needs_centroids
    assert update.unplaced == (2, 3)

    centroids.load()
    scene.centroids_loaded()
    update = scene.take_update()
    assert [(r["id"], r["approx"]) for r in update.visits] == [(2, True)]
    assert update.visits[0]["lat"] == pytest.approx(41.94, abs=0.01)
    assert update.unplaced == (2, 2)
    text = update.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["v"][0]["id"] == 2
