"""The client's address: the peer's, or behind trusted proxies the one ``X-Forwarded-For`` names.

In: the address the connection came from, the ``X-Forwarded-For`` header (its copies joined by
commas) and the networks of the proxies the deployment trusts. Out: the client's address, or
``None`` when none can be believed.

Anyone can send ``X-Forwarded-For``: only what a trusted proxy wrote is believed. Each proxy
appends the address it saw, so the list is read from the right (as RFC 7239 reads
``Forwarded``): while the address at hand is a trusted proxy's, the entry left of it says who
connected to that proxy; the first address that is no trusted proxy is the client. What a
client wrote itself sits left of that and is never read. An entry that is no address, or a
chain longer than ``MAX_HOPS``, ends the reading with ``None``: a chain that cannot be read
names nobody, and guessing would let a client choose its own region.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["MAX_HOPS", "MAX_PROXIES", "Address", "Network", "client_address", "parse_networks"]

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Proxies in front of one server, and entries of X-Forwarded-For read: far more than any real
# deployment has, few enough that a hostile header costs microseconds.
MAX_HOPS = 32
MAX_PROXIES = 64
# The longest text of an address with brackets, zone and port.
_MAX_ENTRY = 64


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDRs (``10.0.0.0/8, ::1``); ``ValueError`` for anything
    else, or for more than ``MAX_PROXIES``. Host bits are allowed (``10.1.2.3/8``)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) > MAX_PROXIES:
        raise ValueError(f"more than {MAX_PROXIES} trusted proxies")
    return tuple(ip_network(part, strict=False) for part in parts)


def parse_address(text: str) -> Address | None:
    """One entry: ``1.2.3.4``, ``1.2.3.4:80``, ``2001:db8::1`` or ``[2001:db8::1]:80``; an
    IPv4-mapped IPv6 address as its IPv4 one. ``None`` for anything else."""
    text = text.strip()
    if not text or len(text) > _MAX_ENTRY:
        return None
    if text.startswith("["):
        host, closed, port = text[1:].partition("]")
        if not closed or (port and not (port.startswith(":") and port[1:].isdigit())):
            return None
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has two colons at least
        host, _, port = text.partition(":")
        if not port.isdigit():
            return None
    else:
        host = text
    try:
        found = ip_address(host)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> Address | None:
    """The client's address, as the module's docstring reads it."""
    address = parse_address(peer) if peer else None
    if address is None or not forwarded_for or not _trusted(address, trusted):
        return address
    # At most MAX_HOPS splits, from the right: the rest of a huge header stays one piece.
    hops = forwarded_for.rsplit(",", MAX_HOPS)
    for read, hop in enumerate(reversed(hops)):
        if read == MAX_HOPS:
            return None
        found = parse_address(hop)
        if found is None:
            return None
        if not _trusted(found, trusted):
            return found
        address = found
    return address  # proxies all the way: the leftmost one is the client


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)
