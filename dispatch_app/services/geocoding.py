"""Refining service-site positions with an online geocoder — optional, never required.

Without it, a site with no coordinates is placed at its ZIP code's centre (offline, on
the map and for drive times). A company that wants street-level positions sets
``geocoder_url`` in ``app_settings`` (or passes ``--url``) to a Nominatim-compatible
search endpoint and runs ``python main.py geocode-sites`` now and then (a scheduled
task). Each site found gets its ``lat``/``lon`` written, and every workstation's map
moves the marker through the change feed like any other change.

Threading contract: blocking; run it in a process or thread of its own, never on the
GUI thread.
"""

from __future__ import annotations

import json
import logging
import math
import time
import unicodedata
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from dispatch_app import APP_NAME
from dispatch_app.db.models import AppSetting, ServiceSite
from dispatch_app.errors import ConfigurationError

log = logging.getLogger(__name__)

GEOCODER_SETTING = "geocoder_url"
# Public Nominatim asks for at most one request a second and a telling User-Agent.
DEFAULT_PAUSE_S = 1.0
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class GeocodeReport:
    looked_up: int
    placed: int
    not_found: int
    failed: int

    def __str__(self) -> str:
        return (
            f"{self.looked_up} sites looked up: {self.placed} placed, "
            f"{self.not_found} not found, {self.failed} failed"
        )


def geocoder_url(engine: Engine, override: str | None = None) -> str:
    """The search endpoint to use, checked (``check_geocoder_url``); one sentence if none
    is configured or it is not a plain http(s) address."""
    if override is not None:
        return check_geocoder_url(override, origin="--url")
    with Session(engine) as session:
        value = session.scalar(select(AppSetting.value).where(AppSetting.key == GEOCODER_SETTING))
    if not (isinstance(value, str) and value.strip()):
        raise ConfigurationError(
            "No geocoder is configured: set geocoder_url in app_settings or pass --url. "
            "Without one, sites are placed at their ZIP code's centre."
        )
    return check_geocoder_url(value, origin=f"the {GEOCODER_SETTING} setting")


def check_geocoder_url(url: str, *, origin: str) -> str:
    """``url`` trimmed, if it is an http(s) address with a host and nothing hidden in it.

    Site addresses go wherever this points, so it is refused with one sentence when it
    has another scheme, no host, a space or control character, a user name or password
    (a credential in a setting every workstation reads), or a port that cannot be one.
    """
    text = url.strip()
    shown = repr(text[:80])
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise ConfigurationError(
            f"The geocoder URL {shown} from {origin} contains a space or an invisible "
            "character; a URL has neither (spaces are written %20)."
        )
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port  # reading it checks it: "Port out of range"
    except ValueError:
        raise ConfigurationError(
            f"The geocoder URL {shown} from {origin} is not a URL like "
            "https://nominatim.example.com/search."
        ) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(
            f"The geocoder URL {shown} from {origin} must start with http:// or https://."
        )
    if not parts.hostname:
        raise ConfigurationError(
            f"The geocoder URL {shown} from {origin} names no server "
            "(https://nominatim.example.com/search)."
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            f"The geocoder URL from {origin} carries a user name or password; "
            "use a geocoder that needs none in its address."
        )
    if port == 0:
        raise ConfigurationError(f"The geocoder URL {shown} from {origin} names port 0.")
    return text


def geocoder_server(url: str) -> str:
    """The server a checked geocoder URL sends to, as the user should read it."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def parse_position(body: bytes) -> tuple[float, float] | None:
    """The first result's (lat, lon) from a Nominatim-style JSON answer, if it is sane."""
    try:
        results = json.loads(body)
        first = results[0]
        lat, lon = float(first["lat"]), float(first["lon"])
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def geocode_sites(
    engine: Engine,
    url: str,
    *,
    limit: int = 100,
    pause_s: float = DEFAULT_PAUSE_S,
    fetch: Callable[[str], bytes] | None = None,
    announce: Callable[[int], None] | None = None,
) -> GeocodeReport:
    """Look up sites that have no position yet (at most ``limit``) and store what is found.

    ``announce`` hears how many sites will be looked up before any address is sent. A
    site the geocoder does not know, or answers with nonsense for, keeps no position (the
    ZIP centre stays in use); nothing is ever written half.
    """
    get = fetch or _fetch
    with Session(engine) as session:
        sites = session.execute(
            select(
                ServiceSite.id,
                ServiceSite.street,
                ServiceSite.city,
                ServiceSite.state,
                ServiceSite.zip,
            )
            .where(ServiceSite.lat.is_(None) | ServiceSite.lon.is_(None))
            .order_by(ServiceSite.id)
            .limit(limit)
        ).all()
    if announce is not None:
        announce(len(sites))
    placed = not_found = failed = 0
    for index, (site_id, street, city, state, zip_code) in enumerate(sites):
        if index and pause_s:
            time.sleep(pause_s)  # the geocoder's own rate limit, not a wait for a result
        query = urllib.parse.urlencode(
            {"q": f"{street}, {city}, {state} {zip_code}", "format": "json", "limit": "1"}
        )
        separator = "&" if "?" in url else "?"
        try:
            body = get(f"{url}{separator}{query}")
        except (OSError, ValueError) as error:  # URLError is an OSError, InvalidURL a ValueError
            log.warning("geocoding site %s failed: %s", site_id, error)
            failed += 1
            continue
        position = parse_position(body)
        if position is None:
            not_found += 1
            continue
        with Session(engine) as session, session.begin():
            # Only if still unplaced: someone may have typed a position meanwhile.
            session.execute(
                update(ServiceSite)
                .where(
                    ServiceSite.id == site_id,
                    ServiceSite.lat.is_(None) | ServiceSite.lon.is_(None),
                )
                .values(lat=position[0], lon=position[1])
            )
        placed += 1
    return GeocodeReport(len(sites), placed, not_found, failed)


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": f"{APP_NAME} geocoder"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        body: bytes = response.read(1_000_000)
        return body
