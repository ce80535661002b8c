"""Reading a phone system's call log (``domain/call_log``), no database: the column
names systems use, the time and duration formats, the files spreadsheets save, and a
sentence with its row number for each thing wrong."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dispatch_app.domain.call_log import (
    MOST_CELL,
    MOST_ROWS,
    CallLog,
    LoggedCall,
    read_call_log,
)
from dispatch_app.domain.leads import LeadSource

TZ = ZoneInfo("America/Chicago")
# Saturday noon in Chicago: the office imports the week's log.
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=TZ)
UTC = dt.UTC


def read(text: str, *, encoding: str = "utf-8") -> CallLog:
    return read_call_log(text.encode(encoding), zone=TZ, now=NOW)


def only(text: str) -> LoggedCall:
    log = read(text)
    assert log.problems == ()
    (call,) = log.calls
    return call


def problems(text: str) -> list[str]:
    log = read(text)
    assert log.calls == () or log.problems
    return list(log.problems)


GOOD = (
    "Time,Caller Number,Caller Name,Duration,Status\r\n"
    "2026-12-04 14:03,(312) 555-0142,José Núñez,1:15,Answered\r\n"
    "2026-12-04 14:05,312.555.0143,,0,No Answer\r\n"
    '2026-12-04T14:07:10-06:00,+1 312 555 0144,"Doe, Jane",00:02:05,Voicemail\r\n'
)


def test_a_plain_log_reads_every_call_with_its_source_time_and_number() -> None:
    log = read(GOOD)
    assert log.problems == ()
    assert [(c.row, c.source, c.phone, c.name, c.duration_seconds) for c in log.calls] == [
        (2, LeadSource.CALL, "+13125550142", "José Núñez", 75),
        (3, LeadSource.MISSED_CALL, "+13125550143", "", 0),
        (4, LeadSource.VOICEMAIL, "+13125550144", "Doe, Jane", 125),
    ]
    # Times without an offset are on Chicago's wall clock (CST, UTC−6 in December).
    assert [c.received_at for c in log.calls] == [
        dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC),
        dt.datetime(2026, 12, 4, 20, 5, tzinfo=UTC),
        dt.datetime(2026, 12, 4, 20, 7, 10, tzinfo=UTC),
    ]
    assert log.calls[0].external_id == "call:2026-12-04T20:03:00Z:+13125550142"
    assert (log.anonymous, log.repeated, log.not_incoming) == (0, 0, 0)


CALL = "2026-12-04 14:03,3125550142"


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("Date/Time,From,Name,Duration (s),Result", f"{CALL},Ann,75,answered"),
        ("START TIME,Caller ID,CNAM,Talk Time,Disposition", f"{CALL},Ann,75,ANSWERED"),
        ("call time,phone,caller name,duration,answered", f"{CALL},Ann,75,yes"),
        ("Date,Phone,Name,Duration,Status", f"{CALL},Ann,75,answered"),
        # A date and a time column together, as RingCentral writes them.
        ("Date,Time,From,Name,Length,Status", "12/04/2026,2:03 PM,3125550142,Ann,0:01:15,answered"),
        # Columns in another order, and others the import ignores.
        (
            "Extension,Status,  Caller Number ,To,Time,Recording",
            "101,answered,3125550142,+13125550100,2026-12-04 14:03,x",
        ),
    ],
)  # fmt: skip
def test_each_columns_usual_names_are_found_in_any_case_and_order(header: str, row: str) -> None:
    call = only(f"{header}\n{row}\n")
    assert call.phone == "+13125550142"
    assert call.received_at == dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)
    assert call.source == LeadSource.CALL


@pytest.mark.parametrize(
    ("said", "moment"),
    [
        ("2026-12-04 14:03", dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)),
        ("2026-12-04T14:03:59", dt.datetime(2026, 12, 4, 20, 3, 59, tzinfo=UTC)),
        ("2026-12-04T14:03:00Z", dt.datetime(2026, 12, 4, 14, 3, tzinfo=UTC)),
        ("2026-12-04T15:03:00-05:00", dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)),
        ("12/04/2026 2:03 PM", dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)),
        ("12/4/2026 2:03pm", dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)),
        ("12/04/2026, 2:03:30 p.m.", dt.datetime(2026, 12, 4, 20, 3, 30, tzinfo=UTC)),
        ("12/04/2026 14:03", dt.datetime(2026, 12, 4, 20, 3, tzinfo=UTC)),
        ("12/04/26 9:03 AM", dt.datetime(2026, 12, 4, 15, 3, tzinfo=UTC)),
        # Summer: the company's zone is CDT, UTC−5.
        ("07/04/2026 14:03", dt.datetime(2026, 7, 4, 19, 3, tzinfo=UTC)),
    ],
)
def test_times_in_the_formats_phone_systems_write(said: str, moment: dt.datetime) -> None:
    call = only(f'Time,Caller Number,Status\n"{said}",3125550142,missed\n')
    assert call.received_at == moment


@pytest.mark.parametrize(
    ("said", "seconds"),
    [("75", 75), ("75s", 75), ("0", 0), ("1:15", 75), ("01:02:03", 3723), ("", None), ("-", None)],
)
def test_durations_in_seconds_or_on_a_clock(said: str, seconds: int | None) -> None:
    call = only(f"Time,Caller Number,Duration,Status\n2026-12-04 14:03,3125550142,{said},missed\n")
    assert call.duration_seconds == seconds


@pytest.mark.parametrize(
    ("status", "source"),
    [
        ("answered", LeadSource.CALL),
        ("Yes", LeadSource.CALL),
        ("missed", LeadSource.MISSED_CALL),
        ("No Answer", LeadSource.MISSED_CALL),
        ("no_answer", LeadSource.MISSED_CALL),
        ("Abandoned", LeadSource.MISSED_CALL),
        ("no", LeadSource.MISSED_CALL),
        ("Voicemail", LeadSource.VOICEMAIL),
        ("voice mail", LeadSource.VOICEMAIL),
    ],
)
def test_what_happened_decides_the_source(status: str, source: LeadSource) -> None:
    call = only(f"Time,Caller Number,Status\n2026-12-04 14:03,3125550142,{status}\n")
    assert call.source == source


def test_anonymous_callers_are_counted_not_stored_and_not_errors() -> None:
    log = read(
        "Time,Caller Number,Status\n"
        "2026-12-04 14:03,Anonymous,missed\n"
        "2026-12-04 14:04,RESTRICTED,missed\n"
        "2026-12-04 14:05,,missed\n"
        "2026-12-04 14:06,Private Number,answered\n"
        "2026-12-04 14:07,3125550142,missed\n"
    )
    assert log.problems == ()
    assert [call.row for call in log.calls] == [6]
    assert log.anonymous == 4


def test_outgoing_calls_are_left_out_by_the_direction_column() -> None:
    log = read(
        "Time,Direction,From,Status\n"
        "2026-12-04 14:03,Inbound,3125550142,missed\n"
        "2026-12-04 14:04,Outbound,3125550100,answered\n"
        "2026-12-04 14:05,internal,3125550100,answered\n"
    )
    assert log.problems == ()
    assert [call.row for call in log.calls] == [2]
    assert log.not_incoming == 2


def test_the_same_call_twice_in_a_file_is_one_call() -> None:
    # The second row is the first in another spelling: same moment, same number.
    log = read(
        "Time,Caller Number,Status\n"
        "2026-12-04 14:03,3125550142,missed\n"
        "12/04/2026 2:03 PM,(312) 555-0142,missed\n"
        "2026-12-04 14:04,3125550142,missed\n"
    )
    assert [call.row for call in log.calls] == [2, 4]
    assert log.repeated == 1


def test_a_sip_caller_id_gives_the_number_and_the_name() -> None:
    call = only('Time,Caller ID,Status\n2026-12-04 14:03,"""JANE DOE"" <3125550142>",missed\n')
    assert (call.phone, call.name) == ("+13125550142", "JANE DOE")


# -- files as spreadsheets and phone systems save them -----------------------------------
def test_excel_utf8_with_a_byte_order_mark_and_crlf() -> None:
    log = read_call_log(GOOD.encode("utf-8-sig"), zone=TZ, now=NOW)
    assert log.problems == ()
    assert log.calls[0].name == "José Núñez"


def test_windows_1252_text_is_read_when_it_is_not_utf8() -> None:
    log = read(GOOD, encoding="cp1252")
    assert log.problems == ()
    assert log.calls[0].name == "José Núñez"


def test_semicolon_files_with_excels_sep_line_and_blank_lines() -> None:
    text = GOOD.replace(",", ";").replace('"Doe; Jane"', '"Doe, Jane"')
    plain = read(text + "\r\n\r\n")  # blank lines at the end are nothing
    assert plain.problems == ()
    assert [call.row for call in plain.calls] == [2, 3, 4]
    assert plain.calls[2].name == "Doe, Jane"
    spaced = read("sep=;\r\n" + text.replace("\r\n2026-12-04 14:05", "\r\n\r\n2026-12-04 14:05"))
    assert spaced.problems == ()
    # Excel does not show the sep= line: the header is still row 1; the blank row counts.
    assert [call.row for call in spaced.calls] == [2, 4, 5]
    assert [c.external_id for c in spaced.calls] == [c.external_id for c in plain.calls]


def test_tab_separated_files() -> None:
    call = only("Time\tCaller Number\tStatus\n2026-12-04 14:03\t3125550142\tmissed\n")
    assert call.phone == "+13125550142"


def test_utf16_text_as_excel_saves_unicode_text() -> None:
    text = GOOD.replace(",", "\t").replace("Doe\t Jane", "Doe, Jane")
    log = read_call_log(text.encode("utf-16"), zone=TZ, now=NOW)
    assert log.problems == ()
    assert len(log.calls) == 3


# -- each problem, with its row ---------------------------------------------------------
HEADER = "Time,Caller Number,Caller Name,Duration,Status\n"


def test_an_impossible_date_names_its_row() -> None:
    assert problems(
        HEADER + "2026-12-04 14:03,3125550142,,,missed\n" * 5 + "12/34/2026,3125550142,,,missed\n"
    ) == ["Row 7: '12/34/2026' is a date without a time of day."]
    assert problems(HEADER + "12/34/2026 1:00 PM,3125550142,,,missed\n") == [
        "Row 2: '12/34/2026 1:00 PM' is not a date and time."
    ]
    assert problems(HEADER + "2026-02-30 10:00,3125550142,,,missed\n") == [
        "Row 2: '2026-02-30 10:00' is not a date and time."
    ]
    assert problems(HEADER + ",3125550142,,,missed\n") == ["Row 2: the time is empty."]
    assert problems(HEADER + "1999-12-04 10:00,3125550142,,,missed\n") == [
        "Row 2: '1999-12-04 10:00' is in 1999; a call is from 2000 to 2099."
    ]


def test_a_call_more_than_a_day_ahead_is_refused() -> None:
    log = read(
        HEADER
        + "2026-12-06 11:59,3125550142,,,missed\n"  # 23:59 ahead: a clock set wrong
        + "2026-12-06 12:01,3125550143,,,missed\n"
    )
    assert list(log.problems) == [
        "Row 3: '2026-12-06 12:01' is more than a day from now; is the phone system's "
        "date or time zone wrong?"
    ]


def test_a_number_that_is_not_one_names_its_row() -> None:
    rows = "".join(f"2026-12-04 14:0{n},31255501{n}0,,,missed\n" for n in range(7))
    assert problems(HEADER + rows + "2026-12-04 14:09,555,,,missed\n") == [
        "Row 9: the caller number '555' is not a phone number."
    ]


def test_every_problem_of_a_row_and_of_every_row_is_said() -> None:
    assert problems(
        HEADER
        + "2026-12-04 14:03,3125550142,Ann,forever,maybe\n"
        + "2026-12-04 14:04,3125550143,Bob,25:00:00,\n"
    ) == [
        "Row 2: the status 'maybe' is not answered, missed, no answer, abandoned or voicemail.",
        "Row 2: the duration 'forever' is not seconds, h:mm:ss or m:ss (such as 75 or 1:15).",
        "Row 3: the status is empty: write answered, missed or voicemail.",
        "Row 3: the duration '25:00:00' is longer than a day.",
    ]


def test_nul_bytes_and_huge_cells_are_refused_by_row() -> None:
    assert problems(HEADER + "2026-12-04 14:03,3125550142,A\x00n,,missed\n") == [
        "Row 2: the row holds a NUL byte; is the file a CSV text file?"
    ]
    long = "x" * (MOST_CELL + 1)
    assert problems(HEADER + f"2026-12-04 14:03,3125550142,{long},,missed\n") == [
        f"Row 2: a cell holds {MOST_CELL + 1:,} characters; a call log's cells are at most "
        f"{MOST_CELL:,}."
    ]
    assert problems(HEADER + "2026-12-04 14:03,3125550142,\x1b[31mAnn,,missed\n") == [
        "Row 2: the caller name contains an invisible control character (U+001B); remove it."
    ]


def test_a_quote_never_closed_is_refused_not_swallowed() -> None:
    assert problems(HEADER + '2026-12-04 14:03,3125550142,"Ann,,missed\n') == [
        'Row 2: a quote (") opens a cell that is never closed.'
    ]


def test_missing_columns_say_what_to_name_them() -> None:
    assert problems("Time,Name,Status\n2026-12-04 14:03,Ann,missed\n") == [
        "The file has no caller number column: name it 'Caller Number'."
    ]
    assert problems("When,Caller Number,Duration\nx,3125550142,1\n") == [
        "The file has no time column: name it 'Time'.",
        "The file has no status column (answered, missed or voicemail): name it 'Status'.",
    ]


def test_an_empty_file_a_header_alone_and_files_that_are_not_csv() -> None:
    assert problems("") == ["The file is empty; a call log's first row names its columns."]
    assert problems("\r\n\r\n  \r\n") == [
        "The file is empty; a call log's first row names its columns."
    ]
    assert problems(HEADER) == ["The file has a header but no calls."]
    workbook = read_call_log(b"PK\x03\x04\x14\x00\x06\x00", zone=TZ, now=NOW)
    assert workbook.problems[0].startswith("The file is an Excel workbook, not CSV")
    binary = read_call_log(b"\x00\x01\x02Time\x00,\x00", zone=TZ, now=NOW)
    assert binary.problems == ("The file holds NUL bytes: it is not a CSV text file.",)
    undecodable = read_call_log(
        b"Time,Caller Number,Status\n\x81\x8d,\x90,\x9d\n", zone=TZ, now=NOW
    )
    assert undecodable.problems == (
        "The file is neither UTF-8 nor Windows text; save it as CSV UTF-8.",
    )


def test_too_many_rows_is_refused_before_the_rows_are_read() -> None:
    row = "2026-12-04 14:03,555,,,missed\n"  # every one bad: none is looked at
    log = read(HEADER + row * (MOST_ROWS + 1))
    assert log.problems == (
        f"The file has {MOST_ROWS + 1:,} rows; a call log is at most {MOST_ROWS:,}. "
        "Import it a month at a time.",
    )


def test_the_hour_the_clocks_go_back_reads_as_its_first_pass() -> None:
    # 01:30 on Nov 1, 2026 comes twice in Chicago; a log without offsets cannot say
    # which, so it is the first (CDT, UTC−5). With an offset it is exact.
    first = only("Time,Caller Number,Status\n2026-11-01 01:30,3125550142,missed\n")
    assert first.received_at == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    second = only("Time,Caller Number,Status\n2026-11-01T01:30-06:00,3125550142,missed\n")
    assert second.received_at == dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert first.external_id != second.external_id
