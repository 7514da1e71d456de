"""Who is calling: bearer API keys and the role ladder reader < agent < editor < admin.

Keys are verified by the engine's ``access`` (stored hashed, compared in constant time), and a
verified key is trusted again without asking for ``refresh`` seconds (``VerifiedKeys``): a key
revoked by another process stops working within that bound, one revoked through this process at
once.
With ``open_access`` (``serve --open``) every caller is an anonymous admin: local development
only. A key's last use is noted in memory and written with the next lookup or re-verification,
at most once a minute per key: the request path never writes for it.

The dependencies are ``async``: FastAPI runs plain functions in its thread pool, a hop that
cost more than the check itself; the one blocking call, the database lookup, is handed to
the pool explicitly.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from threading import Lock
from time import monotonic
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from content_engine.core.errors import ContentEngineError
from content_engine.engine import ROLES, Access, Freshness, KeyInfo, Stamp
from content_engine.web.errors import ApiError
from content_engine.web.headers import headers_of

MAX_VERIFIED = 4096
# Seconds between two writes of one key's last use (the column's resolution is a minute).
KEY_USE_WRITE_EVERY = 60.0
logger = logging.getLogger("content_engine.web")


@dataclass(frozen=True)
class Principal:
    key_id: str | None
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


ANONYMOUS_ADMIN = Principal(key_id=None, role="admin")


class VerifiedKeys:
    """Keys the engine's ``access`` said were valid, trusted until their stamp goes stale.

    Requests only read what is here; the server's refresher re-verifies every known key in one
    query twice per ``refresh`` period (``reverify``), so a busy key never goes stale on the
    request path. A key seen for the first time is looked up once however many requests bring
    it at the same moment. Only valid keys are kept (a flood of wrong ones cannot fill memory),
    at most ``MAX_VERIFIED``: when full it starts again empty.
    """

    def __init__(self, access: Access, freshness: Freshness) -> None:
        self.access = access
        self.freshness = freshness
        self._known: dict[str, tuple[KeyInfo, Stamp]] = {}
        self._pending: dict[str, asyncio.Future[dict[str, KeyInfo]]] = {}
        self._lock = Lock()
        self._used: set[str] = set()  # key ids used since their use was last written
        self._written: dict[str, float] = {}  # key id -> monotonic time of that write

    def note_use(self, key_id: str) -> None:
        """Remember that a key was used (memory only; ``write_uses`` stores it)."""
        self._used.add(key_id)

    def write_uses(self) -> None:
        """Store the last use of keys used since, at most once a minute per key (blocking).

        A database that cannot take the write (read-only, away) must not fail the lookup
        this runs with: the uses are kept and tried again a minute later.
        """
        now = monotonic()
        with self._lock:
            due = {
                k
                for k in self._used
                if now - self._written.get(k, -KEY_USE_WRITE_EVERY) >= KEY_USE_WRITE_EVERY
            }
            if not due:
                return
            self._used -= due
            if len(self._written) >= MAX_VERIFIED:
                self._written.clear()
            self._written.update(dict.fromkeys(due, now))
        try:
            self.access.mark_keys_used(due)
        except ContentEngineError as exc:
            logger.warning("cannot record when API keys were last used: %s", exc)
            self._used |= due

    def cached(self, presented: str) -> KeyInfo | None:
        found = self._known.get(presented)
        if found is None or not self.freshness.is_fresh(found[1]):
            return None
        return found[0]

    async def verify(self, presented: str) -> KeyInfo | None:
        """What ``access`` says of the key (in the thread pool), asked once at a time."""
        pending = self._pending.get(presented)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(self._verify, [presented]))
            self._pending[presented] = pending
            pending.add_done_callback(lambda _: self._pending.pop(presented, None))
        # Shielded: one caller going away must not cancel the lookup the others wait for.
        return (await asyncio.shield(pending)).get(presented)

    def reverify(self) -> None:
        """Ask again about every known key (blocking I/O, one query); drop the invalid ones."""
        self._verify(list(self._known))

    def _verify(self, presented: list[str]) -> dict[str, KeyInfo]:
        self.write_uses()
        stamp = self.freshness.stamp()
        valid = self.access.verify_keys(presented) if presented else {}
        with self._lock:
            for text in presented:
                info = valid.get(text)
                if info is None:
                    self._known.pop(text, None)
                    continue
                if len(self._known) >= MAX_VERIFIED:
                    self._known.clear()
                self._known[text] = (info, stamp)
        return valid


def _challenge(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request) -> Principal:
    """The caller's key, checked: 401 if absent or not valid."""
    state = request.app.state
    if state.open_access:
        return ANONYMOUS_ADMIN
    token = headers_of(request.scope).bearer
    if token is None:
        raise _challenge("an API key is required: Authorization: Bearer <key>")
    keys: VerifiedKeys = state.keys
    info = keys.cached(token) or await keys.verify(token)
    if info is None:
        raise _challenge("the API key is not valid (unknown, revoked or mistyped)")
    keys.note_use(info.id)
    return Principal(key_id=info.id, role=info.role)


def require(role: str) -> object:
    """A dependency that lets in callers with ``role`` or a higher one.

    One dependency, not two (``authenticate`` is called, not declared): FastAPI's solving of
    each dependency costs more than a block the engine answers from memory."""

    async def check(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.can(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role} role; the key has {principal.role}",
                details={"required": role, "role": principal.role},
            )
        return principal

    return Depends(check)


def require_for_preview(
    principal: Principal, preview: bool, what: str = "preview shows drafts"
) -> None:
    """Drafts are for editors: a preview, or a receipt of one, needs the editor role whatever
    the route needs."""
    if preview and not principal.can("editor"):
        raise ApiError(
            403,
            "forbidden",
            f"{what} and needs the editor role",
            details={"required": "editor", "role": principal.role},
        )


# The caller, let in with a key of at least that role. (Not ``Reader``: that is the core's
# resolved context of who is reading.)
ReaderKey = Annotated[Principal, require("reader")]
AgentKey = Annotated[Principal, require("agent")]
EditorKey = Annotated[Principal, require("editor")]
AdminKey = Annotated[Principal, require("admin")]
