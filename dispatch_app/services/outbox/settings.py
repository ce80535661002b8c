"""The company's message settings (``app_settings`` rows, so an office can script them),
the secrets that never live in the database, and the sender each channel gets.

The SMTP password and the SMS provider's token come from an environment variable or the
operating system's keyring, and only a keyring that keeps them encrypted is asked.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dispatch_app.domain import messages as rules
from dispatch_app.domain.messages import Channel
from dispatch_app.domain.phones import normalise_phone
from dispatch_app.errors import ConfigurationError
from dispatch_app.services.outbox.channels import Sender, is_loopback
from dispatch_app.services.outbox.email import EmailSender, is_address
from dispatch_app.services.outbox.log_channel import LogSender
from dispatch_app.services.outbox.sms import SmsSender
from dispatch_app.services.sign_in import safe_keyring

if TYPE_CHECKING:
    from dispatch_app.domain.messages import QuietHours

log = logging.getLogger(__name__)

SMTP_PASSWORD_VARIABLE = "DISPATCH_SMTP_PASSWORD"
SMS_TOKEN_VARIABLE = "DISPATCH_SMS_TOKEN"
SMTP_KEYRING_SERVICE = "dispatch-board-smtp"  # the keyring's user name is smtp_user
SMS_KEYRING_SERVICE = "dispatch-board-sms"  # the keyring's user name is the account sid
DEFAULT_SMS_API = "https://api.twilio.com"

_CHANNEL_NAMES = ", ".join(channel.value for channel in Channel)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The sid goes into the provider's URL path: nothing that could change the path.
_ACCOUNT_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class MessageSettings:
    channels: tuple[Channel, ...] = (Channel.LOG,)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_from: str = ""  # "office@example.com" or "Lakeview Home Services <office@…>"
    sms_api_url: str = DEFAULT_SMS_API
    sms_account_sid: str = ""
    sms_from: str = ""  # E.164
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"
    max_attempts: int = 5

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> MessageSettings:
        """The settings from ``app_settings`` (key → JSON value); a malformed one raises
        ``ConfigurationError`` with a sentence naming it. Absent or null keys take their
        defaults."""
        return cls(
            channels=_channels(values.get("message_channels")),
            smtp_host=_text(values, "smtp_host"),
            smtp_port=_number(values, "smtp_port", default=587, low=1, high=65535),
            smtp_starttls=_flag(values, "smtp_starttls", default=True),
            smtp_user=_text(values, "smtp_user"),
            smtp_from=_address(values, "smtp_from"),
            sms_api_url=_api_url(values, "sms_api_url"),
            sms_account_sid=_account_sid(values, "sms_account_sid"),
            sms_from=_phone(values, "sms_from"),
            quiet_hours_start=_time(values, "quiet_hours_start", "21:00"),
            quiet_hours_end=_time(values, "quiet_hours_end", "08:00"),
            max_attempts=_number(values, "message_max_attempts", default=5, low=1, high=20),
        )

    @property
    def quiet_hours(self) -> QuietHours:
        return rules.QuietHours.from_text(self.quiet_hours_start, self.quiet_hours_end)

    @property
    def email_not_set_up(self) -> str | None:
        """Why email cannot be sent with these settings, or ``None`` when it can."""
        if not self.smtp_host:
            return "Email is not set up: smtp_host is empty."
        if not self.smtp_from:
            return "Email is not set up: smtp_from is empty."
        return None

    @property
    def sms_not_set_up(self) -> str | None:
        """Why texts cannot be sent with these settings, or ``None`` when they can."""
        if not self.sms_account_sid:
            return "Texts are not set up: sms_account_sid is empty."
        if not self.sms_from:
            return "Texts are not set up: sms_from is empty."
        return None

    def not_set_up(self, channel: Channel) -> str | None:
        if channel == Channel.EMAIL:
            return self.email_not_set_up
        if channel == Channel.SMS:
            return self.sms_not_set_up
        return None

    @property
    def smtp_encrypted(self) -> bool:
        """Whether the connection to the mail server is encrypted: STARTTLS, or TLS
        from the start on port 465 (the "SMTPS" port)."""
        return self.smtp_starttls or self.smtp_port == 465


# -- secrets --------------------------------------------------------------------------
def smtp_password(
    settings: MessageSettings, environ: Mapping[str, str] | None = None, keyring: Any = None
) -> str | None:
    """The SMTP password: ``DISPATCH_SMTP_PASSWORD``, else the keyring (service
    ``dispatch-board-smtp``, user ``smtp_user``); ``None`` when neither has it."""
    return _secret(
        SMTP_PASSWORD_VARIABLE, SMTP_KEYRING_SERVICE, settings.smtp_user, environ, keyring
    )


def sms_token(
    settings: MessageSettings, environ: Mapping[str, str] | None = None, keyring: Any = None
) -> str | None:
    """The SMS provider's API token: ``DISPATCH_SMS_TOKEN``, else the keyring (service
    ``dispatch-board-sms``, user the account sid); ``None`` when neither has it."""
    return _secret(
        SMS_TOKEN_VARIABLE, SMS_KEYRING_SERVICE, settings.sms_account_sid, environ, keyring
    )


def _secret(
    variable: str, service: str, user: str, environ: Mapping[str, str] | None, keyring: Any
) -> str | None:
    found = (os.environ if environ is None else environ).get(variable)
    if found:
        return found
    backend = safe_keyring(keyring)
    if backend is None or not user:
        return None
    try:
        kept = backend.get_password(service, user)
    except Exception as error:  # a locked or broken keyring: as if it kept nothing
        log.info("the keyring did not answer: %s", type(error).__name__)
        return None
    return kept if isinstance(kept, str) and kept else None


def _keyring_note(keyring: Any) -> str:
    """Why the keyring was not asked, when it was not, for the sentence."""
    if keyring is not None and safe_keyring(keyring) is None:
        return (
            f" The keyring {type(keyring).__name__} keeps secrets unencrypted, so it is not asked."
        )
    return ""


# -- the senders ----------------------------------------------------------------------
def make_sender(
    channel: Channel,
    settings: MessageSettings,
    *,
    environ: Mapping[str, str] | None = None,
    keyring: Any = None,
    timeout: float = 20.0,
) -> Sender:
    """The sender for ``channel``, or ``ConfigurationError`` saying what is missing.

    ``timeout`` bounds each call to the provider, in seconds."""
    if channel == Channel.LOG:
        return LogSender()
    missing = settings.not_set_up(channel)
    if missing is not None:
        raise ConfigurationError(missing)
    if channel == Channel.EMAIL:
        password = None
        if settings.smtp_user:
            password = smtp_password(settings, environ, keyring)
            if password is None:
                raise ConfigurationError(
                    f"Email is not set up: there is no password for {settings.smtp_user}: "
                    f"set {SMTP_PASSWORD_VARIABLE}, or keep it in the keyring under service "
                    f"{SMTP_KEYRING_SERVICE} and user {settings.smtp_user}."
                    + _keyring_note(keyring)
                )
            if not settings.smtp_encrypted and not is_loopback(settings.smtp_host):
                raise ConfigurationError(
                    f"Email is not set up safely: smtp_starttls is off, so the password for "
                    f"{settings.smtp_user} would cross the network to {settings.smtp_host} "
                    "unencrypted; turn smtp_starttls on, or use port 465."
                )
        return EmailSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=password,
            from_address=settings.smtp_from,
            timeout=timeout,
        )
    token = sms_token(settings, environ, keyring)
    if token is None:
        raise ConfigurationError(
            f"Texts are not set up: there is no API token for {settings.sms_account_sid}: "
            f"set {SMS_TOKEN_VARIABLE}, or keep it in the keyring under service "
            f"{SMS_KEYRING_SERVICE} and user {settings.sms_account_sid}." + _keyring_note(keyring)
        )
    return SmsSender(
        api_url=settings.sms_api_url,
        account_sid=settings.sms_account_sid,
        token=token,
        from_number=settings.sms_from,
        timeout=timeout,
    )


# -- reading the values ---------------------------------------------------------------
def _channels(value: Any) -> tuple[Channel, ...]:
    if value is None:
        return (Channel.LOG,)
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigurationError(
            f'The setting message_channels must be a list of channel names such as ["log", '
            f'"sms"], not {_shown(value)}.'
        )
    chosen: list[Channel] = []
    for name in value:
        if name not in set(Channel):
            raise ConfigurationError(
                f"The setting message_channels names {name!r}, which is not a channel: "
                f"use {_CHANNEL_NAMES}."
            )
        if Channel(name) in chosen:
            raise ConfigurationError(f"The setting message_channels names {name} twice.")
        chosen.append(Channel(name))
    return tuple(chosen)


def _text(values: Mapping[str, Any], key: str, default: str = "") -> str:
    value = values.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigurationError(f"The setting {key} must be text, not {_shown(value)}.")
    return value.strip()


def _number(values: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    value = values.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(
            f"The setting {key} must be a whole number from {low} to {high}, not {_shown(value)}."
        )
    return value


def _flag(values: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = values.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ConfigurationError(f"The setting {key} must be true or false, not {_shown(value)}.")
    return value


def _address(values: Mapping[str, Any], key: str) -> str:
    text = _text(values, key)
    if text and not is_address(text):
        raise ConfigurationError(
            f"The setting {key} must be an email address such as office@example.com, "
            f"not {_shown(text)}."
        )
    return text


def _api_url(values: Mapping[str, Any], key: str) -> str:
    text = _text(values, key, DEFAULT_SMS_API) or DEFAULT_SMS_API
    parts = urlsplit(text)
    try:
        host, _port = parts.hostname, parts.port  # .port refuses one that is not a number
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"The setting {key} must be the provider's address, such as {DEFAULT_SMS_API}, "
            f"not {_shown(text)}."
        )
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"The setting {key} must start with https://: over http:// the API token would "
            "cross the network unencrypted, which is allowed only to this computer "
            "(localhost, 127.0.0.1)."
        )
    return text.rstrip("/")


def _account_sid(values: Mapping[str, Any], key: str) -> str:
    text = _text(values, key)
    if text and not _ACCOUNT_SID.match(text):
        raise ConfigurationError(
            f"The setting {key} must be the provider's account id (letters and digits, "
            f"such as AC0123…), not {_shown(text)}."
        )
    return text


def _phone(values: Mapping[str, Any], key: str) -> str:
    text = _text(values, key)
    if not text:
        return ""
    try:
        return normalise_phone(text)
    except ValueError as wrong:
        raise ConfigurationError(f"The setting {key} is not a phone number: {wrong}") from None


def _time(values: Mapping[str, Any], key: str, default: str) -> str:
    text = _text(values, key) or default
    found = _TIME.match(text)
    if found is None:
        raise ConfigurationError(
            f"The setting {key} must be a time of day such as {default}, not {_shown(text)}."
        )
    return f"{int(found[1]):02d}:{found[2]}"


def _shown(value: Any) -> str:
    """A setting's value as a sentence quotes it, cut short."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"
