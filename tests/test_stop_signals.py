"""Ctrl+C and SIGTERM end the real app (``python main.py``, a process of its own) the way
its window does, and the last app out stops the embedded PostgreSQL server.

Each test gives the app a private data folder, so it starts its own embedded server there,
and nobody sits at a terminal (stdin is not one, the screen is offscreen): a signal quits
without asking.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dispatch_app.config import DatabaseChoice
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.services.database import open_database

ROOT = Path(__file__).resolve().parent.parent
UP_TIMEOUT_S = 180  # a first start creates the cluster, migrates, maybe seeds the demo
EXIT_TIMEOUT_S = 90

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class AppProcess:
    """``python main.py -v …`` with its log read as it comes, line by line."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = dict(os.environ)
        env.pop("DISPATCH_DATABASE_URL", None)  # the embedded server, in data_dir
        env.update(
            DISPATCH_DATA_DIR=str(data_dir),
            QT_QPA_PLATFORM="offscreen",
            QTWEBENGINE_DISABLE_SANDBOX="1",
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "main.py", "-v", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self.lines.append("")  # the end: nothing more will come
            self._seen.notify_all()

    def wait_for_line(self, text: str, timeout: float = UP_TIMEOUT_S) -> None:
        def seen() -> bool:
            return any(text in line for line in self.lines) or self.lines[-1:] == [""]

        with self._seen:
            self._seen.wait_for(seen, timeout)
            if not any(text in line for line in self.lines):
                raise AssertionError(f"no {text!r} in the app's log:\n{self.log()}")

    def log(self) -> str:
        return "".join(self.lines[-40:])

    def whole_log(self) -> str:
        return "".join(self.lines)

    def end_with(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"still running after {signum.name}:\n{self.log()}") from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(EXIT_TIMEOUT_S)


def server_processes(pgdata: Path) -> list[psutil.Process]:
    """PostgreSQL processes serving ``pgdata`` (a postmaster names its folder)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue  # exited; only its parent's bookkeeping is left
        name = (process.info["name"] or "").lower()
        if name.startswith("postgres") and str(pgdata) in (process.info["cmdline"] or []):
            found.append(process)
    return found


def postmaster(data_dir: Path) -> psutil.Process:
    pid = EmbeddedServer(data_dir).postmaster_pid
    assert pid is not None, "no server is running"
    return psutil.Process(pid)


def is_gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """The app's private data folder. Not tmp_path: as root the server runs as another
    account that must traverse every parent folder, and a concurrent pytest session
    resets /tmp/pytest-of-root to 0700."""
    base = Path(tempfile.mkdtemp(prefix="ds"))
    try:
        yield base / "data"
    finally:
        for process in server_processes(base / "data" / "pgdata"):
            process.kill()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def apps(data_dir: Path):
    """App processes a test starts in ``data_dir``; any still running at the end are
    killed (before ``data_dir`` stops what they leave), so a failure leaves nothing."""
    started: list[AppProcess] = []

    def launch(*args: str) -> AppProcess:
        app = AppProcess(data_dir, *args)
        started.append(app)
        return app

    yield launch
    for app in started:
        app.kill()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_ends_the_app_and_stops_its_embedded_server(apps, data_dir, signum) -> None:
    # The README's first command (with -v, so the log says when the board is up).
    app = apps("--demo")
    app.wait_for_line("the board is loaded")
    server = postmaster(data_dir)
    assert EmbeddedServer(data_dir).owners() == [app.pid]

    assert app.end_with(signum) == 128 + signum, app.log()
    # The whole log: the app's own worker writes a line per message it sends.
    assert f"{signum.name}: closing" in app.whole_log()
    assert is_gone(server), app.log()
    assert server_processes(data_dir / "pgdata") == []
    assert EmbeddedServer(data_dir).owners() == []
    assert "Traceback" not in app.whole_log()


def test_a_signal_while_the_server_is_still_starting_stops_it_too(apps, data_dir) -> None:
    app = apps("--demo")
    # The server is up and this app is about to own it; migrating and seeding are ahead.
    app.wait_for_line("Started the database server")
    assert app.end_with(signal.SIGTERM) == 128 + signal.SIGTERM, app.log()
    assert server_processes(data_dir / "pgdata") == [], app.log()
    assert EmbeddedServer(data_dir).owners() == []


@pytest.mark.parametrize("server", ["new", "left by a crash"])
def test_cancelling_the_open_while_a_thread_starts_the_server_stops_it(data_dir, server) -> None:
    """What a signal during the start does inside the app: the open is cancelled while a
    worker thread starts the server (or adopts one a crashed run left). The thread cannot
    be stopped; the server it started must be."""
    if server == "left by a crash":
        crashed = subprocess.Popen([sys.executable, "-c", "pass"])
        crashed.wait()  # its pid names no process now: an owner that died
        EmbeddedServer(data_dir, owner_pid=crashed.pid).start()
        assert server_processes(data_dir / "pgdata")

    async def open_then_cancel() -> None:
        opening = asyncio.ensure_future(
            open_database(DatabaseChoice(None, "embedded"), data_dir=data_dir)
        )
        await asyncio.sleep(0)  # it has handed the start to a worker thread
        assert not opening.done()
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening

    asyncio.run(open_then_cancel())
    assert server_processes(data_dir / "pgdata") == []
    assert EmbeddedServer(data_dir).owners() == []


def test_two_apps_share_the_server_and_the_last_one_out_stops_it(apps, data_dir) -> None:
    first = apps()
    first.wait_for_line("the board is loaded")
    second = apps()
    second.wait_for_line("the board is loaded")
    server = postmaster(data_dir)
    assert sorted(EmbeddedServer(data_dir).owners()) == sorted([first.pid, second.pid])

    assert first.end_with(signal.SIGTERM) == 128 + signal.SIGTERM, first.log()
    assert "Left the database server" in first.log()
    assert not is_gone(server)  # still serving the second app
    assert second.process.poll() is None
    assert EmbeddedServer(data_dir).owners() == [second.pid]

    assert second.end_with(signal.SIGINT) == 128 + signal.SIGINT, second.log()
    assert is_gone(server), second.log()
    assert server_processes(data_dir / "pgdata") == []
    assert EmbeddedServer(data_dir).owners() == []
