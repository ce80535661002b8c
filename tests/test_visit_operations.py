"""Moving visits in batches, the overlap rule and the visit status machine, against a real
server (and the machine's table on its own)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.config import libpq_url
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.domain.visit_status import (
    LABELS,
    MAX_REASON_CHARS,
    REASON_REQUIRED,
    next_statuses,
    transition_problem,
    way_back,
    work_order_status_after,
)
from dispatch_app.domain.vocabulary import VisitStatus
from dispatch_app.errors import ConflictError, PlacementRefused, ValidationError
from dispatch_app.services.visits import (
    VisitMove,
    move_visits,
    set_visit_status,
    unschedule_visits,
)
from tests.companies import DAY, TZ, clock_at, small_company

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
# The company's now for every move here: early on the test day.
CLOCK = clock_at(6)

STATUSES = [s.value for s in VisitStatus]

# The machine, written out by hand so the test does not read it back from the code.
ALLOWED = {
    # forward
    ("scheduled", "dispatched"),
    ("scheduled", "en_route"),
    ("scheduled", "on_site"),
    ("dispatched", "en_route"),
    ("dispatched", "on_site"),
    ("en_route", "on_site"),
    ("on_site", "completed"),
    # ending early
    ("unscheduled", "cancelled"),
    ("scheduled", "cancelled"),
    ("dispatched", "cancelled"),
    ("en_route", "cancelled"),
    ("on_site", "cancelled"),
    ("scheduled", "no_show"),
    ("dispatched", "no_show"),
    ("en_route", "no_show"),
    # step-backs
    ("dispatched", "scheduled"),
    ("en_route", "dispatched"),
    ("on_site", "en_route"),
    ("completed", "on_site"),
    ("cancelled", "scheduled"),
    ("no_show", "scheduled"),
}


# -- the machine on its own ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target"),
    list(itertools.product(STATUSES, STATUSES)),
    ids=lambda status: status,
)
def test_every_pair_of_statuses_follows_the_table(current: str, target: str) -> None:
    problem = transition_problem(current, target, "Customer called to cancel")
    if (current, target) in ALLOWED:
        assert problem is None
        assert target in next_statuses(current)
    else:
        assert problem is not None and re.fullmatch(r"[A-Z“].*[^.]\.", problem), problem
        assert target not in next_statuses(current)


def test_refusals_are_one_plain_sentence() -> None:
    assert transition_problem("completed", "en_route", None) == (
        "A completed visit cannot go en route."
    )
    assert transition_problem("scheduled", "cancelled", None) == "Cancelling needs a reason."
    assert transition_problem("en_route", "no_show", "  ") == "Marking a no-show needs a reason."
    assert transition_problem("on_site", "on_site", None) == "The visit is already on site."
    assert "customer was there" in (transition_problem("on_site", "no_show", "x") or "")
    assert transition_problem("parked", "scheduled", None) == "“parked” is not a visit status."
    # A reason is optional for the rest, but must still be storable if given.
    assert transition_problem("completed", "on_site", None) is None
    assert transition_problem("completed", "on_site", "bad\x00") is not None


def test_the_menu_lists_the_usual_step_first() -> None:
    assert next_statuses("scheduled") == [
        "dispatched",
        "en_route",
        "on_site",
        "no_show",
        "cancelled",
    ]
    assert next_statuses("dispatched")[:3] == ["en_route", "on_site", "scheduled"]
    assert next_statuses("on_site") == ["completed", "en_route", "cancelled"]
    assert next_statuses("completed") == ["on_site"]
    assert next_statuses("cancelled") == next_statuses("no_show") == ["scheduled"]
    assert all(next_statuses(s) for s in STATUSES)  # no status is a dead end
    assert set(LABELS) == set(STATUSES)
    assert (LABELS["en_route"], LABELS["on_site"], LABELS["no_show"]) == (
        "En route",
        "On site",
        "No-show",
    )
    assert set(REASON_REQUIRED) == {"cancelled", "no_show"}
    with pytest.raises(ValueError):
        next_statuses("parked")


@pytest.mark.parametrize(
    ("reason", "refused_because"),
    [
        (None, "needs a reason"),
        ("", "needs a reason"),
        (" \n\t ", "needs a reason"),
        ("No heat\x00", "NUL"),
        ("Gate code \x1b[31m", "control character"),
        ("bell\x07", "control character"),
        ("x" * (MAX_REASON_CHARS + 1), "limit is 500"),
        ("Customer away,\nleft a note\ton the door", None),
        ("  " + "x" * MAX_REASON_CHARS + "  \n", None),  # blanks around do not count
        ("Sold the house\r\nno longer needed", None),
    ],
)
def test_reasons_are_checked(reason: str | None, refused_because: str | None) -> None:
    problem = transition_problem("scheduled", "cancelled", reason)
    if refused_because is None:
        assert problem is None
    else:
        assert problem is not None and refused_because in problem, problem


@pytest.mark.parametrize(
    ("changed_to", "visits", "order_status"),
    [
        ("dispatched", ["dispatched", "scheduled"], "dispatched"),
        ("on_site", ["on_site"], "on_site"),
        ("completed", ["completed"], "completed"),
        ("completed", ["completed", "cancelled", "no_show"], "completed"),
        ("completed", ["completed", "scheduled"], "scheduled"),
        ("completed", ["completed", "unscheduled"], "new"),
        ("cancelled", ["cancelled", "no_show"], "cancelled"),
        ("no_show", ["no_show"], "no_show"),
        ("cancelled", ["cancelled", "completed"], "completed"),
        ("cancelled", ["cancelled", "dispatched"], "dispatched"),
        ("scheduled", ["scheduled"], "scheduled"),
        ("unscheduled", ["unscheduled"], "new"),
    ],
)
def test_the_work_order_follows_its_visits(
    changed_to: str, visits: list[str], order_status: str
) -> None:
    assert work_order_status_after(changed_to, visits) == order_status


# -- against the database -----------------------------------------------------------------
def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


@dataclass(frozen=True)
class Company:
    url: str
    ava: int
    marcus: int
    noor: int
    first: int  # Ava 08:00–09:30
    crewed: int  # Ava (lead) and Marcus 10:00–12:00
    urgent: int  # Marcus 13:00–14:00
    waiting: int  # no time, no crew


@pytest.fixture
def company(db_url: str) -> Company:
    techs = small_company(db_url)
    with psycopg.connect(libpq_url(db_url)) as db:
        booked = [
            r[0]
            for r in db.execute("SELECT id FROM visits WHERE starts IS NOT NULL ORDER BY starts")
        ]
        (waiting,) = one(db, "SELECT id FROM visits WHERE starts IS NULL")
    first, crewed, urgent = booked
    return Company(
        db_url,
        techs["Ava Kowalski"],
        techs["Marcus Lee"],
        techs["Noor Haddad"],
        first,
        crewed,
        urgent,
        waiting,
    )


def one(db: psycopg.Connection[Any], statement: str, params: tuple[Any, ...] = ()) -> Any:
    """The single row a query must return."""
    row = db.execute(statement, params).fetchone()
    assert row is not None, statement
    return row


def run(url: str, operation: Callable[[Sessions], Awaitable[T]], editor: str = "dispatcher2") -> T:
    """Run one service call on its own engine, as a workstation would."""

    async def scenario() -> T:
        engine = make_async_engine(url, editor=editor)
        try:
            return await operation(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def database(url: str) -> dict[str, Any]:
    """Everything these operations may write, to compare before and after."""
    with psycopg.connect(libpq_url(url)) as db:
        return {
            "visits": db.execute(
                "SELECT v.id, v.starts, v.ends, v.status, v.version, "
                "array(SELECT technician_id FROM visit_technicians t WHERE t.visit_id = v.id "
                "      ORDER BY t.is_lead DESC, t.id) "
                "FROM visits v ORDER BY v.id"
            ).fetchall(),
            "orders": db.execute(
                "SELECT id, status, cancel_reason, version FROM work_orders ORDER BY id"
            ).fetchall(),
            "history": one(db, "SELECT count(*) FROM status_history")[0],
        }


def visit(url: str, visit_id: int) -> tuple[dt.datetime, dt.datetime, str, int, list[int]]:
    row = next(r for r in database(url)["visits"] if r[0] == visit_id)
    return row[1], row[2], row[3], row[4], row[5]


def version(url: str, visit_id: int) -> int:
    return visit(url, visit_id)[3]


def order_of(url: str, visit_id: int) -> tuple[str, str | None]:
    with psycopg.connect(libpq_url(url)) as db:
        return one(
            db,
            "SELECT o.status, o.cancel_reason FROM work_orders o "
            "JOIN visits v ON v.work_order_id = o.id WHERE v.id = %s",
            (visit_id,),
        )


def number_of(url: str, visit_id: int) -> str:
    with psycopg.connect(libpq_url(url)) as db:
        return one(
            db,
            "SELECT o.number FROM work_orders o JOIN visits v ON v.work_order_id = o.id "
            "WHERE v.id = %s",
            (visit_id,),
        )[0]


def sql(url: str, statement: str, params: tuple[Any, ...] = ()) -> None:
    """Another workstation's change, committed at once."""
    with psycopg.connect(libpq_url(url)) as db:
        db.execute(statement, params)


def moves(c: Company, *wanted: tuple[int, dt.datetime, dt.datetime, tuple[int, ...] | None]):
    return [
        VisitMove(visit_id=v, seen_version=version(c.url, v), starts=s, ends=e, technician_ids=t)
        for v, s, e, t in wanted
    ]


def test_a_batch_with_one_stale_visit_moves_nothing(company: Company) -> None:
    c = company
    batch = moves(c, (c.first, at(15), at(16), None), (c.urgent, at(15), at(16), None))
    sql(c.url, "UPDATE visits SET ends = ends + interval '5 minutes' WHERE id = %s", (c.urgent,))
    before = database(c.url)

    with pytest.raises(ConflictError) as refused:
        run(c.url, lambda s: move_visits(s, clock=CLOCK, moves=batch))

    assert re.fullmatch(
        rf"{number_of(c.url, c.urgent)} was changed by postgres at \d\d:\d\d — "
        r"your move was not applied\.",
        str(refused.value),
    ), str(refused.value)
    assert database(c.url) == before  # the first visit's move was rolled back too


def test_a_batch_can_change_crews_and_swap_places(company: Company) -> None:
    c = company
    # Each alone would land on the other's old time for Ava; as one batch it is a swap.
    batch = moves(
        c,
        (c.first, at(10, 30), at(12), None),
        (c.crewed, at(8), at(10), (c.marcus, c.ava)),
        (c.urgent, at(13), at(14), (c.noor,)),
    )
    versions = run(c.url, lambda s: move_visits(s, clock=CLOCK, moves=batch))

    assert list(versions) == [c.first, c.crewed, c.urgent]
    assert versions == {m.visit_id: m.seen_version + 1 for m in batch}
    assert visit(c.url, c.first) == (at(10, 30), at(12), "scheduled", versions[c.first], [c.ava])
    assert visit(c.url, c.crewed)[0::4] == (at(8), [c.marcus, c.ava])  # Marcus leads now
    assert visit(c.url, c.urgent)[4] == [c.noor]


def test_visits_in_one_batch_may_not_overlap_each_other(company: Company) -> None:
    c = company
    before = database(c.url)
    batch = moves(
        c, (c.first, at(15), at(16), (c.noor,)), (c.urgent, at(15, 30), at(17), (c.noor,))
    )
    with pytest.raises(PlacementRefused) as refused:
        run(c.url, lambda s: move_visits(s, clock=CLOCK, moves=batch))
    assert str(refused.value) == (
        f"{number_of(c.url, c.first)} would overlap {number_of(c.url, c.urgent)} "
        "(15:30–17:00) for Noor Haddad — nothing was moved."
    )
    assert database(c.url) == before


def test_an_overlap_is_refused_by_the_server_and_nothing_is_written(company: Company) -> None:
    c = company
    before = database(c.url)
    # Marcus's 13:00 job given to Ava at 09:00, on top of her 08:00–09:30 visit.
    batch = moves(c, (c.urgent, at(9), at(10), (c.ava,)))
    with pytest.raises(PlacementRefused) as refused:
        run(c.url, lambda s: move_visits(s, clock=CLOCK, moves=batch))
    assert str(refused.value) == (
        f"{number_of(c.url, c.urgent)} would overlap {number_of(c.url, c.first)} "
        "(08:00–09:30) for Ava Kowalski — nothing was moved."
    )
    assert (refused.value.visit_id, refused.value.other_visit_id, refused.value.technician_id) == (
        c.urgent,
        c.first,
        c.ava,
    )
    assert database(c.url) == before  # the crew change was rolled back with the move

    # Keeping the crew: the crewed visit moved onto Marcus's 13:00 job clashes for him.
    batch = moves(c, (c.crewed, at(12), at(13, 30), None))
    with pytest.raises(PlacementRefused, match="for Marcus Lee — nothing was moved"):
        run(c.url, lambda s: move_visits(s, clock=CLOCK, moves=batch))
    assert database(c.url) == before


def test_touching_visits_and_cancelled_ones_do_not_block(company: Company) -> None:
    c = company
    # 09:30–10:00 between Ava's two visits: end == start on both sides is allowed.
    run(
        c.url,
        lambda s: move_visits(
            s, clock=CLOCK, moves=moves(c, (c.urgent, at(9, 30), at(10), (c.ava,)))
        ),
    )
    assert visit(c.url, c.urgent)[0:2] == (at(9, 30), at(10))

    sql(c.url, "UPDATE visits SET status = 'cancelled' WHERE id = %s", (c.first,))
    run(
        c.url,
        lambda s: move_visits(s, clock=CLOCK, moves=moves(c, (c.waiting, at(8), at(9), (c.ava,)))),
    )
    assert visit(c.url, c.waiting) == (at(8), at(9), "scheduled", 2, [c.ava])

    # A completed visit still held the technician's time.
    sql(c.url, "UPDATE visits SET status = 'completed' WHERE id = %s", (c.crewed,))
    with pytest.raises(PlacementRefused):
        run(
            c.url,
            lambda s: move_visits(
                s, clock=CLOCK, moves=moves(c, (c.waiting, at(11), at(12), None))
            ),
        )


def test_two_dispatchers_dropping_into_one_slot_at_once_one_wins(company: Company) -> None:
    c = company
    rounds = 12

    async def scenario() -> list[list[int | PlacementRefused]]:
        alice = make_async_engine(c.url, editor="alice")
        bob = make_async_engine(c.url, editor="bob")
        outcomes: list[list[int | PlacementRefused]] = []
        try:
            for n in range(rounds):
                # A fresh slot for Noor each round, so earlier winners do not take part.
                slot = at(15) + dt.timedelta(hours=2 * n)

                async def drop(engine: Any, move: VisitMove) -> int | PlacementRefused:
                    try:
                        done = await move_visits(session_factory(engine), moves=[move], clock=CLOCK)
                    except PlacementRefused as refused:
                        return refused
                    return done[move.visit_id]

                # Overlapping spans for Noor, from two workstations at the same moment.
                first, urgent = moves(
                    c,
                    (c.first, slot, slot + dt.timedelta(hours=1), (c.noor,)),
                    (
                        c.urgent,
                        slot + dt.timedelta(minutes=30),
                        slot + dt.timedelta(hours=2),
                        (c.noor,),
                    ),
                )
                outcomes.append(list(await asyncio.gather(drop(alice, first), drop(bob, urgent))))
        finally:
            await alice.dispose()
            await bob.dispose()
        return outcomes

    outcomes = asyncio.run(scenario())
    for outcome in outcomes:
        assert sorted(type(o).__name__ for o in outcome) == ["PlacementRefused", "int"], outcome
    with psycopg.connect(libpq_url(c.url)) as db:
        spans = db.execute(
            "SELECT v.starts, v.ends FROM visits v JOIN visit_technicians t ON t.visit_id = v.id "
            "WHERE t.technician_id = %s ORDER BY v.starts",
            (c.noor,),
        ).fetchall()
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans


def test_unscheduling_puts_visits_back_in_the_queue_all_or_nothing(company: Company) -> None:
    c = company
    before = database(c.url)
    run(
        c.url,
        lambda s: move_visits(
            s, clock=CLOCK, moves=moves(c, (c.waiting, at(15), at(16), (c.noor,)))
        ),
    )
    seen = {c.waiting: version(c.url, c.waiting), c.urgent: version(c.url, c.urgent)}

    stale = {**seen, c.urgent: seen[c.urgent] - 1}
    held = database(c.url)
    with pytest.raises(ConflictError, match="your unscheduling was not applied"):
        run(c.url, lambda s: unschedule_visits(s, seen=stale))
    assert database(c.url) == held

    versions = run(c.url, lambda s: unschedule_visits(s, seen=seen))
    assert versions == {c.waiting: seen[c.waiting] + 1, c.urgent: seen[c.urgent] + 1}
    assert visit(c.url, c.waiting) == (None, None, "unscheduled", versions[c.waiting], [])
    assert visit(c.url, c.urgent) == (None, None, "unscheduled", versions[c.urgent], [])
    # The waiting job is back exactly as it was, but for its version.
    was = next(v for v in before["visits"] if v[0] == c.waiting)
    assert visit(c.url, c.waiting)[:3] + visit(c.url, c.waiting)[4:] == was[1:4] + was[5:]


def step(c: Company, visit_id: int, status: str, reason: str | None = None) -> int:
    seen = version(c.url, visit_id)
    return run(
        c.url,
        lambda s: set_visit_status(
            s, visit_id=visit_id, seen_version=seen, status=status, reason=reason
        ),
    )


def history(url: str, visit_id: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(url)) as db:
        return db.execute(
            "SELECT from_status, to_status, reason, changed_by, work_order_id IS NOT NULL "
            "FROM status_history WHERE visit_id = %s ORDER BY id",
            (visit_id,),
        ).fetchall()


def test_status_steps_write_history_and_carry_the_work_order(company: Company) -> None:
    c = company
    seen = version(c.url, c.first)
    expected_orders = {
        "dispatched": "dispatched",
        "en_route": "en_route",
        "on_site": "on_site",
        "completed": "completed",
    }
    for status, order_status in expected_orders.items():
        new_version = step(c, c.first, status)
        seen += 1
        assert new_version == seen
        assert visit(c.url, c.first)[2:4] == (status, new_version)
        assert order_of(c.url, c.first) == (order_status, None)
    # Reopened: the work order is back on site with its visit.
    step(c, c.first, "on_site", "Customer says it blows cold again")
    assert order_of(c.url, c.first) == ("on_site", None)
    # Stepping back to before the truck left.
    step(c, c.first, "en_route")
    step(c, c.first, "dispatched")
    step(c, c.first, "scheduled")
    assert order_of(c.url, c.first) == ("scheduled", None)

    assert history(c.url, c.first) == [
        ("scheduled", "dispatched", None, "dispatcher2", True),
        ("dispatched", "en_route", None, "dispatcher2", True),
        ("en_route", "on_site", None, "dispatcher2", True),
        ("on_site", "completed", None, "dispatcher2", True),
        ("completed", "on_site", "Customer says it blows cold again", "dispatcher2", True),
        ("on_site", "en_route", None, "dispatcher2", True),
        ("en_route", "dispatched", None, "dispatcher2", True),
        ("dispatched", "scheduled", None, "dispatcher2", True),
    ]


def test_cancel_with_a_reason_and_restore(company: Company) -> None:
    c = company
    step(c, c.urgent, "cancelled", "  Customer sold the house\r\n")
    assert visit(c.url, c.urgent)[2] == "cancelled"
    assert order_of(c.url, c.urgent) == ("cancelled", "Customer sold the house")

    step(c, c.urgent, "scheduled")
    assert visit(c.url, c.urgent)[2] == "scheduled"
    assert order_of(c.url, c.urgent) == ("scheduled", None)

    step(c, c.urgent, "no_show", "Nobody home, gate locked")
    assert order_of(c.url, c.urgent) == ("no_show", "Nobody home, gate locked")
    step(c, c.urgent, "scheduled")
    assert order_of(c.url, c.urgent) == ("scheduled", None)
    assert [row[:3] for row in history(c.url, c.urgent)] == [
        ("scheduled", "cancelled", "Customer sold the house"),
        ("cancelled", "scheduled", None),
        ("scheduled", "no_show", "Nobody home, gate locked"),
        ("no_show", "scheduled", None),
    ]

    # A waiting visit cancelled and restored comes back without a time: unscheduled.
    step(c, c.waiting, "cancelled", "Duplicate of a web booking")
    assert order_of(c.url, c.waiting) == ("cancelled", "Duplicate of a web booking")
    step(c, c.waiting, "scheduled")
    assert visit(c.url, c.waiting)[2] == "unscheduled"
    assert order_of(c.url, c.waiting) == ("new", None)


def test_a_work_order_with_two_visits_ends_when_both_have(company: Company) -> None:
    c = company
    sql(
        c.url,
        "INSERT INTO visits (work_order_id, sequence, starts, ends, status) "
        "SELECT work_order_id, 2, starts + interval '1 day', ends + interval '1 day', "
        "'scheduled' FROM visits WHERE id = %s",
        (c.crewed,),
    )
    with psycopg.connect(libpq_url(c.url)) as db:
        (second,) = one(db, "SELECT max(id) FROM visits")

    # One visit called off while the other is still ahead: the work order goes on.
    step(c, second, "cancelled", "Roof replaced by another contractor")
    assert order_of(c.url, c.crewed) == ("scheduled", None)
    step(c, c.crewed, "on_site")
    assert order_of(c.url, c.crewed) == ("on_site", None)
    # The last open visit done: one was completed, so the work order is.
    step(c, c.crewed, "completed")
    assert order_of(c.url, c.crewed) == ("completed", None)

    step(c, second, "scheduled")  # restored: there is work ahead again
    assert order_of(c.url, c.crewed) == ("scheduled", None)
    step(c, second, "no_show", "Nobody home")
    assert order_of(c.url, c.crewed) == ("completed", None)


@pytest.mark.parametrize(
    ("status", "reason", "field", "words"),
    [
        ("cancelled", None, "reason", "Cancelling needs a reason."),
        ("cancelled", "   ", "reason", "Cancelling needs a reason."),
        ("no_show", "", "reason", "Marking a no-show needs a reason."),
        ("cancelled", "No heat\x00", "reason", "NUL"),
        ("cancelled", "y" * 501, "reason", "limit is 500"),
        ("completed", None, "status", "A scheduled visit cannot be completed."),
        ("parked", None, "status", "is not a visit status"),
    ],
)
def test_a_refused_status_change_writes_nothing(
    company: Company, status: str, reason: str | None, field: str, words: str
) -> None:
    c = company
    before = database(c.url)
    with pytest.raises(ValidationError) as refused:
        step(c, c.first, status, reason)
    assert list(refused.value.fields) == [field]
    assert words in refused.value.fields[field]
    assert database(c.url) == before


def test_a_stale_status_change_is_a_conflict(company: Company) -> None:
    c = company
    seen = version(c.url, c.first)
    step(c, c.first, "dispatched")
    before = database(c.url)
    with pytest.raises(ConflictError) as refused:
        run(
            c.url,
            lambda s: set_visit_status(
                s, visit_id=c.first, seen_version=seen, status="cancelled", reason="Rain"
            ),
            editor="someone_else",
        )
    assert re.fullmatch(
        rf"{number_of(c.url, c.first)} was changed by dispatcher2 at \d\d:\d\d — "
        r"your status change was not applied\.",
        str(refused.value),
    )
    assert refused.value.current is not None and refused.value.current["status"] == "dispatched"
    assert database(c.url) == before


def test_restoring_into_a_slot_given_away_is_refused(company: Company) -> None:
    c = company
    step(c, c.first, "cancelled", "Customer rescheduled by phone")
    run(
        c.url,
        lambda s: move_visits(s, clock=CLOCK, moves=moves(c, (c.urgent, at(8), at(9), (c.ava,)))),
    )
    before = database(c.url)
    with pytest.raises(PlacementRefused) as refused:
        step(c, c.first, "scheduled")
    assert str(refused.value) == (
        f"{number_of(c.url, c.first)} would overlap {number_of(c.url, c.urgent)} "
        "(08:00–09:00) for Ava Kowalski — the visit was not restored."
    )
    assert database(c.url) == before


def test_an_invoiced_work_orders_visits_stay_as_they_are(company: Company) -> None:
    c = company
    step(c, c.first, "on_site")
    step(c, c.first, "completed")
    sql(
        c.url,
        "UPDATE work_orders SET status = 'invoiced' WHERE id = "
        "(SELECT work_order_id FROM visits WHERE id = %s)",
        (c.first,),
    )
    before = database(c.url)
    with pytest.raises(ValidationError) as refused:
        step(c, c.first, "on_site")
    number = number_of(c.url, c.first)
    assert refused.value.fields == {
        "status": f"{number} is already invoiced; its visits can no longer change."
    }
    assert database(c.url) == before


@pytest.mark.parametrize(
    ("current", "target", "steps"),
    [
        ("scheduled", "scheduled", []),
        ("dispatched", "scheduled", ["scheduled"]),
        ("on_site", "scheduled", ["en_route", "dispatched", "scheduled"]),
        ("cancelled", "dispatched", ["scheduled", "dispatched"]),
        ("completed", "on_site", ["on_site"]),
        ("scheduled", "cancelled", None),  # going there needs a reason: not an undo
        ("unscheduled", "completed", None),
    ],
)
def test_way_back_finds_the_shortest_run_of_allowed_steps(current, target, steps):
    assert way_back(current, target) == steps
    for before, after in zip([current, *(steps or [])], steps or [], strict=False):
        assert transition_problem(before, after, None) is None
