"""Leads: every inbound contact before it is a work order, and what became of it.

A lead is an answered or missed call, a voicemail, a web request or an answering
service's message: who (number in E.164, name), when, what they asked for, who owns it
and its outcome. A missed call from a number that booked nothing since becomes a
callback at the top of the inbox; callbacks that reach nobody are counted, and after
``NO_ANSWER_AFTER`` tries the lead closes as "no answer".
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from enum import StrEnum

# Callback tries before a lead is closed as "no answer after N tries".
NO_ANSWER_AFTER = 3
MAX_NAME = 200
MAX_REQUEST = 2000
MAX_EMAIL = 320


class LeadSource(StrEnum):
    CALL = "call"  # answered
    MISSED_CALL = "missed_call"
    VOICEMAIL = "voicemail"
    WEB = "web"
    ANSWERING_SERVICE = "answering_service"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]

    @property
    def missed(self) -> bool:
        """Nobody spoke to the caller: the leak the inbox measures."""
        return self in (LeadSource.MISSED_CALL, LeadSource.VOICEMAIL)


class LeadOutcome(StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    NOT_INTERESTED = "not_interested"
    SPAM = "spam"
    NO_ANSWER = "no_answer"  # called back NO_ANSWER_AFTER times, reached nobody

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_SOURCE_LABELS = {
    LeadSource.CALL: "Answered call",
    LeadSource.MISSED_CALL: "Missed call",
    LeadSource.VOICEMAIL: "Voicemail",
    LeadSource.WEB: "Web request",
    LeadSource.ANSWERING_SERVICE: "Answering service",
    LeadSource.OTHER: "Other",
}
_OUTCOME_LABELS = {
    LeadOutcome.OPEN: "Open",
    LeadOutcome.BOOKED: "Booked",
    LeadOutcome.NOT_INTERESTED: "Not interested",
    LeadOutcome.SPAM: "Spam",
    LeadOutcome.NO_ANSWER: "No answer",
}


@dataclass(frozen=True, slots=True)
class Leak:
    """The revenue a period's missed calls represent, and what calling back recovered.

    ``average_job_value`` is the mean of the period's posted invoices (credit notes and
    void ones left out); ``at_risk`` is every missed call at that value; ``recovered``
    is what the booked ones were actually invoiced.
    """

    since: dt.datetime
    until: dt.datetime
    missed: int
    called_back: int
    booked: int
    average_job_value: decimal.Decimal
    recovered: decimal.Decimal

    @property
    def at_risk(self) -> decimal.Decimal:
        return (self.average_job_value * self.missed).quantize(decimal.Decimal("0.01"))

    @property
    def headline(self) -> str:
        """One line for the inbox header and the reports."""
        return (
            f"{self.missed} missed · {self.called_back} called back · {self.booked} booked"
            f" · ${self.at_risk:,.2f} at risk · ${self.recovered:,.2f} recovered"
        )
