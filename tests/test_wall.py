"""The wall display: today's board read across a room, its pages, the day's
figures, live changes, outages of the connection and of the server, and the command
line's screenshot — against a real PostgreSQL, on a fixed clock, offscreen."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import math
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QFontMetrics, QImage
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QLineEdit, QMessageBox

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.change_feed import FeedState
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.domain.clock import Clock
from dispatch_app.services.wall import DayMoney, day_money
from dispatch_app.ui.wall.app import WallDisplay, WallOptions
from dispatch_app.ui.wall.board import HOURS_HEIGHT, MIN_ROW_HEIGHT
from tests.companies import DAY, TZ, clock_at, small_company
from tests.qt_app import act, pump_until, wait_for
from tests.test_cli import run_main
from tests.test_live_sync import shift_visit_now

WALL = QSize(1920, 1080)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def wall_options(url: str, data_dir: Path, clock: Clock) -> WallOptions:
    """The wall on a TV's screen, without the map (its web engine is tested with the
    command line's screenshot)."""
    return WallOptions(
        database=DatabaseChoice(url, "command line"),
        data_dir=data_dir,
        size=WALL,
        clock=clock,
        show_map=False,
    )


@contextlib.contextmanager
def running_wall(loop: asyncio.AbstractEventLoop, options: WallOptions) -> Iterator[WallDisplay]:
    """A wall display with the day read and the feed live; closed afterwards."""
    display = WallDisplay(options)
    task = loop.create_task(display.run())
    try:
        wait_for(loop, display.loaded, task)
        pump_until(loop, display.live.is_set)
        yield display
    finally:
        if not task.done():
            display.window.close()
        assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 0


# The dialogs on screen before a test's wall started: windows other tests in this
# process left open are not the wall's.
_BEFORE: set[int] = set()


def _visible_dialogs() -> list[QDialog | QMessageBox]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, (QDialog, QMessageBox)) and widget.isVisible()
    ]


@pytest.fixture(autouse=True)
def _dialogs_before() -> Iterator[None]:
    _BEFORE.clear()
    _BEFORE.update(id(widget) for widget in _visible_dialogs())
    yield
    _BEFORE.clear()


def dialogs_shown() -> list[str]:
    """The dialogs that appeared since the test began (the wall must show none)."""
    return [type(w).__name__ for w in _visible_dialogs() if id(w) not in _BEFORE]


def names(rows) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.name for row in rows]


def colours_of(image: QImage) -> set[tuple[int, int, int]]:
    return {
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def visit_of(url: str, technician: str, hour: int) -> int:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT v.id FROM visits v JOIN visit_technicians c ON c.visit_id = v.id "
            "JOIN technicians t ON t.id = c.technician_id "
            "WHERE t.name = %s AND v.starts = %s",
            (technician, at(hour)),
        ).fetchone()[0]


def test_the_wall_shows_todays_board_in_type_read_across_a_room(loop, db_url, tmp_path) -> None:
    small_company(db_url)
    with running_wall(loop, wall_options(db_url, tmp_path, clock_at(9))) as display:
        window, board = display.window, display.window.board
        assert window.size() == WALL
        # Who works today, in the board's order; Noor is off and has nothing booked.
        assert names(board.technicians) == ["Ava Kowalski", "Marcus Lee"]
        ava, marcus = board.technicians
        assert [v.starts for v in board.visits_of(ava.id)] == [at(8), at(10)]
        assert [v.starts for v in board.visits_of(marcus.id)] == [at(10), at(13)]
        # Every line on a block is at least 20 px high at 1920×1080, and a row holds
        # all three of them.
        assert min(board.block_fonts()) >= 20
        lines = [board.title_font, board.detail_font, board.detail_font]
        assert all(QFontMetrics(font).height() >= 20 for font in lines)
        assert board.paging.pages == 1 and board.page_marker == ""
        assert board.paging.row_height >= MIN_ROW_HEIGHT
        assert sum(QFontMetrics(font).height() for font in lines) < MIN_ROW_HEIGHT
        # The clock and the day on the company's wall clock; the feed is live.
        assert window.clock_label.text() == "09:00"
        assert window.day_label.text() == "Tuesday 1 December"
        assert window.connection_text == "Live"
        assert not window.status_line.isVisible()
        # Painted: each technician's colour beside their name, the blocks' fills.
        painted = colours_of(window.grab().toImage())
        assert rgb("#1f77b4") in painted and rgb("#2ca02c") in painted
        assert rgb("#d6e6fb") in painted  # a scheduled block
        # Nothing on it can edit, or be clicked, typed into or dragged onto.
        assert not window.findChildren(QAbstractButton)
        assert not window.findChildren(QLineEdit)
        assert not window.findChildren(QAction)
        assert not board.acceptDrops()
        assert board.focusPolicy() == Qt.FocusPolicy.NoFocus
        assert window.cursor().shape() == Qt.CursorShape.BlankCursor
        assert dialogs_shown() == []


def test_rows_fit_the_screen_and_page_by_themselves_when_they_do_not(
    loop, db_url, tmp_path
) -> None:
    small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        for number in range(1, 17):
            technician = db.execute(
                "INSERT INTO technicians (name, trade, colour) "
                "VALUES (%s, 'hvac', '#9467bd') RETURNING id",
                (f"Tech {number:02d}",),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO technician_shifts (technician_id, weekday, starts, ends) "
                "VALUES (%s, 1, '08:00', '16:00')",
                (technician,),
            )
    with running_wall(loop, wall_options(db_url, tmp_path, clock_at(9))) as display:
        window, board = display.window, display.window.board
        everyone = names(board.technicians)
        assert len(everyone) == 18
        layout = board.paging
        # As many rows as fit at a readable height, sharing the whole height.
        assert layout.row_height >= MIN_ROW_HEIGHT
        assert layout.rows_per_page * layout.row_height == pytest.approx(
            board.height() - HOURS_HEIGHT
        )
        pages = math.ceil(18 / layout.rows_per_page)
        assert pages == layout.pages >= 2
        assert window.page_timer.isActive() and window.page_timer.interval() == 15_000
        assert board.page_marker == f"Page 1 of {pages}"
        seen = [names(board.shown_technicians())]
        for page in range(2, pages + 1):
            act(loop, window.page_timer.timeout.emit)  # the page timer's 15 s are up
            assert board.page_marker == f"Page {page} of {pages}"
            seen.append(names(board.shown_technicians()))
        assert [name for shown in seen for name in shown] == everyone  # each once, in order
        act(loop, window.page_timer.timeout.emit)
        assert board.page_marker == f"Page 1 of {pages}"
        assert names(board.shown_technicians()) == seen[0]


def hand_built_day(url: str) -> None:
    """The small company at 10:00 with a day of every kind: done, under way, booked,
    late, cancelled, waiting; charges on today's work and others', and invoices."""
    ids = small_company(url)
    with psycopg.connect(libpq_url(url)) as db:
        one = lambda sql, *args: db.execute(sql, args).fetchone()[0]  # noqa: E731
        customer = one("SELECT min(id) FROM customers")
        site = one("SELECT min(id) FROM service_sites")
        job = one("SELECT min(id) FROM job_types")

        def order_of(technician: str, hour: int) -> int:
            return one(
                "SELECT v.work_order_id FROM visits v JOIN visit_technicians c "
                "ON c.visit_id = v.id JOIN technicians t ON t.id = c.technician_id "
                "WHERE t.name = %s AND v.starts = %s",
                technician,
                at(hour),
            )

        def booked(technician: str, starts: dt.datetime, ends: dt.datetime, **window) -> int:
            order = one(
                "INSERT INTO work_orders (customer_id, site_id, job_type_id, status) "
                "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
                customer,
                site,
                job,
            )
            visit = one(
                "INSERT INTO visits (work_order_id, starts, ends, status, "
                "arrival_window_start, arrival_window_end) "
                "VALUES (%s, %s, %s, 'scheduled', %s, %s) RETURNING id",
                order,
                starts,
                ends,
                window.get("start"),
                window.get("end"),
            )
            db.execute(
                "INSERT INTO visit_technicians (visit_id, technician_id, is_lead) "
                "VALUES (%s, %s, true)",
                (visit, ids[technician]),
            )
            return order

        def charge(order: int, kind: str, quantity: str, price: str) -> None:
            db.execute(
                "INSERT INTO line_items (work_order_id, kind, description, quantity, "
                "unit_price) VALUES (%s, %s, 'work', %s, %s)",
                (order, kind, quantity, price),
            )

        first, crew = order_of("Ava Kowalski", 8), order_of("Ava Kowalski", 10)
        afternoon = order_of("Marcus Lee", 13)
        # 08:00 done; the crew on site since 10:00; 13:00 still booked.
        db.execute("UPDATE visits SET status = 'completed' WHERE work_order_id = %s", (first,))
        db.execute("UPDATE visits SET status = 'on_site' WHERE work_order_id = %s", (crew,))
        # Promised 07:00–08:00 and nobody has set out: late since 08:15.
        booked("Marcus Lee", at(7), at(8), start=at(7), end=at(8))
        # Cancelled this afternoon; its charge is no revenue.
        cancelled = booked("Ava Kowalski", at(15), at(16))
        db.execute("UPDATE visits SET status = 'cancelled' WHERE work_order_id = %s", (cancelled,))
        db.execute(
            "UPDATE work_orders SET status = 'cancelled', cancel_reason = 'customer away' "
            "WHERE id = %s",
            (cancelled,),
        )
        # Booked for tomorrow: not today's work.
        next_day = DAY + dt.timedelta(days=1)
        tomorrow = booked("Marcus Lee", at(9, day=next_day), at(10, day=next_day))
        charge(first, "labour", "2", "95.00")
        charge(first, "material", "1", "24.50")
        charge(afternoon, "labour", "1", "120.25")
        charge(cancelled, "labour", "1", "300.00")
        charge(tomorrow, "labour", "1", "500.00")

        def invoice(order: int, posted: dt.datetime | None) -> None:
            bill = one(
                "INSERT INTO invoices (work_order_id, customer_id, tax_rate) "
                "VALUES (%s, %s, 0) RETURNING id",
                order,
                customer,
            )
            db.execute(
                "INSERT INTO invoice_lines (invoice_id, kind, description, quantity, "
                "unit_price) SELECT %s, kind, description, quantity, unit_price "
                "FROM line_items WHERE work_order_id = %s",
                (bill, order),
            )
            if posted is None:
                return  # a draft bills nothing
            db.execute("UPDATE invoices SET status = 'posted' WHERE id = %s", (bill,))
            # The server stamps a posting with its own now(): put it on the test's day.
            db.execute("SET session_replication_role = replica")
            db.execute("UPDATE invoices SET posted_at = %s WHERE id = %s", (posted, bill))
            db.execute("RESET session_replication_role")
            db.execute("SELECT dispatch_refresh_report_facts(ARRAY[%s::bigint])", (order,))

        invoice(first, at(9, 40))  # today: 2 × 95.00 + 24.50
        invoice(afternoon, at(16, day=DAY - dt.timedelta(days=1)))  # yesterday's posting
        invoice(tomorrow, None)


def test_the_figures_strip_counts_a_hand_built_day_as_a_viewer(
    loop, db_url, tmp_path, scratch_server: ScratchServer
) -> None:
    hand_built_day(db_url)
    viewer = scratch_server.login(db_url, "viewer")  # the wall only reads
    try:
        with running_wall(loop, wall_options(viewer, tmp_path, clock_at(10))) as display:
            strip = display.window.strip
            assert display.workspace is not None and display.workspace.role.value == "viewer"
            shown = {key: strip.text_of(key) for key in strip.values}
            assert shown == {
                "scheduled": "2",  # 13:00 and the late 07:00
                "in_progress": "1",  # the crew on site
                "completed": "1",
                "unassigned": "1",  # the emergency waiting for a technician
                "running_late": "1",
                "ended_early": "1",
                "booked": "$335",  # 190.00 + 24.50 + 120.25 = 334.75
                "invoiced": "$215",  # 214.50, posted today
            }
            money = loop.run_until_complete(display.workspace.read(day_money, DAY, TZ))
            assert money == DayMoney(decimal.Decimal("334.75"), decimal.Decimal("214.50"))
            assert not display.window.status_line.isVisible()

            # Another workstation adds a charge to today's work: the money follows.
            reads = display.money_reads
            with psycopg.connect(libpq_url(db_url)) as db:
                db.execute(
                    "INSERT INTO line_items (work_order_id, kind, description, quantity, "
                    "unit_price) SELECT work_order_id, 'labour', 'more', 1, 100 FROM visits "
                    "WHERE starts = %s",
                    (at(13),),
                )
            pump_until(loop, lambda: strip.text_of("booked") == "$435")
            assert display.money_reads == reads + 1  # one debounced read
            # The clock moves on: the 13:00 visit is late at 13:16.
            display.options.clock.set(at(13, 16))  # type: ignore[attr-defined]
            act(loop, display.window.minute_timer.timeout.emit)
            assert strip.text_of("running_late") == "2"
            assert display.window.clock_label.text() == "13:16"
    finally:
        scratch_server.drop_logins()


def test_a_change_made_at_another_workstation_shows_without_a_refresh(
    loop, db_url, tmp_path
) -> None:
    small_company(db_url)
    with running_wall(loop, wall_options(db_url, tmp_path, clock_at(7))) as display:
        board, strip = display.window.board, display.window.strip
        ava = board.technicians[0]
        first = visit_of(db_url, "Ava Kowalski", 8)
        shift_visit_now(db_url, first, 60)
        pump_until(loop, lambda: board.visits_of(ava.id)[0].starts == at(9))
        with psycopg.connect(libpq_url(db_url)) as db:
            db.execute("UPDATE visits SET status = 'en_route' WHERE id = %s", (first,))
        pump_until(loop, lambda: strip.text_of("in_progress") == "1")
        assert strip.text_of("scheduled") == "2"


def terminate_connections(url: str) -> None:
    """Kill every other connection to the database (the wall's listener and pool)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as db:
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_killed_connection_shows_reconnecting_then_the_board_current_again(
    loop, db_url, tmp_path
) -> None:
    small_company(db_url)
    with running_wall(loop, wall_options(db_url, tmp_path, clock_at(7))) as display:
        window, board = display.window, display.window.board
        shown: list[str] = []
        window.connectionShown.connect(shown.append)
        ava = board.technicians[0]
        first = visit_of(db_url, "Ava Kowalski", 8)
        terminate_connections(db_url)
        # Committed while nobody listens: only the resync after reconnecting finds it.
        shift_visit_now(db_url, first, 30)
        pump_until(loop, lambda: "Reconnecting since 07:00" in shown)
        pump_until(loop, lambda: window.connection_text == "Live")
        pump_until(loop, lambda: board.visits_of(ava.id)[0].starts == at(8, 30))
        assert dialogs_shown() == []


@pytest.mark.slow
def test_the_wall_rides_out_a_server_stop_and_start(loop, embedded_dir, tmp_path) -> None:
    from dispatch_app.db.embedded import EmbeddedServer
    from dispatch_app.services.database import migrate_now

    server = EmbeddedServer(embedded_dir)
    url = server.start()
    try:
        migrate_now(url)
        small_company(url)
        with running_wall(loop, wall_options(url, tmp_path, clock_at(7))) as display:
            window, board = display.window, display.window.board
            ava = board.technicians[0]
            before = board.visits_of(ava.id)
            first = visit_of(url, "Ava Kowalski", 8)
            server.stop()
            pump_until(loop, lambda: display.workspace.feed.state == FeedState.OFFLINE)  # type: ignore[union-attr]
            # However long it lasts: when it began, and the last known board.
            assert window.connection_text == "Reconnecting since 07:00"
            assert board.visits_of(ava.id) == before
            assert names(board.technicians) == ["Ava Kowalski", "Marcus Lee"]
            assert dialogs_shown() == []
            server.start()
            shift_visit_now(url, first, 45)
            pump_until(loop, lambda: window.connection_text == "Live", timeout=60)
            pump_until(loop, lambda: board.visits_of(ava.id)[0].starts == at(8, 45))
            assert dialogs_shown() == []
    finally:
        server.stop()


def test_the_command_line_saves_a_screenshot_of_the_wall(db_url, tmp_path, qapp) -> None:
    small_company(db_url)
    png = tmp_path / "wall.png"
    result = run_main(
        "--database-url",
        db_url,
        "wall",
        "--now",
        "2026-12-01T09:00-06:00",
        "--screenshot",
        str(png),
        data_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1920, 1080)
    painted = colours_of(image)
    assert rgb("#1f77b4") in painted and rgb("#2ca02c") in painted
    # The map beside the board is dark like the board (its ground, the tiles being
    # out of reach here), not a bright panel on a dark wall.
    ground = [
        image.pixelColor(x, y).lightness()
        for x in range(1440, 1880, 20)
        for y in range(260, 1000, 20)
    ]
    assert sum(1 for lightness in ground if lightness < 80) > 0.8 * len(ground)


def test_a_database_that_does_not_answer_is_a_sentence_on_the_screen_and_tried_again(
    loop, db_url, tmp_path
) -> None:
    from sqlalchemy.engine import make_url

    missing = make_url(db_url).set(database="no_such_company").render_as_string(False)
    display = WallDisplay(wall_options(missing, tmp_path, clock_at(9)))
    task = loop.create_task(display.run())
    try:
        window = display.window
        pump_until(loop, lambda: "Trying again in 2 s." in window.status_line.text())
        assert window.status_line.isVisible()
        pump_until(loop, lambda: "Trying again in 4 s." in window.status_line.text())
        assert not display.loaded.is_set()
        assert dialogs_shown() == []
        assert window.board.technicians == []  # nothing made up meanwhile
    finally:
        display.window.close()
        assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 0


def test_past_midnight_the_wall_shows_the_new_day(loop, db_url, tmp_path) -> None:
    small_company(db_url)
    clock = clock_at(23, 59)
    with running_wall(loop, wall_options(db_url, tmp_path, clock)) as display:
        window = display.window
        assert window.day_label.text() == "Tuesday 1 December"
        clock.set(at(0, 1, day=DAY + dt.timedelta(days=1)))
        act(loop, window.minute_timer.timeout.emit)
        pump_until(loop, lambda: window.day_label.text() == "Wednesday 2 December")
        assert window.clock_label.text() == "00:01"
        # Wednesday: nobody has a shift or a visit, so everyone is listed.
        assert len(window.board.technicians) == 3
        assert window.strip.text_of("scheduled") == "0"


def test_the_hours_shown_start_with_todays_first_shift_not_last_nights() -> None:
    from dispatch_app.domain.scheduling import TimeSpan
    from dispatch_app.services.day_board import TechnicianRow
    from dispatch_app.ui.wall.board import paging, timeline

    night = TimeSpan(at(22, day=DAY - dt.timedelta(days=1)), at(6))
    day_shift = TimeSpan(at(7, 30), at(16, 15))
    rows = [
        TechnicianRow(1, "Night Owl", "hvac", "#000000", (), None, 1, shifts=(night,)),
        TechnicianRow(2, "Day Shift", "hvac", "#000000", (), day_shift, 1, shifts=(day_shift,)),
    ]
    hours = timeline(DAY, TZ, rows, [])
    assert (hours.starts, hours.ends) == (at(7), at(17))
    assert len(hours.marks) == 11
    # Nothing at all: 07:00–18:00. A short day is widened to eight hours, within the day.
    hours = timeline(DAY, TZ, [], [])
    assert (hours.starts, hours.ends) == (at(7), at(18))
    late = TimeSpan(at(20), at(23))
    evening = TechnicianRow(3, "Evening", "hvac", "#000000", (), late, 1, shifts=(late,))
    hours = timeline(DAY, TZ, [evening], [])
    assert hours.starts == at(16) and hours.ends == at(0, day=DAY + dt.timedelta(days=1))
    # Pages: everyone when each row can be 108 px high, else as many as fit.
    fits = paging(5, 44 + 5 * 108)
    assert (fits.rows_per_page, fits.pages, fits.row_height) == (5, 1, 108)
    crowded = paging(18, 44 + 7 * 110)
    assert (crowded.rows_per_page, crowded.pages, crowded.row_height) == (7, 3, 110)


def test_no_dialog_and_no_board_editing_anywhere_in_the_wall() -> None:
    """Nothing the wall runs can open a dialog or reach the dispatcher's editing board."""
    import dispatch_app.ui.wall as wall

    for source in Path(wall.__file__).parent.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for word in (
            "QMessageBox",
            "QDialog",
            "QInputDialog",
            "QFileDialog",
            "ui.board.day_view",
            "ui.board.actions",
            "services.visits",
        ):
            assert word not in text, f"{source.name} mentions {word}"


def test_a_screenshot_without_a_database_is_one_sentence_and_an_exit_code(tmp_path) -> None:
    from tests.test_cli import one_sentence

    result = run_main(
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/none",
        "wall",
        "--no-map",
        "--screenshot",
        str(tmp_path / "wall.png"),
        data_dir=tmp_path,
    )
    assert result.returncode == 3
    assert "nothing is listening there" in one_sentence(result.stderr)
    assert not (tmp_path / "wall.png").exists()
