"""The optional online geocoder, against a local stand-in speaking Nominatim's JSON: the
real client code runs, only the outside service is replaced."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dispatch_app.cli import main
from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.services.geocoding import geocode_sites, parse_position
from tests.companies import small_company

ANSWERS: dict[str, bytes] = {
    "1 Known St": json.dumps([{"lat": "41.8781", "lon": "-87.6298"}]).encode(),
    "2 Nowhere Rd": b"[]",
    "3 Garbage Ave": b"<html>rate limited</html>",
    "4 Mars Blvd": json.dumps([{"lat": "123.0", "lon": "-87.6"}]).encode(),
}


class _StandIn(http.server.BaseHTTPRequestHandler):
    heard: list[str] = []  # every request, in order

    def do_GET(self) -> None:
        type(self).heard.append(self.path)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        street = query["q"][0].split(",")[0]
        if street == "5 Broken Way":
            self.send_error(500)
            return
        body = ANSWERS.get(street, b"[]")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def geocoder() -> Iterator[str]:
    _StandIn.heard = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/search"
    finally:
        server.shutdown()
        server.server_close()


def add_unplaced_sites(url: str, streets: list[str]) -> dict[str, int]:
    with psycopg.connect(libpq_url(url)) as db:
        customer = db.execute("SELECT id FROM customers LIMIT 1").fetchone()[0]
        return {
            street: db.execute(
                "INSERT INTO service_sites (customer_id, street, city, state, zip) "
                "VALUES (%s, %s, 'Chicago', 'IL', '60601') RETURNING id",
                (customer, street),
            ).fetchone()[0]
            for street in streets
        }


def position(url: str, site_id: int) -> tuple[float | None, float | None]:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute("SELECT lat, lon FROM service_sites WHERE id = %s", (site_id,)).fetchone()


def test_found_sites_are_placed_and_the_rest_keep_no_position(db_url, sync_engine, geocoder):
    small_company(db_url)
    sites = add_unplaced_sites(db_url, [*ANSWERS, "5 Broken Way"])
    report = geocode_sites(sync_engine, geocoder, pause_s=0)
    assert (report.looked_up, report.placed, report.not_found, report.failed) == (5, 1, 3, 1)
    assert position(db_url, sites["1 Known St"]) == pytest.approx((41.8781, -87.6298))
    for street in ("2 Nowhere Rd", "3 Garbage Ave", "4 Mars Blvd", "5 Broken Way"):
        assert position(db_url, sites[street]) == (None, None)  # the ZIP centre stays in use


def test_the_command_reads_its_url_and_reports(db_url, geocoder, capsys):
    small_company(db_url)
    sites = add_unplaced_sites(db_url, ["1 Known St"])
    assert main(["--database-url", db_url, "geocode-sites", "--url", geocoder]) == 0
    assert "1 placed" in capsys.readouterr().out
    assert position(db_url, sites["1 Known St"]) == pytest.approx((41.8781, -87.6298))


def test_without_a_geocoder_the_command_says_so(db_url, capsys):
    small_company(db_url)
    assert main(["--database-url", db_url, "geocode-sites"]) == 2
    assert "No geocoder is configured" in capsys.readouterr().err
    assert main(["--database-url", db_url, "geocode-sites", "--url", "file:///etc/passwd"]) == 2
    assert "must start with http" in capsys.readouterr().err


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"{}", b'[{"lat": "nan", "lon": "1"}]', b'[{"lat": "1"}]', b"\x00\xff"],
)
def test_nonsense_answers_are_not_positions(body):
    assert parse_position(body) is None


def test_the_command_names_the_server_before_it_sends_anything(db_url, geocoder, capsys):
    small_company(db_url)
    add_unplaced_sites(db_url, ["1 Known St", "2 Nowhere Rd"])
    announced: list[tuple[int, int]] = []
    engine = make_sync_engine(db_url)
    try:
        geocode_sites(
            engine,
            geocoder,
            pause_s=0,
            announce=lambda count: announced.append((count, len(_StandIn.heard))),
        )
    finally:
        engine.dispose()
    assert announced == [(2, 0)]  # told first, while the geocoder had heard nothing
    assert len(_StandIn.heard) == 2

    # From the command line: "2 Nowhere Rd" is still unplaced, and one more site.
    add_unplaced_sites(db_url, ["1 Known St"])
    assert main(["--database-url", db_url, "geocode-sites", "--url", geocoder]) == 0
    first, *_ = capsys.readouterr().out.splitlines()
    server = geocoder.rsplit("/", 1)[0]
    assert first == f"Looking up 2 sites with {server}…"


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("gopher://geo.example.com/search", "must start with http"),
        ("http://geo example.com/search", "contains a space"),
        ("https://admin:s3cret@geo.example.com/search", "user name or password"),
    ],
)
def test_a_geocoder_setting_that_is_not_a_plain_web_address_is_refused(
    db_url, capsys, setting, words
):
    small_company(db_url)
    add_unplaced_sites(db_url, ["1 Known St"])
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute(
            "INSERT INTO app_settings (key, value) VALUES ('geocoder_url', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (Jsonb(setting),),
        )
    assert main(["--database-url", db_url, "geocode-sites"]) == 2
    out, err = capsys.readouterr()
    assert words in err and "from the geocoder_url setting" in err
    assert "s3cret" not in err and "Looking up" not in out
