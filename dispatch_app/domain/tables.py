"""The table registry: one entry per table a screen shows, and everything derived from it.

An entry says what a person calls the table's rows, whether its rows carry a version,
whether changes to it are audited, how a row finds its work order, which part of the
work-order editor shows it, what it means for the day on the board, and the least role
that may add, change or remove its rows (every role reads every table). From these the
database's notify, touch, stamp and audit triggers and its grants are made
(``db.triggers`` and ``db.grants``, after every upgrade), change hints are routed to
the views that show the row, and audit lines get their nouns. Adding a table is one
entry here (and the migration that creates it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from dispatch_app.domain.roles import Role


class Owner(StrEnum):
    """How a row names the work order it belongs to (what its hints carry)."""

    NONE = "none"  # belongs to no one work order (a customer, a technician…)
    SELF = "self"  # the row is the work order
    COLUMN = "work_order_id"  # its own ``work_order_id`` column
    VISIT = "visit"  # through its ``visit_id`` (a crew link)


class RecordPart(StrEnum):
    """The parts of a work order's record, each read on its own (the editor's tabs)."""

    HEADER = "header"  # the work order, its customer, site, equipment and form
    VISITS = "visits"
    CHARGES = "charges"  # line items: labour and materials
    BILLING = "billing"  # invoices, their lines and payments
    MESSAGES = "messages"  # what the customer was sent about it
    NOTES = "notes"
    PHOTOS = "photos"
    TIME = "time"
    HISTORY = "history"  # status steps
    AUDIT = "audit"


class DayEffect(StrEnum):
    """What a change to the table means for a day on the board."""

    NONE = "none"  # not on the board
    ROWS = "rows"  # visits, crews and work orders: the changed rows are read again
    TECHNICIANS = "technicians"  # the rows (people, shifts, skills) are read again
    WHOLE_DAY = "whole_day"  # names on every block: the day is read again
    # What the trucks carry of the parts jobs need: that is read again (only the levels
    # named, for stock levels), never the day's rows.
    STOCK = "stock"


@dataclass(frozen=True, slots=True)
class Rights:
    """The least role that may add, change or remove a table's rows; None: no person
    may (the database itself writes them). Every role may read every table."""

    add: Role | None = Role.ADMIN
    change: Role | None = Role.ADMIN
    remove: Role | None = Role.ADMIN


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str
    noun: str  # what an audit line calls a row: "Line item added: …"
    versioned: bool = True  # has ``version``/``updated_at``, kept by the touch trigger
    # Every change makes an audit line (against its work order, if it has one); a table
    # that is itself a history (status steps) is not audited again.
    audited: bool = True
    owner: Owner = Owner.NONE
    part: RecordPart | None = None  # the part of an open work order it changes
    day: DayEffect = DayEffect.NONE
    stamped: str | None = None  # "updated_by" stamped; "created_by" too when this says so
    rights: Rights = Rights()  # people and settings: an admin's
    # The background worker (``dispatch_worker``, a viewer otherwise) adds and changes
    # rows too: the outbox's sending columns.
    worker_writes: bool = False
    # Columns of this table only the database writes (sums, numbers, who posted), on
    # top of the ones every table's defaults and triggers keep (``db.grants``).
    recorded: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"{self.name!r} is not a table name")
        if self.owner == Owner.NONE and self.part is not None and self.part != RecordPart.HEADER:
            raise ValueError(f"{self.name}: only a work order's rows are parts of its record")


class TableRegistry:
    """The tables in order; lookups by name."""

    def __init__(self, entries: tuple[TableEntry, ...]) -> None:
        self._entries: dict[str, TableEntry] = {}
        for entry in entries:
            self._add(entry)

    def _add(self, entry: TableEntry) -> None:
        if entry.name in self._entries:
            raise ValueError(f"{entry.name} is registered twice")
        self._entries[entry.name] = entry

    def __iter__(self) -> Iterator[TableEntry]:
        return iter(tuple(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> TableEntry | None:
        return self._entries.get(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._entries)

    def where(self, *, day: DayEffect | None = None, audited: bool | None = None) -> frozenset[str]:
        return frozenset(
            e.name
            for e in self
            if (day is None or e.day == day) and (audited is None or e.audited == audited)
        )

    def noun(self, name: str) -> str:
        entry = self._entries.get(name)
        return entry.noun if entry is not None else name.replace("_", " ").capitalize()

    @contextlib.contextmanager
    def added(self, entry: TableEntry) -> Iterator[TableEntry]:
        """The registry with one more table for the duration (a test's table)."""
        self._add(entry)
        try:
            yield entry
        finally:
            del self._entries[entry.name]


_N, _W, _C, _V = Owner.NONE, Owner.SELF, Owner.COLUMN, Owner.VISIT
_P = RecordPart
_D = DayEffect
_CSR, _DISPATCHER, _MANAGER = Role.CSR, Role.DISPATCHER, Role.MANAGER
# A CSR books calls: customers, sites, work orders and their first visit; removing is a
# manager's. Where a CSR's right depends on the row (only a visit nobody has booked yet,
# only their own notes), the database checks it per row (migration 0007).
_BOOKING = Rights(_CSR, _CSR, _MANAGER)
_CHARGES = Rights(_DISPATCHER, _DISPATCHER, _DISPATCHER)
_PRICE_BOOK = Rights(_MANAGER, _MANAGER, _MANAGER)

TABLES = TableRegistry(
    (
        TableEntry("app_settings", "Setting", day=_D.WHOLE_DAY),
        TableEntry(
            "customers",
            "Customer",
            day=_D.WHOLE_DAY,
            rights=_BOOKING,
            # Who recorded the consent and when, and when an opt-out was: the database's.
            recorded=frozenset({"consent_recorded_at", "consent_recorded_by", "opted_out_at"}),
        ),
        TableEntry("customer_phones", "Phone", rights=_BOOKING),
        TableEntry("service_sites", "Site", day=_D.WHOLE_DAY, rights=_BOOKING),
        # An equipment row belongs to a site, so every open editor reads its choices.
        TableEntry("equipment", "Equipment", part=_P.HEADER, rights=_BOOKING),
        TableEntry("technicians", "Technician", day=_D.TECHNICIANS),
        TableEntry("technician_shifts", "Shift", day=_D.TECHNICIANS, rights=_PRICE_BOOK),
        TableEntry("skills", "Skill", day=_D.TECHNICIANS, rights=_PRICE_BOOK),
        TableEntry("technician_skills", "Skill", day=_D.TECHNICIANS),
        TableEntry("job_types", "Job type", day=_D.WHOLE_DAY, rights=_PRICE_BOOK),
        TableEntry("job_type_skills", "Job type skill", day=_D.WHOLE_DAY, rights=_PRICE_BOOK),
        TableEntry(
            "work_orders",
            "Work order",
            owner=_W,
            part=_P.HEADER,
            day=_D.ROWS,
            stamped="created_by",
            rights=_BOOKING,
        ),
        TableEntry(
            "visits", "Visit", owner=_C, part=_P.VISITS, day=_D.ROWS, stamped="", rights=_BOOKING
        ),
        TableEntry(
            "visit_technicians",
            "Technician",
            owner=_V,
            part=_P.VISITS,
            day=_D.ROWS,
            rights=Rights(_CSR, _CSR, _DISPATCHER),
        ),
        TableEntry("notes", "Note", owner=_C, part=_P.NOTES, rights=_BOOKING),
        TableEntry(
            "status_history",
            "Status",
            versioned=False,
            audited=False,
            owner=_C,
            part=_P.HISTORY,
            rights=Rights(_CSR, None, None),
        ),
        TableEntry("job_type_questions", "Question", rights=_PRICE_BOOK),
        TableEntry("maintenance_plans", "Maintenance plan", rights=_PRICE_BOOK),
        TableEntry("agreements", "Agreement", rights=_PRICE_BOOK),
        TableEntry("parts", "Part", day=_D.STOCK, rights=_PRICE_BOOK),
        TableEntry("line_items", "Line item", owner=_C, part=_P.CHARGES, rights=_CHARGES),
        TableEntry(
            "photos",
            "Photo",
            owner=_C,
            part=_P.PHOTOS,
            rights=Rights(_CSR, _CSR, _DISPATCHER),
        ),
        TableEntry("time_entries", "Time", owner=_C, part=_P.TIME, rights=_CHARGES),
        # The price book's parts per job type, and the stock kept of them.
        TableEntry("job_type_parts", "Job type part", day=_D.STOCK, rights=_PRICE_BOOK),
        TableEntry("stock_locations", "Stock location", day=_D.STOCK, rights=_PRICE_BOOK),
        TableEntry(
            "stock_levels",
            "Stock",
            day=_D.STOCK,
            rights=Rights(_DISPATCHER, _DISPATCHER, None),  # reorder points; the rest: the ledger's
            recorded=frozenset({"on_hand", "average_cost"}),
            audited=False,  # the ledger says every change already
        ),
        TableEntry(
            "stock_movements",
            "Stock movement",
            versioned=False,
            audited=False,  # a ledger: its rows are the history
            rights=Rights(_DISPATCHER, None, None),
            recorded=frozenset({"moved_by", "moved_at"}),
        ),
        # Money: drafts are a dispatcher's; a posted invoice is the database's to guard
        # (migration 0008): voiding it and credit notes are a manager's.
        TableEntry(
            "invoices",
            "Invoice",
            owner=_C,
            part=_P.BILLING,
            rights=_CHARGES,
            recorded=frozenset(
                {
                    "serial",
                    "number",
                    "subtotal",
                    "taxable_subtotal",
                    "tax",
                    "total",
                    "paid",
                    "credited",
                    "posted_by",
                    "posted_at",
                    "voided_by",
                    "voided_at",
                }
            ),
        ),
        # Customer messages: queued by the database when a visit starts or ends, sent by
        # the worker (migration 0009). A dispatcher cancels; resending is a CSR's, through
        # ``dispatch_resend_message``. The rows are their own history.
        TableEntry(
            "outbox_messages",
            "Message",
            owner=_C,
            part=_P.MESSAGES,
            audited=False,
            rights=Rights(_MANAGER, _DISPATCHER, None),
            worker_writes=True,
        ),
        TableEntry("message_templates", "Message template", rights=_PRICE_BOOK),
        # Leads: every inbound contact (migration 0010). CSRs work them; the worker adds
        # the ones its endpoint receives. They are the record of what was missed, so
        # nobody removes one (spam is an outcome).
        TableEntry("leads", "Lead", rights=Rights(_CSR, _CSR, None), worker_writes=True),
        # The follow-up rules are seeded, one per kind: a manager tunes them.
        TableEntry("follow_up_rules", "Follow-up rule", rights=Rights(None, _MANAGER, None)),
        # Tasks the rules make, worked by CSRs; done is final (the database says so).
        TableEntry(
            "follow_ups",
            "Follow-up",
            audited=False,  # their own record: who finished each and when
            rights=Rights(_CSR, _CSR, None),
            worker_writes=True,
            recorded=frozenset({"done_at", "done_by"}),
        ),
        TableEntry(
            "invoice_lines", "Invoice line", rights=_CHARGES, recorded=frozenset({"amount"})
        ),
        TableEntry(
            "payments",
            "Payment",
            versioned=False,
            audited=False,  # never changed: the rows are the history
            rights=Rights(_DISPATCHER, None, None),
            recorded=frozenset({"recorded_by", "recorded_at"}),
        ),
    )
)


def record_parts(table: str, registry: TableRegistry = TABLES) -> frozenset[RecordPart]:
    """The parts of an open work order a change to ``table`` makes stale: its own, and
    the audit when the table is audited (the change wrote an audit line)."""
    entry = registry.get(table)
    if entry is None or entry.part is None:
        return frozenset()
    on_the_order = entry.audited and entry.owner != Owner.NONE
    return frozenset({entry.part, RecordPart.AUDIT} if on_the_order else {entry.part})


def rights_table(registry: TableRegistry = TABLES) -> str:
    """The grants as the README states them: per table, the least role that may add,
    change or remove a row (each role above it may too); every role reads every table."""
    lines = [
        "| Table | Add | Change | Remove |",
        "|---|---|---|---|",
    ]
    for entry in sorted(registry, key=lambda e: e.name):
        cells = [
            (role.label + ("" if role is Role.ADMIN else "+")) if role is not None else "nobody"
            for role in (entry.rights.add, entry.rights.change, entry.rights.remove)
        ]
        lines.append(f"| `{entry.name}` | {' | '.join(cells)} |")
    lines.append("| `audit_log` | nobody (the audit trigger) | nobody | nobody |")
    return "\n".join(lines)
