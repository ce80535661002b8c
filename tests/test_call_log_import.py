"""Importing a call log on a real server, through the service and the real command: the
calls become leads with the customer found from the number, a file with one bad row
stores nothing, a second import of the same file adds nothing, and a missed call makes
a callback unless the caller has booked since."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from dispatch_app.config import libpq_url
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import FixedClock
from dispatch_app.errors import ValidationError
from dispatch_app.services.leads.call_log import CallLogImport, import_call_log
from tests.companies import operate
from tests.test_cli import one_sentence, run_main

TZ = ZoneInfo("America/Chicago")
# Saturday noon in Chicago: the office imports the week's calls.
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=TZ)
UTC = dt.UTC
JOSE, AMELIA, STRANGER = "+13125550142", "+13125550111", "+17735550199"

LOG = (
    "Date/Time,Caller Number,Caller Name,Duration,Status\r\n"
    "12/04/2026 9:00 AM,(312) 555-0142,JOSE NUNEZ,0:02:05,Answered\r\n"
    "12/04/2026 9:30 AM,312-555-0111,,0,No Answer\r\n"
    "12/04/2026 10:15 AM,Anonymous,,0,Missed\r\n"
    "12/04/2026 11:00 AM,773 555 0199,WIRELESS CALLER,0:40,Voicemail\r\n"
)


def imported(url: str, text: str, *, now: dt.datetime = NOW) -> CallLogImport:
    data = text.encode("utf-8")
    return operate(url, lambda sessions: import_call_log(sessions, data, clock=FixedClock(now)))


def _db(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(libpq_url(url), row_factory=dict_row)


def _id(db: psycopg.Connection[dict[str, Any]], query: str, *args: object) -> int:
    row = db.execute(query, args).fetchone()
    assert row is not None
    return int(row["id"])


def leads(url: str) -> list[dict[str, Any]]:
    with _db(url) as db:
        return db.execute(
            "SELECT source, phone, name, received_at, duration_seconds, customer_id, outcome, "
            "external_id FROM leads ORDER BY received_at"
        ).fetchall()


def callbacks(url: str) -> list[dict[str, Any]]:
    with _db(url) as db:
        return db.execute(
            "SELECT l.phone, f.title, f.due_at, f.state FROM follow_ups f "
            "JOIN leads l ON l.id = f.lead_id WHERE f.kind = 'missed_call' ORDER BY f.id"
        ).fetchall()


@pytest.fixture
def company(db_url: str) -> dict[str, int]:
    """Two customers with their numbers, a site each and a job type to book."""
    with _db(db_url) as db:
        db.execute(
            "UPDATE app_settings SET value = %s::jsonb WHERE key = 'business_timezone'",
            (json.dumps("America/Chicago"),),
        )
        ids = {
            "job": _id(
                db,
                "INSERT INTO job_types (trade, name, default_duration_min) "
                "VALUES ('hvac', 'No heat call', 90) RETURNING id",
            )
        }
        for key, name, number in (
            ("jose", "José Núñez", JOSE),
            ("amelia", "Amelia Brooks", AMELIA),
        ):
            customer = _id(db, "INSERT INTO customers (name) VALUES (%s) RETURNING id", name)
            db.execute(
                "INSERT INTO customer_phones (customer_id, number) VALUES (%s, %s)",
                (customer, number),
            )
            ids[f"{key}_site"] = _id(
                db,
                "INSERT INTO service_sites (customer_id, street, city, state, zip) "
                "VALUES (%s, '12 Oak St', 'Chicago', 'IL', '60614') RETURNING id",
                customer,
            )
            ids[key] = customer
    return ids


def booked(url: str, company: dict[str, int], who: str, at: dt.datetime) -> None:
    """A work order for ``who`` created at ``at``."""
    with _db(url) as db:
        db.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (company[who], company[f"{who}_site"], company["job"], at, at),
        )


def test_the_calls_become_leads_with_their_sources_times_numbers_and_customers(
    db_url: str, company: dict[str, int]
) -> None:
    result = imported(db_url, LOG)
    assert result == CallLogImport(
        added=3, already_imported=0, anonymous=1, missed=2, callbacks=2, not_incoming=0
    )
    assert (
        result.sentence() == "3 calls added: 2 missed, 2 callbacks to make. Skipped: 1 anonymous."
    )
    rows = leads(db_url)
    assert [(r["source"], r["phone"], r["name"], r["duration_seconds"]) for r in rows] == [
        ("call", JOSE, "JOSE NUNEZ", 125),
        ("missed_call", AMELIA, "", 0),
        ("voicemail", STRANGER, "WIRELESS CALLER", 40),
    ]
    # On Chicago's wall clock (CST in December), stored as the instant.
    assert [r["received_at"] for r in rows] == [
        dt.datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
        dt.datetime(2026, 12, 4, 15, 30, tzinfo=UTC),
        dt.datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
    ]
    # The database found the customers from their numbers; the stranger is nobody yet.
    assert [r["customer_id"] for r in rows] == [company["jose"], company["amelia"], None]
    assert {r["outcome"] for r in rows} == {"open"}
    assert rows[0]["external_id"] == f"call:2026-12-04T15:00:00Z:{JOSE}"


def test_a_file_with_one_bad_row_stores_nothing_and_names_the_row(
    db_url: str, company: dict[str, int]
) -> None:
    bad = (
        LOG + "12/34/2026 1:00 PM,3125550143,,0,Missed\r\n" + "12/04/2026 1:05 PM,555,,0,Missed\r\n"
    )
    with pytest.raises(ValidationError) as refused:
        imported(db_url, bad)
    assert refused.value.fields == {
        "file": "Row 6: '12/34/2026 1:00 PM' is not a date and time.\n"
        "Row 7: the caller number '555' is not a phone number.\n"
        "Nothing was imported."
    }
    assert leads(db_url) == []
    assert callbacks(db_url) == []


def test_many_bad_rows_show_twenty_and_count_the_rest(db_url: str, company: dict[str, int]) -> None:
    bad = "Time,Caller Number,Status\n" + "2026-12-04 09:00,555,missed\n" * 25
    with pytest.raises(ValidationError) as refused:
        imported(db_url, bad)
    lines = refused.value.fields["file"].splitlines()
    assert len(lines) == 22
    assert lines[0] == "Row 2: the caller number '555' is not a phone number."
    assert lines[19].startswith("Row 21: ")
    assert lines[20:] == ["… and 5 more.", "Nothing was imported."]


def test_the_same_file_twice_adds_nothing_the_second_time(
    db_url: str, company: dict[str, int]
) -> None:
    assert imported(db_url, LOG).added == 3
    stored = leads(db_url)
    again = imported(db_url, LOG)
    assert again == CallLogImport(
        added=0, already_imported=3, anonymous=1, missed=0, callbacks=0, not_incoming=0
    )
    assert again.sentence() == "No calls added. Skipped: 3 already imported, 1 anonymous."
    assert leads(db_url) == stored
    # An overlapping export (the same morning, one call more, in another spelling of
    # the same times) adds only the new call.
    overlapping = (
        "Start Time;From;Status\n"
        "2026-12-04T09:00:00-06:00;+13125550142;answered\n"
        "2026-12-04 09:30;3125550111;missed\n"
        "2026-12-04 09:30;3125550111;missed\n"
        "2026-12-04 11:45;3125550142;answered\n"
    )
    later = imported(db_url, overlapping)
    assert (later.added, later.already_imported, later.missed) == (1, 3, 0)
    assert later.sentence() == "1 call added, none missed. Skipped: 3 already imported."
    assert len(leads(db_url)) == 4


def test_a_missed_caller_who_booked_after_the_call_gets_no_callback(
    db_url: str, company: dict[str, int]
) -> None:
    # Amelia missed us at 9:30 and booked at 10:00 (she called again, or booked online);
    # the stranger left a voicemail and booked nothing; José booked the day before his
    # missed call, which does not count.
    booked(db_url, company, "amelia", dt.datetime(2026, 12, 4, 10, 0, tzinfo=TZ))
    booked(db_url, company, "jose", dt.datetime(2026, 12, 3, 10, 0, tzinfo=TZ))
    log = (
        "Time,Caller Number,Caller Name,Status\n"
        "2026-12-04 09:30,3125550111,,missed\n"
        "2026-12-04 11:00,7735550199,WIRELESS CALLER,voicemail\n"
        "2026-12-04 11:20,7735550199,WIRELESS CALLER,abandoned\n"
        "2026-12-04 11:40,3125550142,,no answer\n"
    )
    result = imported(db_url, log)
    assert (result.added, result.missed, result.callbacks) == (4, 4, 2)
    assert result.sentence() == "4 calls added: 4 missed, 2 callbacks to make."
    made = callbacks(db_url)
    # One callback for the stranger however often they tried, due from the first try.
    assert [(c["phone"], c["title"], c["due_at"], c["state"]) for c in made] == [
        (
            STRANGER,
            "Call back WIRELESS CALLER",
            dt.datetime(2026, 12, 4, 17, 0, tzinfo=UTC),
            "open",
        ),
        (JOSE, f"Call back {JOSE}", dt.datetime(2026, 12, 4, 17, 40, tzinfo=UTC), "open"),
    ]


def test_a_call_more_than_a_day_ahead_of_the_clock_is_refused(
    db_url: str, company: dict[str, int]
) -> None:
    log = "Time,Caller Number,Status\n2026-12-06 13:00,3125550111,missed\n"
    with pytest.raises(ValidationError) as refused:
        imported(db_url, log)
    assert refused.value.fields["file"].startswith(
        "Row 2: '2026-12-06 13:00' is more than a day from now"
    )
    assert imported(db_url, log, now=NOW + dt.timedelta(hours=2)).added == 1


# -- the command ------------------------------------------------------------------------
def leads_command(url: str, tmp_path: Path, *args: str) -> Any:
    return run_main(
        "--database-url",
        url,
        "--now",
        NOW.isoformat(),
        "leads",
        *args,
        data_dir=tmp_path / "data",
    )


def test_a_csr_imports_from_the_command_line(
    db_url: str, company: dict[str, int], scratch_server: ScratchServer, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.csv"
    calls.write_bytes(LOG.encode("cp1252"))
    try:
        csr = scratch_server.login(db_url, "csr")
        done = leads_command(csr, tmp_path, "import", str(calls))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == (
            "3 calls added: 2 missed, 2 callbacks to make. Skipped: 1 anonymous."
        )
        again = leads_command(csr, tmp_path, "import", str(calls))
    finally:
        scratch_server.drop_logins()
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "No calls added. Skipped: 3 already imported, 1 anonymous."
    assert len(leads(db_url)) == 3
    assert len(callbacks(db_url)) == 2


def test_the_command_refuses_a_bad_file_with_its_rows_and_a_missing_one(
    db_url: str, company: dict[str, int], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(LOG + "12/04/2026 1:05 PM,555,,0,Maybe\r\n", encoding="utf-8")
    refused = leads_command(db_url, tmp_path, "import", str(bad))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "Dispatch Board: Row 6: the caller number '555' is not a phone number.",
        "Row 6: the status 'Maybe' is not answered, missed, no answer, abandoned or voicemail.",
        "Nothing was imported.",
    ]
    assert leads(db_url) == []

    missing = leads_command(db_url, tmp_path, "import", str(tmp_path / "nowhere.csv"))
    assert missing.returncode == 2
    assert (
        one_sentence(missing.stderr)
        == f"Dispatch Board: There is no file {tmp_path / 'nowhere.csv'}."
    )
    folder = leads_command(db_url, tmp_path, "import", str(tmp_path))
    assert one_sentence(folder.stderr) == f"Dispatch Board: {tmp_path} is not an ordinary file."
