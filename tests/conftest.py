"""Shared fixtures: a real Qt (offscreen) and real PostgreSQL throwaway databases."""

from __future__ import annotations

import os

# Before any Qt import: no screen here or in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import qasync
from PySide6.QtCore import QEventLoop, QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from dispatch_app.config import libpq_url
from dispatch_app.db import migrate
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.scratch import ScratchServer
from dispatch_app.ui.app import DispatchApp, GuiOptions
from tests.companies import small_company
from tests.qt_app import finish


@pytest.fixture(scope="session")
def scratch_server() -> Iterator[ScratchServer]:
    server = ScratchServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def migrated_template(scratch_server: ScratchServer) -> Iterator[str]:
    """A database at the head schema, copied (CREATE DATABASE … TEMPLATE) per test."""
    name = scratch_server.create()
    engine = make_sync_engine(scratch_server.url_for(name))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    try:
        yield name
    finally:
        scratch_server.drop(name)


@pytest.fixture
def empty_db_url(scratch_server: ScratchServer) -> Iterator[str]:
    with scratch_server.database() as url:
        yield url


@pytest.fixture
def db_url(scratch_server: ScratchServer, migrated_template: str) -> Iterator[str]:
    """A fresh database at the head schema, dropped after the test."""
    with scratch_server.database(template=migrated_template) as url:
        yield url


@pytest.fixture
def sync_engine(db_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    """A data folder for an embedded server, which as root runs as an account that must
    reach it: not under tmp_path, which a concurrent pytest session may close to others.
    Servers left running in it are killed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="dse"))
    try:
        yield folder / "data"
    finally:
        for process in psutil.process_iter(["name", "cmdline"]):
            if (process.info["name"] or "").startswith("postgres") and any(
                arg.startswith(f"{folder}{os.sep}") for arg in process.info["cmdline"] or []
            ):
                with contextlib.suppress(psutil.Error):
                    process.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private data directory (settings, embedded server) for one test."""
    monkeypatch.setenv("DISPATCH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


# -- the desktop app in a test -----------------------------------------------------------
class _TestLoop(qasync.QSelectorEventLoop):
    """qasync's loop, run in many short stretches as a test needs.

    qasync's own ``run_until_complete`` processes Qt events once more after the loop has
    stopped running; in the app that happens once, at exit, but a test runs the loop
    dozens of times, and those extra steps would run asyncio tasks outside a running
    loop. This version stops cleanly.

    Each stretch is a nested ``QEventLoop`` rather than ``QApplication.exec()`` and
    ``exit()``: those emit ``aboutToQuit``, on which Qt WebEngine shuts down for good
    (the map dock holds a web view), and the next stretch would crash the process.
    """

    _stretch: QEventLoop | None = None

    def run_forever(self):  # type: ignore[no-untyped-def]
        if self.is_running():
            raise RuntimeError("Event loop already running")
        self._QEventLoop__is_running = True  # qasync's own flag (name-mangled)
        self._before_run_forever()
        self._stretch = QEventLoop()
        try:
            return self._stretch.exec()
        finally:
            self._after_run_forever()
            self._QEventLoop__is_running = False
            self._stretch = None

    def stop(self):  # type: ignore[no-untyped-def]
        if self.is_running() and self._stretch is not None:
            self._QEventLoop__is_running = False
            self._stretch.exit()

    def run_until_complete(self, future):  # type: ignore[no-untyped-def]
        task = asyncio.ensure_future(future, loop=self)
        task.add_done_callback(lambda _done: self.stop())
        self.run_forever()
        if not task.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        return task.result()


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = _TestLoop(qapp)
    asyncio.set_event_loop(event_loop)
    # Running for the whole test, between stretches too (as qasync's own mode for an
    # already running Qt loop does): a widget call that processes Qt events outside a
    # stretch may step a task, and in the app the loop is always running.
    asyncio.events._set_running_loop(event_loop)
    try:
        yield event_loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        event_loop.close()


@pytest.fixture
def settings_dir(tmp_path) -> Iterator[None]:
    """QSettings written under the test's own folder, never the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    QApplication.setOrganizationName("DispatchBoardTests")
    QApplication.setApplicationName("DispatchBoardTests")
    yield


@pytest.fixture
def start(loop: asyncio.AbstractEventLoop):
    """Start an app; whatever a test leaves running is closed at teardown."""
    started: list[tuple[DispatchApp, asyncio.Task[int]]] = []

    def launch(options: GuiOptions) -> tuple[DispatchApp, asyncio.Task[int]]:
        app = DispatchApp(options)
        task = loop.create_task(app.run())
        started.append((app, task))
        return app, task

    launch.started = started  # type: ignore[attr-defined]
    yield launch
    close_started_apps(loop, started)


def close_started_apps(
    loop: asyncio.AbstractEventLoop, started: list[tuple[DispatchApp, asyncio.Task[int]]]
) -> None:
    for app, task in started:
        if not task.done():
            finish(loop, app, task)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):  # type: ignore[no-untyped-def]
    """Close the apps a test started while its event loop still runs.

    pytest-qt processes Qt events right after the test function returns, before fixtures
    are torn down; with qasync, that would step the app's asyncio tasks with no running
    loop. Innermost of the call wrappers, this runs before that.
    """
    yield
    launch = item.funcargs.get("start") if hasattr(item, "funcargs") else None
    loop = item.funcargs.get("loop") if hasattr(item, "funcargs") else None
    if launch is not None and loop is not None and not loop.is_closed():
        close_started_apps(loop, launch.started)


# A person on the office server below: a CSR who signs in with a password.
OFFICE_LOGIN = "maria.g"
OFFICE_PASSWORD = "Walk-in-Cooler-2291"


@pytest.fixture
def office_server(embedded_dir: Path) -> Iterator[str]:
    """A server that asks for passwords, with the company and Maria (a CSR) on it; the
    URL names Maria and no password."""
    server = EmbeddedServer(embedded_dir)
    admin_url = server.start()
    try:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
            admin.execute("CREATE DATABASE office")
        company_url = make_url(admin_url).set(database="office").render_as_string(False)
        engine = make_sync_engine(company_url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        small_company(company_url)
        with psycopg.connect(libpq_url(company_url), autocommit=True) as admin:
            admin.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE dispatch_csr").format(
                    psycopg.sql.Identifier(OFFICE_LOGIN), psycopg.sql.Literal(OFFICE_PASSWORD)
                )
            )
        yield (
            make_url(company_url).set(username=OFFICE_LOGIN, password=None).render_as_string(False)
        )
    finally:
        server.stop()
