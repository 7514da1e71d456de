"""core/forwarded: X-Forwarded-For believed only from trusted proxies, read from the right;
hostile headers (huge, many commas, garbage, IPv6, spoofed) name nobody they should not."""

from __future__ import annotations

import time
from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_engine.core.forwarded import MAX_HOPS, client_address, parse_address, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::/48, 192.0.2.7")


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # spoofed by an untrusted peer
        ("10.0.0.1", None, "10.0.0.1"),  # a trusted peer that forwards nothing
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # the left one is the client's
        ("10.0.0.1", "198.51.100.1, 10.9.9.9, 192.0.2.7", "198.51.100.1"),  # proxies in a row
        ("10.0.0.1", "10.2.2.2, 10.3.3.3", "10.2.2.2"),  # proxies all the way
        ("10.0.0.1", "garbage, 198.51.100.1", "198.51.100.1"),  # never read
        ("10.0.0.1", "198.51.100.1, garbage", None),  # a chain that cannot be read
        ("10.0.0.1", "198.51.100.1,", None),
        ("10.0.0.1", "unknown", None),
        ("10.0.0.1", "198.51.100.1:443", "198.51.100.1"),
        ("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.1", "[2001:db8::1", None),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),  # IPv4-mapped: the IPv4 address
        ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),  # a mapped peer is trusted too
        ("2001:db8:ffff::5", "198.51.100.1", "198.51.100.1"),
        ("2001:db8:fffe::5", "198.51.100.1", "2001:db8:fffe::5"),
        ("10.0.0.1", "198.51.100.1:x", None),
        ("10.0.0.1", "1" * 100, None),
        ("testclient", "198.51.100.1", None),  # a peer that is no address: nobody
        (None, "198.51.100.1", None),
    ],
)
def test_the_client_address(peer: str | None, header: str | None, expected: str | None) -> None:
    found = client_address(peer, header, PROXIES)
    assert found == (None if expected is None else ip_address(expected))


def test_a_chain_longer_than_max_hops_names_nobody_and_costs_little() -> None:
    proxies = ", ".join(["10.1.1.1"] * MAX_HOPS)
    assert client_address("10.0.0.1", "198.51.100.1, " + proxies, PROXIES) is None
    within = ", ".join(["10.1.1.1"] * (MAX_HOPS - 1))
    assert client_address("10.0.0.1", "198.51.100.1, " + within, PROXIES) == ip_address(
        "198.51.100.1"
    )
    started = time.perf_counter()
    client = ip_address("198.51.100.1")
    assert client_address("10.0.0.1", "," * 1_000_000 + "198.51.100.1", PROXIES) == client
    assert client_address("10.0.0.1", "198.51.100.1" + "," * 1_000_000, PROXIES) is None
    assert client_address("10.0.0.1", "x" * 1_000_000, PROXIES) is None
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize(
    "bad", ["10.0.0.0/33", "nonsense", "10.0.0.1/8/1", ",".join(["1.1.1.1"] * 65)]
)
def test_trusted_proxies_are_addresses_or_cidrs(bad: str) -> None:
    with pytest.raises(ValueError, match=r"does not appear|more than 64"):
        parse_networks(bad)


ADDRESSES = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
ENTRIES = st.one_of(ADDRESSES, st.text(max_size=30), st.just(""), st.just("unknown"))
HEADERS = st.lists(ENTRIES, max_size=50).map(", ".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, client=st.ip_addresses(v=4).filter(lambda a: a not in PROXIES[0]))
def test_whatever_a_client_writes_the_address_its_proxy_saw_wins(
    header: str, client: object
) -> None:
    """The client controls everything left of what our proxy appended: none of it counts."""
    spoofed = f"{header}, {client}" if header else str(client)
    assert client_address("10.0.0.1", spoofed, PROXIES) == client


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, peer=ADDRESSES)
def test_any_header_from_anyone_is_read_without_error(header: str, peer: str) -> None:
    """From an untrusted peer the header is ignored; from a trusted one the answer is nobody,
    the peer, or an address the header holds."""
    found = client_address(peer, header, PROXIES)
    address = parse_address(peer)
    assert address is not None
    if not any(address.version == net.version and address in net for net in PROXIES):
        assert found == address
    elif found is not None:
        assert found == address or found in {parse_address(entry) for entry in header.split(",")}
