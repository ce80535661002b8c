"""Change hints to the views that show their rows, by the table registry.

A view subscribes by kind and id — "work order 42", or "these tables" — and hears only
what concerns it: a line item of work order 42 reaches the views of work order 42 with
the parts of its record that changed (charges, and the audit its change wrote), never
the views of other work orders. Hints from the feed and from this workstation's own
writes take the same road (``publish``).

Threading contract: called on the app's event loop; callbacks must not block. No Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dispatch_app.db.change_feed import ChangeHint
from dispatch_app.domain.tables import TABLES, Owner, RecordPart, TableRegistry, record_parts

log = logging.getLogger(__name__)

# What a work-order view is told: the parts of its record to read again, and the hints.
RecordListener = Callable[[frozenset[RecordPart], list[ChangeHint]], None]
HintListener = Callable[[list[ChangeHint]], None]
Unsubscribe = Callable[[], None]


@dataclass
class _Subscribers:
    by_work_order: dict[int, list[RecordListener]] = field(default_factory=dict)
    by_table: list[tuple[frozenset[str], HintListener]] = field(default_factory=list)


class ChangeRoutes:
    def __init__(self, registry: TableRegistry = TABLES) -> None:
        self._registry = registry
        self._subscribers = _Subscribers()

    # -- subscribing ----------------------------------------------------------------------
    def watch_work_order(self, work_order_id: int, listener: RecordListener) -> Unsubscribe:
        """``listener(parts, hints)`` whenever something of this work order changes."""
        listeners = self._subscribers.by_work_order.setdefault(work_order_id, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._subscribers.by_work_order.pop(work_order_id, None)

        return unsubscribe

    def watch_tables(self, tables: Iterable[str], listener: HintListener) -> Unsubscribe:
        """``listener(hints)`` with the hints of these tables (all tables when empty)."""
        entry = (frozenset(tables), listener)
        self._subscribers.by_table.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers.by_table:
                self._subscribers.by_table.remove(entry)

        return unsubscribe

    @property
    def watched_work_orders(self) -> frozenset[int]:
        return frozenset(self._subscribers.by_work_order)

    # -- publishing -----------------------------------------------------------------------
    def publish(self, hints: list[ChangeHint]) -> None:
        """Hand each hint to the views it concerns. A listener that fails is logged and
        the others still hear: one broken window must not stop the rest."""
        if not hints:
            return
        for tables, listener in list(self._subscribers.by_table):
            wanted = hints if not tables else [h for h in hints if h.table in tables]
            if wanted:
                self._call(listener, wanted)
        if not self._subscribers.by_work_order:
            return
        for work_order_id, (parts, owned) in self.route(hints).items():
            for record_listener in list(self._subscribers.by_work_order.get(work_order_id, ())):
                self._call(record_listener, parts, owned)

    def route(
        self, hints: list[ChangeHint]
    ) -> dict[int, tuple[frozenset[RecordPart], list[ChangeHint]]]:
        """The watched work orders these hints concern, with the parts that changed."""
        watched = self._subscribers.by_work_order
        routed: dict[int, tuple[set[RecordPart], list[ChangeHint]]] = {}
        for hint in hints:
            parts = record_parts(hint.table, self._registry)
            if not parts:
                continue
            owner = self._owner(hint)
            # No owner to go by (equipment belongs to a site; a crew link whose visit is
            # gone): every open work order may show it.
            targets = watched if owner is None else ((owner,) if owner in watched else ())
            for work_order_id in targets:
                wanted, owned = routed.setdefault(work_order_id, (set(), []))
                wanted |= parts
                owned.append(hint)
        return {wo: (frozenset(parts), owned) for wo, (parts, owned) in routed.items()}

    def _owner(self, hint: ChangeHint) -> int | None:
        if hint.work_order_id is not None:
            return hint.work_order_id
        entry = self._registry.get(hint.table)
        if entry is not None and entry.owner == Owner.SELF:
            return hint.id
        return None

    @staticmethod
    def _call(listener: Callable[..., None], *args: object) -> None:
        try:
            listener(*args)
        except Exception:
            log.exception("a view failed to take a change")
