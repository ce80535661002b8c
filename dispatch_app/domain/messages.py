"""Customer messages: what they are about, how they travel, and the rules a texting
business must keep (consent, opt-out words, quiet hours, placeholders, retries).

No database and no Qt: the outbox (``services/outbox``) and the template editor ask
these rules; migration 0009 keeps frozen copies of the vocabulary in its checks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import tzfpy
from phonenumbers import timezone as phone_zones

from dispatch_app.domain.phones import normalise_phone


class MessageEvent(StrEnum):
    """Why a message is sent; each has a template per channel."""

    ON_THE_WAY = "on_the_way"
    JOB_DONE = "job_done"
    REVIEW_REQUEST = "review_request"
    MAINTENANCE_REMINDER = "maintenance_reminder"
    MAINTENANCE_OFFER = "maintenance_offer"  # a plan offered some time after a repair
    TEST = "test"

    @property
    def purpose(self) -> Purpose:
        """What consent the message needs: a review request asks for something."""
        return Purpose.PROMOTIONAL if self in _PROMOTIONAL else Purpose.INFORMATIONAL

    @property
    def about_now(self) -> bool:
        """Whether the message is about something happening now, so it goes at any hour
        (an emergency at 22:00 is exactly when the customer wants the text); the others
        wait for quiet hours to end."""
        return self in _ABOUT_NOW

    @property
    def label(self) -> str:
        return _EVENT_LABELS[self]


class Channel(StrEnum):
    """How a message travels; ``log`` only writes a line (a new install's default)."""

    LOG = "log"
    EMAIL = "email"
    SMS = "sms"

    @property
    def label(self) -> str:
        return _CHANNEL_LABELS[self]


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

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


class Consent(StrEnum):
    """What a customer agreed to receive, recorded at booking."""

    NONE = "none"
    INFORMATIONAL = "informational"  # texts about their visits
    PROMOTIONAL = "promotional"  # and review requests and offers


_ABOUT_NOW = frozenset({MessageEvent.ON_THE_WAY, MessageEvent.JOB_DONE, MessageEvent.TEST})
_PROMOTIONAL = frozenset({MessageEvent.REVIEW_REQUEST, MessageEvent.MAINTENANCE_OFFER})
_EVENT_LABELS = {
    MessageEvent.ON_THE_WAY: "On the way",
    MessageEvent.JOB_DONE: "Job done",
    MessageEvent.REVIEW_REQUEST: "Review request",
    MessageEvent.MAINTENANCE_REMINDER: "Maintenance reminder",
    MessageEvent.MAINTENANCE_OFFER: "Maintenance plan offer",
    MessageEvent.TEST: "Test",
}
_CHANNEL_LABELS = {Channel.LOG: "Log only", Channel.EMAIL: "Email", Channel.SMS: "Text message"}
_STATE_LABELS = {
    MessageState.QUEUED: "Queued",
    MessageState.SENDING: "Sending",
    MessageState.SENT: "Sent",
    MessageState.FAILED: "Failed",
    MessageState.CANCELLED: "Cancelled",
}


# -- templates ------------------------------------------------------------------------
PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "company": "the company's name",
        "company_phone": "the company's phone number",
        "customer": "the customer's first name",
        "technician": "the technician's first name",
        "arrival": 'the arrival estimate, e.g. "2:40 PM"',
        "window": 'the promised arrival window, e.g. "2:00–4:00 PM"',
        "work_order": 'the work order\'s number, e.g. "WO-10023"',
        "review_link": "the link where the customer leaves a review",
    }
)

SMS_TEMPLATE_MAX_CHARS = 1000
EMAIL_TEMPLATE_MAX_CHARS = 5000
SUBJECT_MAX_CHARS = 200
SMS_MAX_CHARS = 1600  # the longest text a provider takes (Twilio's limit); cut here

# Written as regular expressions PostgreSQL reads the same way, since migration 0009's
# trigger keeps a copy of these rules for whoever writes templates from psql.
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_BRACED = re.compile(r"\{([^{}]*)\}")
_BRACE = re.compile(r"[{}]")
# Control characters but newline and tab; lone surrogates cannot be stored either.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_KNOWN = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def template_problem(subject: str, body: str, channel: Channel) -> str | None:
    """The one sentence why a template cannot be saved, or ``None`` when it can.

    ``subject`` counts for email only (a text has none); the log channel writes the text
    message's words, so it is held to the text's rules.
    """
    email = channel == Channel.EMAIL
    if not body.strip():
        return "The template says nothing: write the message."
    if email:
        if not subject.strip():
            return "An email template needs a subject."
        if "\n" in subject or "\r" in subject:
            return "An email's subject is one line: take out the line break."
        if len(subject.strip()) > SUBJECT_MAX_CHARS:
            return (
                f"An email's subject is at most {SUBJECT_MAX_CHARS} characters; "
                f"this one has {len(subject.strip()):,}."
            )
    for field, words in (("subject", subject if email else ""), ("message", body)):
        found = _CONTROL.search(words)
        if found:
            return (
                f"The {field} has an invisible control character (U+{ord(found[0]):04X}) at "
                f"character {found.start() + 1:,}: take it out."
            )
    most = EMAIL_TEMPLATE_MAX_CHARS if email else SMS_TEMPLATE_MAX_CHARS
    if len(body) > most:
        kind = "An email" if email else "A text message"
        return f"{kind} template is at most {most:,} characters; this one has {len(body):,}."
    for words in (subject if email else "", body):
        for name in _BRACED.findall(words):
            if name not in PLACEHOLDERS:
                shown = name if len(name) <= 40 else name[:39] + "…"
                return f"The template uses {{{shown}}}, which is not a placeholder: use {_KNOWN}."
        if _BRACE.search(_PLACEHOLDER.sub("", words)):
            return "The template has a brace that opens or closes no placeholder."
    return None


def render(text: str, context: Mapping[str, str]) -> str:
    """``text`` with each placeholder replaced by its value in ``context`` (missing: empty).

    One pass: a value that itself reads ``{company}`` stays as it is, so a customer named
    "{review_link}" gets no link. Braces that are not a placeholder are left alone.
    """

    def value(found: re.Match[str]) -> str:
        name = found[1]
        if name not in PLACEHOLDERS:
            return found[0]
        given = context.get(name)
        return "" if given is None else str(given)

    return _PLACEHOLDER.sub(value, text)


def first_name(full_name: str) -> str:
    """How a message greets someone: the first word of their name."""
    words = full_name.split()
    return words[0] if words else ""


# -- replies --------------------------------------------------------------------------
class ReplyIntent(StrEnum):
    """What a customer's reply asks for, in the words carriers require businesses to honour."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# The CTIA keywords Twilio also honours. "CANCEL" is among them: a customer replying
# "Cancel" to a reminder is opted out, whatever they meant, so the office should call.
_REPLY_WORDS = {
    **dict.fromkeys(
        ("stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke"),
        ReplyIntent.OPT_OUT,
    ),
    "optout": ReplyIntent.OPT_OUT,
    **dict.fromkeys(("start", "unstop", "yes"), ReplyIntent.OPT_IN),
    **dict.fromkeys(("help", "info"), ReplyIntent.HELP),
}


def reply_intent(body: str) -> ReplyIntent | None:
    """What a reply asks for when the whole reply is one keyword ("Stop.", "ＳＴＯＰ",
    " stop all! "); ``None`` for anything else ("Please stop by at 3")."""
    said = unicodedata.normalize("NFKC", body).casefold()
    said = " ".join(said.split())
    while said and (said[-1].isspace() or unicodedata.category(said[-1]).startswith("P")):
        said = said[:-1]
    return _REPLY_WORDS.get(said)


# -- quiet hours ----------------------------------------------------------------------
_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class QuietHours:
    """The hours of the recipient's wall clock when messages that can wait do wait.

    ``starts`` after ``ends`` spans midnight (21:00–08:00, the default); before it, one
    stretch of the day (12:00–13:00); equal, never quiet.
    """

    starts: dt.time = dt.time(21, 0)
    ends: dt.time = dt.time(8, 0)

    def __post_init__(self) -> None:
        if self.starts.tzinfo is not None or self.ends.tzinfo is not None:
            raise ValueError("Quiet hours are wall-clock times: give them without a time zone.")

    @classmethod
    def from_text(cls, start: str, end: str) -> QuietHours:
        """Quiet hours from settings text such as ``"21:00"`` and ``"8:00"``."""
        return cls(_time_of_day(start, "start"), _time_of_day(end, "end"))

    def _quiet_at(self, wall: dt.time) -> bool:
        if self.starts < self.ends:
            return self.starts <= wall < self.ends
        if self.starts > self.ends:
            return wall >= self.starts or wall < self.ends
        return False

    def allows(self, moment: dt.datetime, zone: ZoneInfo) -> bool:
        """Whether a message may go at ``moment`` on the recipient's wall clock."""
        wall = _aware(moment).astimezone(zone).time()
        return not self._quiet_at(wall)

    def next_allowed(self, moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """``moment`` itself when allowed, else the first instant quiet hours are over on
        the recipient's wall clock (in ``zone``).

        Across daylight saving: an end the clock skips (2:30 on a spring-forward night)
        is over when the clock jumps past it; an end the clock shows twice is over the
        first time it shows it after ``moment``.
        """
        instant = _aware(moment).astimezone(dt.UTC)
        # Three rounds cover a day the zone skipped altogether (Samoa, 30 December 2011).
        for _ in range(3):
            if self.allows(instant, zone):
                return instant.astimezone(zone) if instant != moment else moment
            wall = instant.astimezone(zone)
            day = wall.date() if wall.time() < self.ends else wall.date() + dt.timedelta(days=1)
            following = min(
                start
                for when in (day, day + dt.timedelta(days=1))
                for start in _wall_instants(dt.datetime.combine(when, self.ends), zone)
                if start > instant
            )
            # Clocks going back can leave quiet hours before the wall shows their end
            # (quiet 1:30–2:30, and at 2:00 it is 1:00 again).
            if following.astimezone(zone).utcoffset() != instant.astimezone(zone).utcoffset():
                change = _clock_change(instant, following, zone)
                if change > instant and self.allows(change, zone):
                    following = change
            instant = following
        raise AssertionError("quiet hours never ended")  # pragma: no cover - see above


def _time_of_day(text: str, end: str) -> dt.time:
    found = _TIME_OF_DAY.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        example = "21:00" if end == "start" else "08:00"
        raise ValueError(
            f"Quiet hours {end} at {str(text)[:20]!r}, which is not a time of day: "
            f"write it like {example}."
        )
    return dt.time(int(found[1]), int(found[2]))


def _wall_instants(wall: dt.datetime, zone: ZoneInfo) -> list[dt.datetime]:
    """The instants (UTC) at which the wall clock in ``zone`` reaches ``wall``: one, two
    when the clock goes back over it, or, when the clock skips it, the instant it jumps
    past."""
    earlier, later = sorted(
        wall.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC) for fold in (0, 1)
    )
    real = [u for u in (earlier, later) if u.astimezone(zone).replace(tzinfo=None) == wall]
    if real:
        return sorted(set(real))
    # In the gap: the two readings straddle the jump.
    return [_clock_change(earlier, later, zone)]


def _clock_change(before: dt.datetime, after: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant the zone's offset changes between ``before`` and ``after`` (UTC offsets
    that differ), found by halving; zones change on whole seconds."""
    offset_after = after.astimezone(zone).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("The moment must carry a time zone.")
    return moment


def recipient_zone(
    *, lat: float | None, lon: float | None, phone: str | None, business_zone: ZoneInfo
) -> ZoneInfo:
    """The time zone on the recipient's wall: the site's, else the phone number's area
    code when it has just one zone, else the business's."""
    return _site_zone(lat, lon) or _phone_zone(phone) or business_zone


def _site_zone(lat: float | None, lon: float | None) -> ZoneInfo | None:
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = tzfpy.get_tz(lon, lat)  # longitude first
    # Open sea gets "Etc/GMT+2" and the like: a site there is a misplaced pin, such as
    # 0, 0, where a failed geocode lands.
    return None if name.startswith("Etc/") else _zone(name)


def _phone_zone(phone: str | None) -> ZoneInfo | None:
    if not phone:
        return None
    try:
        number = phonenumbers.parse(normalise_phone(phone), None)
    except (ValueError, phonenumbers.NumberParseException):
        return None
    zones = phone_zones.time_zones_for_number(number)
    # Toll-free and mobile numbers in big countries name many zones: no answer.
    return _zone(zones[0]) if len(zones) == 1 and not zones[0].startswith("Etc/") else None


def _zone(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# -- sending --------------------------------------------------------------------------
MAX_ATTEMPTS = 5
_FIRST_RETRY = dt.timedelta(seconds=30)
_LONGEST_RETRY = dt.timedelta(hours=1)


def retry_delay(attempt: int) -> dt.timedelta:
    """How long to wait after failed attempt number ``attempt`` (1 for the first):
    30 s, 2 min, 8 min, 32 min, then an hour. The same every time; a caller that wants
    workers not to retry in step spreads them itself (by the message's id)."""
    steps = min(max(attempt, 1) - 1, 10)  # 4**3 already passes the hour
    return min(_FIRST_RETRY * 4**steps, _LONGEST_RETRY)


def gives_up(attempt: int, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Whether failed attempt number ``attempt`` is the last one."""
    return attempt >= max_attempts


def arrival_text(moment: dt.datetime, zone: ZoneInfo) -> str:
    """An arrival estimate as a customer reads it, "2:40 PM": rounded up to the next five
    minutes, since a technician who comes a little early disappoints no one."""
    seconds = _aware(moment).timestamp()
    rounded = dt.datetime.fromtimestamp(math.ceil(seconds / 300) * 300, dt.UTC)
    return _clock_text(rounded.astimezone(zone), with_half=True)


def window_text(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> str:
    """A promised arrival window, "2:00–4:00 PM", or "11:00 AM–1:00 PM" across noon."""
    first = _aware(start).astimezone(zone)
    last = _aware(end).astimezone(zone)
    same_half = first.date() == last.date() and (first.hour < 12) == (last.hour < 12)
    return f"{_clock_text(first, with_half=not same_half)}–{_clock_text(last, with_half=True)}"


def _clock_text(wall: dt.datetime, *, with_half: bool) -> str:
    # Not strftime: "%-I" does not exist on Windows, and the locale must not change it.
    text = f"{wall.hour % 12 or 12}:{wall.minute:02d}"
    return f"{text} {'AM' if wall.hour < 12 else 'PM'}" if with_half else text


# -- text message length --------------------------------------------------------------
# GSM 03.38: the basic set costs one septet a character, the extension set two (an
# escape first). Anything else sends the whole text as UCS-2.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")


def sms_segments(body: str) -> int:
    """How many text messages ``body`` is sent (and billed) as: one up to 160 GSM
    characters or 70 others, then 153 or 67 a part. An empty body is none."""
    if not body:
        return 0
    if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in body):
        units = [2 if c in _GSM_EXTENSION else 1 for c in body]
        single, part = 160, 153
    else:
        # UTF-16 code units: an emoji takes two.
        units = [2 if ord(c) > 0xFFFF else 1 for c in body]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    # An escaped character or a surrogate pair is never split between two parts.
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments
