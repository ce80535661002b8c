"""Follow-ups: the calls and messages that keep work from falling through the cracks.

A follow-up rule is data a manager edits (on or off, how long to wait, whether it makes
a task, a customer message or both, whom the task goes to); what each kind of rule
looks at is fixed here and in ``services/follow_ups``. The worker runs the rules on the
company's clock; each occasion makes one task and one message at most, however often
the rules run.
"""

from __future__ import annotations

from enum import StrEnum

from dispatch_app.domain.messages import MessageEvent


class RuleKind(StrEnum):
    MISSED_CALL = "missed_call"  # call back a missed caller who booked nothing since
    STALE_WORK_ORDER = "stale_work_order"  # an open work order nobody touched for a while
    NOT_CLOSED = "not_closed"  # a visit completed, its work order still open at day's end
    CANCELLATION = "cancellation"  # a call to win back a cancelled job
    NO_SHOW = "no_show"
    REVIEW_REQUEST = "review_request"
    MAINTENANCE_OFFER = "maintenance_offer"  # a plan offered some time after a repair
    ANNUAL_REMINDER = "annual_reminder"  # a year since the last service
    AGREEMENT_RENEWAL = "agreement_renewal"  # before a maintenance agreement ends

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def wait_means(self) -> str:
        """What the rule's wait counts from, for the editor."""
        return _LABELS[self][1]

    @property
    def message_event(self) -> MessageEvent | None:
        """The customer message this kind of rule can send, if any."""
        return _MESSAGES.get(self)


_LABELS = {
    RuleKind.MISSED_CALL: ("Call back a missed caller", "hours after the missed call"),
    RuleKind.STALE_WORK_ORDER: ("Open work order untouched", "hours since anyone changed it"),
    RuleKind.NOT_CLOSED: (
        "Visit completed, work order not closed",
        "hours after the end of the completion day",
    ),
    RuleKind.CANCELLATION: ("Win back a cancellation", "hours after it was cancelled"),
    RuleKind.NO_SHOW: ("Call back a no-show", "hours after the no-show"),
    RuleKind.REVIEW_REQUEST: ("Ask for a review", "hours after the job was completed"),
    RuleKind.MAINTENANCE_OFFER: (
        "Offer a maintenance plan after a repair",
        "hours after the repair was completed",
    ),
    RuleKind.ANNUAL_REMINDER: ("Annual service reminder", "hours after the last service"),
    RuleKind.AGREEMENT_RENEWAL: ("Renew a maintenance agreement", "hours before it ends"),
}
_MESSAGES = {
    RuleKind.REVIEW_REQUEST: MessageEvent.REVIEW_REQUEST,
    RuleKind.MAINTENANCE_OFFER: MessageEvent.MAINTENANCE_OFFER,
    RuleKind.ANNUAL_REMINDER: MessageEvent.MAINTENANCE_REMINDER,
}


class FollowUpState(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"  # waits until ``due_at`` again, with the reason kept
    DONE = "done"

    @property
    def label(self) -> str:
        return {"open": "Open", "snoozed": "Snoozed", "done": "Done"}[self.value]


class FollowUpOutcome(StrEnum):
    DONE = "done"
    RECOVERED = "recovered"  # a cancellation or no-show booked again
    LOST = "lost"  # with the reason
    OBSOLETE = "obsolete"  # the rules closed it: the work order moved on, the lead booked

    @property
    def label(self) -> str:
        return {
            "done": "Done",
            "recovered": "Recovered",
            "lost": "Lost",
            "obsolete": "No longer needed",
        }[self.value]


# The defaults a new company starts with: (kind, wait hours, makes a task, sends a
# message). A manager changes them in the follow-up rules editor.
DEFAULT_RULES: tuple[tuple[RuleKind, int, bool, bool], ...] = (
    (RuleKind.MISSED_CALL, 0, True, False),
    (RuleKind.STALE_WORK_ORDER, 48, True, False),
    (RuleKind.NOT_CLOSED, 0, True, False),
    (RuleKind.CANCELLATION, 24, True, False),
    (RuleKind.NO_SHOW, 2, True, False),
    (RuleKind.REVIEW_REQUEST, 2, False, True),
    (RuleKind.MAINTENANCE_OFFER, 90 * 24, False, True),
    (RuleKind.ANNUAL_REMINDER, 365 * 24, True, True),
    (RuleKind.AGREEMENT_RENEWAL, 30 * 24, True, False),
)
