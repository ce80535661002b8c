"""Distances between job sites and a rough drive-time estimate, without a road network.

Good enough to warn a dispatcher that a technician cannot make it across town in ten
minutes; not a routing engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

Place: TypeAlias = tuple[float, float]
"""A point on the map as ``(latitude, longitude)`` in degrees."""

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius: the usual choice for haversine


def _check_place(place: Place) -> None:
    lat, lon = place
    # Written as "not inside" so that NaN, which fails every comparison, is refused too.
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"A latitude must be between -90 and 90 degrees, not {lat}.")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"A longitude must be between -180 and 180 degrees, not {lon}.")


def distance_km(a: Place, b: Place) -> float:
    """The great-circle distance between two places, in kilometres (haversine)."""
    _check_place(a)
    _check_place(b)
    lat_a, lon_a = map(math.radians, a)
    lat_b, lon_b = map(math.radians, b)
    h = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin((lon_b - lon_a) / 2) ** 2
    )
    # Rounding can push h a hair past 1 for antipodal points, and asin would then fail.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


@dataclass(frozen=True, slots=True)
class DriveEstimate:
    """How long a drive takes, from the straight-line distance.

    ``road_factor`` stretches the straight line into a road route; ``average_speed_kmh``
    includes lights and traffic, so it is well below the speed limit.
    """

    road_factor: float = 1.3
    average_speed_kmh: float = 40.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.road_factor) and self.road_factor >= 1.0):
            raise ValueError(
                "The road factor must be at least 1, because a road is never shorter "
                f"than the straight line (got {self.road_factor})."
            )
        if not (math.isfinite(self.average_speed_kmh) and self.average_speed_kmh > 0.0):
            raise ValueError(
                f"The average speed must be above 0 km/h (got {self.average_speed_kmh})."
            )

    def road_km(self, a: Place, b: Place) -> float:
        """The estimated length of the road route between two places."""
        return distance_km(a, b) * self.road_factor

    def minutes(self, a: Place, b: Place) -> float:
        """The estimated driving time between two places, in minutes."""
        return self.road_km(a, b) / self.average_speed_kmh * 60.0
