"""The message channels against real local stand-ins for the paid services: email to an
SMTP server (aiosmtpd) and texts over HTTP to a server speaking the SMS provider's API;
the settings an office scripts, and the secrets that never live in the database."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from dispatch_app.domain.messages import Channel
from dispatch_app.errors import ConfigurationError
from dispatch_app.services.outbox.channels import (
    Delivery,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
)
from dispatch_app.services.outbox.email import EmailSender, message_id
from dispatch_app.services.outbox.log_channel import LogSender
from dispatch_app.services.outbox.settings import (
    MessageSettings,
    make_sender,
    sms_token,
    smtp_password,
)
from dispatch_app.services.outbox.sms import SmsSender
from tests.stand_ins import SmsProvider, SmtpServer, _free_port

SID = "AC0123456789abcdef0123456789abcdef"
SMS_TOKEN = "token-5b1f0e77"
SMTP_USER = "office"
SMTP_PASSWORD = "Compressor-Relay-8841"
COMPANY_NUMBER = "+13125550100"
CUSTOMER = "+13125550142"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in memory: one the app accepts, without the
    computer's own keyring."""

    priority = 1

    def __init__(self, kept: dict[tuple[str, str], str] | None = None) -> None:
        super().__init__()
        self.kept = dict(kept or {})
        self.asked: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((service, username))
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.kept.pop((service, username), None)


NO_SECRETS: dict[str, str] = {}


@pytest.fixture
def sms() -> Iterator[SmsProvider]:
    with SmsProvider(account_sid=SID, token=SMS_TOKEN) as provider:
        yield provider


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(user=SMTP_USER, password=SMTP_PASSWORD) as server:
        yield server


def sms_settings(provider: SmsProvider, **more: Any) -> MessageSettings:
    return MessageSettings.from_values(
        {
            "message_channels": ["log", "sms"],
            "sms_api_url": provider.url,
            "sms_account_sid": SID,
            "sms_from": "(312) 555-0100",
            **more,
        }
    )


def email_settings(server: SmtpServer, **more: Any) -> MessageSettings:
    return MessageSettings.from_values(
        {
            "message_channels": ["log", "email"],
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_starttls": False,
            "smtp_user": SMTP_USER,
            "smtp_from": "Lakeview Home Services <office@lakeview.example>",
            **more,
        }
    )


def texter(provider: SmsProvider, *, timeout: float = 10.0, token: str = SMS_TOKEN) -> SmsSender:
    sender = make_sender(
        Channel.SMS,
        sms_settings(provider),
        environ={"DISPATCH_SMS_TOKEN": token},
        keyring=MemoryKeyring(),
        timeout=timeout,
    )
    assert isinstance(sender, SmsSender)
    return sender


def mailer(server: SmtpServer, *, password: str = SMTP_PASSWORD, **more: Any) -> EmailSender:
    sender = make_sender(
        Channel.EMAIL,
        email_settings(server, **more),
        environ={"DISPATCH_SMTP_PASSWORD": password},
        keyring=MemoryKeyring(),
        timeout=10.0,
    )
    assert isinstance(sender, EmailSender)
    return sender


def text(
    body: str, *, key: str = "visit:12:on_the_way:sms", to: str = CUSTOMER, **more: Any
) -> OutgoingMessage:
    return OutgoingMessage(
        key=key, channel=Channel.SMS, recipient=to, subject="", body=body, **more
    )


def mail(
    subject: str, body: str, *, key: str = "visit:12:on_the_way:email", to: str = "jose@example.net"
) -> OutgoingMessage:
    return OutgoingMessage(key=key, channel=Channel.EMAIL, recipient=to, subject=subject, body=body)


async def _using(sender: Any, *steps: Any) -> list[Any]:
    """Run each step (a function of the sender returning a coroutine), then close."""
    done = []
    try:
        for step in steps:
            try:
                done.append(await step(sender))
            except Exception as failure:
                done.append(failure)
    finally:
        await sender.aclose()
    return done


# -- email ---------------------------------------------------------------------------
def test_an_email_reaches_the_mail_server_whole_and_its_message_id_is_the_provider_id(
    smtp: SmtpServer,
) -> None:
    subject = "Votre technicien arrive — Núñez Plomberie"
    body = "Hello José,\n\nMaría is on her way (about 25 minutes).\n— Lakeview Home Services"
    sender = mailer(smtp)
    (delivery,) = asyncio.run(_using(sender, lambda s: s.send(mail(subject, body))))
    assert isinstance(delivery, Delivery) and delivery.status == "sent"
    (received,) = smtp.messages
    assert received["from"] == "office@lakeview.example"
    assert received["to"] == ["jose@example.net"]
    assert received["subject"] == subject
    assert received["body"].rstrip("\n") == body
    assert received["email"]["From"].addresses[0].display_name == "Lakeview Home Services"
    assert received["message_id"] == delivery.provider_id
    assert smtp.logins == [SMTP_USER]


def test_a_message_sent_again_keeps_its_message_id_so_mail_systems_see_one_message(
    smtp: SmtpServer,
) -> None:
    first, again, other = asyncio.run(
        _using(
            mailer(smtp),
            lambda s: s.send(mail("On the way", "Hello", key="visit:7:on_the_way:email")),
            lambda s: s.send(mail("On the way", "Hello", key="visit:7:on_the_way:email")),
            lambda s: s.send(mail("Done", "Thanks", key="visit:7:job_done:email")),
        )
    )
    assert first.provider_id == again.provider_id != other.provider_id
    assert first.provider_id == message_id("visit:7:on_the_way:email", "lakeview.example")
    assert first.provider_id.startswith("<outbox.") and first.provider_id.endswith(
        "@lakeview.example>"
    )
    assert [m["message_id"] for m in smtp.messages] == [
        first.provider_id,
        first.provider_id,
        other.provider_id,
    ]
    # One connection (one login) served the three messages.
    assert smtp.logins == [SMTP_USER]


def test_a_dropped_connection_is_opened_again_for_the_next_message(smtp: SmtpServer) -> None:
    async def scenario(sender: EmailSender) -> list[Delivery]:
        first = await sender.send(mail("One", "First", key="k1"))
        await asyncio.to_thread(smtp.drop_connections)
        second = await sender.send(mail("Two", "Second", key="k2"))
        return [first, second]

    (both,) = asyncio.run(_using(mailer(smtp), scenario))
    assert [d.status for d in both] == ["sent", "sent"]
    assert [m["subject"] for m in smtp.messages] == ["One", "Two"]
    assert smtp.logins == [SMTP_USER, SMTP_USER]


def test_a_wrong_password_is_a_refusal_that_never_repeats_the_password(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wrong-Horse-Battery-1"
    caplog.set_level(logging.DEBUG)
    (failure,) = asyncio.run(
        _using(mailer(smtp, password=wrong), lambda s: s.send(mail("Hi", "Hi")))
    )
    assert isinstance(failure, PermanentFailure)
    assert str(failure) == (
        f"The mail server {smtp.host}:{smtp.port} refused the login for office (535): "
        "check the user name and the password."
    )
    assert failure.code == "535"
    assert wrong not in str(failure) and wrong not in repr(failure)
    assert smtp.messages == [] and smtp.logins == []
    assert all(wrong not in record.getMessage() for record in caplog.records)


def test_the_smtp_password_appears_in_no_log_record_at_any_level(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiosmtplib's, httpx's, asyncio's
    for name in ("aiosmtplib", "dispatch_app", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    sender = mailer(smtp)
    results = asyncio.run(
        _using(
            sender,
            lambda s: s.send(mail("On the way", "Hello José")),
            lambda s: s.send(mail("Bad", "Hi", key="k2", to="not an address")),
        )
    )
    assert isinstance(results[0], Delivery) and isinstance(results[1], PermanentFailure)
    assert smtp.logins == [SMTP_USER]  # the password was used
    encoded = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert caplog.records  # the capture saw the conversation
    for record in caplog.records:
        assert SMTP_PASSWORD not in record.getMessage(), record.name
    # The stand-in server logs what it receives; nothing on our side logs even the
    # encoded login.
    for record in ours:
        assert encoded not in record.getMessage(), record.name
    assert SMTP_PASSWORD not in repr(sender) and SMTP_PASSWORD not in str(results[1])


def test_a_refused_address_fails_for_good_and_a_busy_mailbox_is_tried_again(
    smtp: SmtpServer,
) -> None:
    smtp.refuse("gone@example.net", code=550)
    smtp.refuse("full@example.net", code=452)
    gone, full, fine = asyncio.run(
        _using(
            mailer(smtp),
            lambda s: s.send(mail("Hi", "Hi", key="a", to="gone@example.net")),
            lambda s: s.send(mail("Hi", "Hi", key="b", to="full@example.net")),
            lambda s: s.send(mail("Hi", "Hi", key="c", to="jose@example.net")),
        )
    )
    assert isinstance(gone, PermanentFailure) and gone.code == "550"
    assert str(gone).startswith("The mail server refused the address gone@example.net: 550")
    assert isinstance(full, TemporaryFailure) and not isinstance(full, PermanentFailure)
    assert full.code == "452"
    assert isinstance(fine, Delivery)
    assert [m["to"] for m in smtp.messages] == [["jose@example.net"]]


def test_a_mail_server_that_does_not_answer_is_a_temporary_failure() -> None:
    with SmtpServer() as server:
        settings = email_settings(server, smtp_user="")
    # The stand-in is gone: nothing listens on its port now.
    sender = make_sender(Channel.EMAIL, settings, environ=NO_SECRETS, timeout=5)
    (failure,) = asyncio.run(_using(sender, lambda s: s.send(mail("Hi", "Hi"))))
    assert isinstance(failure, TemporaryFailure)
    assert str(failure).startswith(f"The mail server {server.host}:{server.port} could not be")


def test_starttls_asked_of_a_server_without_it_sends_nothing(smtp: SmtpServer) -> None:
    (failure,) = asyncio.run(
        _using(mailer(smtp, smtp_starttls=True), lambda s: s.send(mail("Hi", "Hi")))
    )
    assert isinstance(failure, PermanentFailure)
    assert "does not offer STARTTLS" in str(failure)
    assert smtp.messages == [] and smtp.logins == []


def test_a_password_is_never_sent_unencrypted_to_another_computer() -> None:
    settings = MessageSettings.from_values(
        {
            "smtp_host": "mail.lakeview.example",
            "smtp_starttls": False,
            "smtp_user": SMTP_USER,
            "smtp_from": "office@lakeview.example",
        }
    )
    with pytest.raises(ConfigurationError) as refused:
        make_sender(Channel.EMAIL, settings, environ={"DISPATCH_SMTP_PASSWORD": SMTP_PASSWORD})
    assert str(refused.value) == (
        "Email is not set up safely: smtp_starttls is off, so the password for office would "
        "cross the network to mail.lakeview.example unencrypted; turn smtp_starttls on, or "
        "use port 465."
    )
    # Port 465 is TLS from the first byte: allowed.
    tls = MessageSettings.from_values({**_values(settings), "smtp_port": 465})
    sender = make_sender(Channel.EMAIL, tls, environ={"DISPATCH_SMTP_PASSWORD": SMTP_PASSWORD})
    assert isinstance(sender, EmailSender)


def _values(settings: MessageSettings) -> dict[str, Any]:
    return {
        "smtp_host": settings.smtp_host,
        "smtp_starttls": settings.smtp_starttls,
        "smtp_user": settings.smtp_user,
        "smtp_from": settings.smtp_from,
    }


# -- texts ---------------------------------------------------------------------------
def test_a_text_is_sent_and_the_providers_id_is_the_one_it_recorded(sms: SmsProvider) -> None:
    body = "Hi José, María from Lakeview is on the way 🚐 — about 25 min."
    (delivery,) = asyncio.run(_using(texter(sms), lambda s: s.send(text(body))))
    (sent,) = sms.deliveries
    assert delivery == Delivery(provider_id=sent["sid"], status="queued")
    assert sent["sid"].startswith("SM") and len(sent["sid"]) == 34
    assert (sent["to"], sent["from"], sent["body"]) == (CUSTOMER, COMPANY_NUMBER, body)
    assert sent["num_segments"] == "1"
    assert sms.count_for("visit:12:on_the_way:sms") == 1


def test_a_failing_or_busy_provider_is_a_temporary_failure(sms: SmsProvider) -> None:
    sms.fail_next(1, status=500)
    sms.fail_next(1, status=429)
    broken, busy, fine = asyncio.run(
        _using(
            texter(sms),
            lambda s: s.send(text("One")),
            lambda s: s.send(text("One")),
            lambda s: s.send(text("One")),
        )
    )
    assert type(broken) is TemporaryFailure and "HTTP 500" in str(broken)
    assert type(busy) is TemporaryFailure and busy.code == "20429"
    assert isinstance(fine, Delivery)
    assert len(sms.deliveries) == 1


def test_a_provider_that_does_not_answer_in_time_is_a_temporary_failure(
    sms: SmsProvider,
) -> None:
    sms.hang_next(1, seconds=60)  # released when the stand-in stops
    (failure,) = asyncio.run(_using(texter(sms, timeout=0.3), lambda s: s.send(text("Hello"))))
    assert type(failure) is TemporaryFailure
    assert str(failure) == "The SMS provider did not answer within 0.3 seconds."


def test_a_provider_that_cannot_be_reached_is_a_temporary_failure() -> None:
    settings = MessageSettings.from_values(
        {
            "sms_api_url": f"http://127.0.0.1:{_free_port()}",
            "sms_account_sid": SID,
            "sms_from": COMPANY_NUMBER,
        }
    )
    sender = make_sender(Channel.SMS, settings, environ={"DISPATCH_SMS_TOKEN": SMS_TOKEN})
    (failure,) = asyncio.run(_using(sender, lambda s: s.send(text("Hello"))))
    assert type(failure) is TemporaryFailure
    assert "could not be reached" in str(failure)


def test_a_refused_number_fails_for_good_with_the_providers_code(sms: SmsProvider) -> None:
    sms.refuse("+13125550199", code=21211)
    sms.refuse("+13125550198", code=21614)
    sms.unsubscribe("+13125550197")
    invalid, landline, stopped = asyncio.run(
        _using(
            texter(sms),
            lambda s: s.send(text("Hi", to="+13125550199")),
            lambda s: s.send(text("Hi", to="+13125550198")),
            lambda s: s.send(text("Hi", to="+13125550197")),
        )
    )
    assert isinstance(invalid, PermanentFailure) and invalid.code == "21211"
    assert str(invalid) == (
        "The SMS provider says +13125550199 is not a valid phone number (21211)."
    )
    assert not invalid.opted_out
    assert isinstance(landline, PermanentFailure) and landline.code == "21614"
    assert "not a mobile number" in str(landline)
    assert isinstance(stopped, PermanentFailure) and stopped.opted_out
    assert stopped.code == "21610" and "unsubscribed" in str(stopped)
    assert sms.deliveries == []


def test_a_wrong_token_is_refused_and_no_token_is_ever_logged(
    sms: SmsProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log each request at DEBUG
    wrong, right = asyncio.run(
        _using(
            texter(sms, token="not-the-token"),
            lambda s: s.send(text("Hi")),
        )
    ) + asyncio.run(_using(texter(sms), lambda s: s.send(text("Hi"))))
    assert isinstance(wrong, PermanentFailure) and wrong.code == "20003"
    assert str(wrong) == "The SMS provider refused the account sid or API token (20003)."
    assert isinstance(right, Delivery)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    basic = base64.b64encode(f"{SID}:{SMS_TOKEN}".encode()).decode()
    for secret in ("not-the-token", SMS_TOKEN, basic):
        assert secret not in str(wrong)
        assert all(secret not in record.getMessage() for record in caplog.records)


def test_a_text_too_long_or_to_no_number_is_refused_before_the_provider_is_asked(
    sms: SmsProvider,
) -> None:
    long, nowhere = asyncio.run(
        _using(
            texter(sms),
            lambda s: s.send(text("é" * 1601)),
            lambda s: s.send(text("Hi", to="312-555-0142")),
        )
    )
    assert isinstance(long, PermanentFailure) and long.code == "21617"
    assert str(long) == "The text is 1,601 characters long; the SMS provider takes at most 1,600."
    assert isinstance(nowhere, PermanentFailure)
    assert "not a phone number in international form" in str(nowhere)
    assert sms.requests == 0
    # 1,600 characters is allowed (outside the GSM alphabet: 67 to a segment).
    (fine,) = asyncio.run(_using(texter(sms), lambda s: s.send(text("ł" * 1600))))
    assert isinstance(fine, Delivery) and sms.deliveries[0]["num_segments"] == "24"


def test_a_retry_finds_the_text_an_earlier_attempt_delivered_and_sends_no_second_one() -> None:
    # The real provider keeps no idempotency keys: neither does this stand-in here.
    with SmsProvider(account_sid=SID, token=SMS_TOKEN, honour_idempotency=False) as sms:
        sms.hang_next(1, seconds=60)  # the text is taken, the answer never comes
        first_tried = dt.datetime.now(dt.UTC)
        (lost,) = asyncio.run(
            _using(texter(sms, timeout=0.3), lambda s: s.send(text("On the way")))
        )
        assert type(lost) is TemporaryFailure
        (sent,) = sms.deliveries
        # Another text to the same customer today, with another body: not the one.
        asyncio.run(_using(texter(sms), lambda s: s.send(text("Other news", key="other"))))

        retry = text("On the way", retry=True, first_tried_at=first_tried)
        (again,) = asyncio.run(_using(texter(sms), lambda s: s.send(retry)))
        assert again == Delivery(provider_id=sent["sid"], status="queued", already_sent=True)
        assert sms.count_for("visit:12:on_the_way:sms") == 1
        assert [d["body"] for d in sms.deliveries] == ["On the way", "Other news"]


def test_a_retry_sends_when_no_earlier_attempt_reached_the_provider() -> None:
    with SmsProvider(account_sid=SID, token=SMS_TOKEN, honour_idempotency=False) as sms:
        sms.fail_next(1, status=503)
        first_tried = dt.datetime.now(dt.UTC)
        retry = text("On the way", retry=True, first_tried_at=first_tried)
        failed, sent = asyncio.run(
            _using(texter(sms), lambda s: s.send(text("On the way")), lambda s: s.send(retry))
        )
        assert type(failed) is TemporaryFailure
        assert isinstance(sent, Delivery) and not sent.already_sent
        assert sms.count_for("visit:12:on_the_way:sms") == 1


def test_the_idempotency_key_keeps_a_repeated_send_to_one_text(sms: SmsProvider) -> None:
    one, two = asyncio.run(
        _using(texter(sms), lambda s: s.send(text("Hi")), lambda s: s.send(text("Hi")))
    )
    assert one.provider_id == two.provider_id
    assert len(sms.deliveries) == 1


def test_delivery_reports_move_on_and_an_undelivered_text_says_why(sms: SmsProvider) -> None:
    sms.undeliver("+13125550143", code=30003)

    async def scenario(sender: SmsSender) -> list[Any]:
        good = await sender.send(text("Hi", key="a"))
        bad = await sender.send(text("Hi", key="b", to="+13125550143"))
        return [
            await sender.status(good.provider_id),
            await sender.status(good.provider_id),
            await sender.status(bad.provider_id),
            await sender.status(bad.provider_id),
        ]

    (reports,) = asyncio.run(_using(texter(sms), scenario))
    sent, delivered, still_sent, undelivered = reports
    assert (sent.status, sent.final, sent.failed) == ("sent", False, False)
    assert (delivered.status, delivered.final, delivered.failed) == ("delivered", True, False)
    assert still_sent.status == "sent"
    assert (undelivered.status, undelivered.final, undelivered.failed) == (
        "undelivered",
        True,
        True,
    )
    assert undelivered.error_code == "30003"
    assert undelivered.error == "Unreachable destination handset"


def test_replies_to_the_company_number_are_read_across_pages(sms: SmsProvider) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = now - dt.timedelta(hours=1)
    sms.add_inbound(CUSTOMER, "Before", since - dt.timedelta(minutes=1))
    sms.add_inbound("+13125550150", "Elsewhere", now, to="+13125550999")
    for n in range(120):
        sms.add_inbound(f"+1312555{n:04d}", f"Reply {n}", since + dt.timedelta(seconds=n + 1))
    sms.add_inbound(CUSTOMER, "STOP ✋", now)

    async def scenario(sender: SmsSender) -> Any:
        await sender.send(text("Our own text: not a reply"))
        return await sender.inbound(since)

    before = sms.requests
    (replies,) = asyncio.run(_using(texter(sms), scenario))
    assert [r.body for r in replies] == [f"Reply {n}" for n in range(120)] + ["STOP ✋"]
    assert replies[0].sender == "+13125550000" and replies[-1].sender == CUSTOMER
    assert replies[0].received_at == since + dt.timedelta(seconds=1)
    assert all(r.provider_id.startswith("SM") for r in replies)
    assert sms.requests - before == 1 + 3  # the send, then three pages of 50


# -- the log channel -----------------------------------------------------------------
def test_the_log_channel_writes_one_line_per_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dispatch_app.messages")
    body = "Hello José,\nyour technician is on the way.\r\n" + "x" * 300
    message = OutgoingMessage(
        key="visit:3:on_the_way:log",
        channel=Channel.LOG,
        recipient="+13125550142",
        subject="",
        body=body,
    )
    (delivery,) = asyncio.run(_using(LogSender(), lambda s: s.send(message)))
    assert delivery == Delivery(provider_id="log-visit:3:on_the_way:log", status="sent")
    (record,) = [r for r in caplog.records if r.name == "dispatch_app.messages"]
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line
    assert line.startswith(
        "message visit:3:on_the_way:log to +13125550142 (log): Hello José,\\nyour technician"
    )
    assert line.endswith("x" * (200 - len("Hello José,\nyour technician is on the way.\r\n")) + "…")


# -- settings ------------------------------------------------------------------------
def test_a_new_install_sends_only_to_the_log() -> None:
    settings = MessageSettings.from_values({})
    assert settings.channels == (Channel.LOG,)
    assert (settings.smtp_port, settings.smtp_starttls) == (587, True)
    assert settings.sms_api_url == "https://api.twilio.com"
    assert (settings.quiet_hours_start, settings.quiet_hours_end) == ("21:00", "08:00")
    assert settings.max_attempts == 5
    assert settings.email_not_set_up == "Email is not set up: smtp_host is empty."
    assert settings.sms_not_set_up == "Texts are not set up: sms_account_sid is empty."
    assert isinstance(make_sender(Channel.LOG, settings, environ=NO_SECRETS), LogSender)


def test_settings_are_read_as_an_office_scripts_them() -> None:
    settings = MessageSettings.from_values(
        {
            "message_channels": ["sms", "log"],
            "smtp_port": "2525",
            "smtp_starttls": "false",
            "sms_api_url": "http://localhost:8080/",
            "sms_from": "312.555.0100",
            "quiet_hours_start": "9:30",
            "message_max_attempts": 8,
            "smtp_host": None,
        }
    )
    assert settings.channels == (Channel.SMS, Channel.LOG)
    assert (settings.smtp_port, settings.smtp_starttls) == (2525, False)
    assert settings.sms_api_url == "http://localhost:8080"
    assert settings.sms_from == COMPANY_NUMBER
    assert settings.quiet_hours_start == "09:30"
    assert settings.max_attempts == 8
    assert settings.smtp_host == ""


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("message_channels", "sms", "The setting message_channels must be a list of channel"),
        ("message_channels", ["log", "fax"], "names 'fax', which is not a channel: use log, "),
        ("message_channels", ["sms", "sms"], "The setting message_channels names sms twice."),
        ("smtp_port", 0, "The setting smtp_port must be a whole number from 1 to 65535, not 0."),
        ("smtp_port", True, "The setting smtp_port must be a whole number"),
        ("smtp_starttls", "maybe", "The setting smtp_starttls must be true or false"),
        ("smtp_host", 12, "The setting smtp_host must be text, not 12."),
        ("smtp_from", "the office", "The setting smtp_from must be an email address"),
        ("sms_api_url", "ftp://api.twilio.com", "The setting sms_api_url must be the provider"),
        ("sms_api_url", "http://api.twilio.com", "The setting sms_api_url must start with https"),
        ("sms_account_sid", "AC12/../x", "The setting sms_account_sid must be the provider"),
        ("sms_from", "555-0100", "The setting sms_from is not a phone number: "),
        ("quiet_hours_end", "8am", "The setting quiet_hours_end must be a time of day"),
        ("message_max_attempts", 50, "The setting message_max_attempts must be a whole number"),
    ],
)
def test_a_malformed_setting_is_named_in_a_sentence(key: str, value: Any, said: str) -> None:
    with pytest.raises(ConfigurationError) as wrong:
        MessageSettings.from_values({key: value})
    assert said in str(wrong.value)
    assert key in str(wrong.value) and str(wrong.value).endswith(".")


def test_plain_http_to_the_provider_is_allowed_only_on_this_computer() -> None:
    with pytest.raises(ConfigurationError) as wrong:
        MessageSettings.from_values({"sms_api_url": "http://sms.lakeview.example"})
    assert "allowed only to this computer" in str(wrong.value)
    for local in ("http://127.0.0.1:8000", "http://[::1]:8000", "http://localhost"):
        assert MessageSettings.from_values({"sms_api_url": local}).sms_api_url == local


def test_a_channel_not_set_up_says_what_is_missing() -> None:
    empty = MessageSettings.from_values({})
    with pytest.raises(ConfigurationError, match=r"^Email is not set up: smtp_host is empty\.$"):
        make_sender(Channel.EMAIL, empty, environ=NO_SECRETS)
    no_from = MessageSettings.from_values({"smtp_host": "mail.example.com"})
    with pytest.raises(ConfigurationError, match=r"^Email is not set up: smtp_from is empty\.$"):
        make_sender(Channel.EMAIL, no_from, environ=NO_SECRETS)
    no_number = MessageSettings.from_values({"sms_account_sid": SID})
    assert no_number.sms_not_set_up == "Texts are not set up: sms_from is empty."
    with pytest.raises(ConfigurationError, match=r"^Texts are not set up: sms_from is empty\.$"):
        make_sender(Channel.SMS, no_number, environ=NO_SECRETS)


def test_secrets_come_from_the_environment_first_then_the_keyring() -> None:
    settings = MessageSettings.from_values(
        {"smtp_user": SMTP_USER, "sms_account_sid": SID, "sms_from": COMPANY_NUMBER}
    )
    kept = MemoryKeyring(
        {("dispatch-board-smtp", SMTP_USER): "from-keyring", ("dispatch-board-sms", SID): "tok"}
    )
    environ = {"DISPATCH_SMTP_PASSWORD": "from-env", "DISPATCH_SMS_TOKEN": ""}
    assert smtp_password(settings, environ=environ, keyring=kept) == "from-env"
    assert sms_token(settings, environ=environ, keyring=kept) == "tok"  # empty = not set
    assert smtp_password(settings, environ=NO_SECRETS, keyring=kept) == "from-keyring"
    assert kept.asked == [("dispatch-board-sms", SID), ("dispatch-board-smtp", SMTP_USER)]
    assert smtp_password(settings, environ=NO_SECRETS, keyring=MemoryKeyring()) is None


def test_a_keyring_that_keeps_secrets_in_clear_is_not_asked(tmp_path: Path) -> None:
    plain = PlaintextKeyring()
    plain.file_path = str(tmp_path / "keyring.cfg")
    plain.set_password("dispatch-board-sms", SID, SMS_TOKEN)
    settings = MessageSettings.from_values(
        {"sms_account_sid": SID, "sms_from": COMPANY_NUMBER, "sms_api_url": "http://127.0.0.1"}
    )
    assert sms_token(settings, environ=NO_SECRETS, keyring=plain) is None
    with pytest.raises(ConfigurationError) as missing:
        make_sender(Channel.SMS, settings, environ=NO_SECRETS, keyring=plain)
    assert str(missing.value) == (
        f"Texts are not set up: there is no API token for {SID}: set DISPATCH_SMS_TOKEN, or "
        f"keep it in the keyring under service dispatch-board-sms and user {SID}. The keyring "
        "PlaintextKeyring keeps secrets unencrypted, so it is not asked."
    )
    assert SMS_TOKEN not in str(missing.value)


def test_email_with_a_login_needs_its_password() -> None:
    settings = MessageSettings.from_values(
        {"smtp_host": "127.0.0.1", "smtp_user": SMTP_USER, "smtp_from": "office@example.com"}
    )
    with pytest.raises(ConfigurationError) as missing:
        make_sender(Channel.EMAIL, settings, environ=NO_SECRETS, keyring=MemoryKeyring())
    assert str(missing.value) == (
        "Email is not set up: there is no password for office: set DISPATCH_SMTP_PASSWORD, "
        "or keep it in the keyring under service dispatch-board-smtp and user office."
    )
    # Without a login, no password is needed.
    anonymous = MessageSettings.from_values({**_values(settings), "smtp_user": ""})
    assert isinstance(make_sender(Channel.EMAIL, anonymous, environ=NO_SECRETS), EmailSender)
