"""A phone system's call log, as the CSV file it exports, read into calls to store as leads.

Phone systems name their columns differently, so each column is found by any of its
usual names, in any case: the time (``Time``, ``Date``, ``Start Time``, ``Call Time``,
``Date/Time``; or a ``Date`` and a ``Time`` column together), the caller's number
(``Caller Number``, ``From``, ``Caller ID``, ``Phone``), the caller's name (``Caller
Name``, ``Name``, ``CNAM``), the duration (``Duration``, ``Duration (s)``, ``Talk
Time``: seconds, h:mm:ss or m:ss) and what happened (``Status``, ``Result``,
``Disposition``, ``Answered``: answered, missed, no answer, abandoned, voicemail, yes,
no). An optional ``Direction`` column leaves outgoing and internal calls out. Other
columns are ignored.

The whole file is read before anything is stored, and every problem is reported with
its row number as a spreadsheet shows it (the header is row 1). A file from Excel (a
byte-order mark, CRLF, semicolons where the decimal mark is a comma) or from an older
Windows program (cp1252) reads as any other. A time without an offset is on the
company's wall clock; a date like ``12/04/2026`` is month first, as US and Canadian
phone systems write it. Anonymous callers cannot be called back: they are counted, not
stored, and not an error.

Pure: no database. ``services/leads/call_log`` stores what this returns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from dispatch_app.domain.csv_records import csv_records
from dispatch_app.domain.leads import MAX_NAME, LeadSource
from dispatch_app.domain.phones import normalise_phone
from dispatch_app.domain.text_rules import TextRule, checked_text

# A year of a busy shop's calls is a few MB; a bigger file is a wrong file, refused
# before it is decoded.
MOST_BYTES = 20 * 1024 * 1024
MOST_ROWS = 100_000
# No cell of a call log is near this long (a caller name is 15 characters); a longer one
# is a wrong column or a pasted document, and it is refused rather than stored.
MOST_CELL = 1_000
# The database's bound on a lead's duration: a call is at most a day.
LONGEST_CALL = 86_400
# A phone system's clock a little ahead, or its zone set wrong by a few hours, is not
# refused; a call dated next week is a wrong file.
FUTURE_SLACK = dt.timedelta(days=1)
# The years the company's records reach (``domain/time_bounds``).
FIRST_YEAR, LAST_YEAR = 2000, 2099
NAME = TextRule(limit=MAX_NAME, multiline=False)

# Each column's names as phone systems spell them, lowercase, the usual one first (it
# is the one the "name it …" sentence suggests).
FULL_TIME = ("date/time", "date time", "datetime", "date & time", "timestamp", "call start")
DATE_ONLY = ("date", "call date")
TIME_ONLY = ("time", "call time", "start time")
TIME_NAMES = ("time", "date/time", "start time", "call time", "date")
NUMBER_NAMES = (
    "caller number",
    "from",
    "caller id",
    "phone",
    "phone number",
    "caller id number",
    "from number",
    "calling number",
    "caller phone",
    "number",
    "ani",
)
CALLER_NAMES = ("caller name", "name", "cnam", "caller id name", "from name", "contact name")
DURATION_NAMES = (
    "duration",
    "duration (s)",
    "duration (sec)",
    "duration (secs)",
    "duration (seconds)",
    "duration seconds",
    "talk time",
    "call duration",
    "length",
    "call length",
)
STATUS_NAMES = (
    "status",
    "result",
    "disposition",
    "answered",
    "call status",
    "call result",
    "action result",
    "outcome",
)
DIRECTION_NAMES = ("direction", "call direction")

# What a status cell says, made lowercase with dashes and underscores as spaces.
ANSWERED = frozenset(
    {"answered", "answer", "accepted", "connected", "completed", "yes", "y", "true", "1"}
)
MISSED = frozenset(
    {
        "missed",
        "missed call",
        "no answer",
        "noanswer",
        "not answered",
        "unanswered",
        "abandoned",
        "busy",
        "hang up",
        "hung up",
        "hangup",
        "cancelled",
        "canceled",
        "no",
        "n",
        "false",
        "0",
    }
)
VOICEMAIL = frozenset(
    {"voicemail", "voice mail", "vm", "voicemail left", "left voicemail", "voice message"}
)
INCOMING = frozenset({"inbound", "incoming", "in", ""})
NOT_INCOMING = frozenset({"outbound", "outgoing", "out", "internal", "intercom"})
# A caller who withheld the number: there is nobody to call back.
ANONYMOUS = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "private",
        "private number",
        "private caller",
        "blocked",
        "withheld",
        "unknown",
        "unknown caller",
        "unavailable",
        "not available",
        "no caller id",
        "out of area",
    }
)

# ``"JANE DOE" <3125550142>``: a caller ID as SIP phone systems write it.
_SIP_CALLER = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^<>]+)>\s*$')
_CLOCK_DURATION = re.compile(r"^(\d{1,5}):([0-5]\d)(?::([0-5]\d))?$")
_SECONDS = re.compile(r"^(\d{1,6})(?:\.\d+)?\s*(?:s|sec|secs|seconds)?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}/\d{1,2}/\d{2,4}$")
_MERIDIEM = re.compile(r"\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
# Month first (US and Canadian phone systems), then year first; a missing seconds field
# and a 12-hour clock are both common.
_FORMATS = tuple(
    f"{day} {clock}"
    for day in ("%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%Y-%m-%d", "%m-%d-%Y")
    for clock in ("%I:%M %p", "%I:%M:%S %p", "%H:%M", "%H:%M:%S")
)


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """One incoming call of the log, checked and ready to store as a lead."""

    row: int  # as the spreadsheet shows it
    received_at: dt.datetime  # in UTC
    phone: str  # E.164
    name: str
    duration_seconds: int | None
    source: LeadSource  # call, missed_call or voicemail

    @property
    def external_id(self) -> str:
        """The call's key: the same call in two exports (or twice in one) is one lead.
        To the second, since some logs show seconds and some do not."""
        moment = self.received_at.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None)
        return f"call:{moment.isoformat()}Z:{self.phone}"


@dataclass(frozen=True, slots=True)
class CallLog:
    """What a file holds: its calls (when ``problems`` is empty, every one of them),
    and what was left out on purpose."""

    calls: tuple[LoggedCall, ...] = ()
    problems: tuple[str, ...] = ()
    anonymous: int = 0  # no number to call back
    repeated: int = 0  # the same call on an earlier row of the file
    not_incoming: int = 0  # outgoing or internal, by the Direction column


class _Left(Enum):
    """Why a good row is not a call to store."""

    ANONYMOUS = "anonymous"
    NOT_INCOMING = "not incoming"


@dataclass(slots=True)
class _Columns:
    """Where each column is in the header (an index), or None when the file lacks it."""

    time: int | None = None
    date: int | None = None  # a separate date column, its time in ``time``
    number: int | None = None
    name: int | None = None
    duration: int | None = None
    status: int | None = None
    direction: int | None = None
    missing: list[str] = field(default_factory=list)


def too_big(size: int) -> str | None:
    """Why a file of ``size`` bytes is not read at all, or None."""
    if size > MOST_BYTES:
        return (
            f"The file is {size / 1024 / 1024:,.0f} MB; a call log is at most "
            f"{MOST_BYTES // 1024 // 1024} MB. Import it a month at a time."
        )
    return None


def read_call_log(data: bytes, *, zone: dt.tzinfo, now: dt.datetime) -> CallLog:
    """The calls in the file, with every problem in it. ``zone`` is the company's (for
    times without an offset); ``now`` the clock's, for refusing calls in the future."""
    problem = too_big(len(data))
    if problem:
        return CallLog(problems=(problem,))
    text, problem = _decoded(data)
    if problem:
        return CallLog(problems=(problem,))
    text, named = _separator_line(text)
    records, unreadable = _records(text, named or _delimiter(text))
    start = next((i for i, record in enumerate(records) if _filled(record)), None)
    if start is None:
        return CallLog(
            problems=(unreadable or "The file is empty; a call log's first row names its columns.",)
        )
    header = [_header_name(cell) for cell in records[start]]
    if any("\x00" in name for name in header):
        return CallLog(problems=("The file holds NUL bytes: it is not a CSV text file.",))
    columns = _find_columns(header)
    if columns.missing:
        return CallLog(problems=tuple(columns.missing))
    rows = [(start + i + 1, r) for i, r in enumerate(records[start:]) if _filled(r)][1:]
    if len(rows) > MOST_ROWS:
        return CallLog(
            problems=(
                f"The file has {len(rows):,} rows; a call log is at most {MOST_ROWS:,}. "
                "Import it a month at a time.",
            )
        )
    problems: list[str] = []
    calls: list[LoggedCall] = []
    seen: set[str] = set()
    anonymous = repeated = not_incoming = 0
    for number, record in rows:
        read = _row(number, record, columns, zone, now)
        if isinstance(read, list):
            problems.extend(read)
        elif read is _Left.ANONYMOUS:
            anonymous += 1
        elif read is _Left.NOT_INCOMING:
            not_incoming += 1
        elif read.external_id in seen:
            repeated += 1
        else:
            seen.add(read.external_id)
            calls.append(read)
    if unreadable:
        problems.append(unreadable)
    if not problems and not rows:
        problems.append("The file has a header but no calls.")
    return CallLog(tuple(calls), tuple(problems), anonymous, repeated, not_incoming)


# -- the file ---------------------------------------------------------------------------
def _decoded(data: bytes) -> tuple[str, str | None]:
    if data.startswith(b"PK\x03\x04"):
        return "", (
            "The file is an Excel workbook, not CSV: open it in Excel and save it as "
            '"CSV UTF-8 (comma delimited)".'
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return "", "The file starts as UTF-16 text but is not; save it as CSV UTF-8."
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    # Older phone systems and Excel's plain "CSV" save Windows-1252 (José as one byte).
    try:
        return data.decode("cp1252"), None
    except UnicodeDecodeError:
        return "", "The file is neither UTF-8 nor Windows text; save it as CSV UTF-8."


def _separator_line(text: str) -> tuple[str, str | None]:
    """Excel's ``sep=;`` first line: the text without it (Excel does not show it as a
    row, so the header is still row 1), and the delimiter it names."""
    line = text.split("\n", 1)[0].rstrip("\r")
    if line.lower().startswith("sep=") and len(line) == 5:
        return text[len(line) :].lstrip("\r").removeprefix("\n"), line[4]
    return text, None


def _delimiter(text: str) -> str:
    """Comma, or what the header line is separated by instead: a spreadsheet set to a
    decimal comma saves semicolons, and some systems save tabs. The header is looked at
    alone because it holds no numbers and seldom a quoted comma (csv.Sniffer guesses
    from the rows too, where "1,5" or a quoted "Doe, Jane" can fool it)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {mark: header.count(mark) for mark in (",", ";", "\t")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] > counts[","] else ","


def _records(text: str, delimiter: str) -> tuple[list[list[str]], str | None]:
    """The file's rows as lists of cells, up to the first that cannot be read as CSV,
    and the sentence about that one (None when every row reads)."""
    return csv_records(text, delimiter=delimiter, cell="cell")


def _filled(record: Sequence[str]) -> bool:
    return any(cell.strip() for cell in record)


def _header_name(cell: str) -> str:
    return " ".join(cell.strip().strip('"').lower().split())


def _find_columns(header: list[str]) -> _Columns:
    def first(names: Sequence[str]) -> int | None:
        for name in names:
            if name in header:
                return header.index(name)
        return None

    found = _Columns(
        number=first(NUMBER_NAMES),
        name=first(CALLER_NAMES),
        duration=first(DURATION_NAMES),
        status=first(STATUS_NAMES),
        direction=first(DIRECTION_NAMES),
    )
    found.time = first(FULL_TIME)
    if found.time is None:
        date, clock = first(DATE_ONLY), first(TIME_ONLY)
        if date is not None and clock is not None:
            found.date, found.time = date, clock
        else:
            found.time = first(TIME_NAMES)
    if found.time is None:
        found.missing.append("The file has no time column: name it 'Time'.")
    if found.number is None:
        found.missing.append("The file has no caller number column: name it 'Caller Number'.")
    if found.status is None:
        found.missing.append(
            "The file has no status column (answered, missed or voicemail): name it 'Status'."
        )
    return found


# -- one row ------------------------------------------------------------------------------
def _row(
    number: int,
    record: list[str],
    columns: _Columns,
    zone: dt.tzinfo,
    now: dt.datetime,
) -> LoggedCall | list[str] | _Left:
    """The row's call, the sentences about what is wrong with it, or why it is left out."""
    at = f"Row {number}:"

    def cell(index: int | None) -> str:
        return record[index].strip() if index is not None and index < len(record) else ""

    if any("\x00" in value for value in record):
        return [f"{at} the row holds a NUL byte; is the file a CSV text file?"]
    longest = max(len(value) for value in record)
    if longest > MOST_CELL:
        return [
            f"{at} a cell holds {longest:,} characters; a call log's cells are at most "
            f"{MOST_CELL:,}."
        ]
    direction = _words(cell(columns.direction))
    if direction in NOT_INCOMING:
        return _Left.NOT_INCOMING
    problems: list[str] = []
    if direction not in INCOMING:
        problems.append(
            f"{at} the direction {cell(columns.direction)[:40]!r} is not inbound or outbound."
        )
    caller, name = cell(columns.number), cell(columns.name)
    sip = _SIP_CALLER.match(caller)
    if sip:
        caller, name = sip.group(2).strip(), name or sip.group(1).strip()
    if _is_anonymous(caller):
        return _Left.ANONYMOUS
    try:
        phone = normalise_phone(caller)
    except ValueError:
        problems.append(f"{at} the caller number {caller[:40]!r} is not a phone number.")
        phone = ""
    said = cell(columns.time)
    if columns.date is not None:
        said = f"{cell(columns.date)} {said}".strip()
    received_at, problem = _moment(said, zone, now)
    if problem:
        problems.append(f"{at} {problem}")
    source = _source(cell(columns.status))
    if source is None:
        shown = cell(columns.status)[:40]
        problems.append(
            f"{at} the status {shown!r} is not answered, missed, no answer, abandoned or voicemail."
            if shown
            else f"{at} the status is empty: write answered, missed or voicemail."
        )
    duration, problem = _duration(cell(columns.duration))
    if problem:
        problems.append(f"{at} {problem}")
    name, problem = checked_text(f"{at} the caller name", name, NAME)
    if problem:
        problems.append(problem)
    if problems or received_at is None or source is None:
        return problems
    return LoggedCall(number, received_at, phone, name, duration, source)


def _words(value: str) -> str:
    """A status or direction as compared: lowercase, dashes and underscores as spaces."""
    return " ".join(value.lower().replace("-", " ").replace("_", " ").split())


def _is_anonymous(caller: str) -> bool:
    said = _words(caller.strip(" <>\"'()[]"))
    return said in ANONYMOUS or said.startswith("anonymous")


def _source(status: str) -> LeadSource | None:
    said = _words(status)
    if said in ANSWERED:
        return LeadSource.CALL
    if said in MISSED:
        return LeadSource.MISSED_CALL
    if said in VOICEMAIL:
        return LeadSource.VOICEMAIL
    return None


def _moment(said: str, zone: dt.tzinfo, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    """The call's moment in UTC, or the sentence (without its row) saying why not."""
    if not said:
        return None, "the time is empty."
    shown = said[:40]
    if _DATE_ONLY.match(said):
        return None, f"{shown!r} is a date without a time of day."
    moment = _parsed(said)
    if moment is None:
        return None, f"{shown!r} is not a date and time."
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None, f"{shown!r} is in {moment.year}; a call is from {FIRST_YEAR} to {LAST_YEAR}."
    if moment.tzinfo is None or moment.utcoffset() is None:
        # On the company's wall clock. In the hour the clocks go back, the earlier of the
        # two (fold 0): a log without offsets cannot say which it was.
        moment = moment.replace(tzinfo=zone)
    moment = moment.astimezone(dt.UTC)
    if moment > now + FUTURE_SLACK:
        return None, (
            f"{shown!r} is more than a day from now; is the phone system's date or time zone wrong?"
        )
    return moment, None


def _parsed(said: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(said)
    except ValueError:
        pass
    # "12/04/2026, 2:03pm" → "12/04/2026 2:03 PM", which the formats read.
    tidy = _MERIDIEM.sub(lambda m: f" {m.group(1).upper()}M", said.replace(",", " "))
    tidy = " ".join(tidy.split())
    for pattern in _FORMATS:
        try:
            return dt.datetime.strptime(tidy, pattern)
        except ValueError:
            continue
    return None


def _duration(said: str) -> tuple[int | None, str | None]:
    """Seconds, or None when the cell is blank; or the sentence saying why not."""
    if said in ("", "-", "--"):
        return None, None
    seconds: int | None = None
    clock = _CLOCK_DURATION.match(said)
    if clock:
        first, second, third = clock.groups()
        if third is None:  # m:ss
            seconds = int(first) * 60 + int(second)
        else:  # h:mm:ss
            seconds = int(first) * 3600 + int(second) * 60 + int(third)
    elif plain := _SECONDS.match(said.lower()):
        seconds = int(plain.group(1))
    if seconds is None:
        return None, (
            f"the duration {said[:40]!r} is not seconds, h:mm:ss or m:ss (such as 75 or 1:15)."
        )
    if seconds > LONGEST_CALL:
        return None, f"the duration {said[:40]!r} is longer than a day."
    return seconds, None
