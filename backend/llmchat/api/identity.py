"""Who is asking: the client IP. X-Forwarded-For is believed only from a configured trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """"10.0.0.1" or "10.0.0.0/8" (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(remote_addr: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """remote_addr, unless it is a trusted proxy: then the right-most X-Forwarded-For hop that is not one.

    Only hops a trusted proxy appended can be believed; anything further left was written by the client.
    """
    address = remote_addr or "unknown"
    if not forwarded_for or not _in(address, trusted):
        return address
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    hop = None
    for raw in reversed(hops):
        hop = _address_of(raw)
        if hop is None:
            return address  # a malformed header from a trusted proxy: fall back to the proxy itself
        if not _in(hop, trusted):
            return hop
    return hop or address  # every hop is a proxy of ours: the left-most


def _address_of(hop: str) -> str | None:
    """The address of one hop in its canonical spelling (one client, one key), with a port some proxies append
    ("203.0.113.5:4711", "[2001:db8::1]:443") taken off; None when it is not an address."""
    candidates = [hop]
    if hop.startswith("[") and "]" in hop:
        candidates = [hop[1:hop.index("]")]]
    elif hop.count(":") == 1:
        candidates.append(hop.split(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
