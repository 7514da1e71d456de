"""Settings: one typed object built at the edge (CLI, app factory) and passed down.

Each option is declared once here with its default, environment variable and help text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from content_engine.core.errors import InputError
from content_engine.core.templates.sandbox import Limits

DEFAULT_DB = "sqlite:///content-engine.db"
DEFAULT_SQLITE_TIMEOUT = 30.0
DEFAULT_REFRESH = 0.5
# The engine's data folders (renderers/, locales/) sit beside the package in a checkout.
_CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Option:
    name: str
    env: str
    help: str


OPTIONS = (
    Option("db_url", "CONTENT_ENGINE_DB", "database URL (SQLite file or PostgreSQL)"),
    Option("home", "CONTENT_ENGINE_HOME", "folder holding the engine's renderers/ and locales/"),
    Option(
        "sqlite_timeout",
        "CONTENT_ENGINE_SQLITE_TIMEOUT",
        "seconds a SQLite writer waits for another writer's lock before giving up (default 30)",
    ),
    Option(
        "refresh",
        "CONTENT_ENGINE_REFRESH",
        "seconds before a change made by another process (a publish through another server "
        "worker or the CLI) is served; 0 checks the database on every request (default 0.5)",
    ),
)


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB
    home: Path = _CHECKOUT
    sqlite_timeout: float = DEFAULT_SQLITE_TIMEOUT
    # Bounds how stale the in-memory library and verified keys may be; see ``freshness``.
    refresh: float = DEFAULT_REFRESH
    limits: Limits = field(default_factory=Limits)

    @property
    def renderers_dir(self) -> Path:
        return self.home / "renderers"

    @property
    def locales_dir(self) -> Path:
        return self.home / "locales"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, db_url: str | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            db_url=db_url or env.get("CONTENT_ENGINE_DB") or DEFAULT_DB,
            home=Path(env.get("CONTENT_ENGINE_HOME") or _CHECKOUT),
            sqlite_timeout=_seconds(env, "CONTENT_ENGINE_SQLITE_TIMEOUT", DEFAULT_SQLITE_TIMEOUT),
            refresh=_seconds(env, "CONTENT_ENGINE_REFRESH", DEFAULT_REFRESH),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise InputError(f"{name} must be a number of seconds from 0 to 86400, not {raw!r}")
    return value
