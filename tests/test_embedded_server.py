"""The private embedded PostgreSQL server: start, reuse, crash recovery, shared ownership."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import psutil
import psycopg
import pytest

from dispatch_app.db.embedded import DATABASE_NAME, EmbeddedServer
from dispatch_app.errors import DataDirectoryError, EmbeddedServerError

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 20.0


def _postgres_processes() -> Iterator[tuple[psutil.Process, list[str]]]:
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if (process.info["name"] or "").lower().startswith("postgres"):
            yield process, process.info["cmdline"] or []


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    """Live postgres processes started on ``pgdata``; backends rename themselves, so only
    postmasters still carry the data directory on their command line."""
    return [process for process, cmdline in _postgres_processes() if str(pgdata) in cmdline]


def _is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not _is_gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still running after {timeout} s"
        time.sleep(0.05)


def _kill_postmasters_under(folder: Path) -> None:
    leftovers = [
        process
        for process, cmdline in _postgres_processes()
        if any(arg.startswith(f"{folder}{os.sep}") for arg in cmdline)
    ]
    for process in leftovers:
        with suppress(psutil.Error):
            process.kill()
    for process in leftovers:
        _wait_gone(process.pid)


def _connect(url: str) -> psycopg.Connection:
    assert url.startswith("postgresql+psycopg://")
    return psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=5, autocommit=True
    )


def _answers(url: str) -> bool:
    with _connect(url) as connection:
        row = connection.execute("SELECT 1, current_database()").fetchone()
    return row == (1, DATABASE_NAME)


@pytest.fixture
def base_dir() -> Iterator[Path]:
    # Not tmp_path: as root the server runs as another account that must traverse every
    # parent folder, and a concurrent pytest session resets /tmp/pytest-of-root to 0700.
    path = Path(tempfile.mkdtemp(prefix="ds"))
    try:
        yield path
    finally:
        _kill_postmasters_under(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir(base_dir: Path) -> Path:
    return base_dir / "data"


@pytest.fixture
def make_server(base_dir: Path) -> Iterator[Callable[..., EmbeddedServer]]:
    """Servers that are stopped after the test; ``base_dir`` then kills what is left."""
    created: list[EmbeddedServer] = []

    def make(path: Path, **kwargs: object) -> EmbeddedServer:
        server = EmbeddedServer(path, **kwargs)  # type: ignore[arg-type]
        created.append(server)
        return server

    try:
        yield make
    finally:
        for server in created:
            with suppress(Exception):
                server.stop()


@pytest.fixture
def spawn_sleeper() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Live processes that stand in for other running copies of the app."""
    children: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        children.append(child)
        return child

    try:
        yield spawn
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=WAIT_S)


def test_start_fresh_dir_serves_dispatch_database_and_stop_ends_postmaster(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(data_dir)

    url = server.start()

    assert url == server.url
    assert url.startswith("postgresql+psycopg://postgres@")
    assert url.split("?")[0].endswith(f"/{DATABASE_NAME}")
    assert _answers(url)
    pid = server.postmaster_pid
    assert pid is not None
    assert [p.pid for p in _postmasters(server.pgdata)] == [pid]
    assert server.owners() == [os.getpid()]

    server.stop()

    _wait_gone(pid)
    assert _postmasters(server.pgdata) == []
    assert not (server.pgdata / "postmaster.pid").exists()
    assert server.owners() == []


def test_restart_on_existing_dir_keeps_the_data(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    first = make_server(data_dir)
    with _connect(first.start()) as connection:
        connection.execute("CREATE TABLE kept (id int)")
        connection.execute("INSERT INTO kept VALUES (42)")
    first_pid = first.postmaster_pid
    assert first_pid is not None
    first.stop()
    _wait_gone(first_pid)

    second = make_server(data_dir)
    url = second.start()

    assert second.postmaster_pid not in (None, first_pid)
    with _connect(url) as connection:
        assert connection.execute("SELECT id FROM kept").fetchall() == [(42,)]


def test_server_of_a_killed_app_is_reused_and_then_stopped(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    crashing_app = textwrap.dedent(
        """
        import json, os, signal, sys
        from pathlib import Path
        from dispatch_app.db.embedded import EmbeddedServer
        server = EmbeddedServer(Path(sys.argv[1]))
        server.start()
        print(json.dumps({"app": os.getpid(), "postmaster": server.postmaster_pid}), flush=True)
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", crashing_app, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert result.stdout, result.stderr
    pids = json.loads(result.stdout.splitlines()[-1])
    orphan = pids["postmaster"]
    # The app is dead without having stopped anything; its server lives on.
    assert _is_gone(pids["app"])
    assert not _is_gone(orphan)
    server = make_server(data_dir)
    assert server.owners() == [pids["app"]]

    url = server.start()

    assert server.postmaster_pid == orphan
    assert [p.pid for p in _postmasters(server.pgdata)] == [orphan]
    assert _answers(url)
    assert server.owners() == [os.getpid()]

    server.stop()

    _wait_gone(orphan)
    assert _postmasters(server.pgdata) == []


def test_two_apps_starting_at_once_share_one_server(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    app = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from dispatch_app.db.embedded import EmbeddedServer
        server = EmbeddedServer(Path(sys.argv[1]))
        server.start()
        print(server.postmaster_pid, flush=True)
        os._exit(0)
        """
    )
    apps = [
        subprocess.Popen(
            [sys.executable, "-c", app, str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=60) for child in apps]

    assert [child.returncode for child in apps] == [0, 0], outputs
    pids = {int(out.strip()) for out, _ in outputs}
    assert len(pids) == 1
    assert [p.pid for p in _postmasters(data_dir / "pgdata")] == list(pids)
    server = make_server(data_dir)
    server.start()
    assert server.postmaster_pid in pids


def test_stale_postmaster_pid_of_a_killed_server_is_replaced(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    first = make_server(data_dir)
    with _connect(first.start()) as connection:
        connection.execute("CREATE TABLE survived (id int)")
        connection.execute("INSERT INTO survived VALUES (7)")
    killed = first.postmaster_pid
    assert killed is not None
    psutil.Process(killed).kill()
    _wait_gone(killed)
    assert (first.pgdata / "postmaster.pid").exists()

    second = make_server(data_dir)
    url = second.start()

    assert second.postmaster_pid not in (None, killed)
    assert len(_postmasters(second.pgdata)) == 1
    with _connect(url) as connection:
        assert connection.execute("SELECT id FROM survived").fetchall() == [(7,)]


def test_stale_postmaster_pid_naming_an_unrelated_live_process_is_replaced(
    data_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    spawn_sleeper: Callable[[], subprocess.Popen[bytes]],
) -> None:
    first = make_server(data_dir)
    first.start()
    killed = first.postmaster_pid
    assert killed is not None
    psutil.Process(killed).kill()
    _wait_gone(killed)
    # As after a reboot: the recorded pid now belongs to some other program.
    unrelated = spawn_sleeper()
    lock_files = [first.pgdata / "postmaster.pid", first.pgdata / ".s.PGSQL.5432.lock"]
    for lock_file in lock_files:
        lines = lock_file.read_text().splitlines()
        assert lines[0] == str(killed)
        lock_file.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")

    second = make_server(data_dir)
    url = second.start()

    assert second.postmaster_pid not in (None, killed, unrelated.pid)
    assert _answers(url)
    assert unrelated.poll() is None


def test_server_keeps_running_while_another_owner_lives(
    data_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    spawn_sleeper: Callable[[], subprocess.Popen[bytes]],
) -> None:
    other_app = spawn_sleeper()
    this = make_server(data_dir)
    other = make_server(data_dir, owner_pid=other_app.pid)
    url = this.start()
    assert other.start() == url
    pid = this.postmaster_pid
    assert pid is not None
    assert sorted(this.owners()) == sorted([os.getpid(), other_app.pid])

    this.stop()

    assert this.postmaster_pid == pid
    assert _answers(url)
    assert this.owners() == [other_app.pid]

    this.start()
    other_app.kill()
    other_app.wait(timeout=WAIT_S)
    this.stop()

    _wait_gone(pid)
    assert _postmasters(this.pgdata) == []
    assert this.owners() == []


def test_last_owner_out_stops_the_server(
    data_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    spawn_sleeper: Callable[[], subprocess.Popen[bytes]],
) -> None:
    other_app = spawn_sleeper()
    this = make_server(data_dir)
    other = make_server(data_dir, owner_pid=other_app.pid)
    this.start()
    other.start()
    pid = this.postmaster_pid
    assert pid is not None

    other.stop()
    assert this.postmaster_pid == pid
    this.stop()

    _wait_gone(pid)


def _parent_is_a_file(base_dir: Path) -> Path:
    (base_dir / "plain-file").write_text("x")
    return base_dir / "plain-file" / "data"


def _dir_is_a_file(base_dir: Path) -> Path:
    (base_dir / "data").write_text("x")
    return base_dir / "data"


def _pgdata_is_a_file(base_dir: Path) -> Path:
    (base_dir / "data").mkdir()
    (base_dir / "data" / "pgdata").write_text("x")
    return base_dir / "data" / "pgdata"


def _existing_but_unwritable(base_dir: Path) -> Path:
    # Even root cannot create files in /proc, so this is the one unwritable folder a root
    # test run can count on.
    path = Path("/proc/self")
    if not path.is_dir():
        pytest.skip("no /proc on this system")
    return path


@pytest.mark.parametrize(
    "make_bad_path",
    [_parent_is_a_file, _dir_is_a_file, _pgdata_is_a_file, _existing_but_unwritable],
)
def test_unusable_data_dir_is_refused_with_its_path(
    base_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    make_bad_path: Callable[[Path], Path],
) -> None:
    bad = make_bad_path(base_dir)
    data_dir = bad.parent if bad.name == "pgdata" else bad
    server = make_server(data_dir)

    with pytest.raises(DataDirectoryError) as raised:
        server.start()

    message = str(raised.value)
    assert str(bad) in message
    assert "\n" not in message
    assert message.endswith(".")
    assert _postmasters(server.pgdata) == []


def test_server_that_cannot_start_reports_data_dir_and_log(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(data_dir)
    server.start()
    server.stop()
    with (server.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("\nthis line is not a setting\n")

    started = time.monotonic()
    with pytest.raises(EmbeddedServerError) as raised:
        make_server(data_dir).start()

    assert time.monotonic() - started < 30
    message = str(raised.value)
    assert str(data_dir) in message
    assert "postgresql.conf" in message
    assert "\n" not in message
    assert _postmasters(server.pgdata) == []


def test_data_dir_too_long_for_a_unix_socket_still_works(
    base_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    data_dir = base_dir / ("long-folder-name-" * 6) / "data"
    assert len(str(data_dir / "pgdata" / ".s.PGSQL.5432")) > 108
    server = make_server(data_dir)

    url = server.start()

    assert _answers(url)
    assert f"host={data_dir}" not in url
