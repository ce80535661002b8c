"""The life of a work order, from the first call to the closed books: which status may
follow which, and the sentence that says why not.

Most changes come from the work order's visits (see ``visit_status``); this machine is
what a person may do to the work order itself, in the editor: schedule, finish, invoice,
close, cancel or mark a no-show (those two need a reason), and the step-backs an office
needs when a button was pressed too early.
"""

from __future__ import annotations

from dispatch_app.domain.statuses import WORK_ORDER_ENDED_EARLY, WORK_ORDER_LABELS

# A reason is checked the same way for a visit and its work order (same words, same
# limits), so the two never disagree about what can be stored.
from dispatch_app.domain.visit_status import reason_problem
from dispatch_app.domain.vocabulary import WorkOrderStatus

_W = WorkOrderStatus  # short, because the table below is dense with it

# Ending a work order without the work done must say why (the office calls back).
REASON_REQUIRED = WORK_ORDER_ENDED_EARLY

# In menu order: the usual next step, the skips the visits allow, the step-backs, and the
# ways a work order ends early.
_NEXT: dict[WorkOrderStatus, tuple[WorkOrderStatus, ...]] = {
    _W.NEW: (_W.SCHEDULED, _W.CANCELLED),
    _W.SCHEDULED: (_W.DISPATCHED, _W.EN_ROUTE, _W.ON_SITE, _W.NEW, _W.NO_SHOW, _W.CANCELLED),
    _W.DISPATCHED: (_W.EN_ROUTE, _W.ON_SITE, _W.SCHEDULED, _W.NO_SHOW, _W.CANCELLED),
    _W.EN_ROUTE: (_W.ON_SITE, _W.DISPATCHED, _W.NO_SHOW, _W.CANCELLED),
    # On site, the customer was there: no no-show.
    _W.ON_SITE: (_W.COMPLETED, _W.EN_ROUTE, _W.CANCELLED),
    _W.COMPLETED: (_W.INVOICED, _W.ON_SITE),
    # An invoice is a document sent to a customer: it is closed (paid or written off),
    # never quietly taken back.
    _W.INVOICED: (_W.CLOSED,),
    _W.CLOSED: (),
    _W.CANCELLED: (_W.NEW, _W.SCHEDULED),
    _W.NO_SHOW: (_W.NEW, _W.SCHEDULED),
}

LABELS = WORK_ORDER_LABELS


def _status(value: str) -> WorkOrderStatus | None:
    try:
        return WorkOrderStatus(value)
    except ValueError:
        return None


def next_statuses(current: str) -> list[str]:
    """The statuses a work order in ``current`` may be set to, in menu order."""
    status = _status(current)
    if status is None:
        raise ValueError(f"unknown work order status {current!r}")
    return [target.value for target in _NEXT[status]]


def status_problem(current: str, target: str) -> str | None:
    """Why a work order in ``current`` cannot be set to ``target``, or ``None`` if it can."""
    now, goal = _status(current), _status(target)
    if now is None:
        return f"{current!r} is not a work order status."
    if goal is None:
        return f"{target!r} is not a work order status."
    if goal in _NEXT[now]:
        return None
    if now == goal:
        return f"The work order is already {LABELS[now].lower()}."
    if now == _W.CLOSED:
        return "A closed work order cannot change; open a new one for more work."
    if now == _W.INVOICED:
        return "An invoiced work order can only be closed."
    return f"A work order that is {LABELS[now].lower()} cannot become {LABELS[goal].lower()}."


def transition_problem(current: str, target: str, reason: str | None) -> str | None:
    """``status_problem``, then whether the reason a cancel or no-show needs is usable."""
    return status_problem(current, target) or reason_problem(target, reason)
