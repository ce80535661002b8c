"""The command line as a user meets it: real processes, real databases, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dispatch_app.config import libpq_url
from tests.companies import small_company

ROOT = Path(__file__).resolve().parents[1]


def run_main(
    *args: str, data_dir: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DISPATCH_DATA_DIR": str(data_dir), "QT_QPA_PLATFORM": "offscreen"}
    environment.pop("DISPATCH_DATABASE_URL", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
    )


def one_sentence(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Dispatch Board:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_db_upgrade_then_current_on_a_shared_server(empty_db_url: str, tmp_path: Path) -> None:
    before = run_main("--database-url", empty_db_url, "db", "current", data_dir=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "schema none" in before.stdout

    upgraded = run_main("--database-url", empty_db_url, "db", "upgrade", data_dir=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    after = run_main("--database-url", empty_db_url, "db", "current", data_dir=tmp_path)
    assert "up to date" in after.stdout


def test_client_refuses_an_empty_database_and_names_the_fix(empty_db_url, tmp_path) -> None:
    result = run_main(
        "--database-url", empty_db_url, "--screenshot", str(tmp_path / "x.png"), data_dir=tmp_path
    )
    assert result.returncode == 5
    assert "python main.py db upgrade" in one_sentence(result.stderr)
    with psycopg.connect(libpq_url(empty_db_url)) as db:  # and it migrated nothing
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_client_refuses_a_schema_behind(empty_db_url, tmp_path) -> None:
    older = run_main("--database-url", empty_db_url, "db", "upgrade", data_dir=tmp_path)
    assert older.returncode == 0
    with psycopg.connect(libpq_url(empty_db_url)) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    result = run_main(
        "--database-url", empty_db_url, "--screenshot", str(tmp_path / "x.png"), data_dir=tmp_path
    )
    assert result.returncode == 5
    message = one_sentence(result.stderr)
    assert "older than" in message and "db upgrade" in message


def test_client_refuses_a_schema_ahead(db_url, tmp_path) -> None:
    with psycopg.connect(libpq_url(db_url)) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    result = run_main(
        "--database-url", db_url, "--screenshot", str(tmp_path / "x.png"), data_dir=tmp_path
    )
    assert result.returncode == 5
    assert "newer than this app knows" in one_sentence(result.stderr)
    upgrade = run_main("--database-url", db_url, "db", "upgrade", data_dir=tmp_path)
    assert upgrade.returncode == 5  # and it is not "upgraded" backwards either


def test_client_refuses_another_applications_database(empty_db_url, tmp_path) -> None:
    with psycopg.connect(libpq_url(empty_db_url)) as db:
        db.execute("CREATE TABLE invoices (id serial primary key, total numeric)")
    result = run_main(
        "--database-url", empty_db_url, "--screenshot", str(tmp_path / "x.png"), data_dir=tmp_path
    )
    assert result.returncode == 4
    assert "another application" in one_sentence(result.stderr)
    upgrade = run_main("--database-url", empty_db_url, "db", "upgrade", data_dir=tmp_path)
    assert upgrade.returncode == 4
    with psycopg.connect(libpq_url(empty_db_url)) as db:
        tables = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchall() == [("invoices",)]


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("postgresql://postgres@127.0.0.1:9/dispatch", 3, "connection refused"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_database_here", 3, "does not exist"),
        ("mysql://root@127.0.0.1/dispatch", 2, "needs PostgreSQL"),
        ("not a url at all", 2, "not a URL"),
        ("postgresql://postgres@127.0.0.1:5432", 2, "names no database"),
    ],
)
def test_bad_database_urls_get_one_sentence(url, code, words, tmp_path) -> None:
    result = run_main(
        "--database-url",
        url,
        "--screenshot",
        str(tmp_path / "x.png"),
        data_dir=tmp_path,
        timeout=60,
    )
    assert result.returncode == code, result.stderr
    assert words in one_sentence(result.stderr)
    assert not (tmp_path / "x.png").exists()


def test_environment_variable_selects_the_database(tmp_path) -> None:
    result = run_main(
        "--screenshot",
        str(tmp_path / "x.png"),
        data_dir=tmp_path,
        env={"DISPATCH_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/envdb"},
    )
    assert result.returncode == 3
    assert "127.0.0.1:9/envdb" in one_sentence(result.stderr)


def test_data_directory_that_cannot_be_written(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_main("--screenshot", str(tmp_path / "x.png"), data_dir=blocker / "data")
    assert result.returncode == 6
    assert str(blocker / "data") in one_sentence(result.stderr)


def _colours(png: Path) -> set[tuple[int, int, int]]:
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull(), f"{png} is not an image"
    return {
        (c.red(), c.green(), c.blue())
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
        for c in [image.pixelColor(x, y)]
    }


def test_screenshot_shows_the_technicians_from_the_database(db_url, tmp_path, qapp) -> None:
    from tests.companies import small_company

    small_company(db_url)
    png = tmp_path / "board.png"
    result = run_main(
        "--database-url",
        db_url,
        "--day",
        "2026-12-01",
        "--size",
        "1400x800",
        "--screenshot",
        str(png),
        data_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    colours = _colours(png)
    assert len(colours) > 50  # a painted window, not a blank one
    # Each technician's row carries a strip in that technician's own colour.
    for colour in ("#1f77b4", "#2ca02c", "#ff7f0e"):
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, f"no {colour} technician strip in the screenshot"


@pytest.mark.slow
def test_first_start_on_the_embedded_database_with_the_demo(tmp_path, qapp) -> None:
    """The README's quick start, offscreen: embedded server, demo company, window."""
    import psutil

    png = tmp_path / "demo.png"
    result = run_main("--demo", "--screenshot", str(png), data_dir=tmp_path / "data", timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(_colours(png)) > 50
    pgdata = str(tmp_path / "data" / "pgdata")
    # The app stopped the server it started.
    assert not [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and pgdata in " ".join(p.info["cmdline"] or [])
    ]
    again = run_main("db", "current", data_dir=tmp_path / "data", timeout=120)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_seed_demo_fills_an_empty_company_once(db_url, tmp_path) -> None:
    first = run_main(
        "--database-url", db_url, "db", "seed-demo", "--today", "2026-12-01", data_dir=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert "technicians=15" in first.stdout
    again = run_main("--database-url", db_url, "db", "seed-demo", data_dir=tmp_path)
    assert again.returncode == 2
    assert "only be loaded into an empty database" in one_sentence(again.stderr)
    rebuilt = run_main(
        "--database-url",
        db_url,
        "db",
        "seed-demo",
        "--replace",
        "--now",
        "2026-12-04T16:20-06:00",
        data_dir=tmp_path,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Demo company rebuilt" in rebuilt.stdout
    with psycopg.connect(libpq_url(db_url)) as db:
        (mark,) = db.execute("SELECT value FROM app_settings WHERE key = 'demo_company'").fetchone()
    assert mark["moment"] == "2026-12-04T22:20:00+00:00"


def test_seed_demo_replace_never_touches_a_real_company(db_url, tmp_path) -> None:
    small_company(db_url)
    refused = run_main("--database-url", db_url, "db", "seed-demo", "--replace", data_dir=tmp_path)
    assert refused.returncode == 2
    assert "does not hold the demo company" in one_sentence(refused.stderr)
    with psycopg.connect(libpq_url(db_url)) as db:
        assert db.execute("SELECT count(*) FROM technicians").fetchone()[0] == 3


# -- every path ends in one sentence ------------------------------------------------------
def last_words(result: subprocess.CompletedProcess[str]) -> str:
    """The one sentence a command ended with: no traceback anywhere on stderr."""
    assert "Traceback" not in result.stderr, result.stderr
    return one_sentence(result.stderr)


@pytest.mark.parametrize(
    ("command", "url", "words"),
    [
        (["db", "current"], "postgresql://jsmith@[::1/dispatch", "is not a URL"),
        (["db", "upgrade"], "postgresql://jsmith@db.office:http/dispatch", "is not a URL"),
        (["watch"], "postgresql://jsmith@exa mple.com/dispatch", "not a host name"),
        (["map-window"], "postgresql://jsmith@127.0.0.1:99999/dispatch", "a port is 1 to 65535"),
        (["geocode-sites"], "postgresql://postgres@127.0.0.1/dis%00patch", "control character"),
        (["db", "seed-demo"], "ftp://jsmith@db.office/dispatch", "needs PostgreSQL"),
        (["--screenshot", "x.png"], "postgresql://jsmith@[fe80::1/dispatch", "is not a URL"),
    ],
    ids=["ipv6-bracket", "port-word", "space", "port-range", "nul", "scheme", "gui"],
)
def test_a_malformed_database_url_is_one_sentence_on_every_command(
    command, url, words, tmp_path
) -> None:
    result = run_main("--database-url", url, *command, data_dir=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert words in last_words(result)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--url", "http://exa mple.com/search"], "contains a space"),
        (["--url", "http://[::1/search"], "is not a URL"),
        (["--url", "https://jsmith:hunter2@geo.example.com/search"], "user name or password"),
        (["--url", "file:///etc/passwd"], "must start with http"),
        (["--url", "https:///search"], "names no server"),
        (["--url", "http://geo.example.com:99999/search"], "is not a URL"),
    ],
    ids=["space", "ipv6-bracket", "credentials", "file", "no-host", "port"],
)
def test_a_malformed_geocoder_url_is_one_sentence_before_anything_is_sent(
    args, words, db_url, tmp_path
) -> None:
    from tests.companies import small_company
    from tests.test_geocoding import add_unplaced_sites

    small_company(db_url)
    add_unplaced_sites(db_url, ["1 Known St"])  # something that could be sent
    result = run_main("--database-url", db_url, "geocode-sites", *args, data_dir=tmp_path)
    assert result.returncode == 2, result.stderr
    sentence = last_words(result)
    assert words in sentence and "hunter2" not in sentence
    assert "Looking up" not in result.stdout


def test_tiles_that_are_not_a_tile_server_are_one_sentence(db_url, tmp_path) -> None:
    result = run_main(
        "--database-url",
        db_url,
        "map-window",
        "--windowed",
        "--tiles",
        "javascript:alert(document.cookie)//{z}/{x}/{y}",
        data_dir=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "neither an http(s) address" in last_words(result)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--day", "9999-12-31"], "is outside the schedule"),
        (["--now", "0001-01-01T00:00+00:00"], "give a date between 2000 and 2099"),
        (["db", "seed-demo", "--today", "9999-12-31"], "is outside the schedule"),
        (["geocode-sites", "--limit", "9223372036854775808"], "outside 1"),
    ],
    ids=["day", "now", "seed-today", "limit"],
)
def test_options_out_of_range_are_refused_by_the_parser(args, words, tmp_path) -> None:
    result = run_main(*args, data_dir=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert words in result.stderr.strip().splitlines()[-1]


@pytest.fixture
def login_without_grants(db_url: str) -> Iterator[str]:
    """``db_url`` as a throwaway LOGIN role that was granted nothing; the role is
    dropped afterwards (roles belong to the server, so its name says it is a test's)."""
    from sqlalchemy.engine import make_url

    role = f"dispatch_scratch_{uuid.uuid4().hex[:10]}"
    server = make_url(db_url)
    admin = libpq_url(server.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as db:
            db.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
        url = server.set(username=role, password=None).render_as_string(hide_password=False)
        try:
            psycopg.connect(libpq_url(url)).close()
        except psycopg.OperationalError as error:  # a server that wants passwords
            pytest.skip(f"cannot log in as a new role here: {error}")
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            # Its sessions first (a command that outlived its test), then the role.
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            db.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.parametrize(
    "command",
    [
        ["db", "current"],
        ["db", "upgrade"],
        ["db", "seed-demo"],
        ["watch"],
        ["map-window", "--windowed"],
        ["geocode-sites", "--url", "http://127.0.0.1:9/search"],
        ["--screenshot", "x.png"],
    ],
    ids=lambda command: " ".join(command),
)
def test_a_login_without_grants_is_told_to_ask_for_them(
    command, login_without_grants, tmp_path
) -> None:
    result = run_main("--database-url", login_without_grants, *command, data_dir=tmp_path)
    assert result.returncode == 9, result.stderr
    sentence = last_words(result)
    role = login_without_grants.split("://", 1)[1].split("@", 1)[0]
    assert f"refused {role} (permission denied" in sentence
    assert f"admin set-role {role} --role csr" in sentence


def run_into_a_full_disk(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``main.py`` with its output going to a disk that is full (``/dev/full``)."""
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            env={**os.environ, "DISPATCH_DATA_DIR": str(data_dir)},
        )


needs_a_full_disk = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")


@needs_a_full_disk
def test_an_unexpected_failure_is_one_sentence_pointing_at_verbose(db_url, tmp_path) -> None:
    """Output to a full disk: nothing foresaw it, and the user still reads one sentence
    (with -v, the traceback goes to the log)."""
    result = run_into_a_full_disk("--database-url", db_url, "db", "current", data_dir=tmp_path)
    assert result.returncode == 1
    sentence = last_words(result)
    assert "did not expect (OSError: [Errno 28] No space left on device)" in sentence
    assert "again with -v" in sentence
    verbose = run_into_a_full_disk(
        "-v", "--database-url", db_url, "db", "current", data_dir=tmp_path
    )
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr and "logged above" in verbose.stderr


@needs_a_full_disk
def test_watch_stops_with_a_sentence_when_its_output_cannot_be_written(db_url, tmp_path) -> None:
    result = run_into_a_full_disk("--database-url", db_url, "watch", data_dir=tmp_path)
    assert result.returncode == 1
    assert "could not be written (No space left on device)" in last_words(result)
