"""The pure parts of the application core: the table registry, the change routes and
"latest request wins" — no database, no Qt, no app to boot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import pytest

from dispatch_app.db.change_feed import ChangeHint
from dispatch_app.domain.tables import (
    TABLES,
    DayEffect,
    RecordPart,
    TableEntry,
    TableRegistry,
    record_parts,
)
from dispatch_app.errors import DatabaseUnreachable, UserFacingError
from dispatch_app.services.change_routes import ChangeRoutes
from dispatch_app.ui.latest import LatestRequest

P = RecordPart


# -- the registry ----------------------------------------------------------------------
def test_the_registry_says_what_each_table_means() -> None:
    assert TABLES.where(day=DayEffect.WHOLE_DAY) == {
        "customers",
        "service_sites",
        "job_types",
        "job_type_skills",
        "app_settings",
    }
    assert TABLES.where(day=DayEffect.TECHNICIANS) == {
        "technicians",
        "technician_shifts",
        "technician_skills",
        "skills",
    }
    # What the trucks carry of what jobs need: read again without the day's rows.
    assert TABLES.where(day=DayEffect.STOCK) == {
        "parts",
        "job_type_parts",
        "stock_locations",
        "stock_levels",
    }
    # Every change is audited, except the tables that are a history themselves: status
    # steps, the stock ledger (and the levels it keeps), payments, customer messages,
    # follow-up tasks (who finished each and when is on the row).
    assert TABLES.where(audited=False) == {
        "outbox_messages",
        "follow_ups",
        "status_history",
        "stock_movements",
        "stock_levels",
        "payments",
    }
    assert record_parts("invoices") == {P.BILLING, P.AUDIT}
    assert record_parts("line_items") == {P.CHARGES, P.AUDIT}
    assert record_parts("status_history") == {P.HISTORY}  # written by the app, not audited
    assert record_parts("customers") == set()
    assert record_parts("equipment") == {P.HEADER}  # audited, but on no one work order
    assert TABLES.noun("visit_technicians") == "Technician"
    assert TABLES.noun("unknown_things") == "Unknown things"


def test_an_entry_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="not a table name"):
        TableEntry("line items; DROP TABLE x", "Bad")
    with pytest.raises(ValueError, match="parts of its record"):
        TableEntry("gadgets", "Gadget", part=RecordPart.NOTES)
    with pytest.raises(ValueError, match="twice"):
        TableRegistry((TableEntry("a", "A"), TableEntry("a", "A")))
    registry = TableRegistry(())
    with registry.added(TableEntry("gadgets", "Gadget")):
        assert "gadgets" in registry
    assert "gadgets" not in registry


# -- the routes ------------------------------------------------------------------------
def _hint(table: str, row: int, work_order: int | None) -> ChangeHint:
    return ChangeHint(table, row, "update", 2, work_order)


def test_a_change_reaches_only_the_views_of_its_work_order_with_the_parts_it_touched() -> None:
    routes = ChangeRoutes()
    heard: dict[int, list[frozenset[RecordPart]]] = {7: [], 8: []}
    for wo in heard:
        routes.watch_work_order(wo, lambda parts, _hints, wo=wo: heard[wo].append(parts))
    routes.publish([_hint("line_items", 1, 7), _hint("notes", 3, 7), _hint("photos", 4, 8)])
    assert heard == {
        7: [frozenset({P.CHARGES, P.NOTES, P.AUDIT})],  # one call for a burst
        8: [frozenset({P.PHOTOS, P.AUDIT})],
    }
    # A work order's own row names itself even when its hint carries no owner.
    routes.publish([ChangeHint("work_orders", 8, "update", 3)])
    assert heard[8][-1] == {P.HEADER, P.AUDIT}
    # Rows that belong to no work order but show in every editor (equipment's site).
    routes.publish([_hint("equipment", 9, None)])
    assert heard[7][-1] == heard[8][-1] == {P.HEADER}
    # Rows no editor shows reach none.
    before = {wo: len(calls) for wo, calls in heard.items()}
    routes.publish([_hint("customers", 1, None), _hint("technicians", 2, None)])
    assert {wo: len(calls) for wo, calls in heard.items()} == before


def test_unsubscribing_and_table_watchers() -> None:
    routes = ChangeRoutes()
    heard: list[object] = []
    stop = routes.watch_work_order(7, lambda parts, _hints: heard.append(parts))
    tables: list[list[ChangeHint]] = []
    routes.watch_tables({"technicians"}, tables.append)
    stop()
    stop()  # twice is harmless
    routes.publish([_hint("line_items", 1, 7), _hint("technicians", 2, None)])
    assert heard == [] and routes.watched_work_orders == frozenset()
    assert tables == [[_hint("technicians", 2, None)]]


def test_one_failing_view_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    routes = ChangeRoutes()

    def broken(_parts: object, _hints: object) -> None:
        raise RuntimeError("a window with a bug")

    heard: list[object] = []
    routes.watch_work_order(7, broken)
    routes.watch_work_order(7, lambda parts, _hints: heard.append(parts))
    with caplog.at_level(logging.ERROR):
        routes.publish([_hint("notes", 1, 7)])
    assert heard == [frozenset({P.NOTES, P.AUDIT})]
    assert "a view failed" in caplog.text


# -- latest request wins ---------------------------------------------------------------
class _Slow:
    """A fetch whose answers the test releases one at a time."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.pending: list[asyncio.Future[str]] = []

    async def __call__(self, key: str) -> str:
        self.asked.append(key)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return await future


def _latest(fetch: Any) -> tuple[LatestRequest[str, str], list[tuple[str, str]], list[str]]:
    shown: list[tuple[str, str]] = []
    failed: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    def spawn(work: Coroutine[Any, Any, None]) -> None:
        tasks.append(asyncio.ensure_future(work))

    latest: LatestRequest[str, str] = LatestRequest(
        fetch,
        show=lambda key, answer: shown.append((key, answer)),
        fail=lambda key, error: failed.append(f"{key}: {error}"),
        spawn=spawn,
    )
    return latest, shown, failed


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_typing_ahead_sends_one_request_at_a_time_and_shows_only_the_last_answer() -> None:
    async def scenario() -> None:
        fetch = _Slow()
        latest, shown, _failed = _latest(fetch)
        latest.ask("3")
        await _settle()
        for typed in ("31", "312", "3125"):  # typed while "3" is still out
            latest.ask(typed)
        await _settle()
        assert fetch.asked == ["3"]  # one at a time
        fetch.pending[0].set_result("answer to 3")
        await _settle()
        assert shown == []  # outdated: never shown
        assert fetch.asked == ["3", "3125"]  # the intermediate texts are skipped
        fetch.pending[1].set_result("answer to 3125")
        await _settle()
        assert shown == [("3125", "answer to 3125")]
        assert not latest.running and latest.requests == 2

    asyncio.run(scenario())


def test_a_forgotten_request_is_answered_to_nobody_and_a_failure_is_said_once() -> None:
    async def scenario() -> None:
        fetch = _Slow()
        latest, shown, failed = _latest(fetch)
        latest.ask("a customer")
        await _settle()
        latest.forget()  # the CSR cleared the caller
        fetch.pending[0].set_result("their history")
        await _settle()
        assert shown == [] and fetch.asked == ["a customer"]

        async def unreachable(_key: str) -> str:
            raise DatabaseUnreachable("The database did not answer.")

        latest2, shown2, failed2 = _latest(unreachable)
        latest2.ask("x")
        await _settle()
        assert failed2 == ["x: The database did not answer."] and shown2 == []
        assert failed == []

    asyncio.run(scenario())


def test_a_failure_of_an_outdated_request_is_not_shown() -> None:
    async def scenario() -> None:
        release: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        calls: list[str] = []

        async def fetch(key: str) -> str:
            calls.append(key)
            if key == "old":
                await release
                raise UserFacingError("old failed")
            return f"answer to {key}"

        latest, shown, failed = _latest(fetch)
        latest.ask("old")
        await _settle()
        latest.ask("new")  # while "old" is out
        release.set_result(None)
        await _settle()
        assert calls == ["old", "new"]
        assert failed == [] and shown == [("new", "answer to new")]

    asyncio.run(scenario())
