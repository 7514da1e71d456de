"""Who is calling: bearer API keys and the role ladder reader < agent < editor < admin.

Keys are verified by the repository (stored hashed, compared in constant time). With
``open_access`` (``serve --open``) every caller is an anonymous admin: local development only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..store import ROLES
from .errors import ApiError


@dataclass(frozen=True)
class Principal:
    key_id: str | None
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


ANONYMOUS_ADMIN = Principal(key_id=None, role="admin")


def _challenge(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request) -> Principal:
    """The caller's key, checked: 401 if absent or not valid."""
    state = request.app.state
    if state.open_access:
        return ANONYMOUS_ADMIN
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _challenge("an API key is required: Authorization: Bearer <key>")
    info = state.engine.repository.verify_key(token.strip())
    if info is None:
        raise _challenge("the API key is not valid (unknown, revoked or mistyped)")
    return Principal(key_id=info.id, role=info.role)


def require(role: str) -> object:
    """A dependency that lets in callers with ``role`` or a higher one."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.can(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role} role; the key has {principal.role}",
                details={"required": role, "role": principal.role},
            )
        return principal

    return Depends(check)


def require_for_preview(principal: Principal, preview: bool) -> None:
    """Drafts are for editors: a preview needs the editor role whatever the route needs."""
    if preview and not principal.can("editor"):
        raise ApiError(
            403,
            "forbidden",
            "preview shows drafts and needs the editor role",
            details={"required": "editor", "role": principal.role},
        )


Reader = Annotated[Principal, require("reader")]
Agent = Annotated[Principal, require("agent")]
EditorRole = Annotated[Principal, require("editor")]
