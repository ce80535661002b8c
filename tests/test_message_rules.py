"""Customer messages' rules without a database: templates and their placeholders, the
reply words carriers make us honour, quiet hours on the recipient's wall clock (across
daylight saving), the recipient's time zone, retries, and what a text costs."""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dispatch_app.domain.messages import (
    MAX_ATTEMPTS,
    PLACEHOLDERS,
    SMS_MAX_CHARS,
    Channel,
    Consent,
    MessageEvent,
    MessageState,
    Purpose,
    QuietHours,
    ReplyIntent,
    arrival_text,
    first_name,
    gives_up,
    recipient_zone,
    render,
    reply_intent,
    retry_delay,
    sms_segments,
    template_problem,
    window_text,
)

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
DENVER = ZoneInfo("America/Denver")
UTC = dt.UTC
MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0009_outbox.py"


def chicago(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO, fold=fold)


# -- vocabulary -----------------------------------------------------------------------
def test_the_stored_values_never_change():
    # Migrations 0009 and 0010 keep frozen copies in their checks; renaming a value
    # orphans rows.
    assert [e.value for e in MessageEvent] == [
        "on_the_way",
        "job_done",
        "review_request",
        "maintenance_reminder",
        "maintenance_offer",
        "test",
    ]
    assert [c.value for c in Channel] == ["log", "email", "sms"]
    assert [p.value for p in Purpose] == ["informational", "promotional"]
    assert [s.value for s in MessageState] == ["queued", "sending", "sent", "failed", "cancelled"]
    assert [c.value for c in Consent] == ["none", "informational", "promotional"]
    assert [r.value for r in ReplyIntent] == ["opt_out", "opt_in", "help"]


def test_only_a_review_request_and_a_plan_offer_are_promotional():
    assert {e: e.purpose for e in MessageEvent} == {
        MessageEvent.ON_THE_WAY: Purpose.INFORMATIONAL,
        MessageEvent.JOB_DONE: Purpose.INFORMATIONAL,
        MessageEvent.REVIEW_REQUEST: Purpose.PROMOTIONAL,
        MessageEvent.MAINTENANCE_REMINDER: Purpose.INFORMATIONAL,
        MessageEvent.MAINTENANCE_OFFER: Purpose.PROMOTIONAL,
        MessageEvent.TEST: Purpose.INFORMATIONAL,
    }


def test_messages_about_a_visit_happening_now_go_at_any_hour_and_the_rest_wait():
    assert {e for e in MessageEvent if e.about_now} == {
        MessageEvent.ON_THE_WAY,
        MessageEvent.JOB_DONE,
        MessageEvent.TEST,
    }


def test_labels():
    assert [e.label for e in MessageEvent] == [
        "On the way",
        "Job done",
        "Review request",
        "Maintenance reminder",
        "Maintenance plan offer",
        "Test",
    ]
    assert [s.label for s in MessageState] == ["Queued", "Sending", "Sent", "Failed", "Cancelled"]
    labels = [c.label for c in Channel]
    assert all(label and label[0].isupper() for label in labels)
    assert len(set(labels)) == len(labels)


def test_placeholders_are_the_agreed_ones_in_order_each_explained():
    assert list(PLACEHOLDERS) == [
        "company",
        "company_phone",
        "customer",
        "technician",
        "arrival",
        "window",
        "work_order",
        "review_link",
    ]
    assert all(meaning.strip() for meaning in PLACEHOLDERS.values())
    with pytest.raises(TypeError):
        PLACEHOLDERS["foo"] = "no"  # type: ignore[index]


def test_the_migration_knows_the_same_placeholders():
    spec = importlib.util.spec_from_file_location("outbox_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert tuple(migration.PLACEHOLDERS) == tuple(PLACEHOLDERS)


# -- templates ------------------------------------------------------------------------
ON_THE_WAY = "Hi {customer}, {technician} from {company} is on the way, arriving about {arrival}."


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.LOG, Channel.EMAIL])
def test_a_template_with_known_placeholders_is_accepted(channel):
    assert template_problem("Your visit {work_order}", ON_THE_WAY, channel) is None


def test_every_placeholder_may_be_used_in_the_body_and_an_email_subject():
    every = " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    assert template_problem("", every, Channel.SMS) is None
    assert template_problem(every, every, Channel.EMAIL) is None


def test_line_breaks_tabs_accents_and_emoji_are_fine_in_a_body():
    body = "Hola {customer} 👋\n\n\tGracias — {company}, ¿todo bien? 中文"
    assert template_problem("", body, Channel.SMS) is None


@pytest.mark.parametrize("body", ["", "   ", "\n\t "])
def test_an_empty_body_is_refused(body):
    assert template_problem("Subject", body, Channel.EMAIL) == (
        "The template says nothing: write the message."
    )
    assert template_problem("", body, Channel.SMS) is not None


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("foo", "{foo}"),
        ("Company", "{Company}"),
        (" company ", "{ company }"),
        ("customer_name", "{customer_name}"),
        ("", "{}"),
        ("1", "{1}"),
    ],
)
def test_an_unknown_placeholder_is_refused_naming_it_and_the_known_ones(name, shown):
    problem = template_problem("", f"Hi {{{name}}}, see you soon.", Channel.SMS)
    assert problem == (
        f"The template uses {shown}, which is not a placeholder: use {{company}}, "
        "{company_phone}, {customer}, {technician}, {arrival}, {window}, {work_order}, "
        "{review_link}."
    )


def test_a_very_long_unknown_placeholder_is_shortened_in_the_sentence():
    problem = template_problem("", "{" + "x" * 900 + "}", Channel.SMS)
    assert problem is not None
    assert "x" * 39 + "…}" in problem and len(problem) < 250


def test_an_unknown_placeholder_in_an_email_subject_is_refused():
    problem = template_problem("About {job}", "Hi {customer}", Channel.EMAIL)
    assert problem is not None and "{job}" in problem


def test_a_text_messages_subject_is_not_looked_at():
    # The editor hides it and the service stores "" for texts.
    assert template_problem("{nonsense}\n\x00", "Hi {customer}", Channel.SMS) is None


@pytest.mark.parametrize(
    "body",
    ["Hi {customer", "Hi customer}", "{{company}}", "} {company} {", "Prices from {", "{a{b}"],
)
def test_a_brace_that_belongs_to_no_placeholder_is_refused(body):
    problem = template_problem("", body, Channel.SMS)
    assert problem is not None
    assert "brace" in problem or "not a placeholder" in problem


def test_a_lone_brace_gets_the_brace_sentence():
    assert template_problem("", "Hi {customer", Channel.SMS) == (
        "The template has a brace that opens or closes no placeholder."
    )


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\r", "\x7f", "\x85", "\ud800"])
def test_control_characters_are_refused_with_where_they_are(control):
    problem = template_problem("", f"Hi{control} there", Channel.SMS)
    assert problem is not None
    assert f"U+{ord(control):04X}" in problem and "character 3" in problem


def test_text_message_length_limit():
    assert template_problem("", "x" * 1000, Channel.SMS) is None
    assert template_problem("", "x" * 1001, Channel.SMS) == (
        "A text message template is at most 1,000 characters; this one has 1,001."
    )
    assert template_problem("", "x" * 1001, Channel.LOG) is not None


def test_email_length_limit():
    assert template_problem("Hello", "x" * 5000, Channel.EMAIL) is None
    problem = template_problem("Hello", "x" * 5001, Channel.EMAIL)
    assert problem is not None and "5,000" in problem


def test_an_email_needs_a_one_line_subject_of_at_most_200_characters():
    body = "Hi {customer}"
    assert template_problem("", body, Channel.EMAIL) == "An email template needs a subject."
    assert template_problem("  ", body, Channel.EMAIL) == "An email template needs a subject."
    assert template_problem("s" * 200, body, Channel.EMAIL) is None
    assert "at most 200" in (template_problem("s" * 201, body, Channel.EMAIL) or "")
    assert "line break" in (template_problem("Your\nvisit", body, Channel.EMAIL) or "")
    assert "line break" in (template_problem("Your\rvisit", body, Channel.EMAIL) or "")
    assert "U+0007" in (template_problem("Your\x07visit", body, Channel.EMAIL) or "")


# Text around placeholders: anything but braces and control characters.
_SAFE_TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="{}", codec="utf-8"),
    max_size=30,
)
_KNOWN_NAMES = st.sampled_from(list(PLACEHOLDERS))
_PARTS = st.lists(st.one_of(_SAFE_TEXT, _KNOWN_NAMES.map(lambda n: f"{{{n}}}")), max_size=12)


@given(_PARTS)
def test_any_template_of_text_and_known_placeholders_is_accepted(parts):
    body = "".join(parts)
    if body.strip():
        assert template_problem("", body, Channel.SMS) is None
        assert template_problem("Visit {work_order}", body, Channel.EMAIL) is None


@given(
    _PARTS,
    _PARTS,
    st.text(st.characters(exclude_characters="{}\x00"), max_size=20).filter(
        lambda name: name not in PLACEHOLDERS
    ),
)
def test_any_unknown_placeholder_is_refused(before, after, name):
    body = "".join(before) + "{" + name + "}" + "".join(after)
    problem = template_problem("Visit", body, Channel.SMS)
    assert problem is not None
    if name.isascii() and name.isprintable() and len(name) <= 40 and body.strip():
        assert f"{{{name}}}" in problem


# -- rendering ------------------------------------------------------------------------
def test_render_fills_the_placeholders():
    context = {
        "customer": "José",
        "technician": "Ava",
        "company": "Lakeview Home Services",
        "arrival": "2:40 PM",
    }
    assert render(ON_THE_WAY, context) == (
        "Hi José, Ava from Lakeview Home Services is on the way, arriving about 2:40 PM."
    )


def test_a_missing_value_is_left_empty_and_unknown_braces_alone():
    assert render("Hi {customer}, {foo} {Company} {", {}) == "Hi , {foo} {Company} {"
    assert render("{work_order}", {"foo": "x"}) == ""


def test_a_value_that_looks_like_a_placeholder_is_not_expanded_again():
    context = {"customer": "{review_link}", "review_link": "https://example.com/r", "company": "{"}
    assert render("{customer} {company}{review_link}", context) == (
        "{review_link} {https://example.com/r"
    )


@given(
    _PARTS,
    st.dictionaries(_KNOWN_NAMES, st.text(max_size=20) | _PARTS.map("".join), max_size=8),
)
def test_render_replaces_each_placeholder_once_and_never_expands_a_value(parts, context):
    expected = "".join(
        context.get(part[1:-1], "") if part[1:-1] in PLACEHOLDERS and part[:1] == "{" else part
        for part in parts
    )
    assert render("".join(parts), context) == expected


@pytest.mark.parametrize(
    ("full", "first"),
    [
        ("Maria García-López", "Maria"),
        ("  Ava   Kowalski ", "Ava"),
        ("Prince", "Prince"),
        ("José\u00a0Núñez", "José"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_first_name(full, first):
    assert first_name(full) == first


# -- replies --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("said", "intent"),
    [
        *[
            (word, ReplyIntent.OPT_OUT)
            for word in (
                "STOP",
                "STOPALL",
                "UNSUBSCRIBE",
                "CANCEL",
                "END",
                "QUIT",
                "REVOKE",
                "OPTOUT",
                "STOP ALL",
            )
        ],
        *[(word, ReplyIntent.OPT_IN) for word in ("START", "UNSTOP", "YES")],
        *[(word, ReplyIntent.HELP) for word in ("HELP", "INFO")],
        ("stop", ReplyIntent.OPT_OUT),
        ("  Stop.  ", ReplyIntent.OPT_OUT),
        ("STOP!!!", ReplyIntent.OPT_OUT),
        ("stop ?", ReplyIntent.OPT_OUT),
        ("Stop   all!", ReplyIntent.OPT_OUT),
        ("\nUnsubscribe\n", ReplyIntent.OPT_OUT),
        ("ＳＴＯＰ", ReplyIntent.OPT_OUT),  # full-width, from some phone keyboards
        ("ſtop", ReplyIntent.OPT_OUT),  # NFKC folds the long s
        ("Yes!", ReplyIntent.OPT_IN),
        ("help?", ReplyIntent.HELP),
    ],
)
def test_a_reply_that_is_one_keyword(said, intent):
    assert reply_intent(said) == intent


@pytest.mark.parametrize(
    "said",
    [
        "Please stop by at 3",
        "stop it",
        "Don't stop",
        "yes please come at 3",
        "STOPP",
        ".stop",
        "s t o p",
        "",
        "   ",
        "!!!",
        "Thanks!",
    ],
)
def test_anything_else_is_not_a_keyword(said):
    assert reply_intent(said) is None


# -- quiet hours ----------------------------------------------------------------------
def test_default_quiet_hours_are_nine_at_night_to_eight_in_the_morning():
    assert QuietHours() == QuietHours(dt.time(21), dt.time(8))
    assert QuietHours.from_text("21:00", "08:00") == QuietHours()
    assert QuietHours.from_text(" 9:30 ", "7:05") == QuietHours(dt.time(9, 30), dt.time(7, 5))


@pytest.mark.parametrize(
    ("start", "end", "wrong"),
    [
        ("25:00", "08:00", "start at '25:00'"),
        ("21:00", "8", "end at '8'"),
        ("9pm", "08:00", "start at '9pm'"),
        ("21:60", "08:00", "start"),
        ("", "08:00", "start"),
        ("21:00", "24:00", "end"),
        ("21:00:00", "08:00", "start"),
    ],
)
def test_quiet_hours_that_are_not_times_are_refused_with_a_sentence(start, end, wrong):
    with pytest.raises(ValueError, match="not a time of day") as refused:
        QuietHours.from_text(start, end)
    assert wrong in str(refused.value)


def test_quiet_hours_are_wall_clock_times():
    with pytest.raises(ValueError):
        QuietHours(dt.time(21, tzinfo=UTC), dt.time(8))


@pytest.mark.parametrize(
    ("wall", "allowed"),
    [
        (dt.time(20, 59), True),
        (dt.time(21, 0), False),
        (dt.time(23, 59), False),
        (dt.time(0, 0), False),
        (dt.time(7, 59, 59), False),
        (dt.time(8, 0), True),
        (dt.time(12, 0), True),
    ],
)
def test_overnight_quiet_hours(wall, allowed):
    moment = dt.datetime.combine(dt.date(2026, 6, 10), wall, tzinfo=CHICAGO)
    assert QuietHours().allows(moment, CHICAGO) is allowed


@pytest.mark.parametrize(
    ("wall", "allowed"),
    [(dt.time(11, 59), True), (dt.time(12), False), (dt.time(12, 59), False), (dt.time(13), True)],
)
def test_quiet_hours_within_one_day(wall, allowed):
    lunch = QuietHours(dt.time(12), dt.time(13))
    moment = dt.datetime.combine(dt.date(2026, 6, 10), wall, tzinfo=CHICAGO)
    assert lunch.allows(moment, CHICAGO) is allowed
    expected = moment if allowed else chicago(2026, 6, 10, 13)
    assert lunch.next_allowed(moment, CHICAGO) == expected


def test_equal_start_and_end_is_never_quiet():
    never = QuietHours(dt.time(8), dt.time(8))
    for hour in range(24):
        moment = chicago(2026, 6, 10, hour)
        assert never.allows(moment, CHICAGO)
        assert never.next_allowed(moment, CHICAGO) is moment


def test_quiet_hours_are_the_recipients_not_the_offices():
    # 23:30 in New York is 20:30 in Los Angeles.
    moment = dt.datetime(2026, 6, 11, 3, 30, tzinfo=UTC)
    assert not QuietHours().allows(moment, NEW_YORK)
    assert QuietHours().allows(moment, LOS_ANGELES)
    assert QuietHours().next_allowed(moment, NEW_YORK) == dt.datetime(
        2026, 6, 11, 8, tzinfo=NEW_YORK
    )


def test_an_allowed_moment_is_returned_as_it_is():
    moment = dt.datetime(2026, 6, 10, 17, tzinfo=UTC)
    assert QuietHours().next_allowed(moment, CHICAGO) is moment


def test_a_late_evening_message_waits_for_eight_the_next_morning():
    sent = QuietHours().next_allowed(chicago(2026, 6, 10, 22, 15), CHICAGO)
    assert sent == chicago(2026, 6, 11, 8)
    assert sent.tzinfo is CHICAGO


def test_an_early_morning_message_waits_for_eight_the_same_morning():
    assert QuietHours().next_allowed(chicago(2026, 6, 10, 3), CHICAGO) == chicago(2026, 6, 10, 8)


def test_a_new_years_eve_message_waits_for_the_new_year():
    assert QuietHours().next_allowed(chicago(2026, 12, 31, 23), CHICAGO) == chicago(2027, 1, 1, 8)


def test_the_night_the_clocks_go_forward_is_an_hour_shorter():
    # 8 March 2026, Chicago: 2:00 CST becomes 3:00 CDT.
    evening = chicago(2026, 3, 7, 21, 30)
    morning = QuietHours().next_allowed(evening, CHICAGO)
    assert morning == chicago(2026, 3, 8, 8)
    assert morning.utcoffset() == dt.timedelta(hours=-5)
    assert morning.astimezone(UTC) - evening.astimezone(UTC) == dt.timedelta(hours=9, minutes=30)


def test_the_night_the_clocks_go_back_is_an_hour_longer():
    # 1 November 2026, Chicago: 2:00 CDT becomes 1:00 CST.
    evening = chicago(2026, 10, 31, 21, 30)
    morning = QuietHours().next_allowed(evening, CHICAGO)
    assert morning == chicago(2026, 11, 1, 8)
    assert morning.astimezone(UTC) - evening.astimezone(UTC) == dt.timedelta(hours=11, minutes=30)


def test_quiet_hours_ending_at_a_time_the_clock_skips_end_when_the_clock_jumps():
    # 2:30 does not exist on 8 March 2026 in Chicago: the clock goes 1:59:59 → 3:00.
    quiet = QuietHours(dt.time(1), dt.time(2, 30))
    sent = quiet.next_allowed(chicago(2026, 3, 8, 1, 45), CHICAGO)
    assert sent.astimezone(UTC) == dt.datetime(2026, 3, 8, 8, tzinfo=UTC)
    assert (sent.hour, sent.minute) == (3, 0) and sent.utcoffset() == dt.timedelta(hours=-5)
    assert quiet.allows(sent, CHICAGO)
    assert not quiet.allows(sent.astimezone(UTC) - dt.timedelta(seconds=1), CHICAGO)


def test_quiet_hours_starting_at_a_time_the_clock_skips():
    quiet = QuietHours(dt.time(2, 30), dt.time(6))
    assert quiet.allows(chicago(2026, 3, 8, 1, 59), CHICAGO)
    assert not quiet.allows(chicago(2026, 3, 8, 3, 0), CHICAGO)
    assert quiet.next_allowed(chicago(2026, 3, 8, 3, 0), CHICAGO) == chicago(2026, 3, 8, 6)


def test_quiet_hours_ending_at_a_time_the_clock_shows_twice_end_the_first_time():
    # 1:30 shows twice on 1 November 2026 in Chicago: in CDT, then an hour later in CST.
    quiet = QuietHours(dt.time(0, 30), dt.time(1, 30))
    first = quiet.next_allowed(chicago(2026, 11, 1, 1, 10), CHICAGO)
    assert first.astimezone(UTC) == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_after_the_clock_goes_back_into_quiet_hours_they_end_at_the_second_showing():
    quiet = QuietHours(dt.time(0, 30), dt.time(1, 30))
    # 1:10 CST: the clock has gone back past 1:30 CDT into quiet hours again.
    second_pass = chicago(2026, 11, 1, 1, 10, fold=1)
    assert not quiet.allows(second_pass, CHICAGO)
    sent = quiet.next_allowed(second_pass, CHICAGO)
    assert sent.astimezone(UTC) == dt.datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert sent.astimezone(UTC) > second_pass.astimezone(UTC)


def test_clocks_going_back_out_of_quiet_hours_end_them():
    # Quiet 1:30–2:30; at 2:00 CDT the clock goes back to 1:00 CST, outside quiet hours.
    quiet = QuietHours(dt.time(1, 30), dt.time(2, 30))
    sent = quiet.next_allowed(chicago(2026, 11, 1, 1, 45), CHICAGO)
    assert sent.astimezone(UTC) == dt.datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert (sent.hour, sent.minute) == (1, 0)


def test_a_day_the_zone_skipped_altogether():
    # Samoa skipped 30 December 2011: 29 December 23:59:59 was followed by 31 December.
    apia = ZoneInfo("Pacific/Apia")
    sent = QuietHours().next_allowed(dt.datetime(2011, 12, 29, 22, tzinfo=apia), apia)
    assert sent == dt.datetime(2011, 12, 31, 8, tzinfo=apia)


def test_a_moment_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        QuietHours().allows(dt.datetime(2026, 6, 10, 22), CHICAGO)
    with pytest.raises(ValueError, match="time zone"):
        QuietHours().next_allowed(dt.datetime(2026, 6, 10, 22), CHICAGO)


_ZONES = [
    "America/Chicago",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # half-hour offset
    "America/Phoenix",  # no daylight saving
    "America/Sao_Paulo",  # changes at midnight (until 2019)
    "Europe/London",
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Apia",  # skipped a day
]


def _changes(zone: ZoneInfo) -> list[dt.datetime]:
    """Noon (UTC) of days on which the zone's offset changed, in a few years."""
    found = []
    for year in (2011, 2017, 2026):
        noon = dt.datetime(year, 1, 1, 12, tzinfo=UTC)
        for _ in range(366):
            following = noon + dt.timedelta(days=1)
            if following.astimezone(zone).utcoffset() != noon.astimezone(zone).utcoffset():
                found.append(following)
            noon = following
    return found


_CHANGES = {name: _changes(ZoneInfo(name)) for name in _ZONES}


@st.composite
def _moments(draw: st.DrawFn) -> tuple[dt.datetime, ZoneInfo]:
    name = draw(st.sampled_from(_ZONES))
    if _CHANGES[name] and draw(st.booleans()):
        # Near a change of the clocks, where the mistakes live.
        around = draw(st.sampled_from(_CHANGES[name]))
        moment = around + dt.timedelta(seconds=draw(st.integers(-48 * 3600, 12 * 3600)))
    else:
        moment = draw(
            st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2037, 12, 31), timezones=st.just(UTC))
        )
    return moment, ZoneInfo(name)


_WALL_TIMES = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))


def _quiet_on_wall(quiet: QuietHours, moment: dt.datetime, zone: ZoneInfo) -> bool:
    wall = moment.astimezone(zone).time()
    if quiet.starts < quiet.ends:
        return quiet.starts <= wall < quiet.ends
    return quiet.starts != quiet.ends and (wall >= quiet.starts or wall < quiet.ends)


@given(_moments(), _WALL_TIMES, _WALL_TIMES)
@example((dt.datetime(2026, 3, 8, 7, 45, tzinfo=UTC), CHICAGO), dt.time(1), dt.time(2, 30))
@example((dt.datetime(2026, 11, 1, 7, 10, tzinfo=UTC), CHICAGO), dt.time(0, 30), dt.time(1, 30))
@example((dt.datetime(2026, 3, 8, 3, 0, tzinfo=UTC), CHICAGO), dt.time(21), dt.time(2, 0))
@example((dt.datetime(2026, 11, 1, 3, 0, tzinfo=UTC), CHICAGO), dt.time(21), dt.time(1, 0))
@example((dt.datetime(2026, 11, 1, 6, 45, tzinfo=UTC), CHICAGO), dt.time(1, 30), dt.time(2, 30))
def test_next_allowed_is_the_first_allowed_moment_within_a_day(moment_zone, starts, ends):
    moment, zone = moment_zone
    quiet = QuietHours(starts, ends)
    sent = quiet.next_allowed(moment, zone)
    assert sent.tzinfo is not None
    assert not _quiet_on_wall(quiet, sent, zone)
    assert quiet.allows(sent, zone)
    waited = sent.astimezone(UTC) - moment.astimezone(UTC)
    assert dt.timedelta(0) <= waited <= dt.timedelta(hours=25)
    if _quiet_on_wall(quiet, moment, zone):
        # Not a second later than needed: just before, it was still quiet. (Stepping back
        # in UTC: arithmetic on a zoned datetime moves its wall clock, gaps and all.)
        assert _quiet_on_wall(quiet, sent.astimezone(UTC) - dt.timedelta(seconds=1), zone)
    else:
        assert sent is moment


# -- the recipient's time zone ----------------------------------------------------------
@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+13125550142", CHICAGO),
        ("+12125550142", NEW_YORK),
        ("+12135550142", LOS_ANGELES),
        ("(312) 555-0142", CHICAGO),  # as a CSR typed it
    ],
)
def test_without_a_site_position_the_area_code_says_the_zone(phone, zone):
    assert recipient_zone(lat=None, lon=None, phone=phone, business_zone=DENVER) == zone


def test_the_site_position_comes_first():
    found = recipient_zone(lat=34.05, lon=-118.24, phone="+13125550142", business_zone=DENVER)
    assert found == LOS_ANGELES
    assert found.key == "America/Los_Angeles"  # the outbox stores the key


def test_a_site_position_across_a_zone_line():
    # El Paso, Texas keeps Mountain time; Chicago's phone number does not change that.
    assert recipient_zone(
        lat=31.76, lon=-106.49, phone="+13125550142", business_zone=CHICAGO
    ) == ZoneInfo("America/Denver")


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (0.0, 0.0),  # a failed geocode
        (math.nan, -87.6),
        (41.9, math.inf),
        (95.0, -87.6),
        (41.9, -200.0),
        (35.0, -40.0),  # the middle of the Atlantic
        (41.9, None),
        (None, -87.6),
    ],
)
def test_a_position_that_says_nothing_falls_through_to_the_phone(lat, lon):
    assert recipient_zone(lat=lat, lon=lon, phone="+12125550142", business_zone=DENVER) == NEW_YORK


@pytest.mark.parametrize(
    "phone",
    [
        None,
        "",
        "+18005550100",  # toll free: every North American zone
        "+15555550100",  # no such area code
        "not a number",
        "12",
    ],
)
def test_otherwise_the_business_zone(phone):
    assert recipient_zone(lat=None, lon=None, phone=phone, business_zone=DENVER) == DENVER


def test_a_number_abroad_with_one_zone():
    found = recipient_zone(lat=None, lon=None, phone="+442079460958", business_zone=CHICAGO)
    assert found == ZoneInfo("Europe/London")


# -- retries --------------------------------------------------------------------------
def test_retry_delays_grow_fourfold_up_to_an_hour():
    assert [retry_delay(n) for n in range(1, 8)] == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=8),
        dt.timedelta(minutes=32),
        dt.timedelta(hours=1),
        dt.timedelta(hours=1),
        dt.timedelta(hours=1),
    ]


@given(st.integers(-(10**6), 10**6))
def test_retry_delays_are_always_between_thirty_seconds_and_an_hour(attempt):
    delay = retry_delay(attempt)
    assert dt.timedelta(seconds=30) <= delay <= dt.timedelta(hours=1)
    assert retry_delay(attempt) == delay
    assert retry_delay(attempt + 1) >= delay


def test_giving_up():
    assert MAX_ATTEMPTS == 5
    assert [gives_up(n) for n in range(1, 7)] == [False, False, False, False, True, True]
    assert gives_up(1, 1)
    assert not gives_up(2, 3)


# -- times in messages ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "said"),
    [
        (chicago(2026, 6, 10, 14, 36), "2:40 PM"),
        (chicago(2026, 6, 10, 14, 40), "2:40 PM"),
        (chicago(2026, 6, 10, 14, 40, 1), "2:45 PM"),
        (chicago(2026, 6, 10, 9, 1), "9:05 AM"),
        (chicago(2026, 6, 10, 11, 58), "12:00 PM"),
        (chicago(2026, 6, 10, 23, 56), "12:00 AM"),
        (chicago(2026, 6, 10, 0, 0), "12:00 AM"),
        (chicago(2026, 6, 10, 12, 0), "12:00 PM"),
        (dt.datetime(2026, 6, 10, 19, 36, tzinfo=UTC), "2:40 PM"),
        # The clocks go forward at 2:00: five minutes after 1:58 CST is 3:03 CDT.
        (chicago(2026, 3, 8, 1, 58), "3:00 AM"),
        (chicago(2026, 11, 1, 1, 58, fold=1), "2:00 AM"),
    ],
)
def test_arrival_is_rounded_up_to_five_minutes(moment, said):
    assert arrival_text(moment, CHICAGO) == said


def test_arrival_in_the_recipients_zone():
    assert arrival_text(dt.datetime(2026, 6, 10, 19, 36, tzinfo=UTC), LOS_ANGELES) == "12:40 PM"


def test_arrival_without_a_time_zone_is_refused():
    with pytest.raises(ValueError):
        arrival_text(dt.datetime(2026, 6, 10, 14, 36), CHICAGO)


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        ((14, 0), (16, 0), "2:00–4:00 PM"),
        ((8, 0), (10, 30), "8:00–10:30 AM"),
        ((11, 0), (13, 0), "11:00 AM–1:00 PM"),
        ((12, 0), (14, 0), "12:00–2:00 PM"),
        ((0, 0), (2, 0), "12:00–2:00 AM"),
        ((10, 0), (12, 0), "10:00 AM–12:00 PM"),
    ],
)
def test_arrival_window(start, end, said):
    first = chicago(2026, 6, 10, *start)
    last = chicago(2026, 6, 10, *end)
    assert window_text(first, last, CHICAGO) == said


def test_a_window_past_midnight_names_both_halves():
    assert (
        window_text(chicago(2026, 6, 10, 23), chicago(2026, 6, 11, 1), CHICAGO)
        == "11:00 PM–1:00 AM"
    )
    assert (
        window_text(chicago(2026, 6, 10, 14), chicago(2026, 6, 11, 14), CHICAGO)
        == "2:00 PM–2:00 PM"
    )


def test_a_window_is_shown_on_the_recipients_clock():
    start = dt.datetime(2026, 6, 10, 19, tzinfo=UTC)
    assert window_text(start, start + dt.timedelta(hours=2), NEW_YORK) == "3:00–5:00 PM"


# -- text message length --------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),  # é is in the GSM alphabet
        ("€" * 80, 1),  # the extension set costs two
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 10, 2),  # an escape pair is not split...
        ("a" * 152 + "€" + "a" * 152, 3),  # ...so it starts the second part
        ("ĉ" * 70, 1),
        ("ĉ" * 71, 2),
        ("ĉ" * 134, 2),
        ("ĉ" * 135, 3),
        ("a" * 69 + "😀", 2),  # an emoji is two UTF-16 units and makes the text UCS-2
        ("😀" * 35, 1),
        ("Hi José, your technician is on the way 🚐", 1),
    ],
)
def test_sms_segments(body, segments):
    assert sms_segments(body) == segments


def test_the_longest_text_is_ten_long_parts_or_more():
    assert SMS_MAX_CHARS == 1600
    assert sms_segments("a" * SMS_MAX_CHARS) == 11
    assert sms_segments("a" * 1530) == 10


@given(st.text(max_size=400))
def test_segments_grow_with_the_text(body):
    segments = sms_segments(body)
    assert segments == 0 if not body else segments >= 1
    assert sms_segments(body + "a") >= segments
    assert segments <= max(1, math.ceil(len(body.encode("utf-16-le")) / 2 / 67) + 1)
