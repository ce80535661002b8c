"""The life of a visit, from booked to done: which status may follow which, and why not.

The board's context menu offers ``next_statuses``; the service refuses anything else
with the sentence ``transition_problem`` gives. Besides the forward moves, the machine
has the step-backs a dispatcher needs when a button was pressed too early (and that
undo needs): undispatch, reopen, restore.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatch_app.domain.statuses import (
    VISIT_ENDED_EARLY,
    VISIT_FINISHED,
    VISIT_LABELS,
    VISIT_OPEN,
    VISIT_UNDER_WAY,
    WORK_ORDER_BILLED,
    WORK_ORDER_ENDED_EARLY,
)
from dispatch_app.domain.text_rules import SHORT_TEXT, clean_text, text_problem
from dispatch_app.domain.vocabulary import VisitStatus, WorkOrderStatus

_S = VisitStatus  # short, because the tables below are dense with it

# Ending a visit without doing the work must say why (the office calls the customer back).
REASON_REQUIRED = VISIT_ENDED_EARLY
# Enough for "customer called at 7:40, furnace came back on after a reset"; more is a paste.
MAX_REASON_CHARS = SHORT_TEXT.limit

# A visit in one of these is history: when it was and who went stay as they are, until
# someone steps it back (reopen, restore). The database holds the same rule.
FINISHED_STATUSES = VISIT_FINISHED
# Billing has started: a work order's visits no longer change at all, not even by a
# step back (an invoice is never quietly taken back).
BILLED_ORDER_STATUSES = WORK_ORDER_BILLED
# The work order ended without the work: its visits wait for it to be restored.
ENDED_ORDER_STATUSES = WORK_ORDER_ENDED_EARLY

# Menu order: the usual next step first, then step-backs, then the ways a visit ends early.
_NEXT: dict[VisitStatus, tuple[VisitStatus, ...]] = {
    _S.UNSCHEDULED: (_S.CANCELLED,),
    _S.SCHEDULED: (_S.DISPATCHED, _S.EN_ROUTE, _S.ON_SITE, _S.NO_SHOW, _S.CANCELLED),
    _S.DISPATCHED: (_S.EN_ROUTE, _S.ON_SITE, _S.SCHEDULED, _S.NO_SHOW, _S.CANCELLED),
    _S.EN_ROUTE: (_S.ON_SITE, _S.DISPATCHED, _S.NO_SHOW, _S.CANCELLED),
    # On site, the customer was there: no no-show.
    _S.ON_SITE: (_S.COMPLETED, _S.EN_ROUTE, _S.CANCELLED),
    _S.COMPLETED: (_S.ON_SITE,),
    _S.CANCELLED: (_S.SCHEDULED,),
    _S.NO_SHOW: (_S.SCHEDULED,),
}

# The words a person reads for each status.
LABELS = VISIT_LABELS

# The step-backs have names of their own in the trade (and on the menu).
STEP_BACK_LABELS: dict[tuple[str, str], str] = {
    (_S.DISPATCHED, _S.SCHEDULED): "Undispatch",
    (_S.EN_ROUTE, _S.DISPATCHED): "Back to dispatched",
    (_S.ON_SITE, _S.EN_ROUTE): "Back to en route",
    (_S.COMPLETED, _S.ON_SITE): "Reopen",
    (_S.CANCELLED, _S.SCHEDULED): "Restore",
    (_S.NO_SHOW, _S.SCHEDULED): "Restore",
}

# "A completed visit cannot go en route": the adjective for the current status ...
_AS_ADJECTIVE = {
    _S.UNSCHEDULED: "An unscheduled",
    _S.SCHEDULED: "A scheduled",
    _S.DISPATCHED: "A dispatched",
    _S.EN_ROUTE: "An en-route",
    _S.ON_SITE: "An on-site",
    _S.COMPLETED: "A completed",
    _S.CANCELLED: "A cancelled",
    _S.NO_SHOW: "A no-show",
}
# ... and the verb phrase for the target.
_AS_GOAL = {
    _S.UNSCHEDULED: "become unscheduled",
    _S.SCHEDULED: "go back to scheduled",
    _S.DISPATCHED: "be dispatched",
    _S.EN_ROUTE: "go en route",
    _S.ON_SITE: "go on site",
    _S.COMPLETED: "be completed",
    _S.CANCELLED: "be cancelled",
    _S.NO_SHOW: "be marked a no-show",
}
_NEEDS_REASON = {
    _S.CANCELLED: "Cancelling needs a reason.",
    _S.NO_SHOW: "Marking a no-show needs a reason.",
}


def _status(value: str) -> VisitStatus | None:
    try:
        return VisitStatus(value)
    except ValueError:
        return None


def next_statuses(current: str) -> list[str]:
    """The statuses a visit in ``current`` may be set to, in menu order."""
    status = _status(current)
    if status is None:
        raise ValueError(f"unknown visit status {current!r}")
    return [target.value for target in _NEXT[status]]


def clean_reason(reason: str | None) -> str | None:
    """The reason as it is stored (see ``text_rules.clean_text``: line endings made
    ``\\n``, NFC, outer blanks gone), ``None`` when nothing is left."""
    if reason is None:
        return None
    return clean_text(reason) or None


def status_problem(current: str, target: str) -> str | None:
    """Why a visit in ``current`` cannot be set to ``target``, or ``None`` if it can."""
    now, goal = _status(current), _status(target)
    if now is None:
        return f"“{current}” is not a visit status."
    if goal is None:
        return f"“{target}” is not a visit status."
    if now == goal:
        return f"The visit is already {LABELS[goal].lower()}."
    if goal in _NEXT[now]:
        return None
    if now == _S.ON_SITE and goal == _S.NO_SHOW:
        return "The technician is on site, so the customer was there: cancel the visit instead."
    return f"{_AS_ADJECTIVE[now]} visit cannot {_AS_GOAL[goal]}."


def reason_problem(target: str, reason: str | None) -> str | None:
    """Why ``reason`` cannot go with a change to ``target``, or ``None`` if it can.

    A reason is optional except for cancelling and no-shows, but any reason given must
    be storable text of a sane length (``text_rules.SHORT_TEXT``).
    """
    cleaned = clean_reason(reason) if isinstance(reason, str) else reason
    if cleaned is None:
        goal = _status(target)
        return _NEEDS_REASON[goal] if goal is not None and goal in REASON_REQUIRED else None
    return text_problem("The reason", reason, SHORT_TEXT)


def finished_problem(
    number: str, visit_status: str, order_status: str | None, doing: str
) -> str | None:
    """Why a visit of work order ``number`` cannot be moved, given another crew or taken
    off the board (``doing``: "moving", "unassigning"…), or ``None`` if it can.

    ``order_status`` is the work order's, when known (the board only knows the visit's).
    """
    if order_status in BILLED_ORDER_STATUSES:
        return f"{number} is already {order_status}; its visits can no longer change."
    status = _status(visit_status)
    if status == _S.COMPLETED:
        return f"{number}'s visit is completed: reopen it before {doing} it."
    if status == _S.CANCELLED:
        return f"{number}'s visit is cancelled: restore it before {doing} it."
    if status == _S.NO_SHOW:
        return f"{number}'s visit is a no-show: restore it before {doing} it."
    if order_status in ENDED_ORDER_STATUSES:
        word = "cancelled" if order_status == WorkOrderStatus.CANCELLED else "a no-show"
        return f"{number} is {word}: restore it before {doing} its visit."
    return None


def transition_problem(current: str, target: str, reason: str | None) -> str | None:
    """Why the change from ``current`` to ``target`` (with ``reason``) is refused, in one
    sentence; ``None`` when it is allowed."""
    return status_problem(current, target) or reason_problem(target, reason)


def work_order_status_after(changed_to: str, visit_statuses: Iterable[str]) -> str:
    """The work order's status once one of its visits was set to ``changed_to``.

    ``visit_statuses`` are all of the work order's visits after the change, that one
    included. The work order follows a visit under way; once none is open it is completed
    if any visit was, else cancelled or a no-show; otherwise it follows the furthest
    open visit (only unbooked ones left: it is new work waiting for a time again).
    """
    if changed_to in VISIT_UNDER_WAY:
        return WorkOrderStatus(changed_to).value
    statuses = {VisitStatus(s) for s in visit_statuses}
    open_ones = statuses & VISIT_OPEN
    if not open_ones:
        if _S.COMPLETED in statuses:
            return WorkOrderStatus.COMPLETED.value
        if changed_to in REASON_REQUIRED:
            return WorkOrderStatus(changed_to).value
        return WorkOrderStatus.CANCELLED.value
    for furthest in (_S.ON_SITE, _S.EN_ROUTE, _S.DISPATCHED, _S.SCHEDULED):
        if furthest in open_ones:
            return WorkOrderStatus(furthest.value).value
    return WorkOrderStatus.NEW.value


def way_back(current: str, target: str) -> list[str] | None:
    """The shortest run of allowed steps from ``current`` to ``target`` that needs no
    reason (how undo returns a visit to where it was), without ``current`` itself;
    ``None`` when there is none.

    Undoing "scheduled → on site" walks back through en route and dispatched, because
    the machine only steps back one stage at a time.
    """
    start, goal = _status(current), _status(target)
    if start is None or goal is None:
        return None
    if start == goal:
        return []
    came_from: dict[VisitStatus, VisitStatus] = {}
    frontier = [start]
    while frontier:
        following = []
        for status in frontier:
            for step in _NEXT[status]:
                if step in came_from or step == start or step in REASON_REQUIRED:
                    continue
                came_from[step] = status
                if step == goal:
                    path = [step]
                    while path[-1] != start and came_from[path[-1]] != start:
                        path.append(came_from[path[-1]])
                    return [s.value for s in reversed(path)]
                following.append(step)
        frontier = following
    return None
