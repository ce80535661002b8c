"""The demo company's money and stock: a priced price book with its services, the parts
each job type usually needs, a stocked warehouse and trucks (a few short of a part, as
real trucks are), and invoices and payments for the work its history finished.

Written through the database's own rules like any workstation's writes: the ledger's
trigger keeps the stock levels, posting numbers the invoices in date order, payments
move the balances. Completed work is left uninvoiced and some invoices unpaid, so the
office's lists have something on them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch_app.domain.vocabulary import PaymentMethod, WorkOrderStatus

SETTINGS: dict[str, Any] = {
    "company_name": "Lakeview Home Services",
    "company_address": "2210 N Clark St\nChicago, IL 60614",
    "company_phone": "(312) 555-0100",
    "tax_rate": "10.25",  # Chicago sales tax on parts; labour is not taxed in Illinois
    "invoice_due_days": 15,
    "invoice_terms": "Net 15. Make checks payable to Lakeview Home Services.",
    "stock_tracking": True,
}
# Sold by the job or the hour, never stocked: (code, name, unit, price).
SERVICES = (
    ("SVC-DIAG", "Diagnostic fee", "each", "89.00"),
    ("SVC-TUNE", "Furnace tune-up", "each", "129.00"),
    ("SVC-AC", "AC tune-up", "each", "129.00"),
    ("SVC-DRAIN", "Drain clearing, main line", "each", "189.00"),
    ("SVC-AFTER", "After-hours surcharge", "each", "95.00"),
    ("SVC-HOUR", "Additional labour", "hour", "115.00"),
)
COST_SHARE = Decimal("0.45")  # what a part costs the company, of its price
# How many of a part the warehouse keeps, by unit, and a truck carries.
WAREHOUSE_QUANTITY = {"each": 24, "ft": 400, "lb": 60, "bundle": 40, "roll": 12}
TRUCK_QUANTITY = {"each": 4, "ft": 100, "lb": 10, "bundle": 6, "roll": 2}
WAREHOUSE_REORDER = {"each": 8, "ft": 100, "lb": 20, "bundle": 10, "roll": 4}
TRUCK_REORDER = {"each": 2, "ft": 25, "lb": 4, "bundle": 2, "roll": 1}
METHODS = (
    PaymentMethod.CARD,
    PaymentMethod.CHECK,
    PaymentMethod.CARD,
    PaymentMethod.CASH,
    PaymentMethod.FINANCING,
)


@dataclass(frozen=True, slots=True)
class BilledOrder:
    """A finished work order of the demo's history, as the books need it."""

    id: int
    status: str
    invoiced_at: dt.datetime | None  # when the office invoiced it (its status step)
    closed_at: dt.datetime | None
    invoiced_by: str


def write_books(
    session: Session,
    *,
    part_trades: Mapping[str, str],
    job_parts: Mapping[int, Sequence[str]],
    technicians: Sequence[tuple[int, str]],
    orders: Sequence[BilledOrder],
    tz: ZoneInfo,
) -> None:
    """Everything money and stock for the demo; ``part_trades`` names the trade of each
    stocked part's code, ``job_parts`` the codes each job type (by id) usually needs,
    ``technicians`` each technician's id and trade."""
    write_company_settings(session)
    part_ids = _price_book(session, part_trades)
    units: dict[int, str] = {
        id_: unit for id_, unit in session.execute(text("SELECT id, unit FROM parts"))
    }
    # A water heater or an EV charger is fetched from the warehouse for its job.
    bulky = set(
        session.execute(text("SELECT id FROM parts WHERE unit_price > :most"), {"most": 500})
        .scalars()
        .all()
    )
    session.execute(
        text("INSERT INTO job_type_parts (job_type_id, part_id) VALUES (:job, :part)"),
        [
            {"job": job, "part": part_ids[code]}
            for job, codes in job_parts.items()
            for code in codes
            if code in part_ids
        ],
    )
    _stock(session, part_trades, part_ids, units, bulky, technicians)
    _invoices(session, orders, tz)


def write_company_settings(session: Session) -> None:
    """The demo company's name, address, terms and tax; a setting already there stays."""
    for key, value in SETTINGS.items():
        session.execute(
            text(
                "INSERT INTO app_settings (key, value) VALUES (:key, CAST(:value AS jsonb)) "
                "ON CONFLICT (key) DO NOTHING"
            ),
            {"key": key, "value": _json(value)},
        )


def _json(value: Any) -> str:
    return json.dumps(value)


def _price_book(session: Session, part_trades: Mapping[str, str]) -> dict[str, int]:
    session.execute(
        text(
            "UPDATE parts SET cost = round(unit_price * :share, 2), "
            "trade = CAST(:trades AS jsonb) ->> sku, taxable = true"
        ),
        {"share": COST_SHARE, "trades": _json(dict(part_trades))},
    )
    session.execute(
        text(
            "INSERT INTO parts (sku, name, unit, unit_price, kind, taxable) "
            "VALUES (:sku, :name, :unit, :price, 'service', false)"
        ),
        [
            {"sku": sku, "name": name, "unit": unit, "price": Decimal(price)}
            for sku, name, unit, price in SERVICES
        ],
    )
    return {sku: id_ for sku, id_ in session.execute(text("SELECT sku, id FROM parts"))}


def _stock(
    session: Session,
    part_trades: Mapping[str, str],
    part_ids: Mapping[str, int],
    units: Mapping[int, str],
    bulky: set[int],
    technicians: Sequence[tuple[int, str]],
) -> None:
    # A rebuilt demo starts from emptied tables: the migration's warehouse is gone too.
    session.execute(
        text(
            "INSERT INTO stock_locations (name, kind) SELECT 'Warehouse', 'warehouse' "
            "WHERE NOT EXISTS (SELECT 1 FROM stock_locations WHERE kind = 'warehouse')"
        )
    )
    warehouse = session.scalar(
        text("SELECT id FROM stock_locations WHERE kind = 'warehouse' ORDER BY id LIMIT 1")
    )
    trucks: dict[int, int] = {
        technician: truck
        for technician, truck in session.execute(
            text("SELECT technician_id, id FROM stock_locations WHERE kind = 'truck'")
        )
    }
    stocked = sorted(code for code in part_trades if code in part_ids)
    moves: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    for code in stocked:
        part = part_ids[code]
        unit = units[part]
        moves.append(
            _move(part, warehouse, WAREHOUSE_QUANTITY.get(unit, 10), "received", "Opening stock")
        )
        levels.append(
            {"location": warehouse, "part": part, "point": WAREHOUSE_REORDER.get(unit, 4)}
        )
    for n, (technician, trade) in enumerate(technicians):
        truck = trucks.get(technician)
        if truck is None:
            continue
        carried = [
            code for code in stocked if part_trades[code] == trade and part_ids[code] not in bulky
        ]
        for k, code in enumerate(carried):
            if n % 3 == 1 and k == 0:
                continue  # this truck ran out of its most used part
            part = part_ids[code]
            quantity = TRUCK_QUANTITY.get(units[part], 2) - (1 if (n + k) % 4 == 0 else 0)
            moved = uuid.uuid5(uuid.NAMESPACE_URL, f"demo-restock/{technician}/{code}")
            moves.append({**_move(part, warehouse, -quantity, "transfer", ""), "transfer": moved})
            moves.append({**_move(part, truck, quantity, "transfer", ""), "transfer": moved})
            levels.append(
                {"location": truck, "part": part, "point": TRUCK_REORDER.get(units[part], 1)}
            )
    session.execute(
        text(
            "INSERT INTO stock_movements (part_id, location_id, quantity, unit_cost, reason, "
            "note, transfer_id) VALUES (:part, :location, :quantity, "
            "(SELECT cost FROM parts WHERE id = :part), :reason, :note, :transfer)"
        ),
        [{"transfer": None, **move} for move in moves],
    )
    session.execute(
        text(
            "UPDATE stock_levels SET reorder_point = :point "
            "WHERE location_id = :location AND part_id = :part"
        ),
        levels,
    )


def _move(part: int, location: int, quantity: int, reason: str, note: str) -> dict[str, Any]:
    return {
        "part": part,
        "location": location,
        "quantity": quantity,
        "reason": reason,
        "note": note,
    }


def _invoices(session: Session, orders: Sequence[BilledOrder], tz: ZoneInfo) -> None:
    """Invoice the invoiced and closed work in the order it was invoiced; closed work is
    paid in full, invoiced work is unpaid or partly paid."""
    billed = sorted(
        (o for o in orders if o.invoiced_at is not None),
        key=lambda o: (o.invoiced_at, o.id),
    )
    if not billed:
        return
    # Labour is not taxed here, parts are.
    session.execute(
        text(
            "UPDATE line_items SET taxable = (kind = 'material') WHERE work_order_id = ANY(:orders)"
        ),
        {"orders": [o.id for o in billed]},
    )
    rate = session.scalar(text("SELECT value #>> '{}' FROM app_settings WHERE key = 'tax_rate'"))
    previous = session.scalar(select(func.current_setting("dispatch.editor", True)))
    posted: list[dict[str, object]] = []
    for n, order in enumerate(billed):
        assert order.invoiced_at is not None
        invoice = session.scalar(
            text(
                "INSERT INTO invoices (work_order_id, customer_id, tax_rate, terms) "
                "SELECT id, customer_id, CAST(:rate AS numeric) / 100, :terms "
                "FROM work_orders WHERE id = :order RETURNING id"
            ),
            {"rate": rate or "0", "terms": SETTINGS["invoice_terms"], "order": order.id},
        )
        session.execute(
            text(
                "INSERT INTO invoice_lines (invoice_id, position, kind, line_item_id, "
                "description, quantity, unit_price, taxable) "
                "SELECT :invoice, row_number() OVER (ORDER BY kind, id), kind, id, description, "
                "quantity, unit_price, taxable FROM line_items WHERE work_order_id = :order"
            ),
            {"invoice": invoice, "order": order.id},
        )
        issued = order.invoiced_at.astimezone(tz).date()
        session.execute(select(func.set_config("dispatch.editor", order.invoiced_by, True)))
        session.execute(
            text(
                "UPDATE invoices SET status = 'posted', issued_on = :issued, due_on = :due "
                "WHERE id = :invoice"
            ),
            {
                "invoice": invoice,
                "issued": issued,
                "due": issued + dt.timedelta(days=int(SETTINGS["invoice_due_days"])),
            },
        )
        posted.append({"invoice": invoice, "at": order.invoiced_at})
        total = session.scalar(text("SELECT total FROM invoices WHERE id = :id"), {"id": invoice})
        if not total:
            continue  # a free estimate: nothing to pay
        if order.status == WorkOrderStatus.CLOSED and order.closed_at is not None:
            _pay(session, invoice, total, n, order.closed_at.astimezone(tz).date())
        elif n % 3 == 0:
            _pay(session, invoice, (total / 2).quantize(Decimal("0.01")), n, issued)
    session.execute(select(func.set_config("dispatch.editor", previous or "", True)))
    _posted_when_invoiced(session, posted)


def _posted_when_invoiced(session: Session, posted: Sequence[Mapping[str, object]]) -> None:
    """Date each invoice's posting when the office invoiced the work, not when the demo
    was seeded: the reports and the wall count revenue by when it was posted.

    Posting stamps the server's "now" and a posted invoice never changes, rightly; the
    demo's history was written after the fact, so its stamps are set with the row
    triggers off for this transaction only. That needs a superuser (the single PC's
    own server, or ``db seed-demo`` run as one); otherwise the stamps stay."""
    mighty = session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if not mighty or not posted:
        return
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text("UPDATE invoices SET posted_at = :at WHERE id = :invoice"), list(posted))
    session.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    # With the triggers off the reports' facts missed the new moments: bring them along.
    session.execute(
        text(
            "SELECT dispatch_refresh_report_facts(ARRAY(SELECT work_order_id FROM invoices "
            "WHERE id = ANY(:invoices)))"
        ),
        {"invoices": [row["invoice"] for row in posted]},
    )


def _pay(session: Session, invoice: int, amount: Decimal, n: int, day: dt.date) -> None:
    method = METHODS[n % len(METHODS)]
    session.execute(
        text(
            "INSERT INTO payments (invoice_id, method, amount, check_number, card_last4, "
            "reference, received_on) VALUES (:invoice, :method, :amount, :check, :card, "
            ":reference, :day)"
        ),
        {
            "invoice": invoice,
            "method": method.value,
            "amount": amount,
            "check": str(1100 + n) if method == PaymentMethod.CHECK else None,
            "card": f"{(n * 7919) % 10000:04d}" if method == PaymentMethod.CARD else None,
            "reference": f"GreenSky {70000 + n}" if method == PaymentMethod.FINANCING else "",
            "day": day,
        },
    )
