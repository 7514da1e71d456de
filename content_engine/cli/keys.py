"""``keys create``, ``keys list`` and ``keys revoke``: API keys through ``engine.access``.

In: a role and a name, or a key's id. Out: a new secret (printed once, only its hash is
stored), the table of keys (never a secret), or the revoked key's id.
"""

from __future__ import annotations

from typing import Annotated

import typer

from content_engine.cli.errors import engine_for, fail
from content_engine.cli.options import DbOption
from content_engine.engine.access import ROLES

RoleOption = Annotated[str, typer.Option("--role", help="reader, agent, editor or admin.")]


def create(
    role: RoleOption,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    db: DbOption = None,
) -> None:
    """Print a new key (shown once; only its hash is stored)."""
    if role not in ROLES:
        fail(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    with engine_for(db) as engine:
        info, secret = engine.access.create_key(role, name)
    typer.echo(secret)
    typer.echo(
        f"created key {info.id} with role {info.role}; store it now, it is not kept", err=True
    )


def list_(db: DbOption = None) -> None:
    """Every key: id, role, status, when created and last used (UTC, to the minute), name.

    Never the secret. "Last used" is written at most once a minute per key."""
    with engine_for(db) as engine:
        keys = engine.access.list_keys()
    if not keys:
        typer.echo(
            "no API keys yet: create one with `content-engine keys create --role R`", err=True
        )
        return
    typer.echo(f"{'id':<12}  {'role':<7} {'status':<24} {'created':<16}  {'last used':<16}  name")
    for key in keys:
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        typer.echo(
            f"{key.id}  {key.role:<7} {revoked:<24} {key.created_at:%Y-%m-%d %H:%M}  "
            f"{used:<16}  {key.name}"
        )


def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: refused from now on (by running servers within their --refresh)."""
    with engine_for(db) as engine:
        info = engine.access.revoke_key(key_id)
    typer.echo(f"revoked key {info.id} ({info.role})", err=True)
