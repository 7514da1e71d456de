"""sources/geoip: countries from the shipped table and from a MaxMind DB file; a file that is
no database is one clear error; a record of another shape names no country."""

from __future__ import annotations

import os
from ipaddress import ip_address
from pathlib import Path

import pytest

from content_engine.core.errors import InputError
from content_engine.engine.network import NetworkRegions
from content_engine.sources.geoip import BUILTIN, open_countries
from tests.support.geoip import DE, DE6, GB, REGISTRY, US, write_mmdb


@pytest.fixture
def mmdb(tmp_path: Path) -> Path:
    return write_mmdb(tmp_path / "country.mmdb")


def test_a_maxmind_file_says_the_country_else_the_registered_one(mmdb: Path) -> None:
    countries = open_countries(str(mmdb))
    try:
        found = {a: countries.country(ip_address(a)) for a in (US, DE, GB, DE6, "9.9.9.9")}
        assert found == {US: "US", DE: "DE", GB: "GB", DE6: "DE", "9.9.9.9": None}
        assert countries.country(ip_address("9.9.8.1")) is None  # a record that is no object
        assert countries.country(ip_address("1.1.1.1")) is None  # in no network of the file
    finally:
        countries.close()


def test_the_shipped_table_needs_no_file() -> None:
    countries = open_countries(BUILTIN)
    assert countries.country(ip_address("8.8.8.8")) == "US"
    assert countries.country(ip_address("10.0.0.1")) is None


@pytest.mark.parametrize("what", ["missing", "folder", "fifo", "text", "empty"])
def test_a_file_that_is_no_database_is_one_line_naming_it(tmp_path: Path, what: str) -> None:
    path = tmp_path / "geo.mmdb"
    if what == "folder":
        path.mkdir()
    elif what == "fifo":
        os.mkfifo(path)
    elif what == "text":
        path.write_text("not a database\n" * 1000)
    elif what == "empty":
        path.write_bytes(b"")
    with pytest.raises(InputError) as raised:
        open_countries(str(path))
    assert raised.value.message.startswith(f"the GeoIP database {path}: ")
    assert "\n" not in raised.value.message


def test_network_regions_are_countries_of_global_addresses_only(mmdb: Path) -> None:
    regions = NetworkRegions(str(mmdb), ("10.0.0.0/8",))
    try:
        assert regions.enabled
        assert regions.region(US, None) == "US"
        assert regions.region(REGISTRY, None) is None  # "EU" is a registry, not a country
        assert regions.region("10.1.1.1", None) is None  # a private address: no country
        assert regions.region("10.1.1.1", f"{GB}, 10.2.2.2") == "GB"  # behind our proxies
        assert regions.region(GB, US) == "GB"  # a client's own header is not believed
        assert regions.region("127.0.0.1", None) is None
        assert regions.region("testclient", None) is None
    finally:
        regions.close()
    off = NetworkRegions("", ())
    assert not off.enabled and off.region(US, None) is None


def test_a_corrupt_tree_met_during_a_lookup_names_no_country(
    mmdb: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Its metadata (at the end) is sound, so it opens; its search tree is not."""
    data = bytearray(mmdb.read_bytes())
    data[:600] = b"\xff" * 600
    mmdb.write_bytes(bytes(data))
    countries = open_countries(str(mmdb))
    try:
        assert [countries.country(ip_address(a)) for a in (US, DE, DE6)] == [None, None, None]
    finally:
        countries.close()
    warned = [r.getMessage() for r in caplog.records]
    assert warned == ["the GeoIP database cannot be read: InvalidDatabaseError"]  # once
