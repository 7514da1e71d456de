"""Countries of network addresses: the database a package ships, or a MaxMind DB file.

In: ``builtin`` or the path of a MaxMind DB (``.mmdb``) file, as ``serve --geoip`` names it;
then addresses. Out: a ``Countries`` that says each address's ISO 3166-1 alpha-2 code, or
``None``; ``InputError`` naming the file when it is no database.

``builtin`` is iptocc's table, shipped inside its wheel and refreshed from the five Regional
Internet Registries with every release: the country each block of addresses is assigned to,
with no file to download or keep. An operator who wants where addresses are *used* points to
a MaxMind GeoLite2/GeoIP2 Country or DB-IP country file instead, read with MaxMind's own reader
(``maxminddb``). A file is trusted no more than a request: a record of another shape, or a
corrupt tree met during a lookup, answers ``None`` rather than failing the request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import iptocc
import maxminddb

from content_engine.core.errors import InputError
from content_engine.core.forwarded import Address
from content_engine.settings import GEOIP_BUILTIN

__all__ = ["BUILTIN", "Countries", "open_countries"]

BUILTIN = GEOIP_BUILTIN
logger = logging.getLogger("content_engine.sources")


class Countries(Protocol):
    def country(self, address: Address) -> str | None: ...

    def close(self) -> None: ...


class ShippedCountries:
    """iptocc's registry table (no file)."""

    def country(self, address: Address) -> str | None:
        return _code(iptocc.country_code(str(address)))

    def close(self) -> None:
        pass


class MaxMindCountries:
    """A MaxMind DB file: ``country.iso_code``, else ``registered_country.iso_code``."""

    def __init__(self, path: Path) -> None:
        # A FIFO or a device would block the opening or be read without end.
        if not path.is_file():
            raise InputError(f"the GeoIP database {path}: not a file", details={"path": str(path)})
        try:
            self._reader = maxminddb.open_database(str(path))
        except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
            raise InputError(
                f"the GeoIP database {path}: not a MaxMind DB file ({type(exc).__name__})",
                details={"path": str(path)},
            ) from None
        self._warned = False

    def country(self, address: Address) -> str | None:
        try:
            record: Any = self._reader.get(str(address))
        except (maxminddb.InvalidDatabaseError, ValueError, TypeError) as exc:
            if not self._warned:  # once: a corrupt file would otherwise log every request
                logger.warning("the GeoIP database cannot be read: %s", type(exc).__name__)
                self._warned = True
            return None
        if not isinstance(record, dict):
            return None
        for part in ("country", "registered_country"):
            found = record.get(part)
            if isinstance(found, dict) and (code := _code(found.get("iso_code"))):
                return code
        return None

    def close(self) -> None:
        self._reader.close()


def _code(value: object) -> str | None:
    """Two ASCII capital letters, or ``None`` (the registries' ``ZZ`` and the like are left to
    the caller's list of countries)."""
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isupper():
        return value
    return None


def open_countries(spec: str) -> Countries:
    """``builtin``, or the MaxMind DB file at the path ``spec``."""
    if spec == BUILTIN:
        return ShippedCountries()
    return MaxMindCountries(Path(spec).expanduser())
