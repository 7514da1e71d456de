"""Workbench sessions: the token a browser holds and what is stored of it. No SQL here.

In: nothing (to start a session) or the token a browser's cookie presented. Out: a new token
and the digest to store, or the digest to look up. ``credentials`` keeps the rows.

The cookie holds a random token (``secrets.token_urlsafe(32)``, 256 bits), never the API key:
a stolen cookie ends with its session, and signing out ends the session on the server, not
only in the browser. Only the token's SHA-256 is stored (as for keys, a fast hash suffices for
a secret that cannot be guessed), with the key it stands for and its expiry; revoking the key
ends every session of it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

__all__ = ["SESSION_TTL", "hash_session", "new_session"]

# A working day: a session left open in a browser does not outlive it.
SESSION_TTL = timedelta(hours=12)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_session() -> tuple[str, str]:
    """A fresh ``(token, digest)``: the token for the cookie, the digest for the database."""
    token = secrets.token_urlsafe(32)
    return token, _digest(token)


def hash_session(presented: str) -> str | None:
    """The digest to look up for a presented token; ``None`` if it cannot be one of ours."""
    if len(presented) != 43 or _TOKEN.fullmatch(presented) is None:
        return None
    return _digest(presented)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()
