"""Settings: every option declared once, and the typed object built from them at the edge.

In: the environment, and the values the CLI's flags were given. Out: a frozen ``Settings`` that
the CLI and the app factory build once and pass down. Each ``Option`` in ``OPTIONS`` holds an
option's field, type, default, environment variable, help and CLI flag: ``Settings.from_env``,
the CLI's flags and ``serve --help``, ``serve``'s hand-over to its workers and the table in
``docs/settings.md`` (kept true by a test) are all read from it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from content_engine.core.errors import InputError
from content_engine.core.forwarded import MAX_PROXIES, parse_networks
from content_engine.core.templates.sandbox import Limits

T = TypeVar("T")

# The engine's data folders (renderers/, locales/) sit beside the package in a checkout.
_CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Kind(Generic[T]):
    """What an option's value is (``wants`` says it): how it reads from text and is written
    back to it.

    ``convert`` raises ``ValueError`` on text it does not take, and a number outside
    ``bounds`` is refused too (the CLI's flag checks the same range); the error says ``wants``.
    """

    wants: str
    convert: Callable[[str], T]
    text: Callable[[T], str] = str
    bounds: tuple[float, float] | None = None

    def parse(self, raw: str) -> T:
        value = self.convert(raw)
        if self.bounds is not None:
            low, high = self.bounds
            if not low <= cast(float, value) <= high:  # nan fails this too
                raise ValueError(raw)
        return value


def _number(value: float) -> str:
    """``30`` rather than ``30.0``; exact either way, so a worker reads back the same value."""
    return str(int(value)) if value.is_integer() else repr(value)


def _switch(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError(raw)
    return raw == "1"


def _one_of(*choices: str) -> Callable[[str], str]:
    """A converter taking exactly one of ``choices``."""

    def convert(raw: str) -> str:
        if raw not in choices:
            raise ValueError(raw)
        return raw

    return convert


def _public_url(raw: str) -> str:
    """An http(s) URL with a host and neither query nor fragment, without a trailing ``/``."""
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or "?" in raw
        or "#" in raw
        or any(c.isspace() or ord(c) < 0x20 or c in "\"'<>" for c in raw)
    ):
        raise ValueError(raw)
    return raw.rstrip("/")


def _proxies(raw: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDRs, each as ``ipaddress`` writes its network."""
    return tuple(str(net) for net in parse_networks(raw))


DAY = 86_400
GIB = 1 << 30

URL = Kind[str]("a database URL", str)
FOLDER = Kind[Path]("a folder", Path)
SECONDS = Kind[float](f"a number of seconds from 0 to {DAY}", float, _number, (0, DAY))
BYTES = Kind[int](f"a whole number of bytes from 1 to {GIB}", int, str, (1, GIB))
PUBLIC = Kind[str]("an http:// or https:// URL without query or fragment", _public_url)
SWITCH = Kind[bool]("1 (on) or 0 (off)", _switch, lambda on: "1" if on else "")


@dataclass(frozen=True)
class Option(Generic[T]):
    """One option: the ``Settings`` field ``name``, read from ``env`` (empty means unset)."""

    name: str
    kind: Kind[T]
    default: T
    env: str
    help: str
    flag: str | None = None
    shown: str = ""  # the default as the docs and ``--help`` say it, where its text would not do
    # False where the CLI's flag alone decides: ``serve`` is open only with ``--open``, and
    # sets the variable for its workers.
    cli_reads_env: bool = True

    @property
    def shown_default(self) -> str:
        return self.shown or self.kind.text(self.default)

    def given(self, value: Any) -> T:
        """A flag's value: text is read as the variable's would be (so ``--public-url`` is
        checked like ``CONTENT_ENGINE_PUBLIC_URL``); a typed value as it is."""
        if not isinstance(value, str):
            return cast(T, value)
        try:
            return self.kind.parse(value)
        except ValueError:
            shown = self.flag or self.env
            raise InputError(f"{shown} must be {self.kind.wants}, not {value!r}") from None

    def read(self, environ: Mapping[str, str]) -> T:
        raw = environ.get(self.env)
        if not raw:
            return self.default
        try:
            return self.kind.parse(raw)
        except ValueError:
            raise InputError(f"{self.env} must be {self.kind.wants}, not {raw!r}") from None


DB = Option(
    "db_url",
    URL,
    "sqlite:///content-engine.db",
    "CONTENT_ENGINE_DB",
    "The repository's database URL: a SQLite file or PostgreSQL.",
    flag="--db",
)
HOME = Option(
    "home",
    FOLDER,
    _CHECKOUT,
    "CONTENT_ENGINE_HOME",
    "The folder holding the engine's renderers/ and locales/.",
    shown="the checkout",
)
SQLITE_TIMEOUT = Option(
    "sqlite_timeout",
    SECONDS,
    30.0,
    "CONTENT_ENGINE_SQLITE_TIMEOUT",
    "Seconds a SQLite writer waits for another writer's lock before giving up.",
)
REFRESH = Option(
    "refresh",
    SECONDS,
    0.5,
    "CONTENT_ENGINE_REFRESH",
    "Seconds before a change made by another process (another server worker, the CLI) is "
    "served, and a key revoked elsewhere refused, at the most: on PostgreSQL a server hears of "
    "every write at once (docs/servers.md); 0 asks the database on every request.",
    flag="--refresh",
)
OPEN_ACCESS = Option(
    "open_access",
    SWITCH,
    False,
    "CONTENT_ENGINE_OPEN",
    "No API keys: every caller is admin. For local development only; the server says so loudly.",
    flag="--open",
    shown="0",
    cli_reads_env=False,
)
MAX_BODY_BYTES = Option(
    "max_body_bytes",
    BYTES,
    2 * 1024 * 1024,
    "CONTENT_ENGINE_MAX_BODY_BYTES",
    "Bytes of the largest request body the server accepts; a larger one is refused with 413 "
    "before any handler reads it.",
    shown="2097152 (2 MiB)",
)

PUBLIC_URL = Option(
    "public_url",
    PUBLIC,
    "",
    "CONTENT_ENGINE_PUBLIC_URL",
    "The URL readers reach the server at: block and page HTML then name assets by absolute "
    "URLs under it (/assets/<hash>/<path> relative to the server otherwise).",
    flag="--public-url",
    shown="none",
)

SOURCES = Option(
    "sources",
    Kind[str]("the path of a data-sources file", str),
    "",
    "CONTENT_ENGINE_SOURCES",
    "The data-sources file (docs/sources.md): the systems of record a context's lookup keys "
    "are looked up in.",
    flag="--sources",
    shown="none",
)

RECEIPTS_RETAIN_DAYS = Option(
    "receipts_retain_days",
    Kind[int]("a whole number of days from 0 to 36500", int, str, (0, 36_500)),
    0,
    "CONTENT_ENGINE_RECEIPTS_RETAIN_DAYS",
    "Days a render receipt keeps the personal data it was rendered with (customer, product, "
    "data, lookup); then it is purged, by serve within a minute of its start and then every "
    "hour, or by receipts purge. "
    "0 keeps it unless the library's receipts_retain_days says otherwise; with both, the "
    "shorter wins.",
    shown="0 (kept)",
)

# The database ``--geoip`` reads unless ``--geoip-db`` names a file (``sources.geoip``).
GEOIP_BUILTIN = "builtin"
GEOIP = Option(
    "geoip",
    SWITCH,
    False,
    "CONTENT_ENGINE_GEOIP",
    "Region from the network: a web request that names no region gets its client's country, "
    "from the registries' table the iptocc package ships, or from the file of --geoip-db.",
    flag="--geoip",
    shown="0",
)
GEOIP_DB = Option(
    "geoip_db",
    Kind[str]("the path of a MaxMind DB (.mmdb) file", str),
    "",
    "CONTENT_ENGINE_GEOIP_DB",
    "A MaxMind DB country file (GeoLite2, DB-IP: where addresses are used) read instead of "
    "the shipped table; implies --geoip.",
    flag="--geoip-db",
    shown="none",
)
TRUSTED_PROXIES = Option(
    "trusted_proxies",
    Kind[tuple[str, ...]](
        f"addresses or CIDRs, comma-separated (at most {MAX_PROXIES})",
        _proxies,
        ",".join,
    ),
    (),
    "CONTENT_ENGINE_TRUSTED_PROXIES",
    "The proxies whose X-Forwarded-For is believed (repeat the flag for several); from any "
    "other peer the header is ignored.",
    flag="--trusted-proxy",
    shown="none",
)
LOG_FORMAT = Option(
    "log_format",
    Kind[str]("text or json", _one_of("text", "json")),
    "text",
    "CONTENT_ENGINE_LOG_FORMAT",
    "How the server writes its log to stderr: text lines, or one JSON object per line (time, "
    "level, logger, message, request_id). Every line of a request names its id.",
    flag="--log-format",
)
ACCESS_LOG = Option(
    "access_log",
    SWITCH,
    False,
    "CONTENT_ENGINE_ACCESS_LOG",
    "A log line for every request answered: method, path (never the query), route, status "
    "and milliseconds.",
    flag="--access-log",
    shown="0",
)
METRICS_PUBLIC = Option(
    "metrics_public",
    SWITCH,
    False,
    "CONTENT_ENGINE_METRICS_PUBLIC",
    "GET /metrics answers without a key (for a scraper on a private network); otherwise it "
    "needs an admin key.",
    flag="--metrics-public",
    shown="0",
)

EVENT_LOOP = Option(
    "event_loop",
    Kind[str]("auto, asyncio or uvloop", _one_of("auto", "asyncio", "uvloop")),
    "auto",
    "CONTENT_ENGINE_EVENT_LOOP",
    "The server's event loop; auto: asyncio's for one worker, uvloop's for several. asyncio's "
    "takes every waiting connection at once, so a busy server serves a new one promptly; "
    "uvloop's takes one per pass of its loop, which spreads connections over the workers "
    "(docs/servers.md).",
    flag="--loop",
)


def event_loop_for(setting: str, workers: int, *, uvloop_installed: bool) -> str:
    """The loop ``serve --loop setting`` runs with ``workers`` processes (why:
    ``web.protocol``). uvloop is not built for Windows or PyPy: ``auto`` then runs asyncio's,
    and asking for uvloop by name is refused."""
    if setting == "uvloop" and not uvloop_installed:
        raise InputError(
            f"{EVENT_LOOP.env}=uvloop (--loop uvloop): uvloop is not installed here "
            "(it is not built for Windows or PyPy); use auto or asyncio"
        )
    if setting != "auto":
        return setting
    return "uvloop" if workers > 1 and uvloop_installed else "asyncio"


OPTIONS: tuple[Option[Any], ...] = (
    DB,
    HOME,
    SQLITE_TIMEOUT,
    REFRESH,
    OPEN_ACCESS,
    MAX_BODY_BYTES,
    PUBLIC_URL,
    SOURCES,
    RECEIPTS_RETAIN_DAYS,
    GEOIP,
    GEOIP_DB,
    TRUSTED_PROXIES,
    LOG_FORMAT,
    ACCESS_LOG,
    METRICS_PUBLIC,
    EVENT_LOOP,
)


@dataclass(frozen=True)
class Settings:
    """The options' values (fields named as in ``OPTIONS``) and the sandbox's limits."""

    db_url: str = DB.default
    home: Path = HOME.default
    sqlite_timeout: float = SQLITE_TIMEOUT.default
    # Bounds how stale the in-memory library and verified keys may be; see ``freshness``.
    refresh: float = REFRESH.default
    open_access: bool = OPEN_ACCESS.default
    max_body_bytes: int = MAX_BODY_BYTES.default
    public_url: str = PUBLIC_URL.default
    sources: str = SOURCES.default
    receipts_retain_days: int = RECEIPTS_RETAIN_DAYS.default
    geoip: bool = GEOIP.default
    geoip_db: str = GEOIP_DB.default
    trusted_proxies: tuple[str, ...] = TRUSTED_PROXIES.default
    log_format: str = LOG_FORMAT.default
    access_log: bool = ACCESS_LOG.default
    metrics_public: bool = METRICS_PUBLIC.default
    event_loop: str = EVENT_LOOP.default
    limits: Limits = field(default_factory=Limits)

    @property
    def geoip_source(self) -> str:
        """What region from the network reads: a file, the shipped table, or ``""`` (off)."""
        return self.geoip_db or (GEOIP_BUILTIN if self.geoip else "")

    @property
    def renderers_dir(self) -> Path:
        return self.home / "renderers"

    @property
    def locales_dir(self) -> Path:
        return self.home / "locales"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **given: Any) -> Settings:
        """Every option from ``environ`` (the process's by default), except those ``given`` by
        name (a CLI flag's value): ``None`` or ``""`` there means the flag was not given."""
        env = os.environ if environ is None else environ
        unknown = set(given) - {option.name for option in OPTIONS}
        if unknown:
            raise TypeError(f"not options: {', '.join(sorted(unknown))}")
        return cls(
            **{
                option.name: (
                    option.read(env)
                    if given.get(option.name) in (None, "")
                    else option.given(given[option.name])
                )
                for option in OPTIONS
            }
        )

    def as_environ(self) -> dict[str, str]:
        """Every option as ``from_env`` reads it back: how ``serve`` hands the settings it
        checked to its worker processes, which build their app from the environment."""
        return {option.env: option.kind.text(getattr(self, option.name)) for option in OPTIONS}
