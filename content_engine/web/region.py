"""The reader's context for a request: the one place every route and fast path gets it.

In: a request's ASGI scope (its peer and ``X-Forwarded-For``, as ``headers`` read it) and what
the request says of its reader: a ``Context`` from a JSON body, or a block query's parameters
(``ReaderQuery``). Out: the context, with the client's region when it names none and
``serve --geoip`` is on (``engine.network``), and where the region came from: ``context``,
``network`` or ``none`` (``region_source``). GET and POST block routes, their fast paths and
the render route all build their reader here, so none of them can forget the region.

The fast path keys stored answers on the same ``client_region`` the route fills the context
with, worked out once per request and kept in the scope: an answer made for a reader in one
country is never sent to a reader in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import Scope

from content_engine.core.models import Context, parse_context
from content_engine.engine import Engine
from content_engine.web.headers import headers_of

RegionSource = Literal["context", "network", "none"]

_REGION = "content_engine.client_region"
_SOURCE = "content_engine.region_source"


def client_region(scope: Scope, engine: Engine) -> str | None:
    """The client's country, or ``None`` (GeoIP off, or no believable address)."""
    if not engine.network.enabled:
        return None
    if _REGION not in scope:
        client = scope.get("client")
        peer = client[0] if client else None
        scope[_REGION] = engine.network.region(peer, headers_of(scope).x_forwarded_for)
    found: str | None = scope[_REGION]
    return found


@dataclass(frozen=True)
class ReaderQuery:
    """A block query's reader parameters, as the route and the fast path read them."""

    locale: str
    segments: list[str]
    optional: dict[str, str | None]  # role, region, channel and at; None where not given
    lookup: dict[str, str] | None = None

    def context(self) -> Context:
        """The context the query names (``InvalidContext`` if it is no valid context)."""
        data: dict[str, Any] = {"locale": self.locale, "segments": self.segments}
        data |= {k: v for k, v in self.optional.items() if v}
        if self.lookup:
            data["lookup"] = self.lookup
        return parse_context(data)


def reader_context(scope: Scope, engine: Engine, given: Context | ReaderQuery) -> Context:
    """The reader's context for this request: ``given`` (a query's made into a ``Context``),
    with the client's region if it names none; the scope notes where the region came from."""
    context = given.context() if isinstance(given, ReaderQuery) else given
    return _with_client_region(scope, engine, context)


def _with_client_region(scope: Scope, engine: Engine, context: Context) -> Context:
    if context.region is not None:
        scope[_SOURCE] = "context"
        return context
    region = client_region(scope, engine)
    scope[_SOURCE] = "none" if region is None else "network"
    return context if region is None else context.model_copy(update={"region": region})


def region_source(scope: Scope) -> RegionSource:
    found: RegionSource = scope.get(_SOURCE, "none")
    return found
