"""The main window on a real database: what it shows, that it stays live, what it keeps."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import psycopg
import pytest
import qasync
from PySide6.QtCore import QSettings, QSize
from PySide6.QtWidgets import QApplication, QMessageBox

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.change_feed import FeedState
from dispatch_app.ui.app import DispatchApp, GuiOptions

TZ = ZoneInfo("America/Chicago")
DAY = dt.date(2026, 12, 1)  # a Tuesday


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = qasync.QSelectorEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        asyncio.set_event_loop(None)
        event_loop.close()


@pytest.fixture
def settings_dir(tmp_path) -> Iterator[None]:
    """QSettings written under the test's own folder, never the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    QApplication.setOrganizationName("DispatchBoardTests")
    QApplication.setApplicationName("DispatchBoardTests")
    yield


def small_company(url: str) -> dict[str, int]:
    """Two technicians on shift, one off, three visits today (one a crew), one waiting job."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute("UPDATE app_settings SET value = '\"America/Chicago\"' "
                   "WHERE key = 'business_timezone'")
        ids = {}
        for name, trade, colour in [("Ava Kowalski", "hvac", "#1f77b4"),
                                    ("Marcus Lee", "plumbing", "#2ca02c"),
                                    ("Noor Haddad", "electrical", "#ff7f0e")]:
            ids[name] = db.execute(
                "INSERT INTO technicians (name, trade, colour) VALUES (%s, %s, %s) RETURNING id",
                (name, trade, colour)).fetchone()[0]
        for name in ("Ava Kowalski", "Marcus Lee"):
            db.execute("INSERT INTO technician_shifts (technician_id, weekday, starts, ends) "
                       "VALUES (%s, 1, '07:00', '15:30')", (ids[name],))
        customer = db.execute("INSERT INTO customers (name) VALUES ('José Núñez') "
                              "RETURNING id").fetchone()[0]
        site = db.execute(
            "INSERT INTO service_sites (customer_id, street, city, state, zip, lat, lon) "
            "VALUES (%s, '1432 W Belmont Ave', 'Chicago', 'IL', '60657', 41.94, -87.67) "
            "RETURNING id", (customer,)).fetchone()[0]
        job = db.execute("INSERT INTO job_types (trade, name, default_duration_min) "
                         "VALUES ('hvac', 'No heat call', 90) RETURNING id").fetchone()[0]

        def visit(start: str, end: str, crew: list[str], priority: str = "normal") -> int:
            order = db.execute(
                "INSERT INTO work_orders (customer_id, site_id, job_type_id, priority, status) "
                "VALUES (%s, %s, %s, %s, 'scheduled') RETURNING id",
                (customer, site, job, priority)).fetchone()[0]
            starts = dt.datetime.combine(DAY, dt.time.fromisoformat(start), tzinfo=TZ)
            ends = dt.datetime.combine(DAY, dt.time.fromisoformat(end), tzinfo=TZ)
            visit_id = db.execute(
                "INSERT INTO visits (work_order_id, starts, ends, status) "
                "VALUES (%s, %s, %s, 'scheduled') RETURNING id",
                (order, starts, ends)).fetchone()[0]
            for index, name in enumerate(crew):
                db.execute("INSERT INTO visit_technicians (visit_id, technician_id, is_lead) "
                           "VALUES (%s, %s, %s)", (visit_id, ids[name], index == 0))
            return visit_id

        visit("08:00", "09:30", ["Ava Kowalski"])
        visit("10:00", "12:00", ["Ava Kowalski", "Marcus Lee"])
        visit("13:00", "14:00", ["Marcus Lee"], priority="urgent")
        waiting = db.execute(
            "INSERT INTO work_orders (customer_id, site_id, job_type_id, priority) "
            "VALUES (%s, %s, %s, 'emergency') RETURNING id", (customer, site, job)).fetchone()[0]
        db.execute("INSERT INTO visits (work_order_id) VALUES (%s)", (waiting,))
    return ids


def options_for(url: str, data_dir) -> GuiOptions:
    return GuiOptions(database=DatabaseChoice(url, "command line"), data_dir=data_dir,
                      size=QSize(1400, 800), day=DAY)


@pytest.fixture
def start(loop: asyncio.AbstractEventLoop):
    """Start an app; whatever a test leaves running is closed at teardown."""
    started: list[tuple[DispatchApp, asyncio.Task[int]]] = []

    def launch(options: GuiOptions) -> tuple[DispatchApp, asyncio.Task[int]]:
        app = DispatchApp(options)
        task = loop.create_task(app.run())
        started.append((app, task))
        return app, task

    yield launch
    for app, task in started:
        if not task.done():
            finish(loop, app, task)


def finish(loop: asyncio.AbstractEventLoop, app: DispatchApp, task: asyncio.Task[int]) -> int:
    app.window.close()
    return loop.run_until_complete(asyncio.wait_for(task, 30))


def wait_for(loop: asyncio.AbstractEventLoop, event: asyncio.Event, task: asyncio.Task) -> None:
    done, _ = loop.run_until_complete(
        asyncio.wait([loop.create_task(event.wait()), task], timeout=30,
                     return_when=asyncio.FIRST_COMPLETED))
    assert done, "timed out"
    if task in done:
        raise AssertionError(f"the app stopped early with {task.result()}")


def test_window_shows_the_days_technicians_and_visits(loop, start, db_url, tmp_path, settings_dir):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.loaded, task)
    window = app.window
    board = window.board.snapshot()
    assert board is not None
    assert [t.name for t in board.technicians] == ["Noor Haddad", "Ava Kowalski", "Marcus Lee"]  # by trade
    by_name = {t.name: t for t in board.technicians}
    assert by_name["Noor Haddad"].shift is None  # not on shift on Tuesdays
    assert by_name["Ava Kowalski"].shift.start == dt.datetime(2026, 12, 1, 7, 0, tzinfo=TZ)
    crew_visit = [v for v in board.visits if len(v.technician_ids) == 2]
    assert len(crew_visit) == 1 and len(board.visits) == 3
    # A crew visit shows in both technicians' rows.
    assert crew_visit[0] in board.visits_of(by_name["Marcus Lee"].id)
    assert crew_visit[0] in board.visits_of(by_name["Ava Kowalski"].id)
    assert window.unassigned.model.rowCount() == 1
    assert window.unassigned.model.job(0).priority == "emergency"
    assert db_url.rsplit("/", 1)[1] in window.database_label.text()
    wait_for(loop, app.live, task)
    assert window.live_label.property("feedState") == FeedState.LIVE.value
    assert finish(loop, app, task) == 0


def test_another_workstations_change_appears_without_refresh(loop, start, db_url, tmp_path,
                                                            settings_dir):
    small_company(db_url)
    app, task = start(options_for(db_url, tmp_path))
    wait_for(loop, app.live, task)
    shown = asyncio.Event()
    app.window.snapshotShown.connect(
        lambda: shown.set() if any(t.name == "Zoë Åberg" for t in
                                   app.window.board.snapshot().technicians) else None)
    with psycopg.connect(libpq_url(db_url)) as other:
        other.execute("INSERT INTO technicians (name, trade, colour) "
                      "VALUES ('Zoë Åberg', 'roofing', '#9467bd')")
    wait_for(loop, shown, task)
    assert "Zoë Åberg" in [t.name for t in app.window.board.snapshot().technicians]
    assert finish(loop, app, task) == 0


def test_window_geometry_is_restored(loop, start, db_url, tmp_path, settings_dir):
    options = GuiOptions(database=DatabaseChoice(db_url, "command line"), data_dir=tmp_path,
                         day=DAY)
    app, task = start(options)
    wait_for(loop, app.loaded, task)
    app.window.resize(701, 503)  # within the offscreen 800x800 screen
    app.window.unassigned.hide()
    assert finish(loop, app, task) == 0

    again, task = start(options)
    wait_for(loop, again.loaded, task)
    assert again.window.size() == QSize(701, 503)
    assert again.window.unassigned.isHidden()
    assert finish(loop, again, task) == 0


def test_unreachable_database_says_so_and_exits_nonzero(loop, start, tmp_path, settings_dir, capsys,
                                                        qtbot):
    options = options_for("postgresql+psycopg://postgres@127.0.0.1:9/dispatch", tmp_path)
    app, task = start(options)

    def dialog() -> QMessageBox | None:
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.objectName() == "fatalError"
                 and w.isVisible()]
        return boxes[0] if boxes else None

    loop.run_until_complete(asyncio.wait_for(_until(dialog), 30))
    box = dialog()
    assert box is not None
    assert box.text().startswith("Cannot open the database at 127.0.0.1:9/dispatch")
    assert "\n" not in box.text() and "Traceback" not in box.text()  # one sentence
    box.done(0)
    assert loop.run_until_complete(asyncio.wait_for(task, 30)) == 3
    assert "Cannot open the database" in capsys.readouterr().err


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)  # yields to the Qt event loop; bounded by wait_for
