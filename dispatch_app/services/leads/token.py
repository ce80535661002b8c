"""The lead endpoint's bearer token: made, kept hashed in the ``lead_token`` setting,
and checked.

The setting holds ``scrypt$<salt hex>$<hash hex>``, never the token: a backup or a
colleague reading ``app_settings`` learns nothing a web form could post with. scrypt is
slow on purpose (tens of milliseconds), so the endpoint remembers the last token that
matched — as its SHA-256, not the token itself — against the stored hash it matched:
a stream of good posts pays scrypt once, and a new token set on any workstation
changes the stored hash, which ends the remembered match.

Threading contract: ``set_lead_token`` is a coroutine for the caller's event loop; the
scrypt work of it and of ``TokenCheck.matches`` runs in a worker thread, so the loop
(the worker sending messages) never waits on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import unicodedata

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.errors import ValidationError

Sessions = async_sessionmaker[AsyncSession]

LEAD_TOKEN_SETTING = "lead_token"
SET_TOKEN_COMMAND = "python main.py leads set-token"
MIN_TOKEN = 24  # secrets.token_urlsafe(18) and up: more than a person guesses
MAX_TOKEN = 512  # it travels in a header, which servers and proxies cap

_SCHEME = "scrypt"
# RFC 7914's interactive figures: ~16 MiB and tens of milliseconds per check.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32

_UPSERT = text(
    "INSERT INTO app_settings (key, value) VALUES (:key, CAST(:value AS jsonb)) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def new_token() -> str:
    """A fresh random token: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be the endpoint's token, or ``None`` when it can."""
    if len(token) < MIN_TOKEN:
        return (
            f"The token is {len(token)} characters long; use at least {MIN_TOKEN}, "
            f"or let {SET_TOKEN_COMMAND} --generate make one."
        )
    if len(token) > MAX_TOKEN:
        return f"The token is {len(token)} characters long; use at most {MAX_TOKEN}."
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in token):
        return "The token may not contain spaces, line breaks or control characters."
    # Senders put it in an HTTP header, where only ASCII travels the same everywhere.
    if not token.isascii():
        return "The token may contain only ASCII letters, digits and punctuation."
    return None


def hash_token(token: str) -> str:
    """``scrypt$<salt hex>$<hash hex>`` of ``token``, with a new random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{_SCHEME}${salt.hex()}${_scrypt(token, salt).hex()}"


def is_token_hash(stored: object) -> bool:
    """Whether ``stored`` (the setting's JSON value) is a hash ``hash_token`` made."""
    return _parts(stored) is not None


def token_matches(token: str, stored: object) -> bool:
    """Whether ``token`` is the one ``stored`` was made from; ``False`` for a stored
    value that is no such hash."""
    parts = _parts(stored)
    if parts is None:
        return False
    salt, expected = parts
    return hmac.compare_digest(_scrypt(token, salt), expected)


def _scrypt(token: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        token.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=_N,
        r=_R,
        p=_P,
        maxmem=64 * 1024 * 1024,
        dklen=_HASH_BYTES,
    )


def _parts(stored: object) -> tuple[bytes, bytes] | None:
    if not isinstance(stored, str):
        return None
    scheme, _, rest = stored.partition("$")
    salt_hex, _, hash_hex = rest.partition("$")
    if scheme != _SCHEME:
        return None
    try:
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(hash_hex)
    except ValueError:
        return None
    if len(salt) < 8 or len(expected) != _HASH_BYTES:
        return None
    return salt, expected


class TokenCheck:
    """Checks posted tokens against the stored hash, remembering the last match.

    Only a token that matched is remembered, by its SHA-256: a wrong token pays scrypt
    every time, which the endpoint's rate limit keeps to a trickle."""

    def __init__(self) -> None:
        self._matched: tuple[str, bytes] | None = None  # (stored hash, sha256 of token)

    async def matches(self, token: str, stored: object) -> bool:
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        remembered = self._matched
        if (
            remembered is not None
            and isinstance(stored, str)
            and hmac.compare_digest(remembered[0].encode(), stored.encode())
            and hmac.compare_digest(remembered[1], digest)
        ):
            return True
        if not await asyncio.to_thread(_matches, _Secret(token), stored):
            return False
        assert isinstance(stored, str)  # token_matches accepts only text
        self._matched = (stored, digest)
        return True


class _Secret:
    """A token on its way to a thread: an event loop that logs the calls it hands over
    (qasync does, at debug level) prints this, never the token."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<token>"


def _hashed(token: _Secret) -> str:
    return hash_token(token.value)


def _matches(token: _Secret, stored: object) -> bool:
    return token_matches(token.value, stored)


async def set_lead_token(sessions: Sessions, token: str) -> None:
    """Keep ``token``'s hash as the endpoint's token (an admin's right: another login
    is refused by the database); ``ValidationError`` for a token too weak to keep."""
    problem = token_problem(token)
    if problem is not None:
        raise ValidationError({"token": problem})
    hashed = await asyncio.to_thread(_hashed, _Secret(token))
    async with sessions() as session, session.begin():
        await session.execute(_UPSERT, {"key": LEAD_TOKEN_SETTING, "value": json.dumps(hashed)})


async def lead_token_is_set(sessions: Sessions) -> bool:
    """Whether a token was set: without one the endpoint refuses every post, so a
    desktop that would serve it only on request does not listen at all."""
    async with sessions() as session:
        stored = await session.scalar(
            text("SELECT value FROM app_settings WHERE key = :key"), {"key": LEAD_TOKEN_SETTING}
        )
    return is_token_hash(stored)
