"""Region from the network (CONTRACT 8): a web reader who names no region gets their address's.

In: the deployment's ``geoip`` (``builtin`` or a MaxMind DB file; empty: off) and trusted
proxies; per request, the peer's address and ``X-Forwarded-For``. Out: the reader's region, an
ISO 3166-1 country code (which the library's region groups then place, as they place a
``region=`` the reader gives), or ``None``: GeoIP off, no believable address (``core.forwarded``),
an address that is not global (loopback, private, documentation ranges), or one the database
places in no country (the registries' ``EU``, ``AP`` and ``ZZ`` are no countries).
"""

from __future__ import annotations

from content_engine.core.forwarded import client_address, parse_networks
from content_engine.core.vocabulary import is_country
from content_engine.sources.geoip import Countries, open_countries

__all__ = ["NetworkRegions"]


class NetworkRegions:
    """The region of a web reader's address, when the deployment asks for it."""

    def __init__(self, geoip: str, trusted_proxies: tuple[str, ...]) -> None:
        self._trusted = parse_networks(",".join(trusted_proxies))
        self._countries: Countries | None = open_countries(geoip) if geoip else None

    @property
    def enabled(self) -> bool:
        return self._countries is not None

    def region(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The country of the client behind ``peer`` (and trusted proxies), or ``None``."""
        if self._countries is None:
            return None
        address = client_address(peer, forwarded_for, self._trusted)
        if address is None or not address.is_global:
            return None
        code = self._countries.country(address)
        return code if code is not None and is_country(code) else None

    def close(self) -> None:
        if self._countries is not None:
            self._countries.close()
