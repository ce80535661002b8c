"""Customer messages from the command line:

    python main.py worker [--name NAME] [--drain]
    python main.py messages test --to ADDRESS_OR_PHONE [--channel sms|email|log]
    python main.py messages list [--state failed] [--limit 50]

``worker`` sends the outbox until SIGTERM or Ctrl+C (one log line per message, a
heartbeat every 15 s); ``--drain`` sends what is due now and exits, for a scheduled task.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from dispatch_app.config import DatabaseChoice
from dispatch_app.domain.messages import Channel, MessageState
from dispatch_app.errors import ConfigurationError, UserFacingError

if TYPE_CHECKING:
    from dispatch_app.services.workspace import Workspace

log = logging.getLogger(__name__)


def add_messages_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    worker = commands.add_parser(
        "worker", help="send customer messages from the outbox until stopped (SIGTERM, Ctrl+C)"
    )
    worker.add_argument(
        "--name", help="how this worker is named in the heartbeat (default: host:pid)"
    )
    worker.add_argument("--drain", action="store_true", help="send what is due now, then exit")
    messages = commands.add_parser("messages", help="the outbox: a test message, the list")
    actions = messages.add_subparsers(dest="messages_command", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="send one test message through a channel")
    test.add_argument("--to", required=True, help="an email address or a phone number")
    test.add_argument(
        "--channel",
        choices=[c.value for c in Channel],
        help="default: email for an address with @, else sms",
    )
    listing = actions.add_parser("list", help="the latest messages, newest first")
    listing.add_argument("--state", choices=[s.value for s in MessageState])
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")


def run_worker_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import _clock, checked_database

    # One line per message on stderr, whatever -v says: it is the worker's log.
    logging.getLogger("dispatch_app.worker").setLevel(logging.INFO)
    logging.getLogger("dispatch_app.messages").setLevel(logging.INFO)
    with checked_database(choice) as url:
        return asyncio.run(_work(url, args, _clock(args)))


async def _work(url: str, args: argparse.Namespace, clock: Any) -> int:
    from dispatch_app.services.outbox.worker import WorkerOptions, default_name
    from dispatch_app.services.workspace import Workspace

    name = (args.name or default_name()).strip()
    if not 1 <= len(name) <= 200:
        raise ConfigurationError("A worker's name is 1 to 200 characters.")
    workspace = Workspace.connect(url, clock=clock)
    try:
        options = WorkerOptions(name=name)
        if args.drain:
            from dispatch_app.services.outbox.worker import OutboxWorker

            worker = OutboxWorker(workspace.database.sessions, clock=clock, options=options)
            try:
                handled = await workspace.run_plain(worker.drain())
                await worker.poll_provider()
            finally:
                await worker.close()
            print(f"{handled} message(s) handled: {worker.sent} sent, {worker.failed} failed.")
            return 0
        stop = asyncio.Event()
        _stop_on_signals(stop)
        workspace.listen(
            on_hints=lambda _hints: None,
            on_state=lambda state, _since: log.info("change feed: %s", state.value),
        )
        _worker, task = workspace.start_outbox_worker(options, stop=stop)
        await _take_leads(workspace)
        print(f"Worker {name} is sending messages; stop it with Ctrl+C.", file=sys.stderr)
        await workspace.run_plain(task)
        return 0
    finally:
        await workspace.aclose()


async def _take_leads(workspace: Workspace) -> None:
    """Serve the lead endpoint beside the outbox; when it cannot listen (a port in use,
    a malformed ``lead_endpoint``), say so and keep sending messages."""
    worker_log = logging.getLogger("dispatch_app.worker")
    try:
        served = await workspace.start_lead_endpoint()
    except UserFacingError as failure:
        worker_log.warning("The lead endpoint is not running: %s Messages are still sent.", failure)
        return
    worker_log.info("Lead endpoint listening on %s", served.url)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: the handler runs in Python
            signal.signal(number, lambda *_: loop.call_soon_threadsafe(stop.set))


def run_messages_command(args: argparse.Namespace, choice: DatabaseChoice) -> int:
    from dispatch_app.cli import _clock, checked_database

    if args.messages_command == "list" and not 1 <= args.limit <= 10_000:
        raise ConfigurationError(f"--limit is 1 to 10,000, not {args.limit}.")
    with checked_database(choice) as url:
        return asyncio.run(_messages(url, args, _clock(args)))


async def _messages(url: str, args: argparse.Namespace, clock: Any) -> int:
    from dispatch_app.services.outbox import queue
    from dispatch_app.services.outbox.worker import OutboxWorker, WorkerOptions, default_name
    from dispatch_app.services.workspace import Workspace

    workspace = Workspace.connect(url, clock=clock)
    try:
        sessions = workspace.database.sessions
        if args.messages_command == "list":
            state = MessageState(args.state) if args.state else None
            rows = await workspace.run(queue.list_messages, state=state, limit=args.limit)
            async with sessions() as session:
                zone = queue.company_zone(await queue.company_settings(session))
            if not rows:
                print("No messages." if state is None else f"No {state.label.lower()} messages.")
            for row in rows:
                created = row.created_at.astimezone(zone)
                print(
                    f"{row.id:>7}  {created:%Y-%m-%d %H:%M}  {row.channel.value:<5}  "
                    f"{row.event.label:<20}  {row.recipient[:32]:<32}  {row.status_text(zone)}"
                )
            return 0
        channel = Channel(args.channel) if args.channel else None
        test = await workspace.run(queue.queue_test_message, to=args.to, channel=channel)
        worker = OutboxWorker(
            sessions,
            clock=clock,
            options=WorkerOptions(name=f"{default_name()}:test"),
        )
        try:
            await workspace.run_plain(worker.drain(only=test.id))
        finally:
            with contextlib.suppress(Exception):
                await worker.close(beat=False)  # a test is not a worker keeping watch
        (row,) = [r for r in await workspace.run(queue.list_messages, limit=20) if r.id == test.id]
        how = {Channel.SMS: "by text", Channel.EMAIL: "by email", Channel.LOG: "to the log"}
        if row.state == MessageState.SENT:
            print(f"Sent {how[test.channel]} to {test.recipient} ({row.provider_id}).")
            return 0
        raise ConfigurationError(
            f"The test message to {test.recipient} was not sent: "
            f"{row.last_error or row.state.label}"
        )
    finally:
        await workspace.aclose()
