"""A small MaxMind DB file, written as GeoLite2 Country lays its records out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Public addresses (``is_global``) and where this file says they are.
US, DE, GB, DE6, REGISTRY = "8.8.8.8", "85.13.1.1", "81.2.69.10", "2a02:8000::1", "193.0.0.1"
NETWORKS: dict[str, Any] = {
    "8.8.8.0/24": {"country": {"iso_code": "US"}},
    "85.13.0.0/16": {"country": {"iso_code": "DE"}, "registered_country": {"iso_code": "FR"}},
    "81.2.69.0/24": {"country": {"iso_code": "GB"}},
    "2a02:8000::/24": {"registered_country": {"iso_code": "DE"}},  # no country: registered one
    "193.0.0.0/21": {"country": {"iso_code": "EU"}},  # a registry's code, no country
    "9.9.9.0/24": {"country": {"iso_code": 7}},  # another shape: names nothing
    "9.9.8.0/24": "not a record",
}


def write_mmdb(path: Path, networks: dict[str, Any] = NETWORKS) -> Path:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path
