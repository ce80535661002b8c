"""Command line: the desktop app by default, and the database tools an admin needs.

    python main.py [--database-url URL] [--demo] [--screenshot PATH]
    python main.py db upgrade | db current | db seed-demo [--seed N]
    python main.py db backup [PATH] | db restore PATH [--replace [--yes]]
    python main.py admin add-user NAME --role ROLE | set-role NAME --role ROLE
    python main.py admin disable NAME | enable NAME | reset-password NAME | list
    python main.py watch
    python main.py map-window [--windowed] [--tiles URL_OR_FOLDER]
    python main.py invoice pdf NUMBER --out FILE.pdf [--replace]
    python main.py pricebook import FILE.csv | pricebook export FILE.csv [--replace]
    python main.py worker [--name NAME] [--drain]
    python main.py messages test --to ADDRESS_OR_PHONE [--channel C] | messages list
    python main.py leads import FILE.csv | leads set-token --token-stdin | --generate
    python main.py report NAME --from DATE --to DATE [filters] [--csv FILE] | report --list
    python main.py wall [--windowed] [--no-map] [--screenshot PATH]

Every failure the user can act on ends as one sentence on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection

from dispatch_app import APP_NAME, __version__
from dispatch_app.config import DatabaseChoice, choose_database, data_dir, describe_url
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock, FixedClock
from dispatch_app.domain.roles import GROUPS, role_named
from dispatch_app.errors import (
    ConfigurationError,
    DataDirectoryError,
    UnexpectedError,
    UserFacingError,
)

log = logging.getLogger(__name__)


def _date(text: str) -> dt.date:
    """A day of the schedule (``domain/time_bounds``): year 1 or 9999 is refused here,
    with a sentence, rather than overflowing somewhere later."""
    from dispatch_app.domain.time_bounds import day_problem

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01") from None
    problem = day_problem(day)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return day


def _moment(text: str) -> dt.datetime:
    from dispatch_app.domain.time_bounds import moment_problem

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a moment like 2026-12-04T16:20-06:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} needs its UTC offset, like 2026-12-04T16:20-06:00"
        )
    problem = moment_problem(repr(text), moment)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return moment


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1600x900") from None
    if not (320 <= width <= 10000 and 240 <= height <= 10000):
        raise argparse.ArgumentTypeError(f"{text!r} is outside 320x240 … 10000x10000")
    return width, height


# A run a day at the public geocoder's one lookup a second: a few hours, not weeks.
MAX_GEOCODE_LIMIT = 10_000


def _site_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= limit <= MAX_GEOCODE_LIMIT:
        raise argparse.ArgumentTypeError(f"{text} is outside 1 … {MAX_GEOCODE_LIMIT:,}")
    return limit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description=f"{APP_NAME}: call intake, dispatch and work orders for trades businesses.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="a shared PostgreSQL, e.g. postgresql://jsmith@db.office:5432/dispatch "
        "(default: $DISPATCH_DATABASE_URL, else the private embedded database)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="PATH",
        help="the certificate authority of the shared server's TLS certificate: the "
        "connection is then encrypted and the server's name checked (sslmode=verify-full; "
        "default: $DISPATCH_CA_FILE)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument(
        "--demo", action="store_true", help="fill an empty embedded database with the demo company"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PATH",
        help="start offscreen, save the loaded window as a PNG and exit",
    )
    parser.add_argument("--size", type=_size, metavar="WxH", help="window size, e.g. 1600x900")
    parser.add_argument(
        "--day", type=_date, metavar="YYYY-MM-DD", help="the day to show (default: today)"
    )
    parser.add_argument(
        "--now",
        type=_moment,
        metavar="MOMENT",
        help="run as if it were this moment, e.g. 2026-12-04T16:20-06:00 "
        "(demonstrations and screenshots; default: the computer's clock)",
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="migrate the database to this version's schema")
    db_commands.add_parser("current", help="print the database's schema revision")
    seed = db_commands.add_parser("seed-demo", help="create the demo company in an empty database")
    seed.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    seed.add_argument(
        "--now",
        dest="seed_now",
        type=_moment,
        metavar="MOMENT",
        help="the moment the demo's day stands at, e.g. 2026-12-04T16:20-06:00 "
        "(default: the computer's clock)",
    )
    seed.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="shorthand for that day at 11:00 in the demo's time zone",
    )
    seed.add_argument(
        "--replace",
        action="store_true",
        help="replace the demo company already in this database (never another company)",
    )
    seed.add_argument(
        "--timezone",
        default="America/Chicago",
        help="the demo company's time zone (default America/Chicago)",
    )
    backup = db_commands.add_parser(
        "backup", help="save the whole database to a file (PostgreSQL's custom format)"
    )
    backup.add_argument(
        "path",
        nargs="?",
        type=Path,
        metavar="PATH",
        help="the file, or a folder for dispatch-YYYY-MM-DD.dump (default: the data "
        "folder's backups/ for the embedded database, else the current folder)",
    )
    restore = db_commands.add_parser(
        "restore", help="put a backup into the database (an empty one, unless --replace)"
    )
    restore.add_argument("path", type=Path, metavar="PATH", help="a file made by db backup")
    restore.add_argument(
        "--replace",
        action="store_true",
        help="replace the company the database holds (asks first; a copy is saved)",
    )
    restore.add_argument(
        "--yes", action="store_true", help="with --replace: do not ask (for scripts)"
    )
    admin = commands.add_parser("admin", help="people on a shared server: logins and roles")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    roles = ", ".join(role.value for role in GROUPS)
    for name, help_text in (
        ("add-user", "add a person: a login in one role; asks for the password"),
        ("set-role", "move a person to another role"),
        ("disable", "take a person's login away and end their open sessions"),
        ("enable", "give a disabled person their login back"),
        ("reset-password", "give a person a new password; asks for it"),
    ):
        action = admin_commands.add_parser(name, help=help_text)
        action.add_argument("name", metavar="NAME", help="the person's user name, e.g. jsmith")
        if name in ("add-user", "set-role"):
            action.add_argument("--role", required=True, metavar="ROLE", help=f"one of {roles}")
        if name in ("add-user", "reset-password"):
            action.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the password from the first line of standard input (scripts)",
            )
    admin_commands.add_parser("list", help="the people, their roles and whether they may log in")
    commands.add_parser("watch", help="print every committed change as a JSON line, until Ctrl+C")
    map_window = commands.add_parser(
        "map-window", help="the live map full-screen in a window of its own (wall display)"
    )
    map_window.add_argument(
        "--windowed", action="store_true", help="an ordinary window instead of full screen"
    )
    map_window.add_argument(
        "--tiles",
        metavar="URL_OR_FOLDER",
        help="map tiles: a {z}/{x}/{y} URL template or a folder of them "
        "(default: $DISPATCH_MAP_TILES, else the company's setting, else OpenStreetMap)",
    )
    map_window.add_argument(
        "--events", action="store_true", help="print what the window does as JSON lines"
    )
    geocode = commands.add_parser(
        "geocode-sites",
        help="place sites that have no position with an online geocoder (optional)",
    )
    geocode.add_argument(
        "--url",
        help="a Nominatim-compatible search URL (default: the geocoder_url setting)",
    )
    geocode.add_argument(
        "--limit",
        type=_site_limit,
        default=100,
        help=f"sites to look up at most, 1 to {MAX_GEOCODE_LIMIT:,} (default 100)",
    )
    from dispatch_app.cli_invoice import add_invoice_parser
    from dispatch_app.cli_leads import add_leads_parser
    from dispatch_app.cli_messages import add_messages_parsers
    from dispatch_app.cli_price_book import add_price_book_parser
    from dispatch_app.cli_reports import add_reports_parser
    from dispatch_app.cli_wall import add_wall_parser

    add_invoice_parser(commands)
    add_price_book_parser(commands)
    add_messages_parsers(commands)
    add_leads_parser(commands)
    add_reports_parser(commands)
    add_wall_parser(commands)
    return parser


def writable_data_dir() -> Path:
    """The data directory, created if needed; one sentence if it cannot be written."""
    directory = data_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise DataDirectoryError(
            f"The data directory {directory} cannot be written ({error.strerror or error}); "
            "set DISPATCH_DATA_DIR to a folder you can write."
        ) from None
    return directory


@contextlib.contextmanager
def database_url(choice: DatabaseChoice) -> Iterator[str]:
    """The chosen database's URL, starting (and afterwards stopping) the embedded server."""
    if choice.url is not None:
        yield choice.url
        return
    from dispatch_app.db.embedded import EmbeddedServer

    server = EmbeddedServer(writable_data_dir())
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextlib.contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A connection to ``url``, or one sentence saying why there is none."""
    from dispatch_app.db.engine import explain_connection_error, make_sync_engine

    engine = make_sync_engine(url)
    try:
        try:
            connection = engine.connect()
        except Exception as error:
            raise explain_connection_error(error, url) from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def _clock(args: argparse.Namespace) -> Clock:
    return FixedClock(args.now) if args.now else SYSTEM_CLOCK


def run_backup_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.services.backup import (
        back_up,
        backup_sentence,
        backups_folder,
        new_backup_path,
    )

    moment = _clock(args).now().astimezone()  # the day on this computer's calendar
    with database_url(choice) as url:
        if args.path is None:
            folder = backups_folder(writable_data_dir()) if choice.embedded else Path.cwd()
            target = new_backup_path(folder, moment)
        elif args.path.is_dir():
            target = new_backup_path(args.path, moment)
        else:
            target = args.path
        dump = back_up(url, target)
        print(backup_sentence(url, dump, embedded=choice.embedded))
    return 0


def run_restore_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.services.backup import (
        RestoreRefused,
        backups_folder,
        company_contents,
        database_name,
        open_backup,
        restore_backup,
        sentence_start,
    )

    moment = _clock(args).now().astimezone()
    dump = open_backup(args.path)  # a file that is no backup is refused before anything
    safety_folder = backups_folder(writable_data_dir())
    with database_url(choice) as url:
        where = database_name(url, embedded=choice.embedded)
        before = company_contents(url)
        if before.ours and not before.empty and args.replace and not args.yes:
            question = (
                f"{sentence_start(where)} holds {before.describe()}. Replace all of it with "
                f"the backup {dump.path.name} (made {dump.created})? What it holds now is "
                f"saved in {safety_folder} first."
            )
            if not sys.stdin.isatty():
                raise RestoreRefused(
                    f"{sentence_start(where)} holds {before.describe()}, and there is no "
                    "terminal to ask before replacing it; add --yes to replace it anyway."
                )
            if not _asked_yes(question):
                print("Nothing was restored.")
                return 1
        report = restore_backup(
            url,
            dump,
            replace=args.replace,
            embedded=choice.embedded,
            safety_folder=safety_folder,
            moment=moment,
        )
    print(report.sentence())
    return 0


def _asked_yes(question: str) -> bool:
    try:
        answer = input(f"{question} Type yes to replace it: ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def run_db_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.db import migrate
    from dispatch_app.services.database import migrate_now

    if args.db_command == "backup":
        return run_backup_command(args, choice)
    if args.db_command == "restore":
        return run_restore_command(args, choice)

    with database_url(choice) as url:
        where = "the embedded database" if choice.embedded else describe_url(url)
        if args.db_command == "upgrade" or (choice.embedded and args.db_command != "current"):
            # The embedded server is this app's own: it is always kept at head.
            state = migrate_now(url)
            if args.db_command == "upgrade":
                print(f"{where} is at schema {state.current} (head).")
                return 0
        with connected(url) as connection:
            if args.db_command == "current":
                state = migrate.schema_state(connection)
                status = "up to date" if state.up_to_date else f"head is {state.head}"
                print(f"{where}: schema {state.current or 'none'} ({status})")
                return 0
            migrate.check_schema(connection, url)
            connection.rollback()  # the seeding below runs in a transaction of its own
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            from sqlalchemy.orm import Session

            from dispatch_app.domain.clock import SYSTEM_CLOCK, FixedClock
            from dispatch_app.services.demo import rebuild_demo, seed_demo

            clock = FixedClock(args.now) if args.now else SYSTEM_CLOCK
            moment = args.seed_now
            if moment is None and args.today is not None:
                try:
                    zone: dt.tzinfo = ZoneInfo(args.timezone)
                except (ZoneInfoNotFoundError, ValueError):
                    zone = dt.UTC  # seed_demo names the unknown zone in its sentence
                moment = dt.datetime.combine(args.today, dt.time(11), tzinfo=zone)

            with Session(bind=connection) as session, session.begin():
                if args.replace:
                    summary = rebuild_demo(session, now=moment, clock=clock)
                else:
                    summary = seed_demo(
                        session, seed=args.seed, now=moment, clock=clock, timezone=args.timezone
                    )
        print(f"Demo company {'rebuilt' if args.replace else 'created'} in {where}: {summary}")
        return 0


@contextlib.contextmanager
def checked_database(choice: DatabaseChoice) -> Iterator[str]:
    """The URL of a database at this version's schema, for the commands that only use it:
    the embedded one is migrated, a shared one must already be (one sentence if not)."""
    from dispatch_app.db import migrate
    from dispatch_app.services.database import migrate_now

    with database_url(choice) as url:
        if choice.embedded:
            migrate_now(url)
        with connected(url) as connection:
            migrate.check_schema(connection, url)
        yield url


def _new_password(args: argparse.Namespace, login: str) -> str:
    """The new password: stdin's first line with ``--password-stdin``, else asked twice
    at the terminal without echo. Never an argument: a process list shows those."""
    import getpass

    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        return password.removesuffix("\r")
    if not sys.stdin.isatty():
        raise ConfigurationError(
            "There is no terminal to ask for the password: give it on standard input "
            "with --password-stdin."
        )
    first = getpass.getpass(f"New password for {login}: ")
    if getpass.getpass("The same password again: ") != first:
        raise ConfigurationError("The two passwords differ; nothing was changed.")
    return first


def run_admin_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.services import people

    if choice.embedded:
        raise ConfigurationError(
            "The single-PC database has one owner and no logins: people are added on a "
            "shared server (give it with --database-url or DISPATCH_DATABASE_URL)."
        )
    # The name and role are checked before anything is asked or opened.
    login = people.check_login_name(args.name) if args.admin_command == "add-user" else ""
    role = role_named(args.role) if getattr(args, "role", None) else None
    password = ""
    if args.admin_command in ("add-user", "reset-password"):
        password = people.check_password(_new_password(args, args.name.strip()))
    with checked_database(choice) as url, connected(url) as connection:
        command = args.admin_command
        said: list[str] = []
        if command == "list":
            for person in people.people(connection):
                state = "" if person.can_log_in else "  (disabled)"
                said.append(f"{person.login:<28} {person.role.label:<11}{state}")
            if not said:
                said.append(
                    "No people yet: add one with python main.py admin add-user NAME --role ROLE."
                )
        elif command == "add-user":
            assert role is not None
            person = people.add_user(connection, login, role, password)
            said.append(f"{person.login} may now log in as {person.role.label}.")
        elif command == "set-role":
            assert role is not None
            person = people.set_role(connection, args.name, role)
            said.append(f"{person.login} is now {person.role.label}.")
        elif command == "disable":
            ended = people.disable_user(connection, args.name)
            sessions = "" if not ended else f"; {ended} open session(s) were ended"
            said.append(f"{args.name.strip()} can no longer log in{sessions}.")
        elif command == "enable":
            person = people.enable_user(connection, args.name)
            said.append(f"{person.login} may log in again as {person.role.label}.")
        elif command == "reset-password":
            people.reset_password(connection, args.name, password)
            said.append(f"{args.name.strip()} has a new password.")
        connection.commit()  # said only once it is so
    print("\n".join(said))
    return 0


def run_watch_command(choice: DatabaseChoice) -> int:
    from dispatch_app.services.change_watch import watch

    with checked_database(choice) as url:
        return watch(url)


def run_geocode_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.db.engine import make_sync_engine
    from dispatch_app.services.geocoding import (
        check_geocoder_url,
        geocode_sites,
        geocoder_server,
        geocoder_url,
    )

    if args.url is not None:  # a malformed --url is said before any database is opened
        check_geocoder_url(args.url, origin="--url")
    with checked_database(choice) as url:
        engine = make_sync_engine(url)
        try:
            geocoder = geocoder_url(engine, args.url)

            def announce(count: int) -> None:
                # Said before any address leaves, so a changed setting cannot go unseen.
                server = geocoder_server(geocoder)
                if count == 0:
                    print(f"Every site has a position; nothing was sent to {server}.")
                else:
                    sites = "1 site" if count == 1 else f"{count} sites"
                    print(f"Looking up {sites} with {server}…", flush=True)

            report = geocode_sites(engine, geocoder, limit=args.limit, announce=announce)
        finally:
            engine.dispose()
    print(report)
    return 0


def run_map_window_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.map_window import MapWindowOptions, run_map_window

    with checked_database(choice) as url:
        return run_map_window(
            MapWindowOptions(
                url,
                day=args.day,
                fullscreen=not args.windowed,
                tiles=args.tiles,
                events=sys.stdout if args.events else None,
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # platformdirs warns on Linux sessions without a runtime folder; it falls back fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    choice: DatabaseChoice | None = None
    try:
        choice = choose_database(args.database_url, ca_file=args.ca_file)
        return run_command(args, choice)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        failure = user_facing(error, choice, verbose=args.verbose)
        print(f"{APP_NAME}: {failure}", file=sys.stderr)
        return failure.exit_code


def run_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    if args.command == "db":
        return run_db_command(args, choice)
    if args.command == "admin":
        return run_admin_command(args, choice)
    if args.command == "watch":
        return run_watch_command(choice)
    if args.command == "map-window":
        return run_map_window_command(args, choice)
    if args.command == "geocode-sites":
        return run_geocode_command(args, choice)
    if args.command == "invoice":
        from dispatch_app.cli_invoice import run_invoice_command

        return run_invoice_command(args, choice)
    if args.command == "worker":
        from dispatch_app.cli_messages import run_worker_command

        return run_worker_command(args, choice)
    if args.command == "messages":
        from dispatch_app.cli_messages import run_messages_command

        return run_messages_command(args, choice)
    if args.command == "leads":
        from dispatch_app.cli_leads import run_leads_command

        return run_leads_command(args, choice)
    if args.command == "report":
        from dispatch_app.cli_reports import run_reports_command

        return run_reports_command(args, choice)
    if args.command == "wall":
        from dispatch_app.cli_wall import run_wall_command

        return run_wall_command(args, choice)
    if args.command == "pricebook":
        from dispatch_app.cli_price_book import run_price_book_command

        return run_price_book_command(args, choice)
    return run_gui_command(args, choice)


def user_facing(
    error: Exception, choice: DatabaseChoice | None, *, verbose: bool = False
) -> UserFacingError:
    """The sentence for any failure of a command. The database's refusals and lost
    connections are said as such; anything else is a failure nobody wrote a sentence
    for, and its traceback goes to the log (shown with ``-v``), never to the user."""
    if isinstance(error, UserFacingError):
        return error
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from dispatch_app.db.engine import explain_connection_error, explain_permission_error

    url = (choice.url if choice is not None else None) or ""
    if isinstance(error, (DBAPIError, psycopg.Error)):
        denied = explain_permission_error(error, url)
        if denied is not None:
            return denied
        original = error.orig if isinstance(error, DBAPIError) else error
        if isinstance(original, psycopg.OperationalError):  # the server went away
            return explain_connection_error(error, url)
    log.info("unexpected failure", exc_info=error)
    said = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    what = f"{type(error).__name__}: {said}" if said else type(error).__name__
    where = "the details are logged above" if verbose else "run it again with -v for the details"
    return UnexpectedError(f"Something went wrong that the app did not expect ({what}); {where}.")


def run_gui_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    if args.screenshot is not None:
        # A screenshot needs no screen: render offscreen unless told otherwise.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if args.screenshot.suffix.lower() != ".png":
            raise ConfigurationError(f"The screenshot path {args.screenshot} must end in .png.")
    directory = writable_data_dir()
    from PySide6.QtCore import QSize

    from dispatch_app.ui.app import GuiOptions, run_gui

    size = QSize(*args.size) if args.size else (QSize(1600, 900) if args.screenshot else None)
    options = GuiOptions(
        database=choice,
        data_dir=directory,
        demo=args.demo,
        screenshot=args.screenshot,
        size=size,
        day=args.day,
        clock=_clock(args),
    )
    return run_gui(options)
