"""Finding the caller: customers by phone number, name or street, as the CSR types.

Every keystroke runs one query that the prefix indexes on ``customer_phones.number``,
``lower(customers.name)`` and ``lower(service_sites.street)`` answer, so a lookup stays
within a keystroke's time however many customers the company has.

Threading contract: coroutines for the app's event loop; no Qt here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from dispatch_app.db.models import Customer, CustomerPhone, ServiceSite, WorkOrder
from dispatch_app.domain.statuses import WORK_ORDER_FINISHED, sql_values

# What a phone number may hold besides digits while it is being typed.
_PHONE_TYPING = re.compile(r"^[\s()+.\-\d]+$")
MIN_NAME_CHARS = 2  # one letter matches a twentieth of the book: wait for the second
MAX_TYPED_CHARS = 200
_CLOSED = sql_values(WORK_ORDER_FINISHED)


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    id: int
    name: str
    phones: tuple[str, ...]  # E.164
    address: str  # the first site, "1432 W Belmont Ave, Chicago 60657"
    open_work_orders: int  # a repeat call or a duplicate booking shows here first


def _like_prefix(text: str) -> str:
    """``text%`` for LIKE, with the user's own ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def phone_prefix(typed: str) -> str | None:
    """The E.164 prefix a half-typed phone number stands for, or None if it is not one.

    Without a ``+`` a number is North American: ``(312) 55`` is ``+131255``.
    """
    if not _PHONE_TYPING.match(typed):
        return None
    digits = re.sub(r"\D", "", typed)
    if len(digits) < 3:
        return None
    if typed.lstrip().startswith("+"):
        return "+" + digits
    if digits.startswith("1"):  # no area code starts with 1: it is the country code
        digits = digits[1:]
    return "+1" + digits


async def find_customers(
    sessions: async_sessionmaker[AsyncSession], typed: str, *, limit: int = 20
) -> list[CustomerMatch]:
    """``search_customers`` on a pooled connection (the call intake's lookup)."""
    async with sessions() as session:
        return await search_customers(await session.connection(), typed, limit=limit)


async def search_customers(
    connection: AsyncConnection, typed: str, *, limit: int = 20
) -> list[CustomerMatch]:
    """Customers whose phone, name or street starts with what was typed (best first)."""
    statement = search_statement(typed, limit=limit)
    if statement is None:
        return []
    rows = await connection.execute(statement)
    return [
        CustomerMatch(
            id=row[0],
            name=row[1],
            phones=tuple(sorted(row[2] or ())),
            address=row[3] or "",
            open_work_orders=row[4],
        )
        for row in rows
    ]


def _in_index_order(expression: Any) -> UnaryExpression[Any]:
    """``ORDER BY expression USING ~<~``: the byte order of a ``text_pattern_ops`` index,
    so the first rows come straight off the index instead of sorting every match."""
    return UnaryExpression(expression, modifier=custom_op("USING ~<~"))


def search_statement(typed: str, *, limit: int = 20) -> Select[Any] | None:
    """The one query a keystroke runs (None: nothing worth looking up yet).

    Each way of matching takes its first ``limit`` rows off its prefix index, so typing
    just an area code ("(312") costs the same as a whole number, however many match.
    """
    typed = typed.replace("\x00", "").strip()[:MAX_TYPED_CHARS]
    prefix = phone_prefix(typed)
    branches: list[Select[Any]] = []
    if prefix is not None:
        number = CustomerPhone.number
        branches.append(
            select(CustomerPhone.customer_id.label("id"))
            .where(number.like(_like_prefix(prefix), escape="\\"))
            .order_by(_in_index_order(number))
            .limit(limit)
        )
    if len(typed) >= MIN_NAME_CHARS:
        pattern = _like_prefix(typed.lower())
        name, street = func.lower(Customer.name), func.lower(ServiceSite.street)
        if prefix is None:
            branches.append(
                select(Customer.id.label("id"))
                .where(name.like(pattern, escape="\\"))
                .order_by(_in_index_order(name))
                .limit(limit)
            )
        # A house number ("1432") reads like the start of a phone number: try both.
        if prefix is None or typed.isdigit():
            branches.append(
                select(ServiceSite.customer_id.label("id"))
                .where(street.like(pattern, escape="\\"))
                .order_by(_in_index_order(street))
                .limit(limit)
            )
    if not branches:
        return None
    ids: Select[Any] | CompoundSelect[Any] = branches[0] if len(branches) == 1 else union(*branches)
    found = ids.subquery()
    phones = (
        select(func.array_agg(CustomerPhone.number).filter(CustomerPhone.number.is_not(None)))
        .where(CustomerPhone.customer_id == Customer.id)
        .scalar_subquery()
    )
    first_site = (
        select(
            ServiceSite.street + literal(", ") + ServiceSite.city + literal(" ") + ServiceSite.zip
        )
        .where(ServiceSite.customer_id == Customer.id)
        .order_by(ServiceSite.id)
        .limit(1)
        .scalar_subquery()
    )
    open_orders = (
        select(func.count())
        .where(WorkOrder.customer_id == Customer.id, WorkOrder.status.not_in(_CLOSED))
        .scalar_subquery()
    )
    return (
        select(Customer.id, Customer.name, phones, first_site, open_orders)
        .where(Customer.id.in_(select(found.c.id)))
        .order_by(func.lower(Customer.name), Customer.id)
        .limit(limit)
    )
