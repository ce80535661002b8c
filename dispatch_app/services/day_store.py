"""The client store: the in-memory day that the open views show.

It changes only by reading the database — after a change hint from the feed, or in a
resync after the feed reconnects — so a workstation's own edits and everybody else's
take the same road. Each refresh becomes one ``StoreChange`` listing exactly the rows
that were added, changed or removed, which item models turn into row-level updates.

Threading contract: coroutines for the app's event loop; listeners are called on that
loop and must not block. No Qt here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from dispatch_app.db.change_feed import ChangeHint, HintTrace
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.tables import TABLES, DayEffect
from dispatch_app.domain.time_bounds import day_problem
from dispatch_app.domain.truck_stock import TruckStock
from dispatch_app.errors import ValidationError
from dispatch_app.services.day_board import (
    BoardSettings,
    DaySnapshot,
    DayWindow,
    TechnicianRow,
    UnassignedJob,
    VisitBlock,
    board_settings,
    day_window,
    fetch_technicians,
    fetch_visit_rows,
    unassigned_order,
    visit_ids_of_crew_links,
    visit_ids_of_work_orders,
)
from dispatch_app.services.truck_stock import fetch_truck_stock, truck_levels

log = logging.getLogger(__name__)

# From the table registry. Names shown on every block: a change there is rare, and
# re-reading the day is simplest.
TECHNICIAN_TABLES = TABLES.where(day=DayEffect.TECHNICIANS)
WHOLE_DAY_TABLES = TABLES.where(day=DayEffect.WHOLE_DAY)
# What the trucks carry: stock levels are read again by id (every material on a work order
# moves one), the rest (parts, job types' parts, trucks) all at once.
STOCK_TABLES = TABLES.where(day=DayEffect.STOCK)
STOCK_LEVELS = "stock_levels"
# A re-read of the day for other reasons (a customer renamed) leaves the trucks' stock as
# held: it is the same whatever the day. Settings are read again for ``stock_tracking``.
TRUCK_TABLES = STOCK_TABLES | {"app_settings"}


@dataclass(frozen=True, slots=True)
class StoreChange:
    """What one refresh changed; empty tuples mean nothing of that kind."""

    visits_upserted: tuple[VisitBlock, ...] = ()
    visits_removed: tuple[VisitBlock, ...] = ()
    unassigned_upserted: tuple[UnassignedJob, ...] = ()
    unassigned_removed: tuple[UnassignedJob, ...] = ()
    technicians: tuple[TechnicianRow, ...] | None = None  # the new list, when it changed
    day_changed: bool = False  # a different day (or time zone): views start over
    settings: BoardSettings | None = None  # the company's board settings, when they changed
    truck_stock: TruckStock | None = None  # what the trucks carry, when it changed

    def __bool__(self) -> bool:
        return bool(
            self.visits_upserted
            or self.visits_removed
            or self.unassigned_upserted
            or self.unassigned_removed
            or self.technicians is not None
            or self.day_changed
            or self.settings is not None
            or self.truck_stock is not None
        )


@dataclass
class _State:
    window: DayWindow | None = None
    settings: BoardSettings = field(default_factory=BoardSettings)
    technicians: tuple[TechnicianRow, ...] = ()
    visits: dict[int, VisitBlock] = field(default_factory=dict)
    unassigned: dict[int, UnassignedJob] = field(default_factory=dict)
    crew_links: dict[int, int] = field(default_factory=dict)  # visit_technicians id → visit
    truck_stock: TruckStock = field(default_factory=TruckStock)


class DayStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        day: dt.date | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        trace: HintTrace | None = None,
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        # Latency tracing (see change_feed.HintTrace): "reading" when a refresh for the
        # hints starts, "fetched" when its rows are back, "applied" once merged and told.
        self._trace = trace
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._reading: AsyncConnection | None = None
        self._wanted_day = day
        self._wanted_days = 1
        self._state = _State()
        self._lock = asyncio.Lock()  # one refresh at a time, applied in order
        self._listeners: list[Callable[[StoreChange], None]] = []
        self._queued: list[ChangeHint] = []  # hints waiting for the lock
        self._stale = False  # a read failed after taking its hints: read the whole day next
        self.refreshes = 0

    # -- reading ------------------------------------------------------------------------
    @property
    def window(self) -> DayWindow | None:
        return self._state.window

    @property
    def settings(self) -> BoardSettings:
        return self._state.settings

    @property
    def technicians(self) -> tuple[TechnicianRow, ...]:
        return self._state.technicians

    @property
    def truck_stock(self) -> TruckStock:
        return self._state.truck_stock

    def visit(self, visit_id: int) -> VisitBlock | None:
        return self._state.visits.get(visit_id)

    def visits(self) -> list[VisitBlock]:
        return sorted(self._state.visits.values(), key=lambda v: (v.starts, v.id))

    def unassigned(self) -> list[UnassignedJob]:
        return sorted(self._state.unassigned.values(), key=unassigned_order)

    def version_of(self, visit_id: int) -> int | None:
        held = self._state.visits.get(visit_id) or self._state.unassigned.get(visit_id)
        return held.version if held is not None else None

    def snapshot(self) -> DaySnapshot:
        window = self._state.window
        assert window is not None, "the store has not loaded a day yet"
        return DaySnapshot(
            day=window.day,
            timezone=window.timezone,
            technicians=self._state.technicians,
            visits=tuple(self.visits()),
            unassigned=tuple(self.unassigned()),
            truck_stock=self._state.truck_stock,
        )

    def subscribe(self, listener: Callable[[StoreChange], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- refreshing ---------------------------------------------------------------------
    async def show(self, day: dt.date | None, days: int = 1) -> StoreChange:
        """Hold ``days`` business days from ``day`` (None: today) from now on."""
        if days < 1 or days > 31:
            raise ValueError("the board shows between 1 and 31 days")
        problem = day_problem(day) if day is not None else None
        if problem:  # refused before it is wanted: the day shown stays as it is
            raise ValidationError({"day": problem})
        self._wanted_day, self._wanted_days = day, days
        return await self.resync()

    async def resync(self) -> StoreChange:
        """Read the whole day again and report only what differs from what is held."""
        async with self._lock:
            self._queued.clear()  # a whole read covers every hint waiting
            return await self._read_whole_day()

    async def apply_hints(self, hints: Iterable[ChangeHint]) -> StoreChange:
        """Re-read just the rows the hints name (or the whole day when names changed).

        Hints that arrive while a read is running wait for it, and the next read takes
        all of them at once: under a burst, a workstation reads once per batch rather
        than once per change.
        """
        self._queued.extend(hints)
        async with self._lock:
            hints, self._queued = self._queued, []
            if not hints:
                return StoreChange()
            self._traced("reading", hints)
            try:
                change = await self._read_hinted(hints)
            except Exception:
                # The hints are spent: whatever they named must be read again later.
                self._stale = True
                raise
            self._traced("applied", hints)
            return change

    def _traced(self, stage: str, hints: Sequence[ChangeHint]) -> None:
        if self._trace is not None:
            self._trace(stage, hints, time.perf_counter_ns())

    async def _read_hinted(self, hints: list[ChangeHint]) -> StoreChange:
        if self._stale:
            return await self._read_whole_day(hints)
        visit_ids: set[int] = set()
        work_orders: set[int] = set()
        links: set[int] = set()
        levels: set[int] = set()
        technicians_dirty = stock_dirty = False
        for hint in hints:
            if hint.table in WHOLE_DAY_TABLES:
                stock_too = any(other.table in TRUCK_TABLES for other in hints)
                return await self._read_whole_day(hints, trucks=stock_too)
            if hint.table == "visits":
                held = self.version_of(hint.id)
                if (
                    hint.op != "delete"
                    and held is not None
                    and hint.version is not None
                    and hint.version <= held
                ):
                    continue  # already holding this version or a newer one
                visit_ids.add(hint.id)
            elif hint.table == "visit_technicians":
                if hint.id in self._state.crew_links:
                    visit_ids.add(self._state.crew_links[hint.id])
                if hint.op != "delete":
                    links.add(hint.id)
            elif hint.table == "work_orders":
                work_orders.add(hint.id)
            elif hint.table in TECHNICIAN_TABLES:
                technicians_dirty = True
            elif hint.table in STOCK_TABLES:
                if hint.table == STOCK_LEVELS and hint.op != "delete":
                    levels.add(hint.id)
                else:  # a removed level names no truck or part any more: read them all
                    stock_dirty = True
        if not (visit_ids or work_orders or links or technicians_dirty or levels or stock_dirty):
            return StoreChange()
        if self._state.window is None:
            return await self._read_whole_day(hints)
        if technicians_dirty:
            return await self._read_whole_day(hints, trucks=stock_dirty or bool(levels))
        window = self._state.window
        connection = await self._reader()
        held_stock = self._state.truck_stock
        truck_stock = None
        try:
            if work_orders:
                visit_ids |= await visit_ids_of_work_orders(connection, work_orders)
            if links:
                visit_ids |= await visit_ids_of_crew_links(connection, links)
            rows = await fetch_visit_rows(connection, window, visit_ids) if visit_ids else None
            if stock_dirty:
                truck_stock = await fetch_truck_stock(connection)
            elif levels and held_stock.kept:
                truck_stock = held_stock.with_levels(await truck_levels(connection, levels))
        except Exception:
            await self.close()  # a broken connection is not reused
            raise
        self._traced("fetched", hints)
        technicians = self._state.technicians
        return self._apply(
            window,
            technicians,
            rows.on_board if rows else (),
            rows.waiting if rows else (),
            visit_scope=visit_ids,
            truck_stock=truck_stock,
        )

    async def _reader(self) -> AsyncConnection:
        """The pooled connection this store keeps for its reads after change hints.

        Held between reads, in autocommit: checking a connection out of the pool and back
        for every hint would cost more than the read itself, which every workstation
        runs for every change anyone makes.
        """
        if self._reading is None:
            connection = await self._engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            # The by-id read has one good plan; without this the server plans it anew
            # for every execution, which costs more than running it.
            await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            self._reading = connection
        return self._reading

    async def close(self) -> None:
        """Give the held connection back (before the engine is disposed of, or after the
        server went away)."""
        connection, self._reading = self._reading, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it may have died with the server
                await connection.exec_driver_sql("RESET plan_cache_mode")
                await connection.close()

    async def _read_whole_day(
        self, hints: Sequence[ChangeHint] = (), *, trucks: bool = True
    ) -> StoreChange:
        """The day, its technicians and settings, and (unless ``trucks`` is false) what
        the trucks carry."""
        async with self._sessions() as session:
            window = await day_window(
                session, self._wanted_day, self._wanted_days, clock=self.clock
            )
            settings = await board_settings(session)
            technicians = await fetch_technicians(session, window)
            connection = await session.connection()
            rows = await fetch_visit_rows(connection, window)
            truck_stock = await fetch_truck_stock(connection) if trucks else None
        self._stale = False
        if hints:
            self._traced("fetched", hints)
        return self._apply(
            window,
            technicians,
            rows.on_board,
            rows.waiting,
            visit_scope=None,
            settings=settings,
            truck_stock=truck_stock,
        )

    def _apply(
        self,
        window: DayWindow,
        technicians: tuple[TechnicianRow, ...],
        visits: Iterable[VisitBlock],
        unassigned: Iterable[UnassignedJob],
        visit_scope: set[int] | None,
        settings: BoardSettings | None = None,
        truck_stock: TruckStock | None = None,
    ) -> StoreChange:
        """Merge fresh rows for ``visit_scope`` (None: everything) and notify listeners."""
        state = self._state
        day_changed = state.window != window
        if day_changed:
            state.visits, state.unassigned, state.crew_links = {}, {}, {}
            state.window = window

        fresh_visits = {v.id: v for v in visits}
        fresh_waiting = {j.visit_id: j for j in unassigned}
        scope = (
            (set(state.visits) | set(state.unassigned) | set(fresh_visits) | set(fresh_waiting))
            if visit_scope is None
            else visit_scope
        )

        upserted, removed = [], []
        for visit_id in sorted(scope):
            old, new = state.visits.get(visit_id), fresh_visits.get(visit_id)
            if new is None and old is not None:
                removed.append(state.visits.pop(visit_id))
            elif new is not None and new != old:
                state.visits[visit_id] = new
                upserted.append(new)
            if old is not None:
                for link in old.crew_links:
                    state.crew_links.pop(link, None)
            if new is not None:
                for link in new.crew_links:
                    state.crew_links[link] = visit_id

        waiting_upserted, waiting_removed = [], []
        for visit_id in sorted(scope):
            old_job, new_job = state.unassigned.get(visit_id), fresh_waiting.get(visit_id)
            if new_job is None and old_job is not None:
                waiting_removed.append(state.unassigned.pop(visit_id))
            elif new_job is not None and new_job != old_job:
                state.unassigned[visit_id] = new_job
                waiting_upserted.append(new_job)

        technicians_changed = technicians != state.technicians
        state.technicians = technicians
        settings_changed = settings is not None and settings != state.settings
        if settings is not None:
            state.settings = settings
        stock_changed = truck_stock is not None and truck_stock != state.truck_stock
        if truck_stock is not None:
            state.truck_stock = truck_stock
        change = StoreChange(
            visits_upserted=tuple(upserted),
            visits_removed=tuple(removed),
            unassigned_upserted=tuple(waiting_upserted),
            unassigned_removed=tuple(waiting_removed),
            technicians=technicians if technicians_changed or day_changed else None,
            day_changed=day_changed,
            settings=state.settings if settings_changed or day_changed else None,
            truck_stock=state.truck_stock if stock_changed or day_changed else None,
        )
        self.refreshes += 1
        if change:
            for listener in list(self._listeners):
                listener(change)
        return change
