"""API keys: roles, the key format, and hashing. No SQL here; ``credentials`` stores the rows.

In: a role and a name (to make a key), or the string a client presented. Out: a new key's
plaintext (shown once) and its ``KeyInfo``, or the ``KeyInfo`` a presented key stands for.

A key reads ``ce_<id>_<secret>``: ``id`` (12 hex digits) names the row, so verifying is one
primary-key lookup, and ``secret`` (``secrets.token_urlsafe(32)``, 256 random bits) proves
possession. Only a SHA-256 digest of the whole key is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from content_engine.core.errors import InputError

__all__ = [
    "KEY_PREFIX",
    "ROLES",
    "KeyInfo",
    "ParsedKey",
    "Role",
    "digests_match",
    "hash_key",
    "new_key",
    "parse_key",
    "parse_role",
]

Role = Literal["reader", "agent", "editor", "admin"]
# Least to most privileged: each role may do everything the ones before it may.
ROLES: tuple[Role, ...] = ("reader", "agent", "editor", "admin")

KEY_PREFIX = "ce_"
_ID_BYTES = 6  # 12 hex digits: ids are not secret, they only need to be unique
_SECRET_BYTES = 32
# token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet (which includes "_", so
# the id's fixed length, not a split on "_", separates the parts).
_KEY = re.compile(r"ce_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_KEY_LENGTH = 3 + 12 + 1 + 43


class KeyInfo(BaseModel):
    """What is known about a key apart from its secret: safe to list and to log."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = None
    # To the minute at best: servers write it at most once a minute per key.
    last_used_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ParsedKey(BaseModel):
    """A presented key that is well formed; whether it is valid is the database's to say."""

    model_config = ConfigDict(frozen=True)

    id: str
    digest: str


def hash_key(plaintext: str) -> str:
    """The stored form of a key: hex SHA-256 of the whole ``ce_<id>_<secret>`` string.

    A plain hash suffices (no bcrypt/scrypt/argon2): slow KDFs protect guessable passwords,
    and a 256-bit random secret cannot be brute-forced from its digest. Hashing the id too
    ties each digest to its row.
    """
    return hashlib.sha256(plaintext.encode("ascii")).hexdigest()


def parse_role(role: str) -> Role:
    """``role`` as a ``Role``; ``InputError`` naming the valid ones if it is not one."""
    for known in ROLES:
        if role == known:
            return known
    raise InputError(
        f"unknown role {role!r}: use one of {', '.join(ROLES)}",
        details={"role": role, "roles": list(ROLES)},
    )


def new_key() -> tuple[str, str]:
    """A fresh ``(id, plaintext)``."""
    key_id = secrets.token_hex(_ID_BYTES)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def parse_key(presented: str) -> ParsedKey | None:
    """The id and digest of a well-formed key, or ``None``: never an exception.

    Anything a client sends ends up here, so the length is checked before the pattern and
    nothing but ASCII gets as far as hashing.
    """
    if not isinstance(presented, str) or len(presented) != _KEY_LENGTH:
        return None
    match = _KEY.fullmatch(presented)
    if match is None:
        return None
    return ParsedKey(id=match.group(1), digest=hash_key(presented))


def digests_match(presented: ParsedKey, stored_digest: str) -> bool:
    """Constant-time comparison, so response times do not leak how much of a digest matched."""
    return hmac.compare_digest(presented.digest, stored_digest)
