"""Signing in to a shared server: the login in the URL, the password remembered (when the
person asks) in the operating system's keyring, never in a file of ours.

The user name is remembered by the window (``QSettings``); the password only through
``keyring``, and only on a keyring that keeps secrets encrypted for the person (Windows
Credential Manager, the macOS Keychain, the Secret Service): a plain-text file keyring
is not offered. The single-PC database needs none of this: it has one local owner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

SERVICE = "Dispatch Board"
# Keyrings that would keep a password where any program of the user reads it in clear,
# or keep nothing at all.
_NOT_SAFE = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    password: str


def server_key(url: str) -> str:
    """How a server is named in the keyring and the settings: ``host:port/database``."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def user_of(url: str) -> str:
    return make_url(url).username or ""


def has_password(url: str) -> bool:
    return bool(make_url(url).password)


def with_credentials(url: str, credentials: Credentials) -> str:
    """``url`` signed in as ``credentials`` (the password kept in memory only)."""
    return (
        make_url(url)
        .set(username=credentials.user, password=credentials.password or None)
        .render_as_string(hide_password=False)
    )


class PasswordVault:
    """The OS keyring, when it is one that keeps secrets safe; else it remembers nothing."""

    def __init__(self, backend: Any = None) -> None:
        if backend is None:
            backend = safe_keyring()
        self.backend = backend

    @property
    def available(self) -> bool:
        return self.backend is not None

    def password(self, url: str, user: str) -> str | None:
        if self.backend is None or not user:
            return None
        try:
            found = self.backend.get_password(SERVICE, f"{user}@{server_key(url)}")
        except Exception as error:  # a locked or broken keyring: ask instead
            log.info("the keyring did not answer: %s", type(error).__name__)
            return None
        return found if isinstance(found, str) and found else None

    def remember(self, url: str, credentials: Credentials) -> bool:
        if self.backend is None:
            return False
        try:
            self.backend.set_password(
                SERVICE, f"{credentials.user}@{server_key(url)}", credentials.password
            )
        except Exception as error:
            log.info("the keyring did not keep the password: %s", type(error).__name__)
            return False
        return True

    def forget(self, url: str, user: str) -> None:
        if self.backend is None or not user:
            return
        try:
            self.backend.delete_password(SERVICE, f"{user}@{server_key(url)}")
        except Exception as error:  # nothing was kept, or the keyring is locked
            log.info("the keyring forgot nothing: %s", type(error).__name__)


def safe_keyring(backend: Any = None) -> Any:
    """``backend`` (the system's keyring when none is given) if it keeps secrets
    encrypted for the person; else ``None``."""
    if backend is None:
        try:
            import keyring

            backend = keyring.get_keyring()
        except Exception as error:  # no keyring module or no backend on this system
            log.info("no keyring: %s", type(error).__name__)
            return None
    chosen = [backend, *getattr(backend, "backends", [])]  # a chainer names its parts
    if any(type(part).__module__.startswith(_NOT_SAFE) for part in chosen):
        return None
    return backend
