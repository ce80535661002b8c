"""Row ids and versions as they arrive from outside an operation's own queries.

An operation's caller, a change hint (any login may ``NOTIFY``), a drag from another
program: any of them can name id 2**63 or -1. Such a number names no row, and sent to
PostgreSQL it would fail as "bigint out of range" rather than find nothing. Every
operation that takes an id checks it here first, so the user reads "there is no such
work order" instead of a database error.
"""

from __future__ import annotations

from dispatch_app.errors import NoSuchRecord

# Every id is a bigint from an identity column, which counts from 1; a version is an
# integer column (it counts from 1, but any integer it can hold merely fails to match).
BIGINT_MAX = 2**63 - 1
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1


def is_row_id(value: object) -> bool:
    """Whether ``value`` can be the id of a row: a whole number from 1 to 2**63 - 1."""
    return type(value) is int and 1 <= value <= BIGINT_MAX


def is_version(value: object) -> bool:
    """Whether ``value`` can be compared with a row's version (an integer column): a
    stale version is a conflict the operation words; only one the column cannot hold
    is refused here."""
    return type(value) is int and INTEGER_MIN <= value <= INTEGER_MAX


def no_such(noun: str, value: object) -> str:
    """The sentence for an id that names no row (the number shortened if absurdly long)."""
    shown = repr(value)
    if len(shown) > 24:
        shown = shown[:20] + "…"
    return f"There is no {noun} with id {shown}."


def require_row_id(value: object, noun: str) -> int:
    """``value`` itself when it can be a row id; ``NoSuchRecord`` naming ``noun`` if not."""
    if not is_row_id(value):
        raise NoSuchRecord(no_such(noun, value))
    assert isinstance(value, int)
    return value


def require_row_ids(values: object, noun: str) -> tuple[int, ...]:
    """``require_row_id`` for each of several ids (a crew, a batch)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise NoSuchRecord(no_such(noun, values))
    return tuple(require_row_id(value, noun) for value in values)


def require_version(value: object, noun: str) -> int:
    """``value`` itself when it can be compared with a version; otherwise the row as the
    caller saw it cannot exist, and ``NoSuchRecord`` says so."""
    if not is_version(value):
        raise NoSuchRecord(f"That {noun} was never at version {str(value)[:20]}.")
    assert isinstance(value, int)
    return value
