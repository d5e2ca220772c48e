"""Who is asking: the client address that conversations, rate limits and generation caps go by.

The TCP peer is the client unless it is a proxy the operator named (`trusted_proxies`) or the operator said how
many proxies stand in front (`proxy_hops`). Only hops a trusted proxy wrote can be believed: the chain is read
from the right (the peer, then the hop it appended, ...) and the first address that is not a trusted proxy is the
client. When every hop is a trusted proxy, the answer is the peer itself, never an entry further left: a client
inside a trusted network wrote those.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# where the resolved client address lives in the WSGI environ (gunicorn's access log prints it from there)
ENVIRON_KEY = "llmchat.client"
# a trusted network wider than this may hold clients, and a client inside it can claim any outside address
WIDEST_TRUSTED_PREFIX = {4: 24, 6: 64}
# IPv6 clients get a /64 each from their provider: rate limits and generation caps count the whole /64 as one
IPV6_LIMIT_PREFIX = 64


@dataclass(frozen=True)
class ProxySettings:
    trusted: tuple[Network, ...] = ()
    hops: int = 0  # werkzeug ProxyFix's x_for: believe exactly this many X-Forwarded-For hops


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """ "10.0.0.1" or "10.0.0.0/24" (a bare address is a /32 or /128); IPv4-mapped IPv6 becomes IPv4."""
    networks = []
    for entry in entries:
        network = ipaddress.ip_network(entry.strip(), strict=False)
        mapped = getattr(network.network_address, "ipv4_mapped", None)
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}", strict=False)
        networks.append(network)
    return tuple(networks)


def too_wide(networks: Sequence[Network]) -> list[Network]:
    """The trusted networks wider than a /24 (IPv4) or a /64 (IPv6): worth a warning at start."""
    return [n for n in networks if n.prefixlen < WIDEST_TRUSTED_PREFIX[n.version]]


def canonical(address: str) -> str | None:
    """One spelling per client: IPv4-mapped IPv6 unwrapped, IPv6 compressed and lower-case, a port some proxies
    append ("203.0.113.5:4711", "[2001:db8::1]:443") taken off; None when it is not an address."""
    address = address.strip()
    candidates = [address]
    if address.startswith("[") and "]" in address:
        candidates = [address[1 : address.index("]")]]
    elif address.count(":") == 1:
        candidates.append(address.split(":")[0])
    for candidate in candidates:
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        mapped = getattr(ip, "ipv4_mapped", None)
        return str(mapped or ip)
    return None


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def client_ip(remote_addr: str | None, forwarded_for: str | None, proxies: ProxySettings) -> str | None:
    """The client's address in canonical form; None when there is none to go by (the request is refused)."""
    peer = canonical(remote_addr) if remote_addr else None
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    peer_is_proxy = peer is not None and in_networks(peer, proxies.trusted)
    if proxies.hops:
        if proxies.trusted and not peer_is_proxy:
            return peer  # operators who name their proxies too: the header counts only from them
        return _counted_hop(peer, hops, proxies.hops)
    if not peer_is_proxy:
        return peer
    for raw in reversed(hops):
        hop = canonical(raw)
        if hop is None:
            break  # a malformed entry: nothing further left can be believed
        if not in_networks(hop, proxies.trusted):
            return hop
    return peer


def _counted_hop(peer: str | None, hops: list[str], count: int) -> str | None:
    """ProxyFix semantics: the `count`-th hop from the right; with fewer hops than proxies, the peer."""
    if len(hops) < count:
        return peer
    return canonical(hops[-count]) or peer


def limit_key(client: str) -> str:
    """What rate limits and generation caps count by: the address, or for IPv6 its /64."""
    ip = ipaddress.ip_address(client)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_LIMIT_PREFIX}", strict=False))
    return client
