"""The rows of API keys and workbench sessions: who may come in, and as what.

In: a role and a name (to make a key), a key id (to revoke one or record its use), the key
strings clients present, and session tokens from browsers' cookies. Out: ``KeyInfo`` (never a
secret or a digest), a new key's plaintext once, a new session's token once.

The formats, hashing and comparison are ``keys`` and ``sessions``' (no SQL there); this
module only stores and finds their digests. Neither is library content: writing them leaves
the revision, and so every cache, alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from content_engine.core.errors import NotFound
from content_engine.store.database import Database
from content_engine.store.keys import (
    KeyInfo,
    digests_match,
    hash_key,
    new_key,
    parse_key,
    parse_role,
)
from content_engine.store.listen import announce
from content_engine.store.mapping import utc_now
from content_engine.store.sessions import SESSION_TTL, hash_session, new_session
from content_engine.store.tables import ApiKey, UiSession

__all__ = ["KEY_USE_RESOLUTION", "Credentials"]

# How precisely ``last_used_at`` is kept: one write per key per this period at most.
KEY_USE_RESOLUTION = timedelta(minutes=1)
# Key ids are 48 random bits; a clash is astronomically rare, but costs only a retry.
_KEY_ID_ATTEMPTS = 3
_KEY_INFO_COLUMNS = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.role,
    ApiKey.created_at,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
)


class Credentials(Database):
    """The API key and session methods of ``Repository``."""

    # --- API keys ---------------------------------------------------------------------------

    def create_key(self, role: str, name: str = "") -> tuple[KeyInfo, str]:
        """A new key for ``role``: its info and its plaintext ``ce_<id>_<secret>``.

        The plaintext is returned once, to be shown to whoever asked; only its digest is
        stored. ``InputError`` for a role not in ``ROLES``.
        """
        checked = parse_role(role)
        for attempt in range(_KEY_ID_ATTEMPTS):
            key_id, plaintext = new_key()
            info = KeyInfo(id=key_id, name=name, role=checked, created_at=utc_now())
            try:
                with self._writer.begin() as conn:
                    conn.execute(
                        insert(ApiKey).values(
                            **info.model_dump(exclude={"revoked_at", "last_used_at"}),
                            secret_hash=hash_key(plaintext),
                        )
                    )
            except IntegrityError:
                if attempt == _KEY_ID_ATTEMPTS - 1:
                    raise
                continue
            return info, plaintext
        raise AssertionError("unreachable: the last attempt returns or raises")

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first; never a secret or a digest."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_KEY_INFO_COLUMNS).order_by(ApiKey.created_at, ApiKey.id)
            ).all()
        return [_key_info(row._asdict()) for row in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Make a key useless from now on; revoking it again changes nothing.

        The row stays, so receipts that name the key still say whose it was. ``NotFound`` if
        there is no such key.
        """
        with self._written(), self._writer.begin() as conn:
            conn.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            )
            announce(conn)  # servers elsewhere drop the key from memory at once
            row = conn.execute(select(*_KEY_INFO_COLUMNS).where(ApiKey.id == key_id)).first()
        if row is None:
            raise NotFound(f"no API key {key_id!r}", details={"key": key_id})
        return _key_info(row._asdict())

    def mark_keys_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int:
        """Record that these keys were used ``at`` (default now); how many rows changed.

        Only rows last marked a minute or more before ``at`` are written, so callers may ask
        often. Not library content and not a key's validity: the revision, the caches and
        ``local_writes`` stay as they are.
        """
        ids = sorted(set(key_ids))
        if not ids:
            return 0
        when = at or utc_now()
        stale = when - KEY_USE_RESOLUTION
        with self._writer.begin() as conn:
            done = conn.execute(
                update(ApiKey)
                .where(
                    ApiKey.id.in_(ids),
                    (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at <= stale),
                )
                .values(last_used_at=when)
            )
        return int(done.rowcount)

    def verify_key(self, presented: str) -> KeyInfo | None:
        """The key ``presented`` stands for, or ``None`` if it is not a valid, unrevoked key.

        Whatever a client sends lands here, so a malformed string is ``None``, never an
        exception; and the digests are compared in constant time.
        """
        return self.verify_keys([presented]).get(presented)

    def verify_keys(self, presented: Iterable[str]) -> dict[str, KeyInfo]:
        """``verify_key`` for many keys in one query: the valid ones, by what was presented."""
        parsed = {given: key for given in presented if (key := parse_key(given)) is not None}
        if not parsed:
            return {}
        with self._read() as conn:
            rows = conn.execute(
                select(*_KEY_INFO_COLUMNS, ApiKey.secret_hash).where(
                    ApiKey.id.in_({key.id for key in parsed.values()}),
                    ApiKey.revoked_at.is_(None),
                )
            ).all()
        by_id = {row.id: row for row in rows}
        valid = {}
        for given, key in parsed.items():
            row = by_id.get(key.id)
            if row is not None and digests_match(key, row.secret_hash):
                valid[given] = _key_info(row._asdict())
        return valid

    # --- workbench sessions -----------------------------------------------------------------

    def start_session(self, key_id: str, ttl: timedelta = SESSION_TTL) -> str:
        """A new session for the key: its token, for the cookie (only its digest is stored).

        Expired sessions are swept here, so the table holds at most a day's sign-ins.
        """
        token, digest = new_session()
        now = utc_now()
        with self._writer.begin() as conn:
            conn.execute(delete(UiSession).where(UiSession.expires_at <= now))
            conn.execute(
                insert(UiSession).values(
                    token_hash=digest, key_id=key_id, created_at=now, expires_at=now + ttl
                )
            )
        return token

    def session_key(self, token: str) -> KeyInfo | None:
        """The key of a live session (not expired, its key not revoked); ``None`` otherwise.

        Like ``verify_key``, anything a browser sends lands here: never an exception.
        """
        digest = hash_session(token)
        if digest is None:
            return None
        with self._read() as conn:
            row = conn.execute(
                select(*_KEY_INFO_COLUMNS)
                .join(UiSession, UiSession.key_id == ApiKey.id)
                .where(
                    UiSession.token_hash == digest,
                    UiSession.expires_at > utc_now(),
                    ApiKey.revoked_at.is_(None),
                )
            ).first()
        return None if row is None else _key_info(row._asdict())

    def end_session(self, token: str) -> None:
        """Sign a session out: its token is worthless from now on. Unknown tokens are fine."""
        digest = hash_session(token)
        if digest is None:
            return
        with self._writer.begin() as conn:
            conn.execute(delete(UiSession).where(UiSession.token_hash == digest))


def _key_info(values: Mapping[str, Any]) -> KeyInfo:
    """A key row as ``KeyInfo``, leaving out the digest even if it was selected."""
    return KeyInfo.model_validate({name: values[name] for name in KeyInfo.model_fields})
