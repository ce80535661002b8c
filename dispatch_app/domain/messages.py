"""Customer messages: what they are about, how they travel, and the rules a texting
business must keep (consent, opt-out words, quiet hours, placeholders, retries).

No database and no Qt: the outbox (``services/outbox``) and the template editor ask
these rules; migration 0009 keeps frozen copies of the vocabulary in its checks.
"""

from __future__ import annotations

from enum import StrEnum


class MessageEvent(StrEnum):
    """Why a message is sent; each has a template per channel."""

    ON_THE_WAY = "on_the_way"
    JOB_DONE = "job_done"
    REVIEW_REQUEST = "review_request"
    MAINTENANCE_REMINDER = "maintenance_reminder"
    TEST = "test"


class Channel(StrEnum):
    """How a message travels; ``log`` only writes a line (a new install's default)."""

    LOG = "log"
    EMAIL = "email"
    SMS = "sms"


class Purpose(StrEnum):
    """Informational messages need the customer's consent to texts; promotional ones
    (review requests, offers) need express consent."""

    INFORMATIONAL = "informational"
    PROMOTIONAL = "promotional"


class MessageState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Consent(StrEnum):
    """What a customer agreed to receive, recorded at booking."""

    NONE = "none"
    INFORMATIONAL = "informational"  # texts about their visits
    PROMOTIONAL = "promotional"  # and review requests and offers
