"""The reader's region from the network, for the routes and the fast path alike.

In: a request's ASGI scope (its peer and ``X-Forwarded-For``, as ``headers`` read it) and a
context. Out: the context with the client's region when it names none and ``serve --geoip`` is
on (``engine.network``), and where the region came from: ``context``, ``network`` or ``none``.

The fast path keys stored answers on the same ``client_region`` the route fills the context
with, worked out once per request and kept in the scope: an answer made for a reader in one
country is never sent to a reader in another.
"""

from __future__ import annotations

from typing import Literal

from starlette.types import Scope

from content_engine.core.models import Context
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


def with_client_region(scope: Scope, engine: Engine, context: Context) -> Context:
    """``context``, given the client's region if it names none; the scope notes the source."""
    if context.region is not None:
        scope[_SOURCE] = "context"
        return context
    region = client_region(scope, engine)
    scope[_SOURCE] = "none" if region is None else "network"
    return context if region is None else context.model_copy(update={"region": region})


def region_source(scope: Scope) -> RegionSource:
    found: RegionSource = scope.get(_SOURCE, "none")
    return found
